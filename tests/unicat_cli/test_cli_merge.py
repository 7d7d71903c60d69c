"""``unicat merge``: why records were merged, and librarians' splits and forced merges, through the
real command line on the embedded engine.

Records: in dedup/pride-and-prejudice-fixed.mrc (0-based, file order) 27 and 30 are the 2003
Penguin *Pride and prejudice* (ISBN 0141439513 → 9780141439518, LCCN 2003265779), 31 the 2003
Penguin *Sense and sensibility*.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.indexer.indexer_testdata import iso2709_records
from tests.unicat_cli.test_cli import run
from unicat_cli.cli import EXIT_OK, EXIT_USAGE


@pytest.fixture
def catalogue(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    raws = iso2709_records("dedup/pride-and-prejudice-fixed.mrc")
    for position in (27, 30, 31):
        path = tmp_path / f"l{position}.mrc"
        path.write_bytes(raws[position])
        assert run(capsys, tmp_path, "import", f"L{position}", str(path))[0] == EXIT_OK
    assert run(capsys, tmp_path, "index")[0] == EXIT_OK
    return tmp_path


def _union_id_of(capsys: pytest.CaptureFixture[str], data_dir: Path, source: str) -> str:
    _, out, _ = run(capsys, data_dir, "export", "--format", "jsonl")
    for line in out.splitlines():
        record = json.loads(line)
        if any(ref["source"] == source for ref in record["sources"]):
            return str(record["id"])
    raise AssertionError(f"no union record has a member of {source}")


def test_show_split_list_and_undo(capsys: pytest.CaptureFixture[str], catalogue: Path) -> None:
    merged = _union_id_of(capsys, catalogue, "L27")
    assert _union_id_of(capsys, catalogue, "L30") == merged
    code, out, _ = run(capsys, catalogue, "merge", "show", merged, "--json")
    shown = json.loads(out)
    assert code == EXIT_OK and len(shown["members"]) == 2
    assert {"rule": "isbn", "key": "9780141439518", "label": "same ISBN"} in shown["rules"]
    code, out, _ = run(capsys, catalogue, "merge", "show", merged)
    assert "same ISBN: 9780141439518" in out

    local_30 = next(m["local_id"] for m in shown["members"] if m["source"] == "L30")
    code, out, _ = run(
        capsys, catalogue, "merge", "split", merged, f"L30:{local_30}", "--reason", "another printing",
        "--by", "anne", "--index",
    )  # fmt: skip
    assert code == EXIT_OK and "keep apart" in out and "another printing" in out
    assert _union_id_of(capsys, catalogue, "L27") == merged != _union_id_of(capsys, catalogue, "L30")
    code, out, _ = run(capsys, catalogue, "merge", "list", "--json")
    [decision] = json.loads(out)
    assert (decision["kind"], decision["by"], decision["reason"]) == ("split", "anne", "another printing")
    assert run(capsys, catalogue, "index")[0] == EXIT_OK  # the split holds on a plain re-index
    assert _union_id_of(capsys, catalogue, "L30") != merged

    code, out, _ = run(capsys, catalogue, "merge", "undo", str(decision["id"]))
    assert code == EXIT_OK and "unicat index" in out  # says when it applies
    assert run(capsys, catalogue, "index")[0] == EXIT_OK
    assert _union_id_of(capsys, catalogue, "L30") == merged


def test_force_joins_two_records(capsys: pytest.CaptureFixture[str], catalogue: Path) -> None:
    pride, sense = _union_id_of(capsys, catalogue, "L27"), _union_id_of(capsys, catalogue, "L31")
    code, out, _ = run(capsys, catalogue, "merge", "force", sense, pride, "--index")
    assert code == EXIT_OK and "merge" in out
    assert _union_id_of(capsys, catalogue, "L31") == _union_id_of(capsys, catalogue, "L27")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["merge", "split", "FIRST", "no-colon"], "is not SOURCE:LOCAL_ID"),
        (["merge", "split", "FIRST", "NOPE:1"], "is not in"),
        (["merge", "force", "FIRST", "u-none"], "no union record"),
        (["merge", "show", "u-none"], "no union record"),
        (["merge", "undo", "42"], "no merge decision #42"),
    ],
)
def test_bad_arguments_are_one_line_usage_errors(
    capsys: pytest.CaptureFixture[str], catalogue: Path, arguments: list[str], message: str
) -> None:
    first = _union_id_of(capsys, catalogue, "L27")
    code, _, err = run(capsys, catalogue, *(first if a == "FIRST" else a for a in arguments))
    assert code == EXIT_USAGE
    assert message in err and len(err.strip().splitlines()) == 1
