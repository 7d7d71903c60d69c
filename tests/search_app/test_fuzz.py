"""Every route of the app fuzzed over real HTTP, on both storage setups: whatever a client sends, the
answer is never a 5xx, and the connection is never dropped.

The routes are read from the app's router, so a new route is fuzzed without a change here. Each is
sent, by an anonymous visitor and by a signed-in librarian (both with a valid CSRF token, so that
requests get past the token check to the handlers): arbitrary text in its path parts and in query
parameters and form fields (the names the app reads, and others), including lone surrogates,
control characters and very long values; JSON bodies of every shape, including a lone surrogate
escape, nesting 100,000 deep and more than the app reads of a body; and raw bytes of any content
type. Text is sent as its UTF-8 bytes, percent-encoded (a lone surrogate too, as browsers never
would but a script can).

Hypothesis runs derandomized (the same examples on every run) with a modest count per route.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, make_account
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS
from tests.support.served_app import ServedApp
from unicat.catalogue import Catalogue
from unicat.query import PARAM_FILTERS

EXAMPLES_PER_ROUTE = 25
# The parameter and field names the app reads (catalogue, OAI-PMH, SRU, accounts, readers, librarians).
NAMES = sorted(
    {*PARAM_FILTERS, "q", "year", "sort", "page", "page_size", "facets", "next", "done", "record", "format"}
    | {"verb", "metadataPrefix", "identifier", "from", "until", "set", "resumptionToken"}
    | {"operation", "version", "query", "startRecord", "maximumRecords", "recordSchema", "sortKeys"}
    | {"facetLimit", "recordPacking", "stylesheet", "source", "stage"}
    | {"email", "password", "password_again", "display_name", "current", "name", "description", "public"}
    | {"body", "stars", "tags", "tag", "reason", "comment", "list", "action", "apply", "decision"}
    | {"member", "other"}
)
# Values that have broken parsers before: markup, traversal, numbers at the edges, encodings.
NASTY = [
    "",
    "\ud800",
    "a\udc00b",
    "\x00",
    "\r\nX-Injected: 1",
    "\x85\u2028",
    "../../../../etc/passwd",
    "..%2f..%2f",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"',
    "\\",
    "%",
    "%zz",
    "0",
    "-1",
    "9" * 40,
    "1e309",
    "NaN",
    "2024-02-30",
    "0000-00-00T00:00:00Z",
    "u-pp1980",
    "title=pride and",
    'dc.title any "',
    "x" * 100_000,
]
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),  # surrogates and controls included
    st.sampled_from(NASTY),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | TEXT,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(NAMES) | TEXT, inner, max_size=4)
    ),
    max_leaves=12,
)
JSON_BODIES = st.one_of(
    JSON_VALUES.map(lambda value: json.dumps(value).encode()),  # ensure_ascii: surrogates as \\ud800
    st.sampled_from(
        [
            b"[" * 100_000 + b"]" * 100_000,
            b'{"body": ' + b"[" * 5_000 + b"]" * 5_000 + b"}",
            b'{"body": "a\\ud800b"}',
            b'{"body": "a\xed\xa0\x80b"}',
            b'{"body": "' + b"x" * 2**21 + b'"}',
            b'{"body": NaN}',
            b"",
        ]
    ),
)


def encode(text: str) -> str:
    """``text`` percent-encoded from its UTF-8 bytes (a lone surrogate as the bytes it would have)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


def form_body(pairs: list[tuple[str, str]]) -> bytes:
    return "&".join(f"{encode(name)}={encode(value)}" for name, value in pairs).encode("ascii")


# Content types that make a body hard to read: no boundary, a boundary the body lacks, no such charset.
CONTENT_TYPES = [
    "text/plain",
    "application/xml",
    "multipart/form-data",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded; charset=no-such-charset",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/json; charset=latin-1",
]
PAIRS = st.lists(st.tuples(st.sampled_from(NAMES) | TEXT, TEXT), max_size=5)
BODIES = st.one_of(
    st.just(("", b"")),
    PAIRS.map(lambda pairs: ("application/x-www-form-urlencoded", form_body(pairs))),
    JSON_BODIES.map(lambda body: ("application/json", body)),
    st.tuples(st.sampled_from(CONTENT_TYPES), st.binary(max_size=200)),
    st.tuples(st.sampled_from(CONTENT_TYPES), PAIRS.map(form_body)),
)


@dataclass
class Visitor:
    """Someone the fuzzer sends requests as: their cookies and the CSRF token their forms carry."""

    name: str
    cookies: dict[str, str] = field(default_factory=dict)
    csrf: str = ""

    def headers(self) -> dict[str, str]:
        headers = {"X-CSRF-Token": self.csrf, "Connection": "close"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        return headers


@dataclass(frozen=True)
class Answer:
    status: int
    content: bytes
    cookies: dict[str, str]  # what it set: name → value
    location: str


def send(base: str, method: str, target: str, headers: dict[str, str], body: bytes = b"") -> Answer:
    """One request on a connection of its own; http.client raises if the server drops it."""
    address = urlsplit(base)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=60)
    try:
        connection.request(method, target, body=body or None, headers=headers)
        answer = connection.getresponse()
        content = answer.read()
        cookies = {}
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            cookies[name] = rest.split(";", 1)[0]
        return Answer(answer.status, content, cookies, answer.headers.get("Location", ""))
    finally:
        connection.close()


def visitors(base: str, catalogue: Catalogue) -> list[Visitor]:
    """An anonymous visitor and a librarian signed in through the form, each with their token."""
    anonymous = Visitor("anonymous")
    me = send(base, "GET", "/api/me", {"Connection": "close"})
    assert me.status == 200
    anonymous.cookies["unicat_csrf"] = me.cookies["unicat_csrf"]
    anonymous.csrf = json.loads(me.content)["csrf"]

    make_account(catalogue.accounts, "fuzz@example.org", "Fuzz", role="librarian")
    form = form_body([("email", "fuzz@example.org"), ("password", PASSWORD), ("csrf", anonymous.csrf)])
    headers = anonymous.headers() | {"Content-Type": "application/x-www-form-urlencoded"}
    signed_in = send(base, "POST", "/signin", headers, form)
    assert signed_in.status == 303
    librarian = Visitor("librarian", {"unicat_session": signed_in.cookies["unicat_session"]})
    me = send(base, "GET", "/api/me", librarian.headers())
    assert me.status == 200 and json.loads(me.content)["user"]["role"] == "librarian"
    librarian.csrf = json.loads(me.content)["csrf"]
    return [anonymous, librarian]


def known_values(base: str, librarian: Visitor) -> list[str]:
    """What path parts name when they name something: records (one merged away), a comment and a
    reading list the librarian makes here, and the static files."""
    headers = librarian.headers() | {"Content-Type": "application/x-www-form-urlencoded"}
    commented = send(
        base,
        "POST",
        "/record/u-pp1980/comments",
        headers,
        form_body([("body", "Read it"), ("csrf", librarian.csrf)]),
    )
    listed = send(base, "POST", "/lists", headers, form_body([("name", "Fuzzed"), ("csrf", librarian.csrf)]))
    assert commented.status == listed.status == 303
    comment = re.fullmatch(r"/record/u-pp1980#comment-(\d+)", commented.location)
    reading_list = re.fullmatch(r"/lists/(\d+)\?done=created", listed.location)
    assert comment is not None and reading_list is not None
    records = [record.id for record in RECORDS[:4]] + list(REDIRECTS)[:1]
    return [*records, comment[1], reading_list[1], "unicat.css", "favicon.svg"]


@dataclass(frozen=True)
class Route:
    method: str
    pattern: str  # the resource's canonical path: {name} or {name:regex} parts, or a static prefix
    static: bool

    def paths(self, known: list[str]) -> st.SearchStrategy[str]:
        """Paths of this route with fuzzed parts, each one of the ``known`` values (ids of records,
        comments and lists that exist, file names) or any text; a static route: any file name under
        its prefix."""
        part = st.one_of(st.sampled_from(known), TEXT).map(encode)
        if self.static:
            return st.lists(part, min_size=1, max_size=3).map(
                lambda parts: self.pattern + "/" + "/".join(parts)
            )
        pieces = [
            st.just(piece) if not piece.startswith("{") else part
            for piece in re.split(r"(\{[^}]+\})", self.pattern)
        ]
        return st.tuples(*pieces).map("".join)


def app_routes(app: web.Application) -> list[Route]:
    routes = []
    for route in app.router.routes():
        resource = route.resource
        assert resource is not None
        static = isinstance(resource, web.StaticResource)
        routes.append(Route(route.method, resource.canonical, static))
    return routes


@pytest.fixture
def catalogue(each_setup_catalogue: Catalogue) -> Catalogue:
    return each_setup_catalogue


@pytest.fixture
def served(catalogue: Catalogue) -> Iterator[ServedApp]:
    # Posts must reach the handlers (a budget the fuzzer never exhausts); sign-ins, each half a second
    # of scrypt when the address is real, stop early.
    settings = catalogue.index.settings.replace(
        post_limit_account=100_000, post_limit_address=100_000, signin_limit_account=2, signin_limit_address=4
    )
    with ServedApp(make_app(catalogue, settings)) as app:
        yield app


def fuzz(base: str, route: Route, people: list[Visitor], known: list[str]) -> None:
    """Send ``route`` what Hypothesis makes of it; fail on a 5xx or a dropped connection."""
    # The librarian's session must last the whole run: only the anonymous visitor signs out.
    who = people[:1] if route.pattern == "/signout" else people
    takes_body = route.method not in ("GET", "HEAD")

    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        visitor=st.sampled_from(who),
        path=route.paths(known),
        query=PAIRS,
        body=BODIES if takes_body else st.just(("", b"")),
    )
    def answers_without_a_server_error(
        visitor: Visitor, path: str, query: list[tuple[str, str]], body: tuple[str, bytes]
    ) -> None:
        target = path + ("?" + form_body(query).decode() if query else "")
        content_type, sent = body
        headers = visitor.headers() | ({"Content-Type": content_type} if content_type else {})
        if content_type == "application/x-www-form-urlencoded":
            sent = b"&".join(filter(None, [sent, b"csrf=" + visitor.csrf.encode()]))
        answer = send(base, route.method, target, headers, sent)
        context = (route.method, target[:300], sent[:300], answer.status, answer.content[:500])
        assert answer.status < 500, context

    answers_without_a_server_error()


def test_no_request_to_any_route_gets_a_server_error(served: ServedApp, catalogue: Catalogue) -> None:
    people = visitors(served.url, catalogue)
    known = known_values(served.url, people[1])
    routes = app_routes(served.app)
    assert len(routes) > 40  # every route of the app, HEAD beside each GET
    for route in routes:
        fuzz(served.url, route, people, known)
