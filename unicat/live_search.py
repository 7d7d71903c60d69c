"""Live targets and what asking them at search time yields: the types the federated search, the
indexer's reading of live records and the web app share.

A *live target* is a catalogue the network searches at query time instead of harvesting it: a library
system that offers only Z39.50 or SRU, or a neighbour's catalogue the network does not copy. It is
configured like a source (``unicat target add``), and its records are read with the same decoding,
profiles and deduplication as harvested ones; nothing it answers is stored unless a librarian imports it.

The stages meet here and never import each other: ``federated/`` asks the targets (Z39.50 through YAZ's
ZOOM C library, SRU over HTTP) and hands the raw records to a :class:`LiveRecordReader`; the indexer
implements the reader and the :class:`LiveMerger` (the same parsing and clustering as ``unicat index``);
the composition root wires them and hands the web app the result.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from unicat.errors import BadParameter
from unicat.model import Holding, Profile, RecordSyntax, UnionRecord
from unicat.query import FacetCount, SearchQuery

LiveProtocol = Literal["sru", "z3950"]
LIVE_PROTOCOLS: tuple[LiveProtocol, ...] = ("sru", "z3950")

QUERY_MAP_FIELDS: tuple[str, ...] = (
    "any", "title", "author", "subject", "ident", "publisher", "series", "year",
)  # fmt: skip
"""The search fields a target's query map can name (:data:`unicat.query.SEARCH_FIELDS` and ``year``);
``ident`` is ISBN, ISSN and system numbers. A field a target does not map is searched as ``any``."""

DEFAULT_TIMEOUT = 10.0
"""Seconds a target has, by default, to answer a search with its records."""
MAX_TIMEOUT = 120.0
DEFAULT_MAX_RECORDS = 20
"""Records fetched from a target per search, by default (a page of results)."""
MAX_RECORDS = 100

_Z3950_ADDRESS_RE = re.compile(
    r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(?P<port>[0-9]{1,5})/(?P<database>\S+)$"
)


@dataclass(frozen=True, slots=True)
class LiveTarget:
    """A catalogue searched live, as the librarian configured it.

    ``address`` is an SRU base URL (``https://host/sru``) or a Z39.50 ``host:port/database``.
    ``record_syntax`` is what to ask for: for Z39.50 a preferred record syntax (``usmarc``, ``marc21``,
    ``unimarc``, ``xml``), for SRU a record schema (``marcxml``). ``charset`` names the records'
    character set when the server sends them in one the decoder cannot tell on its own (YAZ's names:
    ``marc8``, ``iso-8859-1``…): the records are converted to UTF-8 before they are read; ``None`` reads
    them as harvested records are read (UTF-8 or MARC-8 by the leader, else guessed). ``query_map``
    overrides the protocol's default index for some fields (:data:`QUERY_MAP_FIELDS`): a CQL index
    (``dc.title``) for SRU, Bib-1 attributes (``@attr 1=4``) for Z39.50. ``libraries`` are the codes of
    the network's libraries the target stands for: its hits are held there. ``created`` and
    ``updated`` are the stored target's times (``None`` before it is stored; not compared: they say
    when, not what).
    """

    code: str
    name: str
    protocol: LiveProtocol
    address: str
    record_syntax: str = "marc21"
    profile: Profile = "marc21"
    charset: str | None = None
    query_map: Mapping[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    libraries: tuple[str, ...] = ()
    max_records: int = DEFAULT_MAX_RECORDS
    enabled: bool = True
    created: str | None = field(default=None, compare=False)
    updated: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Z3950Address:
    host: str
    port: int
    database: str


def parse_z3950_address(address: str) -> Z3950Address:
    """``host:port/database`` (an IPv6 host in brackets), or :class:`BadParameter` saying the form."""
    match = _Z3950_ADDRESS_RE.match(address.strip())
    port = int(match.group("port")) if match else 0
    if match is None or not 0 < port < 65536:
        raise BadParameter(
            "z3950", f"use host:port/database (e.g. z3950.example.org:210/books), got {address!r}"
        )
    return Z3950Address(match.group("host").strip("[]"), port, match.group("database"))


@dataclass(frozen=True, slots=True)
class RawLiveRecord:
    """One record a target answered, as it came: ``position`` is its rank in the target's answer (from 1);
    ``local_id`` the identifier the server gave it, when it gave one."""

    target: str
    position: int
    data: bytes
    syntax: RecordSyntax
    local_id: str | None = None


@dataclass(slots=True)
class TargetAnswer:
    """A target's answer to one search: how many records it says match, and those it sent;
    ``skipped`` counts the positions asked for that came without a usable record (the server sent a
    diagnostic in the record's place, or a record the client cannot render)."""

    total: int
    records: list[RawLiveRecord] = field(default_factory=list)
    skipped: int = 0


class LiveTargetError(Exception):
    """A target could not answer; ``kind`` is what went wrong (``timeout``, ``connect``, ``closed``,
    ``protocol``, ``diagnostic``) and the message says it in words a librarian can act on."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class LiveRecord:
    """A live record read like a harvested one: ``record`` is the union record it would make alone
    (id ``live:<target>:<local id>``), with the holdings of the libraries the target stands for."""

    target: str
    position: int
    record: UnionRecord


@dataclass(frozen=True, slots=True)
class LiveRejected:
    """A live record that could not be read (quarantined for this search only), and why."""

    target: str
    position: int
    reason: str


@dataclass(slots=True)
class LiveBatch:
    """What reading one target's records gave: the records read, and those set aside."""

    records: list[LiveRecord] = field(default_factory=list)
    rejected: list[LiveRejected] = field(default_factory=list)


@dataclass(slots=True)
class MergedHit:
    """One line of a merged result list: a union record, with the holdings live targets add to it, or
    an edition only live targets hold (``in_union`` false), merged across the targets that found it.

    ``live_holdings`` are kept apart from ``record.holdings`` so that pages and the API can mark them;
    ``found_by`` names the lists it came from (``union`` and target codes), best rank first.
    """

    record: UnionRecord
    in_union: bool
    live_holdings: list[Holding] = field(default_factory=list)
    found_by: list[str] = field(default_factory=list)
    score: float = 0.0


TargetState = Literal["waiting", "done", "timed_out", "failed"]
TARGET_STATES: tuple[TargetState, ...] = ("waiting", "done", "timed_out", "failed")


@dataclass(slots=True)
class TargetStatus:
    """One target's part in a live search, as a reader and a librarian see it.

    ``hits`` is what the target says match (before the search's filters, which are applied here);
    ``records`` what it sent, of which ``rejected`` could not be read and ``kept`` passed the filters;
    ``seconds`` how long it took to answer (or to fail); ``message`` says in words why it failed or
    timed out, and ``error`` is :attr:`LiveTargetError.kind` (``timeout``, ``connect``…).
    """

    code: str
    name: str
    state: TargetState = "waiting"
    hits: int | None = None
    records: int = 0
    rejected: int = 0
    kept: int = 0
    seconds: float | None = None
    message: str = ""
    error: str = ""


@dataclass(slots=True)
class LiveUpdate:
    """What a live search shows so far: every target's status, the merged page (the union's hits with
    what the live targets add, and the editions only they hold), and the facet counts the live part
    adds (apart from the union's, so that pages can mark them); ``done`` once every target answered,
    failed or ran out of time. ``raw`` keeps, by (target, local id), the record each kept live record
    was read from: what a librarian imports, since nothing of a live search is stored otherwise."""

    targets: list[TargetStatus]
    hits: list[MergedHit]
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)
    done: bool = False
    seconds: float = 0.0
    raw: dict[tuple[str, str], RawLiveRecord] = field(default_factory=dict)


class LiveRecordReader(Protocol):
    """Reads a target's raw records as harvested records are read (decoding, profile, holdings)."""

    def read(self, target: LiveTarget, records: Sequence[RawLiveRecord]) -> LiveBatch: ...


class LiveMerger(Protocol):
    """Merges one page of union hits with live records by the indexer's deduplication."""

    def merge(self, union_hits: Sequence[UnionRecord], live: Sequence[LiveRecord]) -> list[MergedHit]: ...


Blocking = Callable[..., Awaitable[Any]]
"""Runs a blocking call off the event loop: ``await blocking(function, *args)`` (the web app passes its
thread pool's, so that reading records and the union lookups count against the same limits)."""


class LiveSearch(Protocol):
    """A live search service, as the web app sees it (the composition root builds it from ``federated/``
    and the indexer's reader and merger)."""

    def run(
        self,
        query: SearchQuery,
        union_hits: Sequence[UnionRecord],
        targets: Sequence[LiveTarget],
        *,
        blocking: Blocking = ...,
    ) -> AsyncIterator[LiveUpdate]:
        """Ask ``targets`` for ``query``'s page at once; yield the state after each answer, the last
        ``done``; closing the iterator stops asking."""
        ...

    async def ask(self, target: LiveTarget, query: SearchQuery) -> TargetAnswer:
        """One target's raw answer to ``query``'s page (``unicat target test``), or LiveTargetError."""
        ...

    async def close(self) -> None:
        """Release the connections the service keeps."""
        ...


def check_query_map(query_map: Mapping[str, str]) -> dict[str, str]:
    """The query map with its fields checked (:data:`QUERY_MAP_FIELDS`), or :class:`BadParameter`."""
    unknown = sorted(set(query_map) - set(QUERY_MAP_FIELDS))
    if unknown:
        raise BadParameter(
            "map", f"unknown search field {unknown[0]!r}; use one of {', '.join(QUERY_MAP_FIELDS)}"
        )
    empty = sorted(name for name, value in query_map.items() if not value.strip())
    if empty:
        raise BadParameter("map", f"give an index for {empty[0]!r} (e.g. title=dc.title or title=@attr 1=4)")
    return {name: value.strip() for name, value in query_map.items()}
