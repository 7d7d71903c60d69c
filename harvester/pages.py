"""One ListRecords page, read as a stream: its records in batches, then the token of the next page.

Kept apart from transport (like sickle's iterator): this module knows the shape of a list answer,
:class:`~harvester.transport.OAIClient` knows HTTP. A page is parsed incrementally from its spool and
each ``<record>`` is handed over and freed as soon as it ends, so memory stays flat whatever the page
size; the records of a page reach the caller in batches of at most ``batch`` items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from lxml import etree

from harvester.namespaces import oai
from harvester.transport import BadResponse, OAIClient
from unicat.oai_protocol import OaiError

T = TypeVar("T")

_RECORD = oai("record")
_LIST = oai("ListRecords")
_TOKEN = oai("resumptionToken")
_ERROR = oai("error")
_DATE = oai("responseDate")
_ROOT = oai("OAI-PMH")


@dataclass(frozen=True, slots=True)
class PageEnd:
    """What a page says once its records are read: the next token (None: the list is complete) and
    what the server tells of the whole list, when it does."""

    next_token: str | None
    records: int
    complete_list_size: int | None = None
    cursor: int | None = None
    response_date: str | None = None


def _check_root(root: etree._Element | None) -> None:
    if root is None or root.tag != _ROOT:
        found = etree.QName(root).text if root is not None else "none"
        raise BadResponse(f"response is XML but not OAI-PMH 2.0 (root element {found})")


def _int_attribute(element: etree._Element, name: str) -> int | None:
    value = (element.get(name) or "").strip()
    return int(value) if value.isdigit() else None


def read_page(
    client: OAIClient,
    request: Mapping[str, str],
    convert: Callable[[etree._Element], T],
    on_batch: Callable[[list[T]], None],
    batch: int,
    on_attempt: Callable[[], None] | None = None,
) -> tuple[PageEnd, list[T]]:
    """Send one ListRecords request and stream its records through ``convert`` into ``on_batch``.

    ``on_batch`` gets every full batch of ``batch`` converted records while the page is read; the rest
    (the whole page, when it is no larger than a batch) comes back with the :class:`PageEnd`, so that
    the caller stores it together with the page's checkpoint. ``on_attempt`` is called before each
    reading of the page: a page read again after a failure part way hands its batches over again, and
    whatever the caller counts of them must start afresh.

    Raises :class:`~unicat.oai_protocol.OaiError` for an OAI-PMH ``<error>`` (``noRecordsMatch`` included: the
    caller decides what it means). A page whose XML breaks part way is fetched again by the client;
    the batches handed over before the break were whole records and stay valid.
    """

    def parse(body: BinaryIO) -> tuple[PageEnd, list[T]]:
        if on_attempt is not None:
            on_attempt()
        pending: list[T] = []
        seen = 0
        token: etree._Element | None = None
        response_date: str | None = None
        events = etree.iterparse(
            body,
            events=("end",),
            tag=(_RECORD, _TOKEN, _ERROR, _DATE),
            huge_tree=True,
            resolve_entities=False,
            no_network=True,
        )
        root_checked = False
        try:
            for _event, element in events:
                if not root_checked:  # before anything of the answer is used (events.root comes last)
                    _check_root(element.getroottree().getroot())
                    root_checked = True
                tag = element.tag
                if tag == _RECORD:
                    parent = element.getparent()
                    if parent is None or parent.tag != _LIST:
                        continue  # a MARC <record> without a namespace of its own, inside <metadata>
                    pending.append(convert(element))
                    seen += 1
                    element.clear()
                    while element.getprevious() is not None:
                        del parent[0]
                    if len(pending) >= batch:
                        on_batch(pending)
                        pending = []
                elif tag == _TOKEN:
                    token = element
                elif tag == _DATE:
                    response_date = (element.text or "").strip() or None
                else:
                    raise OaiError(element.get("code", "unknown"), (element.text or "").strip())
        except etree.XMLSyntaxError as exc:
            raise BadResponse(f"the page is not well-formed XML ({exc})") from exc
        _check_root(events.root)
        if token is None:
            return PageEnd(None, seen, response_date=response_date), pending
        value = (token.text or "").strip() or None
        end = PageEnd(
            value,
            seen,
            complete_list_size=_int_attribute(token, "completeListSize"),
            cursor=_int_attribute(token, "cursor"),
            response_date=response_date,
        )
        return end, pending

    return client.read({"verb": "ListRecords", **request}, parse)
