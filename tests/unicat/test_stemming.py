"""The stemmers a record takes by its language, and the stems of analysed text and query words.

Expected stems follow the Snowball algorithms' documented rules (snowballstem.org): French deletes a
plural ``s`` and a final ``e`` ("histoires" → "histoir"); Dutch deletes ``en`` after a non-vowel
("boeken" → "boek"), which French leaves; English turns ``ies`` and a final consonant + ``y`` into ``i``
("stories", "story" → "stori").
"""

from __future__ import annotations

import pytest

from unicat.analysis import analyze, tokens
from unicat.stemming import STEM_MARK, query_stems, record_stem_languages, stem_text


@pytest.mark.parametrize(
    ("language", "stemmers"),
    [
        ("fre", ("fr",)),
        ("fra", ("fr",)),
        ("dut", ("nl",)),
        ("nld", ("nl",)),
        ("eng", ("en",)),
        ("ENG", ("en",)),
        (None, ("fr", "nl", "en")),
        ("", ("fr", "nl", "en")),
        ("und", ("fr", "nl", "en")),
        ("mul", ("fr", "nl", "en")),
        ("ger", ()),
        ("lat", ()),
    ],
)
def test_the_record_language_picks_the_stemmers(language: str | None, stemmers: tuple[str, ...]) -> None:
    assert record_stem_languages(language) == stemmers


def marked(*stems: str) -> str:
    """Stems as the index holds them: each behind the mark that keeps it apart from exact words."""
    return " ".join(STEM_MARK + stem for stem in stems)


def test_stems_of_analysed_text_per_language() -> None:
    assert stem_text("histoires extraordinaires", ("fr",)) == marked("histoir", "extraordinair")
    assert stem_text("boeken", ("nl",)) == marked("boek")
    assert stem_text("boeken", ("fr",)) == marked("boeken")
    # Several languages: each word's distinct stems, in the languages' order.
    assert stem_text("boeken stories", ("fr", "nl", "en")) == marked(
        "boeken", "boek", "stor", "storie", "stori"
    )
    assert stem_text("histoires", ()) == ""
    assert stem_text("", ("fr",)) == ""
    # A marked stem is never a token analysis can produce: no exact word ever equals it.
    assert tokens(marked("histoir")) == ["histoir"] and STEM_MARK not in analyze(marked("histoir"))


def test_a_query_word_has_its_distinct_stems() -> None:
    assert query_stems("histoire", ("fr", "nl", "en")) == (STEM_MARK + "histoir",)
    assert query_stems("story", ("en",)) == (STEM_MARK + "stori",)
    assert query_stems("boek", ()) == ()
