"""Integer sequences kept as documents in the meta index (harvest run ids, quarantine order, union
generations, the numbers of what readers add).

The core-only node has no scripts, so a counter is read with its ``_seq_no``/``_primary_term`` and
written back only if nobody wrote it meanwhile (optimistic concurrency); a conflict retries. Several
processes and threads may reserve numbers at once and never get the same one.

One counter document takes one write at a time, so numbering every comment there makes the posters of
a busy site queue on it: 1,000 comments from 20 posters through the web app's 4 engine threads cost
762 version conflicts on the counter and 33 ms a number (p50, 40% of a comment's write), and through
10 threads 4,334 conflicts and 96 ms. :class:`NumberBlocks` reserves ``size`` numbers in one write and
hands them out in this process (one engine) under a lock: still unique across threads and processes,
one counter write per ``size`` items (blocks of 50: 20 writes for those 1,000 comments, no conflict;
three engines writing 7,200 at once: 10 conflicts, against 5,051 one number at a time).

The numbers are then neither gap-free (a process that stops leaves the rest of its block unused) nor in
creation order across processes (each numbers from its own block); nothing relies on either: readers'
items are listed by time, then number, and found by number. A given number (a copied catalogue's item)
raises the counter and moves this engine past it; one that falls in another process's block (a copy
into a catalogue being written to meanwhile) makes that process's ``create`` conflict, not overwrite.
"""

from __future__ import annotations

import random
import threading
import time

from elasticsearch import ConflictError, Elasticsearch, NotFoundError

from unicat.errors import EngineError

MAX_ATTEMPTS = 200


def reserve(client: Elasticsearch, index: str, counter: str, count: int = 1) -> int:
    """Reserve ``count`` consecutive numbers of ``counter``; returns the first (numbers start at 1)."""
    doc_id = f"counter-{counter}"
    for attempt in range(MAX_ATTEMPTS):
        try:
            current = client.get(index=index, id=doc_id)
        except NotFoundError:
            try:
                client.create(index=index, id=doc_id, document={"value": count})
                return 1
            except ConflictError:
                continue
        value = int(current["_source"]["value"])
        try:
            client.index(
                index=index,
                id=doc_id,
                document={"value": value + count},
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
            )
            return value + 1
        except ConflictError:
            # Someone else took numbers meanwhile; back off a little (jittered) so racers spread out.
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 20)))
    raise EngineError(f"could not reserve a number of counter {counter!r}: too much contention")


def raise_to(client: Elasticsearch, index: str, counter: str, value: int) -> None:
    """Make sure ``counter`` has handed out at least ``value`` (numbers reserved later are higher)."""
    doc_id = f"counter-{counter}"
    for _attempt in range(MAX_ATTEMPTS):
        try:
            current = client.get(index=index, id=doc_id)
        except NotFoundError:
            try:
                client.create(index=index, id=doc_id, document={"value": value})
                return
            except ConflictError:
                continue
        if int(current["_source"]["value"]) >= value:
            return
        try:
            client.index(
                index=index,
                id=doc_id,
                document={"value": value},
                if_seq_no=current["_seq_no"],
                if_primary_term=current["_primary_term"],
            )
            return
        except ConflictError:
            continue
    raise EngineError(f"could not raise counter {counter!r}: too much contention")


class NumberBlocks:
    """Numbers of several counters for one process, reserved ``size`` at a time (see the module's text)."""

    def __init__(self, client: Elasticsearch, index: str, size: int) -> None:
        self._client = client
        self._index = index
        self._size = max(1, size)
        self._lock = threading.Lock()
        # Per counter: the next number to hand out and the first past the block (next == end: none left).
        self._next: dict[str, int] = {}
        self._end: dict[str, int] = {}

    def take(self, counter: str) -> int:
        """A number of ``counter`` nobody else has or will get."""
        with self._lock:
            number = self._next.get(counter, 0)
            if number >= self._end.get(counter, 0):
                # Under the lock: the other threads of this process would wait for this block anyway.
                number = reserve(self._client, self._index, counter, self._size)
                self._end[counter] = number + self._size
            self._next[counter] = number + 1
            return number

    def raise_to(self, counter: str, value: int) -> None:
        """As :func:`raise_to`, and skip this block's numbers up to ``value`` (taken by a given item)."""
        with self._lock:
            raise_to(self._client, self._index, counter, value)
            self._next[counter] = max(self._next.get(counter, 0), value + 1)
