"""Searches the web app awaits in its event loop, over the asynchronous client (aiohttp).

The synchronous client in the app's thread pool costs a search a hand-off to a thread and back and
urllib3's request machinery; measured on bench/app_vs_bare.py's selective searches, the asynchronous
client awaited in the loop answers the same request ~0.35 ms sooner at the median. It runs the searches
one ``_search`` answers (:func:`~unicat.engines.elasticsearch.execute.one_request_body`); the others
(facets counted in two halves, deep pages) stay with :meth:`ElasticsearchEngine.search
<unicat.engines.elasticsearch.engine.ElasticsearchEngine.search>`, in a thread. The request, the
retry on a vanished generation and the errors are the synchronous search's.
"""

from __future__ import annotations

import time

from unicat.engines.elasticsearch.connection import EngineAddress, make_async_client, translated
from unicat.engines.elasticsearch.execute import (
    SEARCH_ATTEMPTS,
    checked,
    one_request_body,
    search_result,
    vanished,
)
from unicat.errors import EngineError
from unicat.ports.union_index import AsyncSearcher
from unicat.query import SearchQuery, SearchResult
from unicat.settings import Settings


class ElasticsearchAsyncSearcher(AsyncSearcher):
    """Searches of the union alias ``index`` over an asynchronous client of its own."""

    def __init__(self, address: EngineAddress, index: str, settings: Settings) -> None:
        self._client = make_async_client(address, settings)
        self._node_url = address.node_url
        self._index = index
        self._settings = settings

    async def search(self, query: SearchQuery, *, documents: bool = False) -> SearchResult | None:
        timeout = self._settings.query_timeout
        body = one_request_body(query, timeout, self._settings.es_shards)
        if body is None:
            return None
        began = time.perf_counter()
        attempt = 1
        while True:
            try:
                with translated(self._node_url, "search"):
                    answer = checked((await self._client.search(index=self._index, body=body)).body, timeout)
                return search_result(answer, query, began, documents=documents)
            except EngineError as exc:
                if attempt == SEARCH_ATTEMPTS or not vanished(exc):
                    raise
                attempt += 1

    async def close(self) -> None:
        await self._client.close()
