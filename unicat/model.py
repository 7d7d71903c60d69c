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
HarvestStatus = Literal["running", "ok", "failed"]


def check_source_code(code: str) -> str:
    """A source code is used in ids, URLs and filters: keep it short and plain."""
    if not SOURCE_CODE_RE.match(code):
        raise BadParameter(
            "code", f"{code!r} is not a valid source code (1-32 letters, digits, '_', '.', '-')"
        )
    return code


@dataclass(frozen=True, slots=True)
class Source:
    """A library (or a member system of a network) that contributes records.

    ``oai_url`` is ``None`` for a source fed by file imports only. ``harvest_interval`` (seconds) asks
    the web app to harvest the source on its own that often; ``None`` leaves it to `unicat harvest`.
    """

    code: str
    name: str
    oai_url: str | None = None
    metadata_prefix: str = "marcxml"
    set_spec: str | None = None
    profile: Profile = "marc21"
    harvest_interval: float | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Source:
        return cls(**data)


@dataclass(frozen=True, slots=True)
class SourceRecord:
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
class Holding:
    """One library's copy (or copies) of an edition: where it is and how to ask for it."""

    library: str
    library_name: str
    call_number: str | None = None
    branch: str | None = None
    location: str | None = None
    barcode: str | None = None
    item_type: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        # Not asdict(): its deep copy dominated the cost of serialising a union record.
        return {name: value for name in self.__slots__ if (value := getattr(self, name)) is not None}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Holding:
        return cls(**data)

    def __reduce__(self) -> tuple[type[Holding], tuple[Any, ...]]:
        """Pickled as the constructor's arguments, several times cheaper than a frozen dataclass's
        default (holdings cross from the indexer's worker processes with every parsed record)."""
        return (Holding, tuple(getattr(self, name) for name in self.__slots__))


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A member of a union record: which source record it was built from."""

    source: str
    local_id: str

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "local_id": self.local_id}


@dataclass(frozen=True, slots=True)
class MergeRule:
    """Why two source records were merged: the rule (``isbn``, ``system_number``…) and the shared key."""

    rule: str
    key: str

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "key": self.key}


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
            "series": list(self.series),
            "physical": self.physical,
            "notes": list(self.notes),
            "libraries": self.libraries,
            "holdings": [holding.to_json() for holding in self.holdings],
            "sources": [ref.to_json() for ref in self.sources],
            "merge": [rule.to_json() for rule in self.merge],
            "updated": self.updated,
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
        )


@dataclass(frozen=True, slots=True)
class QuarantineEntry:
    """A record that could not be taken in, with why, and its raw bytes so nothing is lost."""

    source: str
    local_id: str | None
    stage: QuarantineStage
    reason: str
    raw: bytes
    created: str | None = None


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
