"""A cluster of source records → one :class:`~unicat.model.UnionRecord` with every library's holdings.

The description comes from the most complete member (a full record beats a brief one), with gaps
filled from the others; identifiers and subjects of all members are united, so the union record is
found by any library's ISBN or heading; holdings and provenance keep every member.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from indexer.dedup import Cluster
from indexer.extract import ExtractedRecord
from unicat.fields import CODED_FIELDS
from unicat.model import SourceRef, UnionRecord

_SCORED_FIELDS = (
    "title",
    "responsibility",
    "authors",
    "subjects",
    "isbns",
    "issns",
    "year",
    "language",
    "publisher",
    "place",
    "edition",
    "series",
    "physical",
    "notes",
)


def completeness(record: ExtractedRecord) -> int:
    """How many descriptive fields the record fills."""
    return sum(1 for name in _SCORED_FIELDS if getattr(record, name))


def _united(lists: Iterable[Sequence[str]]) -> list[str]:
    seen: dict[str, None] = {}
    for values in lists:
        for value in values:
            seen.setdefault(value, None)
    return list(seen)


def _first_text(ranked: Sequence[ExtractedRecord], name: str) -> str | None:
    """The field from the best member that has it: gaps in the best record are filled, not left."""
    for member in ranked:
        value = getattr(member, name)
        if isinstance(value, str) and value:
            return value
    return None


def _first_list(ranked: Sequence[ExtractedRecord], name: str) -> list[str]:
    for member in ranked:
        value = getattr(member, name)
        if isinstance(value, list) and value:
            return [str(item) for item in value]
    return []


def build_union_record(union_id: str, cluster: Cluster) -> UnionRecord:
    """The union record of ``cluster`` under ``union_id``."""
    members = cluster.members
    if len(members) == 1:
        return _single_member_record(union_id, members[0], cluster)
    # Stable sort: among equally complete members, the first by (source, local_id) wins.
    ranked = sorted(members, key=completeness, reverse=True)
    datestamps = [member.datestamp for member in cluster.members if member.datestamp]
    union = UnionRecord(
        id=union_id,
        title=_first_text(ranked, "title") or "",
        responsibility=_first_text(ranked, "responsibility"),
        authors=_first_list(ranked, "authors"),
        subjects=_united(member.subjects for member in ranked),
        isbns=_united(member.isbns for member in ranked),
        issns=_united(member.issns for member in ranked),
        system_numbers=_united(member.system_numbers for member in ranked),
        year=next((member.year for member in ranked if member.year is not None), None),
        language=_first_text(ranked, "language"),
        publisher=_first_text(ranked, "publisher"),
        place=_first_text(ranked, "place"),
        edition=_first_text(ranked, "edition"),
        format=ranked[0].format,
        series=_first_list(ranked, "series"),
        physical=_first_text(ranked, "physical"),
        notes=_first_list(ranked, "notes"),
        holdings=[holding for member in cluster.members for holding in member.holdings],
        sources=[SourceRef(member.source, member.local_id) for member in cluster.members],
        merge=list(cluster.rules),
        kept_apart=list(cluster.kept_apart),
        updated=max(datestamps) if datestamps else None,
        contributors=next((list(member.contributors) for member in ranked if member.contributors), []),
        other_titles=_united(member.other_titles for member in ranked),
        format_detail=next((member.format_detail for member in ranked if member.format_detail), None),
    )
    # Coded data of every member: libraries may code one edition for two audiences, and a search
    # narrowed to either should find it.
    for name in CODED_FIELDS:
        setattr(union, name, _united(getattr(member, name) for member in ranked))
    return union


def _single_member_record(union_id: str, member: ExtractedRecord, cluster: Cluster) -> UnionRecord:
    """What :func:`build_union_record` gives for a cluster of one record (most clusters), built
    directly: there is nothing to rank, unite or fill in."""
    union = UnionRecord(
        id=union_id,
        title=member.title or "",
        responsibility=member.responsibility or None,
        authors=list(member.authors),
        subjects=list(dict.fromkeys(member.subjects)),
        isbns=list(dict.fromkeys(member.isbns)),
        issns=list(dict.fromkeys(member.issns)),
        system_numbers=list(dict.fromkeys(member.system_numbers)),
        year=member.year,
        language=member.language or None,
        publisher=member.publisher or None,
        place=member.place or None,
        edition=member.edition or None,
        format=member.format,
        series=list(member.series),
        physical=member.physical or None,
        notes=list(member.notes),
        holdings=list(member.holdings),
        sources=[SourceRef(member.source, member.local_id)],
        merge=list(cluster.rules),
        kept_apart=list(cluster.kept_apart),
        updated=member.datestamp or None,
        contributors=list(member.contributors),
        other_titles=list(member.other_titles),
        format_detail=member.format_detail,
    )
    for name in CODED_FIELDS:
        setattr(union, name, list(getattr(member, name)))
    return union
