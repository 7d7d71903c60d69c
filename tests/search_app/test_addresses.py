"""Which client address limits count, over real HTTP from several loopback addresses: the peer's,
unless the peer is a trusted proxy, then the nearest address in ``X-Forwarded-For`` that is not one;
an IPv6 address as its /64 network."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

import pytest
from aiohttp import ClientSession, TCPConnector, web
from aiohttp.test_utils import TestServer

from search_app.addresses import client_address
from search_app.state import SETTINGS
from unicat.errors import ConfigError
from unicat.settings import Settings, load_settings

Ask = Callable[..., Coroutine[Any, Any, str]]


async def _echo(request: web.Request) -> web.Response:
    return web.Response(text=client_address(request))


@pytest.fixture
async def ask() -> AsyncIterator[Callable[[str], Ask]]:
    servers: list[TestServer] = []

    def behind(trusted: str) -> Ask:
        app = web.Application()
        app[SETTINGS] = Settings(trusted_proxies=trusted)
        app.router.add_get("/", _echo)
        server = TestServer(app, host="127.0.0.1")
        servers.append(server)

        async def from_(address: str, forwarded: str | None = None) -> str:
            if not server.started:
                await server.start_server()
            headers = {"X-Forwarded-For": forwarded} if forwarded is not None else {}
            async with (
                ClientSession(connector=TCPConnector(local_addr=(address, 0))) as session,
                session.get(server.make_url("/"), headers=headers) as answer,
            ):
                return await answer.text()

        return from_

    yield behind
    for server in servers:
        await server.close()


async def test_without_trusted_proxies_the_peer_is_the_client_whatever_it_writes(
    ask: Callable[[str], Ask],
) -> None:
    direct = ask("")
    assert await direct("127.0.0.2") == "127.0.0.2"
    assert await direct("127.0.0.2", "203.0.113.9") == "127.0.0.2"


async def test_a_trusted_proxy_names_the_client(ask: Callable[[str], Ask]) -> None:
    proxied = ask("127.0.0.1, 10.0.0.0/8")
    assert await proxied("127.0.0.1", "203.0.113.9") == "203.0.113.9"
    # The client wrote an address of its own in front: the proxies' own entries are the right-most.
    assert await proxied("127.0.0.1", "198.51.100.1, 203.0.113.9") == "203.0.113.9"
    assert await proxied("127.0.0.1", "203.0.113.9, 10.1.2.3") == "203.0.113.9"  # two proxies
    # A peer that is not a trusted proxy is believed about nothing.
    assert await proxied("127.0.0.3", "203.0.113.9") == "127.0.0.3"
    # Nothing forwarded, or garbage: the last proxy seen is all we know.
    assert await proxied("127.0.0.1") == "127.0.0.1"
    assert await proxied("127.0.0.1", "not an address, 10.1.2.3") == "10.1.2.3"
    # IPv6 clients are counted by their /64; IPv4 written as IPv6 is IPv4.
    assert await proxied("127.0.0.1", "2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert await proxied("127.0.0.1", "2001:db8:1:2:ffff::1") == "2001:db8:1:2::/64"
    assert await proxied("127.0.0.1", "::ffff:203.0.113.9") == "203.0.113.9"


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    assert load_settings(overrides={"trusted_proxies": "10.0.0.1, fd00::/8"}).trusted_proxies
    with pytest.raises(ConfigError, match=r"trusted_proxies: 'proxy\.local' is not an IP address or network"):
        load_settings(overrides={"trusted_proxies": "10.0.0.1, proxy.local"})
