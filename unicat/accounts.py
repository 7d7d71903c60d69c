"""People with an account: patrons, librarians and admins; their passwords and their sessions.

Passwords are hashed with scrypt (RFC 7914, in Python's standard library): memory-hard, so guessing
a stolen hash costs memory as well as time on every try. Each hash carries its own parameters and
salt (``scrypt$N$r$p$salt$hash``, base64), so the cost can be raised later and older hashes still
verify (:func:`needs_rehash` says when to store a new one at the next sign-in). Sessions are random
tokens the browser keeps in a cookie; the store keeps only their SHA-256, so a copy of the
database does not let anyone sign in as anybody.

Every value a person types is checked here with a message that says what is wrong, so the CLI and
the web forms refuse alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from unicat.clock import format_time
from unicat.errors import BadParameter, choice_of
from unicat.passwords import weakness

Role = Literal["patron", "librarian", "admin"]
ROLES: tuple[Role, ...] = get_args(Role)
"""Patrons comment, rate and keep lists; librarians also moderate and use the librarians' desk;
admins also manage accounts."""

# scrypt's cost, OWASP's minimum (Password Storage Cheat Sheet): N = 2**17, r = 8, p = 1 — 128 MiB
# and 0.49 s per hash on one core of the 2-core development machine (measured with hashlib.scrypt).
# Raising it later only means changing these numbers: older hashes keep verifying, and are hashed
# again with the new cost at the next sign-in (needs_rehash).
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
HASH_BYTES = 32
_MAXMEM = 256 * 1024 * 1024

MIN_PASSWORD = 10
MAX_PASSWORD = 256
MAX_EMAIL = 254
MAX_DISPLAY_NAME = 80
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")

SESSION_DAYS = 30
SESSION_TOKEN_BYTES = 32
REGISTRATION_HOURS = 24


@dataclass(frozen=True, slots=True)
class User:
    """An account. ``library`` is the library a librarian works at (its holdings come first)."""

    email: str
    display_name: str
    password_hash: str
    role: Role = "patron"
    library: str | None = None
    id: int | None = None
    created: str | None = None

    def to_json(self) -> dict[str, Any]:
        """What may be shown of an account: never its password hash."""
        return {
            "id": self.id,
            "email": self.email,
            "display_name": self.display_name,
            "role": self.role,
            "library": self.library,
            "created": self.created,
        }

    def with_changes(self, **changes: Any) -> User:
        return replace(self, **changes)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: the SHA-256 of its cookie's token, whose account, until when, and the
    token its forms must send back (CSRF)."""

    token_hash: str
    user_id: int
    created: str
    expires: str
    csrf: str


@dataclass(frozen=True, slots=True)
class Registration:
    """An account waiting for its address to be confirmed: what the form gave (the password already
    hashed), kept under the SHA-256 of the token the confirmation link carries, until ``expires``."""

    token_hash: str
    email: str
    display_name: str
    password_hash: str
    created: str
    expires: str


# -- checking what people type ----------------------------------------------------------------------
def normalise_email(raw: str, field: str = "email") -> str:
    """An e-mail address as accounts are keyed: trimmed, lower case, checked."""
    email = unicodedata.normalize("NFC", raw.strip()).lower()
    if not email:
        raise BadParameter(field, "give an e-mail address")
    if len(email) > MAX_EMAIL:
        raise BadParameter(field, f"an e-mail address has at most {MAX_EMAIL} characters")
    if not _EMAIL.fullmatch(email):
        raise BadParameter(field, f"{raw.strip()[:80]!r} is not an e-mail address (name@example.org)")
    return email


def check_display_name(raw: str, field: str = "display_name") -> str:
    """The name shown beside a person's comments: trimmed, 1–80 printable characters."""
    name = " ".join(unicodedata.normalize("NFC", raw).split())
    if not name:
        raise BadParameter(field, "give the name to show beside your comments")
    if len(name) > MAX_DISPLAY_NAME:
        raise BadParameter(field, f"a display name has at most {MAX_DISPLAY_NAME} characters")
    if not name.isprintable():
        raise BadParameter(field, "a display name cannot hold control characters")
    return name


def check_password(password: str, field: str = "password", *, email: str = "", display_name: str = "") -> str:
    """A new password: 10 to 256 characters (any characters: a passphrase is welcome), and not one an
    attacker guesses early (:mod:`unicat.passwords`; ``email`` and ``display_name`` are the account's).

    The upper bound keeps what scrypt is given small; 256 leaves room for long passphrases and
    password managers (NIST SP 800-63B asks for at least 64)."""
    if len(password) < MIN_PASSWORD:
        raise BadParameter(field, f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise BadParameter(field, f"a password has at most {MAX_PASSWORD} characters")
    if (reason := weakness(password, email, display_name)) is not None:
        raise BadParameter(field, reason)
    return password


def check_role(raw: str, field: str = "role") -> Role:
    if (role := choice_of(raw, ROLES)) is not None:
        return role
    raise BadParameter(field, f"{raw[:40]!r} is not a role; the roles are {', '.join(ROLES)}")


# -- passwords ---------------------------------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str) -> str:
    """A new salted scrypt hash of ``password``, with its parameters."""
    salt = secrets.token_bytes(SALT_BYTES)
    digest = hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=SCRYPT_N,
        r=SCRYPT_R,
        p=SCRYPT_P,
        maxmem=_MAXMEM,
        dklen=HASH_BYTES,
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` is the one ``stored`` was made from (constant-time comparison); a stored
    value this code cannot read verifies nothing."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt, validate=True),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=_MAXMEM,
            dklen=len(expected),
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def needs_rehash(stored: str) -> bool:
    """Whether a stored hash was made with other parameters than today's."""
    return not stored.startswith(f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}$")


# -- sessions ----------------------------------------------------------------------------------------
def token_hash(token: str) -> str:
    """What the account store keeps of a session token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session(user_id: int, now: datetime | None = None, days: int = SESSION_DAYS) -> tuple[str, Session]:
    """A new session for ``user_id``: the token for the cookie, and the session to store."""
    moment = now or datetime.now(UTC)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    session = Session(
        token_hash=token_hash(token),
        user_id=user_id,
        created=format_time(moment),
        expires=format_time(moment + timedelta(days=days)),
        csrf=secrets.token_urlsafe(24),
    )
    return token, session


def new_registration(
    email: str, display_name: str, password_hash: str, now: datetime | None = None
) -> tuple[str, Registration]:
    """A registration waiting for confirmation: the token for the e-mailed link, and what to store."""
    moment = now or datetime.now(UTC)
    token = secrets.token_urlsafe(SESSION_TOKEN_BYTES)
    registration = Registration(
        token_hash=token_hash(token),
        email=email,
        display_name=display_name,
        password_hash=password_hash,
        created=format_time(moment),
        expires=format_time(moment + timedelta(hours=REGISTRATION_HOURS)),
    )
    return token, registration
