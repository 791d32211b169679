"""25 clients upload at once against the real server: every record stored once, no 5xx."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections import Counter

from minqing.server_process import ServerProcess
from sync_server.store.embedded.inbox import Inbox
from tests.sync_server.conftest import make_item

CLIENTS = 25


def _post(url: str, device: str, items: list[dict]) -> tuple[int, list[dict]]:
    body = json.dumps({"device_id": device, "submissions": items}).encode()
    request = urllib.request.Request(url + "/api/submissions/batch", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.load(response)["results"]


def test_25_clients_at_once_with_a_replayed_batch_store_everything_once(tmp_path, built_site, registry_file):
    batches = [[make_item(feeling=f"客户端{n} 第{k}条") for k in range(100)] for n in range(CLIENTS)]
    # Client 24 replays client 0's batch, as a tablet does when an answer was lost.
    jobs = [(f"tablet-{n}", batch) for n, batch in enumerate(batches)] + [("tablet-0-retry", batches[0])]
    barrier = threading.Barrier(len(jobs))
    answers: dict[str, tuple[int, list[dict]]] = {}

    def upload(device: str, items: list[dict]) -> None:
        barrier.wait()
        answers[device] = _post(server.url, device, items)

    with ServerProcess(tmp_path / "data", built_site, registry_file) as server:
        threads = [threading.Thread(target=upload, args=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    assert sorted(status for status, _ in answers.values()) == [200] * len(jobs)
    first, replay = answers["tablet-0"][1], answers["tablet-0-retry"][1]
    assert sorted({r["status"] for r in first + replay}) == ["accepted", "duplicate"]
    assert [r["receipt"] for r in first] == [r["receipt"] for r in replay]
    with Inbox(tmp_path / "data", writer=False) as inbox:
        stored = Counter(r["id"] for r in inbox.records())
    assert len(stored) == CLIENTS * 100 and set(stored.values()) == {1}


def test_lone_surrogates_beside_honest_concurrent_batches_every_batch_answered_honest_ones_stored(
    tmp_path, built_site, registry_file
):
    rounds, honest_ids = 10, []
    with ServerProcess(tmp_path / "data", built_site, registry_file) as server:
        for _ in range(rounds):
            honest = [make_item() for _ in range(20)]
            hostile = [make_item(feeling="坏\ud800"), make_item(id="\udfff" * 36), make_item()]
            honest_ids += [i["id"] for i in honest] + [hostile[2]["id"]]
            barrier, answers = threading.Barrier(2), {}

            def upload(name: str, items: list[dict], barrier=barrier, answers=answers) -> None:
                barrier.wait()
                # ASCII escapes: the bytes a hostile client sends. A timeout: a hang fails the test.
                body = json.dumps({"device_id": name, "submissions": items}).encode()
                request = urllib.request.Request(server.url + "/api/submissions/batch", data=body,
                                                 headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers[name] = json.loads(response.read())["results"]

            threads = [threading.Thread(target=upload, args=job) for job in (("honest", honest), ("hostile", hostile))]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=20)
            assert {r["status"] for r in answers["honest"]} == {"accepted"}
            assert [r["status"] for r in answers["hostile"]] == ["rejected", "rejected", "accepted"]
            assert answers["hostile"][1]["id"] == "\udfff" * 36
        assert server.health()["records"] == len(honest_ids)
    with Inbox(tmp_path / "data", writer=False) as inbox:
        assert sorted(r["id"] for r in inbox.records()) == sorted(honest_ids)
