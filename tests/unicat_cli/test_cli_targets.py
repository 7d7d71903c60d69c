"""``unicat target``: live targets through the real command line, with the store in SQLite (the embedded
setup) and in PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from unicat_cli.cli import EXIT_OK, EXIT_USAGE, main


class Cli:
    """Runs ``unicat`` in process on one catalogue: its index in a directory of the test's own, its store
    there too (SQLite) or in the test's PostgreSQL database."""

    def __init__(self, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
        self.capsys = capsys
        self.args = args

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main([*self.args, *args])
        captured = self.capsys.readouterr()
        return code, captured.out, captured.err

    def ok(self, *args: str) -> str:
        code, out, err = self(*args)
        assert code == EXIT_OK, err
        return out

    def refused(self, *args: str) -> str:
        """The message of a usage error (exit code 2)."""
        code, _, err = self(*args)
        assert code == EXIT_USAGE, err
        return err

    def shown(self, code: str) -> dict[str, Any]:
        target: dict[str, Any] = json.loads(self.ok("target", "show", code, "--json"))
        return target


@pytest.fixture(params=["sqlite", "postgresql"])
def cli(request: pytest.FixtureRequest, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Cli:
    store = (
        ["--store", str(request.getfixturevalue("postgres_database_url"))]
        if request.param != "sqlite"
        else []
    )
    return Cli(capsys, ["--data-dir", str(tmp_path), *store])


def test_add_show_list_and_remove(cli: Cli) -> None:
    assert "no live targets yet" in cli.ok("target", "list")
    out = cli.ok(
        "target", "add", "LOC", "--name", "Library of Congress", "--sru", "https://lx2.loc.gov:210/LCDB",
        "--map", "title=dc.title", "--map", "author=bath.name", "--library", "BNF", "--library", "SCPO",
        "--timeout", "4.5", "--max-records", "50",
    )  # fmt: skip
    assert "added live target LOC" in out
    cli.ok(
        "target", "add", "ZEB", "--name", "Zebra", "--z3950", "127.0.0.1:9999/Default",
        "--profile", "unimarc", "--charset", "marc8", "--map", "title=@attr 1=4", "--disable",
    )  # fmt: skip
    loc = cli.shown("LOC")
    assert loc.pop("created") == loc.pop("updated") is not None
    assert loc == {
        "code": "LOC",
        "name": "Library of Congress",
        "protocol": "sru",
        "address": "https://lx2.loc.gov:210/LCDB",
        "record_syntax": "marcxml",
        "profile": "marc21",
        "charset": None,
        "query_map": {"title": "dc.title", "author": "bath.name"},
        "timeout": 4.5,
        "libraries": ["BNF", "SCPO"],
        "max_records": 50,
        "enabled": True,
    }
    zebra = cli.shown("ZEB")
    # A UNIMARC Z39.50 target is asked for UNIMARC records unless told otherwise.
    assert (zebra["record_syntax"], zebra["charset"], zebra["enabled"]) == ("unimarc", "marc8", False)
    assert (zebra["timeout"], zebra["max_records"], zebra["libraries"]) == (10.0, 20, [])

    rows = cli.ok("target", "list").splitlines()
    assert [row.split()[:4] for row in rows] == [
        ["LOC", "sru", "https://lx2.loc.gov:210/LCDB", "marc21"],
        ["ZEB", "z3950", "127.0.0.1:9999/Default", "unimarc"],
    ]
    assert rows[0].split()[4:] == ["BNF,", "SCPO", "enabled"] and rows[1].split()[4:] == ["none", "disabled"]
    assert [target["code"] for target in json.loads(cli.ok("target", "list", "--json"))] == ["LOC", "ZEB"]
    text = cli.ok("target", "show", "ZEB")
    assert "address: 127.0.0.1:9999/Default" in text and "map title: @attr 1=4" in text

    assert "removed live target LOC" in cli.ok("target", "remove", "LOC")
    assert [target["code"] for target in json.loads(cli.ok("target", "list", "--json"))] == ["ZEB"]
    assert "no live target 'LOC'" in cli.refused("target", "remove", "LOC")
    assert "no live target 'LOC'" in cli.refused("target", "show", "LOC")


def test_adding_a_stored_code_changes_only_the_options_given(cli: Cli) -> None:
    cli.ok(
        "target", "add", "LOC", "--name", "Library of Congress", "--sru", "https://lx2.loc.gov:210/LCDB",
        "--map", "title=dc.title", "--map", "author=bath.name", "--library", "BNF", "--timeout", "4.5",
        "--charset", "iso-8859-1", "--disable",
    )  # fmt: skip
    before = cli.shown("LOC")
    assert "updated live target LOC" in cli.ok(
        "target", "add", "LOC", "--map", "author=", "--map", "any=cql.anywhere"
    )
    after = cli.shown("LOC")
    assert after["query_map"] == {"title": "dc.title", "any": "cql.anywhere"}
    assert after["created"] == before["created"] and after["updated"] >= before["updated"]
    unchanged = ("name", "protocol", "address", "record_syntax", "charset", "timeout", "libraries", "enabled")
    assert {key: after[key] for key in unchanged} == {key: before[key] for key in unchanged}

    cli.ok("target", "add", "LOC", "--library", "SCPO", "--library", "UVA", "--enable", "--charset", "")
    assert (cli.shown("LOC")["libraries"], cli.shown("LOC")["enabled"]) == (["SCPO", "UVA"], True)
    assert cli.shown("LOC")["charset"] is None
    cli.ok("target", "add", "LOC", "--no-library")
    assert cli.shown("LOC")["libraries"] == []


def test_a_new_protocol_brings_its_own_default_syntax(cli: Cli) -> None:
    cli.ok(
        "target",
        "add",
        "LOC",
        "--name",
        "LoC",
        "--sru",
        "https://lx2.loc.gov:210/LCDB",
        "--map",
        "title=dc.title",
    )
    # A CQL index means nothing to a Z39.50 server: the protocol changes with a map that suits it.
    refused = cli.refused("target", "add", "LOC", "--z3950", "lx2.loc.gov:210/LCDB")
    assert "'dc.title' is not a list of Bib-1 attributes" in refused and "--map title=" in refused
    assert cli.shown("LOC")["protocol"] == "sru"
    cli.ok("target", "add", "LOC", "--z3950", "lx2.loc.gov:210/LCDB", "--map", "title=1=4")
    assert (cli.shown("LOC")["protocol"], cli.shown("LOC")["record_syntax"]) == ("z3950", "usmarc")
    cli.ok("target", "add", "LOC", "--syntax", "xml")
    cli.ok("target", "add", "LOC", "--profile", "unimarc")
    assert cli.shown("LOC")["record_syntax"] == "xml"  # chosen: kept while the protocol stays
    cli.ok("target", "add", "LOC", "--sru", "https://lx2.loc.gov:210/LCDB", "--map", "title=")
    assert cli.shown("LOC")["record_syntax"] == "marcxml"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--name", "X"], "a new target needs its address"),
        (["--sru", "https://x.example.org/sru"], "a new target needs a name"),
        (["--name", "X", "--sru", "z3950.example.org:210/books"], "http(s) base URL"),
        (["--name", "X", "--z3950", "https://x.example.org/sru"], "host:port/database"),
        (["--name", "X", "--sru", "https://x.example.org/sru", "--syntax", "usmarc"], "use marcxml"),
        (
            ["--name", "X", "--sru", "https://x.example.org/sru", "--timeout", "0.1"],
            "from 0.5 to 120 seconds",
        ),
        (["--name", "X", "--sru", "https://x.example.org/sru", "--max-records", "101"], "from 1 to 100"),
        (["--name", "X", "--sru", "https://x.example.org/sru", "--map", "isbn=dc.identifier"], "'isbn'"),
        (["--name", "X", "--sru", "https://x.example.org/sru", "--map", "title"], "write FIELD=INDEX"),
    ],
)
def test_bad_values_are_usage_errors_and_store_nothing(cli: Cli, arguments: list[str], message: str) -> None:
    assert message in cli.refused("target", "add", "NEW", *arguments)
    assert json.loads(cli.ok("target", "list", "--json")) == []


def test_the_code_of_a_source_is_refused(cli: Cli) -> None:
    cli.ok("source", "add", "NAMUR", "--name", "Namur", "--oai-url", "http://127.0.0.1:9/oai")
    err = cli.refused("target", "add", "NAMUR", "--name", "Namur live", "--sru", "https://x.example.org/sru")
    assert "NAMUR is the code of a harvested source" in err
    assert json.loads(cli.ok("target", "list", "--json")) == []


def test_libraries_must_be_in_the_directory_when_it_lists_any(cli: Cli) -> None:
    add = ("target", "add", "LOC", "--name", "LoC", "--sru", "https://lx2.loc.gov:210/LCDB")
    cli.ok(*add, "--library", "ANY")  # an empty directory cannot tell
    cli.ok("library", "add", "SCPO", "--name", "Sciences Po")
    cli.ok("library", "add", "BNF", "--name", "BnF")
    err = cli.refused(*add, "--library", "BNF", "--library", "OXF")
    assert "no library 'OXF'" in err and "known: BNF, SCPO" in err
    assert cli.shown("LOC")["libraries"] == ["ANY"]  # the refused change left the target as it was
    cli.ok(*add, "--library", "BNF")
    assert cli.shown("LOC")["libraries"] == ["BNF"]
