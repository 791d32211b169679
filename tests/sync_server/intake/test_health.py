"""The health answer: to anyone only ok or not ok (and the HTTP status that says the
same); the record count and the damaged files only to office staff logged in and to a
program on the server's own machine, never to a request our proxy brought from outside."""

from __future__ import annotations

from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from tests.sync_server.conftest import make_item, post_batch
from tests.sync_server.office.test_pages import PASSWORD, login

BASE = "http://127.0.0.1:8000"
DETAILS = {"records", "office_ready", "problems"}


def health(app, peer: str, **headers):
    return TestClient(app, base_url=BASE, client=(peer, 40000)).get("/api/health", headers=headers)


@pytest.fixture
def served(settings, quick_scrypt):
    accounts = Accounts(settings.data_dir)
    accounts.add("amy", PASSWORD, "staff")
    accounts.add("police", PASSWORD, "department", sectors=["public-order"])
    accounts.add("boss", PASSWORD, "viewer")
    app = create_app(replace(settings, trust_forwarded_for=("127.0.0.1",)))
    with TestClient(app, base_url=BASE) as client:
        post_batch(client, [make_item(), make_item()])
        client.app.state.readside.wait_ready()
        yield app


@pytest.mark.parametrize("peer, headers", [
    ("203.0.113.9", {}),  # anyone on the internet
    ("testclient", {}),  # not an address at all
    ("127.0.0.1", {"X-Forwarded-For": "203.0.113.9"}),  # through our proxy, from outside
    ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}),  # the same, with a lie to its left
    ("10.0.0.8", {"X-Forwarded-For": "127.0.0.1"}),  # a stranger's word that it is local
], ids=["public", "no-address", "proxied", "proxied-spoofed", "untrusted-claim"])
def test_anyone_else_reads_only_ok(served, peer, headers):
    answer = health(served, peer, **headers)
    assert answer.status_code == 200 and answer.json() == {"ok": True}
    assert answer.headers["cache-control"] == "no-store"


def test_a_proxy_on_this_machine_that_is_not_trusted_does_not_make_its_clients_local(settings):
    # The operator forgot --trust-forwarded-for: the socket's peer is the proxy on
    # 127.0.0.1, and the one sign that a stranger stands behind it is the proxy's header.
    with TestClient(create_app(settings), base_url=BASE) as client:
        answer = health(client.app, "127.0.0.1", **{"X-Forwarded-For": "203.0.113.9"})
        assert answer.json() == {"ok": True}
        for header in ("X-Real-IP", "Forwarded", "X-Forwarded-Proto"):
            assert health(client.app, "127.0.0.1", **{header: "x"}).json() == {"ok": True}


@pytest.mark.parametrize("peer, headers", [
    ("127.0.0.1", {}), ("::1", {}), ("127.0.0.5", {}),
    ("127.0.0.1", {"X-Forwarded-For": "127.0.0.1"}),  # through our proxy, from this machine
])
def test_a_program_on_this_machine_reads_the_counts(served, peer, headers):
    answer = health(served, peer, **headers).json()
    assert answer == {"ok": True, "records": 2, "office_ready": True, "problems": []}


def test_office_staff_logged_in_read_the_counts_and_nobody_else_in_the_office(served):
    for name, sees in [("amy", True), ("police", False), ("boss", False)]:
        browser = TestClient(served, base_url=BASE, client=("203.0.113.9", 40000))
        assert login(browser, name).status_code == 303
        # The session cookie reaches only /office/: the office's own address for it.
        answer = browser.get("/office/health")
        assert answer.headers["cache-control"] == "no-store"
        assert (set(answer.json()) >= DETAILS) is sees and answer.json()["ok"] is True
        cookie = {"Cookie": f"mq_office={browser.cookies['mq_office']}"}
        assert (set(browser.get("/api/health", headers=cookie).json()) >= DETAILS) is sees
    assert TestClient(served, base_url=BASE).get("/office/health").json() == {"ok": True}


def test_damage_is_not_ok_to_anyone_and_named_only_to_those_who_may_read_it(settings, registry_file):
    from tests.sync_server.conftest import store_items

    store_items(settings.data_dir, registry_file, [make_item() for _ in range(3)])
    segment = next((settings.data_dir / "inbox").glob("segment-*.json"))
    segment.write_bytes(segment.read_bytes()[:-5])
    with TestClient(create_app(settings), base_url=BASE) as client:
        public = health(client.app, "203.0.113.9")
        assert public.status_code == 503 and public.json() == {"ok": False}
        here = health(client.app, "127.0.0.1")
        assert here.status_code == 503 and here.json()["ok"] is False
        assert len(here.json()["problems"]) == 1 and "is damaged" in here.json()["problems"][0]


def test_an_office_index_that_could_not_be_built_is_not_ok(served):
    served.state.readside.fail(RuntimeError("a triage log nobody can read"))
    assert health(served, "203.0.113.9").status_code == 503
    here = health(served, "127.0.0.1").json()
    assert here["ok"] is False and any("office" in problem for problem in here["problems"])


def test_a_damaged_secrets_journal_is_named_to_the_local_machine_and_not_ok_to_anyone(settings):
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "secrets.journal").write_bytes(b"{not a journal")
    with TestClient(create_app(settings), base_url=BASE) as client:
        # Observed before: the server started, and the local health said problems: [].
        assert health(client.app, "203.0.113.9").json() == {"ok": False}
        here = health(client.app, "127.0.0.1").json()
        assert here["ok"] is False and any("secrets.journal" in p for p in here["problems"])
