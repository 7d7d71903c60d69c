"""Signed expiring links: a token opens exactly what it was made for, with its key, before its expiry,
and every way of breaking it is told apart. Expected answers come from the definitions: any change to
a token (a character, a decoded field, the key) must stop it; the expiry is exclusive."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from unicat.signed_links import (
    MAX_PURPOSE,
    MAX_SUBJECT,
    MAX_TOKEN,
    BadSignature,
    Expired,
    LinkError,
    Malformed,
    WrongPurpose,
    new_key,
    sign,
    verify,
)

KEY = bytes(range(32))
NOW = datetime(2026, 12, 7, 9, 30, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_a_token_opens_its_subject_for_its_purpose() -> None:
    token = sign(KEY, "alert.unsubscribe", "saved-search:42", EXPIRES)
    assert verify(KEY, token, "alert.unsubscribe", NOW) == "saved-search:42"


def test_a_token_is_url_safe() -> None:
    token = sign(KEY, "alert.unsubscribe", "réservé é/ü?&=#%", EXPIRES)
    assert set(token) <= set(ALPHABET + ".")
    assert verify(KEY, token, "alert.unsubscribe", NOW) == "réservé é/ü?&=#%"


def test_every_character_changed_stops_the_token() -> None:
    token = sign(KEY, "alert.unsubscribe", "42", EXPIRES)
    for position, char in enumerate(token):
        for other in {ALPHABET[(ALPHABET.find(char) + 1) % 64], "."} - {char}:
            altered = token[:position] + other + token[position + 1 :]
            with pytest.raises((BadSignature, Malformed)):
                verify(KEY, altered, "alert.unsubscribe", NOW)


def test_every_signed_field_changed_is_a_bad_signature() -> None:
    token = sign(KEY, "alert.unsubscribe", "42", EXPIRES)
    payload, mac = token.split(".")
    version, purpose, expiry, subject = unb64(payload).decode().split("\n")
    changes = [
        [version, "alert.feed", expiry, subject],
        [version, purpose, str(int(expiry) + 86400 * 365), subject],
        [version, purpose, expiry, "43"],
        ["2", purpose, expiry, subject],
    ]
    for fields in changes:
        forged = b64("\n".join(fields).encode()) + "." + mac
        with pytest.raises(BadSignature):
            verify(KEY, forged, "alert.unsubscribe", NOW)


def test_a_token_cut_or_extended_is_refused() -> None:
    token = sign(KEY, "alert.unsubscribe", "42", EXPIRES)
    payload, mac = token.split(".")
    for broken in [payload, f"{payload}.", f".{mac}", token + "A", token[:-1], f"{token}.{mac}", ""]:
        with pytest.raises((BadSignature, Malformed)):
            verify(KEY, broken, "alert.unsubscribe", NOW)


def test_another_key_is_a_bad_signature() -> None:
    token = sign(KEY, "alert.unsubscribe", "42", EXPIRES)
    with pytest.raises(BadSignature):
        verify(new_key(), token, "alert.unsubscribe", NOW)


def test_rotating_the_key_revokes_the_links_made_with_it() -> None:
    old, rotated = new_key(), new_key()
    assert old != rotated and len(old) == 32
    token = sign(old, "alert.unsubscribe", "42", EXPIRES)
    with pytest.raises(BadSignature):
        verify(rotated, token, "alert.unsubscribe", NOW)


def test_a_genuine_token_of_another_purpose_says_so() -> None:
    token = sign(KEY, "alert.feed", "42", EXPIRES)
    with pytest.raises(WrongPurpose):
        verify(KEY, token, "alert.unsubscribe", NOW)


def test_the_expiry_is_exclusive_and_the_expired_token_names_its_subject() -> None:
    token = sign(KEY, "alert.unsubscribe", "42", EXPIRES)
    assert verify(KEY, token, "alert.unsubscribe", EXPIRES - timedelta(seconds=1)) == "42"
    with pytest.raises(Expired) as expired:
        verify(KEY, token, "alert.unsubscribe", EXPIRES)
    assert expired.value.subject == "42" and expired.value.expired == EXPIRES
    with pytest.raises(Expired):
        verify(KEY, token, "alert.unsubscribe", EXPIRES + timedelta(days=1000))


def test_a_forged_token_is_a_bad_signature_even_when_expired() -> None:
    """The signature is judged first: no one learns anything from a token not made with the key."""
    token = sign(new_key(), "alert.feed", "42", NOW - timedelta(days=1))
    with pytest.raises(BadSignature):
        verify(KEY, token, "alert.unsubscribe", NOW)


def test_the_longest_purpose_and_subject_fit_the_token_limit() -> None:
    purpose, subject = "p" * MAX_PURPOSE, "\U0001f4da" * (MAX_SUBJECT // 4)  # 4 UTF-8 bytes each
    token = sign(KEY, purpose, subject, EXPIRES)
    assert len(token) <= MAX_TOKEN
    assert verify(KEY, token, purpose, NOW) == subject


def test_a_token_over_the_limit_is_malformed_before_decoding() -> None:
    with pytest.raises(Malformed, match=str(MAX_TOKEN)):
        verify(KEY, "A" * (MAX_TOKEN + 1), "alert.unsubscribe", NOW)


@pytest.mark.parametrize(
    ("purpose", "subject"),
    [("p" * (MAX_PURPOSE + 1), "42"), ("", "42"), ("Alert", "42"), ("a\nb", "42"),
     ("alert", ""), ("alert", "s" * (MAX_SUBJECT + 1)), ("alert", "é" * (MAX_SUBJECT // 2 + 1)),
     ("alert", "4\n2")],
)  # fmt: skip
def test_signing_outside_the_limits_is_refused(purpose: str, subject: str) -> None:
    with pytest.raises(ValueError):
        sign(KEY, purpose, subject, EXPIRES)


def test_a_short_key_and_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="16 bytes"):
        sign(b"short", "alert", "42", EXPIRES)
    with pytest.raises(ValueError, match="aware"):
        sign(KEY, "alert", "42", EXPIRES.replace(tzinfo=None))
    token = sign(KEY, "alert", "42", EXPIRES)
    with pytest.raises(ValueError, match="aware"):
        verify(KEY, token, "alert", NOW.replace(tzinfo=None))


def test_every_failure_is_a_link_error() -> None:
    for kind in (Malformed, BadSignature, WrongPurpose, Expired):
        assert issubclass(kind, LinkError)
