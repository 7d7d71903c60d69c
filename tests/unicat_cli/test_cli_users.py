"""``unicat users``: the first librarians made from the command line, in the embedded accounts store."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.unicat_cli.test_cli import run
from unicat.accounts import verify_password
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from unicat_cli.wiring import open_catalogue


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_users_are_added_listed_and_given_roles(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _stdin(monkeypatch, "a long passphrase\n")
    code, out, _ = run(
        capsys, tmp_path, "users", "add", " Anne@Example.ORG ", "--name", "Anne", "--role", "librarian",
        "--library", "BNF", "--password-stdin",
    )  # fmt: skip
    assert code == EXIT_OK and "anne@example.org (librarian)" in out
    _stdin(monkeypatch, "another long one\n")
    assert (
        run(capsys, tmp_path, "users", "add", "jo@example.org", "--name", "Jo", "--password-stdin")[0]
        == EXIT_OK
    )

    code, out, _ = run(capsys, tmp_path, "users", "list", "--json")
    listed = json.loads(out)
    assert [(u["email"], u["role"], u["library"]) for u in listed] == [
        ("anne@example.org", "librarian", "BNF"),
        ("jo@example.org", "patron", None),
    ]
    assert all("password_hash" not in u for u in listed)

    assert run(capsys, tmp_path, "users", "set-role", "jo@example.org", "admin")[0] == EXIT_OK
    assert (
        run(capsys, tmp_path, "users", "set-role", "anne@example.org", "patron", "--no-library")[0] == EXIT_OK
    )
    code, out, _ = run(capsys, tmp_path, "users", "list")
    assert "jo@example.org  Jo  admin" in out and "anne@example.org  Anne  patron  (" in out

    _stdin(monkeypatch, "a changed passphrase\n")
    code, out, _ = run(capsys, tmp_path, "users", "set-password", "jo@example.org", "--password-stdin")
    assert code == EXIT_OK and "0 session(s) signed out" in out
    settings = Settings(data_dir=tmp_path, engine_url=f"sqlite:///{tmp_path / 'unicat.db'}")
    with open_catalogue(settings) as catalogue:
        jo = catalogue.accounts.find_user("jo@example.org")
        assert jo is not None and verify_password("a changed passphrase", jo.password_hash)


def test_bad_account_input_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _stdin(monkeypatch, "short\n")
    code, _, err = run(capsys, tmp_path, "users", "add", "a@example.org", "--name", "A", "--password-stdin")
    assert code == EXIT_USAGE and "at least 10 characters" in err
    _stdin(monkeypatch, "password123\n")
    code, _, err = run(capsys, tmp_path, "users", "add", "a@example.org", "--name", "A", "--password-stdin")
    assert code == EXIT_USAGE and "one of the most common ones" in err
    code, _, err = run(capsys, tmp_path, "users", "add", "not-an-address", "--name", "A", "--password-stdin")
    assert code == EXIT_USAGE and "EMAIL: 'not-an-address' is not an e-mail address" in err
    code, _, err = run(capsys, tmp_path, "users", "add", "a@example.org", "--name", "A", "--role", "root")
    assert code == EXIT_USAGE and "the roles are patron, librarian, admin" in err
    # No terminal and no --password-stdin: nothing to ask the password at.
    _stdin(monkeypatch, "")
    code, _, err = run(capsys, tmp_path, "users", "add", "a@example.org", "--name", "A")
    assert code == EXIT_USAGE and "give it on stdin" in err
    _stdin(monkeypatch, "a long passphrase\n")
    assert (
        run(capsys, tmp_path, "users", "add", "a@example.org", "--name", "A", "--password-stdin")[0]
        == EXIT_OK
    )
    code, _, err = run(capsys, tmp_path, "users", "add", "A@example.org", "--name", "B", "--password-stdin")
    assert code == EXIT_PARTIAL and "exists already" in err
    code, _, err = run(capsys, tmp_path, "users", "set-role", "nobody@example.org", "admin")
    assert code == EXIT_PARTIAL and "no account 'nobody@example.org'" in err
