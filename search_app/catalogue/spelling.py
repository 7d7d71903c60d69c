""" "Did you mean": a search that finds little is checked against the catalogue's own words.

The speller (:mod:`unicat.speller`) is built from the vocabulary the union index keeps with its
generation, once, and built again when the index changes (the latest OAI-PMH generation of the store
moves with every rebuild that changes a record, whoever ran it: the same signal as the overlap page's).
A correction is offered only when the engine, asked again with it and the same filters, finds more
records than the search as typed: never a suggestion that finds nothing.
"""

from __future__ import annotations

import dataclasses

from aiohttp import web

from search_app.catalogue.fetch import Search, count_search, may_correct, query_lists, with_reader_language
from search_app.index_cache import PerIndexState
from search_app.state import CATALOGUE, INDEX, SETTINGS, in_thread
from unicat.query import parse_search_params
from unicat.speller import DidYouMean, Speller


def _speller(app: web.Application) -> Speller:
    """The speller of the index's words, built once per generation of the index."""
    return Speller(app[INDEX].vocabulary())


SPELLER = web.AppKey("speller", PerIndexState[Speller])


async def did_you_mean(request: web.Request, found: Search) -> DidYouMean | None:
    """A corrected query that finds more than ``found``, with how many records, or ``None``."""
    app = request.app
    text = found.query.text
    if not may_correct(app[SETTINGS], found.query, found.result):
        return None
    corrected = (await app[SPELLER].get(app, found.index_state)).correct_text(text)
    if corrected is None:
        return None
    params = {**query_lists(request), "q": [corrected]}
    params.pop("page", None)
    asked = with_reader_language(request, parse_search_params(params, app[SETTINGS]))
    query = dataclasses.replace(asked, page_size=1, facets=False)
    total = await in_thread(app, count_search, app[CATALOGUE], query)
    return DidYouMean(corrected, total) if total > found.result.total else None


def setup(app: web.Application) -> None:
    app[SPELLER] = PerIndexState(_speller)
