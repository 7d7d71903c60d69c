"""Librarians' merge decisions, said of union records and stored of source records.

A librarian sees union records: "this one glued two editions together", "these two are one edition".
The indexer needs pairs of source records, because union ids change when clusters do and a decision
must outlive every re-index. This module translates: a split of one member off a union record is a
``split`` decision between that member and each other member; a forced merge of two union records is
one ``force`` decision between their first members (the rest follow by their own keys or decisions).
Both the CLI (``unicat merge``) and the librarians' pages use it, so they say the same things.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.model import KeptApart, MergeDecision, SourceRef, UnionRecord

MAX_REASON = 500
APPLY_NOTE = "the union catalogue follows it at the next index (`unicat index`, or the web app's next run)"

RULE_NAMES = {
    "isbn": "same ISBN",
    "ean": "same EAN",
    "issn": "same ISSN",
    "system_number": "same system number (035)",
    "lccn": "same LCCN",
    "title_author_year": "same title, author and year",
    "librarian": "merged by a librarian",
}
"""How each merge rule reads for a librarian (the rule names are those stored in ``merge``)."""


def union_record(catalogue: Catalogue, union_id: str, param: str = "record") -> UnionRecord:
    """The union record of ``union_id`` (following a redirect), or a :class:`BadParameter`."""
    record = catalogue.index.get_union_record(union_id)
    if record is None:
        moved = catalogue.records.resolve_redirect(union_id)
        record = catalogue.index.get_union_record(moved) if moved else None
    if record is None:
        raise BadParameter(param, f"no union record {union_id!r}")
    return record


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if len(text) > MAX_REASON:
        raise BadParameter("reason", f"at most {MAX_REASON} characters, got {len(text)}")
    return text


def split_member(
    catalogue: Catalogue, union_id: str, member: SourceRef, *, reason: str = "", by: str = ""
) -> list[MergeDecision]:
    """Keep ``member`` apart from every other member of the union record ``union_id``."""
    record = union_record(catalogue, union_id)
    if member not in record.sources:
        members = ", ".join(f"{ref.source}:{ref.local_id}" for ref in record.sources)
        raise BadParameter("member", f"{member.source}:{member.local_id} is not in {record.id} ({members})")
    if len(record.sources) < 2:
        raise BadParameter("member", f"{record.id} has one member only: there is nothing to split")
    text = _reason(reason)
    return [
        catalogue.records.save_merge_decision(MergeDecision("split", member, other, text, by))
        for other in record.sources
        if other != member
    ]


def force_merge(
    catalogue: Catalogue, union_id: str, other_id: str, *, reason: str = "", by: str = ""
) -> MergeDecision:
    """Make the union records ``union_id`` and ``other_id`` one edition."""
    first, second = union_record(catalogue, union_id), union_record(catalogue, other_id, "other")
    if first.id == second.id:
        raise BadParameter("other", f"{union_id} and {other_id} are one union record already")
    return catalogue.records.save_merge_decision(
        MergeDecision("force", first.sources[0], second.sources[0], _reason(reason), by)
    )


def decisions_about(catalogue: Catalogue, record: UnionRecord) -> list[MergeDecision]:
    """The stored decisions that name a member of ``record``, oldest first."""
    members = {ref.key for ref in record.sources}
    return [
        d for d in catalogue.records.merge_decisions() if d.first.key in members or d.second.key in members
    ]


def kept_apart_text(note: KeptApart) -> str:
    """One refusal as a librarian reads it: ``kept apart from uva:u12 (same system number (035)
    (OCoLC)123): the years differ (1813 / 1894)``."""
    label = RULE_NAMES.get(note.rule, note.rule)
    return f"kept apart from {note.other.source}:{note.other.local_id} ({label} {note.key}): {note.reason}"


@dataclass(frozen=True, slots=True)
class MergeExplanation:
    """Why a union record holds the members it holds: the rules and keys that matched, and the
    records that shared a key with a member but were kept apart by a rule."""

    record: UnionRecord
    rules: list[tuple[str, str, str]]  # (rule, key, how it reads)
    decisions: list[MergeDecision]

    @property
    def kept_apart(self) -> list[tuple[KeptApart, str]]:
        """Each refusal the union record remembers, with how it reads."""
        return [(note, kept_apart_text(note)) for note in self.record.kept_apart]

    def to_json(self) -> dict[str, object]:
        return {
            "id": self.record.id,
            "members": [ref.to_json() for ref in self.record.sources],
            "rules": [{"rule": rule, "key": key, "label": label} for rule, key, label in self.rules],
            "kept_apart": [
                {**note.to_json(), "label": RULE_NAMES.get(note.rule, note.rule), "text": text}
                for note, text in self.kept_apart
            ],
            "decisions": [decision.to_json() for decision in self.decisions],
        }


def explain(catalogue: Catalogue, record: UnionRecord) -> MergeExplanation:
    rules = [(rule.rule, rule.key, RULE_NAMES.get(rule.rule, rule.rule)) for rule in record.merge]
    return MergeExplanation(record, rules, decisions_about(catalogue, record))


def format_explanation(explanation: MergeExplanation) -> str:
    record = explanation.record
    lines = [f"{record.id}: {record.title}" + (f" ({record.year})" if record.year else "")]
    lines.append(f"  {len(record.sources)} member(s):")
    lines.extend(f"    {ref.source}:{ref.local_id}" for ref in record.sources)
    if explanation.rules:
        lines.append("  merged because:")
        lines.extend(f"    {label}: {key}" for _, key, label in explanation.rules)
    if explanation.kept_apart:
        lines.append("  shared a key but kept apart by a rule:")
        lines.extend(f"    {text}" for _, text in explanation.kept_apart)
    if explanation.decisions:
        lines.append("  librarians' decisions:")
        lines.extend(f"    {format_decision(decision)}" for decision in explanation.decisions)
    return "\n".join(lines)


def format_decision(decision: MergeDecision) -> str:
    verb = "keep apart" if decision.kind == "split" else "merge"
    who = f" by {decision.by}" if decision.by else ""
    why = f": {decision.reason}" if decision.reason else ""
    return (
        f"#{decision.id} {verb} {decision.first.source}:{decision.first.local_id} and "
        f"{decision.second.source}:{decision.second.local_id} ({decision.at}{who}){why}"
    )


def format_decisions(decisions: Sequence[MergeDecision]) -> str:
    if not decisions:
        return "no merge decisions"
    return "\n".join(format_decision(decision) for decision in decisions)
