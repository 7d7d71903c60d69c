"""The inter-library shuttle under load (issue 23): patrons placing and cancelling requests while the
librarians of every library work through their desks, for a minute, on each storage setup.

Run from the repository root::

    .venv/bin/python bench/shuttle.py [--seconds 60] [--patrons 50] [--setups sqlite,postgresql]

For each setup:

1. **Catalogue.** ``--records`` union records of :mod:`bench.corpus`, their holdings replaced by copies
   at two to four of the :data:`LIBRARIES` (ten libraries of the shuttle with their coordinates), each
   copy ``available`` or ``on_loan`` and at least one available, so that every record can be routed.
   The libraries are stored in the directory (``Catalogue.libraries``). ``--patrons`` patrons, each
   with a home library (in turn), and one librarian per library are created in the account store with
   one scrypt hash computed once, each with a session made by ``unicat.accounts.new_session``: nothing
   signs in over HTTP, so no figure includes scrypt.
2. **Server.** The real application (``unicat serve``, run by :func:`bench.served.server`) pinned to one
   core, sending its e-mails to a real SMTP server on loopback (``tests.support.smtp_server``, aiosmtpd)
   that keeps every message it receives. The posting rate limits are raised to
   :data:`bench.readers.POST_LIMIT` (one address places every request), the sender looks at the outbox
   every second; every other setting, the shuttle's limits included, is the default.
3. **A minute of work.** Every patron and every librarian is a thread of its own with its own keep-alive
   connection, all released at once for ``--seconds``. A patron, after a pause of up to twice
   ``--think`` seconds, places a request for a random record (``POST /api/requests``, to their home
   library), looks at their requests (``GET /api/requests``) or cancels one still placed or accepted
   (``POST /api/requests/{id}/cancel`` with the version seen); told they have as many requests under
   way as allowed (a 409), they look at their requests next. A librarian polls one list of their desk
   after another (``GET /api/requests?library=…&side=…&state=…``) and moves the first
   :data:`DESK_BATCH` requests of it on, with the version listed: accepts (or, one time in
   :data:`REFUSE_EVERY`, refuses) what is placed, sends what is accepted; at the pickup library marks
   arrived what is sent, collected what arrived; returns what was collected (both libraries'
   librarians may, so they race). A 409 is an answer the rule book gives (a request changed since it
   was listed, a limit reached): counted, not an error.
4. **Verdict.** After the run, the outbox is left to drain (given up after ``--drain`` seconds in which
   no message left it). Then the requests the server answered 201 for are compared with the requests
   stored (``ShuttleStore.iter_requests``): the same ids, none twice; the events stored with the
   successful changes (one "place" event per request, one per 200 answer); each request's stored
   version and state with the last answer about it; the e-mails the outbox holds, by kind and state,
   with those the SMTP server received: every one sent, none failed or left waiting, no Message-ID
   twice, the same (recipient, subject) pairs as many times. Any 5xx or dropped connection counts as a
   failure. The exit status is 1 if anything was lost, doubled or failed.

``bench/README.md`` says what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import http.client
import json
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.corpus import DEFAULT_SEED, union_records  # noqa: E402
from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.readers import (  # noqa: E402
    POST_LIMIT,
    CheckFailed,
    Connection,
    Reader,
    display_name,
    latency_summary,
    log,
    session_cookie,
    signed_in,
)
from bench.served import client_on, cpu_seconds, pick_cores, postgresql, server  # noqa: E402
from unicat.accounts import Role, User, hash_password, new_session  # noqa: E402
from unicat.libraries import Library  # noqa: E402
from unicat.model import Holding, UnionRecord  # noqa: E402
from unicat.outbox import Message  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat.shuttle import Event, Request  # noqa: E402
from unicat.union_generation import write_union_generation  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_RECORDS = 2_000
DEFAULT_PATRONS = 50
DEFAULT_SECONDS = 60.0
DEFAULT_THINK = 0.5
DEFAULT_DRAIN = 60.0
SETUPS = ("sqlite", "postgresql")
"""SQLite alone (one file: the union index and every store); PostgreSQL for the stores (requests, their
events, the outbox, accounts) beside the SQLite union index: the shuttle's work is all in the stores."""

LIBRARIES = (
    ("LYON", "Bibliothèque municipale de Lyon", "Lyon", 45.7630, 4.8270),
    ("VILLEU", "Médiathèque de Villeurbanne", "Villeurbanne", 45.7665, 4.8795),
    ("STETI", "Médiathèque de Saint-Étienne", "Saint-Étienne", 45.4397, 4.3872),
    ("GRENO", "Bibliothèque d'études de Grenoble", "Grenoble", 45.1885, 5.7245),
    ("ANNECY", "Bibliothèque Bonlieu", "Annecy", 45.9010, 6.1290),
    ("CHAMB", "Médiathèque Jean-Jacques Rousseau", "Chambéry", 45.5646, 5.9178),
    ("VALENCE", "Médiathèque publique de Valence", "Valence", 44.9334, 4.8924),
    ("BOURG", "Médiathèque Vailland", "Bourg-en-Bresse", 46.2052, 5.2255),
    ("ROANNE", "Médiathèque de Roanne", "Roanne", 46.0340, 4.0680),
    ("MACON", "Médiathèque de Mâcon", "Mâcon", 46.3069, 4.8287),
)  # fmt: skip
"""The shuttle's libraries: code, name, city, latitude, longitude (one region, so distances tie-break)."""
AVAILABLE_SHARE = 0.8
"""A copy is available this often, else on loan."""
REFUSE_EVERY = 10
"""A librarian refuses one placed request in this many (the request then moves on to the next library)."""
DESK_BATCH = 10
"""Requests a librarian moves on from one list before polling the next."""
PATRON_ACTIONS: tuple[tuple[str, float], ...] = (("place", 0.6), ("list", 0.25), ("cancel", 0.15))
"""What a patron does next, and how often."""
DESK: tuple[tuple[str, str, str], ...] = (
    ("holder", "placed", "accept"),
    ("holder", "accepted", "send"),
    ("pickup", "sent", "arrive"),
    ("pickup", "arrived", "collect"),
    ("pickup", "collected", "return"),
    ("holder", "collected", "return"),
)
"""The lists of a desk a librarian polls in turn, and what they do to each request listed."""
PASSWORD = "bench shuttle password"
MAIL_FROM = "navette@bench.unicat.local"
MAIL_POLL = 1.0
"""``mail_poll_interval`` of the benchmark's server: the sender also wakes at once when a page stores a
message, so this only bounds how long a message stored by another path waits."""


# -- the catalogue ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Staff(Reader):
    """A librarian: a reader who works at ``library``."""

    library: str = ""


@dataclass(frozen=True)
class Network:
    """What the benchmark made: the records patrons ask for, patrons (with home libraries), librarians."""

    records: tuple[str, ...]
    patrons: tuple[Reader, ...]
    homes: tuple[str, ...]
    librarians: tuple[Staff, ...]
    copies: int
    available_copies: int


def libraries() -> list[Library]:
    """The directory's entries, each with an address: a library is written to when it is asked to lend."""
    return [
        Library(
            code,
            name,
            city=city,
            country="FR",
            latitude=lat,
            longitude=lon,
            email=f"{code.lower()}@bench.unicat.local",
            shuttle=True,
        )
        for code, name, city, lat, lon in LIBRARIES
    ]


def held(record: UnionRecord, rng: random.Random) -> UnionRecord:
    """``record`` held at two to four of the libraries, one copy at least available."""
    chosen = rng.sample(LIBRARIES, rng.randint(2, 4))
    statuses = ["available" if rng.random() < AVAILABLE_SHARE else "on_loan" for _ in chosen]
    if "available" not in statuses:
        statuses[0] = "available"
    holdings = [
        Holding(code.lower(), name, call_number=f"{code}-{number}", status=status, site=code)
        for number, ((code, name, *_), status) in enumerate(zip(chosen, statuses, strict=True))
    ]
    return dataclasses.replace(record, holdings=holdings)


def account(store: Any, kind: str, number: int, password_hash: str, role: Role, library: str) -> User:
    user: User = store.create_user(
        User(
            email=f"{kind}{number:03d}@bench.unicat.local",
            display_name=display_name(number),
            password_hash=password_hash,
            role=role,
            library=library,
        )
    )
    return user


def session(store: Any, user: User) -> str:
    assert user.id is not None
    token, made = new_session(user.id)
    store.save_session(made)
    return token


def build(settings: Settings, args: argparse.Namespace) -> Network:
    """The records, the directory, the patrons and the librarians (none of it timed)."""
    rng = random.Random(f"shuttle/{args.seed}")
    corpus = [held(record, rng) for record in union_records(args.records, args.seed)]
    password_hash = hash_password(PASSWORD)
    codes = [code for code, *_ in LIBRARIES]
    with open_catalogue(settings) as opened:
        opened.libraries.put_libraries(libraries())
        written = write_union_generation(opened.records, opened.index, corpus, {})
        if written != len(corpus):
            raise CheckFailed(f"only {written} of {len(corpus)} union records were written")
        accounts = opened.accounts
        patrons, homes = [], []
        for number in range(args.patrons):
            home = codes[number % len(codes)]
            user = account(accounts, "patron", number, password_hash, "patron", home)
            assert user.id is not None
            patrons.append(Reader(user.id, user.display_name, session(accounts, user)))
            homes.append(home)
        librarians = []
        for number, code in enumerate(codes):
            user = account(accounts, "librarian", number, password_hash, "librarian", code)
            assert user.id is not None
            librarians.append(Staff(user.id, user.display_name, session(accounts, user), code))
    copies = [holding for record in corpus for holding in record.holdings]
    return Network(
        records=tuple(record.id for record in corpus),
        patrons=tuple(patrons),
        homes=tuple(homes),
        librarians=tuple(librarians),
        copies=len(copies),
        available_copies=sum(holding.status == "available" for holding in copies),
    )


@contextlib.contextmanager
def setup_settings(name: str, work: Path, pg_url: str | None) -> Iterator[Settings]:
    """The settings of a fresh, empty catalogue of setup ``name`` (its files deleted with ``work``)."""
    engine_url = f"sqlite:///{work / 'shuttle.db'}"
    if name == "sqlite":
        yield Settings(data_dir=work, engine_url=engine_url)
        return
    assert pg_url is not None
    yield Settings(data_dir=work, engine_url=engine_url, store_url=pg_url)


def server_settings(settings: Settings, smtp_port: int) -> dict[str, Any]:
    """The settings of the benchmark's server that are not the defaults."""
    return {
        "store_url": settings.store_url,
        "post_limit_account": POST_LIMIT,
        "post_limit_address": POST_LIMIT,
        "smtp_host": "127.0.0.1",
        "smtp_port": smtp_port,
        "smtp_security": "none",
        "mail_from": MAIL_FROM,
        "site_url": "http://catalogue.bench.unicat.local",
        "mail_poll_interval": MAIL_POLL,
    }


# -- the people at work -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One call and what the server answered; ``body`` is the request it answered with, if any."""

    action: str
    status: int
    seconds: float
    request_id: int | None = None
    body: dict[str, Any] | None = None
    error: str = ""


class Caller:
    """One person's keep-alive connection and what it was answered."""

    def __init__(self, url: str, person: Reader) -> None:
        self.connection = Connection(url)
        csrf = signed_in(self.connection, person)
        self.headers = {**session_cookie(person), "X-CSRF-Token": csrf, "Content-Type": "application/json"}
        self.answers: list[Answer] = []

    def call(
        self,
        action: str,
        method: str,
        path: str,
        payload: dict[str, Any] | None = None,
        request_id: int | None = None,
    ) -> tuple[int, Any]:
        data = json.dumps(payload).encode("utf-8") if payload is not None else None
        started = time.perf_counter()
        try:
            status, raw, _ = self.connection.request(method, path, self.headers, data)
        except (OSError, http.client.HTTPException) as exc:
            self.answers.append(Answer(action, 0, time.perf_counter() - started, request_id, error=repr(exc)))
            return 0, None
        seconds = time.perf_counter() - started
        decoded = json.loads(raw) if raw and status < 500 else None
        if 200 <= status < 300 and isinstance(decoded, dict) and "state" in decoded:
            self.answers.append(Answer(action, status, seconds, int(decoded["id"]), decoded))
        elif isinstance(decoded, dict) and isinstance(decoded.get("error"), dict):
            error = str(decoded["error"].get("message", ""))
            self.answers.append(Answer(action, status, seconds, request_id, error=error))
        else:
            error = "" if status < 300 else raw[:300].decode("utf-8", "replace")
            self.answers.append(Answer(action, status, seconds, request_id, error=error))
        return status, decoded

    def act(self, request: dict[str, Any], action: str, reason: str = "") -> None:
        payload: dict[str, Any] = {"version": request["version"]}
        if reason:
            payload["reason"] = reason
        self.call(action, "POST", f"/api/requests/{request['id']}/{action}", payload, int(request["id"]))


def patron_works(
    caller: Caller, records: Sequence[str], rng: random.Random, think: float, until: float
) -> None:
    """Place, look, cancel, with pauses, until ``until``."""
    mine: list[dict[str, Any]] = []
    names = [name for name, _ in PATRON_ACTIONS]
    weights = [weight for _, weight in PATRON_ACTIONS]
    refused = False
    while time.perf_counter() < until:
        time.sleep(rng.uniform(0, 2 * think))
        # Told they have as many requests under way as allowed, a patron looks at them next.
        choice = "list" if refused else rng.choices(names, weights)[0]
        refused = False
        cancellable = [request for request in mine if request["state"] in ("placed", "accepted")]
        if choice == "cancel" and cancellable:
            caller.act(rng.choice(cancellable), "cancel")
            mine = [request for request in mine if request not in cancellable]
        elif choice == "list":
            status, answer = caller.call("list own", "GET", "/api/requests")
            if status == 200:
                mine = answer["requests"]
        else:
            status, _ = caller.call("place", "POST", "/api/requests", {"record": rng.choice(records)})
            refused = status == 409


def librarian_works(caller: Caller, library: str, rng: random.Random, think: float, until: float) -> None:
    """Poll each list of the desk in turn and move its first requests on, with pauses, until ``until``."""
    turn = rng.randrange(len(DESK))
    while time.perf_counter() < until:
        time.sleep(rng.uniform(0, 2 * think))
        side, state, action = DESK[turn % len(DESK)]
        turn += 1
        status, answer = caller.call(
            "poll desk", "GET", f"/api/requests?library={library}&side={side}&state={state}"
        )
        if status != 200:
            continue
        for request in answer["requests"][:DESK_BATCH]:
            if action == "accept" and rng.randrange(REFUSE_EVERY) == 0:
                caller.act(request, "refuse", "the copy is not on the shelf")
            else:
                caller.act(request, action)


@dataclass
class Run:
    answers: list[Answer]
    seconds: float
    server_cpu: float


def work_together(url: str, pid: int, network: Network, args: argparse.Namespace) -> Run:
    """Every patron and librarian in a thread of its own, all released at once for ``args.seconds``."""
    patrons = [Caller(url, patron) for patron in network.patrons]
    librarians = [Caller(url, librarian) for librarian in network.librarians]
    start = threading.Barrier(len(patrons) + len(librarians) + 1)
    failures: list[BaseException] = []
    until = [0.0]

    def run(number: int) -> None:
        rng = random.Random(f"shuttle/{args.seed}/{number}")
        try:
            start.wait()
            if number < len(patrons):
                patron_works(patrons[number], network.records, rng, args.think, until[0])
            else:
                librarian = number - len(patrons)
                staff = network.librarians[librarian]
                librarian_works(librarians[librarian], staff.library, rng, args.think, until[0])
        except BaseException as exc:
            failures.append(exc)
            start.abort()

    threads = [
        threading.Thread(target=run, args=(number,)) for number in range(len(patrons) + len(librarians))
    ]
    for thread in threads:
        thread.start()
    cpu_before = cpu_seconds(pid)
    started = time.perf_counter()
    until[0] = started + args.seconds
    start.wait()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    server_cpu = cpu_seconds(pid) - cpu_before
    for caller in (*patrons, *librarians):
        caller.connection.close()
    if failures:
        raise failures[0]
    return Run(
        [answer for caller in (*patrons, *librarians) for answer in caller.answers], seconds, server_cpu
    )


# -- the verdict ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What the server answered compared with what the stores hold and the SMTP server received."""

    placed: int
    changes: int
    conflicts: int
    statuses: dict[str, int]
    server_errors: int
    stored_requests: int
    missing_requests: int
    unexpected_requests: int
    duplicate_request_ids: int
    stored_events: int
    expected_events: int
    disagreeing_requests: int
    """Stored requests whose version or state is not that of the last answer about them."""
    mail_by_kind: dict[str, int]
    mail_by_state: dict[str, int]
    mail_received: int
    duplicate_message_ids: int
    mail_unmatched: int
    """(recipient, subject) pairs sent by the outbox and received a different number of times."""

    @property
    def nothing_lost(self) -> bool:
        waiting = sum(n for state, n in self.mail_by_state.items() if state != "sent")
        return (
            self.server_errors == 0
            and self.stored_requests == self.placed
            and self.missing_requests == self.unexpected_requests == self.duplicate_request_ids == 0
            and self.stored_events == self.expected_events
            and self.disagreeing_requests == 0
            and waiting == 0
            and self.mail_received == self.mail_by_state.get("sent", 0)
            and self.duplicate_message_ids == self.mail_unmatched == 0
        )

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "nothing_lost": self.nothing_lost}

    def lines(self) -> list[str]:
        kinds = ", ".join(f"{kind} {count:,}" for kind, count in self.mail_by_kind.items()) or "none enqueued"
        states = ", ".join(f"{state} {count:,}" for state, count in self.mail_by_state.items() if count)
        lines = [
            f"requests: {self.placed:,} answered 201, {self.stored_requests:,} stored "
            f"({self.missing_requests} missing, {self.unexpected_requests} never answered, "
            f"{self.duplicate_request_ids} ids twice)",
            f"events: {self.stored_events:,} stored for {self.expected_events:,} successful places and "
            f"changes ({self.changes:,} changes); {self.disagreeing_requests} requests whose stored version "
            f"or state differs from the last answer",
            f"answers: {self.statuses}; {self.conflicts:,} conflicts (409), "
            f"{self.server_errors} 5xx or dropped",
            f"e-mails: {sum(self.mail_by_kind.values()):,} enqueued ({kinds}; {states or 'none'}), "
            f"{self.mail_received:,} received by the SMTP server, {self.duplicate_message_ids} Message-IDs "
            f"twice, {self.mail_unmatched} (recipient, subject) pairs received otherwise than sent",
        ]
        lines.append("nothing lost, nothing doubled" if self.nothing_lost else "LOST, DOUBLED OR FAILED")
        return lines


def judge(
    answers: Sequence[Answer],
    requests: Sequence[Request],
    events: Sequence[Event],
    messages: Sequence[Message],
    received: Sequence[tuple[str, str, str]],
) -> Verdict:
    """Compare the answers with the stored requests and events, and the outbox with the e-mails the SMTP
    server received (``received``: Message-ID, recipient, subject of each)."""
    placed = [answer for answer in answers if answer.action == "place" and answer.status == 201]
    changed = [
        answer
        for answer in answers
        if answer.action not in ("place", "list own", "poll desk") and answer.status == 200
    ]
    answered_ids = [answer.request_id for answer in placed]
    stored_ids = [request.id for request in requests]
    # The last answer about each request: the one with its highest version.
    last: dict[int, dict[str, Any]] = {}
    for answer in (*placed, *changed):
        assert answer.request_id is not None and answer.body is not None
        seen = last.get(answer.request_id)
        if seen is None or answer.body["version"] > seen["version"]:
            last[answer.request_id] = answer.body
    disagreeing = sum(
        1
        for request in requests
        if request.id in last
        and (request.version, request.state) != (last[request.id]["version"], last[request.id]["state"])
    )
    sent = Counter((message.recipient, message.subject) for message in messages if message.state == "sent")
    got = Counter((recipient, subject) for _, recipient, subject in received)
    message_ids = Counter(message_id for message_id, _, _ in received)
    return Verdict(
        placed=len(placed),
        changes=len(changed),
        conflicts=sum(1 for answer in answers if answer.status == 409),
        statuses=dict(sorted(Counter(str(answer.status) for answer in answers).items())),
        server_errors=sum(1 for answer in answers if answer.status >= 500 or answer.status == 0),
        stored_requests=len(requests),
        missing_requests=len(set(answered_ids) - set(stored_ids)),
        unexpected_requests=len(set(stored_ids) - set(answered_ids)),
        duplicate_request_ids=len(stored_ids) - len(set(stored_ids)),
        stored_events=len(events),
        expected_events=len(placed) + len(changed),
        disagreeing_requests=disagreeing,
        mail_by_kind=dict(sorted(Counter(message.kind for message in messages).items())),
        mail_by_state=dict(sorted(Counter(message.state for message in messages).items())),
        mail_received=len(received),
        duplicate_message_ids=sum(count - 1 for count in message_ids.values() if count > 1),
        mail_unmatched=sum(1 for pair in sent.keys() | got.keys() if sent[pair] != got[pair]),
    )


def drain(settings: Settings, stall: float) -> float:
    """Wait until the outbox has nothing queued or being sent, or nothing has left it for ``stall``
    seconds (a minute of requests may leave thousands of messages: the sender's pace is a figure, a
    sender that stopped is a failure); how long it took."""
    started = progressed = time.perf_counter()
    waiting = None
    with open_catalogue(settings) as opened:
        while time.perf_counter() - progressed < stall:
            counts = opened.outbox.counts()
            now = counts["queued"] + counts["sending"]
            if now == 0:
                break
            if waiting is None or now < waiting:
                waiting, progressed = now, time.perf_counter()
            time.sleep(0.5)
    return time.perf_counter() - started


def conflict_reasons(answers: Sequence[Answer]) -> dict[str, int]:
    """Why the 409s were given, by action and message, numbers blanked ("Request N was sent; …")."""
    reasons = Counter(
        f"{answer.action}: {re.sub(r'[0-9]+', 'N', answer.error)[:140]}"
        for answer in answers
        if answer.status == 409
    )
    return dict(reasons.most_common())


def per_action(answers: Sequence[Answer]) -> dict[str, dict[str, Any]]:
    by_action: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        by_action[answer.action].append(answer)
    return {
        action: {
            "calls": len(done),
            "statuses": dict(sorted(Counter(str(answer.status) for answer in done).items())),
            **latency_summary([answer.seconds for answer in done]),
        }
        for action, done in sorted(by_action.items())
    }


# -- one setup --------------------------------------------------------------------------------------------


def run_setup(
    name: str, settings: Settings, args: argparse.Namespace, cores: tuple[int | None, int | None]
) -> dict[str, Any]:
    from tests.support.smtp_server import smtp_server

    server_core, client_core = cores
    log(
        f"{name}: writing {args.records:,} union records, {len(LIBRARIES)} libraries, {args.patrons} patrons…"
    )
    started = time.perf_counter()
    network = build(settings, args)
    log(f"{name}: catalogue ready in {time.perf_counter() - started:.1f}s")
    with smtp_server() as mailbox:
        with server(settings.engine_url, server_core, server_settings(settings, mailbox.port)) as served:
            log(
                f"{name}: {args.patrons} patrons and {len(network.librarians)} librarians "
                f"for {args.seconds:g} s…"
            )
            run = work_together(served.url, served.pid, network, args)
            log(f"{name}: letting the outbox drain…")
            drained = drain(settings, args.drain)
        received = [(str(m["Message-ID"]), str(m["To"]), str(m["Subject"])) for m in mailbox.messages]
    with open_catalogue(settings) as opened:
        requests = list(opened.shuttle.iter_requests())
        events = list(opened.shuttle.iter_events())
        messages = list(opened.outbox.iter_messages())
    verdict = judge(run.answers, requests, events, messages, received)
    return {
        "setup": name,
        "records": args.records,
        "libraries": len(LIBRARIES),
        "copies": network.copies,
        "available_copies": network.available_copies,
        "patrons": len(network.patrons),
        "librarians": len(network.librarians),
        "think_s": args.think,
        "server_core": server_core,
        "client_core": client_core,
        "seconds": run.seconds,
        "server_cpu_share": run.server_cpu / run.seconds,
        "calls_per_second": len(run.answers) / run.seconds,
        "drain_s": drained,
        "actions": per_action(run.answers),
        "conflicts": conflict_reasons(run.answers),
        "final_states": dict(sorted(Counter(request.state for request in requests).items())),
        "verdict": verdict.to_json(),
        "errors": sorted(
            {
                f"{a.action} {a.status} {a.error[:120]}"
                for a in run.answers
                if a.status >= 500 or a.status == 0
            }
        )[:10],
    }


def format_setup(figures: dict[str, Any]) -> str:
    where = (
        f"server pinned to core {figures['server_core']}, client on core {figures['client_core']}"
        if figures["server_core"] is not None
        else "server and client unpinned (one core only)"
    )
    lines = [
        f"\n{figures['setup']}: {figures['records']:,} union records, {figures['copies']:,} copies at "
        f"{figures['libraries']} libraries ({figures['available_copies']:,} available); {where}",
        f"  {figures['patrons']} patrons and {figures['librarians']} librarians "
        f"for {figures['seconds']:.1f} s "
        f"(pauses of up to {2 * figures['think_s']:g} s): {figures['calls_per_second']:,.0f} calls/s, "
        f"server CPU {figures['server_cpu_share']:.0%}; outbox drained {figures['drain_s']:.1f} s after",
        f"  {'action':<12}{'calls':>7}{'p50':>8}{'p95':>8}{'max':>8} ms  statuses",
    ]
    for action, item in figures["actions"].items():
        statuses = ", ".join(f"{status}: {count:,}" for status, count in item["statuses"].items())
        lines.append(
            f"  {action:<12}{item['calls']:>7,}{item['p50_ms']:>8.1f}{item['p95_ms']:>8.1f}"
            f"{item['max_ms']:>8.1f}"
            f"     {statuses}"
        )
    lines.extend(f"  409 {count:>6,} × {reason}" for reason, count in figures["conflicts"].items())
    states = ", ".join(f"{state} {count:,}" for state, count in figures["final_states"].items())
    lines.append(f"  requests at the end: {states}")
    verdict = figures["verdict"]
    fields = {key: value for key, value in verdict.items() if key != "nothing_lost"}
    lines.extend(f"  {line}" for line in Verdict(**fields).lines())
    lines.extend(f"  error: {error}" for error in figures["errors"])
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="union records (%(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--setups", default=",".join(SETUPS), help="sqlite and/or postgresql (%(default)s)")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--patrons", type=int, default=DEFAULT_PATRONS, help="patrons at once (%(default)s)")
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="of work (%(default)s)")
    parser.add_argument(
        "--think", type=float, default=DEFAULT_THINK, help="mean pause between one's actions, s (%(default)s)"
    )
    parser.add_argument(
        "--drain",
        type=float,
        default=DEFAULT_DRAIN,
        help="give up on the outbox after this long without a message sent, s (%(default)s)",
    )
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    setups = [name.strip() for name in args.setups.split(",") if name.strip()]
    if unknown := set(setups) - set(SETUPS):
        parser.error(f"unknown setups: {', '.join(sorted(unknown))}; use sqlite and/or postgresql")
    if min(args.records, args.patrons) < 1 or min(args.seconds, args.drain) <= 0 or args.think < 0:
        parser.error("--records and --patrons must be ≥ 1, --seconds and --drain > 0, --think ≥ 0")
    quiet_logging()
    cores = pick_cores()
    described = machine()
    results: list[dict[str, Any]] = []
    with contextlib.ExitStack() as stack:
        pg_url = stack.enter_context(postgresql(args.pg_url)) if "postgresql" in setups else None
        print(f"Machine: {described.line()}", flush=True)
        print(
            f"Server settings: the defaults (the shuttle's limits included), but post_limit_account = "
            f"post_limit_address = {POST_LIMIT:,}, mail_poll_interval = {MAIL_POLL:g} s, and SMTP to a "
            "server on loopback; accounts and sessions made in the store (no scrypt timed)",
            flush=True,
        )
        for name in setups:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-bench-shuttle-")))
            with setup_settings(name, work, pg_url) as settings, client_on(cores[1]):
                figures = run_setup(name, settings, args, cores)
            results.append(figures)
            print(format_setup(figures), flush=True)
    if args.json:
        document = {"machine": asdict(described), "post_limit": POST_LIMIT, "setups": results}
        args.json.write_text(json.dumps(document, indent=2, ensure_ascii=False), encoding="utf-8")
    failed = [figures["setup"] for figures in results if not figures["verdict"]["nothing_lost"]]
    if failed:
        print(f"\nRequests, events or e-mails lost, doubled or failed on: {', '.join(failed)}", flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
