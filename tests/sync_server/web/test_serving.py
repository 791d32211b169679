"""The real server on real sockets: idle and dribbling connections are closed on time,
a thousand idle sockets do not stop it answering, and a storm of loop errors is logged
once a second."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import select
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from minqing.server_process import ServerProcess
from sync_server.web.serving import LoopErrorLog, raise_descriptor_limit

pytestmark = pytest.mark.timeout(180)

HEALTH = b"GET /api/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


def connect(server: ServerProcess) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=30)


def seconds_until_closed(sock: socket.socket, limit: float = 30) -> float:
    started = time.monotonic()
    sock.settimeout(limit)
    while sock.recv(65536):
        pass
    return time.monotonic() - started


def read_response(sock: socket.socket) -> bytes:
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536)
    return head


def open_sockets(pid: int) -> int:
    folder = f"/proc/{pid}/fd"
    count = 0
    for fd in os.listdir(folder):
        try:
            count += os.readlink(f"{folder}/{fd}").startswith("socket:")
        except FileNotFoundError:
            continue
    return count


@pytest.fixture
def serve(tmp_path, built_site, registry_file):
    servers = []

    def start(*args: str) -> ServerProcess:
        server = ServerProcess(tmp_path / "data", built_site, registry_file, extra_args=args).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def test_a_thousand_idle_sockets_do_not_stop_the_server_answering(serve):
    raise_descriptor_limit()  # this test process holds the thousand too
    # A deadline long enough that a loaded machine accepts all thousand before the first
    # expire; closing them on time is the test after next.
    server = serve("--header-timeout", "60")
    idle = [connect(server) for _ in range(1000)]
    try:
        # Positive signal that the server holds them all (and its listening socket), not
        # just the kernel's backlog.
        deadline = time.monotonic() + 50
        while open_sockets(server.proc.pid) < 1001 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert open_sockets(server.proc.pid) >= 1001
        started = time.monotonic()
        with urllib.request.urlopen(server.url + "/api/health", timeout=5) as response:
            assert response.status == 200
        assert time.monotonic() - started < 1
        # None of them has been closed: the server held them all while it answered.
        readable, _, _ = select.select(idle, [], [], 0)
        assert readable == []
    finally:
        for sock in idle:
            sock.close()


def test_a_dribbled_request_header_is_cut_at_the_header_timeout(serve):
    server = serve("--header-timeout", "1.5")
    with connect(server) as sock:
        started = time.monotonic()
        sock.settimeout(0.3)
        closed = False
        for byte in HEALTH[:-2] * 20:
            if time.monotonic() - started > 6:
                break
            try:
                sock.send(bytes([byte]))
                if sock.recv(1) == b"":
                    closed = True
                    break
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
        took = time.monotonic() - started
    assert closed and 1.2 < took < 4


def test_a_connection_that_sends_nothing_is_closed_at_the_header_timeout(serve):
    server = serve("--header-timeout", "1")
    with connect(server) as sock:
        assert 0.8 < seconds_until_closed(sock) < 4


def test_an_idle_keep_alive_connection_is_closed_at_the_keep_alive_timeout(serve):
    server = serve("--keep-alive-timeout", "1", "--header-timeout", "30")
    with connect(server) as sock:
        sock.sendall(HEALTH)
        assert read_response(sock).startswith(b"HTTP/1.1 200")
        assert 0.8 < seconds_until_closed(sock) < 4


def test_a_slow_but_honest_client_keeps_its_connection_for_several_requests(serve):
    server = serve("--header-timeout", "1", "--keep-alive-timeout", "1")
    with connect(server) as sock:
        for _ in range(3):
            time.sleep(0.5)  # well within both deadlines: the point is that the connection stays
            sock.sendall(HEALTH)
            assert read_response(sock).startswith(b"HTTP/1.1 200")


def test_a_body_trickled_a_byte_at_a_time_is_cut_at_the_body_timeout_with_a_408(serve):
    # Headers on time, then one byte now and then: without a deadline for the body the
    # request held its slot (and its socket) for as long as the client cared to trickle.
    server = serve("--body-timeout", "1.5")
    head = (b"POST /api/submissions/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 200\r\n\r\n")
    with connect(server) as sock:
        sock.sendall(head)
        started = time.monotonic()
        sock.settimeout(0.4)
        answer = b""
        while time.monotonic() - started < 8:
            try:
                sock.send(b" ")
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except (BrokenPipeError, ConnectionResetError):
                break
            if not chunk:
                break
            answer += chunk
        took = time.monotonic() - started
    status, _, rest = answer.partition(b"\r\n")
    assert status == b"HTTP/1.1 408 Request Timeout", answer[:200]
    body = json.loads(rest.partition(b"\r\n\r\n")[2])
    assert body["ok"] is False and body["error"] == "body_timeout" and "超时" in body["message"]
    assert 1.2 < took < 5  # answered on time, and the connection closed after it


def test_the_server_raises_its_descriptor_limit_to_the_hard_limit(serve):
    server = serve()
    limits = Path(f"/proc/{server.proc.pid}/limits").read_text()
    [line] = [line for line in limits.splitlines() if line.startswith("Max open files")]
    soft, hard = line.split()[3:5]
    assert soft == hard == str(resource.getrlimit(resource.RLIMIT_NOFILE)[1])


class _Loop:
    def __init__(self) -> None:
        self.logged: list[str] = []

    def default_exception_handler(self, context: dict) -> None:
        self.logged.append(context["message"])


def test_repeated_accept_errors_are_logged_at_most_once_a_second():
    now = [100.0]
    handler, loop = LoopErrorLog(clock=lambda: now[0]), _Loop()
    error = {"message": "socket.accept() out of system resource", "exception": OSError(24, "Too many open files")}
    for _ in range(10_000):
        handler(loop, error)
    assert len(loop.logged) == 1
    now[0] += 1.0
    handler(loop, error)
    assert len(loop.logged) == 2 and "9999 like it" in loop.logged[1]
    handler(loop, {"message": "another kind of error"})
    assert len(loop.logged) == 3


def test_the_handler_is_what_the_serving_loop_uses():
    # `serve` installs it on the running loop; this checks it fits asyncio's signature.
    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_exception_handler(LoopErrorLog())
        loop.call_exception_handler({"message": "test"})

    asyncio.run(main())


def test_out_of_descriptors_the_server_logs_little_and_recovers(serve):
    server = serve("--header-timeout", "2")
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (128, 128))
    idle = [connect(server) for _ in range(300)]
    try:
        started = time.monotonic()
        deadline = started + 30
        while not _answers(server.url) and time.monotonic() < deadline:
            time.sleep(0.2)
        took = time.monotonic() - started
        assert _answers(server.url)
    finally:
        for sock in idle:
            sock.close()
    log = server.log.read_text(errors="replace")
    assert log.count("Too many open files") <= took + 3
    assert len(log) < 100_000


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url + "/api/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@pytest.mark.parametrize("args, message", [
    (("--trust-forwarded-for", "proxy.example"), "not an IP address"),
    (("--header-timeout", "0"), "number of seconds"),
    (("--keep-alive-timeout", "nan"), "number of seconds"),
    (("--max-concurrent-requests", "-1"), "whole number above 0"),
])
def test_serve_refuses_bad_edge_settings_with_a_sentence(args, message, capsys):
    from sync_server.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["serve", *args])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_the_server_writes_no_core_dump(serve):
    # While staff are logged in the process holds their sector keys and the opened words
    # searched over; a crash must not write them to the disk as a core file.
    server = serve()
    limits = Path(f"/proc/{server.proc.pid}/limits").read_text()
    [line] = [line for line in limits.splitlines() if line.startswith("Max core file size")]
    assert line.split()[4:6] == ["0", "0"]
