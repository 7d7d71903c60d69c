"""``unicat library``: the library directory through the real command line on the embedded store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.unicat_cli.test_cli import run
from unicat_cli.cli import EXIT_OK, EXIT_USAGE


def shown(capsys: pytest.CaptureFixture[str], data_dir: Path, code: str) -> dict[str, object]:
    status, out, _ = run(capsys, data_dir, "library", "show", code, "--json")
    assert status == EXIT_OK
    library: dict[str, object] = json.loads(out)
    return library


def test_add_update_show_list_and_remove(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status, out, _ = run(
        capsys, tmp_path, "library", "add", "SCPO", "--name", "Sciences Po Library",
        "--name-fr", "Bibliothèque de Sciences Po", "--source", "MEDI", "--branch", "751072303",
        "--street", "27 rue Saint-Guillaume", "--postcode", "75007", "--city", "Paris", "--country", "FR",
        "--latitude", "48.8541", "--longitude", "2.3318", "--hours", "monday=09:00-12:30, 14:00-19:00",
        "--hours", "sunday=closed", "--email", "library@example.org", "--shuttle",
        "--opac-url", "https://catalogue.example.org/record/{local_id}",
    )  # fmt: skip
    assert status == EXIT_OK and "unicat index" in out
    assert run(capsys, tmp_path, "library", "add", "ALD", "--name", "Alderman Library")[0] == EXIT_OK
    status, _, _ = run(
        capsys, tmp_path, "library", "update", "SCPO", "--no-shuttle", "--email", "", "--hours", "sunday="
    )
    assert status == EXIT_OK

    assert shown(capsys, tmp_path, "SCPO") == {
        "code": "SCPO",
        "name": "Sciences Po Library",
        "names": {"fr": "Bibliothèque de Sciences Po"},
        "source": "MEDI",
        "branches": ["751072303"],
        "street": "27 rue Saint-Guillaume",
        "postcode": "75007",
        "city": "Paris",
        "country": "FR",
        "latitude": 48.8541,
        "longitude": 2.3318,
        "opening_hours": {"monday": "09:00-12:30, 14:00-19:00"},
        "email": None,
        "phone": None,
        "website": None,
        "shuttle": False,
        "opac_url": "https://catalogue.example.org/record/{local_id}",
    }
    status, out, _ = run(capsys, tmp_path, "library", "list", "--json")
    assert [library["code"] for library in json.loads(out)] == ["ALD", "SCPO"]
    assert run(capsys, tmp_path, "library", "remove", "ALD")[0] == EXIT_OK
    status, out, _ = run(capsys, tmp_path, "library", "list")
    assert "1 libraries" in out and "Alderman" not in out


def test_export_then_import_gives_the_same_directory(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    run(
        capsys,
        first,
        "library",
        "add",
        "A",
        "--name",
        'A "quoted"',
        "--source",
        "S",
        "--branch",
        "x",
        "--branch",
        "y",
    )
    run(
        capsys,
        first,
        "library",
        "add",
        "B",
        "--name",
        "B",
        "--hours",
        "friday=10:00-12:00",
        "--name-nl",
        "Bieb",
    )
    exported = tmp_path / "libraries.toml"
    assert run(capsys, first, "library", "export", "--out", str(exported))[0] == EXIT_OK

    status, out, _ = run(capsys, second, "library", "import", str(exported))

    assert status == EXIT_OK and "imported 2 libraries" in out
    assert (
        run(capsys, second, "library", "list", "--json")[1]
        == run(capsys, first, "library", "list", "--json")[1]
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["add", "X", "--name", "X", "--latitude", "95", "--longitude", "0"],
            "latitude: 95.0 is out of range",
        ),
        (["add", "X", "--name", "X", "--hours", "funday=09:00-10:00"], "--hours: 'funday=09:00-10:00'"),
        (
            ["add", "X", "--name", "X", "--opac-url", "https://x.example/{barcode}"],
            "unknown placeholder {barcode}",
        ),
        (["update", "NONE", "--name", "X"], "no library 'NONE'"),
        (["show", "NONE"], "no library 'NONE'"),
    ],
)
def test_bad_input_is_a_usage_error_naming_the_field(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, args: list[str], message: str
) -> None:
    status, _, err = run(capsys, tmp_path, "library", *args)

    assert status == EXIT_USAGE and message in err
    assert json.loads(run(capsys, tmp_path, "library", "list", "--json")[1]) == []
