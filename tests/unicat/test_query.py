"""The query model: user text → clauses, request parameters → SearchQuery or BadParameter."""

from __future__ import annotations

import pytest

from unicat.errors import BadParameter
from unicat.query import (
    MAX_CLAUSES,
    MAX_QUERY_LENGTH,
    Clause,
    decade_label,
    parse_search_params,
    parse_text_query,
)
from unicat.settings import Settings


def test_words_are_analysed_clauses_on_any() -> None:
    assert parse_text_query("L'Étranger CAMUS") == (Clause("any", ("etranger",)), Clause("any", ("camus",)))


def test_field_prefixes_and_aliases() -> None:
    assert parse_text_query("au:camus ti:peste su:roman") == (
        Clause("author", ("camus",)),
        Clause("title", ("peste",)),
        Clause("subject", ("roman",)),
    )


def test_phrases() -> None:
    assert parse_text_query('title:"Science politique"') == (
        Clause("title", ("science", "politique"), phrase=True, exact=True),
    )
    # A quoted word is one word, matched as written (not by its stems).
    assert parse_text_query('"Camus"') == (Clause("any", ("camus",), exact=True),)
    assert parse_text_query('""') == ()


def test_prefix_and_hyphenated_words() -> None:
    assert parse_text_query("prej*") == (Clause("any", ("prej",), prefix=True),)
    assert parse_text_query("Jean-Paul") == (Clause("any", ("jean", "paul"), phrase=True),)


def test_isbns_become_identifier_clauses_in_isbn13_form() -> None:
    expected = (Clause("ident", ("9782070360024",)),)
    assert parse_text_query("2-07-036002-4") == expected
    assert parse_text_query("isbn:9782070360024") == expected
    assert parse_text_query("issn:0035-2950") == (Clause("ident", ("0035", "2950"), phrase=True),)


def test_unknown_field_prefix_is_searched_as_text() -> None:
    assert parse_text_query("Faust:Tragödie") == (Clause("any", ("faust", "tragodie"), phrase=True),)


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
        (params(colour="red"), "colour"),
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
