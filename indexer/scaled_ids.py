"""Stable union ids for a catalogue of millions: :func:`indexer.ids.assign_ids`'s rules, on arrays.

The rules are :mod:`indexer.ids`' (a cluster takes the id most of its members had; an id never goes
to two clusters; a new cluster takes the id derived from its first member; a gone id redirects to
the cluster that took most of its members). Here the previous memberships stream from the store
and are held as one small integer per record, the claims are counted and sorted as arrays, and only
claims that compete for a cluster or an id (after a merge or a split) are settled one by one.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from indexer.blocks import Indices
from indexer.ids import derived_id
from indexer.record_table import RecordFinder

MEMBERSHIP_BATCH = 50_000
"""Memberships looked up at a time."""

Ids = npt.NDArray[np.bytes_]


@dataclass(frozen=True, slots=True)
class ScaledIds:
    """The id of each cluster, at its root's number (other entries are empty), and old id → new id
    for the ids that are gone."""

    at_root: Ids
    redirects: dict[str, str]

    def of(self, root: int) -> str:
        return bytes(self.at_root[root]).decode("utf-8")


def previous_ids(
    count: int, finder: RecordFinder, memberships: Iterable[tuple[str, str, str]]
) -> tuple[Indices, Ids]:
    """Each record's union id of the last generation, as a code into the sorted distinct old ids
    (-1 for a record new to the catalogue), and those old ids."""
    numbers: list[Indices] = []
    old: list[Ids] = []
    rows = iter(memberships)
    while batch := list(itertools.islice(rows, MEMBERSHIP_BATCH)):
        numbers.append(finder.find_many([(source, local_id) for source, local_id, _ in batch]))
        old.append(np.array([union_id.encode("utf-8") for _, _, union_id in batch], dtype=np.bytes_))
    code = np.full(count, -1, dtype=np.int64)
    if not numbers:
        return code, np.array([], dtype="S1")
    # The ids of records gone since are kept among the old ids: they are retired, never handed out.
    distinct, codes = np.unique(np.concatenate(old), return_inverse=True)
    found = np.concatenate(numbers)
    kept = found >= 0
    code[found[kept]] = codes[kept]
    return code, distinct


def assign_scaled_ids(
    root_of: Indices,
    derived: Ids,
    previous: Indices,
    old_ids: Ids,
    key_of: Callable[[int], tuple[str, str]],
    held_elsewhere: Ids | None = None,
) -> ScaledIds:
    """Ids for the clusters of ``root_of`` (per record, its cluster's first member), given each
    record's ``derived`` id and ``previous`` id (a code into ``old_ids``); ``key_of`` gives a
    record's (source, local_id) for the rare derived id that is taken and must be salted. Ids
    ``held_elsewhere`` are held by union records beyond these clusters (an incremental pass clusters a part
    of the catalogue): never handed out either."""
    unavailable = old_ids
    if held_elsewhere is not None and len(held_elsewhere):
        unavailable = np.concatenate((old_ids, held_elsewhere))
    count, distinct = len(root_of), len(old_ids)
    chosen = _settle_claims(root_of, previous, distinct)
    width = max(old_ids.dtype.itemsize, derived.dtype.itemsize)
    at_root = np.zeros(count, dtype=f"S{width}")
    claimed_roots = np.flatnonzero(chosen >= 0)
    at_root[claimed_roots] = old_ids[chosen[claimed_roots]]
    roots = np.flatnonzero(root_of == np.arange(count))
    fresh = roots[chosen[roots] < 0]
    candidates = derived[fresh]
    clash = np.isin(candidates, unavailable)
    _, first = np.unique(candidates, return_index=True)
    repeated = np.ones(len(candidates), dtype=bool)
    repeated[first] = False
    at_root[fresh] = candidates
    for root in fresh[clash | repeated].tolist():
        source, local_id = key_of(root)
        attempt = 1
        while True:
            candidate = derived_id(source, local_id, attempt).encode("ascii")
            if not np.isin(candidate, unavailable).item() and not np.any(at_root == candidate):
                break
            attempt += 1
        at_root[root] = candidate
    taken = np.zeros(distinct, dtype=bool)
    taken[chosen[claimed_roots]] = True
    return ScaledIds(at_root, _redirects(root_of, previous, old_ids, taken, at_root))


def _settle_claims(root_of: Indices, previous: Indices, distinct: int) -> Indices:
    """Per root, the code of the old id it keeps (-1: none), by :func:`indexer.ids._claims`' order:
    most votes, then the id of the first member (or the only id a cluster's members had), then the
    smaller id, then the earlier cluster."""
    count = len(root_of)
    chosen = np.full(count, -1, dtype=np.int64)
    holders = np.flatnonzero(previous >= 0)
    if not len(holders) or not distinct:
        return chosen
    pairs, votes = np.unique(root_of[holders] * distinct + previous[holders], return_counts=True)
    roots, codes = pairs // distinct, pairs % distinct
    with_old = np.bincount(root_of[holders], minlength=count)
    strong = (with_old[roots] == 1) | (codes == previous[roots])
    order = np.lexsort((roots, codes, ~strong, -votes))
    # A claim alone on its cluster and on its id wins whatever the order.
    alone = (np.bincount(roots, minlength=count)[roots] == 1) & (
        np.bincount(codes, minlength=distinct)[codes] == 1
    )
    chosen[roots[alone]] = codes[alone]
    taken = np.zeros(distinct, dtype=bool)
    taken[codes[alone]] = True
    contested = order[~alone[order]]
    for root, code in zip(roots[contested].tolist(), codes[contested].tolist(), strict=True):
        if chosen[root] < 0 and not taken[code]:
            chosen[root] = code
            taken[code] = True
    return chosen


def _redirects(
    root_of: Indices, previous: Indices, old_ids: Ids, taken: npt.NDArray[np.bool_], at_root: Ids
) -> dict[str, str]:
    """Each retired old id → the new id that took most of its members (the smaller id on a tie)."""
    holders = np.flatnonzero(previous >= 0)
    retired = holders[~taken[previous[holders]]]
    destinations: dict[int, Counter[bytes]] = {}
    for number in retired.tolist():
        destinations.setdefault(int(previous[number]), Counter())[bytes(at_root[root_of[number]])] += 1
    return {
        bytes(old_ids[code]).decode("utf-8"): min(counter, key=lambda new: (-counter[new], new)).decode(
            "utf-8"
        )
        for code, counter in destinations.items()
    }
