"""The demo network file: the shipped one loads, and mistakes in an edited one give clear errors."""

from __future__ import annotations

from pathlib import Path

import pymarc
import pytest

from indexer.extract import extract
from indexer.overrides import source_profile
from indexer.profiles import builtin_profile
from unicat.errors import ConfigError
from unicat.holding_codes import CODE_KINDS
from unicat.libraries import LibraryDirectory
from unicat_cli.demo.network import DATA_DIR, library_records, load_directory, load_network


def test_shipped_network() -> None:
    libraries = {library.code: library for library in load_network()}
    assert list(libraries) == ["VIRG", "SCPO", "MEDI", "AUSA", "AUSB", "AUSC"]
    assert [code for code, library in libraries.items() if library.live] == ["AUSC"]
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
        ("[[library]]\n" + BASE + 'select = "fourth"\n', "select must be one of"),
        ("[[library]]\n" + BASE.replace("uva_001_2000.mrc", "nowhere.mrc"), "files not found"),
        ("[[library]]\n" + BASE.replace('name = "X"\n', ""), "missing 'name'"),
        ("[[library]]\n" + BASE + "colour = 1\n", "unknown keys colour"),
        ("[[library]]\n" + BASE + "[[library]]\n" + BASE, "used twice: X"),
        ("[[library]]\n" + BASE.replace('"X"', '"X Y"', 1), "not a valid source code"),
        ("[[library]", "not valid TOML"),
        ("[[library]]\n" + BASE + 'codes = "absent.toml"\n', "codes must name a file"),
        ("[[library]]\n" + BASE + 'codes = "codes.toml"\n', "'shelf' is not a kind of code"),
    ],
)
def test_bad_network_files(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "network.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "codes.toml").write_text('[shelf]\nA = "B"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_network(path)


def _carried_codes(code: str) -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """The (kind, code) pairs the library's holdings carry, as the indexer reads them, and those its
    shipped table names."""
    library = next(library for library in load_network() if library.code == code)
    source = library.source("http://127.0.0.1:9/oai")
    carried: set[tuple[str, str]] = set()
    for raw in library_records(library):
        record = pymarc.Record(data=raw, force_utf8=library.force_utf8, to_unicode=True)
        for holding in extract(record, builtin_profile(library.profile), source, "id").holdings:
            carried.update((kind, value) for kind in CODE_KINDS if (value := getattr(holding, kind)))
    return carried, {(entry.kind, entry.code) for entry in library.codes}


@pytest.mark.parametrize("code", ["MEDI", "VIRG"])
def test_shipped_code_tables_name_codes_the_librarys_holdings_carry(code: str) -> None:
    carried, named = _carried_codes(code)

    assert named and named <= carried


def test_every_branch_and_document_type_of_medi_is_named() -> None:
    carried, named = _carried_codes("MEDI")

    assert {(kind, value) for kind, value in carried if kind in ("branch", "item_type")} <= named


def test_every_library_of_the_shipped_directory_keeps_copies_and_virg_spreads_over_several() -> None:
    network = load_network()
    directory = LibraryDirectory(load_directory(network))
    kept: dict[str, set[str | None]] = {}
    for library in network:
        source = library.source("http://127.0.0.1:9/oai")
        profile = source_profile(source)  # with the source's override, as the indexer reads it
        for raw in library_records(library):
            record = pymarc.Record(data=raw, force_utf8=library.force_utf8, to_unicode=True)
            for holding in extract(record, profile, source, "id").holdings:
                kept.setdefault(library.code, set()).add(directory.site_of(source.code, holding.branch))

    assert {site for sites in kept.values() for site in sites} == {library.code for library in directory}
    assert len(kept["VIRG"]) >= 5 and None not in kept["VIRG"]
    assert all(library.located and library.opening_hours for library in directory)


def test_a_directory_library_of_an_unknown_source_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "libraries.toml"
    path.write_text('[[library]]\ncode = "X"\nname = "X"\nsource = "NOPE"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match="X keeps NOPE, no demo source"):
        load_directory(load_network(), path)
