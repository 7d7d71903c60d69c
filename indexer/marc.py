"""A decoded MARC record as the indexer maps it: the leader and each field as plain strings and tuples.

Building pymarc's objects (``Record``, ``Field``, ``Subfield``, ``Leader``) costs more than mapping
the record does, and mapping only reads tags, subfield codes and values; so the decoder hands the
indexer these plain values, and builds pymarc objects only for the callers that want them
(:func:`to_pymarc`, used by :func:`indexer.decoding.decode_record`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pymarc

# A data field: its two indicators and its subfields as (code, value) pairs, in order.
Subfields = list[tuple[str, str]]
DataField = tuple[str, Subfields]
# A control field (tags 001-009) is its text; any other field is a DataField.
FieldContent = str | DataField


@dataclass(slots=True)
class MarcFields:
    """A record's leader, its fields in record order, and what went wrong while decoding it."""

    leader: str
    fields: list[tuple[str, FieldContent]]
    warnings: list[str] = field(default_factory=list)


def from_pymarc(record: pymarc.Record) -> MarcFields:
    """The plain form of a pymarc record (for callers that already hold one)."""
    fields: list[tuple[str, FieldContent]] = []
    for marc_field in record.fields:
        if marc_field.is_control_field():
            fields.append((marc_field.tag, marc_field.data or ""))
        else:
            indicators = "".join(marc_field.indicators or ("", ""))
            subfields = [(sub.code, sub.value) for sub in marc_field.subfields]
            fields.append((marc_field.tag, (indicators, subfields)))
    return MarcFields(str(record.leader), fields)


def to_pymarc(decoded: MarcFields) -> pymarc.Record:
    """A pymarc record with the same leader and fields."""
    record = pymarc.Record()
    record.leader = pymarc.Leader(decoded.leader)
    for tag, content in decoded.fields:
        if isinstance(content, str):
            record.fields.append(pymarc.Field(tag=tag, data=content))
        else:
            indicators, subfields = content
            record.fields.append(
                data_field(
                    tag,
                    pymarc.Indicators(indicators[0], indicators[1]),
                    [pymarc.Subfield(code, value) for code, value in subfields],
                )
            )
    return record


def data_field(tag: str, indicators: pymarc.Indicators, subfields: list[pymarc.Subfield]) -> pymarc.Field:
    """``pymarc.Field(tag=tag, indicators=indicators, subfields=subfields)``, four times cheaper.

    pymarc's constructor re-checks and re-normalises arguments that are already right here; this sets
    the same slots directly (pymarc 5's layout, checked by the tests against the constructor).
    """
    built: pymarc.Field = pymarc.Field.__new__(pymarc.Field)
    built.tag = tag
    built.data = None
    built.control_field = False
    built._indicators = indicators
    built.subfields = subfields
    return built
