"""Sealed submissions end to end (issue 14): a canary text and phone, from the normal
form offline, the kiosk and the no-JavaScript form, appear in plain text nowhere (the
outbox read through the page, the kiosk export file, the data folder, a backup, the
server log), and the recovery key opens them; an office account's password unlocks its
keys at log-in, it reads and finds sealed words of its sector, and a department of
another sector gets none."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from build_scripts.publish import build_site
from minqing.registry import load_registry
from minqing.server_process import ServerProcess
from sync_server.sealing.envelope import open_phone, open_text
from sync_server.sealing.keyring import Keyring, access_of
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.backup import make_backup
from sync_server.store.embedded.inbox import Inbox
from tests.conftest import MKDOCS_YML, SAMPLE_REGISTRY
from tests.e2e.conftest import STATION, World, open_station, wait_count
from tests.e2e.test_kiosk import PIN, kiosk_on

CANARY = "金丝雀原话K7"
CANARY_PHONE = "13976543210"
SECTORS = ["public-order", "rural", "finance", "construction", "transport", "market", "environment",
           "internet", "culture-tourism", "education-health"]


class Sealed(World):
    recovery: str
    keyring: Keyring


@pytest.fixture
def sealed(tmp_path):
    registry = tmp_path / "stations.yml"
    shutil.copy(SAMPLE_REGISTRY, registry)
    keyring = Keyring(tmp_path / "data")
    recovery = keyring.init(SECTORS, departments=[d.id for d in load_registry(registry).departments])
    site = tmp_path / "site"
    build_site(MKDOCS_YML, registry, site, keyring.public_path)
    server = ServerProcess(tmp_path / "data", site, registry).start()
    world = Sealed(tmp_path, registry, site, server)
    world.keyring, world.recovery = keyring, recovery
    yield world
    server.stop()


def _nowhere_in_clear(world: Sealed, *extra: Path) -> None:
    backup = world.root / "backup"
    make_backup(world.server.data_dir, backup)
    for folder in (world.server.data_dir, backup, *extra):
        for path in [folder] if folder.is_file() else folder.rglob("*"):
            if path.is_file():
                raw = path.read_bytes()
                for secret in (CANARY, CANARY_PHONE):
                    assert secret.encode() not in raw, f"{secret} in clear in {path.name}"
                    assert json.dumps(secret).encode() not in raw
    log = world.server.log.read_text("utf-8", errors="replace")
    assert CANARY not in log and CANARY_PHONE not in log


def _opens(world: Sealed) -> dict:
    with Inbox(world.server.data_dir, writer=False) as inbox:
        [record] = list(inbox.records())
    sealed = record["sealed"]
    _, private = world.keyring.unlock_recovery(world.recovery).private(sealed["kid"])
    return {"text": open_text(record, sealed, private), "phone": open_phone(record, sealed, private)}


def _fill(page, with_phone: bool = True) -> None:
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=feeling]", CANARY)
    if with_phone:
        page.click("summary")
        page.fill("input[name=phone]", CANARY_PHONE)
        page.check("input[name=consent]")
    page.click("button[type=submit]")


def test_a_canary_from_the_form_offline_is_sealed_in_the_outbox_and_everywhere_after(sealed, context, page):
    open_station(page, sealed, worker=True)
    context.set_offline(True)  # keys.json must come from the worker's precache
    _fill(page)
    wait_count(page, 1)
    queued = page.evaluate("import('/js/outbox.js').then(m => m.all())")
    assert queued[0]["sealed"]["phone"] and "feeling" not in queued[0]
    assert CANARY not in json.dumps(queued, ensure_ascii=False) and CANARY_PHONE not in json.dumps(queued)
    context.set_offline(False)
    wait_count(page, 0, timeout=30000)
    sealed.server.stop()
    _nowhere_in_clear(sealed)
    opened = _opens(sealed)
    assert opened["text"].feeling == CANARY and opened["phone"] == CANARY_PHONE


def test_a_canary_from_the_kiosk_is_sealed_in_the_export_file(sealed, page, tmp_path):
    page.set_viewport_size({"width": 1024, "height": 768})
    kiosk_on(page, sealed)
    page.context.set_offline(True)
    _fill(page)
    page.wait_for_selector("[data-kiosk-thanks]")
    page.click("[data-kiosk-open]")
    page.fill("dialog [data-pin]", PIN)
    page.click("dialog button[type=submit]")
    page.wait_for_selector("[data-kiosk-panel]")
    page.click("[data-kiosk-export]")
    # The warning opens once the outbox was read: wait for it, not for whatever dialog is last now.
    warning = page.locator("dialog[open]", has_text="将导出").inner_text()
    assert "已加密" in warning
    with page.expect_download() as download:
        page.click("dialog:last-of-type [data-yes]")
    export = tmp_path / "export.json"
    download.value.save_as(export)
    submissions = json.loads(export.read_text("utf-8"))["submissions"]
    assert submissions[0]["sealed"]["kid"]
    sealed.server.stop()
    _nowhere_in_clear(sealed, export)


def test_a_canary_without_javascript_is_sealed_by_the_server_before_it_is_written(sealed, browser):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(sealed.station_url())
    page.check("input[name=rating][value=dissatisfied]")
    page.fill("textarea[name=feeling]", CANARY)
    page.click("summary")
    page.fill("input[name=phone]", CANARY_PHONE)
    page.check("input[name=consent]")
    page.click("button[type=submit]")
    page.wait_for_selector("text=已提交")
    context.close()
    sealed.server.stop()
    _nowhere_in_clear(sealed)
    opened = _opens(sealed)
    assert opened["text"].feeling == CANARY and opened["phone"] == CANARY_PHONE


FAST = {"n": 2**10, "r": 8, "p": 1}  # stored with each lock, so the server unlocks at this cost
PASSWORD = "correct-horse-battery"


def _office_log_in(browser, world: Sealed, name: str):
    page = browser.new_context().new_page()
    page.goto(world.server.url + "/office/")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("h1:has-text('收件箱')")
    return page


def _search_until_complete(page, world: Sealed, word: str) -> None:
    """The list says 正在解密 while the search over sealed words is incomplete: load it
    again until it no longer does (the positive signal that the search is whole)."""
    for _ in range(100):
        page.goto(f"{world.server.url}/office/records?q={word}")
        if page.locator("[data-sealed-search]").count() == 0:
            return
        page.wait_for_timeout(100)
    raise AssertionError("the search over sealed words never finished")


def _act(page, world: Sealed, record_id: str, action: str, **fields) -> None:
    """A record page's action, posted with that page's session and CSRF token, confirmed
    (交办 and 改派 ask again: the confirming page posts confirm=yes)."""
    page.goto(f"{world.server.url}/office/records/{record_id}")
    csrf = page.locator("input[name=csrf]").first.get_attribute("value")
    response = page.request.post(f"{world.server.url}/office/records/{record_id}/action",
                                 form={"csrf": csrf, "action": action, "confirm": "yes", **fields},
                                 max_redirects=0)
    assert response.status == 303, response.text()


def test_sealed_words_reach_exactly_the_department_a_matter_is_dispatched_to(sealed, page, browser):
    accounts = Accounts(sealed.server.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("police", PASSWORD, "department", "区公安分局", sectors=["public-order"], department="police")
    accounts.add("edu", PASSWORD, "department", "区教育局", sectors=["education-health"], department="education")
    keyring = Keyring(sealed.server.data_dir, scrypt=FAST)
    recovery = keyring.unlock_recovery(sealed.recovery)
    keyring.enroll(recovery, "amy", PASSWORD, "*")
    keyring.enroll(recovery, "police", PASSWORD, access_of("department", [], "police"))
    keyring.enroll(recovery, "edu", PASSWORD, access_of("department", [], "education"))
    open_station(page, sealed)  # rulin-industrial-park: public-order
    _fill(page, with_phone=False)  # sealed in this page, before the outbox
    # 已提交 only once the server has it (a count of 0 is also what the page shows before).
    page.wait_for_selector("text=已提交", timeout=30000)
    with Inbox(sealed.server.data_dir, writer=False) as inbox:
        [record] = list(inbox.records())
    assert "sealed" in record and CANARY not in json.dumps(record, ensure_ascii=False)

    staff = _office_log_in(browser, sealed, "amy")
    assert CANARY in staff.content()  # the first page opens its own rows
    _search_until_complete(staff, sealed, "原话K7")  # a word only inside the envelope
    assert "共 1 条" in staff.content()
    # 交办 to the education bureau: another sector's lead unit, holding no public-order key.
    _act(staff, sealed, record["id"], "accept")
    _act(staff, sealed, record["id"], "assign", department="education", track="immediate", summary="园区收费")

    edu = _office_log_in(browser, sealed, "edu")
    edu.goto(f"{sealed.server.url}/office/records/{record['id']}")
    edu.wait_for_selector(f"text={CANARY}")
    police = _office_log_in(browser, sealed, "police")  # the record's own sector, never dispatched to
    response = police.goto(f"{sealed.server.url}/office/records/{record['id']}")
    assert response.status == 404 and CANARY not in police.content()
    police.goto(f"{sealed.server.url}/office/records?q=原话K7&sector=public-order&station={STATION}")
    assert CANARY not in police.content() and record["receipt"] not in police.content()
    # 改派 to the police: edu, still logged in, reads nothing any more; the police read it.
    _act(staff, sealed, record["id"], "reassign", department="police", note="属于公安职责")
    response = edu.goto(f"{sealed.server.url}/office/records/{record['id']}")
    assert response.status == 404 and CANARY not in edu.content()
    police.goto(f"{sealed.server.url}/office/records/{record['id']}")
    police.wait_for_selector(f"text={CANARY}")
    # What the office opened stayed in memory: the quick-open copies (written once their
    # minute is over, or at the stop), the department copies, the log and a backup hold
    # no word of it.
    sealed.server.stop()
    assert list((sealed.server.data_dir / "quick").glob("*.log"))
    assert (sealed.server.data_dir / "office" / "department_copies.log").exists()
    _nowhere_in_clear(sealed)


# --- the shared form vectors, sealed and plain, from the page (issue 20) --------------

_VECTORS_THROUGH_THE_PAGE = """async (text) => {
    const form = await import('/js/form.js'), seal = await import('/js/seal.js');
    const keys = await form.publishedKeys();
    const station = document.getElementById('feedback').dataset.stationId;
    const kid = keys.stations[station];
    const out = [], items = [];
    for (const c of JSON.parse(text)) {
        const kind = Object.keys(form.validate(c.values))[0];
        const v = c.values;
        const clear = { station_id: station, created_at: new Date().toISOString(), rating: v.rating, consent: v.consent };
        const plain = { ...clear, id: crypto.randomUUID(), feeling: v.feeling, suggestion: v.suggestion,
                        phone: v.phone || null };
        // Sealed with the page's own envelope code, past the page's checks, as any client could.
        const sealedClear = { ...clear, id: crypto.randomUUID() };
        const envelope = await seal.sealSubmission(sealedClear, { feeling: v.feeling, suggestion: v.suggestion,
                                                                  phone: v.phone || null }, { kid, key: keys.keys[kid].key });
        items.push(plain, { ...sealedClear, sealed: envelope });
        out.push({ page: kind === undefined ? null : kind === 'form' ? 'empty'
                         : ['feeling', 'suggestion'].includes(kind) ? 'text' : kind,
                   plainId: plain.id, sealedId: sealedClear.id });
    }
    const results = {};
    for (let at = 0; at < items.length; at += 8) {  // under the server's body limit
        const response = await fetch('/api/submissions/batch', { method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ device_id: 'vectors', submissions: items.slice(at, at + 8) }) });
        for (const result of (await response.json()).results) results[result.id] = result;
    }
    return out.map((o) => ({ ...o, plain: results[o.plainId], sealed: results[o.sealedId] }));
}"""


def test_every_form_vector_meets_the_same_verdict_in_the_page_and_on_the_server_sealed_or_plain(sealed, page):
    from sync_server.intake.submission import opened_words_problem
    from tests.sync_server.intake.test_form_vectors import VECTORS, verdict

    open_station(page, sealed)
    # As ASCII JSON text: a lone surrogate would not survive the trip to the page as a string.
    outcomes = page.evaluate(_VECTORS_THROUGH_THE_PAGE, json.dumps(VECTORS))
    recovery = sealed.keyring.unlock_recovery(sealed.recovery)
    with Inbox(sealed.server.data_dir, writer=False) as inbox:
        stored = {r["id"]: r for r in inbox.records()}
    for case, outcome in zip(VECTORS, outcomes, strict=True):
        expected = case["error"]
        assert outcome["page"] == expected, case["name"]
        assert verdict(outcome["plain"]["error"]) == expected, case["name"]
        if outcome["sealed"]["status"] == "rejected":
            assert verdict(outcome["sealed"]["error"]) == expected, case["name"]
            continue
        record = stored[outcome["sealedId"]]
        private = recovery.private(record["sealed"]["kid"])[1]
        text = open_text(record, record["sealed"], private)
        problem = opened_words_problem(record, text.feeling, text.suggestion,
                                       open_phone(record, record["sealed"], private), text.well_formed)
        if case["name"] == "a lone surrogate":
            # The page's sealing makes words well formed (U+FFFD) before it seals: the
            # fault cannot travel sealed from the page at all.
            assert problem is None and "\ufffd" in text.feeling
            continue
        assert verdict(problem.as_json() if problem else None) == expected, case["name"]
