"""Signed expiring links: a token that binds a purpose, a subject id and an expiry under an HMAC key.

A link in an e-mail must work without signing in (an alert's "unsubscribe") yet do only what it was
made for, for whom it was made, and only for a while. The token carries ``purpose``, ``subject`` and
the expiry in the clear and an HMAC-SHA256 over them; nothing is stored per link.

The key is the caller's, not a global server secret: the alerts give each saved search a random secret
of its own (:func:`new_key`) and sign its links with it, so rotating that one secret revokes every link
ever sent for that search at once, and a leaked secret opens one search's links only. Nothing here
reads a setting or the environment.

Verification says why a token fails (:class:`Malformed`, :class:`BadSignature`, :class:`WrongPurpose`,
:class:`Expired`), so that a page can answer "this link has expired, sign in to manage your alerts"
rather than "invalid link". The signature is checked first, in constant time: only a token made with
the key can be told apart as of another purpose or expired, and :class:`Expired` carries the subject
it was signed for. The expiry is exclusive: a token expiring at T is refused at T.

Token: ``base64url(payload) "." base64url(mac)``, unpadded, where ``payload`` is the UTF-8 text
``1\\n<purpose>\\n<expiry, Unix seconds>\\n<subject>`` and ``mac`` is HMAC-SHA256(key, payload).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from datetime import UTC, datetime

VERSION = "1"
MIN_KEY_BYTES = 16
"""Shorter keys are refused: an HMAC key of fewer than 128 bits could be found by search."""
MAX_PURPOSE = 64
MAX_SUBJECT = 200
"""Bytes of a subject in UTF-8 (an id, not a text): a link must stay short enough for any mail reader."""
MAX_TOKEN = 512
"""Characters of a token read at most; anything longer is :class:`Malformed` before any decoding. A
token of the longest purpose and subject is shorter (checked by the tests)."""

_PURPOSE = re.compile(r"[a-z0-9][a-z0-9._-]*")
_BASE64URL = re.compile(r"[A-Za-z0-9_-]+")
_MAC_BYTES = hashlib.sha256().digest_size


class LinkError(Exception):
    """A token that does not open what it was asked to; the subclass says why."""


class Malformed(LinkError):
    """Not a token at all (cut, too long, not base64url, not the payload's shape)."""


class BadSignature(LinkError):
    """A token of the right shape not signed with this key: forged, altered, or its key rotated."""


class WrongPurpose(LinkError):
    """A genuine token made for another use (a feed's link shown where an unsubscribe one is asked)."""


class Expired(LinkError):
    """A genuine token past its expiry; ``subject`` is whom it was made for, trustworthy since the
    signature holds (a page may name the saved search when it says the link expired)."""

    def __init__(self, subject: str, expired: datetime) -> None:
        super().__init__(f"the link expired at {expired.isoformat()}")
        self.subject = subject
        self.expired = expired


def new_key() -> bytes:
    """A fresh random key (256 bits) for one subject's links."""
    return secrets.token_bytes(32)


def sign(key: bytes, purpose: str, subject: str, expires: datetime) -> str:
    """A URL-safe token for ``purpose`` and ``subject``, valid until ``expires`` (an aware time,
    kept to the second). :class:`ValueError` names the limit an argument breaks."""
    _check_key(key)
    if len(purpose) > MAX_PURPOSE or not _PURPOSE.fullmatch(purpose):
        raise ValueError(
            f"a link's purpose is 1-{MAX_PURPOSE} lower-case letters, digits, '.', '_', '-': {purpose[:80]!r}"
        )
    if not subject or len(subject.encode()) > MAX_SUBJECT or "\n" in subject:
        raise ValueError(f"a link's subject is 1-{MAX_SUBJECT} bytes of UTF-8 on one line")
    if expires.tzinfo is None:
        raise ValueError("a link's expiry must be an aware datetime (UTC)")
    payload = f"{VERSION}\n{purpose}\n{int(expires.timestamp())}\n{subject}".encode()
    return f"{_encode(payload)}.{_encode(_mac(key, payload))}"


def verify(key: bytes, token: str, purpose: str, now: datetime) -> str:
    """The subject ``token`` was signed for, if it was signed with ``key`` for ``purpose`` and has
    not expired at ``now`` (the caller's clock, an aware time); raises a :class:`LinkError` saying
    why not."""
    _check_key(key)
    if now.tzinfo is None:
        raise ValueError("the time a link is checked at must be an aware datetime (UTC)")
    if len(token) > MAX_TOKEN:
        raise Malformed(f"a link token is at most {MAX_TOKEN} characters")
    encoded_payload, dot, encoded_mac = token.partition(".")
    if not dot:
        raise Malformed("a link token has two parts separated by '.'")
    payload = _decode(encoded_payload)
    mac = _decode(encoded_mac)
    if len(mac) != _MAC_BYTES:
        raise Malformed("a link token's signature is not an HMAC-SHA256")
    if not hmac.compare_digest(mac, _mac(key, payload)):
        raise BadSignature("the link was not made by this catalogue for this subject, or it was revoked")
    version, signed_purpose, expiry, subject = _fields(payload)
    if version != VERSION:
        raise Malformed(f"a link token of version {version!r} is not one this catalogue reads")
    if signed_purpose != purpose:
        raise WrongPurpose(f"the link was made for {signed_purpose!r}, not {purpose!r}")
    expires = datetime.fromtimestamp(expiry, UTC)
    if now >= expires:
        raise Expired(subject, expires)
    return subject


def _check_key(key: bytes) -> None:
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"a link key is at least {MIN_KEY_BYTES} bytes: make one with new_key()")


def _mac(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def _encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _decode(text: str) -> bytes:
    if not _BASE64URL.fullmatch(text):
        raise Malformed("a link token is made of base64url characters")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as error:
        raise Malformed("a link token is not valid base64url") from error
    # The decoder ignores a last character's spare bits: without this, several spellings of one token
    # would all verify.
    if _encode(data) != text:
        raise Malformed("a link token is not in canonical base64url")
    return data


def _fields(payload: bytes) -> tuple[str, str, int, str]:
    """The signed payload's parts. Only a payload signed with the key gets here, so a failure means
    a key shared with something that signs other shapes: still a malformed token, never a crash."""
    try:
        version, purpose, expiry, subject = payload.decode("utf-8").split("\n", 3)
        return version, purpose, int(expiry), subject
    except (UnicodeDecodeError, ValueError) as error:
        raise Malformed("a link token's content is not a link's") from error
