"""Integer sequences kept as documents in the meta index (harvest run ids, quarantine order, union
generations).

The core-only node has no scripts, so a counter is read with its ``_seq_no``/``_primary_term`` and
written back only if nobody wrote it meanwhile (optimistic concurrency); a conflict retries. Several
processes and threads may reserve numbers at once and never get the same one.
"""

from __future__ import annotations

import random
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
