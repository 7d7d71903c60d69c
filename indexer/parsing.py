"""Source records → extracted records (or the reason they cannot be read), here or across processes.

Parsing is a pure function of a record and its source, so it can be spread over worker processes:
chunks of raw records go out, compact :class:`ExtractedRecord` objects come back, and the results are
taken in submission order, so the output (and what is quarantined, and in which order) is the same
whatever the number of workers. Workers never touch the record store; the caller writes the quarantine.
"""

from __future__ import annotations

import concurrent.futures
import gc
import itertools
import multiprocessing
import os
import threading
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

from indexer.decoding import decode_fields, split_record
from indexer.dublin_core import CROSSWALK_PROFILE
from indexer.extract import ExtractedRecord, extract_fields
from indexer.flavour import detect
from indexer.marc import MarcFields
from indexer.overrides import source_profile
from indexer.profiles import MarcProfile
from indexer.record_keys import PackedRecord, pack
from indexer.record_kinds import SetAside, check_bibliographic, check_titled, unrecognised
from unicat.errors import ConfigError, RecordError
from unicat.model import Profile, Source, SourceRecord

# Records per task: large enough that pickling and scheduling cost little per record, small enough
# that the workers finish together and that memory holds only a few chunks of raw bytes.
CHUNK_SIZE = 250
# Chunks submitted ahead per worker, so a worker never waits while the next chunk is read.
CHUNKS_AHEAD = 2


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """Why a record cannot be indexed; ``details`` holds the traceback of an unexpected error, ``kind``
    the kind of a record set aside as not a book (:mod:`indexer.record_kinds`), for the report's counts."""

    reason: str
    details: str = ""
    kind: str = ""


Outcome = ExtractedRecord | ParseFailure
PackedOutcome = PackedRecord | ParseFailure


def parse_source_record(record: SourceRecord, source: Source) -> ExtractedRecord:
    """Decode and map one source record with the profile of its flavour; raises :class:`RecordError`
    when it cannot be read, :class:`SetAside` when it is no book, has no title or no recognisable
    format (these checks cost a few bytes and a string: nothing is mapped for a record set aside).

    The flavour (MARC 21 or UNIMARC) is judged from the split record before anything is decoded
    (:mod:`indexer.flavour`), since the charset rules and the tags worth decoding depend on it. Dublin
    Core is crossed to MARC 21 whatever the source's profile (:mod:`indexer.dublin_core`).
    """
    family, profile, decoded, flavour_warning = _decoded(record, source)
    check_bibliographic(decoded.leader, family)
    extracted = extract_fields(decoded, profile, source, record.local_id, record.datestamp)
    check_titled(extracted.title, family)
    if flavour_warning:
        extracted.warnings[:0] = [flavour_warning, *decoded.warnings]
        extracted.flavour_corrected = True
    else:
        extracted.warnings[:0] = decoded.warnings
    return extracted


def _decoded(record: SourceRecord, source: Source) -> tuple[Profile, MarcProfile, MarcFields, str]:
    """The record's flavour, its effective profile, its decoded fields (only those the profile maps),
    and the warning of a flavour other than the source's ('' when none)."""
    if record.syntax == "oai_dc":
        profile = source_profile(source, CROSSWALK_PROFILE)
        decoded = decode_fields(record.raw, record.syntax, CROSSWALK_PROFILE, profile.tags)
        return CROSSWALK_PROFILE, profile, decoded, ""
    split = split_record(record.raw, record.syntax)
    flavour = detect(source.profile, split.leader, split.tags, split.head_100a)
    if flavour.profile is None:
        raise unrecognised(split.leader)
    profile = source_profile(source, flavour.profile)
    return flavour.profile, profile, split.decode(flavour.profile, profile.tags), flavour.warning


def parse_outcome(record: SourceRecord, sources: Mapping[str, Source]) -> tuple[SourceRecord, Outcome]:
    """``record`` and what parsing it gave: one bad record cannot stop a batch, but a source whose
    stored profile override no longer holds raises :class:`~unicat.errors.ConfigError` (quarantining
    every record of the source would hide a configuration mistake as bad data).

    The profile is the effective one of the record's flavour (:func:`indexer.overrides.source_profile`),
    built once per process, source and flavour.
    """
    source = sources.get(record.source)
    if source is None:
        return record, ParseFailure(f"source {record.source!r} is not registered")
    try:
        return record, parse_source_record(record, source)
    except SetAside as exc:
        return record, ParseFailure(str(exc), kind=exc.kind)
    except RecordError as exc:
        return record, ParseFailure(str(exc))
    except ConfigError:
        raise
    except Exception as exc:
        # A record that trips a bug in mapping must not stop the batch either; the type is kept in
        # the reason so the bug can be found from the quarantine list, the traceback goes to the log.
        return record, ParseFailure(f"unexpected {type(exc).__name__}: {exc}", traceback.format_exc())


def packed_outcome(record: SourceRecord, sources: Mapping[str, Source]) -> tuple[SourceRecord, PackedOutcome]:
    """Like :func:`parse_outcome`, the parsed record packed (:mod:`indexer.record_keys`): what an index
    run takes, so that the indexing process never holds a parsed record it does not need."""
    record, outcome = parse_outcome(record, sources)
    return record, outcome if isinstance(outcome, ParseFailure) else pack(outcome)


T = TypeVar("T")
Reader = Callable[[SourceRecord, Mapping[str, Source]], tuple[SourceRecord, T]]


def _parse_chunk(records: list[SourceRecord], sources: Mapping[str, Source], read: Reader[T]) -> list[T]:
    """A worker's task: the outcomes of one chunk, in order (the records stay with the caller)."""
    return [read(record, sources)[1] for record in records]


def parse_in_processes(
    records: Iterable[SourceRecord],
    sources: Mapping[str, Source],
    workers: int,
    read: Reader[T],
) -> Iterator[tuple[SourceRecord, T]]:
    """Like ``read`` (:func:`parse_outcome`, :func:`packed_outcome`) over ``records``, in their order,
    by ``workers`` processes.

    Workers are forked when this process runs a single thread (fast: nothing to import again; the
    workers never use the inherited SQLite connections). A process with other threads (the demo
    serves while it indexes) spawns them instead, since a fork copies locks other threads may hold;
    a spawning program's main module must then be import-safe (``if __name__ == "__main__"``).
    """
    method = "fork" if threading.active_count() == 1 and os.name == "posix" else "spawn"
    context = multiprocessing.get_context(method)
    remaining = iter(records)
    chunks = iter(lambda: list(itertools.islice(remaining, CHUNK_SIZE)), [])
    with concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_start_worker
    ) as pool:
        in_flight: deque[tuple[list[SourceRecord], concurrent.futures.Future[list[T]]]] = deque()
        try:
            for chunk in chunks:
                in_flight.append((chunk, pool.submit(_parse_chunk, chunk, sources, read)))
                if len(in_flight) >= workers * CHUNKS_AHEAD:
                    yield from _collect(*in_flight.popleft())
            while in_flight:
                yield from _collect(*in_flight.popleft())
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def _start_worker() -> None:
    """A worker collects its own cycles, but never walks what it inherited from a forked parent.

    The parent may fork with its collector paused (``run_index`` pauses it) and with a large heap;
    freezing moves the inherited objects out of the collector's reach, which also keeps their memory
    pages shared with the parent instead of copied when the collector would touch them.
    """
    gc.freeze()
    gc.enable()


def _collect(
    chunk: list[SourceRecord], future: concurrent.futures.Future[list[T]]
) -> Iterator[tuple[SourceRecord, T]]:
    yield from zip(chunk, future.result(), strict=True)


def packed_outcomes(
    records: Iterable[SourceRecord], sources: Mapping[str, Source], workers: int
) -> Iterable[tuple[SourceRecord, PackedOutcome]]:
    """Each of ``records`` with what parsing it gave (packed, or why not), in their order: by
    ``workers`` processes, or in this one when ``workers`` is 1 (a few records do not pay for a pool)."""
    if workers > 1:
        return parse_in_processes(records, sources, workers, packed_outcome)
    return (packed_outcome(record, sources) for record in records)
