"""Readers and librarians over real HTTP: a client that keeps Secure cookies the way browsers do on
127.0.0.1, and the steps every account test takes (register, sign in, read the page's CSRF token).

Accounts made for a test use real scrypt hashes; ``known_hash`` makes each password's hash once per
test run (half a second each), so tests that only need a signed-in librarian don't pay it each time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from aiohttp import CookieJar, TCPConnector, web
from aiohttp.test_utils import TestClient, TestServer

from unicat.accounts import User, check_role, hash_password
from unicat.ports.accounts import AccountStore

PASSWORD = "correct horse battery staple"
ClientMaker = Callable[[web.Application], Any]


@functools.cache
def known_hash(password: str = PASSWORD) -> str:
    return hash_password(password)


class Site:
    """One app served on 127.0.0.1, and as many independent browsers of it as a test needs (each
    with its own cookies). Their cookie jars, like Chromium, send Secure cookies to this origin over
    plain HTTP (browsers treat loopback as a secure origin)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.server = TestServer(app, host="127.0.0.1")
        self._clients: list[TestClient[web.Request, web.Application]] = []

    async def start(self) -> Site:
        await self.server.start_server()
        return self

    async def browser(self, address: str = "127.0.0.1") -> TestClient[web.Request, web.Application]:
        """A new browser, connecting from ``address`` (any 127.x.y.z: each is a client address of
        its own to the server, as different machines would be)."""
        jar = CookieJar(unsafe=True, treat_as_secure_origin=str(self.server.make_url("/")))
        connector = TCPConnector(local_addr=(address, 0))
        client: TestClient[web.Request, web.Application] = TestClient(
            self.server, cookie_jar=jar, connector=connector
        )
        await client.start_server()
        self._clients.append(client)
        return client

    async def signed_in(
        self, accounts: AccountStore, email: str, role: str = "patron", library: str | None = None
    ) -> TestClient[web.Request, web.Application]:
        """A browser signed in through the sign-in form as a new account of that role, made in
        ``accounts`` (the store of the app's catalogue)."""
        make_account(accounts, email, email.split("@")[0].title(), role, library)
        client = await self.browser()
        answer = await sign_in(client, email)
        assert answer.status == 303, await answer.text()
        return client

    async def close(self) -> None:
        for client in self._clients:
            await client._session.close()
        await self.server.close()


async def csrf_of(client: TestClient[Any, Any]) -> str:
    """The CSRF token the client's pages carry (``GET /api/me`` gives the same as the forms)."""
    response = await client.get("/api/me")
    assert response.status == 200
    token = (await response.json())["csrf"]
    assert isinstance(token, str) and len(token) >= 20
    return token


async def post_form(client: TestClient[Any, Any], path: str, data: dict[str, str], **kwargs: Any) -> Any:
    """Post a form with the page's CSRF token, as a browser does; not following the 303."""
    form = {"csrf": await csrf_of(client), **data}
    return await client.post(path, data=form, allow_redirects=False, **kwargs)


async def register(
    client: TestClient[Any, Any],
    email: str,
    name: str,
    password: str = PASSWORD,
    again: str | None = None,
    **kwargs: Any,
) -> Any:
    data = {"email": email, "display_name": name, "password": password, "password_again": again or password}
    return await post_form(client, "/register", data, **kwargs)


async def sign_in(client: TestClient[Any, Any], email: str, password: str = PASSWORD) -> Any:
    return await post_form(client, "/signin", {"email": email, "password": password})


async def me(client: TestClient[Any, Any]) -> dict[str, Any] | None:
    body = await (await client.get("/api/me")).json()
    user: dict[str, Any] | None = body["user"]
    return user


def make_account(
    accounts: AccountStore, email: str, name: str, role: str = "patron", library: str | None = None
) -> User:
    """An account stored straight in the accounts store (as `unicat users add` does), password
    PASSWORD."""
    return accounts.create_user(User(email, name, known_hash(), role=check_role(role), library=library))


async def staff_client(
    aiohttp_client: Any,
    app: web.Application,
    accounts: AccountStore,
    role: str = "librarian",
    email: str = "librarian@example.org",
) -> TestClient[web.Request, web.Application]:
    """A client of ``app`` (through pytest-aiohttp's ``aiohttp_client``, which closes it) signed in
    through the form as a new account of ``role``, made in ``accounts`` (the app's store); every
    request it sends carries the session's CSRF token as ``X-CSRF-Token``, as the JSON API's callers
    do, so its posts are what the forms send."""
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    jar = CookieJar(unsafe=True, treat_as_secure_origin=str(server.make_url("/")))
    client: TestClient[web.Request, web.Application] = await aiohttp_client(server, cookie_jar=jar)
    make_account(accounts, email, email.split("@")[0].title(), role)
    answer = await sign_in(client, email)
    assert answer.status == 303, await answer.text()
    client.session.headers["X-CSRF-Token"] = await csrf_of(client)
    return client
