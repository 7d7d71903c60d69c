"""Highlight spans: the query's words found in the displayed text through the same analysis."""

from __future__ import annotations

from search_app.catalogue.spans import match_spans
from unicat.query import parse_text_query


def marked(text: str, query: str, field: str = "title") -> list[str]:
    return [text[start:end] for start, end in match_spans(text, parse_text_query(query).clauses, field)]


def test_folded_query_marks_accented_elided_words() -> None:
    assert marked("L'Étranger et les Œuvres complètes", "etranger oeuvres") == ["Étranger", "Œuvres"]


def test_prefix_and_phrase_terms() -> None:
    assert marked("Astronomie populaire, astrologie", "astro*") == ["Astronomie", "astrologie"]
    assert marked("Pride and prejudice", '"pride and"') == ["Pride", "and"]


def test_clauses_on_other_fields_do_not_mark_this_one() -> None:
    assert marked("Austen in Bath", "author:austen") == []
    assert marked("Austen, Jane", "author:austen", field="author") == ["Austen"]


def test_isbn_clause_marks_nothing_in_a_title() -> None:
    assert marked("Emma 9780141439587", "9780141439587") == []
