"""The canonical form of a kept search (unicat/saved_searches.py): paging is the same search, the
order of parameters and values is not a difference, and what the search refuses is refused when saved."""

from __future__ import annotations

import pytest

from unicat.errors import BadParameter
from unicat.query import parse_search_params
from unicat.saved_searches import (
    MAX_NAME,
    canonical_query,
    check_search_name,
    checked_query,
    query_params,
    visitor_owner,
)
from unicat.settings import Settings


def test_paging_and_layout_are_not_part_of_the_search() -> None:
    first = {"q": ["bach"], "language": ["ger"], "page": ["1"]}
    third = {
        "page": ["3"],
        "page_size": ["50"],
        "facet_more": ["subject"],
        "language": ["ger"],
        "q": ["bach"],
    }
    assert canonical_query(first) == canonical_query(third) == "language=ger&q=bach"


def test_order_repeats_defaults_and_unknown_names_make_no_difference() -> None:
    one = {
        "language": ["ger", "fre"],
        "not_format": ["map"],
        "sort": ["relevance"],
        "utm_source": ["x"],
        "q": ["a b"],
    }
    other = {"q": ["a b"], "not_format": ["map", "map"], "language": ["fre", "ger", ""]}
    assert canonical_query(one) == canonical_query(other) == "language=fre&language=ger&not_format=map&q=a+b"
    assert canonical_query({"sort": ["title"], "year": ["1900-1950"]}) == "sort=title&year=1900-1950"


def test_a_canonical_query_reads_back_as_the_same_search() -> None:
    params = {
        "q": ["title:faust"],
        "library": ["SCPO"],
        "year": ["1800-"],
        "sort": ["year_desc"],
        "page": ["2"],
    }
    settings = Settings()
    kept = parse_search_params(query_params(canonical_query(params)), settings)
    direct = parse_search_params({**params, "page": ["1"]}, settings)
    assert kept == direct


def test_checked_query_refuses_what_the_search_refuses() -> None:
    settings = Settings()
    assert checked_query({"q": ["faust"], "page": ["4"]}, settings) == "q=faust"
    with pytest.raises(BadParameter) as bad_sort:
        checked_query({"q": ["faust"], "sort": ["loudest"]}, settings)
    assert bad_sort.value.param == "sort"
    with pytest.raises(BadParameter) as empty:
        checked_query({"page": ["2"]}, settings)
    assert empty.value.param == "query"


def test_names_are_trimmed_and_measured() -> None:
    assert check_search_name("  Bach   cantatas \n") == "Bach cantatas"
    assert check_search_name("x" * MAX_NAME) == "x" * MAX_NAME
    for bad in ("", "   ", "x" * (MAX_NAME + 1)):
        with pytest.raises(BadParameter):
            check_search_name(bad)


def test_a_browser_is_known_by_the_hash_of_its_token_only() -> None:
    owner = visitor_owner("secret-token")
    assert owner.startswith("visitor:") and "secret-token" not in owner
    assert owner == visitor_owner("secret-token") != visitor_owner("other-token")
