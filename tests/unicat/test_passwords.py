"""The password policy of unicat/passwords.py (NIST SP 800-63B 5.1.1.2): refused are the passwords of
the shipped list of common ones, repeated characters, runs of sequences and keyboard rows, and the
account's own address or name; long passphrases pass.

Expected answers come from the shipped list itself and from the patterns' definitions.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

import unicat
from unicat import accounts, passwords
from unicat.errors import BadParameter

DATA = Path(unicat.__file__).parent / "data"


def shipped_list() -> list[str]:
    return gzip.decompress((DATA / passwords.COMMON_PASSWORDS).read_bytes()).decode().splitlines()


def test_the_shipped_list_is_the_one_its_readme_names() -> None:
    import hashlib

    readme = (DATA / "README.md").read_text()
    digest = hashlib.sha256((DATA / passwords.COMMON_PASSWORDS).read_bytes()).hexdigest()
    assert digest in readme and (DATA / "LICENSE.django").is_file()
    assert len(shipped_list()) == 19_640 and passwords.common_passwords() == frozenset(shipped_list())


def test_every_listed_password_long_enough_to_be_chosen_is_refused_in_any_case() -> None:
    long_enough = [line for line in shipped_list() if len(line) >= accounts.MIN_PASSWORD]
    assert len(long_enough) == 1_780
    for listed in long_enough:
        for typed in (listed, listed.upper(), f" {listed} "):
            reason = passwords.weakness(typed)
            assert reason is not None and "most common" in reason, typed


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("ÿÿÿÿÿÿÿÿÿÿÿÿ", "repeats one character"),
        ("xyzxyzxyzxyzxyz", "short group"),
        ("2345678901", "sequence"),
        ("mnopqrstuvwxyz", "sequence"),
        ("ZYXWVUTSRQPO", "sequence"),
        ("poiuytrewqpoiu", "keyboard row"),
        ("wxcvbnwxcvbn", "keyboard row"),
    ],
)
def test_trivial_patterns_are_refused(password: str, why: str) -> None:
    assert password.strip().lower() not in passwords.common_passwords()  # so the pattern is what refuses
    reason = passwords.weakness(password)
    assert reason is not None and why in reason and "choose another" in reason


@pytest.mark.parametrize(
    "password",
    ["my name is Mary-Ann Evans", "george.eliot.1819", "GEORGEELIOT@EXAMPLE.ORG!", "MaryAnnEvans99"],
)
def test_the_accounts_own_address_or_name_is_refused(password: str) -> None:
    reason = passwords.weakness(password, "george.eliot@example.org", "Mary Ann Evans")
    assert reason is not None and "your e-mail address or your name" in reason
    assert passwords.weakness(password) is None  # the same for another account is fine


@pytest.mark.parametrize(
    "password",
    ["correct horse battery staple", "Middlemarch by lamplight", "ab" + "c" * 8 + "d", "7 pillars of wisdom"],
)
def test_ordinary_passphrases_pass(password: str) -> None:
    assert passwords.weakness(password, "ann@example.org", "Al") is None
    assert accounts.check_password(password, email="ann@example.org", display_name="Al") == password


def test_the_length_is_checked_first_and_long_passphrases_are_welcome() -> None:
    with pytest.raises(BadParameter, match="at least 10 characters"):
        accounts.check_password("aaaa")
    long = " ".join(["quill", "lantern", "harbour", "meadow"] * 10)[: accounts.MAX_PASSWORD]
    assert len(long) == 256 and accounts.check_password(long) == long
    with pytest.raises(BadParameter, match="at most 256 characters"):
        accounts.check_password(long + "x")
    with pytest.raises(BadParameter, match="most common") as refused:
        accounts.check_password("aaaaaaaaaa", "new")
    assert refused.value.param == "new"
