"""Link building, page numbers, facet labels and the source cache: the app's small pure parts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from search_app.labels import DEFAULT_FACETS_FILE, load_labels
from search_app.links import (
    SearchLinks,
    api_list_url,
    api_record_url,
    list_url,
    merge_desk_url,
    page_numbers,
    record_url,
)
from search_app.sources import SourceDirectory
from unicat.errors import ConfigError
from unicat.model import Source
from unicat.query import parse_search_params
from unicat.readers import ReadingList
from unicat.settings import Settings

SETTINGS = Settings()


def links_for(**params: list[str]) -> SearchLinks:
    return SearchLinks(parse_search_params(params, SETTINGS), SETTINGS.page_size)


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_toggle_adds_and_removes_one_value_and_resets_the_page() -> None:
    links = links_for(q=["café"], library=["a"], page=["3"], sort=["title"])
    assert query_of(links.toggle("library", "b")) == {"q": ["café"], "library": ["a", "b"], "sort": ["title"]}
    assert query_of(links.toggle("library", "a")) == {"q": ["café"], "sort": ["title"]}
    assert links.is_selected("library", "a") and not links.is_selected("library", "b")


def test_year_links_keep_the_range_and_can_drop_it() -> None:
    links = links_for(year=["-1800"], page_size=["50"])
    assert query_of(links.page(2)) == {"year": ["-1800"], "page_size": ["50"], "page": ["2"]}
    assert query_of(links.with_year("1990-1999")) == {"year": ["1990-1999"], "page_size": ["50"]}
    assert links.with_year(None) == "/search?page_size=50"
    assert query_of(links_for(year=["1995"]).page(1)) == {"year": ["1995"]}


def test_every_generated_link_parses_back() -> None:
    links = links_for(
        q=['title:"a & b"'], format=["book"], language=["fre"], year=["1950-"], sort=["year_desc"]
    )
    for url in (
        links.page(4),
        links.toggle("format", "map"),
        links.with_year("1600-1609"),
        links.without_text(),
    ):
        parse_search_params(query_of(url), SETTINGS)


def test_without_filters_and_without_text() -> None:
    links = links_for(q=["hugo"], library=["lyon"])
    assert links.without_filters() == "/search?q=hugo"
    assert links.without_text() == "/search?library=lyon"
    assert links_for().without_filters() == "/search"


def test_page_numbers_window_with_gaps() -> None:
    assert page_numbers(1, 1) == [1]
    assert page_numbers(1, 4) == [1, 2, 3, 4]
    assert page_numbers(10, 50) == [1, None, 8, 9, 10, 11, 12, None, 50]
    assert page_numbers(50, 50) == [1, None, 48, 49, 50]


def test_record_url_quotes_unsafe_characters() -> None:
    assert record_url("u-1") == "/record/u-1"
    assert record_url("a/b c?d") == "/record/a%2Fb%20c%3Fd"


def test_every_url_of_a_record_quotes_its_id_and_keeps_the_anchor_apart() -> None:
    assert record_url("a/b#c", "comment-7") == "/record/a%2Fb%23c#comment-7"
    assert api_record_url("a/b") == "/api/records/a%2Fb"
    assert merge_desk_url("a/b c") == "/librarians/merges/a%2Fb%20c"


def test_a_reading_list_has_one_permalink_from_its_id_or_itself() -> None:
    stored = ReadingList(user_id=1, name="Summer", id=42)
    assert list_url(stored) == list_url(42) == "/lists/42"
    assert list_url(stored, "?done=created") == "/lists/42?done=created"
    assert api_list_url(42) == "/api/lists/42"


def test_facet_file_labels_the_demo_languages() -> None:
    labels = load_labels(DEFAULT_FACETS_FILE)
    assert labels.facet_order == (
        "availability",
        "held_at",
        "format",
        "language",
        "audience",
        "year",
        "subject",
    )
    names = {
        code: labels.label("language", code)
        for code in ("eng", "fre", "ger", "spa", "ita", "dut", "rus", "lat", "jpn")
    }
    assert names == {
        "eng": "English", "fre": "French", "ger": "German", "spa": "Spanish", "ita": "Italian",
        "dut": "Dutch", "rus": "Russian", "lat": "Latin", "jpn": "Japanese",
    }  # fmt: skip
    assert labels.label("format", "book") == "Book"
    # every format the indexer's field maps can produce has a label
    for code in ("serial", "manuscript", "music score", "map", "sound recording", "video", "computer file"):
        assert labels.label("format", code) != code
    assert labels.label("format", "unheard-of") == "unheard-of"
    assert labels.label("merge_rule", "isbn") == "ISBN"


@pytest.mark.parametrize(
    "text",
    ["[facets\n", '[facets]\norder = ["colour"]\n', "[labels.format]\nbook = 3\n", "labels = 1\n"],
)
def test_a_broken_facet_file_is_a_config_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "facets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_labels(path)
    with pytest.raises(ConfigError):
        load_labels(tmp_path / "missing.toml")


async def test_source_directory_refreshes_after_its_ttl_only() -> None:
    now = [0.0]
    calls: list[int] = []

    async def fetch() -> list[Source]:
        calls.append(1)
        await asyncio.sleep(0)
        return [Source("lib", f"Library v{len(calls)}")]

    directory = SourceDirectory(fetch, ttl=30, clock=lambda: now[0])
    results = await asyncio.gather(*(directory.names() for _ in range(5)))
    assert all(names == {"lib": "Library v1"} for names in results) and len(calls) == 1
    now[0] = 29.9
    assert await directory.names() == {"lib": "Library v1"}
    now[0] = 30.0
    assert await directory.names() == {"lib": "Library v2"} and len(calls) == 2
