"""Text analysis, done once in Python for both engines.

Both engines index and query the tokens produced here, so that a search answers the same on SQLite
and on a core-only Elasticsearch (which has no folding or language analysers). Steps: Unicode NFKC,
case folding, French and Dutch elision, diacritics folding, split on anything that is not a letter
or a digit.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

# Letters that do not decompose into base + combining mark under NFD but that readers type as ASCII.
_SPECIAL_FOLDS = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "þ": "th",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
        "ʻ": "'",
        "ʼ": "'",
        "’": "'",
        "‘": "'",
        "`": "'",
        "´": "'",
    }
)

# French elided articles and pronouns (l', d', qu', jusqu'…) and Dutch 't / 's, before a word.
_ELISION_RE = re.compile(
    r"(?<![\w'])(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=\w)|(?<![\w'])'[ts](?=[\s-])"
)
_TOKEN_RE = re.compile(r"[^\W_]+")
# Every ASCII character but the letters and digits, as a space: in ASCII text the tokens of _TOKEN_RE
# (letters and digits, not "_") are what is left between these.
_ASCII_SEPARATORS = str.maketrans({chr(code): " " for code in range(128) if not chr(code).isalnum()})


@functools.lru_cache(maxsize=65_536)
def fold(text: str) -> str:
    """NFKC, case fold, elision removed, diacritics folded: the form both engines see.

    Cached: names, subjects, publishers and places repeat across a catalogue, and folding is the
    largest cost of indexing a record.
    """
    if text.isascii():
        return _fold_ascii(text)
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_FOLDS)
    text = _ELISION_RE.sub(" ", text)
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed.isascii():
        return decomposed
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped)


def _fold_ascii(text: str) -> str:
    """:func:`fold` of pure-ASCII text, which most catalogue text is.

    ASCII is already NFKC, NFD and NFC and has no combining marks, and its case folding is its
    lower case; the only ASCII character with a special fold is the backquote (an apostrophe).
    """
    return _ELISION_RE.sub(" ", text.lower().replace("`", "'"))


def tokens(text: str) -> list[str]:
    """The analysed tokens of ``text``, in order."""
    if text.isascii() and "'" not in text and "`" not in text:
        # Most catalogue text: no apostrophe, so no elision, and its fold is its lower case; cutting at
        # the separators with str.translate is 2-3 times faster than the regular expressions.
        return text.lower().translate(_ASCII_SEPARATORS).split()
    return _TOKEN_RE.findall(fold(text))


@functools.lru_cache(maxsize=65_536)
def _analysed(text: str) -> str:
    """The tokens of one text joined by single spaces ('' for none). Cached like :func:`fold`: a
    record's title is analysed for its field and its sort key, and names and subjects repeat."""
    return " ".join(tokens(text))


def analyze(text: str | Iterable[str] | None) -> str:
    """The tokens of one text or of several, joined by single spaces, ready to be indexed."""
    if text is None:
        return ""
    if isinstance(text, str):
        return _analysed(text)
    # Each part's tokens are already joined by single spaces; parts without tokens add no space.
    return " ".join([analysed for part in text if (analysed := _analysed(part))])


def sort_key(text: str | None) -> str:
    """A sort key for titles: folded tokens, so that case and accents do not reorder."""
    return analyze(text)
