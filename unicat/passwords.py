"""Whether a new password is one an attacker would guess early (NIST SP 800-63B, 5.1.1.2).

Length alone lets ``aaaaaaaaaa`` through. A new password is also refused when it is one of the
passwords that breached-password corpora show people choose most (the list in ``unicat/data``, see
its README), when it is one character or a short group repeated, a run of a sequence or keyboard
row (``1234567890``, ``abcdefghij``, ``qwertyuiop``), or when it holds the account's own address or
display name. There are no composition rules (a digit, a capital): the standard advises against them,
and a long passphrase of ordinary words is welcome. Existing passwords are not checked again: the
policy applies to a password when it is chosen.
"""

from __future__ import annotations

import functools
import gzip
import re
from importlib import resources

COMMON_PASSWORDS = "common-passwords.txt.gz"
# Sequences people walk along, forwards or backwards: digits, the alphabet and the letter rows of
# the QWERTY, AZERTY and QWERTZ keyboards.
_SEQUENCES = (
    "0123456789",
    "abcdefghijklmnopqrstuvwxyz",
    *("qwertyuiop", "azertyuiop", "qwertzuiop"),
    *("asdfghjkl", "qsdfghjklm"),
    *("zxcvbnm", "wxcvbn", "yxcvbnm"),
)
_REPEATED_GROUP = re.compile(r"(.{1,4}?)\1+", re.DOTALL)
# Parts of one's address or name shorter than this are left alone ("al" in any password).
_MIN_PERSONAL = 4
ADVICE = "choose another: several unrelated words make a password that is long and easy to remember"


@functools.cache
def common_passwords() -> frozenset[str]:
    """The common passwords, lower case (read once, about 20,000 of them)."""
    data = resources.files("unicat").joinpath("data", COMMON_PASSWORDS).read_bytes()
    return frozenset(line.strip() for line in gzip.decompress(data).decode("utf-8").splitlines())


def _in_sequence(text: str) -> bool:
    for sequence in _SEQUENCES:
        walked = sequence * (len(text) // len(sequence) + 2)  # 7890123… wraps around
        if text in walked or text in walked[::-1]:
            return True
    return False


def _personal_parts(email: str, display_name: str) -> list[str]:
    local = email.partition("@")[0]
    name = "".join(display_name.split())
    parts = [email, local, name, *re.split(r"[\W_]+", local), *display_name.split()]
    return [part.lower() for part in parts if len(part) >= _MIN_PERSONAL]


def weakness(password: str, email: str = "", display_name: str = "") -> str | None:
    """Why ``password`` is too easy to guess, as a sentence that ends with what to do instead, or
    ``None`` when it is not. ``email`` and ``display_name`` are the account's own."""
    folded = password.strip().lower()
    if folded in common_passwords():
        return f"this password is one of the most common ones, which attackers try first; {ADVICE}"
    if _REPEATED_GROUP.fullmatch(folded):
        return f"this password repeats one character or a short group of characters; {ADVICE}"
    if _in_sequence(folded):
        return f"this password is a run of a sequence or keyboard row, such as 1234…; {ADVICE}"
    compact = "".join(folded.split())
    for part in _personal_parts(email, display_name):
        if part in folded or part in compact:
            return f"this password holds your e-mail address or your name, which others know; {ADVICE}"
    return None
