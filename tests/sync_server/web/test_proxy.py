"""Proxy trust: the client's address and scheme come from the socket, unless the socket
is one of the proxies named in `trust_forwarded_for`."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from minqing.server_process import ServerProcess
from sync_server.app import create_app
from sync_server.store.embedded.accounts import Accounts
from sync_server.web.proxy import ForwardedFor, parse_networks

PASSWORD = "correct-horse-battery"


def lookups(client, forwarded_for: list[str], **headers) -> list[int]:
    return [
        client.post("/api/receipts/lookup", json={"code": "ABCD-EFGH"},
                    headers={"X-Forwarded-For": value, **headers}).status_code
        for value in forwarded_for
    ]


def proxied_client(settings, peer: str, trusted: tuple[str, ...]) -> TestClient:
    app = create_app(replace(settings, trust_forwarded_for=trusted))
    return TestClient(app, base_url="http://127.0.0.1:8000", client=(peer, 40000))


def test_the_right_most_entry_that_is_not_a_trusted_proxy_is_the_client():
    forwarded = ForwardedFor(None, ("127.0.0.1", "10.0.0.0/8"))
    assert forwarded.client("127.0.0.1", ["6.6.6.6, 203.0.113.9"]) == "203.0.113.9"
    assert forwarded.client("127.0.0.1", ["6.6.6.6, 203.0.113.9, 10.1.2.3"]) == "203.0.113.9"
    assert forwarded.client("127.0.0.1", ["6.6.6.6", "203.0.113.9"]) == "203.0.113.9"
    # Only proxies in the chain: the farthest one is the best we know.
    assert forwarded.client("127.0.0.1", ["10.9.9.9, 10.1.2.3"]) == "10.9.9.9"
    assert forwarded.client("127.0.0.1", []) == "127.0.0.1"
    # A word where our proxy writes addresses: fall back to what we saw last.
    assert forwarded.client("127.0.0.1", ["203.0.113.9, evil"]) == "127.0.0.1"
    assert forwarded.client("::ffff:127.0.0.1", ["203.0.113.9"]) == "203.0.113.9"


def test_headers_from_a_peer_that_is_not_a_trusted_proxy_are_ignored():
    forwarded = ForwardedFor(None, ("127.0.0.1",))
    assert forwarded.client("198.51.100.7", ["203.0.113.9"]) == "198.51.100.7"


def test_a_bad_proxy_address_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="not an IP address"):
        parse_networks(["127.0.0.1, proxy.example"])
    assert len(parse_networks(["127.0.0.1,10.0.0.0/8", "::1"])) == 3


def test_spoofed_forwarded_for_does_not_escape_the_lookup_limit_when_no_proxy_is_trusted(settings):
    with proxied_client(settings, "127.0.0.1", ()) as client:
        statuses = lookups(client, [f"198.51.100.{i}" for i in range(15)])
    assert 429 in statuses


def test_behind_a_trusted_proxy_each_client_address_has_its_own_limit(settings):
    with proxied_client(settings, "127.0.0.1", ("127.0.0.1",)) as client:
        # Rotating the left part (written by the client) does not help...
        spoofed = lookups(client, [f"198.51.100.{i}, 203.0.113.9" for i in range(15)])
        # ...but different real clients, as the proxy saw them, are not held up by it.
        others = lookups(client, [f"203.0.113.{i}" for i in range(20, 35)])
    assert 429 in spoofed
    assert 429 not in others


def test_forwarded_proto_sets_the_scheme_only_from_a_trusted_proxy(settings, quick_scrypt):
    Accounts(settings.data_dir).add("amy", PASSWORD, "staff")
    https = {"X-Forwarded-Proto": "https", "Origin": "https://127.0.0.1:8000"}
    for trusted, secure in ((("127.0.0.1",), True), ((), False)):
        with proxied_client(settings, "127.0.0.1", trusted) as client:
            page = client.get("/office/login")
            token = re.search(r'name="token" value="([^"]+)"', page.text).group(1)
            response = client.post("/office/login", data={"name": "amy", "password": PASSWORD, "token": token},
                                   headers=https, follow_redirects=False)
        if secure:
            assert response.status_code == 303 and "Secure" in response.headers["set-cookie"]
        else:
            # Without trust the scheme is http, so an https Origin is another site.
            assert response.status_code == 403


def test_the_real_server_ignores_forwarded_for_from_localhost_without_the_flag(tmp_path, built_site, registry_file):
    # uvicorn's own proxy_headers trusts 127.0.0.1 by default: this is the hole it left.
    with ServerProcess(tmp_path / "data", built_site, registry_file) as server:
        statuses = []
        for i in range(15):
            request = urllib.request.Request(
                server.url + "/api/receipts/lookup", data=b'{"code": "ABCD-EFGH"}', method="POST",
                headers={"Content-Type": "application/json", "X-Forwarded-For": f"198.51.100.{i}"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    statuses.append(response.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
    assert 429 in statuses


NGINX_SITE = """
    # docs/deploy.md's example, on loopback addresses instead of TLS on port 443.
    client_header_timeout 10s;
    client_body_timeout 10s;
    keepalive_timeout 5s;
    client_max_body_size 256k;
    location / {
        proxy_pass http://127.0.0.1:%(upstream)d;
        proxy_bind 127.0.0.3;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        proxy_set_header X-Forwarded-Proto $scheme;
    }
"""


def _lookups_from(source: str, port: int, count: int, spoof: bool) -> list[int]:
    import http.client

    statuses = []
    for i in range(count):
        conn = http.client.HTTPConnection("127.0.0.2", port, timeout=5, source_address=(source, 0))
        headers = {"Content-Type": "application/json"}
        if spoof:
            headers["X-Forwarded-For"] = f"198.51.100.{i}"
        conn.request("POST", "/api/receipts/lookup", body=b'{"code": "ABCD-EFGH"}', headers=headers)
        statuses.append(conn.getresponse().status)
        conn.close()
    return statuses


@pytest.fixture
def nginx(tmp_path):
    import shutil
    import subprocess
    import time

    from minqing.server_process import free_port

    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.skip("nginx is not installed (make setup installs Debian's nginx-light)")
    servers = []

    def start(upstream: int) -> int:
        port, root = free_port(), tmp_path / "nginx"
        root.mkdir()
        (root / "nginx.conf").write_text(
            "user root; worker_processes 1; pid nginx.pid; error_log error.log;\n"
            "events { worker_connections 256; }\n"
            "http { access_log off; client_body_temp_path body; proxy_temp_path proxy;\n"
            f"  server {{ listen 127.0.0.2:{port};\n" + NGINX_SITE % {"upstream": upstream} + "  }\n}\n"
        )
        proc = subprocess.Popen([binary, "-p", str(root), "-c", "nginx.conf", "-g", "daemon off;"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        servers.append(proc)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.2:{port}/api/health", timeout=1):
                    return port
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"nginx did not start: {(root / 'error.log').read_text()}")

    yield start
    for proc in servers:
        proc.terminate()
        proc.wait(timeout=10)


def test_behind_the_documented_nginx_spoofing_fails_and_real_clients_are_told_apart(tmp_path, built_site, registry_file,
                                                                                    nginx):
    with ServerProcess(tmp_path / "data", built_site, registry_file,
                       extra_args=("--trust-forwarded-for", "127.0.0.3")) as server:
        port = nginx(server.port)
        spoofed = _lookups_from("127.0.0.1", port, 15, spoof=True)
        other_client = _lookups_from("127.0.0.4", port, 5, spoof=False)
    assert 429 in spoofed
    assert 429 not in other_client and set(other_client) == {404}  # an unknown code, not a limit
