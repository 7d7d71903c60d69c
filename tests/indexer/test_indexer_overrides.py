"""Per-source profile overrides: how their tables combine with the built-in profile, and the errors
that name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.overrides import apply_override, parse_override, read_override, source_profile
from indexer.profiles import builtin_profile, parse_specs
from unicat.errors import ConfigError
from unicat.model import Source


def test_a_field_replaces_the_base_specs_and_add_fields_extends_them() -> None:
    base = builtin_profile("marc21")
    changed = apply_override(
        base, parse_override('[fields]\ncall_number = "099a"\n[add_fields]\nnotes = "590a"\n', "f"), "f"
    )
    assert changed.specs("call_number") == parse_specs("099a", "")
    assert changed.specs("notes") == (*base.specs("notes"), *parse_specs("590a", ""))
    assert changed.specs("title") == base.specs("title")
    assert "590" in changed.tags and "099" in changed.tags


def test_holdings_of_the_override_go_first_and_replace_the_base_entry_of_their_tag() -> None:
    base = builtin_profile("unimarc")
    text = '[[holdings]]\ntag = "945"\ncall_number = "b"\n\n[[holdings]]\ntag = "995"\ncall_number = "k"\n'
    changed = apply_override(base, parse_override(text, "f"), "f")
    assert [entry.tag for entry in changed.holdings] == ["945", "995"]
    assert dict(changed.holdings[1].attributes) == {"call_number": ("k",)}


def test_libraries_relators_and_format_rules_extend_the_base() -> None:
    base = builtin_profile("marc21")
    text = (
        '[libraries]\nMAIN = "Main library"\n[relators]\nXYZ = "local role"\n'
        '[[format.rules]]\nmatch = "a."\nformat = "textbook"\n'
    )
    changed = apply_override(base, parse_override(text, "f"), "f")
    assert changed.libraries == {"MAIN": "Main library"}
    assert changed.relators["xyz"] == "local role" and changed.relators["aut"] == "author"
    assert changed.format_rules[0].format == "textbook"
    assert changed.format_rules[1:] == base.format_rules


def test_a_field_the_override_codes_is_coded_by_the_override_alone() -> None:
    """A library that writes the audience in a local field of its own: its entry replaces the base's."""
    base = builtin_profile("unimarc")
    text = '[[coded]]\nfield = "audience"\nspec = "999a[0]"\n[coded.values]\nj = "children"\n'
    changed = apply_override(base, parse_override(text, "f"), "f")
    assert [(entry.field, entry.spec.tag, dict(entry.values)) for entry in changed.coded] == [
        ("audience", "999", {"j": "children"})
    ]
    assert "999" in changed.tags and [entry.spec.tag for entry in base.coded] == ["100"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[fields\n", "f.toml is not valid TOML"),
        ("[colours]\nred = 1\n", "f.toml: colours is not a table a profile override may hold"),
        ('[fields]\ncolour = "245a"\n', "f.toml: fields.colour is not a Unicat field"),
        ('[fields]\nnotes = "500A"\n', "f.toml: fields.notes: '500A' is not a field spec"),
        ('[[holdings]]\ntag = "95"\n', "f.toml: holdings #1.tag must be a data field tag"),
        ('[[holdings]]\ntag = "952"\nshelf = "c"\n', "f.toml: holdings #1.shelf is not a holding attribute"),
        ("[libraries]\nMAIN = 3\n", "f.toml: libraries.MAIN must be a string"),
        ('[[contributors]]\ntags = "700"\n', "f.toml: contributors #1.name must name the subfields"),
        ('[fields]\ntitle = ""\n', "f.toml: fields.title"),
    ],
)
def test_mistakes_name_the_file_and_the_key(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_override(builtin_profile("marc21"), parse_override(text, "f.toml"), "f.toml")
    assert message in str(caught.value)


def test_read_override_checks_the_file_against_the_profile(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text('[libraries]\n"751072303" = "Sciences Po"\n', encoding="utf-8")
    assert read_override(good, "unimarc") == good.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text('[join]\nnowhere = " "\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=f"{bad}: join.nowhere is not a Unicat field"):
        read_override(bad, "unimarc")
    with pytest.raises(ConfigError, match="cannot read the profile override"):
        read_override(tmp_path / "missing.toml", "marc21")


def test_source_profile_is_built_once_and_only_for_the_source_flavour() -> None:
    source = Source("X", "X", profile="unimarc", mapping='[libraries]\nA = "Alpha"\n')
    first = source_profile(source)
    assert first is source_profile(source)
    assert first.libraries == {"A": "Alpha"}
    # Dublin Core records of the source are crossed to MARC 21: the UNIMARC override does not apply.
    assert source_profile(source, "marc21") is builtin_profile("marc21")
    assert source_profile(Source("Y", "Y")) is builtin_profile("marc21")
