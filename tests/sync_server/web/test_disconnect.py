"""A client that goes away in the middle of its request body (a phone losing signal
during an upload or a form post): one log line, not a traceback."""

from __future__ import annotations

import socket
import time

import pytest

from minqing.server_process import ServerProcess

pytestmark = pytest.mark.timeout(120)

HALF_BODIES = [
    (b"POST /api/submissions/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
     b"Content-Length: 400\r\n\r\n", b'{"device_id": "phone-1", "submissions": [{"id": "'),
    (b"POST /office/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
     b"Content-Length: 400\r\n\r\n", b"name=amy&password=correct-hor"),
]


def _lines_naming(log: str, path: str) -> list[str]:
    return [line for line in log.splitlines() if path in line]


def test_a_client_gone_mid_body_is_one_log_line_each(tmp_path, built_site, registry_file):
    server = ServerProcess(tmp_path / "data", built_site, registry_file).start()
    try:
        for head, half in HALF_BODIES:
            with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
                sock.sendall(head + half)
        # Positive signal that the server has seen both requests end, then a clean stop:
        # after it, everything the server had to say about them is in the log.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            log = server.log.read_text(errors="replace")
            if _lines_naming(log, "POST /api/submissions/batch") and _lines_naming(log, "POST /office/login"):
                break
            time.sleep(0.05)
    finally:
        server.stop()
    log = server.log.read_text(errors="replace")
    assert "Traceback" not in log
    # Everything but the start's banner, its health checks and the daily retention's line.
    said = [line for line in log.splitlines() if not line.startswith("minqing: serving")
            and "GET /api/health" not in line and "retention:" not in line]
    assert len(said) == 2, "\n".join(said[:80])
    assert len(_lines_naming(log, "POST /api/submissions/batch")) == 1
    assert len(_lines_naming(log, "POST /office/login")) == 1
