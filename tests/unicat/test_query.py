"""The query model: user text → clauses or an expression, request parameters → SearchQuery or BadParameter."""

from __future__ import annotations

import pytest

from unicat.errors import BadParameter
from unicat.query import (
    FACET_MORE_SIZE,
    MAX_CLAUSES,
    MAX_QUERY_LENGTH,
    NOTHING,
    Clause,
    TextQuery,
    decade_label,
    parse_search_params,
    parse_text_query,
)
from unicat.query_syntax import Notice
from unicat.settings import Settings


def test_words_are_analysed_clauses_on_any() -> None:
    assert parse_text_query("L'Étranger CAMUS").clauses == (
        Clause("any", ("etranger",)),
        Clause("any", ("camus",)),
    )


def test_field_prefixes_and_aliases() -> None:
    assert parse_text_query("au:camus ti:peste su:roman").clauses == (
        Clause("author", ("camus",)),
        Clause("title", ("peste",)),
        Clause("subject", ("roman",)),
    )


def test_phrases() -> None:
    assert parse_text_query('title:"Science politique"').clauses == (
        Clause("title", ("science", "politique"), phrase=True, exact=True),
    )
    # A quoted word is one word, matched as written (not by its stems).
    assert parse_text_query('"Camus"').clauses == (Clause("any", ("camus",), exact=True),)
    # Quotes around nothing search nothing: they do not list the whole catalogue.
    assert parse_text_query('""') == TextQuery(expression=NOTHING, notices=(Notice("nothing_to_search"),))


def test_prefix_and_hyphenated_words() -> None:
    assert parse_text_query("prej*").clauses == (Clause("any", ("prej",), prefix=True),)
    assert parse_text_query("Jean-Paul").clauses == (Clause("any", ("jean", "paul"), phrase=True),)


def test_isbns_become_identifier_clauses_in_isbn13_form() -> None:
    expected = (Clause("ident", ("9782070360024",)),)
    assert parse_text_query("2-07-036002-4").clauses == expected
    assert parse_text_query("isbn:9782070360024").clauses == expected
    assert parse_text_query("issn:0035-2950").clauses == (Clause("ident", ("0035", "2950"), phrase=True),)


def test_unknown_field_prefix_is_searched_as_text() -> None:
    assert parse_text_query("Faust:Tragödie").clauses == (Clause("any", ("faust", "tragodie"), phrase=True),)


def test_limits() -> None:
    with pytest.raises(BadParameter):
        parse_text_query("a" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(BadParameter):
        parse_text_query(" ".join(["mot"] * (MAX_CLAUSES + 1)))


def params(**values: str | list[str]) -> dict[str, list[str]]:
    return {name: value if isinstance(value, list) else [value] for name, value in values.items()}


def test_search_params_build_a_query() -> None:
    query = parse_search_params(
        params(
            q="camus", library=["BNF", "SCPO"], year="1940-1949", sort="year_desc", page="3", page_size="10"
        ),
        Settings(),
    )
    assert query.clauses == (Clause("any", ("camus",)),)
    assert query.filters == {"library": ("BNF", "SCPO")}
    assert (query.year_from, query.year_to) == (1940, 1949)
    assert (query.sort, query.page, query.page_size, query.offset) == ("year_desc", 3, 10, 20)
    assert query.facets


def test_search_params_defaults_match_everything() -> None:
    query = parse_search_params({}, Settings())
    assert query.is_match_all
    assert (query.page, query.page_size, query.sort) == (1, Settings().page_size, "relevance")


@pytest.mark.parametrize(
    ("request_params", "bad"),
    [
        (params(page="0"), "page"),
        (params(page="two"), "page"),
        (params(page="10001"), "page"),
        (params(page_size="0"), "page_size"),
        (params(page_size="101"), "page_size"),
        (params(sort="popularity"), "sort"),
        (params(year="nineteen"), "year"),
        (params(year="2000-1990"), "year"),
        (params(year="-"), "year"),
        (params(year="99999999999999999999"), "year"),
        (params(year="12345"), "year"),
        (params(year="²"), "year"),
        (params(year="١٩٩٥"), "year"),
        (params(facets="maybe"), "facets"),
        (params(q=["camus", "sartre"]), "q"),
        (params(page=["1", "2"]), "page"),
        (params(library="x" * 301), "library"),
    ],
)
def test_bad_search_params_name_the_parameter(request_params: dict[str, list[str]], bad: str) -> None:
    with pytest.raises(BadParameter) as caught:
        parse_search_params(request_params, Settings())
    assert caught.value.param == bad


def test_year_filter_forms() -> None:
    assert parse_search_params(params(year="1995"), Settings()).year_from == 1995
    only_to = parse_search_params(params(year="-1800"), Settings())
    assert (only_to.year_from, only_to.year_to) == (None, 1800)


def test_decade_label() -> None:
    assert decade_label(1942) == "1940-1949"
    assert decade_label(1990) == "1990-1999"
    assert decade_label(1809) == "1800-1809"


def test_exclusions_facet_more_and_the_facets_a_search_selects() -> None:
    query = parse_search_params(
        params(
            language=["fre", "dut"],
            not_language=["eng", "eng", ""],
            not_library="BNF",
            year="1990-1999",
            facet_more=["subject", "subject"],
        ),
        Settings(facet_size=10),
    )
    assert query.filters == {"language": ("fre", "dut")}
    assert query.exclusions == {"language": ("eng",), "library": ("BNF",)}
    assert query.facet_sizes == {"subject": FACET_MORE_SIZE}
    assert (query.size_of("subject"), query.size_of("library")) == (FACET_MORE_SIZE, 10)
    # Exclusions are not a choice: the library facet counts as usual.
    assert query.selected_facets == ("language", "year")
    without_language = query.without_selection("language")
    assert (without_language.filters, without_language.exclusions) == ({}, query.exclusions)
    without_year = query.without_selection("year")
    assert (without_year.year_from, without_year.year_to, without_year.filters) == (None, None, query.filters)


@pytest.mark.parametrize(
    ("request_params", "bad"),
    [
        (params(facet_more="colour"), "facet_more"),
        (params(facet_more=""), "facet_more"),
        (params(not_language="x" * 301), "not_language"),
    ],
)
def test_bad_facet_params_name_the_parameter(request_params: dict[str, list[str]], bad: str) -> None:
    with pytest.raises(BadParameter) as caught:
        parse_search_params(request_params, Settings())
    assert caught.value.param == bad
