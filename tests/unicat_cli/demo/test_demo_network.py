"""The demo network file: the shipped one loads, and mistakes in an edited one give clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from unicat.errors import ConfigError
from unicat_cli.demo.network import DATA_DIR, library_records, load_network


def test_shipped_network() -> None:
    libraries = {library.code: library for library in load_network()}
    assert list(libraries) == ["VIRG", "SCPO", "MEDI", "AUSA", "AUSB"]
    assert libraries["SCPO"].profile == "unimarc" and libraries["SCPO"].force_utf8
    assert libraries["VIRG"].profile == "marc21" and not libraries["VIRG"].force_utf8
    assert (libraries["AUSA"].select, libraries["AUSB"].select) == ("even", "odd")


def test_even_and_odd_deal_the_file_alternately() -> None:
    libraries = {library.code: library for library in load_network()}
    data = (DATA_DIR / "pride-and-prejudice-fixed.mrc").read_bytes()
    first_length = int(data[:5])
    even, odd = library_records(libraries["AUSA"]), library_records(libraries["AUSB"])
    assert even[0] == data[:first_length]
    assert odd[0] == data[first_length : first_length + int(data[first_length : first_length + 5])]
    assert len(even) + len(odd) == data.count(b"\x1d")


BASE = 'code = "X"\nname = "X"\nprofile = "marc21"\nfiles = ["uva_001_2000.mrc"]\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("title = 'no libraries'", "one or more"),
        (
            "[[library]]\n" + BASE.replace('profile = "marc21"', 'profile = "dublin"'),
            "profile must be one of",
        ),
        ("[[library]]\n" + BASE + 'select = "third"\n', "select must be one of"),
        ("[[library]]\n" + BASE.replace("uva_001_2000.mrc", "nowhere.mrc"), "files not found"),
        ("[[library]]\n" + BASE.replace('name = "X"\n', ""), "missing 'name'"),
        ("[[library]]\n" + BASE + "colour = 1\n", "unknown keys colour"),
        ("[[library]]\n" + BASE + "[[library]]\n" + BASE, "used twice: X"),
        ("[[library]]\n" + BASE.replace('"X"', '"X Y"', 1), "not a valid source code"),
        ("[[library]", "not valid TOML"),
    ],
)
def test_bad_network_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "network.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_network(path)
