"""The union ids that now live in a record: its own, and every id merged into it since.

Readers' comments, ratings, tags and list entries keep the union id they were written on
(:mod:`unicat.readers`). When re-indexing merges two records, the id that disappears redirects to
the one that stays, perhaps through several merges (A → B, then B → C); a record page shows what was
written on every id that leads to it. Nothing is rewritten, so undoing the merge (the old id lives
again, and its redirect is dropped) gives each record back what was written on it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from unicat.ports.records import UnionLinks

MAX_DEPTH = 32
"""Merges followed at most (a chain longer than this is a loop left by a bug, not a history)."""


def aliases(
    store: UnionLinks, union_ids: Sequence[str], first: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[str]]:
    """For each id, itself followed by every id that redirects to it, directly or through others.

    ``first`` is ``store.redirects_to(union_ids)`` when the caller has read it already (beside another
    read, to save a round trip): only the merges further back are read here."""
    found: dict[str, list[str]] = {union_id: [union_id] for union_id in union_ids}
    owner = {union_id: union_id for union_id in union_ids}
    frontier = list(union_ids)
    for depth in range(MAX_DEPTH):
        if not frontier:
            break
        pointing = first if depth == 0 and first is not None else store.redirects_to(frontier)
        frontier = []
        for target, olds in pointing.items():
            for old in olds:
                if old not in owner:
                    owner[old] = owner[target]
                    found[owner[target]].append(old)
                    frontier.append(old)
    return found


def live_ids(store: UnionLinks, union_ids: Sequence[str]) -> dict[str, str]:
    """Each id with the id it now lives under (itself when it never moved); an id merged away
    follows its chain of redirects."""
    current = {union_id: union_id for union_id in union_ids}
    pending = list(dict.fromkeys(union_ids))
    for _ in range(MAX_DEPTH):
        if not pending:
            break
        moved = store.redirects_from(pending)
        for original, now in current.items():
            if now in moved:
                current[original] = moved[now]
        pending = list(dict.fromkeys(moved.values()))
    return current
