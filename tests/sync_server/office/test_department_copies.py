"""Sealed matters travel with the dispatch: a department reads the sealed words of
exactly the matters dispatched to it now (lead or 协办), through a copy sealed to its
department key; never another matter's, never after 改派, never words in clear on disk."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.office.auth import COOKIE
from sync_server.office.department_copies import NOT_YET
from sync_server.office.sealed import NOT_YOURS, opened
from sync_server.sealing.dispatch_copies import open_copy
from sync_server.sealing.keyring import Keyring, access_of
from sync_server.store.embedded.accounts import Accounts
from sync_server.triage import new_entry
from tests.sync_server.office.test_pages import PASSWORD, login, seed

FAST = {"n": 2**10, "r": 8, "p": 1}
CANARY = "金丝雀原话D7"
SECTORS = ["public-order", "rural", "finance", "construction", "transport", "market", "environment",
           "internet", "culture-tourism", "education-health"]
DEPARTMENTS = ["police", "market", "education"]


@pytest.fixture
def world(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff", "王干事")
    accounts.add("nokeys", PASSWORD, "staff", "新同事")
    for name in DEPARTMENTS:
        accounts.add(name, PASSWORD, "department", name, sectors=["public-order"], department=name)
    keyring = Keyring(settings.data_dir, scrypt=FAST)
    code = keyring.init(SECTORS, departments=DEPARTMENTS)
    recovery = keyring.unlock_recovery(code)
    keyring.enroll(recovery, "amy", PASSWORD, "*")
    for name in DEPARTMENTS:
        keyring.enroll(recovery, name, PASSWORD, access_of("department", [], name))
    app = create_app(settings)
    with TestClient(app, base_url="http://127.0.0.1:8000") as staff:
        app.state.recovery_for_tests = code
        yield app, staff


def _session(app, name: str):
    """A logged-in browser of `name`, and its account and unlocked keys."""
    client = TestClient(app, base_url="http://127.0.0.1:8000")
    assert login(client, name).status_code == 303
    return client, app.state.accounts.get(name), app.state.session_keys.get(client.cookies.get(COOKIE))


def _words(app, name: str, record_id: str) -> str:
    _, account, unlocked = _session(app, name)
    return opened(app.state, account, unlocked, app.state.inbox.get(record_id))["feeling"]


def _dispatch(app, record_id: str, department: str, co=()) -> None:
    """A triage write as 交办/改派 make it (the entry's fields of the shared contract)."""
    current = app.state.triage.entry(record_id) or new_entry("2026-12-07T00:00:00+00:00")
    app.state.triage.put(record_id, {**dict(current), "status": "assigned", "department": department,
                                     "co_departments": list(co), "history": list(current["history"])})
    app.state.department_copier.idle.wait(10)


@pytest.fixture
def sealed_matter(world):
    app, staff = world
    item = seed(staff, feeling=CANARY, phone="13911112222", consent=True)  # education-health
    login(staff, "amy")  # the staff session holds the words' key, as at a dispatch
    return app, item["id"]


def test_a_department_of_another_sector_reads_a_matter_dispatched_to_it(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    assert _words(app, "police", rid) == CANARY
    shown = opened(app.state, *_session(app, "police")[1:], app.state.inbox.get(rid), with_phone=True)
    assert shown["phone"] is None  # the copy holds the words only: phones are for staff


def test_a_department_never_dispatched_to_reads_nothing(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    assert _words(app, "market", rid) == NOT_YOURS
    assert _words(app, "education", rid) == NOT_YOURS  # the record's own sector's department too


def test_a_co_handling_unit_reads_it_too(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police", co=["market"])
    assert _words(app, "market", rid) == CANARY and _words(app, "police", rid) == CANARY


def test_after_reassignment_the_old_department_reads_nothing_and_the_new_one_reads_it(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    client, account, unlocked = _session(app, "police")  # logged in before the 改派, and stays
    _dispatch(app, rid, "market")
    assert set(app.state.store.department_copies.copies(rid)) == {"market"}
    assert opened(app.state, account, unlocked, app.state.inbox.get(rid))["feeling"] == NOT_YOURS
    assert _words(app, "market", rid) == CANARY


def test_a_copy_left_behind_is_still_refused_to_a_department_no_longer_on_the_matter(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    police_copy = app.state.store.department_copies.copies(rid)["police"]
    _dispatch(app, rid, "market")
    app.state.store.department_copies.put(rid, {"police": police_copy,  # a stale copy, however it got there
                                                **app.state.store.department_copies.copies(rid)})
    assert _words(app, "police", rid) == NOT_YOURS


def test_plain_words_never_reach_the_store_once_keys_exist(sealed_matter, settings):
    app, rid = sealed_matter
    _dispatch(app, rid, "police", co=["market"])
    _dispatch(app, rid, "education")
    for path in Path(settings.data_dir).rglob("*"):
        if path.is_file():
            assert CANARY.encode() not in path.read_bytes(), path


def test_the_recovery_key_opens_department_copies(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    copy = app.state.store.department_copies.copies(rid)["police"]
    recovery = Keyring(app.state.settings.data_dir).unlock_recovery(app.state.recovery_for_tests)
    _, private = recovery.department_private(copy["kid"])
    assert open_copy(app.state.inbox.get(rid), "police", copy, private).feeling == CANARY


def test_rotation_keeps_copies_readable_and_new_copies_use_the_new_key(sealed_matter, settings):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    old = app.state.store.department_copies.copies(rid)["police"]["kid"]
    made = Keyring(settings.data_dir).rotate(SECTORS, departments=DEPARTMENTS)
    assert _words(app, "police", rid) == CANARY  # sealed to the old key, which it keeps
    _dispatch(app, rid, "market")
    assert app.state.store.department_copies.copies(rid)["market"]["kid"] == made["dept:market"] != old
    assert _words(app, "market", rid) == CANARY


def test_a_dispatch_by_staff_without_the_key_waits_until_a_key_holder_logs_in(world):
    app, staff = world
    rid = seed(staff, feeling=CANARY)["id"]
    login(staff, "nokeys")  # a staff account given no keys yet: it cannot open the words
    _dispatch(app, rid, "police")
    assert app.state.store.department_copies.copies(rid) == {}
    assert app.state.department_copier.missing(rid) == {"police": "no_staff_key"}
    assert _words(app, "police", rid) == NOT_YET
    page = staff.get(f"/office/records/{rid}").text  # the dispatching staff is told why
    assert "区公安分局暂时看不到这条记录的加密原话" in page and "data-copy-notice" in page
    _session(app, "amy")  # a staff account holding the key logs in: the copy is made then
    app.state.department_copier.idle.wait(10)
    assert _words(app, "police", rid) == CANARY
    assert app.state.department_copier.missing(rid) == {}


def test_a_department_without_a_key_waits_for_keys_rotate_and_the_next_staff_view(world):
    app, staff = world
    rid = seed(staff, feeling=CANARY)["id"]
    login(staff, "amy")
    _dispatch(app, rid, "urban")  # in the registry after `keys init`, before `keys rotate`
    assert app.state.department_copier.missing(rid) == {"urban": "no_department_key"}
    assert "minqing keys rotate" in staff.get(f"/office/records/{rid}").text
    Keyring(app.state.settings.data_dir).rotate([], departments=["urban"])
    page = staff.get(f"/office/records/{rid}").text  # a staff session opening the record makes it
    assert set(app.state.store.department_copies.copies(rid)) == {"urban"} and "data-copy-notice" not in page


def test_a_department_that_sent_a_matter_back_reads_it_until_it_is_dispatched_elsewhere(sealed_matter):
    app, rid = sealed_matter
    _dispatch(app, rid, "police")
    entry = dict(app.state.triage.entry(rid))
    app.state.triage.put(rid, {**entry, "status": "returned", "returned_by": "police", "department": "",
                               "co_departments": []})
    assert _words(app, "police", rid) == CANARY
    _dispatch(app, rid, "market")
    assert _words(app, "police", rid) == NOT_YOURS and _words(app, "market", rid) == CANARY


def test_the_record_pages_dispatch_actions_carry_the_words_to_the_departments(sealed_matter):
    from tests.sync_server.office.test_pages import act

    app, rid = sealed_matter
    staff = TestClient(app, base_url="http://127.0.0.1:8000")
    login(staff, "amy")
    act(staff, rid, "accept")
    assert act(staff, rid, "assign", department="police", co_departments="market", track="immediate",
               summary="摘要").status_code == 303
    assert app.state.triage.entry(rid)["department"] == "police"
    assert _words(app, "police", rid) == CANARY and _words(app, "market", rid) == CANARY
    assert act(staff, rid, "reassign", department="education", note="不属于公安职责").status_code == 303
    assert app.state.triage.entry(rid)["department"] == "education"
    assert _words(app, "police", rid) == NOT_YOURS and _words(app, "education", rid) == CANARY
    assert act(staff, rid, "undo").status_code == 303  # 撤回 of the 改派: the matter is police's again
    assert app.state.triage.entry(rid)["department"] == "police"
    assert _words(app, "police", rid) == CANARY and _words(app, "education", rid) == NOT_YOURS


def test_a_department_session_keeps_no_sector_key_an_older_grant_left_it(world, settings):
    app, staff = world
    rid = seed(staff, feeling=CANARY)["id"]  # education-health
    keyring = Keyring(settings.data_dir, scrypt=FAST)
    keyring.enroll(keyring.unlock_recovery(app.state.recovery_for_tests), "education", PASSWORD,
                   ["education-health", "dept:education"])  # as granted before department keys
    client, account, unlocked = _session(app, "education")
    assert unlocked.keys == {} and unlocked.department_ids() == {"education"}
    assert opened(app.state, account, unlocked, app.state.inbox.get(rid))["feeling"] != CANARY
    assert not app.state.opened_words.search(unlocked, account.sees_sector, CANARY)


def test_a_department_of_another_sector_sees_the_words_on_the_record_page_and_loses_them_at_reassignment(sealed_matter):
    from tests.sync_server.office.test_pages import act

    app, rid = sealed_matter
    staff = TestClient(app, base_url="http://127.0.0.1:8000")
    login(staff, "amy")
    act(staff, rid, "accept")
    act(staff, rid, "assign", department="police", track="immediate", summary="摘要")  # public-order's lead
    police, _, _ = _session(app, "police")
    assert CANARY in police.get(f"/office/records/{rid}").text
    market, _, _ = _session(app, "market")
    assert CANARY not in market.get(f"/office/records/{rid}").text
    act(staff, rid, "reassign", department="market", note="职责不符")
    page = police.get(f"/office/records/{rid}")
    assert page.status_code == 404 and CANARY not in page.text
    assert CANARY in market.get(f"/office/records/{rid}").text
