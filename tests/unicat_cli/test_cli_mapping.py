"""A source's profile override, end to end through the ``unicat`` command on the SQLite engine:
``source add --mapping``, ``import``, ``index``, then the union records as the JSON API shapes them
(``export --format jsonl``). Expected values are read from the imported file with plain pymarc."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pymarc
import pytest

from tests.support.shared_data import SHARED_DATA
from unicat_cli.cli import EXIT_OK, EXIT_PARTIAL, main

COTES_BR = SHARED_DATA / "unimarc" / "cotesBR.mrc"
OVERRIDE = """\
# Sciences Po: 995 $d holds the storage place (MAG1…), shown as the location; 991 is a local note.
[[holdings]]
tag = "995"
branch = "b"
location = "d"
call_number = "k"
barcode = "f"
item_type = "r"

[add_fields]
notes = "991a"

[libraries]
"751072303" = "Bibliothèque de Sciences Po"
"""


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def exported(capsys: pytest.CaptureFixture[str], data_dir: Path) -> dict[str, dict[str, Any]]:
    code, out, _ = run(capsys, data_dir, "export", "--format", "jsonl")
    assert code == EXIT_OK
    by_member: dict[str, dict[str, Any]] = {}
    for line in out.splitlines():
        record = json.loads(line)
        for member in record["sources"]:
            by_member[member["local_id"]] = record
    return by_member


def test_an_override_changes_holdings_notes_and_library_names(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mapping = tmp_path / "scpo.toml"
    mapping.write_text(OVERRIDE, encoding="utf-8")
    code, out, err = run(
        capsys, tmp_path, "source", "add", "SCPO", "--name", "Sciences Po", "--profile", "unimarc",
        "--mapping", str(mapping),
    )  # fmt: skip
    assert code == EXIT_OK, err
    assert "profile override" in out
    code, out, _ = run(capsys, tmp_path, "source", "list", "--json")
    assert json.loads(out)[0]["mapping"] == OVERRIDE
    assert run(capsys, tmp_path, "import", "SCPO", str(COTES_BR))[0] == EXIT_OK
    assert run(capsys, tmp_path, "index")[0] == EXIT_OK

    records = exported(capsys, tmp_path)
    with COTES_BR.open("rb") as handle:
        plain = [r for r in pymarc.MARCReader(handle, to_unicode=True, force_utf8=True) if r is not None]
    assert len(plain) == 4 and set(records) == {r.get_fields("001")[0].data for r in plain}
    for record in plain:
        union = records[record.get_fields("001")[0].data]
        fields = record.get_fields("995")
        holdings = [h for h in union["holdings"] if h["library"] == "SCPO"]
        assert [h["branch"] for h in holdings] == [f.get("b") for f in fields]
        assert {h["branch_name"] for h in holdings} == {"Bibliothèque de Sciences Po"}
        assert [h["location"] for h in holdings] == [f.get("d") for f in fields]
        assert [h["barcode"] for h in holdings] == [f.get("f") for f in fields]
        assert [h["item_type"] for h in holdings] == [f.get("r") for f in fields]
        # The override's 995 replaces the base's: no depositary is read any more.
        assert all("depositary" not in h for h in holdings)
        local_notes = [f.get("a") for f in record.get_fields("991")]
        assert local_notes and set(local_notes) <= set(union["notes"])

    # Updating the source without --mapping keeps it; --no-mapping drops it.
    run(capsys, tmp_path, "source", "add", "SCPO", "--name", "Sciences Po", "--profile", "unimarc")
    _, out, _ = run(capsys, tmp_path, "source", "list", "--json")
    assert json.loads(out)[0]["mapping"] == OVERRIDE
    run(
        capsys,
        tmp_path,
        "source",
        "add",
        "SCPO",
        "--name",
        "Sciences Po",
        "--profile",
        "unimarc",
        "--no-mapping",
    )
    assert run(capsys, tmp_path, "index")[0] == EXIT_OK
    again = exported(capsys, tmp_path)
    record = plain[0]
    holdings = again[record.get_fields("001")[0].data]["holdings"]
    assert [h.get("depositary") for h in holdings] == [f.get("c") for f in record.get_fields("995")]
    assert all("branch_name" not in h for h in holdings)


def test_a_bad_override_is_refused_with_the_file_and_key_and_nothing_is_saved(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    mapping = tmp_path / "bad.toml"
    mapping.write_text('[[holdings]]\ntag = "995"\nshelf = "k"\n', encoding="utf-8")
    code, out, err = run(
        capsys, tmp_path, "source", "add", "SCPO", "--name", "Sciences Po", "--profile", "unimarc",
        "--mapping", str(mapping),
    )  # fmt: skip
    assert code == EXIT_PARTIAL
    assert err.startswith(f"unicat: error: {mapping}: holdings #1.shelf is not a holding attribute")
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    _, out, _ = run(capsys, tmp_path, "source", "list", "--json")
    assert json.loads(out) == []
    mapping.write_text("[fields\n", encoding="utf-8")
    code, _, err = run(capsys, tmp_path, "source", "add", "SCPO", "--name", "S", "--mapping", str(mapping))
    assert code == EXIT_PARTIAL and f"{mapping} is not valid TOML" in err
