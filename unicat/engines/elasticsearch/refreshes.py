"""Refreshes shared by the writers of one process: a write is searchable once a refresh of its index
has run after it, and one refresh serves every write done when it started.

What readers add is read straight after it is written (a reader who posts a comment goes back to the
record page, which lists the comments by a search), so such a write must not answer before a refresh
made it searchable. ``refresh=True`` on each write does that with one refresh per write, and each
refresh writes a new segment, the node's main cost here: comments written from 4 threads at once took
201 refreshes for 200 writes (154 comments/s, 25.7 ms p50), from 10 threads 301 for 300 (70/s, 140 ms)
on a 2-core machine with 9.2. ``refresh="wait_for"`` instead waits for the node's periodic refresh
(``refresh_interval``, 1 s): 1,034 ms a write (p50), each holding one of the web app's engine threads.

So the writer writes without a refresh, then asks :meth:`SharedRefresh.after_write`: if no refresh of
the index is running it runs one; if one is running, it may have started before the write, so the
writer waits for it and then for (or runs) the next. Either way a refresh that started after the write
had been acknowledged has finished before the writer answers, as with ``refresh=True``, and writers
arriving during a refresh share the next one (4 threads: 107 refreshes for 200 writes, 177/s, 21.2 ms;
10 threads: 71 for 300, 242/s, 40.7 ms; one writer alone: one more request, 13.2 ms against 12.0).
Other processes' writes are refreshed by their own writers: each process keeps the promise for its own.
"""

from __future__ import annotations

import threading

from elasticsearch import Elasticsearch

from unicat.errors import EngineError


class SharedRefresh:
    """The refreshes of one client's indices, one at a time an index, shared by the writes before them."""

    def __init__(self, client: Elasticsearch) -> None:
        self._client = client
        self._changed = threading.Condition()
        # Per index: refreshes started, the highest one finished, and whether one is running.
        self._started: dict[str, int] = {}
        self._finished: dict[str, int] = {}
        self._running: set[str] = set()

    def after_write(self, index: str) -> None:
        """Return once a refresh of ``index`` that started after this call has finished."""
        with self._changed:
            needed = self._started.get(index, 0) + 1
            while self._finished.get(index, 0) < needed:
                if index in self._running:
                    self._changed.wait()
                    continue
                self._running.add(index)
                number = self._started[index] = self._started.get(index, 0) + 1
                self._changed.release()
                try:
                    answer = self._client.indices.refresh(index=index)
                    if answer["_shards"].get("failed"):
                        # A shard that failed answers 200 too: the write may not be searchable.
                        raise EngineError(f"the refresh of {index} failed: {answer['_shards']}")
                finally:
                    self._changed.acquire()
                    self._running.discard(index)
                    self._changed.notify_all()
                # (A refresh that failed finishes nothing: whoever still waits runs the next one.)
                self._finished[index] = number
