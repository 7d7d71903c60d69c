"""The ASCII fast paths of ``fold`` and ``tokens`` give exactly what the full Unicode path gives.

The reference below is the full algorithm (NFKC, case fold, special folds, elision, NFD, marks
dropped, NFC, then the runs of letters and digits) written out independently, applied to every ASCII
character, to elision cases and to every subfield value of the real MARC files (read with pymarc's
own reader, not with the indexer).
"""

from __future__ import annotations

import re
import unicodedata

import pymarc
import pytest

from tests.support.shared_data import SHARED_DATA
from unicat.analysis import _SPECIAL_FOLDS, fold, tokens

_ELISION = re.compile(
    r"(?<![\w'])(?:[ldjmnstc]|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=\w)|(?<![\w'])'[ts](?=[\s-])"
)


def reference_fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold().translate(_SPECIAL_FOLDS)
    text = _ELISION.sub(" ", text)
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(ch for ch in decomposed if not unicodedata.combining(ch)))


def reference_tokens(text: str) -> list[str]:
    return re.findall(r"[^\W_]+", reference_fold(text))


def _subfield_values(relative: str) -> list[str]:
    values: list[str] = []
    with (SHARED_DATA / relative).open("rb") as handle:
        for record in pymarc.MARCReader(handle, to_unicode=True, force_utf8=False, permissive=True):
            if record is None:
                continue
            for marc_field in record.fields:
                if marc_field.is_control_field():
                    values.append(marc_field.data or "")
                else:
                    values.extend(sub.value for sub in marc_field.subfields)
    return values


def test_every_ascii_character_folds_as_the_full_path_does() -> None:
    for code in range(128):
        text = f"A{chr(code)}b {chr(code)}Z"
        assert fold(text) == reference_fold(text), repr(chr(code))
        assert tokens(text) == reference_tokens(text), repr(chr(code))


@pytest.mark.parametrize(
    "text",
    ["L'Amour", "`t Hooft", "'s-Hertogenbosch", "QU'IL", "Aujourd'hui", "l`ami", "JUSQU'ICI d'abord"],
)
def test_ascii_elision_and_backquote(text: str) -> None:
    assert fold(text) == reference_fold(text)
    assert tokens(text) == reference_tokens(text)


@pytest.mark.parametrize(
    "relative",
    [
        "marc21/uva_001_2000.mrc",
        "unimarc/periouni.mrc",
        "dedup/pride-and-prejudice-fixed.mrc",
        "marc21/brkrtest.mrc",
    ],
)
def test_fold_matches_the_full_path_on_every_value_of_a_real_file(relative: str) -> None:
    values = sorted(set(_subfield_values(relative)))
    assert len(values) > 20
    ascii_values = sum(1 for value in values if value.isascii())
    assert ascii_values, "the file should exercise the ASCII fast path"
    mismatches = [value for value in values if fold(value) != reference_fold(value)]
    assert mismatches == []
    assert [value for value in values if tokens(value) != reference_tokens(value)] == []
