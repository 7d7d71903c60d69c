"""Holdings codes a patron can read: per source, tables a librarian keeps of code → name for each kind
of code a holding carries (branch, depositary, location, document type).

Names are applied when holdings are shown (the record page, the JSON API, the MARCXML export), not
when records are indexed: a librarian who corrects a name sees it at once, with no re-index of the
whole catalogue, and the union index keeps the codes as the libraries sent them. The tables are small
(tens to hundreds of codes per source) and read once per cache period by the web app, so naming a
record's holdings costs a few dictionary lookups.

A name the record itself carries (a 995 $d next to its $c code, a ``[libraries]`` name of the
source's profile) is kept unless the librarian's table names that code: the table is the
librarian's word on it.
"""

from __future__ import annotations

import csv
import io
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from unicat.errors import BadParameter
from unicat.model import Holding, UnionRecord

CODE_KINDS: Final = ("branch", "depositary", "location", "item_type")
"""The kinds of code a table names, each a :class:`~unicat.model.Holding` attribute whose name goes
to the attribute ``<kind>_name``."""
MAX_CODE_LENGTH: Final = 100
MAX_NAME_LENGTH: Final = 300

CodeTables = Mapping[str, Mapping[str, str]]
"""One source's tables: kind → code → name."""


@dataclass(frozen=True, slots=True)
class CodeName:
    """One entry of a source's tables: ``code`` of ``kind`` is shown as ``name``."""

    kind: str
    code: str
    name: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "code": self.code, "name": self.name}


def check_kind(kind: str, param: str = "KIND") -> str:
    """A kind of code the tables know, or a :class:`BadParameter` that lists them."""
    if kind not in CODE_KINDS:
        raise BadParameter(param, f"{kind!r} is not a kind of code: use one of {', '.join(CODE_KINDS)}")
    return kind


def check_code(code: str, param: str = "CODE") -> str:
    """A code as holdings carry it (surrounding spaces dropped): not empty, printable, not too long."""
    cleaned = code.strip()
    if not cleaned or len(cleaned) > MAX_CODE_LENGTH or not cleaned.isprintable():
        raise BadParameter(param, f"{code[:50]!r} is not a code: 1-{MAX_CODE_LENGTH} printable characters")
    return cleaned


def check_name(name: str, param: str = "NAME") -> str:
    """A name patrons read: not empty, printable, not too long."""
    cleaned = " ".join(name.split())
    if not cleaned or len(cleaned) > MAX_NAME_LENGTH or not cleaned.isprintable():
        raise BadParameter(param, f"{name[:50]!r} is not a name: 1-{MAX_NAME_LENGTH} printable characters")
    return cleaned


def code_name(kind: str, code: str, name: str, where: str = "") -> CodeName:
    """One checked entry; ``where`` (a file and line) prefixes what a refusal names."""
    return CodeName(
        check_kind(kind, f"{where}kind"), check_code(code, f"{where}code"), check_name(name, f"{where}name")
    )


def parse_code_file(text: str, file_name: str) -> list[CodeName]:
    """The entries of an import file, all checked before any is stored.

    ``.toml``: one table per kind, ``[branch]`` then ``"751072303" = "Médiathèque des Cotes"``.
    ``.csv``: rows ``kind,code,name`` (a first row of exactly those words is a header). Any other
    extension, a malformed file or a bad entry raises :class:`BadParameter` naming the place.
    """
    lowered = file_name.lower()
    if lowered.endswith(".toml"):
        entries = _toml_entries(text, file_name)
    elif lowered.endswith(".csv"):
        entries = _csv_entries(text, file_name)
    else:
        raise BadParameter("FILE", f"{file_name}: expected a .csv or .toml file")
    codes = [(entry.kind, entry.code) for entry in entries]
    if len(set(codes)) != len(codes):
        repeated = next(key for key in codes if codes.count(key) > 1)
        raise BadParameter("FILE", f"{file_name}: {repeated[0]} code {repeated[1]!r} is named twice")
    return entries


def _toml_entries(text: str, file_name: str) -> list[CodeName]:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadParameter("FILE", f"{file_name} is not valid TOML: {exc}") from exc
    entries: list[CodeName] = []
    for kind, table in document.items():
        check_kind(kind, f"{file_name}: [{kind}]")
        if not isinstance(table, dict):
            raise BadParameter("FILE", f'{file_name}: {kind} must be a table of code = "name"')
        for code, name in table.items():
            if not isinstance(name, str):
                raise BadParameter("FILE", f"{file_name}: [{kind}] {code!r} must be given a name in quotes")
            entries.append(code_name(kind, code, name, f"{file_name}: [{kind}] "))
    return entries


_CSV_HEADER: Final = ["kind", "code", "name"]


def _csv_entries(text: str, file_name: str) -> list[CodeName]:
    entries: list[CodeName] = []
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as exc:
        raise BadParameter("FILE", f"{file_name} is not valid CSV: {exc}") from exc
    for number, row in enumerate(rows, start=1):
        if not row or (number == 1 and [cell.strip().lower() for cell in row] == _CSV_HEADER):
            continue
        if len(row) != 3:
            raise BadParameter(
                "FILE", f"{file_name} line {number}: expected 3 columns (kind,code,name), found {len(row)}"
            )
        kind, code, name = row
        entries.append(code_name(kind, code, name, f"{file_name} line {number}: "))
    return entries


def tables_of(entries: Iterable[CodeName]) -> dict[str, dict[str, str]]:
    """Entries as tables: kind → code → name."""
    tables: dict[str, dict[str, str]] = {}
    for entry in entries:
        tables.setdefault(entry.kind, {})[entry.code] = entry.name
    return tables


def name_holding(holding: Holding, tables: CodeTables) -> Holding:
    """``holding`` with the names its source's tables give its codes (the codes kept beside them)."""
    names: dict[str, str] = {}
    for kind in CODE_KINDS:
        code = getattr(holding, kind)
        if code is not None and (name := tables.get(kind, {}).get(code)) is not None:
            names[f"{kind}_name"] = name
    return replace(holding, **names) if names else holding


def name_holdings(holdings: Sequence[Holding], by_source: Mapping[str, CodeTables]) -> list[Holding]:
    """Each holding named by the tables of its source (``library``); unchanged where none applies."""
    return [
        name_holding(holding, tables) if (tables := by_source.get(holding.library)) else holding
        for holding in holdings
    ]


def tables_by_source(entries: Mapping[str, Iterable[CodeName]]) -> dict[str, CodeTables]:
    """What :meth:`~unicat.ports.records.HoldingCodeStore.holding_codes` gives, as tables by source."""
    return {source: tables_of(found) for source, found in entries.items()}


def named_records(
    records: Iterable[UnionRecord], by_source: Mapping[str, CodeTables]
) -> Iterable[UnionRecord]:
    """Each record with its holdings named by their sources' tables (the same records without any)."""
    if not by_source:
        return records
    return (replace(record, holdings=name_holdings(record.holdings, by_source)) for record in records)
