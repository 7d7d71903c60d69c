"""``unicat codes``: librarians name their holdings' codes, through the real command line on the
embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.shared_data import SHARED_DATA
from tests.unicat_cli.test_cli import run
from unicat_cli.cli import EXIT_OK, EXIT_USAGE


@pytest.fixture
def data_dir(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    assert (
        run(capsys, tmp_path, "source", "add", "MEDI", "--name", "Médiathèque", "--profile", "unimarc")[0]
        == 0
    )
    return tmp_path


def listed(capsys: pytest.CaptureFixture[str], data_dir: Path) -> list[dict[str, str]]:
    code, out, _ = run(capsys, data_dir, "codes", "list", "MEDI", "--json")
    assert code == EXIT_OK
    entries: list[dict[str, str]] = json.loads(out)
    return entries


def test_set_import_list_and_remove(capsys: pytest.CaptureFixture[str], data_dir: Path) -> None:
    code, out, _ = run(capsys, data_dir, "codes", "set", "MEDI", "item_type", "CN", "Novel")
    assert code == EXIT_OK and "no re-index is needed" in out
    codes_file = data_dir / "codes.toml"
    codes_file.write_text(
        '[item_type]\nCN = "Children\'s novel"\nDI = "Documentary"\n[location]\nANX1 = "Annexe"\n'
    )
    assert run(capsys, data_dir, "codes", "import", "MEDI", str(codes_file))[0] == EXIT_OK

    assert listed(capsys, data_dir) == [
        {"kind": "item_type", "code": "CN", "name": "Children's novel"},
        {"kind": "item_type", "code": "DI", "name": "Documentary"},
        {"kind": "location", "code": "ANX1", "name": "Annexe"},
    ]
    code, out, _ = run(capsys, data_dir, "codes", "list", "MEDI")
    assert "item_type  CN               Children's novel" in out and "3 named codes for MEDI" in out

    assert run(capsys, data_dir, "codes", "remove", "MEDI", "item_type", "DI")[0] == EXIT_OK
    assert [entry["code"] for entry in listed(capsys, data_dir)] == ["CN", "ANX1"]
    assert run(capsys, data_dir, "codes", "remove", "MEDI")[0] == EXIT_OK
    assert listed(capsys, data_dir) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("set", "NOPE", "item_type", "CN", "Novel"), "no source 'NOPE'"),
        (("set", "MEDI", "shelf", "CN", "Novel"), "'shelf' is not a kind of code"),
        (("set", "MEDI", "item_type", " ", "Novel"), "' ' is not a code"),
        (("set", "MEDI", "item_type", "CN", ""), "'' is not a name"),
        (("remove", "MEDI", "shelf"), "'shelf' is not a kind of code"),
        (("list", "NOPE"), "no source 'NOPE'"),
    ],
)
def test_bad_input_is_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str], data_dir: Path, arguments: tuple[str, ...], message: str
) -> None:
    code, _, err = run(capsys, data_dir, "codes", *arguments)

    assert code == EXIT_USAGE and message in err
    assert listed(capsys, data_dir) == []


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("codes.csv", "item_type,CN,Novel\nitem_type,DI\n", "codes.csv line 2: expected 3 columns"),
        ("codes.csv", "item_type,CN,Novel\nshelf,DI,Documentary\n", "'shelf' is not a kind of code"),
        ("codes.toml", '[item_type]\nCN = "Novel"\nDI = \n', "is not valid TOML"),
        ("codes.json", "{}", "expected a .csv or .toml file"),
    ],
)
def test_a_malformed_import_file_stores_nothing(
    capsys: pytest.CaptureFixture[str], data_dir: Path, name: str, text: str, message: str
) -> None:
    path = data_dir / name
    path.write_text(text)

    code, _, err = run(capsys, data_dir, "codes", "import", "MEDI", str(path))

    assert code == EXIT_USAGE and message in err
    assert listed(capsys, data_dir) == []


def test_an_import_file_that_is_not_there_or_not_utf8(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    code, _, err = run(capsys, data_dir, "codes", "import", "MEDI", str(data_dir / "absent.csv"))
    assert code == EXIT_USAGE and "absent.csv" in err
    latin1 = data_dir / "latin1.csv"
    latin1.write_bytes("item_type,CN,Roman pour la jeunesse é\n".encode("latin-1"))
    code, _, err = run(capsys, data_dir, "codes", "import", "MEDI", str(latin1))
    assert code == EXIT_USAGE and "is not UTF-8 text" in err


def test_the_export_names_what_the_tables_name_with_no_re_index(
    capsys: pytest.CaptureFixture[str], data_dir: Path
) -> None:
    """cotesBR.mrc: four records, each with one 995 copy $b 751072303 $c BIB01 $d MAG1 $r CN."""
    cotes = str(SHARED_DATA / "unimarc" / "cotesBR.mrc")
    assert run(capsys, data_dir, "import", "MEDI", cotes)[0] == EXIT_OK
    assert run(capsys, data_dir, "index")[0] == EXIT_OK
    # Named after indexing: the names are applied when the records are read, not stored in them.
    assert run(capsys, data_dir, "codes", "set", "MEDI", "item_type", "CN", "Roman")[0] == EXIT_OK
    assert run(capsys, data_dir, "codes", "set", "MEDI", "depositary", "BIB01", "Centrale")[0] == EXIT_OK

    _, out, _ = run(capsys, data_dir, "export", "--format", "jsonl")
    holdings = [holding for line in out.splitlines() for holding in json.loads(line)["holdings"]]
    assert len(holdings) == 4
    assert {
        (h["item_type"], h["item_type_name"], h["depositary"], h["depositary_name"]) for h in holdings
    } == {("CN", "Roman", "BIB01", "Centrale")}
    _, xml, _ = run(capsys, data_dir, "export", "--format", "marcxml")
    assert xml.count("Deposited at Centrale (BIB01)") == 4
