"""A parsed record packed for a catalogue of millions: its pickled fields, and the few numbers that
clustering, ids and works need, computed where it was parsed.

At 3,000,000 records the indexer cannot hold every :class:`~indexer.extract.ExtractedRecord` (about
5 KB each as Python objects). A worker process packs each record it parses: the record's fields
pickled (they go to a spill file, :mod:`unicat.spill`, and are read back only to build its union
record), its merge keys as 64-bit hashes, its work key's hash, its own key's hash and the
id a new union record of it would take. The indexing process keeps only these numbers, in arrays
(:mod:`indexer.blocks`), a few dozen bytes a record, and never unpickles a record it does not need.

A hash collision can only put two records in one block, where the real keys are compared again
(:func:`indexer.dedup.cluster_records`): it costs time, never a wrong merge.
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass

from indexer.dedup import merge_keys
from indexer.extract import ExtractedRecord
from indexer.ids import derived_id
from indexer.matching import traits_of
from indexer.works import member_work_key


@dataclass(frozen=True, slots=True)
class PackedRecord:
    """One parsed record as it travels from a worker to the indexing process."""

    blob: bytes
    # The record's own (source, local_id), hashed: finds it from a membership or a librarian's decision.
    own: int
    # Its merge keys (indexer.dedup.merge_keys), hashed; two records that share one share a block.
    keys: tuple[int, ...]
    # Its work key (indexer.works.work_key), hashed; 0 when it has none.
    work: int
    # The id a union record first made of it would take (indexer.ids.derived_id).
    derived: bytes
    warnings: tuple[str, ...]
    flavour_corrected: bool


def key_hash(*parts: str) -> int:
    """A signed 64-bit hash of ``parts`` (joined by NUL), the same in every process and run."""
    digest = hashlib.blake2b("\0".join(parts).encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True) or 1


def pack(record: ExtractedRecord) -> PackedRecord:
    """``record`` pickled, with its hashed keys."""
    work = member_work_key(record)
    return PackedRecord(
        blob=pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL),
        own=key_hash(record.source, record.local_id),
        keys=tuple(key_hash(rule, key) for rule, key in merge_keys(record, traits_of(record))),
        work=key_hash(work) if work is not None else 0,
        derived=derived_id(record.source, record.local_id).encode("ascii"),
        warnings=tuple(record.warnings),
        flavour_corrected=record.flavour_corrected,
    )


def unpack(blob: bytes) -> ExtractedRecord:
    """The record a :attr:`PackedRecord.blob` holds."""
    record = pickle.loads(blob)
    assert isinstance(record, ExtractedRecord)
    return record
