"""Severity: MEDIUM. 撤回 of one's own last step within 10 minutes fails for a step that changed
only the status: 受理 (accept) and 开始办理 (start) keep no `before`, so 撤回 answers
undo_not_possible and the record stays 已受理 / 办理中.
Repro: staff 受理 a record, then POST action=undo at once -> ?error=undo_not_possible."""
from tests.sync_server.office import test_pages
from tests.sync_server.office.test_pages import act, login, seed, status_of

office = test_pages.office  # the same small office world


def test_staff_can_undo_an_accept_right_away(office):
    record = seed(office)
    login(office, "amy")
    act(office, record["id"], "accept")
    response = act(office, record["id"], "undo")
    assert "error=" not in response.headers["location"], response.headers["location"]
    assert status_of(office, record["id"]) == "已收到"


def test_staff_can_undo_a_start_right_away(office):
    record = seed(office)
    login(office, "amy")
    act(office, record["id"], "accept")
    act(office, record["id"], "assign", lead="区教育局", track="immediate")
    act(office, record["id"], "start")
    response = act(office, record["id"], "undo")
    assert "error=" not in response.headers["location"], response.headers["location"]
    assert status_of(office, record["id"]) == "已交办"


def test_department_can_undo_its_own_progress_note(office):
    from tests.sync_server.office.test_pages import dispatch
    park = seed(office, station_id="rulin-industrial-park")
    dispatch(office, park["id"], "police")
    login(office, "police")
    act(office, park["id"], "sign")
    act(office, park["id"], "progress", note="误填到这条事项的进展")
    response = act(office, park["id"], "undo")
    assert "error=" not in response.headers["location"], response.headers["location"]
    page = office.get(f"/office/records/{park['id']}").text
    assert "误填到这条事项的进展</bdi><span class=\"nowrap\" data-step-undone>（已撤回）" in page  # kept, marked withdrawn
    assert status_of(office, park["id"]) == "办理中"
