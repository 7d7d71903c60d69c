"""The data model shared by every stage and both engines.

A :class:`SourceRecord` is one library's MARC record as it arrived (raw bytes, never altered).
The indexer turns the source records of one edition into one :class:`UnionRecord` that carries every
library's :class:`Holding`. The JSON form of a union record (``to_json``) is the public shape used by
the API, the export and the engines' stored documents.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from unicat.errors import BadParameter

SOURCE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")

Profile = Literal["marc21", "unimarc"]
PROFILES: tuple[Profile, ...] = ("marc21", "unimarc")
RecordSyntax = Literal["iso2709", "marcxml", "oai_dc"]
QuarantineStage = Literal["harvest", "import", "index"]
QUARANTINE_STAGES: tuple[QuarantineStage, ...] = ("harvest", "import", "index")
INTAKE_STAGES: tuple[QuarantineStage, ...] = ("harvest", "import")
"""The stages that take a record in: once a record is stored readable, its entries there are void."""
HarvestStatus = Literal["running", "ok", "failed"]


def check_source_code(code: str) -> str:
    """A source code is used in ids, URLs and filters: keep it short and plain."""
    if not SOURCE_CODE_RE.match(code):
        raise BadParameter(
            "code", f"{code!r} is not a valid source code (1-32 letters, digits, '_', '.', '-')"
        )
    return code


class ByArguments:
    """A frozen, slotted dataclass pickled as its constructor's arguments: several times cheaper than
    a frozen dataclass's default pickling (which sets each field through ``object.__setattr__`` after
    looking the fields up), and these cross between processes and temporary files by the million when
    a catalogue is indexed."""

    __slots__ = ()

    def __reduce__(self) -> tuple[type[Any], tuple[Any, ...]]:
        names: tuple[str, ...] = self.__slots__
        return (type(self), tuple(getattr(self, name) for name in names))


@dataclass(frozen=True, slots=True)
class Source:
    """A library (or a member system of a network) that contributes records.

    ``oai_url`` is ``None`` for a source fed by file imports only. ``harvest_interval`` (seconds) asks
    the web app to harvest the source on its own that often; ``None`` leaves it to `unicat harvest`.
    ``mapping`` is the text of the source's profile override (a TOML file in the shape of
    ``mappings/*.toml``, see :mod:`indexer.overrides`), kept verbatim with the source so that every
    process that indexes or serves the catalogue reads the same one; ``None``: the built-in profile.
    """

    code: str
    name: str
    oai_url: str | None = None
    metadata_prefix: str = "marcxml"
    set_spec: str | None = None
    profile: Profile = "marc21"
    harvest_interval: float | None = None
    mapping: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class SourceRecord(ByArguments):
    """One record of one source, keyed by (source, local_id); ``raw`` is exactly what was received.

    A deleted record keeps its key with ``deleted=True`` and empty ``raw``.
    """

    source: str
    local_id: str
    raw: bytes
    syntax: RecordSyntax = "iso2709"
    datestamp: str | None = None
    deleted: bool = False


@dataclass(frozen=True, slots=True)
class Holding(ByArguments):
    """One library's copy (or copies) of an edition: where it is and how to ask for it."""

    library: str
    library_name: str
    call_number: str | None = None
    branch: str | None = None
    location: str | None = None
    barcode: str | None = None
    item_type: str | None = None
    note: str | None = None
    # The display name of ``branch`` from the source's ``[libraries]`` table (the code stays in
    # ``branch``); the library a copy is deposited at (Recommandation 995 $c, its name from $d or the
    # table).
    branch_name: str | None = None
    depositary: str | None = None
    depositary_name: str | None = None
    # The names a librarian gave ``location`` and ``item_type`` in the source's code tables
    # (unicat/holding_codes.py), set when holdings are shown; the codes stay beside them.
    location_name: str | None = None
    item_type_name: str | None = None
    # Whether a patron can have the copy now (unicat/availability.py: one of AVAILABILITY, read by the
    # profile's [holdings.status] rules from what the library sent; ``None``: the library did not say),
    # and the date it is due back when on loan (ISO 8601, as sent).
    status: str | None = None
    due_date: str | None = None
    # The library of the network's directory (unicat/libraries.py) that keeps the copy, resolved from
    # the source and ``branch`` when the record is indexed; ``None``: the directory does not list the
    # source, and ``library`` stands for it.
    site: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Not asdict(): its deep copy dominated the cost of serialising a union record.
        return {name: value for name in self.__slots__ if (value := getattr(self, name)) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Holding:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class Contributor(ByArguments):
    """A name of the record's author and contributor fields with its role in words (``None`` when the
    record gives none): patrons tell the author from the illustrator or the translator."""

    name: str
    role: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Contributor:
        return cls(name=data["name"], role=data.get("role"))


@dataclass(frozen=True, slots=True)
class SourceRef(ByArguments):
    """A member of a union record: which source record it was built from."""

    source: str
    local_id: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.local_id)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "local_id": self.local_id}

    @classmethod
    def parse(cls, text: str, param: str = "record") -> SourceRef:
        """``SOURCE:LOCAL_ID`` (as librarians name a member on the command line or in a form) → a
        reference; ``param`` names the input in the error."""
        source, sep, local_id = text.partition(":")
        if not sep or not source or not local_id:
            raise BadParameter(param, f"{text!r} is not SOURCE:LOCAL_ID (e.g. uva:u1234)")
        return cls(source, local_id)


MergeDecisionKind = Literal["split", "force"]


@dataclass(frozen=True, slots=True)
class MergeDecision:
    """A librarian's word on two source records: ``split`` (never one edition) or ``force`` (one
    edition, whatever the rules say). It names source records, not union ids, so it holds through
    every re-index; the latest decision on a pair replaces the earlier one."""

    kind: MergeDecisionKind
    first: SourceRef
    second: SourceRef
    reason: str = ""
    by: str = ""
    at: str | None = None
    id: int | None = None

    @property
    def pair(self) -> tuple[tuple[str, str], tuple[str, str]]:
        """The two records in a fixed order: a pair is the same whichever is named first."""
        a, b = self.first.key, self.second.key
        return (a, b) if a <= b else (b, a)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "first": self.first.to_json(),
            "second": self.second.to_json(),
            "reason": self.reason,
            "by": self.by,
            "at": self.at,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> MergeDecision:
        return cls(
            kind=data["kind"],
            first=SourceRef(data["first"]["source"], data["first"]["local_id"]),
            second=SourceRef(data["second"]["source"], data["second"]["local_id"]),
            reason=data.get("reason") or "",
            by=data.get("by") or "",
            at=data.get("at"),
            id=data.get("id"),
        )


@dataclass(frozen=True, slots=True)
class MergeRule(ByArguments):
    """Why two source records were merged: the rule (``isbn``, ``system_number``…) and the shared key."""

    rule: str
    key: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key}


@dataclass(frozen=True, slots=True)
class KeptApart(ByArguments):
    """A source record that shared a merge key with a union record's member but was kept apart by a
    rejection rule, and why (``"the years differ (1813 / 1894)"``): what a librarian needs to judge
    the refusal, and to force the merge when the rule was wrong."""

    other: SourceRef
    rule: str
    key: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"other": self.other.to_json(), "rule": self.rule, "key": self.key, "reason": self.reason}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeptApart:
        other = data["other"]
        return cls(SourceRef(other["source"], other["local_id"]), data["rule"], data["key"], data["reason"])


@dataclass(slots=True)
class UnionRecord:
    """One edition (manifestation) of the union catalogue with every library's holdings."""

    id: str
    title: str
    responsibility: str | None = None
    authors: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    isbns: list[str] = field(default_factory=list)
    issns: list[str] = field(default_factory=list)
    system_numbers: list[str] = field(default_factory=list)
    year: int | None = None
    language: str | None = None
    publisher: str | None = None
    place: str | None = None
    edition: str | None = None
    format: str = "other"
    series: list[str] = field(default_factory=list)
    physical: str | None = None
    notes: list[str] = field(default_factory=list)
    holdings: list[Holding] = field(default_factory=list)
    sources: list[SourceRef] = field(default_factory=list)
    merge: list[MergeRule] = field(default_factory=list)
    updated: str | None = None
    # Added for records librarians trust (issue 6); JSON names beside the older ones.
    contributors: list[Contributor] = field(default_factory=list)
    other_titles: list[str] = field(default_factory=list)
    format_detail: str | None = None
    audience: list[str] = field(default_factory=list)
    # The work (all editions of one text) this edition belongs to, and the ids of its other
    # editions in the catalogue, newest first (indexer/works.py); empty when it has none.
    work: str | None = None
    editions: list[str] = field(default_factory=list)
    # Records that shared a merge key with a member but were kept apart by a rule, and why (at most
    # indexer.dedup.MAX_KEPT_APART: a yearly report's title key may refuse dozens).
    kept_apart: list[KeptApart] = field(default_factory=list)
    # When the record first entered the catalogue, and when each library (held_at's codes) first held
    # it: the indexer's dates (unicat/first_seen.py), never the records' own datestamps.
    first_seen: str | None = None
    held_since: dict[str, str] = field(default_factory=dict)

    @property
    def libraries(self) -> list[str]:
        """Codes of the libraries holding this edition, sorted, each once."""
        return sorted({holding.library for holding in self.holdings})

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "responsibility": self.responsibility,
            "authors": list(self.authors),
            "contributors": [contributor.to_json() for contributor in self.contributors],
            "other_titles": list(self.other_titles),
            "subjects": list(self.subjects),
            "isbns": list(self.isbns),
            "issns": list(self.issns),
            "system_numbers": list(self.system_numbers),
            "year": self.year,
            "language": self.language,
            "publisher": self.publisher,
            "place": self.place,
            "edition": self.edition,
            "format": self.format,
            "format_detail": self.format_detail,
            "audience": list(self.audience),
            "series": list(self.series),
            "physical": self.physical,
            "notes": list(self.notes),
            "libraries": self.libraries,
            "holdings": [holding.to_json() for holding in self.holdings],
            "sources": [ref.to_json() for ref in self.sources],
            "merge": [rule.to_json() for rule in self.merge],
            "updated": self.updated,
            "work": self.work,
            "editions": list(self.editions),
            "kept_apart": [note.to_json() for note in self.kept_apart],
            "first_seen": self.first_seen,
            "held_since": dict(self.held_since),
        }
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UnionRecord:
        return cls(
            id=data["id"],
            title=data["title"],
            responsibility=data.get("responsibility"),
            authors=list(data.get("authors", [])),
            subjects=list(data.get("subjects", [])),
            isbns=list(data.get("isbns", [])),
            issns=list(data.get("issns", [])),
            system_numbers=list(data.get("system_numbers", [])),
            year=data.get("year"),
            language=data.get("language"),
            publisher=data.get("publisher"),
            place=data.get("place"),
            edition=data.get("edition"),
            format=data.get("format", "other"),
            series=list(data.get("series", [])),
            physical=data.get("physical"),
            notes=list(data.get("notes", [])),
            holdings=[Holding.from_json(h) for h in data.get("holdings", [])],
            sources=[SourceRef(**ref) for ref in data.get("sources", [])],
            merge=[MergeRule(**rule) for rule in data.get("merge", [])],
            updated=data.get("updated"),
            contributors=[Contributor.from_json(c) for c in data.get("contributors", [])],
            other_titles=list(data.get("other_titles", [])),
            format_detail=data.get("format_detail"),
            audience=list(data.get("audience", [])),
            work=data.get("work"),
            editions=list(data.get("editions", [])),
            kept_apart=[KeptApart.from_json(note) for note in data.get("kept_apart", [])],
            first_seen=data.get("first_seen"),
            held_since=dict(data.get("held_since") or {}),
        )


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A record that could not be taken in, with why, and its raw bytes so nothing is lost.

    ``kind`` is the kind of a record set aside at index time as no book (``authority``, ``holdings``,
    ``untitled``… : :mod:`indexer.record_kinds`), so librarians can count and filter them; empty for
    every other failure.
    """

    source: str
    local_id: str | None
    stage: QuarantineStage
    reason: str
    raw: bytes
    created: str | None = None
    kind: str = ""


@dataclass(frozen=True, slots=True)
class HarvestRun:
    """One harvest of one source. ``resumption_token`` is the checkpoint of a run still under way.

    ``started`` and ``finished`` are ISO 8601 UTC on this machine's clock; ``from_`` is the ``from``
    argument sent, if any. ``server_time`` is the server's own ``responseDate`` when the run began: the
    next incremental harvest starts from it, so a clock that differs between the two machines can
    never make it skip a record.
    """

    id: int
    source: str
    started: str
    status: HarvestStatus = "running"
    mode: Literal["incremental", "full", "import"] = "incremental"
    from_: str | None = None
    until: str | None = None
    finished: str | None = None
    resumption_token: str | None = None
    pages: int = 0
    records: int = 0
    deleted: int = 0
    quarantined: int = 0
    error: str | None = None
    server_time: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["from"] = data.pop("from_")
        return data


@dataclass(frozen=True, slots=True)
class HarvestCheckpoint:
    """What must be committed with a page of records so that a killed harvest resumes there."""

    run_id: int
    resumption_token: str | None
    pages: int
    records: int
    deleted: int
    quarantined: int = 0


@dataclass(frozen=True, slots=True)
class RecordCounts:
    """Source records of one source (or all): live and deleted."""

    live: int = 0
    deleted: int = 0
