"""The client's address and scheme behind the reverse proxies a site trusts.

A request's client is the socket peer, unless that peer is one of the proxies listed in
``site.toml``::

    [web]
    trusted_proxies = ["127.0.0.1", "10.0.0.0/8"]   # addresses or networks (CIDR)
    proxy_header = "x-forwarded-for"                 # or "forwarded" (RFC 7239)

Then the forwarded header is read from the right (the entry the nearest proxy added)
leftwards, skipping the site's own proxies: the first address that is not one of them
is the client. Whatever a client writes into the header itself sits left of that and is
never believed; from an untrusted peer the headers are ignored altogether. The scheme
(``X-Forwarded-Proto`` or ``proto=``) is taken from a trusted peer only, so cookies are
marked Secure behind a proxy that terminates HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
HEADERS = ("x-forwarded-for", "forwarded")
_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)
_PROTO = re.compile(r'(?:^|;)\s*proto\s*=\s*("[^"]*"|[^;,\s]*)', re.IGNORECASE)


def parse_networks(entries: Iterable[str]) -> list[Network]:
    """The networks of ``trusted_proxies`` entries (an address is a network of one);
    raises :class:`ValueError` naming an entry that is neither."""
    return [ipaddress.ip_network(str(entry).strip(), strict=False) for entry in entries]


def _address(text: str):
    """An IP address of a forwarded entry (``1.2.3.4``, ``1.2.3.4:80``, ``[::1]:80``,
    ``::1``), or None for anything else (``unknown``, an obfuscated name)."""
    text = text.strip().strip('"')
    if text.startswith("["):
        text = text[1:text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: list[Network]) -> bool:
    if address is None:
        return False
    if getattr(address, "ipv4_mapped", None):
        address = address.ipv4_mapped
    return any(address in network for network in networks)


def _headers(scope, name: bytes) -> str:
    return ", ".join(value.decode("latin-1") for key, value in scope["headers"] if key == name)


def forwarded_client(peer: str, hops: list[str], networks: list[Network]) -> str:
    """The client behind ``peer`` given the forwarded ``hops`` (left to right, as in the
    header): walk from the right while the hop is a trusted proxy."""
    client = peer
    for hop in reversed(hops):
        if not _trusted(_address(client), networks):
            break
        address = _address(hop)
        if address is None:  # garbage or "unknown": keep the last proxy that said so
            break
        client = str(address)
    return client


class TrustedProxies:
    """ASGI middleware: sets the request's client (and scheme) from the forwarded header
    when, and only when, the socket peer is a trusted proxy."""

    def __init__(self, app, trusted: Iterable[str] = (), header: str = "x-forwarded-for"):
        self.app = app
        self.networks = parse_networks(trusted)
        self.header = header.lower()

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and self.networks and scope.get("client"):
            peer, port = scope["client"]
            if _trusted(_address(peer), self.networks):
                scope = dict(scope)
                if self.header == "forwarded":
                    elements = [e for e in _headers(scope, b"forwarded").split(",") if e.strip()]
                    hops = [m.group(1) for m in map(_FOR.search, elements) if m]
                    protos = [m.group(1).strip('"') for m in map(_PROTO.search, elements) if m]
                else:
                    hops = [h for h in _headers(scope, b"x-forwarded-for").split(",")
                            if h.strip()]
                    protos = [p.strip() for p in
                              _headers(scope, b"x-forwarded-proto").split(",") if p.strip()]
                scope["client"] = (forwarded_client(peer, hops, self.networks), port)
                if protos and protos[-1].lower() in ("http", "https"):
                    scope["scheme"] = protos[-1].lower()
        await self.app(scope, receive, send)
