"""Passwords, sessions and what people type, checked as unicat/accounts.py documents."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime

import pytest

from unicat import accounts
from unicat.errors import BadParameter


def test_a_password_hash_is_salted_scrypt_with_its_parameters() -> None:
    first = accounts.hash_password("correct horse battery")
    second = accounts.hash_password("correct horse battery")
    assert first != second  # a salt of its own each time
    scheme, n, r, p, salt, digest = first.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", 2**17, 8, 1)
    # The digest is RFC 7914 scrypt of the password with that salt, as the standard library computes it.
    expected = hashlib.scrypt(
        b"correct horse battery", salt=base64.b64decode(salt), n=2**17, r=8, p=1, maxmem=2**28, dklen=32
    )
    assert base64.b64decode(digest) == expected
    assert accounts.verify_password("correct horse battery", first)
    assert not accounts.verify_password("correct horse batterz", first)
    assert not accounts.needs_rehash(first)


def test_a_hash_of_other_parameters_still_verifies_and_asks_to_be_redone() -> None:
    salt = b"0123456789abcdef"
    digest = hashlib.scrypt(b"an older password", salt=salt, n=2**14, r=8, p=1, dklen=32)
    old = f"scrypt${2**14}$8$1${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"
    assert accounts.verify_password("an older password", old)
    assert accounts.needs_rehash(old)
    for unreadable in ("", "md5$abc", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$!!!$AAAA"):
        assert not accounts.verify_password("anything at all", unreadable)


def test_a_session_token_is_stored_only_as_its_sha256() -> None:
    now = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
    token, session = accounts.new_session(7, now)
    assert session.token_hash == hashlib.sha256(token.encode()).hexdigest() != token
    assert (session.user_id, session.created, session.expires) == (
        7,
        "2026-12-02T10:00:00Z",
        "2027-01-01T10:00:00Z",
    )
    assert len(token) >= 43 and session.csrf and session.csrf != token


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (accounts.normalise_email, "", "give an e-mail address"),
        (accounts.normalise_email, "no-at-sign.org", "is not an e-mail address"),
        (accounts.normalise_email, "a@" + "b" * 250 + ".org", "at most 254"),
        (accounts.check_display_name, "   ", "give the name"),
        (accounts.check_display_name, "x" * 81, "at most 80"),
        (accounts.check_display_name, "bell\x07", "control characters"),
        (accounts.check_password, "short", "at least 10"),
        (accounts.check_password, "p" * 257, "at most 256"),
        (accounts.check_role, "root", "the roles are patron, librarian, admin"),
    ],
)
def test_what_people_type_is_refused_with_a_message(check: object, value: str, message: str) -> None:
    with pytest.raises(BadParameter, match=message):
        check(value)  # type: ignore[operator]


def test_what_people_type_is_kept_in_one_form() -> None:
    assert accounts.normalise_email("  Jane.Austen@Example.ORG ") == "jane.austen@example.org"
    assert accounts.check_display_name("  Jane   Austen ") == "Jane Austen"
    assert accounts.check_role("librarian") == "librarian"
