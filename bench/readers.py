"""Readers' comments under load (issue 8): a record page with 200 comments, and 20 readers posting at once.

Run from the repository root::

    .venv/bin/python bench/readers.py [--records 20000] [--engines sqlite,elasticsearch] [--es-url URL]

For each engine:

1. **Catalogue.** ``--records`` union records of :mod:`bench.corpus` and one *twin* (a copy of the
   target record under another union id), written by one ``write_union_generation``. The target
   is the first book held by at least three libraries. Accounts (``--commenters`` + ``--posters``)
   are created in the account store with one scrypt hash computed once, and each gets a session made
   by ``unicat.accounts.new_session`` and stored by ``AccountStore.save_session``: nothing here signs in over
   HTTP, so no figure includes scrypt. The target gets ``--comments`` comments by ``--commenters``
   readers (100–1,500 characters, some with markup or line breaks), a rating from every one of them
   and a few tags; the twin gets the same ratings and tags and no comment.
2. **Server.** The real application (``unicat_cli.steps.serve_step``, as ``unicat serve`` runs it) in a
   process of its own pinned to one core; the client runs here on another core. The posting rate
   limits (``post_limit_account``, ``post_limit_address``) are raised to :data:`POST_LIMIT`, every
   other setting is the default. Elasticsearch itself is not pinned.
3. **Record pages.** ``GET /record/{id}`` on one keep-alive connection, sequentially, for four cases
   (the target and the twin, signed out and signed in as one of the commenters), each ``--requests``
   times after ``--warmup`` untimed requests, in turns of :data:`TURN` requests a case. Every answer
   must be 200, read whole, and hold as many comment items (``id="comment-``) as the record has
   comments, and when signed in as many edit or report forms.
4. **Posting.** ``--posters`` readers, each in a thread of its own with its own keep-alive connection,
   post ``--posts`` comments each as fast as they can with ``POST /api/records/{id}/comments``, over
   ``--post-records`` records in turn (every record gets comments from every poster). Then what the
   server answered 201 for is compared with what the store holds on those records
   (``ContributionStore.comments_for``) and with what their record pages list: the same count, the same
   (id, record, author, body) set, no id twice, no 5xx. The exit status is 1 if any comment was lost,
   doubled, altered or refused.

``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import http.cookies
import json
import math
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, union_records  # noqa: E402
from bench.foundation import machine, percentile, quiet_logging  # noqa: E402
from bench.served import (  # noqa: E402
    NodeCpu,
    client_on,
    cpu_seconds,
    elasticsearch,
    es_version,
    pick_cores,
    postgresql,
    server,
)
from unicat.accounts import User, hash_password, new_session  # noqa: E402
from unicat.clock import format_time  # noqa: E402
from unicat.model import SourceRef, UnionRecord  # noqa: E402
from unicat.ports.accounts import AccountStore  # noqa: E402
from unicat.readers import Comment, Rating, Tag  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat.union_generation import write_union_generation  # noqa: E402
from unicat_cli.wiring import open_catalogue, open_index  # noqa: E402

DEFAULT_RECORDS = 20_000
DEFAULT_COMMENTS = 200
DEFAULT_COMMENTERS = 50
DEFAULT_REQUESTS = 500
DEFAULT_WARMUP = 50
DEFAULT_POSTERS = 20
DEFAULT_POSTS = 250
DEFAULT_POST_RECORDS = 4
TURN = 50
"""Timed requests of one page case before the next case takes its turn."""
POST_LIMIT = 1_000_000
"""``post_limit_account`` and ``post_limit_address`` of the benchmark's server (per ``post_window``,
60 s by default): high enough that no post is refused. The defaults (10 and 60) would refuse all but
60 of the posts from one address within a minute."""
TARGET_HOLDINGS = 3
MIN_BODY, MAX_BODY = 100, 1_500
PASSWORD = "bench readers' password"
REQUEST_TIMEOUT = 120.0
TAGS = ("classic", "book club", "to read", "19th century", "annotated edition")
TAGGERS = 12
"""Readers (the first ones) who tag the record, one or two tags each."""
MARKUP_EVERY, LINES_EVERY = 10, 5
"""One comment in ten carries markup-like text, one in five has paragraphs and line breaks."""
COMMENT_ITEM = b'id="comment-'
COMMENT_FORMS = (b'/report">', b'/edit">')
"""What a signed-in page has for each comment: a report form (others' comments) or an edit form."""

SENTENCES = (
    "I borrowed this edition from the library near my office and read it in two evenings.",
    "The translation reads well, although a few idioms feel dated now.",
    "Our reading group chose it for March and the discussion went on for hours.",
    "The introduction is worth reading first: it explains where the text comes from.",
    "Some chapters drag, but the last third makes up for all of it.",
    "The notes at the back are thorough, sometimes more interesting than the text itself.",
    "I would recommend the hardback: the paperback's binding did not survive a second reading.",
    "The copy I had was annotated in pencil by a previous reader, which added to the charm.",
    "It is a good companion to the author's earlier work, though it stands on its own.",
    "The index is thin, so finding a passage again takes patience.",
    "Students will find the chronology at the start especially useful.",
    "The maps are small and hard to read; a magnifying glass helped.",
    "J'ai lu cette édition à la médiathèque : la préface éclaire vraiment le contexte.",
    "Une lecture exigeante mais très riche, à reprendre lentement.",
    "Les illustrations sont belles, dommage que le papier soit si fin.",
    "This is the edition our teacher asked for, and the page numbers match the course notes.",
    "Several libraries hold it, so the waiting list was short.",
    "The bibliography points to articles I had never heard of.",
    "I did not expect to enjoy it as much as I did.",
    "The second volume is harder to find; ask at the reference desk.",
    "Reading it again twenty years later, I noticed how carefully it is built.",
    "The typeface is small, which makes long sessions tiring.",
    "A clear and patient book, written for readers rather than for specialists.",
    "The appendix with the original documents is the best part.",
)
MARKUP = (
    'I would give it <b>five stars</b> & more, "if I could".',
    "<script>alert('unicat')</script> (only testing: the page shows this as text).",
    'My longer review is at <a href="https://example.org/review?id=12&lang=en">this address</a>.',
    "Chapter 3 < chapter 4 > chapter 5, if you ask me; &amp; the epilogue is &lt;fine&gt;.",
    "<i>Highly</i> recommended <br> for anyone interested in the period.",
)
FIRST_NAMES = (
    "Alice", "Bruno", "Camille", "Dmitri", "Elena", "Farid", "Greta", "Hugo", "Ines", "Jonas",
    "Kasia", "Léon", "Maya", "Nils", "Oona", "Pablo", "Quentin", "Rosa", "Sami", "Tessa",
)  # fmt: skip

T = TypeVar("T")


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class CheckFailed(RuntimeError):
    """An answer that was not what the page or the API must give: the figures would be void."""


# -- what readers write ----------------------------------------------------------------------------------


def comment_body(rng: random.Random, *, markup: bool, lines: bool) -> str:
    """A comment of 100–1,500 characters (log-uniform: more short ones than long ones), made of
    readers' sentences; with markup-like text, or paragraphs and line breaks, when asked. Already as
    ``unicat.readers.check_comment`` stores it (NFC, trimmed), so what is stored must equal what is sent."""
    target = round(math.exp(rng.uniform(math.log(MIN_BODY), math.log(MAX_BODY))))
    parts = [rng.choice(MARKUP)] if markup else []
    while sum(len(part) + 1 for part in parts) < target:
        parts.append(rng.choice(SENTENCES))
    if lines and len(parts) >= 3:
        first, second = sorted(rng.sample(range(1, len(parts)), 2))
        text = "\n\n".join(
            (" ".join(parts[:first]), "\n".join(parts[first:second]), " ".join(parts[second:]))
        )
    else:
        text = " ".join(parts)
    if len(text) > MAX_BODY:
        text = text[: text.rfind(" ", 0, MAX_BODY)].rstrip(" ,;:\n")
    return text.strip()


def display_name(number: int) -> str:
    """``Alice A.``, ``Bruno A.``, … ``Alice B.``: distinct for the first 520 readers."""
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    return f"{first} {chr(ord('A') + (number // len(FIRST_NAMES)) % 26)}."


# -- timing helpers ------------------------------------------------------------------------------------


@dataclass
class CallTimes:
    """Seconds of each store call the set-up makes, by call name."""

    seconds: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def call(self, name: str, function: Callable[..., T], *args: Any) -> T:
        started = time.perf_counter()
        result = function(*args)
        self.seconds[name].append(time.perf_counter() - started)
        return result

    def summary(self) -> dict[str, dict[str, float]]:
        return {
            name: {
                "calls": len(values),
                "median_ms": statistics.median(values) * 1000,
                "max_ms": max(values) * 1000,
                "total_s": sum(values),
            }
            for name, values in self.seconds.items()
        }


def latency_summary(seconds: Sequence[float]) -> dict[str, float]:
    """min / p50 / p95 / p99 / max in milliseconds (nearest rank: values really observed)."""
    return {
        "min_ms": min(seconds) * 1000,
        "p50_ms": percentile(seconds, 0.50) * 1000,
        "p95_ms": percentile(seconds, 0.95) * 1000,
        "p99_ms": percentile(seconds, 0.99) * 1000,
        "max_ms": max(seconds) * 1000,
    }


# -- the catalogue and its readers -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reader:
    """An account with a stored session: its id, name and the token its cookie carries."""

    user_id: int
    display_name: str
    token: str


@dataclass(frozen=True)
class Catalogue:
    """The union ids the benchmark uses and the readers it made."""

    target: str
    twin: str
    post_records: tuple[str, ...]
    commenters: tuple[Reader, ...]
    posters: tuple[Reader, ...]
    comments: int
    markup_comments: int
    lined_comments: int
    body_lengths: tuple[int, int]
    ratings: int
    tags: int


def pick_target(corpus: Sequence[UnionRecord]) -> UnionRecord:
    """The first book held by several libraries: the kind of edition readers talk about."""
    for record in corpus:
        if record.format == "book" and len(record.libraries) >= TARGET_HOLDINGS:
            return record
    return corpus[0]


def create_readers(
    accounts: AccountStore, kind: str, count: int, password_hash: str, times: CallTimes, first_name: int = 0
) -> tuple[Reader, ...]:
    readers = []
    for number in range(count):
        name = display_name(first_name + number)
        user = times.call(
            "create_user",
            accounts.create_user,
            User(
                email=f"{kind}{number:03d}@bench.unicat.local", display_name=name, password_hash=password_hash
            ),
        )
        assert user.id is not None
        token, session = new_session(user.id)
        times.call("save_session", accounts.save_session, session)
        readers.append(Reader(user.id, name, token))
    return tuple(readers)


def build(settings: Settings, args: argparse.Namespace, times: CallTimes) -> Catalogue:
    """Write the corpus, the twin, the accounts and what the commenters wrote (none of it timed)."""
    corpus = list(union_records(args.records, args.seed))
    target = pick_target(corpus)
    # Its own members too: a source record belongs to one union record.
    twin = dataclasses.replace(
        target,
        id=f"{target.id}-twin",
        sources=[SourceRef(ref.source, f"{ref.local_id}-twin") for ref in target.sources],
    )
    post_records = tuple(record.id for record in corpus if record.id != target.id)[: args.post_records]
    rng = random.Random(f"readers/{args.seed}")
    password_hash = hash_password(PASSWORD)
    with open_catalogue(settings) as opened:
        store = opened.contributions
        written = write_union_generation(opened.records, opened.index, [*corpus, twin], {})
        if written != len(corpus) + 1:
            raise CheckFailed(f"only {written} of {len(corpus) + 1} union records were written")
        commenters = create_readers(opened.accounts, "reader", args.commenters, password_hash, times)
        posters = create_readers(
            opened.accounts, "poster", args.posters, password_hash, times, args.commenters
        )
        now = datetime.now(UTC)
        lengths = []
        for number in range(args.comments):
            body = comment_body(rng, markup=number % MARKUP_EVERY == 3, lines=number % LINES_EVERY == 1)
            lengths.append(len(body))
            # Written over the last months, oldest first, so the page shows real dates.
            created = format_time(now - timedelta(hours=6 * (args.comments - number)))
            author = commenters[number % len(commenters)]
            times.call(
                "add_comment", store.add_comment, Comment(target.id, author.user_id, body, created=created)
            )
        ratings = tags = 0
        for number, reader in enumerate(commenters):
            stars = rng.choices((1, 2, 3, 4, 5), weights=(1, 2, 4, 8, 6))[0]
            for record in (target.id, twin.id):
                times.call("set_rating", store.set_rating, Rating(record, reader.user_id, stars))
                ratings += 1
                if number < TAGGERS:
                    for tag in rng.sample(TAGS, 1 + number % 2):
                        times.call("add_tag", store.add_tag, Tag(record, reader.user_id, tag))
                        tags += 1
        stored = len(store.comments_for([target.id]))
        if stored != args.comments:
            raise CheckFailed(f"the store holds {stored} comments on {target.id}, not {args.comments}")
    return Catalogue(
        target=target.id,
        twin=twin.id,
        post_records=post_records,
        commenters=commenters,
        posters=posters,
        comments=args.comments,
        markup_comments=sum(number % MARKUP_EVERY == 3 for number in range(args.comments)),
        lined_comments=sum(number % LINES_EVERY == 1 for number in range(args.comments)),
        body_lengths=(min(lengths, default=0), max(lengths, default=0)),
        ratings=ratings // 2,
        tags=tags // 2,
    )


SETUPS = ("sqlite", "postgresql")
"""SQLite alone (one file: the union index and every store); PostgreSQL for the stores, source records
included, beside Elasticsearch for the union index (the scaled-out setup)."""


@contextlib.contextmanager
def setup_settings(name: str, work: Path, es_url: str | None, pg_url: str | None) -> Iterator[Settings]:
    """The settings of a fresh, empty catalogue of setup ``name``, deleted afterwards."""
    if name == "sqlite":
        yield Settings(data_dir=work, engine_url=f"sqlite:///{work / 'readers.db'}")
        return
    assert es_url is not None and pg_url is not None
    settings = Settings(
        data_dir=work, engine_url=f"{es_url}/bench-readers-{uuid.uuid4().hex[:8]}", store_url=pg_url
    )
    try:
        yield settings
    finally:
        with open_index(settings) as index:
            drop = getattr(index, "delete_catalogue", None)
            if callable(drop):
                drop()


# -- the server -----------------------------------------------------------------------------------


def server_settings(pool: int | None) -> dict[str, int]:
    """The settings of the benchmark's server that are not the defaults (see :data:`POST_LIMIT`), and
    ``reader_pool_size`` (the web app's threads for the ports) when ``--pool`` gives it."""
    settings = {"post_limit_account": POST_LIMIT, "post_limit_address": POST_LIMIT}
    return settings if pool is None else {**settings, "reader_pool_size": pool}


# -- HTTP ----------------------------------------------------------------------------------------------


class Connection:
    """One keep-alive connection to the server, as one browser tab or one API client holds it."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port
        self._connection = self._open()

    def _open(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self._host, self._port, timeout=REQUEST_TIMEOUT)

    def request(
        self, method: str, path: str, headers: dict[str, str], body: bytes | None = None
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        """Send one request and read the whole answer; a dropped connection is opened again (once)."""
        for attempt in (1, 2):
            try:
                self._connection.request(method, path, body=body, headers=headers)
                response = self._connection.getresponse()
                return response.status, response.read(), response
            except (ConnectionError, http.client.RemoteDisconnected, http.client.BadStatusLine):
                self._connection.close()
                self._connection = self._open()
                if attempt == 2 or method != "GET":
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self._connection.close()


def session_cookie(reader: Reader) -> dict[str, str]:
    return {"Cookie": f"unicat_session={reader.token}"}


def me(connection: Connection, headers: dict[str, str]) -> tuple[dict[str, Any], http.client.HTTPResponse]:
    """``GET /api/me``: who the server takes the client for, and the CSRF token its changes send."""
    status, body, response = connection.request("GET", "/api/me", headers)
    if status != 200:
        raise CheckFailed(f"GET /api/me answered {status}")
    answer: dict[str, Any] = json.loads(body)
    return answer, response


def anonymous_cookie(connection: Connection) -> dict[str, str]:
    """The ``unicat_csrf`` cookie a browser keeps from its first page, sent back as a browser would."""
    answer, response = me(connection, {})
    if answer["user"] is not None:
        raise CheckFailed("a request without a cookie was taken as signed in")
    jar: http.cookies.SimpleCookie = http.cookies.SimpleCookie()
    for value in response.headers.get_all("Set-Cookie") or []:
        jar.load(value)
    if "unicat_csrf" not in jar:
        raise CheckFailed("the first anonymous answer set no unicat_csrf cookie")
    return {"Cookie": f"unicat_csrf={jar['unicat_csrf'].value}"}


def signed_in(connection: Connection, reader: Reader) -> str:
    """Check the server takes the session's cookie as ``reader``; returns its CSRF token."""
    answer, _ = me(connection, session_cookie(reader))
    if answer["user"] is None or answer["user"]["id"] != reader.user_id:
        raise CheckFailed(f"the session of {reader.display_name} is not signed in: {answer['user']!r}")
    return str(answer["csrf"])


# -- figure 1: the record page ------------------------------------------------------------------------


@dataclass
class PageCase:
    """One page as one viewer asks for it, and what its answers must hold."""

    name: str
    record: str
    comments: int
    headers: dict[str, str]
    signed_in: bool
    seconds: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    server_cpu: float = 0.0

    def check(self, status: int, body: bytes) -> None:
        if status != 200:
            raise CheckFailed(f"{self.name}: GET /record/{self.record} answered {status}")
        items = body.count(COMMENT_ITEM)
        if items != self.comments:
            raise CheckFailed(f"{self.name}: the page lists {items} comments, not {self.comments}")
        forms = sum(body.count(marker) for marker in COMMENT_FORMS)
        expected = self.comments if self.signed_in else 0
        if forms != expected:
            raise CheckFailed(f"{self.name}: {forms} edit or report forms, not {expected}")

    def fetch(self, connection: Connection) -> float:
        started = time.perf_counter()
        status, body, _ = connection.request("GET", f"/record/{self.record}", self.headers)
        seconds = time.perf_counter() - started
        self.check(status, body)
        self.sizes.append(len(body))
        return seconds

    def to_json(self) -> dict[str, Any]:
        requests = len(self.seconds)
        return {
            "record": self.record,
            "comments": self.comments,
            "signed_in": self.signed_in,
            "requests": requests,
            **latency_summary(self.seconds),
            "mean_ms": statistics.fmean(self.seconds) * 1000,
            "bytes": statistics.median(self.sizes),
            "bytes_min": min(self.sizes),
            "bytes_max": max(self.sizes),
            "server_cpu_ms_per_page": self.server_cpu / requests * 1000,
        }


def page_cases(catalogue: Catalogue, anonymous: dict[str, str]) -> list[PageCase]:
    viewer = session_cookie(catalogue.commenters[0])
    count = catalogue.comments
    return [
        PageCase(f"{count} comments, signed out", catalogue.target, count, anonymous, False),
        PageCase(f"{count} comments, signed in", catalogue.target, count, viewer, True),
        PageCase("0 comments, signed out", catalogue.twin, 0, anonymous, False),
        PageCase("0 comments, signed in", catalogue.twin, 0, viewer, True),
    ]


def time_pages(url: str, pid: int, catalogue: Catalogue, requests: int, warmup: int) -> list[PageCase]:
    """Every case ``warmup`` times untimed, then ``requests`` timed, in turns of :data:`TURN`."""
    connection = Connection(url)
    try:
        anonymous = anonymous_cookie(connection)
        signed_in(connection, catalogue.commenters[0])
        cases = page_cases(catalogue, anonymous)
        for case in cases:
            for _ in range(warmup):
                case.fetch(connection)
            case.sizes.clear()
        while any(len(case.seconds) < requests for case in cases):
            for case in cases:
                turn = min(TURN, requests - len(case.seconds))
                if turn <= 0:
                    continue
                cpu_before = cpu_seconds(pid)
                case.seconds.extend(case.fetch(connection) for _ in range(turn))
                case.server_cpu += cpu_seconds(pid) - cpu_before
    finally:
        connection.close()
    return cases


# -- figure 2: readers posting at once --------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """One comment a poster sent, and what the server answered."""

    poster: int
    user_id: int
    record: str
    body: str
    status: int
    seconds: float
    answer: dict[str, Any] | None = None
    error: str = ""


def poster_bodies(posters: int, posts: int, seed: int) -> list[list[str]]:
    """What each poster writes: comments as the commenters', each signed so that no two are equal."""
    rng = random.Random(f"posters/{seed}")
    return [
        [
            comment_body(rng, markup=post % MARKUP_EVERY == 3, lines=post % LINES_EVERY == 1)
            + f"\n\n— poster {poster + 1}, comment {post + 1}"
            for post in range(posts)
        ]
        for poster in range(posters)
    ]


def post_all(
    connection: Connection,
    number: int,
    reader: Reader,
    csrf: str,
    records: Sequence[str],
    bodies: Sequence[str],
    start: threading.Barrier,
) -> list[Post]:
    """One poster's comments, one after the other as fast as the server answers."""
    headers = {**session_cookie(reader), "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    posts = []
    start.wait()
    for index, body in enumerate(bodies):
        record = records[(number + index) % len(records)]
        payload = json.dumps({"body": body}).encode("utf-8")
        started = time.perf_counter()
        try:
            status, raw, _ = connection.request("POST", f"/api/records/{record}/comments", headers, payload)
        except (OSError, http.client.HTTPException) as exc:
            posts.append(
                Post(number, reader.user_id, record, body, 0, time.perf_counter() - started, error=repr(exc))
            )
            continue
        seconds = time.perf_counter() - started
        if status == 201:
            posts.append(Post(number, reader.user_id, record, body, status, seconds, json.loads(raw)))
        else:
            text = raw[:300].decode("utf-8", "replace")
            posts.append(Post(number, reader.user_id, record, body, status, seconds, error=text))
    return posts


@dataclass
class PostRun:
    posts: list[Post]
    seconds: float
    server_cpu: float
    node_cpu: float | None


def post_concurrently(
    url: str, pid: int, node: NodeCpu, catalogue: Catalogue, posts: int, seed: int
) -> PostRun:
    """Every poster in a thread of its own, all released at once; the run lasts until the last answer."""
    bodies = poster_bodies(len(catalogue.posters), posts, seed)
    connections = [Connection(url) for _ in catalogue.posters]
    # Each poster asks who it is first (GET /api/me): its connection is open and its CSRF token known.
    tokens = [
        signed_in(connection, reader)
        for connection, reader in zip(connections, catalogue.posters, strict=True)
    ]
    start = threading.Barrier(len(catalogue.posters) + 1)
    results: list[list[Post]] = [[] for _ in catalogue.posters]
    failures: list[BaseException] = []

    def run(number: int) -> None:
        try:
            results[number] = post_all(
                connections[number],
                number,
                catalogue.posters[number],
                tokens[number],
                catalogue.post_records,
                bodies[number],
                start,
            )
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(len(catalogue.posters))]
    for thread in threads:
        thread.start()
    cpu_before, node_before = cpu_seconds(pid), node.seconds()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - cpu_before
    node_after = node.seconds()
    for connection in connections:
        connection.close()
    if failures:
        raise failures[0]
    node_cpu = node_after - node_before if node_after is not None and node_before is not None else None
    return PostRun([post for batch in results for post in batch], seconds, server_cpu, node_cpu)


@dataclass(frozen=True)
class Verdict:
    """What the server answered compared with what the store holds and the pages list."""

    sent: int
    answered: int
    statuses: dict[str, int]
    server_errors: int
    stored: int
    duplicate_answered_ids: int
    duplicate_stored_ids: int
    missing: int
    unexpected: int
    altered: int
    pages_agree: bool

    @property
    def nothing_lost(self) -> bool:
        return (
            self.answered == self.sent == self.stored
            and self.server_errors == 0
            and self.duplicate_answered_ids == self.duplicate_stored_ids == 0
            and self.missing == self.unexpected == self.altered == 0
            and self.pages_agree
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "nothing_lost": self.nothing_lost}

    def line(self) -> str:
        if self.nothing_lost:
            return (
                f"the store holds {self.stored:,} comments on those records: the same "
                "(id, record, author, body) set as the 201 answers, no id twice, no 5xx, and their "
                "pages list them all: nothing lost"
            )
        return (
            f"LOST OR DOUBLED: {self.sent:,} sent, {self.answered:,} answered 201 (statuses "
            f"{self.statuses}), {self.server_errors} 5xx or dropped, {self.stored:,} stored; "
            f"{self.missing} answered but not stored, {self.unexpected} stored but never answered, "
            f"{self.altered} stored otherwise than sent, ids twice: {self.duplicate_answered_ids} "
            f"answered, {self.duplicate_stored_ids} stored; pages agree: {self.pages_agree}"
        )


Key = tuple[int, str, int, str]


def judge(posts: Sequence[Post], stored: Sequence[Comment], page_counts: dict[str, int]) -> Verdict:
    """Compare the 201 answers with the stored comments (``ContributionStore.comments_for`` over the records
    posted to) and with the comment items each record's page lists (``page_counts``)."""
    answered = [post for post in posts if post.status == 201 and post.answer is not None]
    answers: list[Key] = []
    altered = 0
    for post in answered:
        assert post.answer is not None
        answer = post.answer
        answers.append(
            (int(answer["id"]), str(answer["record"]), int(answer["user_id"]), str(answer["body"]))
        )
        if (answer["record"], answer["user_id"], answer["body"]) != (post.record, post.user_id, post.body):
            altered += 1
    kept: list[Key] = [(int(c.id or 0), c.record, c.user_id, c.body) for c in stored]
    by_record = Counter(comment.record for comment in stored)
    statuses = Counter(str(post.status) for post in posts)
    return Verdict(
        sent=len(posts),
        answered=len(answered),
        statuses=dict(sorted(statuses.items())),
        server_errors=sum(1 for post in posts if post.status >= 500 or post.status == 0),
        stored=len(stored),
        duplicate_answered_ids=len(answers) - len({key[0] for key in answers}),
        duplicate_stored_ids=len(kept) - len({key[0] for key in kept}),
        missing=len(set(answers) - set(kept)),
        unexpected=len(set(kept) - set(answers)),
        altered=altered,
        pages_agree=all(page_counts.get(record, -1) == count for record, count in by_record.items())
        and all(count == by_record.get(record, 0) for record, count in page_counts.items()),
    )


def page_counts(url: str, records: Sequence[str]) -> dict[str, int]:
    """How many comment items each record's page lists (signed out)."""
    connection = Connection(url)
    try:
        counts = {}
        for record in records:
            status, body, _ = connection.request("GET", f"/record/{record}", {})
            if status != 200:
                raise CheckFailed(f"GET /record/{record} answered {status} after the posts")
            counts[record] = body.count(COMMENT_ITEM)
        return counts
    finally:
        connection.close()


def posting_json(run: PostRun, verdict: Verdict, catalogue: Catalogue, posts: int) -> dict[str, Any]:
    latencies = [post.seconds for post in run.posts]
    return {
        "posters": len(catalogue.posters),
        "posts_per_poster": posts,
        "records": list(catalogue.post_records),
        "seconds": run.seconds,
        "comments_per_second": verdict.answered / run.seconds,
        "latency": {
            "p50_ms": percentile(latencies, 0.50) * 1000,
            "p95_ms": percentile(latencies, 0.95) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000,
            "max_ms": max(latencies) * 1000,
        },
        "server_cpu_share": run.server_cpu / run.seconds,
        "node_cpu_share": run.node_cpu / run.seconds if run.node_cpu is not None else None,
        "verdict": verdict.to_json(),
        "errors": sorted({f"{post.status} {post.error[:120]}" for post in run.posts if post.error})[:10],
    }


# -- one engine --------------------------------------------------------------------------------------


def run_engine(
    name: str,
    settings: Settings,
    args: argparse.Namespace,
    cores: tuple[int | None, int | None],
    es_url: str | None,
) -> dict[str, Any]:
    server_core, client_core = cores
    times = CallTimes()
    log(f"{name}: writing {args.records:,} union records, {args.commenters + args.posters} accounts and "
        f"{args.comments} comments…")  # fmt: skip
    started = time.perf_counter()
    catalogue = build(settings, args, times)
    log(f"{name}: catalogue ready in {time.perf_counter() - started:.1f}s")
    node = NodeCpu(es_url)
    with server(
        settings.engine_url, server_core, {**server_settings(args.pool), "store_url": settings.store_url}
    ) as served:
        log(f"{name}: timing the record pages ({args.requests} requests each after {args.warmup} warm-up)…")
        cases = time_pages(served.url, served.pid, catalogue, args.requests, args.warmup)
        log(f"{name}: {args.posters} posters × {args.posts} comments…")
        run = post_concurrently(served.url, served.pid, node, catalogue, args.posts, args.seed)
        counts = page_counts(served.url, catalogue.post_records)
    with open_catalogue(settings) as opened:
        stored = opened.contributions.comments_for(list(catalogue.post_records))
    verdict = judge(run.posts, stored, counts)
    return {
        "engine": name,
        "records": args.records,
        "reader_pool_size": server_settings(args.pool).get("reader_pool_size", Settings().reader_pool_size),
        "server_core": server_core,
        "client_core": client_core,
        "setup_engine_calls": times.summary(),
        "page": {
            "target": catalogue.target,
            "twin": catalogue.twin,
            "comments": catalogue.comments,
            "commenters": len(catalogue.commenters),
            "markup_comments": catalogue.markup_comments,
            "lined_comments": catalogue.lined_comments,
            "body_lengths": list(catalogue.body_lengths),
            "ratings": catalogue.ratings,
            "tags": catalogue.tags,
            "signed_in_as": catalogue.commenters[0].display_name,
            "warmup": args.warmup,
            "cases": {case.name: case.to_json() for case in cases},
        },
        "posting": posting_json(run, verdict, catalogue, args.posts),
    }


# -- the report ---------------------------------------------------------------------------------------


def format_engine(figures: dict[str, Any], es: str | None) -> str:
    page, posting = figures["page"], figures["posting"]
    where = (
        f"server process pinned to core {figures['server_core']}, client on core {figures['client_core']}"
        if figures["server_core"] is not None
        else "server and client unpinned (one core only)"
    )
    lines = [f"\n{figures['engine']}: {figures['records']:,} union records; {where}"]
    if es:
        lines.append(f"  Elasticsearch {es} runs on its own, unpinned")
    low, high = page["body_lengths"]
    lines.append(
        f"  record {page['target']}: {page['comments']} comments by {page['commenters']} readers "
        f"({low:,}–{high:,} characters, {page['markup_comments']} with markup, {page['lined_comments']} "
        f"with line breaks), {page['ratings']} ratings, {page['tags']} tags; its twin {page['twin']}: "
        "the same description, ratings and tags, no comment"
    )
    some = next(iter(page["cases"].values()))
    lines.append(
        f"  GET /record/{{id}}, {some['requests']} requests a case after {page['warmup']} warm-up, "
        f"sequential, one keep-alive connection; signed in as {page['signed_in_as']}"
    )
    lines.append(
        f"  {'page':<28}{'min':>7}{'p50':>7}{'p95':>7}{'p99':>7}{'max':>7} ms{'KiB':>8}{'server CPU ms':>15}"
    )
    for name, case in page["cases"].items():
        lines.append(
            f"  {name:<28}{case['min_ms']:>7.1f}{case['p50_ms']:>7.1f}{case['p95_ms']:>7.1f}"
            f"{case['p99_ms']:>7.1f}{case['max_ms']:>7.1f}   {case['bytes'] / 1024:>8.1f}"
            f"{case['server_cpu_ms_per_page']:>15.1f}"
        )
    cases = list(page["cases"].values())
    for full, bare, who in ((cases[0], cases[2], "signed out"), (cases[1], cases[3], "signed in")):
        lines.append(
            f"  {page['comments']} comments cost, {who}: p50 +{full['p50_ms'] - bare['p50_ms']:.1f} ms, "
            f"p95 +{full['p95_ms'] - bare['p95_ms']:.1f} ms, "
            f"+{(full['bytes'] - bare['bytes']) / 1024:.1f} KiB"
        )
    latency = posting["latency"]
    verdict = posting["verdict"]
    lines.append(
        f"  {posting['posters']} posters × {posting['posts_per_poster']} comments over "
        f"{len(posting['records'])} records (POST /api/records/{{id}}/comments, "
        "a keep-alive connection each):"
    )
    share = f", node CPU {posting['node_cpu_share']:.0%}" if posting["node_cpu_share"] is not None else ""
    lines.append(
        f"    {verdict['answered']:,} answered 201 in {posting['seconds']:.2f} s = "
        f"{posting['comments_per_second']:,.0f} comments/s; per request p50 {latency['p50_ms']:.1f} ms, "
        f"p95 {latency['p95_ms']:.1f} ms, max {latency['max_ms']:.1f} ms; server CPU "
        f"{posting['server_cpu_share']:.0%}{share}"
    )
    lines.append("    " + Verdict(**{k: v for k, v in verdict.items() if k != "nothing_lost"}).line())
    calls = ", ".join(
        f"{call} {item['median_ms']:.1f}/{item['max_ms']:.1f}"
        for call, item in figures["setup_engine_calls"].items()
    )
    lines.append(f"  set-up store calls in the benchmark process, ms median/max: {calls}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="union records (%(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--engines", default=",".join(SETUPS), help="sqlite (alone) and/or postgresql (+ Elasticsearch)"
    )
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--comments", type=int, default=DEFAULT_COMMENTS, help="on the record (%(default)s)")
    parser.add_argument(
        "--commenters", type=int, default=DEFAULT_COMMENTERS, help="who wrote them (%(default)s)"
    )
    parser.add_argument(
        "--requests", type=int, default=DEFAULT_REQUESTS, help="timed pages a case (%(default)s)"
    )
    parser.add_argument(
        "--warmup", type=int, default=DEFAULT_WARMUP, help="untimed pages a case (%(default)s)"
    )
    parser.add_argument(
        "--posters", type=int, default=DEFAULT_POSTERS, help="readers posting at once (%(default)s)"
    )
    parser.add_argument(
        "--posts", type=int, default=DEFAULT_POSTS, help="comments each poster sends (%(default)s)"
    )
    parser.add_argument(
        "--post-records", type=int, default=DEFAULT_POST_RECORDS, help="records posted to (%(default)s)"
    )
    parser.add_argument(
        "--pool",
        type=int,
        help="the server's reader_pool_size, its threads for the ports (default: the setting's)",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    engines = [name.strip() for name in args.engines.split(",") if name.strip()]
    if unknown := set(engines) - set(SETUPS):
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    if min(args.comments, args.commenters, args.requests, args.posters, args.posts, args.post_records) < 1:
        parser.error(
            "--comments, --commenters, --requests, --posters, --posts and --post-records must be ≥ 1"
        )
    if args.records < args.post_records + 1:
        parser.error("--records must exceed --post-records")
    quiet_logging()
    cores = pick_cores()
    described = machine()
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        es_url = stack.enter_context(elasticsearch(args.es_url)) if "postgresql" in engines else None
        pg_url = stack.enter_context(postgresql(args.pg_url)) if "postgresql" in engines else None
        es = es_version(es_url) if es_url else None
        print(f"Machine: {described.line()}" + (f"; Elasticsearch {es}" if es else ""), flush=True)
        print(
            f"Server settings: the defaults, but post_limit_account = post_limit_address = {POST_LIMIT:,} "
            "a post_window (60 s; defaults 10 and 60), so that no post is refused"
            + (f"; reader_pool_size = {args.pool}" if args.pool else ""),
            flush=True,
        )
        print(
            "Accounts and sessions are made in the store (one scrypt hash for every account, "
            "new_session + save_session); nothing signs in over HTTP",
            flush=True,
        )
        for name in engines:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-bench-readers-")))
            with setup_settings(name, work, es_url, pg_url) as settings, client_on(cores[1]):
                figures = run_engine(name, settings, args, cores, es_url if name == "postgresql" else None)
            results.append(figures)
            print(format_engine(figures, es if name == "postgresql" else None), flush=True)
    if args.json:
        document = {
            "machine": asdict(described),
            "elasticsearch": es,
            "post_limit": POST_LIMIT,
            "accounts": "created in the store, one scrypt hash, sessions by new_session + save_session",
            "engines": results,
        }
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    lost = [figures["engine"] for figures in results if not figures["posting"]["verdict"]["nothing_lost"]]
    if lost:
        print(f"\nComments lost or doubled on: {', '.join(lost)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
