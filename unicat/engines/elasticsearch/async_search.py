"""Searches the web app awaits in its event loop, over a plain aiohttp session
(:mod:`unicat.engines.elasticsearch.search_session`).

The synchronous client in the app's thread pool costs a search a hand-off to a thread and back and
urllib3's request machinery; measured on bench/app_vs_bare.py's selective searches, a search awaited in
the loop answers the same request ~0.35 ms sooner at the median. It runs the searches
one ``_search`` answers (:func:`~unicat.engines.elasticsearch.execute.one_request_body`); the others
(facets counted in two halves, deep pages) stay with :meth:`ElasticsearchEngine.search
<unicat.engines.elasticsearch.engine.ElasticsearchEngine.search>`, in a thread. The request, the
retry on a vanished generation and the errors are the synchronous search's.
"""

from __future__ import annotations

import time

import orjson

from unicat.engines.elasticsearch.connection import EngineAddress
from unicat.engines.elasticsearch.execute import (
    SEARCH_ATTEMPTS,
    checked,
    one_request_body,
    search_result,
    vanished,
)
from unicat.engines.elasticsearch.search_session import SearchSession
from unicat.errors import EngineError
from unicat.ports.union_index import AsyncSearcher
from unicat.query import SearchQuery, SearchResult
from unicat.settings import Settings


class ElasticsearchAsyncSearcher(AsyncSearcher):
    """Searches of the union alias ``index`` over a session of its own."""

    def __init__(self, address: EngineAddress, index: str, settings: Settings) -> None:
        self._session = SearchSession(address.node_urls, settings.query_timeout, settings.es_bulk_retries)
        self._path = f"/{index}/_search"
        self._settings = settings

    async def search(self, query: SearchQuery, *, documents: bool = False) -> SearchResult | None:
        timeout = self._settings.query_timeout
        body = one_request_body(query, timeout, self._settings.es_shards)
        if body is None:
            return None
        began = time.perf_counter()
        sent = orjson.dumps(body)
        attempt = 1
        while True:
            try:
                answer = checked(await self._session.post(self._path, sent, "search"), timeout)
                return search_result(answer, query, began, documents=documents)
            except EngineError as exc:
                if attempt == SEARCH_ATTEMPTS or not vanished(exc):
                    raise
                attempt += 1

    async def close(self) -> None:
        await self._session.close()
