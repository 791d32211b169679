"""Proxy trust: the client's address and scheme come from the socket, unless the socket
is one of the proxies named in `trust_forwarded_for`."""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from sync_server.accounts import Accounts
from sync_server.app import create_app
from sync_server.proxy import ForwardedFor, parse_networks
from tests.server_process import ServerProcess

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


def test_forwarded_proto_sets_the_scheme_only_from_a_trusted_proxy(settings):
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
