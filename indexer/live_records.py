"""A live target's raw records → union records, read exactly as ``unicat index`` reads harvested ones.

Each record is a :class:`~unicat.model.SourceRecord` of a :class:`~unicat.model.Source` made from the
target (its code, name and profile), parsed by :func:`indexer.parsing.parse_outcome` (decoding, flavour,
profile, the record kinds set aside) and built by :func:`indexer.union.build_union_record` as a cluster
of one: a live hit and a harvested copy of one edition look the same, and deduplicate the same
(:mod:`indexer.live_merge`). A record that cannot be read is set aside for this search only, with its
reason; nothing of a live search is stored.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from indexer.dedup import Cluster
from indexer.extract import ExtractedRecord
from indexer.parsing import ParseFailure, parse_outcome
from indexer.sites import with_sites
from indexer.union import build_union_record
from unicat.libraries import LibraryDirectory
from unicat.live_search import LiveBatch, LiveRecord, LiveRejected, LiveTarget, RawLiveRecord
from unicat.model import Holding, RecordSyntax, Source, SourceRecord

LIVE_ID_PREFIX = "live:"

_FIELD_TERMINATOR = b"\x1e"
_LEADER_LENGTH = 24
_DIRECTORY_ENTRY = 12
_XML_001_RE = re.compile(rb"<(?:[\w.-]+:)?controlfield\s+tag\s*=\s*[\"']001[\"']\s*>([^<]*)<")


@dataclass(frozen=True, slots=True)
class ReadLiveRecord(LiveRecord):
    """A :class:`LiveRecord` with the extracted record it was built from, which deduplication compares
    (:func:`indexer.dedup.cluster_records`); left out of equality, like any derived view."""

    extracted: ExtractedRecord = dataclasses.field(compare=False, repr=False)


class LiveReader:
    """Reads targets' records as ``unicat index`` reads harvested ones (:class:`LiveRecordReader`).

    ``directory`` gives the network's libraries as they are now (a long-running app passes a
    :class:`~unicat.libraries.DirectoryCache`, so that a library added while it runs is known): they
    name the libraries a target stands for and resolve each copy to the library that keeps it, as for
    union records. It is asked once per batch, so that one batch reads with one directory.
    """

    def __init__(self, directory: Callable[[], LibraryDirectory]) -> None:
        self._directory = directory

    def read(self, target: LiveTarget, records: Sequence[RawLiveRecord]) -> LiveBatch:
        directory = self._directory()
        source = Source(code=target.code, name=target.name, profile=target.profile)
        sources = {source.code: source}
        batch = LiveBatch()
        used: set[str] = set()
        for raw in records:
            local_id = _local_id(raw, used)
            used.add(local_id)
            record = SourceRecord(target.code, local_id, raw.data, raw.syntax)
            _, outcome = parse_outcome(record, sources)
            if isinstance(outcome, ParseFailure):
                batch.rejected.append(LiveRejected(target.code, raw.position, outcome.reason))
                continue
            union = build_union_record(live_id(target.code, local_id), Cluster([outcome]))
            if _own_holdings(outcome, source):
                with_sites(union, directory)
            else:
                union.holdings = _target_holdings(target, outcome, directory)
            batch.records.append(ReadLiveRecord(target.code, raw.position, union, outcome))
        return batch


def _target_holdings(
    target: LiveTarget, record: ExtractedRecord, directory: LibraryDirectory
) -> list[Holding]:
    """One holding per library the target stands for (its code when the directory lacks it); the
    target's own code when it names none, so that the hit still says where it was found."""
    call_number = record.holdings[0].call_number if record.holdings else None
    holdings = []
    for code in target.libraries:
        library = directory.get(code)
        holdings.append(
            Holding(
                library=code,
                library_name=library.name if library is not None else code,
                call_number=call_number,
                site=code if library is not None else None,
            )
        )
    return holdings or [Holding(target.code, target.name, call_number=call_number)]


def live_id(target: str, local_id: str) -> str:
    """The id of a live record's union record: ``live:<target>:<local id>``, never a union id."""
    return f"{LIVE_ID_PREFIX}{target}:{local_id}"


def _own_holdings(record: ExtractedRecord, source: Source) -> bool:
    """Whether the profile read holdings fields in the record: without any, extraction gives the one
    holding of the source with the record's call number (:func:`indexer.extract.extract_fields`)."""
    if len(record.holdings) != 1:
        return True
    holding = record.holdings[0]
    return holding != Holding(source.code, source.name, call_number=holding.call_number)


def _local_id(raw: RawLiveRecord, used: set[str]) -> str:
    """The server's id of the record, else its 001, else its position; a repeated one (two records
    the server numbered alike) becomes the position, unique within the target's answer."""
    for candidate in (raw.local_id, _control_number(raw.data, raw.syntax)):
        if candidate and candidate.strip() and candidate.strip() not in used:
            return candidate.strip()
    local_id = f"pos{raw.position}"
    suffix = 1
    while local_id in used:
        suffix += 1
        local_id = f"pos{raw.position}-{suffix}"
    return local_id


def _control_number(data: bytes, syntax: RecordSyntax) -> str | None:
    """The 001 of a raw record, read without parsing it (``None`` where it cannot be found): the
    record is parsed once, with its id already given."""
    if syntax == "marcxml":
        found = _XML_001_RE.search(data)
        return found.group(1).decode("utf-8", "replace").strip() or None if found else None
    if syntax != "iso2709" or not data[12:17].isdigit():
        return None
    base = int(data[12:17])
    directory_end = data.find(_FIELD_TERMINATOR, _LEADER_LENGTH)
    if directory_end < 0 or directory_end > base:
        return None
    for start in range(_LEADER_LENGTH, directory_end - _DIRECTORY_ENTRY + 1, _DIRECTORY_ENTRY):
        entry = data[start : start + _DIRECTORY_ENTRY]
        if entry[:3] == b"001" and entry[3:].isdigit():
            length, offset = int(entry[3:7]), int(entry[7:12])
            value = data[base + offset : base + offset + length].rstrip(b"\x1e\x1d")
            return value.decode("utf-8", "replace").strip() or None
    return None
