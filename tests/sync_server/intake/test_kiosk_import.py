"""Kiosk import's own rules: batches the server accepts (by count and by bytes), waiting as
a busy server asks a bounded number of times, and a record that could not be stored
reported as failed, never silently dropped and never a hang."""

from __future__ import annotations

import errno
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sync_server.cli import inbox, main
from sync_server.intake.kiosk_import import (
    BATCH_BYTES,
    BATCH_RECORDS,
    RETRIES,
    Export,
    batches,
    complete,
    import_local,
    import_remote,
    summary,
)
from sync_server.store.embedded import tinystore
from tests.sync_server.conftest import make_item


class StubServer:
    """A batch endpoint that answers from a script: each entry (status, headers), then 200s."""

    def __init__(self, script: list[tuple[int, dict[str, str]]]) -> None:
        self.script, self.bodies = list(script), []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - the http.server spelling
                body = self.rfile.read(int(self.headers["Content-Length"]))
                stub.bodies.append(body)
                status, headers = stub.script.pop(0) if stub.script else (200, {})
                payload = {"ok": False, "error": "busy", "message": "忙"}
                if status == 200:
                    items = json.loads(body)["submissions"]
                    payload = {"ok": True, "results": [{"id": i["id"], "status": "accepted", "receipt": "X", "error": None}
                                                       for i in items]}
                data = json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> StubServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_batches_respect_both_the_count_and_the_byte_limit():
    small = [make_item(feeling="短") for _ in range(250)]
    assert [len(b) for b in batches(small)] == [100, 100, 50]
    large = [make_item(feeling="长" * 2000) for _ in range(60)]
    parts = list(batches(large))
    assert sum(len(p) for p in parts) == 60 and len(parts) > 1
    for part in parts:
        assert len(json.dumps(part).encode()) <= BATCH_BYTES and len(part) <= BATCH_RECORDS


@pytest.mark.timeout(30)
def test_remote_import_sends_batches_under_the_server_limits_and_waits_as_a_busy_server_asks():
    items = [make_item(feeling="长" * 1500) for _ in range(150)]
    waits: list[float] = []
    with StubServer([(503, {"Retry-After": "7"}), (429, {"Retry-After": "3"})]) as server:
        results = import_remote(server.url, Export("kiosk-7", items, "hebin-tablet"), sleep=waits.append)
    assert waits == [7.0, 3.0]
    assert complete(results) and [r.id for r in results] == [i["id"] for i in items]
    delivered = [json.loads(b) for b in server.bodies[2:]]
    assert all(len(b) <= 256 * 1024 for b in server.bodies) and len(delivered) > 2
    assert [i["id"] for d in delivered for i in d["submissions"]] == [i["id"] for i in items]
    assert {d["kiosk"] for d in delivered} == {"hebin-tablet"}


@pytest.mark.timeout(30)
def test_remote_import_gives_up_after_a_bounded_number_of_waits_and_reports_every_record_failed():
    items = [make_item() for _ in range(120)]
    waits: list[float] = []
    with StubServer([(429, {"Retry-After": "100000"})] * 50) as server:
        results = import_remote(server.url, Export("kiosk-7", items, None), sleep=waits.append)
    assert len(server.bodies) == RETRIES + 1 and len(waits) == RETRIES and max(waits) <= 300
    assert [r.status for r in results] == ["failed"] * 120 and not complete(results)
    assert "120 failed" in summary(results) and "429" in summary(results)


@pytest.mark.timeout(30)
def test_remote_import_to_a_server_that_is_not_there_fails_every_record_and_ends(unused_port):
    waits: list[float] = []
    results = import_remote(f"http://127.0.0.1:{unused_port}", Export("k", [make_item()], None), sleep=waits.append)
    assert [r.status for r in results] == ["failed"] and len(waits) == RETRIES


@pytest.fixture
def unused_port() -> int:
    from minqing.server_process import free_port

    return free_port()


def test_local_import_on_a_full_disk_reports_failed_and_exits_non_zero(tmp_path, registry_file, monkeypatch, capsys):
    def full(path, payload):
        raise OSError(errno.ENOSPC, "No space left on device")

    items = [make_item() for _ in range(5)]
    export = tmp_path / "e.json"
    export.write_text(json.dumps({"format": "minqing-outbox-export", "device_id": "k", "submissions": items}))
    monkeypatch.setattr(tinystore, "atomic_write", full)
    status = main(["inbox", "import", str(export), "--data-dir", str(tmp_path / "data"), "--registry", str(registry_file)])
    out = capsys.readouterr().out
    assert status == inbox.IMPORT_INCOMPLETE
    assert out.startswith("0 accepted, 0 duplicate, 0 rejected, 5 failed") and "507" in out


def test_local_import_stores_a_later_batch_after_a_rejected_record(tmp_path, registry_file):
    items = [make_item(id="bad")] + [make_item() for _ in range(120)]
    results = import_local(tmp_path / "data", registry_file, Export("k", items, None))
    assert [r.status for r in results] == ["rejected"] + ["accepted"] * 120
