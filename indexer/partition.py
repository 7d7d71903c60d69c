"""Clustering a catalogue of millions one block at a time, with the records waiting on disk.

:func:`indexer.dedup.cluster_records` compares records only through the keys they share, so running
it on each block (:mod:`indexer.blocks`) gives the clusters it would give on the whole catalogue:
the same members, rules and refusals. The records of a block are read back from the spill,
clustered, and let go; what stays is, per record, the first member of its cluster (its *root*, which
also orders the clusters as the whole-catalogue run orders them), and, for the clusters that have
something to say (several members, refusals), their members and rules, pickled to a second spill.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from indexer.blocks import Indices, components, multi_record_blocks
from indexer.dedup import Cluster, cluster_records
from indexer.extract import ExtractedRecord
from indexer.record_keys import key_hash, unpack
from indexer.record_table import RecordFinder, RecordTable
from unicat.model import KeptApart, MergeDecision, MergeRule
from unicat.spill import Spill


@dataclass(slots=True)
class ClusterLayout:
    """Where each record's cluster is, without the records."""

    records: Spill
    # Per record: the number of its cluster's first member.
    root_of: Indices
    # Per root: the number of its entry in ``notes`` (members, rules, refusals); -1 for a cluster of
    # one record with no refusal.
    noted_at: Indices
    notes: Spill

    def roots(self) -> Indices:
        """The clusters' first members, in the clusters' order."""
        return np.flatnonzero(self.root_of == np.arange(len(self.root_of)))

    def members_of(self, root: int) -> list[int]:
        """The numbers of a cluster's members, in order."""
        at = int(self.noted_at[root])
        return [root] if at < 0 else list(self._note(at)[0])

    def record(self, number: int) -> ExtractedRecord:
        return unpack(self.records.read(number))

    def key_of(self, number: int) -> tuple[str, str]:
        """A record's (source, local_id), read back."""
        return self.record(number).key

    def cluster(self, root: int) -> Cluster:
        """The cluster whose first member is ``root``, its records read back."""
        at = int(self.noted_at[root])
        if at < 0:
            return Cluster([self.record(root)])
        members, rules, kept_apart = self._note(at)
        return Cluster([self.record(number) for number in members], list(rules), list(kept_apart))

    def clusters(self) -> Iterator[tuple[int, Cluster]]:
        """Every cluster with its root, in order."""
        for root in self.roots().tolist():
            yield root, self.cluster(root)

    def _note(self, at: int) -> tuple[tuple[int, ...], tuple[MergeRule, ...], tuple[KeptApart, ...]]:
        note = pickle.loads(self.notes.read(at))
        assert isinstance(note, tuple)
        return note


def cluster_in_blocks(
    table: RecordTable,
    records: Spill,
    finder: RecordFinder,
    decisions: Sequence[MergeDecision],
    notes: Spill,
) -> ClusterLayout:
    """Cluster every record of ``table`` (fields in ``records``, found by ``finder``) with the
    librarians' ``decisions``; the table's links are used up."""
    count = len(table)
    ends = (
        finder.find_many([decision.first.key for decision in decisions]),
        finder.find_many([decision.second.key for decision in decisions]),
    )
    _link_forced(table, decisions, *ends)
    label = components(count, *table.take_links())
    by_block = _decisions_by_block(decisions, label, *ends)
    root_of = np.arange(count, dtype=np.int64)
    noted_at = np.full(count, -1, dtype=np.int64)
    for block in multi_record_blocks(label):
        numbers = block.tolist()
        members = [unpack(records.read(number)) for number in numbers]
        number_of = {record.key: number for record, number in zip(members, numbers, strict=True)}
        for cluster in cluster_records(members, by_block.get(numbers[0], ())):
            inside = [number_of[member.key] for member in cluster.members]
            root = inside[0]
            root_of[inside] = root
            if len(inside) > 1 or cluster.kept_apart:
                note = (tuple(inside), tuple(cluster.rules), tuple(cluster.kept_apart))
                noted_at[root] = notes.append(pickle.dumps(note, protocol=pickle.HIGHEST_PROTOCOL))
    return ClusterLayout(records, root_of, noted_at, notes)


def _link_forced(
    table: RecordTable, decisions: Sequence[MergeDecision], first: Indices, second: Indices
) -> None:
    """A key of its own for each forced merge of two parsed records, carried by both: it puts them
    in one block, where :func:`cluster_records` applies the decision."""
    for position, decision in enumerate(decisions):
        a, b = int(first[position]), int(second[position])
        if decision.kind != "split" and a >= 0 and b >= 0:
            forced = key_hash("forced", str(position))
            table.link(a, [forced])
            table.link(b, [forced])


def _decisions_by_block(
    decisions: Sequence[MergeDecision], label: Indices, first: Indices, second: Indices
) -> dict[int, list[MergeDecision]]:
    """The decisions whose two records are in one block, by the block's smallest record."""
    found: dict[int, list[MergeDecision]] = {}
    for position, decision in enumerate(decisions):
        a, b = int(first[position]), int(second[position])
        if a >= 0 and b >= 0 and label[a] == label[b]:
            found.setdefault(int(label[a]), []).append(decision)
    return found
