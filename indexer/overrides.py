"""A source's own profile: its built-in profile changed by an override file, without code.

A library whose catalogue departs from the common practice (holdings in a local tag, call numbers in
another field, a local note) says so in a TOML file of the same shape as ``mappings/*.toml``; the
file is checked when the source is registered and kept, as text, with the source in the record store
(:attr:`unicat.model.Source.mapping`). How each table combines with the base profile:

- ``[fields]``: a field named here gets these specs instead of the base's; ``[add_fields]``: these
  specs are read after the base's (an extra notes tag);
- ``[join]``, ``[subdivisions]``, ``[relators]``, ``[libraries]``: key by key, the override wins;
- ``[format]``: ``spec`` and ``default`` replace the base's; ``[[format.rules]]`` and
  ``[[format.details]]`` are tried before the base's;
- ``[[holdings]]`` and ``[[contributors]]``: the override's entries come first, and a base entry
  for a tag the override maps is dropped (the override's entry for that tag is the whole truth, its
  ``circulation`` and ``[[holdings.status]]`` rules included: a library whose codes differ restates them);
- ``[[coded]]``: a field the override's entries code is coded by them alone.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from indexer.profiles import (
    MarcProfile,
    Where,
    builtin_profile,
    code_names,
    coded_maps,
    contributors,
    field_specs,
    format_details,
    format_rules,
    format_spec,
    get_string,
    get_table,
    holdings_maps,
    joins,
)
from unicat.errors import ConfigError
from unicat.model import Profile, Source

OVERRIDE_TABLES = frozenset(
    {
        "fields",
        "add_fields",
        "join",
        "subdivisions",
        "format",
        "holdings",
        "contributors",
        "relators",
        "libraries",
        "coded",
    }
)


def parse_override(text: str, where: Where) -> dict[str, Any]:
    """The TOML document of an override, with only the tables an override may hold."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where} is not valid TOML: {exc}") from exc
    unknown = sorted(set(document) - OVERRIDE_TABLES)
    if unknown:
        raise ConfigError(
            f"{where}: {unknown[0]} is not a table a profile override may hold; "
            f"known: {', '.join(sorted(OVERRIDE_TABLES))}"
        )
    return document


def apply_override(base: MarcProfile, document: Mapping[str, Any], where: Where) -> MarcProfile:
    """``base`` changed by an override document (see the module's docstring for how)."""
    fields = {**base.fields, **field_specs(document, where, "fields")}
    for name, specs in field_specs(document, where, "add_fields").items():
        fields[name] = (*fields.get(name, ()), *specs)
    if not fields.get("title"):
        raise ConfigError(f"{where}: fields.title must keep at least one spec")
    format_table = get_table(document, "format", where)
    holdings = holdings_maps(document, where)
    named = {entry.tag for entry in holdings}
    people = contributors(document, where)
    people_tags = {entry.spec.tag for entry in people}
    coded = coded_maps(document, where)
    coded_fields = {entry.field for entry in coded}
    return dataclasses.replace(
        base,
        fields=fields,
        joins={**base.joins, **joins(document, where, "join")},
        subdivisions={**base.subdivisions, **joins(document, where, "subdivisions")},
        format_spec=format_spec(document, where) if "spec" in format_table else base.format_spec,
        format_rules=(*format_rules(document, where), *base.format_rules),
        default_format=(
            get_string(format_table["default"], where, "format.default")
            if "default" in format_table
            else base.default_format
        ),
        holdings=(*holdings, *(entry for entry in base.holdings if entry.tag not in named)),
        format_details=(*format_details(document, where), *base.format_details),
        contributors=(*people, *(entry for entry in base.contributors if entry.spec.tag not in people_tags)),
        relators={**base.relators, **code_names(document, where, "relators")},
        libraries={**base.libraries, **code_names(document, where, "libraries")},
        coded=(*coded, *(entry for entry in base.coded if entry.field not in coded_fields)),
    )


def read_override(path: Path, profile: Profile) -> str:
    """The text of an override file, checked against the built-in ``profile`` it changes: every
    mistake is a :class:`ConfigError` naming the file and the key, before anything is stored."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read the profile override {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"the profile override {path} is not UTF-8 text: {exc}") from exc
    apply_override(builtin_profile(profile), parse_override(text, path), path)
    return text


@functools.cache
def _profile(profile: Profile, mapping: str | None, where: str) -> MarcProfile:
    base = builtin_profile(profile)
    if mapping is None:
        return base
    return apply_override(base, parse_override(mapping, where), where)


def source_profile(source: Source, profile: Profile | None = None) -> MarcProfile:
    """The profile that maps ``source``'s records: ``profile`` (default: the source's own) with the
    source's override, built once per process. Records of another flavour than the source's (Dublin
    Core crossed to MARC 21 in a UNIMARC source) get the built-in profile: the override was written
    for the source's MARC."""
    name = profile or source.profile
    mapping = source.mapping if name == source.profile else None
    return _profile(name, mapping, f"the profile override of source {source.code}")
