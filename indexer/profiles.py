"""MARC profiles: the field maps in ``mappings/*.toml``, loaded and checked once.

The maps are data so that a librarian can change which tags feed which field without touching code;
every mistake in them is reported as a :class:`~unicat.errors.ConfigError` that names the file and
the key, before any record is indexed.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mappings import MAPPINGS_DIR
from unicat.availability import AVAILABILITY
from unicat.errors import ConfigError
from unicat.fields import CODED_FIELDS, RECORD_FIELD
from unicat.model import Profile
from unicat.tomlfile import read_toml

SINGLE_FIELDS = frozenset(
    {
        "title",
        "responsibility",
        "year",
        "language",
        "publisher",
        "place",
        "edition",
        "physical",
        "call_number",
        "title_proper",
    }
)
LIST_FIELDS = frozenset(
    {
        "authors",
        "subjects",
        "isbns",
        "issns",
        "eans",
        "system_numbers",
        "lccn",
        "parts",
        "series",
        "notes",
        "other_titles",
    }
)
REQUIRED_FIELDS = frozenset({"title"})
HOLDING_ATTRIBUTES = frozenset(
    {
        "branch",
        "branch_name",
        "depositary",
        "depositary_name",
        "location",
        "call_number",
        "barcode",
        "item_type",
        "note",
        "due_date",
    }
)
HOLDINGS_KEYS = frozenset({"tag", "split", "circulation", "status"})
"""The keys of a ``[[holdings]]`` entry that are not attributes of a holding."""
STATUS_KEYS = frozenset({"spec", "status", "when", "values"})
STATUS_TESTS = ("present", "nonzero")
CONTRIBUTOR_KEYS = frozenset({"tags", "name", "join", "role_terms", "role_codes"})
CODED_KEYS = frozenset({"field", "spec", "formats", "values"})

_SPEC_RE = re.compile(
    r"^(?P<tag>LDR|[0-9A-Za-z]{3})(?P<codes>[a-z0-9]*)(?:\[(?P<start>\d+)(?:-(?P<end>\d+))?\])?$"
)
_CODES_RE = re.compile(r"^[a-z0-9]+$")
_NONZERO_RE = re.compile(r"^[-+]?0*[1-9][0-9]*$")

Where = Path | str
"""What a message names as the origin of a mistake: a profile file, or a source's stored override."""


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One spec such as ``245abnp``, ``008[7-10]`` or ``100a[9-12]``; positions are inclusive."""

    tag: str
    codes: str = ""
    start: int | None = None
    end: int | None = None


@dataclass(frozen=True, slots=True)
class StatusRule:
    """One ``[[holdings.status]]`` rule: a copy with a field of one of ``specs`` that has, in one of the
    spec's subfields, a value that passes the test gets ``status`` (:data:`unicat.availability.AVAILABILITY`).

    The test is ``when = "present"`` (any non-blank value), ``when = "nonzero"`` (a whole number other
    than ``0``: Koha's flags are numbers, ``0`` when not set; a value that is no number is not such a
    flag) or ``values``, a list of codes compared without regard to case or surrounding blanks (an item
    status written out, as MARC 21 876 $j has it).
    """

    specs: tuple[FieldSpec, ...]
    status: str
    when: str | None = None
    values: frozenset[str] = frozenset()

    def matches(self, tag: str, subfields: Sequence[tuple[str, str]]) -> bool:
        """Whether one field, ``tag`` with ``subfields``, passes the rule."""
        codes = "".join(spec.codes for spec in self.specs if spec.tag == tag)
        for code, text in subfields:
            if code not in codes:
                continue
            value = text.strip()
            if not value:
                continue
            if self.when == "present" or (self.when == "nonzero" and _NONZERO_RE.match(value)):
                return True
            if value.casefold() in self.values:
                return True
        return False


@dataclass(frozen=True, slots=True)
class HoldingsMap:
    """Which subfields of one holdings tag feed which :class:`~unicat.model.Holding` attribute.

    ``attributes`` maps an attribute to alternatives, each a string of subfield codes to join.
    ``status_rules``, in order of precedence, give a copy its status; ``circulation`` names the fields
    and subfields that carry circulation data at all: a copy with any of them and no rule matching is
    available, a copy with none of them has no status ("status unknown"). Rules and circulation specs
    may name item fields (MARC 21 876-878) beside the holdings tag: an item field belongs to the
    holding field before it.
    """

    tag: str
    attributes: Mapping[str, tuple[str, ...]]
    split: bool = False
    status_rules: tuple[StatusRule, ...] = ()
    circulation: tuple[FieldSpec, ...] = ()

    @property
    def item_tags(self) -> frozenset[str]:
        """The tags of the item fields the status is read from, besides the holdings tag."""
        tags = {spec.tag for rule in self.status_rules for spec in rule.specs}
        tags |= {spec.tag for spec in self.circulation}
        return frozenset(tags - {self.tag})


@dataclass(frozen=True, slots=True)
class FormatRule:
    pattern: re.Pattern[str]
    format: str


@dataclass(frozen=True, slots=True)
class FormatDetail:
    """A refinement of a format that coded data supports (large print, braille, online…): when the
    record's format is one of ``formats`` (any, if empty) and ``spec`` reads a value ``pattern``
    matches whole, the record's ``format_detail`` is ``detail``."""

    formats: frozenset[str]
    spec: FieldSpec
    pattern: re.Pattern[str]
    detail: str


@dataclass(frozen=True, slots=True)
class ContributorMap:
    """One name tag of the contributors: the subfields of the name (joined by ``join``), those giving
    the role as a term written out (MARC 21 $e) and those giving it as a relator code (MARC 21 and
    UNIMARC $4), which the profile's ``[relators]`` table turns into words."""

    spec: FieldSpec
    join: str
    role_terms: str
    role_codes: str


@dataclass(frozen=True, slots=True)
class CodedMap:
    """Codes at fixed positions → values of a coded field (:data:`unicat.fields.CODED_FIELDS`).

    ``spec`` reads the codes in the first field of its tag, each character one code (MARC 21 008/22
    holds one, UNIMARC 100 $a/17-19 up to three); ``values`` maps a code to the value it stands for,
    and a code it does not list (blank, fill character, unknown) gives nothing. With ``formats``, only
    records of those formats are read: a position may mean something else in another material's 008.
    """

    field: str
    spec: FieldSpec
    values: Mapping[str, str]
    formats: frozenset[str]


@dataclass(frozen=True, slots=True)
class FieldReader:
    """One spec of one output field, with what reading it needs: the ``position`` of the spec among
    the field's specs orders the values (spec order, then the record's field order)."""

    name: str
    position: int
    spec: FieldSpec
    join: str
    subdivisions: str


@dataclass(frozen=True, slots=True)
class MarcProfile:
    """A field map: output field → specs, how subfields are joined, format rules and holdings."""

    name: str
    fields: Mapping[str, tuple[FieldSpec, ...]]
    joins: Mapping[str, str]
    subdivisions: Mapping[str, str]
    format_spec: FieldSpec
    format_rules: tuple[FormatRule, ...]
    default_format: str
    holdings: tuple[HoldingsMap, ...]
    format_details: tuple[FormatDetail, ...]
    contributors: tuple[ContributorMap, ...]
    # Relator code (lower case) → role in words; library or branch code → its name (per source).
    relators: Mapping[str, str]
    libraries: Mapping[str, str]
    coded: tuple[CodedMap, ...]
    # Derived, not given. Every tag the profile reads: the decoder skips the others.
    tags: frozenset[str] = field(init=False)
    # Tag → who reads it: a mapping reads each field of a record once and hands it to these.
    readers: Mapping[str, tuple[FieldReader, ...]] = field(init=False)

    def specs(self, name: str) -> tuple[FieldSpec, ...]:
        return self.fields.get(name, ())

    def join(self, name: str) -> str:
        return self.joins.get(name, " ")

    def subdivision_codes(self, name: str) -> str:
        """Subfields preceded by the join separator; ``""`` means every subfield after the first."""
        return self.subdivisions.get(name, "")

    def __post_init__(self) -> None:
        tags = frozenset(
            [
                *(spec.tag for specs in self.fields.values() for spec in specs),
                self.format_spec.tag,
                *(holdings.tag for holdings in self.holdings),
                *(tag for holdings in self.holdings for tag in holdings.item_tags),
                *(detail.spec.tag for detail in self.format_details),
                *(contributor.spec.tag for contributor in self.contributors),
                *(entry.spec.tag for entry in self.coded),
            ]
        )
        object.__setattr__(self, "tags", tags)
        readers: dict[str, list[FieldReader]] = {}
        for name, specs in self.fields.items():
            join, subdivisions = self.join(name), self.subdivision_codes(name)
            for position, spec in enumerate(specs):
                readers.setdefault(spec.tag, []).append(FieldReader(name, position, spec, join, subdivisions))
        object.__setattr__(self, "readers", {tag: tuple(found) for tag, found in readers.items()})


def parse_specs(text: str, where: str) -> tuple[FieldSpec, ...]:
    """``"100abcd:700abcd"`` → specs; ``where`` names the file and key for the error message."""
    specs: list[FieldSpec] = []
    for part in text.split(":"):
        match = _SPEC_RE.match(part.strip())
        if not match:
            raise ConfigError(
                f"{where}: {part!r} is not a field spec "
                "(expected e.g. '245abnp', '008[7-10]' or '100a[9-12]')"
            )
        start = int(match["start"]) if match["start"] is not None else None
        end = int(match["end"]) if match["end"] is not None else start
        if start is not None and end is not None and end < start:
            raise ConfigError(f"{where}: {part!r} ends before it starts")
        specs.append(FieldSpec(match["tag"], match["codes"], start, end))
    return tuple(specs)


def load_profile(path: Path) -> MarcProfile:
    """Read and check one profile file."""
    document = read_toml(path, "MARC profile")
    return MarcProfile(
        name=path.stem,
        fields=_fields(document, path),
        joins=joins(document, path, "join"),
        subdivisions=joins(document, path, "subdivisions"),
        format_spec=format_spec(document, path),
        format_rules=format_rules(document, path),
        default_format=get_string(
            get_table(document, "format", path).get("default", "other"), path, "format.default"
        ),
        holdings=holdings_maps(document, path),
        format_details=format_details(document, path),
        contributors=contributors(document, path),
        relators=code_names(document, path, "relators"),
        libraries=code_names(document, path, "libraries"),
        coded=coded_maps(document, path),
    )


@functools.cache
def builtin_profile(name: Profile) -> MarcProfile:
    """The profile shipped in ``mappings/`` for a source's :attr:`~unicat.model.Source.profile`."""
    return load_profile(MAPPINGS_DIR / f"{name}.toml")


def get_table(document: Mapping[str, Any], key: str, path: Where) -> Mapping[str, Any]:
    value = document.get(key, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{path}: [{key}] must be a table")
    return value


def get_string(value: Any, path: Where, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{path}: {key} must be a string, got {value!r}")
    return value


def _fields(document: Mapping[str, Any], path: Where) -> dict[str, tuple[FieldSpec, ...]]:
    fields = field_specs(document, path, "fields")
    missing = REQUIRED_FIELDS - fields.keys()
    if missing:
        raise ConfigError(f"{path}: [fields] lacks {', '.join(sorted(missing))}")
    return fields


def field_specs(document: Mapping[str, Any], path: Where, name: str) -> dict[str, tuple[FieldSpec, ...]]:
    """The ``[fields]`` table (or an override's ``[add_fields]``): Unicat field → its specs."""
    table = get_table(document, name, path)
    known = SINGLE_FIELDS | LIST_FIELDS
    fields: dict[str, tuple[FieldSpec, ...]] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(
                f"{path}: {name}.{key} is not a Unicat field; known: {', '.join(sorted(known))}"
            )
        fields[key] = parse_specs(get_string(value, path, f"{name}.{key}"), f"{path}: {name}.{key}")
    return fields


def joins(document: Mapping[str, Any], path: Where, name: str) -> dict[str, str]:
    """The ``[join]`` or ``[subdivisions]`` table: Unicat field → string."""
    table = get_table(document, name, path)
    known = SINGLE_FIELDS | LIST_FIELDS
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{path}: {name}.{key} is not a Unicat field")
        get_string(value, path, f"{name}.{key}")
    return dict(table)


def format_spec(document: Mapping[str, Any], path: Where) -> FieldSpec:
    table = get_table(document, "format", path)
    specs = parse_specs(
        get_string(table.get("spec", "LDR[6-7]"), path, "format.spec"), f"{path}: format.spec"
    )
    if len(specs) != 1:
        raise ConfigError(f"{path}: format.spec must be one spec")
    return specs[0]


def table_array(entries: Any, path: Where, name: str) -> Iterator[tuple[str, Any]]:
    """``(where, entry)`` for each entry of the array of tables ``name`` (``[[name]]``), numbered from 1
    as messages name them; not an array is a :class:`ConfigError`."""
    if entries is None:
        return
    if not isinstance(entries, list):
        raise ConfigError(f"{path}: {name} must be an array of tables ([[{name}]])")
    for number, entry in enumerate(entries, start=1):
        yield f"{name} #{number}", entry


def get_pattern(value: Any, path: Where, key: str) -> re.Pattern[str]:
    """A regular expression given as a string at ``key``."""
    try:
        return re.compile(get_string(value, path, key))
    except re.error as exc:
        raise ConfigError(f"{path}: {key} is not a regular expression: {exc}") from exc


def format_rules(document: Mapping[str, Any], path: Where) -> tuple[FormatRule, ...]:
    result: list[FormatRule] = []
    for where, rule in table_array(get_table(document, "format", path).get("rules"), path, "format.rules"):
        if not isinstance(rule, dict) or set(rule) != {"match", "format"}:
            raise ConfigError(f"{path}: {where} must have exactly the keys 'match' and 'format'")
        pattern = get_pattern(rule["match"], path, f"{where}.match")
        result.append(FormatRule(pattern, get_string(rule["format"], path, f"{where}.format")))
    return tuple(result)


def holdings_maps(document: Mapping[str, Any], path: Where) -> tuple[HoldingsMap, ...]:
    maps: list[HoldingsMap] = []
    for where, entry in table_array(document.get("holdings"), path, "holdings"):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        tag = get_string(entry.get("tag"), path, f"{where}.tag")
        if not re.fullmatch(r"\d{3}", tag) or tag < "010":
            raise ConfigError(f"{path}: {where}.tag must be a data field tag such as '852', got {tag!r}")
        split = entry.get("split", False)
        if not isinstance(split, bool):
            raise ConfigError(f"{path}: {where}.split must be true or false")
        attributes: dict[str, tuple[str, ...]] = {}
        for key, value in entry.items():
            if key in HOLDINGS_KEYS:
                continue
            if key not in HOLDING_ATTRIBUTES:
                raise ConfigError(
                    f"{path}: {where}.{key} is not a holding attribute; "
                    f"known: {', '.join(sorted(HOLDING_ATTRIBUTES))}"
                )
            alternatives = tuple(get_string(value, path, f"{where}.{key}").split(":"))
            if not all(_CODES_RE.match(codes) for codes in alternatives):
                raise ConfigError(
                    f"{path}: {where}.{key} must be subfield codes such as 'hi' or 'a:b', got {value!r}"
                )
            attributes[key] = alternatives
        circulation = (
            parse_specs(
                get_string(entry["circulation"], path, f"{where}.circulation"), f"{path}: {where}.circulation"
            )
            if "circulation" in entry
            else ()
        )
        if any(spec.start is not None for spec in circulation):
            raise ConfigError(f"{path}: {where}.circulation must name fields and subfields, e.g. '952017q'")
        rules = status_rules(entry.get("status"), path, f"{where}.status", tag)
        maps.append(HoldingsMap(tag, attributes, split, rules, circulation))
    return tuple(maps)


def status_rules(entries: Any, path: Where, name: str, tag: str) -> tuple[StatusRule, ...]:
    """The ``[[holdings.status]]`` rules of one holdings entry, in order of precedence."""
    rules: list[StatusRule] = []
    for where, rule in table_array(entries, path, name):
        if not isinstance(rule, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        unknown = sorted(set(rule) - STATUS_KEYS)
        if unknown:
            raise ConfigError(
                f"{path}: {where}.{unknown[0]} is not a status rule key; "
                f"known: {', '.join(sorted(STATUS_KEYS))}"
            )
        specs = parse_specs(get_string(rule.get("spec", tag), path, f"{where}.spec"), f"{path}: {where}.spec")
        if not all(spec.codes and spec.start is None for spec in specs):
            raise ConfigError(f"{path}: {where}.spec must name fields with their subfields, e.g. '9527'")
        status = get_string(rule.get("status"), path, f"{where}.status")
        if status not in AVAILABILITY:
            raise ConfigError(
                f"{path}: {where}.status {status!r} is not a copy status; "
                f"the statuses: {', '.join(AVAILABILITY)}"
            )
        if ("when" in rule) == ("values" in rule):
            raise ConfigError(f"{path}: {where} must have either 'when' or 'values'")
        when = None
        values: frozenset[str] = frozenset()
        if "when" in rule:
            when = get_string(rule["when"], path, f"{where}.when")
            if when not in STATUS_TESTS:
                raise ConfigError(
                    f"{path}: {where}.when must be one of {', '.join(STATUS_TESTS)}, got {when!r}"
                )
        else:
            found = rule["values"]
            if not isinstance(found, list) or not found or not all(isinstance(value, str) for value in found):
                raise ConfigError(f"{path}: {where}.values must be a non-empty array of strings")
            values = frozenset(value.strip().casefold() for value in found)
        rules.append(StatusRule(specs, status, when, values))
    return tuple(rules)


def format_details(document: Mapping[str, Any], path: Where) -> tuple[FormatDetail, ...]:
    """The ``[[format.details]]`` entries, in order (the first that matches refines the format)."""
    result: list[FormatDetail] = []
    for where, entry in table_array(
        get_table(document, "format", path).get("details"), path, "format.details"
    ):
        if not isinstance(entry, dict) or not {"spec", "match", "detail"} <= set(entry) <= {
            "formats",
            "spec",
            "match",
            "detail",
        }:
            raise ConfigError(
                f"{path}: {where} must have the keys 'spec', 'match' and 'detail', and may have 'formats'"
            )
        formats = entry.get("formats", [])
        if not isinstance(formats, list) or not all(isinstance(name, str) for name in formats):
            raise ConfigError(f"{path}: {where}.formats must be an array of format names")
        specs = parse_specs(get_string(entry["spec"], path, f"{where}.spec"), f"{path}: {where}.spec")
        if len(specs) != 1:
            raise ConfigError(f"{path}: {where}.spec must be one spec")
        pattern = get_pattern(entry["match"], path, f"{where}.match")
        detail = get_string(entry["detail"], path, f"{where}.detail")
        result.append(FormatDetail(frozenset(formats), specs[0], pattern, detail))
    return tuple(result)


def contributors(document: Mapping[str, Any], path: Where) -> tuple[ContributorMap, ...]:
    """The ``[[contributors]]`` entries, one map per tag they name."""
    maps: list[ContributorMap] = []
    for where, entry in table_array(document.get("contributors"), path, "contributors"):
        if not isinstance(entry, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        unknown = set(entry) - CONTRIBUTOR_KEYS
        if unknown:
            raise ConfigError(
                f"{path}: {where}.{sorted(unknown)[0]} is not a contributors key; "
                f"known: {', '.join(sorted(CONTRIBUTOR_KEYS))}"
            )
        tags = get_string(entry.get("tags"), path, f"{where}.tags").split(":")
        for tag in tags:
            if not re.fullmatch(r"\d{3}", tag) or tag < "010":
                raise ConfigError(
                    f"{path}: {where}.tags must be data field tags such as '100:700', got {tag!r}"
                )
        codes = {
            key: get_string(entry.get(key, ""), path, f"{where}.{key}")
            for key in ("name", "role_terms", "role_codes")
        }
        for key, value in codes.items():
            if value and not _CODES_RE.match(value):
                raise ConfigError(
                    f"{path}: {where}.{key} must be subfield codes such as 'abcd', got {value!r}"
                )
        if not codes["name"]:
            raise ConfigError(f"{path}: {where}.name must name the subfields of the name, e.g. 'abcd'")
        join = get_string(entry.get("join", " "), path, f"{where}.join")
        maps.extend(
            ContributorMap(FieldSpec(tag, codes["name"]), join, codes["role_terms"], codes["role_codes"])
            for tag in tags
        )
    return tuple(maps)


def coded_maps(document: Mapping[str, Any], path: Where) -> tuple[CodedMap, ...]:
    """The ``[[coded]]`` entries: each a coded field, the spec of its codes, the value of each code."""
    maps: list[CodedMap] = []
    for where, entry in table_array(document.get("coded"), path, "coded"):
        if not isinstance(entry, dict) or not {"field", "spec", "values"} <= set(entry) <= CODED_KEYS:
            raise ConfigError(
                f"{path}: {where} must have the keys 'field', 'spec' and 'values', and may have 'formats'"
            )
        name = get_string(entry["field"], path, f"{where}.field")
        if name not in CODED_FIELDS:
            raise ConfigError(
                f"{path}: {where}.field {name!r} is not a coded field; coded: {', '.join(CODED_FIELDS)}"
            )
        specs = parse_specs(get_string(entry["spec"], path, f"{where}.spec"), f"{path}: {where}.spec")
        if len(specs) != 1 or specs[0].start is None:
            raise ConfigError(f"{path}: {where}.spec must be one spec with positions, e.g. '008[22]'")
        values = entry["values"]
        if not isinstance(values, dict):
            raise ConfigError(f'{path}: {where}.values must be a table of codes, e.g. {{ j = "children" }}')
        vocabulary = RECORD_FIELD[name].vocabulary
        for code, value in values.items():
            if len(code) != 1:
                raise ConfigError(f"{path}: {where}.values: a code is one character, got {code!r}")
            if value not in vocabulary:
                raise ConfigError(
                    f"{path}: {where}.values.{code} = {value!r} is not a value of {name}; "
                    f"its values: {', '.join(vocabulary)}"
                )
        formats = entry.get("formats", [])
        if not isinstance(formats, list) or not all(isinstance(format_, str) for format_ in formats):
            raise ConfigError(f"{path}: {where}.formats must be an array of format names")
        maps.append(CodedMap(name, specs[0], dict(values), frozenset(formats)))
    return tuple(maps)


def code_names(document: Mapping[str, Any], path: Where, name: str) -> dict[str, str]:
    """A table of codes and the words they stand for (``[relators]``, ``[libraries]``)."""
    found = get_table(document, name, path)
    for key, value in found.items():
        get_string(value, path, f"{name}.{key}")
    if name == "relators":
        return {key.casefold(): value for key, value in found.items()}
    return dict(found)
