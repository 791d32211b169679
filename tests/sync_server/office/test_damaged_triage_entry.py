"""A triage log line that parses but does not hold a whole entry (a hand edit, a bit
flipped inside a key, a line from another version) must cost only that entry: the
office still lists the other records, and `/api/health` names the damage."""

from __future__ import annotations

import re

from starlette.testclient import TestClient

from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from sync_server.store.embedded.triagebook import LOG_NAME, TriageBook
from sync_server.triage import new_entry
from tests.sync_server.conftest import health_here, make_item, store_items
from tests.sync_server.office.test_pages import PASSWORD, login


def test_one_triage_line_without_a_status_leaves_the_inbox_listed_and_is_named_in_health(settings, registry_file, quick_scrypt):
    items = [make_item(feeling=f"第{n}条反映") for n in range(5)]
    store_items(settings.data_dir, registry_file, items)
    TriageBook(settings.data_dir).put(items[0]["id"], {**new_entry(items[0]["created_at"]), "status": "accepted"})
    # Valid JSON, the right outer shape, one entry missing its fields.
    with open(settings.data_dir / "office" / LOG_NAME, "a", encoding="utf-8") as handle:
        handle.write('{"put": {"%s": {"statu5": "accepted"}}}\n' % items[1]["id"])
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff", "王干事")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000") as client:
        client.app.state.readside.wait_ready()  # the triage log is read beside the running server
        health = health_here(client)
        login(client, "amy")
        page = client.get("/office/records").text
        total = int(re.search(r"共 (\d+) 条", page)[1])
        # Observed on main: the office index fails to build, the inbox says 共 0 条, the
        # meeting pack counts nothing, and health says all is well.
        assert total >= 4, f"the inbox lists {total} of 5 records after one damaged triage line"
        assert health["problems"], "health names no problem while the office shows an empty inbox"


def test_a_triage_entry_from_an_older_version_without_deadline_or_history_leaves_the_inbox_and_its_page_answering(
        settings, registry_file, quick_scrypt):
    # `triage.damage` keeps an entry with fields missing ("an older version wrote fewer"),
    # so the office must read it as new_entry's defaults, as `.get` does.
    items = [make_item(feeling=f"第{n}条反映") for n in range(3)]
    store_items(settings.data_dir, registry_file, items)
    TriageBook(settings.data_dir)
    with open(settings.data_dir / "office" / LOG_NAME, "a", encoding="utf-8") as handle:
        handle.write('{"put": {"%s": {"status": "assigned", "updated_at": "2026-11-01T00:00:00+00:00", "lead": "区城管局"}}}\n'
                     % items[0]["id"])
        handle.write('{"put": {"%s": {"status": "accepted", "updated_at": "2026-11-01T00:00:00+00:00"}}}\n'
                     % items[1]["id"])
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff", "王干事")
    with TestClient(create_app(settings), base_url="http://127.0.0.1:8000", raise_server_exceptions=False) as client:
        client.app.state.readside.wait_ready()
        login(client, "amy")
        answers = {"inbox": client.get("/office/records").status_code}
        for n in (0, 1):
            answers[f"record {n}"] = client.get(f"/office/records/{items[n]['id']}").status_code
        # Observed: KeyError 'deadline' in triage.is_overdue (the whole inbox list) and
        # KeyError 'history' in the record page: {'inbox': 500, 'record 0': 500, 'record 1': 500}.
        assert answers == {"inbox": 200, "record 0": 200, "record 1": 200}
