""" "Did you mean": the closest words of the catalogue's own vocabulary, for words it lacks.

A small symmetric-delete index (the SymSpell idea): every vocabulary word is indexed under itself and
under each form with one character deleted (of its first :data:`PREFIX_LENGTH` characters); a typed
word looks up itself and its forms with up to two deletions. A shared form means the two words are
close; the candidates are then measured exactly (edit distance with transpositions) on the whole
words and the nearest, then the most used, wins. Indexing one deletion (not two) keeps the index
near eight entries per word, which matters at a catalogue's hundreds of thousands of words; it still
finds every word one edit away and most two edits away.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from unicat.analysis import tokens

MAX_DISTANCE = 2
PREFIX_LENGTH = 7
# Shorter words are left alone: at one or two letters' distance from many words, a correction of
# "les" or "van" would be a guess, not a correction.
MIN_WORD_LENGTH = 4

# Words of the query syntax that are not searched for: operators (English, French, Dutch).
_OPERATORS = frozenset({"AND", "OR", "NOT", "ET", "OU", "SAUF", "EN", "OF", "NIET"})
# A word of the typed text, with what precedes it (a field prefix ends with ":" after the word).
_WORD_RE = re.compile(r"[^\W_]+(?::)?")


def _deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def distance(a: str, b: str) -> int:
    """Edit distance with adjacent transpositions (optimal string alignment)."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[-1]


class Speller:
    """Corrections from a vocabulary of analysed words and how many records hold each."""

    def __init__(self, counts: Mapping[str, int]) -> None:
        self.counts = dict(counts)
        index: dict[str, list[str]] = {}
        for word in self.counts:
            if len(word) < MIN_WORD_LENGTH - MAX_DISTANCE:
                continue
            head = word[:PREFIX_LENGTH]
            for form in (head, *_deletes(head)):
                index.setdefault(form, []).append(word)
        self._index = index

    def __len__(self) -> int:
        return len(self.counts)

    def correct(self, word: str) -> str | None:
        """The vocabulary word nearest ``word`` (an analysed token), or ``None`` when ``word`` is a
        word of the catalogue, too short to correct, or near none."""
        if word in self.counts or len(word) < MIN_WORD_LENGTH or not word.isalpha():
            return None
        head = word[:PREFIX_LENGTH]
        forms = {head} | _deletes(head)
        forms |= {twice for once in list(forms) for twice in _deletes(once)}
        best: tuple[int, int, str] | None = None
        seen: set[str] = set()
        for form in forms:
            for candidate in self._index.get(form, ()):
                if candidate in seen:
                    continue
                seen.add(candidate)
                if abs(len(candidate) - len(word)) > MAX_DISTANCE:
                    continue
                measured = distance(word, candidate)
                if measured > MAX_DISTANCE:
                    continue
                rank = (measured, -self.counts[candidate], candidate)
                if best is None or rank < best:
                    best = rank
        return best[2] if best is not None else None

    def correct_text(self, text: str) -> str | None:
        """``text`` with each misspelt word replaced, field prefixes, operators, quotes and
        parentheses kept; ``None`` when no word changes."""
        return correct_words(text, self.correct)


def correct_words(text: str, correct: Callable[[str], str | None]) -> str | None:
    """Replace, in ``text``, each searched word that ``correct`` corrects; ``None`` if none is."""
    changed = False

    def replace(match: re.Match[str]) -> str:
        nonlocal changed
        word = match.group()
        if word.endswith(":") or word in _OPERATORS:
            return word
        analysed = tokens(word)
        if len(analysed) != 1:
            return word
        corrected = correct(analysed[0])
        if corrected is None:
            return word
        changed = True
        return corrected

    result = _WORD_RE.sub(replace, text)
    return result if changed else None


@dataclass(frozen=True, slots=True)
class DidYouMean:
    """A correction that was searched for and finds more than what was typed."""

    q: str
    total: int
