"""Works: the editions of one text grouped, so a record page can offer "other editions".

A reader who finds the 2003 Penguin *Pride and Prejudice* may want the large-print one, the
French translation's original, or whichever edition a library near them holds. Editions are grouped
by a work key: the title's words (no subtitle, no leading article, folded) and the first author's
surname, as :mod:`indexer.matching` reads them. A record without an author is in no work: a title
alone ("Poems", "Annual report") names too many. A cluster whose members give several keys (one
copy with the author, another with a variant title) joins every work they name.

The work id is derived from the key (``w`` + 12 base32 characters), so it stays the same across
re-indexing as long as the key does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from indexer.dedup import Cluster
from indexer.extract import ExtractedRecord
from indexer.ids import derived_id
from indexer.matching import author_word, key_words

# Other editions listed on one record: a classic has hundreds; the page shows the newest first.
MAX_EDITIONS = 100


@dataclass(frozen=True, slots=True)
class WorkAssignment:
    """The work of one union record and its other editions (ids, newest first)."""

    work: str
    editions: list[str]


def work_key(title: str | None, authors: Sequence[str]) -> str | None:
    """``title words|surname`` or ``None`` without a title or an author."""
    words, author = key_words(title), author_word(authors)
    if not words or author is None:
        return None
    return f"{' '.join(words)}|{author}"


def member_work_key(record: ExtractedRecord) -> str | None:
    """The work key one member gives (its title proper, else its title, and its authors)."""
    return work_key(record.title_proper or record.title, record.authors)


def group_works(clusters: Sequence[Cluster], ids: Sequence[str]) -> dict[int, WorkAssignment]:
    """Cluster position → its work, for the clusters that share a work with another one."""
    return group_work_keys(
        [([member_work_key(member) for member in cluster.members], _year(cluster)) for cluster in clusters],
        ids,
    )


def group_work_keys(
    clusters: Sequence[tuple[Sequence[str | None], int | None]], ids: Sequence[str]
) -> dict[int, WorkAssignment]:
    """:func:`group_works` from what it reads of each cluster: its members' work keys, in order, and
    its year (the first a member gives). A caller that knows which clusters can share a key may pass
    only those (the positions are then in what it passes)."""
    parent = list(range(len(clusters)))

    def find(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    first_of: dict[str, int] = {}
    keys: dict[int, str] = {}
    for position, (member_keys, _) in enumerate(clusters):
        for key in member_keys:
            if key is None:
                continue
            other = first_of.setdefault(key, position)
            if other != position:
                a, b = find(other), find(position)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            keys.setdefault(position, key)
    groups: dict[int, list[int]] = {}
    for position in keys:
        groups.setdefault(find(position), []).append(position)
    works: dict[int, WorkAssignment] = {}
    for positions in groups.values():
        if len(positions) < 2:
            continue
        # The smallest key of the group names the work: the same editions give the same id.
        key = min(keys[position] for position in positions)
        work = "w" + derived_id("work", key)[1:]
        newest = sorted(positions, key=lambda p: (-(clusters[p][1] or 0), ids[p]))
        for position in positions:
            works[position] = WorkAssignment(
                work, [ids[other] for other in newest if other != position][:MAX_EDITIONS]
            )
    return works


def _year(cluster: Cluster) -> int | None:
    return next((member.year for member in cluster.members if member.year is not None), None)
