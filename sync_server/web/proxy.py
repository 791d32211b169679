"""Who is asking, behind a reverse proxy: the one place that reads `X-Forwarded-For`.

A header is only as honest as whoever wrote it. Each proxy appends the address it saw
to the right of `X-Forwarded-For`, so walking from the right, past the proxies we run,
the first other entry is the address our own proxy saw: the client. Anything further
left was written by the client and can be anything. Requests from any other peer keep
the socket's address and scheme, whatever headers they carry.

`from_this_machine` says whether a request came from a program on the server's own
machine (what may read the server's counts), and never for one a proxy brought from
outside, trusted or not.
"""

from __future__ import annotations

import ipaddress

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["ForwardedFor", "from_this_machine", "parse_networks"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
# The socket's own peer, kept in the scope when a trusted proxy's word replaced it.
_PEER = "minqing.socket_peer"
# Headers a proxy adds: a request that carries one came through some proxy, whoever the
# socket's peer is.
_PROXY_HEADERS = ("x-forwarded-for", "x-forwarded-proto", "x-forwarded-host", "x-real-ip", "forwarded", "via")


def parse_networks(texts: tuple[str, ...] | list[str]) -> tuple[Network, ...]:
    """Addresses or CIDR blocks, e.g. `127.0.0.1`, `10.0.0.0/8`, `::1`; a ValueError names a bad one."""
    networks = []
    for text in texts:
        for part in (p.strip() for p in text.split(",")):
            if not part:
                continue
            try:
                networks.append(ipaddress.ip_network(part, strict=False))
            except ValueError:
                raise ValueError(f"'{part}' is not an IP address or network (e.g. 127.0.0.1 or 10.0.0.0/8)") from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


class ForwardedFor:
    """Set `scope["client"]` and `scope["scheme"]` from the proxy's headers, only when
    the socket's peer is one of the trusted proxies."""

    def __init__(self, app: ASGIApp, trusted: tuple[str, ...]) -> None:
        self.app, self.networks = app, parse_networks(trusted)

    def _trusted(self, address) -> bool:
        return address is not None and any(address in network for network in self.networks)

    def client(self, peer: str, forwarded: list[str]) -> str:
        if not self._trusted(_address(peer)):
            return peer
        hops = [hop.strip() for header in forwarded for hop in header.split(",") if hop.strip()]
        chosen = peer
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                # Our proxy writes addresses; a word here means the chain is not what we think.
                return chosen
            chosen = str(address)
            if not self._trusted(address):
                return chosen
        return chosen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.networks and scope.get("client"):
            peer, port = scope["client"]
            if self._trusted(_address(peer)):
                headers = Headers(scope=scope)
                scope = dict(scope, client=(self.client(peer, headers.getlist("x-forwarded-for")), port))
                scope[_PEER] = peer
                proto = headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
                if proto in ("http", "https"):
                    scope["scheme"] = proto
        await self.app(scope, receive, send)


def _loopback(text: str | None) -> bool:
    address = _address(text) if text else None
    return address is not None and address.is_loopback


def from_this_machine(scope: Scope) -> bool:
    """Whether the client is a program on this machine: a loopback address, straight
    from the socket with no proxy's headers, or through one of our proxies (itself on
    this machine) that says its own client was on loopback. A proxy on this machine
    that is not in `trust_forwarded_for` makes everyone look local but for its headers:
    so a request carrying any is local only on a trusted proxy's word."""
    client = scope.get("client")
    if not client or not _loopback(client[0]):
        return False
    headers = Headers(scope=scope)
    if not any(name in headers for name in _PROXY_HEADERS):
        return True
    return _loopback(scope.get(_PEER)) and "x-forwarded-for" in headers
