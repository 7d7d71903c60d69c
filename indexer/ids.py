"""Stable union ids across re-indexing, and redirects for the ids that disappear.

Permalinks, comments and OAI identifiers point at union ids, so a re-index must keep them: a cluster
takes the id most of its members had last time; an id never goes to two clusters; a cluster with no
previous id gets one derived from its first member, so the same data always yields the same ids; an
id no cluster keeps redirects to the cluster that took most of its former members.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from indexer.dedup import Cluster

ID_LENGTH = 12


@dataclass(frozen=True, slots=True)
class IdAssignment:
    """One id per cluster (same order) and old id → new id for the ids that are gone."""

    ids: list[str]
    redirects: dict[str, str]


def derived_id(source: str, local_id: str, attempt: int = 0) -> str:
    """``u`` + 12 base32 characters of the SHA-1 of ``source/local_id`` (salted on a collision).

    The characters are those ``base64.b32encode`` gives for the digest, lower-cased; they encode its
    first 60 bits, read here directly (the standard library's encoder is pure Python and encodes all
    160 bits, a fifth of the cost of indexing a record's merge step).
    """
    seed = f"{source}/{local_id}" if attempt == 0 else f"{source}/{local_id}#{attempt}"
    bits = int.from_bytes(hashlib.sha1(seed.encode("utf-8")).digest()[:8], "big") >> 4
    pairs = _BASE32_PAIRS
    return (
        "u"
        + pairs[bits >> 50 & 1023]
        + pairs[bits >> 40 & 1023]
        + pairs[bits >> 30 & 1023]
        + pairs[bits >> 20 & 1023]
        + pairs[bits >> 10 & 1023]
        + pairs[bits & 1023]
    )


# RFC 4648 base32 in lower case, two characters (10 bits) at a time: the 12 characters are 6 pairs.
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_BASE32_PAIRS = tuple(high + low for high in _BASE32 for low in _BASE32)


def assign_ids(clusters: Sequence[Cluster], previous: Mapping[tuple[str, str], str]) -> IdAssignment:
    """Ids for ``clusters`` given the previous memberships ((source, local_id) → union id)."""
    claims = sorted(_claims(clusters, previous)) if previous else []
    ids: list[str | None] = [None] * len(clusters)
    taken: set[str] = set()
    for _, _, old_id, position in claims:
        if ids[position] is None and old_id not in taken:
            ids[position] = old_id
            taken.add(old_id)
    retired = set(previous.values()) - taken
    for position, cluster in enumerate(clusters):
        if ids[position] is None:
            first = cluster.members[0]
            attempt = 0
            # Never hand out a retired id either: it must keep redirecting to its members' new home.
            candidate = derived_id(first.source, first.local_id)
            while candidate in taken or candidate in retired:
                attempt += 1
                candidate = derived_id(first.source, first.local_id, attempt)
            ids[position] = candidate
            taken.add(candidate)
    final = [union_id for union_id in ids if union_id is not None]
    return IdAssignment(final, _redirects(clusters, final, previous, retired))


def _claims(
    clusters: Sequence[Cluster], previous: Mapping[tuple[str, str], str]
) -> Iterator[tuple[int, int, str, int]]:
    """(-votes, 0 if the cluster's first member had it else 1, old id, cluster position) for each old
    id a cluster's members had: sorted, the strongest claims come first (most members, then the id
    of the first member, as a new cluster would derive it, then the smaller id, then the earlier
    cluster). So when a librarian's split is undone, the rejoined cluster gets its old id back."""
    for position, cluster in enumerate(clusters):
        old_ids = [previous[m.key] for m in cluster.members if m.key in previous]
        if len(old_ids) == 1:
            yield (-1, 0, old_ids[0], position)
        elif old_ids:
            first = previous.get(cluster.members[0].key)
            for old_id, count in Counter(old_ids).items():
                yield (-count, 0 if old_id == first else 1, old_id, position)


def _redirects(
    clusters: Sequence[Cluster],
    ids: Sequence[str],
    previous: Mapping[tuple[str, str], str],
    retired: set[str],
) -> dict[str, str]:
    destinations: dict[str, Counter[str]] = {old_id: Counter() for old_id in retired}
    for cluster, union_id in zip(clusters, ids, strict=True):
        for member in cluster.members:
            old_id = previous.get(member.key)
            if old_id in destinations:
                destinations[old_id][union_id] += 1
    redirects: dict[str, str] = {}
    for old_id, counter in destinations.items():
        if counter:
            redirects[old_id] = min(counter, key=lambda union_id: (-counter[union_id], union_id))
    return redirects
