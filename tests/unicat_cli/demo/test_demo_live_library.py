"""The demo's library searched live: after ``unicat demo``'s setup, AUSC is a live target answering over
the SRU of its own Unicat on loopback, never a harvested source, and ``unicat target test`` finds its
copies of the Pride and Prejudice editions in the union.

Expected values come from the demo's files read with pymarc and from the MARC profiles' data
(``mappings/*.toml``), never from Unicat's answers.
"""

from __future__ import annotations

import asyncio
import json
import tomllib
from collections import Counter
from pathlib import Path

import pymarc
import pytest

from mappings import MAPPINGS_DIR
from unicat.analysis import tokens
from unicat.settings import Settings
from unicat_cli.cli import main
from unicat_cli.demo.live_library import LIVE_DIR, LiveLibraries
from unicat_cli.demo.network import library_records, load_network
from unicat_cli.demo.run import run_demo
from unicat_cli.wiring import open_catalogue

HARVESTED = ("VIRG", "SCPO", "MEDI", "AUSA", "AUSB")

ANY_FIELDS: tuple[str, ...] = (
    "title", "other_titles", "responsibility", "authors", "subjects", "publisher", "place", "series", "notes",
)  # fmt: skip
"""The record fields whose words a search anywhere finds (docs/sru.md: cql.serverChoice searches every
text field; unicat/documents.py puts these in the text fields)."""


def _profile_subfields(profile: str) -> list[tuple[str, str]]:
    """(tag, subfield codes) of every MARC field a profile reads into :data:`ANY_FIELDS`."""
    fields = tomllib.loads((MAPPINGS_DIR / f"{profile}.toml").read_text(encoding="utf-8"))["fields"]
    return [(spec[:3], spec[3:]) for name in ANY_FIELDS if name in fields for spec in fields[name].split(":")]


def _raw_records(code: str) -> list[bytes]:
    return library_records(next(library for library in load_network() if library.code == code))


def _ausc_records() -> list[pymarc.Record]:
    # Only the ASCII word "pride" is looked for: the records are read as UTF-8, whatever they declare.
    return [pymarc.Record(data=raw, to_unicode=True, force_utf8=True) for raw in _raw_records("AUSC")]


def _pride_editions() -> int:
    """AUSC's editions a search for ``pride`` finds: its records with the word (or its plural, the one
    form of it that shares its stem) in a searched field, two records of one ISBN counted once (the
    union merges them)."""
    marc21, unimarc = _profile_subfields("marc21"), _profile_subfields("unimarc")
    found = []
    for record in _ausc_records():
        # A record titled in 200 without a 245 is read as UNIMARC (docs/indexing.md).
        spec = unimarc if record.get_fields("200") and not record.get_fields("245") else marc21
        words = {
            word
            for tag, codes in spec
            for field in record.get_fields(tag)
            for subfield in field.subfields
            if subfield.code in codes
            for word in tokens(subfield.value)
        }
        if words & {"pride", "prides"}:
            found.append(record)
    isbns = Counter(
        isbn
        for record in found
        for isbn in {field.get("a", "").split(" ")[0] for field in record.get_fields("020")}
    )
    return len(found) - sum(count - 1 for isbn, count in isbns.items() if isbn)


def _settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, engine_url=f"sqlite:///{data_dir / 'unicat.db'}")


async def _demo(data_dir: Path, live: LiveLibraries, capsys: pytest.CaptureFixture[str]) -> str:
    settings = _settings(data_dir)
    with open_catalogue(settings) as catalogue:
        assert await run_demo(catalogue, settings, host="127.0.0.1", port=0, serve=False, live=live) == 0
    return capsys.readouterr().out


async def test_the_demo_searches_austen_steventon_live_over_sru(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = LiveLibraries(), LiveLibraries()
    try:
        await _demo(tmp_path, first, capsys)
        [earlier] = first.libraries
        await first.close()
        # A second run on the same data dir: the library is loaded afresh, its target stored anew.
        output = await _demo(tmp_path, second, capsys)
        [served] = second.libraries
        assert served.records == earlier.records  # loaded again, not added to the first run's
        assert (
            len(_raw_records("AUSC")) == 40 + (383 + 2) // 3
        )  # all of 065001035.mrc, every third Pride record
        assert "AUSC  live SRU" in output and served.url in output and "Austen Society — Steventon" in output

        with open_catalogue(_settings(tmp_path)) as catalogue:
            [target] = catalogue.targets.list_targets()
            sources = {source.code: source for source in catalogue.records.list_sources()}
            counts = {code: catalogue.records.source_counts(code).live for code in sources}
            directory = catalogue.libraries.directory()
        assert (target.code, target.protocol, target.address) == ("AUSC", "sru", served.url)
        assert target.libraries == ("AUSC",) and target.enabled
        # Never harvested: the sources are the five harvested libraries, each with its records.
        assert set(sources) == set(HARVESTED)
        assert counts == {code: len(_raw_records(code)) for code in HARVESTED}
        assert directory.site_of("AUSC", "AUSC") == "AUSC"
        assert [path.name for path in (tmp_path / LIVE_DIR).glob("*.db")] == ["AUSC.db"]

        # The CLI runs its own event loop: in a thread, while this loop serves the live library.
        status = await asyncio.to_thread(
            main, ["--data-dir", str(tmp_path), "target", "test", "AUSC", "--query", "pride", "--json"]
        )
        report = json.loads(capsys.readouterr().out)
    finally:
        await first.close()
        await second.close()
    assert status == 0 and report["state"] == "done", report
    assert report["hits"] == _pride_editions()
    # Every Pride record of AUSC comes from the file AUSA and AUSB share out: each edition is in the union.
    assert report["records"] == min(report["hits"], target.max_records) and not report["rejected"]
    assert report["titles"] and all(line["in_union"] and line["union_id"] for line in report["titles"])
    assert report["in_union"] == report["records"]
