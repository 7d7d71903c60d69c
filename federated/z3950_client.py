"""Searching one Z39.50 target: a PQF query in, the hit count and a page of raw records out.

The work is ZOOM's (:mod:`federated.zoom`), which blocks; it runs in a thread of a pool of its own, one
fresh connection per search (a ZOOM connection is never shared between threads), under two deadlines:
ZOOM's ``timeout`` for each wait on the network, and an asyncio deadline for the whole search. Every
failure reaches the caller as a :class:`~unicat.live_search.LiveTargetError` whose kind the status line
shows and whose message says what to check.
"""

from __future__ import annotations

import asyncio
import functools
import math
from concurrent.futures import Executor, ThreadPoolExecutor

from federated import bib1
from federated.zoom import (
    ERROR_CONNECT,
    ERROR_CONNECTION_LOST,
    ERROR_INIT,
    ERROR_TIMEOUT,
    Connection,
    Query,
    ZoomError,
    ZoomUnavailable,
)
from unicat.errors import BadParameter
from unicat.live_search import LiveTarget, LiveTargetError, RawLiveRecord, TargetAnswer, Z3950Address
from unicat.live_search import parse_z3950_address as parse_address
from unicat.model import RecordSyntax

DEADLINE_MARGIN = 1.0
"""Seconds the whole search may take beyond the target's timeout: ZOOM's ``timeout`` bounds each wait
on the network, not the sum of them (connect, Init, search, present), so the asyncio deadline is the
one the caller can count on."""

POOL_THREADS = 16
"""Z39.50 searches that run at once in this process; more wait for a thread (under their deadline)."""

# The record syntax a target is configured with, as ZOOM's preferredRecordSyntax names it.
PREFERRED_SYNTAX = {
    "usmarc": "usmarc",
    "marc21": "usmarc",
    "unimarc": "unimarc",
    "xml": "xml",
    "marcxml": "xml",
}

# Record syntaxes that carry no MARC record: a server that sends them instead is skipped, not read.
_NOT_MARC = frozenset({"sutrs", "grs-1"})

# ZOOM's own errors that mean the query never left: a bad PQF or CQL from the target's query map.
_QUERY_ERRORS = frozenset(range(10009, 10015))


@functools.cache
def _pool() -> ThreadPoolExecutor:
    # A pool of its own, not asyncio's default executor: a dead target holds its thread until ZOOM's
    # timeout even after the asyncio deadline gave up on it, and must not starve the rest of the app
    # (file reads, DNS) that runs in the default executor.
    return ThreadPoolExecutor(max_workers=POOL_THREADS, thread_name_prefix="z3950")


async def search_z3950(
    target: LiveTarget, pqf: str, start: int, count: int, *, executor: Executor | None = None
) -> TargetAnswer:
    """Search ``target`` for ``pqf`` and fetch records ``start`` (from 1) to ``start + count - 1``.

    Raises :class:`LiveTargetError` (``timeout``, ``connect``, ``closed``, ``protocol``,
    ``diagnostic``); never waits much beyond ``target.timeout``.
    """
    if start < 1 or count < 0:
        raise ValueError(f"records are counted from 1, got start={start} count={count}")
    try:
        address = parse_address(target.address)
    except BadParameter as error:
        raise LiveTargetError("connect", f"target {target.code}: {error}") from error
    loop = asyncio.get_running_loop()
    work = loop.run_in_executor(executor or _pool(), search_blocking, target, address, pqf, start, count)
    try:
        return await asyncio.wait_for(work, target.timeout + DEADLINE_MARGIN)
    except TimeoutError:
        raise LiveTargetError(
            "timeout", f"no answer from {_where(address)} within {target.timeout:g} s"
        ) from None


def zoom_options(target: LiveTarget, address: Z3950Address, start: int, count: int) -> dict[str, str]:
    """The ZOOM options for one search of ``target``."""
    options = {
        "databaseName": address.database,
        "preferredRecordSyntax": PREFERRED_SYNTAX.get(target.record_syntax.lower(), target.record_syntax),
        # ZOOM reads it as a whole number of seconds, each wait on the network.
        "timeout": str(max(1, math.ceil(target.timeout))),
        # Records asked with the search (piggybacked when the server can), in one present otherwise.
        "start": str(start - 1),
        "count": str(count),
        "presentChunk": str(count),
    }
    if target.charset:
        # A target that declares its character set gets the query terms in it (ZOOM converts them
        # from UTF-8); its records are converted back to UTF-8 as they are rendered.
        options["rpnCharset"] = target.charset
    else:
        # Otherwise ask for UTF-8 by character set negotiation; servers that do not negotiate ignore it.
        options["charset"] = "UTF-8"
    return options


def render_type(target: LiveTarget) -> str:
    """What ZOOM is asked to render records as: ISO 2709 (``raw``) or MARCXML (``xml``), converted to
    UTF-8 from the target's declared character set."""
    base = "xml" if PREFERRED_SYNTAX.get(target.record_syntax.lower()) == "xml" else "raw"
    return f"{base}; charset={target.charset},utf-8" if target.charset else base


def search_blocking(
    target: LiveTarget, address: Z3950Address, pqf: str, start: int, count: int
) -> TargetAnswer:
    """:func:`search_z3950`'s work, in the calling thread (which it blocks)."""
    try:
        with Connection(zoom_options(target, address, start, count)) as connection:
            connection.connect(f"tcp:{_host(address)}", address.port)
            with Query.pqf(pqf) as query, connection.search(query) as result:
                total = result.size
                zoom_records = result.records(start, count, render_type(target))
                connection.check()
    except ZoomError as error:
        raise live_error(target, address, error) from error
    except ZoomUnavailable as error:
        raise LiveTargetError("connect", str(error)) from error
    answer = TargetAnswer(total)
    xml = render_type(target).startswith("xml")
    for record in zoom_records:
        if record.data is None or record.syntax.lower() in _NOT_MARC:
            answer.skipped += 1
            continue
        syntax: RecordSyntax = "marcxml" if xml or "xml" in record.syntax.lower() else "iso2709"
        answer.records.append(RawLiveRecord(target.code, record.position, record.data, syntax))
    return answer


def live_error(target: LiveTarget, address: Z3950Address, error: ZoomError) -> LiveTargetError:
    """ZOOM's error as the status line says it."""
    where = _where(address)
    if error.diagset.upper() != "ZOOM":
        return LiveTargetError(
            "diagnostic", bib1.describe(error.code, error.message, error.addinfo, error.diagset)
        )
    said = f"ZOOM {error.code}: {error.message}" + (f", {error.addinfo}" if error.addinfo else "")
    if error.code == ERROR_TIMEOUT:
        return LiveTargetError("timeout", f"no answer from {where} within {target.timeout:g} s ({said})")
    if error.code == ERROR_CONNECT:
        return LiveTargetError(
            "connect", f"could not connect to {where} ({said}): check the address and that the server runs"
        )
    if error.code == ERROR_CONNECTION_LOST:
        return LiveTargetError("closed", f"{where} closed the connection before it answered ({said})")
    if error.code == ERROR_INIT:
        return LiveTargetError(
            "protocol", f"{where} refused the session ({said}): it may need a user name and password"
        )
    if error.code in _QUERY_ERRORS:
        return LiveTargetError(
            "diagnostic", f"the query could not be sent ({said}): check the target's query map"
        )
    return LiveTargetError("protocol", f"{where} answered what could not be read ({said})")


def _host(address: Z3950Address) -> str:
    return f"[{address.host}]" if ":" in address.host else address.host


def _where(address: Z3950Address) -> str:
    return f"{_host(address)}:{address.port}/{address.database}"
