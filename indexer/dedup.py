"""Clustering: the source records that describe one edition, found by blocking keys, vetted by rules.

Candidates come from blocking keys: normalised ISBN (ISBN-10 and -13 are one key), ISSN (of a
serial; on a book it is the series'), EAN, the
system numbers of 035 (``org:number``), the LCCN, and a title/author/year key for records that share
no identifier. A shared key alone never merges: the two clusters must pass the rejection rules of
:func:`indexer.matching.conflict` (material type, year, volume or part, edition, language; for the
title key also publisher and extent), so a reprint that kept its ISBN, the volumes of a set that all
list the set's ISBN, or a new edition never merge. Librarians' decisions come first: a forced pair is
joined whatever the rules say, a split pair is never joined, and both hold on every re-index because
they name source records, not union ids. A pair that shared a key but was refused is remembered on
both clusters (:attr:`Cluster.kept_apart`, at most :data:`MAX_KEPT_APART` each), so a librarian
sees which rule kept a reissue off its original and can force the merge if the rule was wrong.

Union-find over the keys, near-linear: a dict from key to the (few) clusters that carry it, each key
trying at most :data:`MAX_CANDIDATES` of them. Each cluster keeps the keys that linked it, so every
merge can be explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from indexer.extract import ExtractedRecord
from indexer.matching import TITLE_RULE, Traits, conflict, refusal_text, traits_of
from unicat.model import KeptApart, MergeDecision, MergeRule, SourceRef

# A key carried by more clusters than this that all refuse each other (a set's ISBN on 300
# volumes, a title key of a yearly report) is tried against the first ones only: clustering stays
# near-linear whatever the data.
MAX_CANDIDATES = 32

# Refusals remembered per cluster: enough to explain a reissue kept off its original, few enough that
# a title key shared by a yearly report's many volumes does not bloat the union record.
MAX_KEPT_APART = 5

# The rule of a librarian's forced merge, as stored in a union record's ``merge``.
FORCED_RULE = "librarian"


@dataclass(slots=True)
class Cluster:
    """Source records judged to be one edition, in (source, local_id) order, and why."""

    members: list[ExtractedRecord]
    rules: list[MergeRule] = field(default_factory=list)
    kept_apart: list[KeptApart] = field(default_factory=list)


# A merge key as (rule, key): plain tuples while clustering (hashed hundreds of thousands of times),
# MergeRule objects only for the rules a cluster keeps.
Key = tuple[str, str]


def merge_keys(record: ExtractedRecord, traits: Traits | None = None) -> list[Key]:
    """The blocking keys that may link this record to another copy of the same edition, as (rule, key).

    An EAN that is an ISBN (prefix 978/979) is the same key as that ISBN. ``traits`` are the
    record's, when the caller has them already.
    """
    keys: list[Key] = [("isbn", isbn) for isbn in record.isbns]
    for ean in record.eans:
        key = ("isbn", ean) if ean.startswith(("978", "979")) else ("ean", ean)
        if key not in keys:
            keys.append(key)
    if record.format == "serial":
        # On a monograph, an ISSN is its series': it names every book of the series, not an edition.
        keys.extend(("issn", issn) for issn in record.issns)
    keys.extend(("system_number", number) for number in record.system_numbers)
    keys.extend(("lccn", lccn) for lccn in record.lccns)
    title = title_key(traits if traits is not None else traits_of(record))
    if title is not None:
        keys.append((TITLE_RULE, title))
    return keys


def title_key(traits: Traits) -> str | None:
    """``title words|author (or publisher)|year``, or ``None`` when the record lacks any of them:
    without a year or a name, a title alone ("Poems", "Annual report") says too little."""
    name = traits.author or traits.publisher
    if not traits.title or name is None or traits.year is None:
        return None
    return f"{' '.join(traits.title)}|{name}|{traits.year}"


class _Forest:
    """Union-find whose roots carry what the rules compare (the traits the cluster has shown) and
    which records they may never join (librarians' splits)."""

    def __init__(self, records: Sequence[ExtractedRecord]) -> None:
        self.parent = list(range(len(records)))
        self.traits = [traits_of(record) for record in records]
        self.rules: list[dict[Key, None]] = [{} for _ in records]
        self.apart: dict[int, set[int]] = {}
        # Per root: the refused records (by index) and the first (rule, key, reason) that refused each,
        # under an identifier and under the title key.
        self.refused: dict[int, dict[int, tuple[str, str, str]]] = {}
        self.refused_by_title: dict[int, dict[int, tuple[str, str, str]]] = {}

    def find(self, node: int) -> int:
        root = node
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[node] != root:
            self.parent[node], node = root, self.parent[node]
        return root

    def kept_apart(self, a: int, b: int) -> bool:
        """Whether a librarian split a member of root ``a`` from a member of root ``b``."""
        return any(self.find(other) == b for other in self.apart.get(a, ())) or any(
            self.find(other) == a for other in self.apart.get(b, ())
        )

    def union(self, a: int, b: int) -> int:
        """Join two roots; the smaller index stays root so results do not depend on key order. The
        root's traits fill their gaps from the child's: a cluster agrees with what any member said."""
        root, child = min(a, b), max(a, b)
        self.parent[child] = root
        mine, theirs = self.traits[root], self.traits[child]
        self.traits[root] = Traits(
            format=mine.format,
            year=mine.year if mine.year is not None else theirs.year,
            title=mine.title or theirs.title,
            author=mine.author or theirs.author,
            edition=mine.edition if mine.edition is not None else theirs.edition,
            parts=mine.parts or theirs.parts,
            language=mine.language or theirs.language,
            publisher=mine.publisher or theirs.publisher,
            pages=mine.pages if mine.pages is not None else theirs.pages,
            isbns=mine.isbns | theirs.isbns,
            subtitle=mine.subtitle or theirs.subtitle,
        )
        self.rules[root].update(self.rules[child])
        if child in self.apart:
            self.apart.setdefault(root, set()).update(self.apart.pop(child))
        for kept in (self.refused, self.refused_by_title):
            if child in kept:
                notes = kept.setdefault(root, {})
                for other, note in kept.pop(child).items():
                    notes.setdefault(other, note)
        return root

    def refuse(self, mine: int, theirs: int, key: Key, refused: str, records: tuple[int, int]) -> None:
        """Remember on both roots that ``records`` (a record of each) shared ``key`` and were refused,
        each worded from its own side (its value first). Refusals of the title key and of identifiers
        are capped apart, so that a crowded title key cannot crowd out the refusal of a shared
        identifier (the one a librarian most needs to see)."""
        first, second = records
        kept = self.refused_by_title if key[0] == TITLE_RULE else self.refused
        for root, other, them in ((mine, second, theirs), (theirs, first, mine)):
            notes = kept.get(root)
            if notes is None:
                notes = kept[root] = {}
            elif other in notes or len(notes) >= MAX_KEPT_APART:
                continue
            # Worded only when kept: most refusals of a crowded title key are not.
            notes[other] = (key[0], key[1], refusal_text(refused, self.traits[root], self.traits[them]))


def cluster_records(
    records: Sequence[ExtractedRecord], decisions: Iterable[MergeDecision] = ()
) -> list[Cluster]:
    """Group records into clusters, ordered by their first member's (source, local_id).

    ``decisions`` are the librarians' splits and forced merges; one naming a record that is not
    among ``records`` (deleted since) is ignored.
    """
    ordered = sorted(records, key=lambda record: record.key)
    forest = _Forest(ordered)
    # Each record's own traits give its keys; the forest's change as clusters form (forced merges first).
    own_traits = list(forest.traits)
    position = {record.key: index for index, record in enumerate(ordered)}
    forced: list[tuple[int, int]] = []
    for decision in decisions:
        a, b = position.get(decision.first.key), position.get(decision.second.key)
        if a is None or b is None or a == b:
            continue
        if decision.kind == "split":
            forest.apart.setdefault(a, set()).add(b)
            forest.apart.setdefault(b, set()).add(a)
        else:
            forced.append((a, b))
    for a, b in forced:
        mine, theirs = forest.find(a), forest.find(b)
        if mine != theirs and not forest.kept_apart(mine, theirs):
            root = forest.union(mine, theirs)
            forest.rules[root][(FORCED_RULE, "forced")] = None
    holders: dict[Key, list[int]] = {}
    for index, record in enumerate(ordered):
        for key in merge_keys(record, own_traits[index]):
            candidates = holders.setdefault(key, [])
            for other in candidates:
                mine, theirs = forest.find(index), forest.find(other)
                if mine == theirs:
                    forest.rules[mine][key] = None
                    break
                refused = conflict(forest.traits[mine], forest.traits[theirs], rule=key[0])
                if refused is None and not forest.kept_apart(mine, theirs):
                    root = forest.union(mine, theirs)
                    forest.rules[root][key] = None
                    break
                if refused is not None:
                    forest.refuse(mine, theirs, key, refused, (index, other))
            else:
                # No compatible cluster carries this key yet: this one becomes a candidate for it.
                if len(candidates) < MAX_CANDIDATES:
                    candidates.append(index)
    groups: dict[int, list[int]] = {}
    for index in range(len(ordered)):
        groups.setdefault(forest.find(index), []).append(index)
    return [
        Cluster(
            [ordered[i] for i in members],
            [MergeRule(rule, key) for rule, key in forest.rules[root]] if len(members) > 1 else [],
            _kept_apart(forest, root, ordered),
        )
        for root, members in sorted(groups.items(), key=lambda item: item[1][0])
    ]


def _kept_apart(forest: _Forest, root: int, ordered: Sequence[ExtractedRecord]) -> list[KeptApart]:
    """The refusals remembered on ``root``, but not of records that joined it later by another key:
    refusals under a shared identifier first, then the title key's, :data:`MAX_KEPT_APART` in all."""
    if root not in forest.refused and root not in forest.refused_by_title:
        return []
    notes = [
        KeptApart(SourceRef(ordered[other].source, ordered[other].local_id), rule, key, why)
        for kept in (forest.refused, forest.refused_by_title)
        for other, (rule, key, why) in kept.get(root, {}).items()
        if forest.find(other) != root
    ]
    return notes[:MAX_KEPT_APART]
