"""Kill -9 the server at random moments while clients upload and retry: afterwards the
inbox holds every record the clients sent exactly once. Nothing lost, nothing doubled."""

from __future__ import annotations

import http.client
import json
import random
import threading
import time
from collections import Counter

import pytest

from minqing.server_process import ServerProcess
from sync_server.store.embedded.inbox import Inbox
from tests.forkserver import launcher
from tests.sync_server.conftest import make_item

KILLS = 100
CLIENTS = 4


class RetryingClient(threading.Thread):
    """An outbox in miniature: keeps records until the server acknowledged each one."""

    def __init__(self, name: str, port_holder: dict, stop: threading.Event, seed: int) -> None:
        super().__init__(daemon=True)
        self.device, self.port_holder, self.stop_event = name, port_holder, stop
        self.random = random.Random(seed)
        self.created: dict[str, dict] = {}
        self.acknowledged: set[str] = set()
        self.sent_batches: list[list[dict]] = []
        # An assertion in a thread is swallowed: kept here, the test raises it. Without
        # this, a server answering replays 'rejected' passed: the thread just died.
        self.failure: BaseException | None = None

    def post(self, items: list[dict]) -> list[dict] | None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port_holder["port"], timeout=5)
        try:
            conn.request("POST", "/api/submissions/batch",
                         body=json.dumps({"device_id": self.device, "submissions": items}),
                         headers={"Content-Type": "application/json"})
            response = conn.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException):
            return None
        finally:
            conn.close()
        if response.status != 200:
            assert response.status < 500 or response.status == 503, body
            return None
        return json.loads(body)["results"]

    def run(self) -> None:
        try:
            self._upload_until_stopped()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            self.failure = exc

    def _upload_until_stopped(self) -> None:
        while not self.stop_event.is_set() or len(self.acknowledged) < len(self.created):
            pending = [r for i, r in self.created.items() if i not in self.acknowledged]
            if not pending and not self.stop_event.is_set():
                new = [make_item(feeling=f"{self.device} 第{len(self.created) + n}条") for n in range(self.random.randint(1, 30))]
                self.created.update({r["id"]: r for r in new})
                pending = new
            batch = pending[:100]
            if self.sent_batches and self.random.random() < 0.2:
                batch = batch + self.random.choice(self.sent_batches)[:10]  # a replay mixed in
            results = self.post(batch)
            if results is None:
                time.sleep(0.02)
                continue
            for result in results:
                assert result["status"] in ("accepted", "duplicate"), result
                self.acknowledged.add(result["id"])
            self.sent_batches.append(batch)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_server_killed_100_times_mid_upload_loses_and_doubles_nothing(tmp_path, built_site, registry_file):
    # Each restart a fork of a process that has imported the server already
    # (tests/forkserver.py): the kills and what they interrupt are the same, the imports not redone.
    server = ServerProcess(tmp_path / "data", built_site, registry_file, launcher=launcher).start()
    port_holder, stop = {"port": server.port}, threading.Event()
    clients = [RetryingClient(f"tablet-{n}", port_holder, stop, seed=n) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    chaos = random.Random(2026)
    try:
        for _ in range(KILLS):
            time.sleep(chaos.uniform(0.0, 0.15))
            server.kill()
            server.start()
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=120)
        server.stop()
    assert not any(c.is_alive() for c in clients)
    for client in clients:
        if client.failure is not None:
            raise client.failure

    with Inbox(tmp_path / "data", writer=False) as inbox:
        stored = Counter(r["id"] for r in inbox.records())
        contents = {r["id"]: r["feeling"] for r in inbox.records()}
    created = {i: r for c in clients for i, r in c.created.items()}
    lost = [i for i in created if i not in stored]
    doubled = [i for i, n in stored.items() if n > 1]
    print(f"\n{KILLS} kills, {len(created)} records sent: lost {len(lost)}, duplicated {len(doubled)}")
    assert (len(lost), len(doubled)) == (0, 0)
    assert set(stored) == set(created)
    assert all(contents[i] == r["feeling"] for i, r in created.items())
