"""Works for a catalogue of millions: :func:`indexer.works.group_works` on the clusters that can
share a work key, found from the keys' hashes.

A cluster whose members' work keys no other cluster has is in no work, so only the clusters that
share a key's hash with another are read back (their members' real keys compared, so a hash that
collides only costs a read); the rest never leave the spill.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from indexer.partition import ClusterLayout
from indexer.scaled_ids import ScaledIds
from indexer.works import WorkAssignment, group_work_keys, member_work_key


def scaled_works(
    layout: ClusterLayout, works: npt.NDArray[np.int64], ids: ScaledIds
) -> dict[int, WorkAssignment]:
    """Root → its work, for the clusters that share a work with another one; ``works`` holds each
    record's work key hash (0: none)."""
    keyed = np.flatnonzero(works != 0)
    hashes, roots = works[keyed], layout.root_of[keyed]
    order = np.lexsort((roots, hashes))
    hashes, roots = hashes[order], roots[order]
    distinct = np.ones(len(hashes), dtype=bool)
    distinct[1:] = (hashes[1:] != hashes[:-1]) | (roots[1:] != roots[:-1])
    hashes, roots = hashes[distinct], roots[distinct]
    starts = np.flatnonzero(np.concatenate(([True], hashes[1:] != hashes[:-1])))
    lengths = np.diff(np.append(starts, len(hashes)))
    involved = np.unique(roots[np.repeat(lengths >= 2, lengths)]).tolist()
    entries: list[tuple[list[str | None], int | None]] = []
    for root in involved:
        members = [layout.record(number) for number in layout.members_of(root)]
        year = next((member.year for member in members if member.year is not None), None)
        entries.append(([member_work_key(member) for member in members], year))
    found = group_work_keys(entries, [ids.of(root) for root in involved])
    return {involved[position]: work for position, work in found.items()}
