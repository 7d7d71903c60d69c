"""Files the command line cannot write or read: one line naming the option, exit status 2, no traceback.

Through ``main`` with real files: a directory, a missing folder, a place without permission, a full
disk (``/dev/full`` answers every write with ENOSPC).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.indexer.indexer_testdata import unreadable_record
from tests.support.shared_data import SHARED_DATA
from unicat_cli.cli import EXIT_OK, EXIT_USAGE, main

RECORDS = SHARED_DATA / "marc21" / "brkrtest.mrc"


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def forbidden(tmp_path: Path) -> Iterator[Path]:
    """A path this process may not create: in a read-only folder, or (for root, whom folder permissions
    do not stop) under /sys, which refuses new files to everyone."""
    if os.geteuid() == 0:
        yield Path("/sys/unicat-out")
        return
    folder = tmp_path / "read-only"
    folder.mkdir(mode=0o555)
    yield folder / "out"
    folder.chmod(0o755)


@pytest.fixture
def catalogue_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    data_dir = tmp_path / "data"
    broken = tmp_path / "broken.mrc"
    broken.write_bytes(unreadable_record())
    assert run(capsys, data_dir, "import", "SRC", str(RECORDS), str(broken))[0] == EXIT_OK
    assert run(capsys, data_dir, "index")[0] == EXIT_OK
    return data_dir


def _bad_outputs(tmp_path: Path, forbidden: Path) -> dict[str, tuple[Path, str]]:
    return {
        "directory": (tmp_path, "it is a directory"),
        "missing folder": (tmp_path / "no-such-folder" / "out", "its folder does not exist"),
        "no permission": (forbidden, "no permission to write there"),
        "full disk": (Path("/dev/full"), "the disk is full"),
    }


def _assert_one_line(code: int, err: str, path: Path, words: str) -> None:
    assert code == EXIT_USAGE, err
    assert err.startswith(f"unicat: error: --out: cannot write {path}: ")
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("fmt", ["jsonl", "marcxml"])
def test_export_out_that_cannot_be_written(
    capsys: pytest.CaptureFixture[str], catalogue_dir: Path, tmp_path: Path, forbidden: Path, fmt: str
) -> None:
    for path, words in _bad_outputs(tmp_path, forbidden).values():
        code, _, err = run(capsys, catalogue_dir, "export", "--format", fmt, "--out", str(path))
        _assert_one_line(code, err, path, words)
    good = tmp_path / f"union.{fmt}"
    assert run(capsys, catalogue_dir, "export", "--format", fmt, "--out", str(good))[0] == EXIT_OK
    assert good.stat().st_size > 0


def test_quarantine_show_out_that_cannot_be_written(
    capsys: pytest.CaptureFixture[str], catalogue_dir: Path, tmp_path: Path, forbidden: Path
) -> None:
    # The unreadable record is quarantined at indexing.
    [entry] = json.loads(run(capsys, catalogue_dir, "quarantine", "list", "--json")[1])["entries"]
    local_id = entry["local_id"]
    for path, words in _bad_outputs(tmp_path, forbidden).values():
        code, _, err = run(capsys, catalogue_dir, "quarantine", "show", "SRC", local_id, "--out", str(path))
        _assert_one_line(code, err, path, words)
    good = tmp_path / "entry.mrc"
    assert run(capsys, catalogue_dir, "quarantine", "show", "SRC", local_id, "--out", str(good))[0] == EXIT_OK
    assert good.read_bytes() == unreadable_record()


@pytest.mark.parametrize("option", ["import", "--config", "--mapping"])
def test_input_files_that_cannot_be_read(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, option: str
) -> None:
    for path, words in ((tmp_path, "is not a regular file"), (tmp_path / "nothing.toml", "does not exist")):
        if option == "import":
            code, _, err = run(capsys, tmp_path / "data", "import", "SRC", str(path))
            name = "FILE"
        elif option == "--config":
            code, _, err = run(capsys, tmp_path / "data", "--config", str(path), "status")
            name = option
        else:
            args = ("source", "add", "SRC", "--name", "S", "--mapping", str(path))
            code, _, err = run(capsys, tmp_path / "data", *args)
            name = option
        assert code == EXIT_USAGE, err
        assert err.startswith(f"unicat: error: {name}: {path} ") and words in err
        assert "Traceback" not in err and len(err.strip().splitlines()) == 1
