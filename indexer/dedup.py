"""Clustering: the source records that describe one edition, found through shared identifiers.

Union-find over merge keys (ISBN-13, ISSN, system number, LCCN), near-linear: a dict from key to the
clusters that carry it. A shared key alone is not enough: two clusters join only when they are
compatible (same format; same year when both years are known), so a reprint that kept its ISBN, or the
volumes of a set that all list the set's ISBN, stay apart. Each cluster keeps the keys that linked it,
so every merge can be explained.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from indexer.extract import ExtractedRecord
from unicat.model import MergeRule


@dataclass(slots=True)
class Cluster:
    """Source records judged to be one edition, in (source, local_id) order, and why."""

    members: list[ExtractedRecord]
    rules: list[MergeRule] = field(default_factory=list)


# A merge key as (rule, key): plain tuples while clustering (hashed hundreds of thousands of times),
# MergeRule objects only for the rules a cluster keeps.
Key = tuple[str, str]


def merge_keys(record: ExtractedRecord) -> list[Key]:
    """The identifiers that may link this record to another copy of the same edition, as (rule, key)."""
    return [
        *(("isbn", isbn) for isbn in record.isbns),
        *(("issn", issn) for issn in record.issns),
        *(("system_number", number) for number in record.system_numbers),
        *(("lccn", lccn) for lccn in record.lccns),
    ]


class _Forest:
    """Union-find whose roots carry what compatibility needs: format, known year, rules."""

    def __init__(self, records: Sequence[ExtractedRecord]) -> None:
        self.parent = list(range(len(records)))
        self.format = [record.format for record in records]
        self.year = [record.year for record in records]
        self.rules: list[dict[Key, None]] = [{} for _ in records]

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def compatible(self, a: int, b: int) -> bool:
        year_a, year_b = self.year[a], self.year[b]
        return self.format[a] == self.format[b] and (year_a is None or year_b is None or year_a == year_b)

    def union(self, a: int, b: int) -> int:
        """Join two roots; the smaller index stays root so results do not depend on key order."""
        root, child = min(a, b), max(a, b)
        self.parent[child] = root
        if self.year[root] is None:
            self.year[root] = self.year[child]
        self.rules[root].update(self.rules[child])
        return root


def cluster_records(records: Sequence[ExtractedRecord]) -> list[Cluster]:
    """Group records into clusters, ordered by their first member's (source, local_id)."""
    ordered = sorted(records, key=lambda record: record.key)
    forest = _Forest(ordered)
    holders: dict[Key, list[int]] = {}
    for index, record in enumerate(ordered):
        for key in merge_keys(record):
            candidates = holders.setdefault(key, [])
            for other in candidates:
                mine, theirs = forest.find(index), forest.find(other)
                if mine == theirs or forest.compatible(mine, theirs):
                    root = mine if mine == theirs else forest.union(mine, theirs)
                    forest.rules[root][key] = None
                    break
            else:
                # No compatible cluster carries this key yet: this one becomes a candidate for it.
                candidates.append(index)
    groups: dict[int, list[int]] = {}
    for index in range(len(ordered)):
        groups.setdefault(forest.find(index), []).append(index)
    return [
        Cluster([ordered[i] for i in members], [MergeRule(rule, key) for rule, key in forest.rules[root]])
        for root, members in sorted(groups.items(), key=lambda item: item[1][0])
    ]
