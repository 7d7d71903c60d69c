"""``unicat target test``: one live target searched now through the real clients, its records read and
merged with the union's, against Zebra loaded with the shared records and a target that never answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymarc
import pytest

from federated.query_translation import to_pqf
from tests.support.live_faults import silent_listener
from tests.support.shared_data import SHARED_DATA
from tests.support.yaz_client import yaz_client
from tests.support.zebra import MARC21_DATABASE, ZebraServer
from unicat.live_search import LiveTarget
from unicat.query import parse_search_params
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, EXIT_USAGE, main

PRIDE = SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc"
IMPORTED = 60
"""The first records of the Pride set that the union catalogue holds; Zebra holds all of them."""


def _run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _control_number(record: pymarc.Record) -> str | None:
    field = record.get("001")
    return field.data.strip() if field is not None and field.data else None


def _union_of_first_records(capsys: pytest.CaptureFixture[str], data_dir: Path) -> set[str]:
    """Import and index the first :data:`IMPORTED` Pride records; their 001s."""
    with PRIDE.open("rb") as handle:
        records = [record for record in pymarc.MARCReader(handle) if record is not None][:IMPORTED]
    subset = data_dir / "subset.mrc"
    subset.parent.mkdir(parents=True, exist_ok=True)
    subset.write_bytes(b"".join(record.as_marc() for record in records))
    assert _run(capsys, data_dir, "import", "PRIDE", str(subset))[0] == EXIT_OK
    assert _run(capsys, data_dir, "index")[0] == EXIT_OK
    return {number for record in records if (number := _control_number(record))}


def test_a_zebra_target_answers_what_yaz_client_finds_and_joins_the_union(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, zebra: ZebraServer
) -> None:
    held = _union_of_first_records(capsys, tmp_path)
    address = zebra.z3950_address(MARC21_DATABASE)
    code, out, err = _run(capsys, tmp_path, "target", "add", "ZEB", "--name", "Zebra", "--z3950", address)
    assert code == EXIT_OK, err
    code, out, err = _run(capsys, tmp_path, "target", "test", "ZEB", "--query", "pride", "--json")
    assert code == EXIT_OK, err
    report: dict[str, Any] = json.loads(out)
    target = LiveTarget("ZEB", "Zebra", "z3950", address)
    pqf = to_pqf(parse_search_params({"q": ["pride"]}, Settings()), target)
    second_opinion = yaz_client(address, pqf, "1+20", tmp_path)
    assert report["hits"] == second_opinion.hits > 20
    assert report["records"] == 20 and report["rejected"] == []
    # The records Zebra sent first that the union holds too (the same records: the same 001) join the
    # union's editions instead of making lines of their own.
    sent = [record for record in pymarc.MARCReader(second_opinion.records) if record is not None]
    also_in_union = [record for record in sent if _control_number(record) in held]
    assert also_in_union, "the first page of Zebra's answer should hold some of the union's records"
    assert report["in_union"] >= len(also_in_union)


def test_a_target_that_never_answers_fails_with_its_timeout(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with silent_listener() as silent:
        _run(capsys, tmp_path, "target", "add", "DEAD", "--name", "Dead", "--z3950", silent.z3950_address,
             "--timeout", "1")  # fmt: skip
        code, out, _ = _run(capsys, tmp_path, "target", "test", "DEAD")
    assert code == 1
    assert "DEAD: failed after" in out and "(timeout)" in out and "within 1 s" in out


def test_a_query_map_the_protocol_cannot_send_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = _run(capsys, tmp_path, "target", "add", "S", "--name", "S", "--sru", "http://127.0.0.1:9/sru",
                        "--map", "title=@attr 1=4")  # fmt: skip
    assert code == EXIT_USAGE and "not a CQL index name" in err
    code, _, err = _run(capsys, tmp_path, "target", "add", "Z", "--name", "Z", "--z3950", "127.0.0.1:9/db",
                        "--map", "title=dc.title")  # fmt: skip
    assert code == EXIT_USAGE and "not a list of Bib-1 attributes" in err
    assert "no live targets yet" in _run(capsys, tmp_path, "target", "list")[1]
