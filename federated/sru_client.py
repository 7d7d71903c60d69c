"""An SRU client: one ``searchRetrieve`` of a live target over HTTP GET, its MARC XML records handed on.

SRU 1.2 by default, the version every SRU server since 2004 speaks; 2.0 when the caller asks for it,
or when the target's base URL names it (``https://host/sru?version=2.0``: a librarian who knows the
server wants 2.0 writes it there). Other parameters in the base URL (a server's ``x-`` extensions)
are sent with every request.

The answer is read whole under the target's timeout and a size cap, then parsed with lxml without
entity expansion, DTD loading or network access. Every failure is a
:class:`~unicat.live_search.LiveTargetError` whose kind says what broke (``timeout``, ``connect``,
``closed``, ``http``, ``protocol``, ``diagnostic``) and whose message says what to check.
"""

from __future__ import annotations

import copy
import logging
import os

import aiohttp
from lxml import etree
from yarl import URL

from unicat.live_search import LiveTarget, LiveTargetError, RawLiveRecord, TargetAnswer

logger = logging.getLogger(__name__)

SRU_VERSIONS = ("1.2", "2.0")
DEFAULT_VERSION = "1.2"
MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""The largest answer read (MAX_ANSWER_BYTES): a page of 100 MARC XML records is about 1 MB."""
READ_CHUNK = 64 * 1024

MARCXML_SCHEMAS = frozenset(
    {
        "marcxml",
        "info:srw/schema/1/marcxml-v1.1",
        "info:srw/schema/1/marcxml-1.1",
        "http://www.loc.gov/marc21/slim",
    }
)
"""The names servers give MARC XML in ``recordSchema``: the short name, and the URIs YAZ and the SRU
schema list use."""
_SCHEMA_OF_SYNTAX = {"marcxml": "marcxml", "marc21": "marcxml", "usmarc": "marcxml", "xml": "marcxml"}
# The diagnostics' own schema, in place of a record (SRU 1.2 and 2.0 use the same identifier).
_DIAGNOSTIC_SCHEMA = "info:srw/schema/1/diagnostics-v1.1"
# What a librarian can do about the diagnostics a misconfigured target most often gets.
_HINTS = {
    "info:srw/diagnostic/1/10": "check the target's query map: the server could not read the query",
    "info:srw/diagnostic/1/16": (
        "map the field to an index the server lists in its explain record (the query map)"
    ),
    "info:srw/diagnostic/1/66": "set the target's record syntax to a schema the server offers (marcxml)",
}

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
)


async def search_sru(
    session: aiohttp.ClientSession,
    target: LiveTarget,
    cql: str,
    start: int,
    count: int,
    *,
    version: str | None = None,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> TargetAnswer:
    """Ask ``target`` for the records ``start`` .. ``start + count - 1`` (from 1) matching ``cql``.

    ``version`` is ``1.2`` or ``2.0``; ``None`` takes the base URL's ``version`` parameter, else 1.2.
    The whole exchange has ``target.timeout`` seconds.
    """
    url = _request_url(target, cql, start, count, version)
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=target.timeout)) as response:
            body = await _read_body(response, max_bytes)
            status, reason = response.status, response.reason or ""
    except TimeoutError:
        raise LiveTargetError(
            "timeout",
            f"no complete answer within {target.timeout:g} s (the target's timeout); the server is slow "
            "or stalled: raise the timeout if it is only slow",
        ) from None
    except aiohttp.ClientConnectorError as exc:
        raise LiveTargetError(
            "connect",
            f"cannot connect to {exc.host}:{exc.port} ({_reason(exc.os_error)}); "
            "check the address and that the server is running",
        ) from None
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
        raise LiveTargetError(
            "closed",
            f"the server closed the connection before its answer was complete ({exc.__class__.__name__}); "
            "it may have failed on this search: try again, or tell its administrator if it persists",
        ) from None
    except aiohttp.InvalidURL:
        raise LiveTargetError("connect", f"{target.address!r} is not a URL; give the SRU base URL") from None
    except aiohttp.ClientError as exc:
        raise LiveTargetError("protocol", f"the HTTP exchange failed: {exc}") from None
    return _answer(target, body, status, reason, start)


def _reason(error: OSError) -> str:
    """``Connection refused`` rather than asyncio's ``Connect call failed ('127.0.0.1', 1)``."""
    return os.strerror(error.errno) if error.errno else str(error)


def _request_url(target: LiveTarget, cql: str, start: int, count: int, version: str | None) -> URL:
    base = URL(target.address)
    chosen = version or base.query.get("version") or DEFAULT_VERSION
    if chosen not in SRU_VERSIONS:
        raise LiveTargetError(
            "protocol", f"SRU version {chosen!r} is not one this client speaks ({', '.join(SRU_VERSIONS)})"
        )
    schema = _SCHEMA_OF_SYNTAX.get(target.record_syntax.lower(), target.record_syntax)
    # 2.0 renamed 1.2's recordPacking (xml|string) to recordXMLEscaping.
    packing = "recordPacking" if chosen == "1.2" else "recordXMLEscaping"
    return base.update_query(
        {
            "operation": "searchRetrieve",
            "version": chosen,
            "query": cql,
            "startRecord": str(start),
            "maximumRecords": str(count),
            "recordSchema": schema,
            packing: "xml",
        }
    )


async def _read_body(response: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    too_large = LiveTargetError(
        "protocol",
        f"the answer is larger than {max_bytes} bytes (MAX_ANSWER_BYTES); ask the target for fewer "
        "records per search (its max_records)",
    )
    if response.content_length is not None and response.content_length > max_bytes:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(READ_CHUNK):
        size += len(chunk)
        if size > max_bytes:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _child(element: etree._Element, name: str) -> etree._Element | None:
    """The first child named ``name`` in any namespace (1.2 and 2.0 differ only in namespaces)."""
    return next((child for child in element if _local(child) == name), None)


def _text(element: etree._Element, name: str) -> str | None:
    found = _child(element, name)
    return (found.text or "").strip() if found is not None else None


def _answer(target: LiveTarget, body: bytes, status: int, reason: str, start: int) -> TargetAnswer:
    root = _parse(body)
    if root is None or _local(root) != "searchRetrieveResponse":
        if status >= 400:
            hint = "check the base URL" if status == 404 else "the server failed; try again later"
            raise LiveTargetError("http", f"the server answered HTTP {status} {reason}: {hint}")
        found = "not XML" if root is None else f"a <{_local(root)}> document"
        raise LiveTargetError(
            "protocol",
            f"the answer is {found}, not an SRU searchRetrieveResponse (it begins {body[:60]!r}); "
            "check that the address is the server's SRU base URL",
        )
    records = _child(root, "records")
    diagnostics = _child(root, "diagnostics")
    found_records = list(records) if records is not None else []
    if diagnostics is not None and len(diagnostics) and not found_records:
        raise LiveTargetError("diagnostic", f"the server refused the search ({_diagnostic(diagnostics[0])})")
    if diagnostics is not None and len(diagnostics):
        logger.warning("SRU target %s warns: %s", target.code, _diagnostic(diagnostics[0]))
    total_text = _text(root, "numberOfRecords")
    if total_text is None or not total_text.isdigit():
        raise LiveTargetError("protocol", f"the answer has no numberOfRecords (got {total_text!r})")
    answer = TargetAnswer(int(total_text))
    for offset, record in enumerate(found_records):
        raw = _record(target, record, start + offset)
        if raw is None:
            answer.skipped += 1
        else:
            answer.records.append(raw)
    return answer


def _parse(body: bytes) -> etree._Element | None:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return None


def _diagnostic(diagnostic: etree._Element) -> str:
    """``info:srw/diagnostic/1/16: Unsupported index: dc.foo``, with a hint when we have one."""
    uri = _text(diagnostic, "uri") or "no diagnostic URI"
    said = ": ".join(part for part in (_text(diagnostic, "message"), _text(diagnostic, "details")) if part)
    text = f"{uri}: {said}" if said else uri
    hint = _HINTS.get(uri)
    return f"{text}; {hint}" if hint else text


def _record(target: LiveTarget, record: etree._Element, counted: int) -> RawLiveRecord | None:
    """The record's MARC XML, or ``None`` for a surrogate diagnostic (logged)."""
    schema = _text(record, "recordSchema") or ""
    data = _child(record, "recordData")
    content = (
        next((child for child in data if isinstance(child.tag, str)), None) if data is not None else None
    )
    if schema == _DIAGNOSTIC_SCHEMA or (content is not None and _local(content) == "diagnostic"):
        detail = _diagnostic(content) if content is not None else "no detail"
        logger.warning(
            "SRU target %s sent a diagnostic in place of record %d: %s", target.code, counted, detail
        )
        return None
    position_text = _text(record, "recordPosition")
    position = int(position_text) if position_text and position_text.isdigit() else counted
    if content is not None:
        payload = _serialised(content)
    else:
        # recordPacking=string (a server that ignored ours): the record is escaped text. What does not
        # parse goes on as it came, for the reader to quarantine with its reason.
        text = (data.text or "") if data is not None else ""
        inner = _parse(text.strip().encode("utf-8"))
        payload = _serialised(inner) if inner is not None else text.encode("utf-8")
    return RawLiveRecord(
        target.code, position, payload, "marcxml", local_id=_text(record, "recordIdentifier") or None
    )


def _serialised(element: etree._Element) -> bytes:
    """The element alone as UTF-8, without the envelope's namespace declarations it inherits."""
    alone = copy.deepcopy(element)
    etree.cleanup_namespaces(alone)
    return etree.tostring(alone, encoding="utf-8")
