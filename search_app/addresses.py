"""The client's address, as rate limits and sign-in throttling count it, and whether it reached the
site over HTTPS.

Served directly, the client is the connection's peer. Behind a reverse proxy every connection comes
from the proxy, which says whom it serves in ``X-Forwarded-For``; that header is believed only from
the proxies named in the ``trusted_proxies`` setting (anyone else could write any address in it).
Reading the header from the right, each trusted proxy's entry is skipped; the first address that is
not a trusted proxy is the client. An IPv6 client is counted by its /64 network: one subscriber
commonly holds a whole /64, and could otherwise take a new address for every try. Whether the
client's own connection was HTTPS is likewise the connection's, or what a trusted proxy says in
``X-Forwarded-Proto``.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Sequence

from aiohttp import hdrs, web

from search_app.state import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_IPV6_SUBSCRIBER = 64


@functools.cache
def trusted_networks(setting: str) -> tuple[Network, ...]:
    """The ``trusted_proxies`` setting as networks (validated when the settings were loaded)."""
    parts = [part.strip() for part in setting.split(",")]
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address in network for network in proxies)


def _trusted_peer(
    request: web.Request,
) -> tuple[tuple[Network, ...], ipaddress.IPv4Address | ipaddress.IPv6Address] | None:
    """The trusted proxies and the connection's peer when the peer is one of them (its forwarding
    headers are then believed); None otherwise, without parsing anything when none is trusted."""
    proxies = trusted_networks(request.app[SETTINGS].trusted_proxies)
    if not proxies:
        return None
    peer = _address(request.remote or "")
    if peer is None or not _trusted(peer, proxies):
        return None
    return proxies, peer


def _client(request: web.Request) -> str:
    trusted = _trusted_peer(request)
    if trusted is None:
        return request.remote or "unknown"
    proxies, nearest = trusted
    forwarded = ",".join(request.headers.getall(hdrs.X_FORWARDED_FOR, [])).split(",")
    for hop in reversed(forwarded):
        address = _address(hop)
        if address is None:
            break  # not written by a proxy of ours: the last trusted hop is all we know
        if not _trusted(address, proxies):
            return str(address)
        nearest = address
    return str(nearest)


@functools.lru_cache(maxsize=4096)
def _as_counted(address: str) -> str:
    """An address as limits count it: an IPv6 one as its /64 network (the same few clients come back:
    cached, since parsing an address costs more than the rest of a post's limits)."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, _IPV6_SUBSCRIBER), strict=False))
    return address


def client_address(request: web.Request) -> str:
    """The client's address as limits count it: the peer's, or the one the trusted proxies in front
    of it forwarded; an IPv6 address as its /64 network."""
    return _as_counted(_client(request))


def served_over_https(request: web.Request) -> bool:
    """Whether the client reached the site over HTTPS: this connection's TLS, or, from a trusted proxy
    (which ends TLS itself), the scheme it forwards in ``X-Forwarded-Proto`` (its own entry: the last)."""
    if request.secure:
        return True
    if _trusted_peer(request) is None:
        return False
    forwarded = ",".join(request.headers.getall(hdrs.X_FORWARDED_PROTO, [])).split(",")
    return forwarded[-1].strip().lower() == "https"
