"""Text analysis: expected forms follow the Unicode standard (NFKC, case folding, NFD marks)."""

from __future__ import annotations

import pytest

from unicat.analysis import analyze, fold, sort_key, tokens


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # NFKC: compatibility characters become their plain forms.
        ("ﬁnances", ["finances"]),  # U+FB01 LATIN SMALL LIGATURE FI
        ("ＵＮＥＳＣＯ", ["unesco"]),  # fullwidth letters
        ("Louis XIV ①", ["louis", "xiv", "1"]),  # circled digit one
        ("E=mc²", ["e", "mc2"]),  # superscript two
        # Case folding.
        ("PARIS Paris paris", ["paris", "paris", "paris"]),
        # Diacritics: NFD then drop combining marks.
        ("Élève naïve Ångström", ["eleve", "naive", "angstrom"]),
        ("Dvořák Škvorecký", ["dvorak", "skvorecky"]),
        # Letters without a decomposition, folded to what readers type.
        ("Straße", ["strasse"]),
        ("Æsop Cæsar", ["aesop", "caesar"]),
        ("Œuvres cœur", ["oeuvres", "coeur"]),
        ("Ørsted København", ["orsted", "kobenhavn"]),
        ("Łódź", ["lodz"]),
    ],
)
def test_tokens_fold_like_readers_type(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("L'Étranger", ["etranger"]),
        ("L’Étranger", ["etranger"]),  # typographic apostrophe
        ("d'Artagnan", ["artagnan"]),
        ("Jusqu'à la mort", ["a", "la", "mort"]),
        ("Ce qu'il faut", ["ce", "il", "faut"]),
        ("Aujourd'hui", ["aujourd", "hui"]),  # not an elided article: the d' is inside a word
        ("'t Hooft", ["hooft"]),  # Dutch 't (het)
        ("'s-Hertogenbosch", ["hertogenbosch"]),  # Dutch 's (des)
    ],
)
def test_french_and_dutch_elision(text: str, expected: list[str]) -> None:
    assert tokens(text) == expected


def test_punctuation_and_underscores_split_tokens() -> None:
    assert tokens("Camus, Albert (1913-1960)") == ["camus", "albert", "1913", "1960"]
    assert tokens("foo_bar") == ["foo", "bar"]
    assert tokens("— ; : !") == []


def test_fold_keeps_spacing_and_non_latin_scripts() -> None:
    # Й decomposes (NFD) to И + U+0306 COMBINING BREVE, so it folds like any other diacritic.
    assert fold("Война И Мир") == "воина и мир"
    assert fold("Ὀδύσσεια") == "οδυσσεια"


def test_analyze_joins_tokens_of_one_or_many_texts() -> None:
    assert analyze(None) == ""
    assert analyze("L'Étranger") == "etranger"
    assert analyze(["Camus, Albert", "", "Œuvres"]) == "camus albert oeuvres"


def test_sort_key_ignores_case_accents_and_elided_articles() -> None:
    titles = ["Zola", "l'Étranger", "Émile", "eau"]
    assert sorted(titles, key=sort_key) == ["eau", "Émile", "l'Étranger", "Zola"]
