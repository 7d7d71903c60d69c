"""The security headers over real HTTP (and HTTPS) on every kind of answer, and the pages' own markup
checked against the policy: what a page loads must be what the policy allows.

Expected values come from the brief and the standards: CSP Level 3 (``default-src``, ``form-action``,
``frame-ancestors``, ``base-uri``), RFC 7034 (``X-Frame-Options``), Fetch (``nosniff``), Referrer
Policy, and RFC 6797 (HSTS only over a secure transport).
"""

from __future__ import annotations

import dataclasses
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import lxml.html
import pytest
from aiohttp.test_utils import TestServer

from search_app.app import make_app
from tests.search_app.search_app_catalogue import Client
from unicat.catalogue import Catalogue
from unicat.settings import Settings

EXPECTED_POLICY = {
    "default-src": ["'none'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "script-src": ["'self'"],
    "connect-src": ["'self'"],
    "form-action": ["'self'"],
    "frame-ancestors": ["'none'"],
    "base-uri": ["'none'"],
}
# (method, path, the status expected): a page, JSON, XML, files, a redirect and errors of each kind.
ANSWERS = [
    ("GET", "/", 200),
    ("GET", "/search?q=austen", 200),
    ("GET", "/record/u-pp1980", 200),
    ("GET", "/api/search?q=austen", 200),
    ("GET", "/api/openapi.json", 200),
    ("GET", "/oai?verb=Identify", 200),
    ("GET", "/sru?operation=explain&version=2.0", 200),
    ("GET", "/static/unicat.css", 200),
    ("GET", "/static/favicon.svg", 200),
    ("GET", "/librarians/harvests", 303),
    ("GET", "/no/such/page", 404),
    ("GET", "/api/records/u-nothing", 404),
    ("GET", "/search?page=x", 400),
    ("POST", "/signin", 403),
    ("DELETE", "/", 405),
]


def policy(header: str) -> dict[str, list[str]]:
    """A Content-Security-Policy header's directives (CSP3 §2.2.1: ``;``-separated, names lower-cased)."""
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name.lower()] = values
    return directives


def assert_security_headers(headers: Any, https: bool) -> None:
    # ASVS 5.0 4.1.1: a body's type names its charset (here every answer of the list has a textual body).
    assert "charset=utf-8" in headers["Content-Type"].lower(), headers["Content-Type"]
    assert policy(headers["Content-Security-Policy"]) == EXPECTED_POLICY
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] in ("same-origin", "strict-origin-when-cross-origin")
    if https:
        max_age = headers["Strict-Transport-Security"].split("=", 1)
        assert max_age[0] == "max-age" and int(max_age[1]) >= 365 * 86_400  # ASVS 5.0 3.4.1: a year
    else:
        assert "Strict-Transport-Security" not in headers


async def test_every_kind_of_answer_carries_the_security_headers(client: Client) -> None:
    for method, path, status in ANSWERS:
        answer = await client.request(method, path, allow_redirects=False)
        assert answer.status == status, (method, path, answer.status)
        assert_security_headers(answer.headers, https=False)


def what_a_page_loads(html: str) -> list[tuple[str, str]]:
    """What the policy governs in a page: scripts, inline styles and event handlers, and every
    resource it loads, as (kind, value)."""
    tree = lxml.html.fromstring(html)
    found: list[tuple[str, str]] = []
    for element in tree.iter("script"):
        # A script file of ours is a resource it loads; an inline script is governed as inline.
        src = element.get("src")
        found.append(
            ("script", src)
            if src and not (element.text or "").strip()
            else ("script", lxml.html.tostring(element, encoding="unicode"))
        )
    found += [("style", lxml.html.tostring(element, encoding="unicode")) for element in tree.iter("style")]
    for element in tree.iter():
        for name, value in element.attrib.items():
            if name == "style" or name.startswith("on"):
                found.append((f"{name!s} attribute", str(value)))
    for element in tree.xpath("//link[@href] | //img[@src] | //iframe | //object | //embed | //base"):
        found.append((str(element.tag), element.get("href") or element.get("src") or ""))
    return found


async def test_the_pages_load_only_what_the_policy_allows(client: Client, librarian: Client) -> None:
    # The policy allows the app's own stylesheet, images and script file (style-src, img-src,
    # script-src 'self'), nothing else:
    # every page's markup must keep to it, or the browser would refuse part of the page.
    allowed = {
        ("link", "/static/unicat.css"),
        ("link", "/static/favicon.svg"),
        ("script", "/static/suggest.js"),
    }
    pages = ["/", "/search?q=austen", "/record/u-pp1980", "/tags", "/signin", "/register", "/nothing"]
    staff_pages = ["/account", "/lists", "/librarians/harvests", "/librarians/quarantine"]
    staff_pages += ["/librarians/merges", "/librarians/merges/u-pp1980", "/librarians/overlap"]
    staff_pages += ["/librarians/moderation", "/record/u-pp1980"]
    for who, paths in ((client, pages), (librarian, staff_pages)):
        for path in paths:
            answer = await who.get(path)
            assert answer.content_type == "text/html", path
            loaded = set(what_a_page_loads(await answer.text()))
            assert loaded <= allowed, (path, loaded - allowed)
            assert ("link", "/static/unicat.css") in loaded, path


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (key, certificate), made by OpenSSL."""
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    command = [
        "openssl",
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
    ]
    command += ["-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)]
    subprocess.run(command, check=True, capture_output=True)
    return key, cert


@pytest.fixture
async def https_server(
    catalogue: Catalogue, settings: Settings, certificate: tuple[Path, Path]
) -> AsyncIterator[TestServer]:
    key, cert = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = TestServer(make_app(catalogue, settings), host="127.0.0.1")
    await server.start_server(ssl=context)
    yield server
    await server.close()


async def test_over_https_the_answers_also_ask_for_https_from_then_on(
    https_server: TestServer, certificate: tuple[Path, Path]
) -> None:
    trusted = ssl.create_default_context(cafile=str(certificate[1]))
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=trusted)) as session:
        for method, path, status in ANSWERS:
            url = https_server.make_url(path)
            assert url.scheme == "https"
            async with session.request(method, url, allow_redirects=False) as answer:
                assert answer.status == status, (method, path, answer.status)
                assert_security_headers(answer.headers, https=True)


@pytest.mark.parametrize(
    ("trusted", "forwarded", "https"),
    [
        ("127.0.0.1", "https", True),  # a trusted proxy ended TLS
        ("127.0.0.1", "http", False),
        ("", "https", False),  # anyone may write the header: not believed without trusted_proxies
        ("10.0.0.0/8", "https", False),  # this client is not the trusted proxy
    ],
)
async def test_behind_a_trusted_proxy_that_ended_tls_the_answers_ask_for_https_too(
    catalogue: Catalogue, settings: Settings, trusted: str, forwarded: str, https: bool
) -> None:
    server = TestServer(
        make_app(catalogue, dataclasses.replace(settings, trusted_proxies=trusted)), host="127.0.0.1"
    )
    await server.start_server()
    try:
        headers = {"X-Forwarded-Proto": forwarded}
        async with (
            aiohttp.ClientSession() as session,
            session.get(server.make_url("/"), headers=headers) as answer,
        ):
            assert answer.status == 200
            assert_security_headers(answer.headers, https=https)
    finally:
        await server.close()
