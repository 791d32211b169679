"""Findings of the outside review on 工作建议函: a letter lists only matters its department holds."""
import re

from tests.sync_server.office.test_pages import act, csrf, dispatch, login, office, seed  # noqa: F401 - the fixture


def _send_letter(client, department, receipts, sector=""):
    token = csrf(client, "/office/letters/new")
    data = {"csrf": token, "department": department, "sector": sector, "receipts": receipts, "title": "", "body": ""}
    preview = client.post("/office/letters/new", data=data)
    draft = re.search(r'name="draft" value="([^"]+)"', preview.text)
    return client.post("/office/letters/new", data={**data, "confirm": "yes", "draft": draft.group(1) if draft else "",
                                                     "csrf": csrf(client, "/office/letters/new")},
                       follow_redirects=False)


def test_letter_to_a_department_cannot_list_another_departments_matter(office):  # noqa: F811
    school = seed(office, station_id="hebin-primary", feeling="教育局的秘密线索甲乙丙")
    dispatch(office, school["id"], "education")
    login(office, "amy")
    sent = _send_letter(office, "police", school["receipt"])
    office.cookies.clear()
    login(office, "police")
    if sent.status_code == 303:
        letter = office.get(sent.headers["location"]).text
        assert "教育局的秘密线索甲乙丙" not in letter
        assert school["receipt"] not in letter


def test_sector_letter_does_not_show_a_department_undispatched_matters(office):  # noqa: F811
    never = seed(office, station_id="rulin-industrial-park", feeling="从未交办的园区线索丁戊")  # public-order
    login(office, "amy")
    act(office, never["id"], "accept")  # 受理, never 交办
    sent = _send_letter(office, "police", "", sector="public-order")
    office.cookies.clear()
    login(office, "police")
    assert office.get(f"/office/records/{never['id']}").status_code == 404  # the record itself is hidden
    if sent.status_code == 303:
        assert "从未交办的园区线索丁戊" not in office.get(sent.headers["location"]).text


def test_old_department_cannot_read_the_supervision_sheet_after_reassign(office):  # noqa: F811
    park = seed(office, station_id="rulin-industrial-park", feeling="改派前的督办事项原话")
    dispatch(office, park["id"], "police")
    login(office, "amy")
    sheet = office.post(f"/office/records/{park['id']}/supervise",
                        data={"csrf": csrf(office, f"/office/records/{park['id']}"), "requirements": "限期办结"},
                        follow_redirects=False).headers["location"].split("?")[0]
    act(office, park["id"], "reassign", department="education", note="属教育领域")
    office.cookies.clear()
    login(office, "police")
    assert office.get(f"/office/records/{park['id']}").status_code == 404
    page = office.get(sheet)
    assert page.status_code == 404 or "改派前的督办事项原话" not in page.text


def test_a_letter_listing_a_matter_another_department_holds_is_refused_in_chinese(office):  # noqa: F811
    school = seed(office, station_id="hebin-primary")
    dispatch(office, school["id"], "education")
    login(office, "amy")
    refused = _send_letter(office, "police", school["receipt"])
    assert refused.status_code == 400 and "只能列入当前交办给主送部门" in refused.text


def test_a_sector_letter_lists_only_the_open_matters_its_department_holds(office):  # noqa: F811
    held = seed(office, station_id="rulin-industrial-park", feeling="公安牵头的园区线索")
    never = seed(office, station_id="rulin-industrial-park", feeling="从未交办的另一条线索")
    dispatch(office, held["id"], "police")
    login(office, "amy")
    act(office, never["id"], "accept")
    sent = _send_letter(office, "police", "", sector="public-order")
    assert sent.status_code == 303
    page = office.get(sent.headers["location"]).text
    assert held["receipt"] in page and never["receipt"] not in page


def test_after_reassign_of_one_matter_the_old_department_reads_only_the_rows_it_still_holds(office):  # noqa: F811
    kept = seed(office, station_id="rulin-industrial-park", feeling="仍由公安办理的线索")
    moved = seed(office, station_id="rulin-industrial-park", feeling="改派教育局的线索")
    dispatch(office, kept["id"], "police")
    dispatch(office, moved["id"], "police")
    login(office, "amy")
    letter = _send_letter(office, "police", f"{kept['receipt']}\n{moved['receipt']}").headers["location"].split("?")[0]
    act(office, moved["id"], "reassign", department="education", note="属教育领域")
    assert moved["receipt"] in office.get(letter).text  # staff keep the letter whole
    office.cookies.clear()
    login(office, "police")
    page = office.get(letter).text
    assert kept["receipt"] in page and moved["receipt"] not in page and "另有 1 项事项已改派" in page
    assert moved["receipt"] not in office.get(f"{letter}/print").text
