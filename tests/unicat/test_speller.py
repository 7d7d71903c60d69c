"""The speller over a vocabulary given here: which words it corrects, to what, and what it keeps."""

from __future__ import annotations

from unicat.speller import Speller, distance


def test_distance_counts_edits_and_transpositions() -> None:
    assert distance("prejudice", "predjudice") == 1
    assert distance("recieve", "receive") == 1
    assert distance("kitten", "sitting") == 3
    assert distance("", "abc") == 3


def test_nearest_then_most_used() -> None:
    speller = Speller({"prejudice": 3, "histoire": 247, "histoires": 2, "victoire": 40})
    assert speller.correct("predjudice") == "prejudice"
    # Two words one edit away: the one more records hold.
    assert speller.correct("histoira") == "histoire"
    # Two edits away (a letter added, one changed); three is too far.
    assert speller.correct("predjudise") == "prejudice"
    assert speller.correct("prjdce") is None


def test_known_short_and_numeric_words_are_kept() -> None:
    speller = Speller({"prejudice": 3, "les": 10})
    assert speller.correct("prejudice") is None
    assert speller.correct("lez") is None
    assert speller.correct("1984") is None


def test_text_keeps_field_prefixes_operators_and_punctuation() -> None:
    speller = Speller({"pride": 2, "prejudice": 2, "austen": 3, "title": 1})
    assert (
        speller.correct_text('title:"pride and predjudice" NOT austn')
        == 'title:"pride and prejudice" NOT austen'
    )
    assert speller.correct_text("(predjudice) -austen") == "(prejudice) -austen"
    assert speller.correct_text("pride") is None
