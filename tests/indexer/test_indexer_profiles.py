"""Profiles are data: the shipped ones load, and mistakes name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.profiles import MAPPINGS_DIR, FieldSpec, builtin_profile, load_profile, parse_specs
from unicat.errors import ConfigError


def test_shipped_profiles_load() -> None:
    marc21 = builtin_profile("marc21")
    assert marc21.specs("title") == (FieldSpec("245", "abnp"),)
    assert marc21.holdings[0].tag == "852"
    unimarc = builtin_profile("unimarc")
    assert unimarc.specs("year")[0] == FieldSpec("100", "a", 9, 12)
    assert unimarc.holdings[0].attributes["call_number"] == ("k",)


def test_parse_specs() -> None:
    assert parse_specs("100abcd:008[35-37]:LDR[6]", "x") == (
        FieldSpec("100", "abcd"),
        FieldSpec("008", "", 35, 37),
        FieldSpec("LDR", "", 6, 6),
    )


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('title = "245abnp"', 'title = "24"'), "fields.title"),
        (('title = "245abnp"', 'titel = "245a"'), "fields.titel"),
        (('call_number = "hi:j:k"', 'call_number = "h i"'), "holdings #1.call_number"),
        (('match = "a."', 'match = "a("'), "format.rules #3.match"),
        (('barcode = "p"', 'barcod = "p"'), "holdings #1.barcod"),
        (('d = "young_adults"', 'd = "teens"'), "coded #1.values.d = 'teens' is not a value of audience"),
        (('j = "children"', 'jj = "children"'), "coded #1.values: a code is one character"),
        (('field = "audience"', 'field = "language"'), "coded #1.field 'language' is not a coded field"),
        (('spec = "008[22]"', 'spec = "008"'), "coded #1.spec must be one spec with positions"),
    ],
)
def test_errors_name_file_and_key(tmp_path: Path, change: tuple[str, str], key: str) -> None:
    text = (MAPPINGS_DIR / "marc21.toml").read_text(encoding="utf-8")
    assert change[0] in text
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_profile(broken)
    assert str(broken) in str(caught.value) and key in str(caught.value)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    broken = tmp_path / "bad.toml"
    broken.write_text("[fields\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml"):
        load_profile(broken)
