"""How handlers get what they show: a search, or a record that may have moved, via the thread pool."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aiohttp import web

from search_app.errors import RecordNotFound
from search_app.i18n import LANG_PARAM, current_language, request_language
from search_app.index_cache import IndexState, index_state
from search_app.readers.reader_data import rating_summaries, tagged_ids
from search_app.readers.record_aliases import aliases
from search_app.state import (
    ASYNC_SEARCHER,
    CATALOGUE,
    HIT_MARKS,
    INDEX,
    RECORDS,
    SETTINGS,
    SOURCES,
    in_thread,
)
from search_app.timing import add_engine_time
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.holding_codes import named_records
from unicat.model import UnionRecord
from unicat.ports.hit_marks import HitMarks
from unicat.query import EDITIONS_FILTER, TAG_FILTER, SearchQuery, SearchResult, parse_search_params
from unicat.readers import Rating, RatingSummary
from unicat.settings import SUPPORTED_LANGUAGES, Settings
from unicat.stores.hit_readers import ratings_and_redirects

MAX_ID_LENGTH = 200
# Filters that are not in the union index: the app turns them into ids (SearchQuery.ids).
ID_FILTERS = (TAG_FILTER, EDITIONS_FILTER)


@dataclass(frozen=True, slots=True)
class Search:
    """A validated query, what the engine answered, and the library names to show with it: the
    sources' (``library_names``) and the directory's libraries' in the reader's language
    (``site_names``, for the facets of the libraries keeping copies)."""

    query: SearchQuery
    result: SearchResult
    library_names: dict[str, str]
    ratings: dict[str, RatingSummary] = dataclasses.field(default_factory=dict)
    site_names: dict[str, str] = dataclasses.field(default_factory=dict)
    # The union index's state when the search read it for the speller (may_correct); None: not read.
    index_state: IndexState = None


def query_lists(request: web.Request) -> dict[str, list[str]]:
    """The search's parameters as lists, so a repeated parameter is seen (and refused where it must be
    single). ``lang`` is the page's, not the search's: checked here, then left out."""
    languages = request.query.getall(LANG_PARAM, [])
    if len(languages) > 1 or any(language not in SUPPORTED_LANGUAGES for language in languages):
        raise BadParameter(LANG_PARAM, f"give one of {', '.join(SUPPORTED_LANGUAGES)}, once")
    return {key: request.query.getall(key) for key in request.query if key != LANG_PARAM}


def with_reader_language(request: web.Request, query: SearchQuery) -> SearchQuery:
    """``query`` stemmed for the reader's interface language first, then the network's languages (a
    network that stems in none, ``network_languages = []``, stems for no reader either)."""
    if not query.stem_languages:
        return query
    languages = tuple(dict.fromkeys((request_language(request), *query.stem_languages)))
    return dataclasses.replace(query, stem_languages=languages)


async def run_search(
    request: web.Request,
    *,
    peek: bool = False,
    params: Mapping[str, Sequence[str]] | None = None,
    documents: bool = False,
) -> Search:
    """Parse the request's search parameters (400 on bad ones) and run the search.

    ``peek`` counts one facet value more than asked, so that a page knows whether a facet has more
    values than it lists (its "Show more" link); :attr:`Search.query` stays the query asked.
    ``params`` replaces the request's (a page that sets some of them itself, the new titles').
    ``documents``: the hits may come as the stored documents (:attr:`SearchResult.documents`, for
    the JSON API), where the union index gives them so and no code table renames their holdings."""
    app = request.app
    asked_params = query_lists(request) if params is None else params
    query = with_reader_language(request, parse_search_params(asked_params, app[SETTINGS]))
    if len(query.filters.get(EDITIONS_FILTER, ())) > 1:
        raise BadParameter(EDITIONS_FILTER, "give the id of one record, whose other editions are listed")
    asked = query
    if peek:
        sizes = {name: size + 1 for name, size in query.facet_sizes.items()}
        asked = dataclasses.replace(query, facet_size=query.facet_size + 1, facet_sizes=sizes)
    started = time.perf_counter()
    found = await _search(app, asked, query, documents)
    result, state = found.result, found.index_state
    ratings = await hit_ratings(app, app[CATALOGUE], found)
    add_engine_time(request, started)
    tables = await app[SOURCES].code_tables()
    if tables:
        result = result.with_records()
        result = dataclasses.replace(result, hits=list(named_records(result.hits, tables)))
    site_names = await app[SOURCES].site_names(current_language())
    return Search(query, result, await app[SOURCES].names(), ratings, site_names, state)


def may_correct(settings: Settings, query: SearchQuery, result: SearchResult) -> bool:
    """Whether the speller is asked about a search: it has words and finds few records."""
    return bool(query.text.strip()) and result.total <= settings.did_you_mean_max_hits


@dataclass(frozen=True, slots=True)
class _Searched:
    """A search's answer with what the stores hold on its hits' ids (ratings, and the ids redirected
    straight to them), and the index's state when the speller will be asked."""

    result: SearchResult
    ratings: list[Rating]
    pointing: dict[str, list[str]]
    index_state: IndexState


async def _search(
    app: web.Application, asked: SearchQuery, query: SearchQuery, documents: bool = False
) -> _Searched:
    """The search of ``asked`` (``query`` as the reader asked it) and what the stores hold on its hits:
    awaited in the loop where the union index can (then the stores' reads take one hand-off to the
    pool, or none when the store's marks say they would find nothing), else all in one hand-off.
    Readers' tags and "editions of" are turned into ids by the stores first, so such a search takes
    the pool's way."""
    catalogue, settings = app[CATALOGUE], app[SETTINGS]
    searcher = app.get(ASYNC_SEARCHER)
    if searcher is not None and not any(asked.filters.get(name) for name in ID_FILTERS):
        result = await searcher.search(asked, documents=documents)
        if result is not None:
            unread = _without_reading(app.get(HIT_MARKS), settings, query, result)
            if unread is not None:
                return unread
            return await in_thread(app, _readers_of_hits, catalogue, settings, query, result)
    return await in_thread(app, _search_and_readers, catalogue, settings, asked, query)


def _without_reading(
    marks: HitMarks | None, settings: Settings, query: SearchQuery, result: SearchResult
) -> _Searched | None:
    """What the stores' read would answer on ``result``'s hits, known from the store's marks without
    it: no rating, no redirect, and the latest generation when the speller will be asked; ``None``
    when the marks cannot say (a hit marked, or the marks not live): then the stores are read."""
    if marks is None or not marks.unmarked(result.hit_ids):
        return None
    state: IndexState = None
    if may_correct(settings, query, result):
        live, state = marks.latest_generation()
        if not live:
            return None
    return _Searched(result, [], {}, state)


def _readers_of_hits(
    catalogue: Catalogue, settings: Settings, query: SearchQuery, result: SearchResult
) -> _Searched:
    """What the stores hold on ``result``'s hits, in one statement, and the index's state when the
    speller will be asked."""
    ratings, pointing = ratings_and_redirects(catalogue.database, result.hit_ids)
    state = index_state(catalogue.records) if may_correct(settings, query, result) else None
    return _Searched(result, ratings, pointing, state)


def _search_and_readers(
    catalogue: Catalogue, settings: Settings, asked: SearchQuery, query: SearchQuery
) -> _Searched:
    """The search, then, in the same thread, one statement on the stores for its hits' ratings and
    redirects and, when the speller will be asked (search_app/catalogue/spelling.py), the index's
    state it checks: each hand-off to the pool and back costs the event loop a wake-up, and on a
    selective search the stores' reads cost less than the hand-offs that ran them side by side."""
    result = catalogue.index.search(ids_of_filters(catalogue, asked))
    return _readers_of_hits(catalogue, settings, query, result)


async def hit_ratings(
    app: web.Application, catalogue: Catalogue, found: _Searched
) -> dict[str, RatingSummary]:
    """The readers' ratings of a page of hits: those on the hits' own ids, read with the search, and,
    when a hit took in a merged record (rare), those on every id merged into it, read now."""
    record_ids = found.result.hit_ids
    aliased: dict[str, list[str]] = {record_id: [record_id] for record_id in record_ids}
    ratings = found.ratings
    if found.pointing:
        aliased = await in_thread(app, aliases, catalogue.records, record_ids, found.pointing)
        merged = [alias for ids in aliased.values() for alias in ids[1:]]
        ratings = [*ratings, *await in_thread(app, catalogue.contributions.ratings_for, merged)]
    return rating_summaries(aliased, ratings)


def count_search(catalogue: Catalogue, query: SearchQuery) -> int:
    """How many records ``query`` finds (with readers' tags and "editions of", as a search does)."""
    return catalogue.index.search(ids_of_filters(catalogue, query)).total


def ids_of_filters(catalogue: Catalogue, query: SearchQuery) -> SearchQuery:
    """``query`` with readers' tags and "editions of" (not in the union index) turned into the ids of
    their records."""
    tags = query.filters.get(TAG_FILTER)
    editions_of = query.filters.get(EDITIONS_FILTER)
    if not tags and not editions_of:
        return query
    filters = {name: values for name, values in query.filters.items() if name not in ID_FILTERS}
    ids = set(tagged_ids(catalogue, tags)) if tags else None
    if editions_of:
        editions = set(_editions(catalogue, editions_of[0]))
        ids = editions if ids is None else ids & editions
    return dataclasses.replace(query, filters=filters, ids=tuple(sorted(ids or ())))


def _editions(catalogue: Catalogue, record_id: str) -> list[str]:
    """The ids of the other editions of ``record_id`` (none when there is no such record)."""
    record = catalogue.index.get_union_record(record_id[:MAX_ID_LENGTH])
    return record.editions if record is not None else []


def checked_id(record_id: str) -> str:
    """``record_id`` as asked; :class:`RecordNotFound` at once for one longer than any union id."""
    if len(record_id) > MAX_ID_LENGTH:
        raise RecordNotFound(record_id[:MAX_ID_LENGTH] + "…")
    return record_id


async def find_live_id(request: web.Request, record_id: str) -> str:
    """The live union id a change on ``record_id`` is made on (itself, or where it now lives when it
    was merged away), asked of the record store alone; :class:`RecordNotFound` else."""
    found = await in_thread(request.app, request.app[RECORDS].live_union_id, checked_id(record_id))
    if found is None:
        raise RecordNotFound(record_id)
    return found


async def find_record(request: web.Request, record_id: str) -> UnionRecord | str:
    """The record (its holdings' codes named by their sources' tables), or the id it now lives under
    when it was merged away; :class:`RecordNotFound` else."""
    record = await in_thread(request.app, request.app[INDEX].get_union_record, checked_id(record_id))
    if record is not None:
        [named] = named_records([record], await request.app[SOURCES].code_tables())
        return named
    target = await in_thread(request.app, request.app[RECORDS].resolve_redirect, record_id)
    if target is None or target == record_id:
        raise RecordNotFound(record_id)
    return target
