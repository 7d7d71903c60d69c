"""The ``unicat`` command, run in process on real files and a real SQLite engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymarc
import pytest

from tests.support.loopback import free_port
from tests.support.shared_data import SHARED_DATA
from unicat_cli.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def status(capsys: pytest.CaptureFixture[str], data_dir: Path) -> dict[str, Any]:
    code, out, _ = run(capsys, data_dir, "status", "--json")
    assert code == EXIT_OK
    result: dict[str, Any] = json.loads(out)
    return result


def test_source_add_and_list(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(
        capsys, tmp_path, "source", "add", "NAMUR", "--name", "Bibliothèque de Namur",
        "--oai-url", "http://127.0.0.1:9/oai", "--profile", "unimarc", "--interval", "6h",
    )  # fmt: skip
    assert code == EXIT_OK and "NAMUR" in out
    code, out, _ = run(capsys, tmp_path, "source", "list", "--json")
    assert json.loads(out) == [
        {
            "code": "NAMUR",
            "name": "Bibliothèque de Namur",
            "oai_url": "http://127.0.0.1:9/oai",
            "metadata_prefix": "marcxml",
            "set_spec": None,
            "profile": "unimarc",
            "harvest_interval": 6 * 3600.0,
            "mapping": None,
        }
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["source", "add", "X", "--name", "X", "--interval", "soon"], "is not a duration"),
        (["source", "add", "X", "--name", "X", "--interval", "30s"], "shorter than a minute"),
        (["harvest", "--from", "2024-13-01"], "is not an OAI-PMH date"),
        (["harvest", "--until", "yesterday"], "is not an OAI-PMH date"),
        (["harvest", "--from", "2024-01-01", "--until", "2024-02-01T00:00:00Z"], "same granularity"),
    ],
)
def test_bad_intervals_and_dates_are_usage_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, arguments: list[str], message: str
) -> None:
    if arguments[0] == "harvest":  # a source to harvest, so that the dates are looked at
        run(
            capsys,
            tmp_path,
            "source",
            "add",
            "NAMUR",
            "--name",
            "N",
            "--oai-url",
            f"http://127.0.0.1:{free_port()}/oai",
        )
    code, _, err = run(capsys, tmp_path, *arguments)
    assert code == EXIT_USAGE
    assert message in err


def test_bad_source_code_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, tmp_path, "source", "add", "no spaces!", "--name", "X")
    assert code == EXIT_USAGE
    assert "not a valid source code" in err


def test_import_index_export_on_real_records(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    marc_file = SHARED_DATA / "marc21" / "065001035.mrc"
    with marc_file.open("rb") as handle:
        expected_ids = {record["001"].data for record in pymarc.MARCReader(handle) if record}
    assert len(expected_ids) == 40  # CENSUS.tsv: 40 records parsed, each with its own 001

    code, out, _ = run(capsys, tmp_path, "import", "ZDB", str(marc_file), "--name", "ZDB test")
    assert code == EXIT_OK and "imported 40 records" in out
    code, out, _ = run(capsys, tmp_path, "index")
    assert code == EXIT_OK and "union records" in out

    report = status(capsys, tmp_path)
    [source] = report["sources"]
    assert (source["code"], source["live"], source["quarantined"]) == ("ZDB", 40, 0)
    assert source["last_run"]["mode"] == "import" and source["last_run"]["status"] == "ok"

    out_file = tmp_path / "union.jsonl"
    code, _, err = run(capsys, tmp_path, "export", "--format", "jsonl", "--out", str(out_file))
    assert code == EXIT_OK
    lines = [json.loads(line) for line in out_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == report["union_records"] and f"exported {len(lines)}" in err
    members = [(ref["source"], ref["local_id"]) for line in lines for ref in line["sources"]]
    assert sorted(members) == sorted(("ZDB", local_id) for local_id in expected_ids)
    assert all({"id", "title", "isbns", "holdings", "sources", "merge"} <= set(line) for line in lines)

    xml_file = tmp_path / "union.xml"
    code, _, _ = run(capsys, tmp_path, "export", "--format", "marcxml", "--out", str(xml_file))
    assert code == EXIT_OK
    records = pymarc.parse_xml_to_array(str(xml_file))
    assert sorted(record["001"].data for record in records) == sorted(line["id"] for line in lines)


def test_malformed_file_is_quarantined_and_shown_in_status(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # The second of its five records has a directory that is not whole 12-byte entries.
    code, _, _ = run(
        capsys,
        tmp_path,
        "import",
        "BAD",
        str(SHARED_DATA / "malformed" / "bad_oversize_field_bad_directory.mrc"),
    )
    assert code == EXIT_OK
    run(capsys, tmp_path, "index")
    report = status(capsys, tmp_path)
    assert report["quarantined"] >= 1 and report["sources"][0]["quarantined"] >= 1
    [entry] = [e for e in report["recent_quarantine"] if e["source"] == "BAD"][:1]
    assert entry["reason"] and entry["bytes"] > 0
    code, out, _ = run(capsys, tmp_path, "status")
    assert "BAD" in out and "latest quarantined records" in out and entry["reason"] in out


def test_harvest_of_a_source_that_is_down_fails_clearly_and_is_recorded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "unicat.toml"
    config.write_text("[unicat]\nhttp_retries = 1\nhttp_backoff = 0.01\nhttp_timeout = 2\n", encoding="utf-8")
    url = f"http://127.0.0.1:{free_port()}/oai"
    run(capsys, tmp_path, "source", "add", "DOWN", "--name", "Down library", "--oai-url", url)
    code, _, err = run(capsys, tmp_path, "--config", str(config), "harvest")
    assert code == EXIT_PARTIAL
    assert "DOWN: FAILED" in err
    last_run = status(capsys, tmp_path)["sources"][0]["last_run"]
    assert last_run["status"] == "failed" and last_run["error"]


def test_harvest_of_an_import_only_source_is_refused(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, tmp_path, "source", "add", "FILES", "--name", "Dumps only")
    code, _, err = run(capsys, tmp_path, "harvest", "FILES")
    assert code == EXIT_USAGE and "no OAI-PMH URL" in err


def test_unknown_source_and_engine_errors_are_one_clear_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, tmp_path, "harvest", "NOPE")
    assert code == EXIT_PARTIAL and "no source with code 'NOPE'" in err
    code, _, err = run(capsys, tmp_path, "--engine", "ftp://nowhere", "status")
    assert code == EXIT_PARTIAL and "index URL" in err and "Traceback" not in err
