"""One ListRecords page, read as a stream: its records in batches, then the token of the next page.

Kept apart from transport (like sickle's iterator): this module knows the shape of a list answer,
:class:`~harvester.transport.OAIClient` knows HTTP. A page is fed to the parser from its spool a piece
at a time and each ``<record>`` is handed over and freed as soon as it ends, so memory stays flat
whatever the page size; a record that grows past ``record_max_bytes`` is pruned as it is
parsed, so one record cannot fill the memory either. The records of a page reach the caller in
batches of at most ``batch`` items.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import BinaryIO, Generic, TypeVar

from lxml import etree

from harvester.namespaces import oai
from harvester.transport import BadResponse, OAIClient
from unicat.oai_protocol import OaiError
from unicat.settings import MIN_RECORD_BYTES

# Bytes of a page fed to the parser at a time: a record's size is checked at this grain.
FEED = MIN_RECORD_BYTES

T = TypeVar("T")

_RECORD = oai("record")
_LIST = oai("ListRecords")
_TOKEN = oai("resumptionToken")
_ERROR = oai("error")
_DATE = oai("responseDate")
_ROOT = oai("OAI-PMH")
_HEADER = oai("header")


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
    *,
    record_cap: int,
    refuse: Callable[[etree._Element], T],
) -> tuple[PageEnd, list[T]]:
    """Send one ListRecords request and stream its records through ``convert`` into ``on_batch``.

    ``on_batch`` gets every full batch of ``batch`` converted records while the page is read; the rest
    (the whole page, when it is no larger than a batch) comes back with the :class:`PageEnd`, so that
    the caller stores it together with the page's checkpoint. ``on_attempt`` is called before each
    reading of the page: a page read again after a failure part way hands its batches over again, and
    whatever the caller counts of them must start afresh. A record that grows past ``record_cap`` bytes
    is not built whole: what was parsed of it is dropped as the page goes on, its ``<header>`` alone
    is kept, and ``refuse`` turns that into the item handed over in its place.

    Raises :class:`~unicat.oai_protocol.OaiError` for an OAI-PMH ``<error>`` (``noRecordsMatch`` included: the
    caller decides what it means). A page whose XML breaks part way is fetched again by the client;
    the batches handed over before the break were whole records and stay valid.
    """

    def parse(body: BinaryIO) -> tuple[PageEnd, list[T]]:
        if on_attempt is not None:
            on_attempt()
        page = _Page(convert, refuse, record_cap)
        # Fed a piece at a time, so that a record's size is known while it is parsed. No huge_tree:
        # libxml2's bounds (depth, one text node, names) stay on behind the size caps.
        parser = etree.XMLPullParser(
            events=("start", "end"),
            tag=(_RECORD, _TOKEN, _ERROR, _DATE),
            resolve_entities=False,
            no_network=True,
        )
        fed = 0
        try:
            while piece := body.read(FEED):
                parser.feed(piece)
                fed += len(piece)
                for event, element in parser.read_events():
                    item = page.take(event, element, fed)
                    if item is not None:
                        page.pending.append(item)
                        if len(page.pending) >= batch:
                            on_batch(page.pending)
                            page.pending = []
                page.bound(fed)
            root = parser.close()
        except etree.XMLSyntaxError as exc:
            raise BadResponse(f"the page is not well-formed XML ({exc})") from exc
        _check_root(root)
        return page.end(), page.pending

    return client.read({"verb": "ListRecords", **request}, parse)


class _Page(Generic[T]):
    """What one page's parser events make: its records converted (or refused), its token and date."""

    def __init__(
        self, convert: Callable[[etree._Element], T], refuse: Callable[[etree._Element], T], cap: int
    ) -> None:
        self.convert = convert
        self.refuse = refuse
        self.cap = cap
        self.pending: list[T] = []
        self.seen = 0
        self.token: etree._Element | None = None
        self.response_date: str | None = None
        self.root_checked = False
        self.record: etree._Element | None = None  # the record being parsed
        self.record_from = 0  # bytes fed when it started
        self.oversized = False

    def take(self, event: str, element: etree._Element, fed: int) -> T | None:
        """The converted record an event ends, if it ends one; the page's other parts are noted."""
        if not self.root_checked:  # before anything of the answer is used
            _check_root(element.getroottree().getroot())
            self.root_checked = True
        tag = element.tag
        if tag == _RECORD:
            parent = element.getparent()
            if parent is None or parent.tag != _LIST:
                return None  # a MARC <record> without a namespace of its own, inside <metadata>
            if event == "start":
                self.record, self.record_from, self.oversized = element, fed, False
                return None
            item = self.refuse(element) if self.oversized else self.convert(element)
            self.seen += 1
            self.record = None
            element.clear()
            while element.getprevious() is not None:
                del parent[0]
            return item
        if event == "start":
            return None
        if tag == _TOKEN:
            self.token = element
        elif tag == _DATE:
            self.response_date = (element.text or "").strip() or None
        else:
            raise OaiError(element.get("code", "unknown"), (element.text or "").strip())
        return None

    def bound(self, fed: int) -> None:
        """Past the cap, drop what was parsed of the open record but its header and the elements still
        open (the parser is adding to them: the last child at each level)."""
        record = self.record
        if record is None or fed - self.record_from <= self.cap:
            return
        self.oversized = True
        node = record
        while len(node):
            for child in list(node)[:-1]:
                if node is not record or child.tag != _HEADER:
                    node.remove(child)
            node = node[-1]

    def end(self) -> PageEnd:
        token = self.token
        if token is None:
            return PageEnd(None, self.seen, response_date=self.response_date)
        return PageEnd(
            (token.text or "").strip() or None,
            self.seen,
            complete_list_size=_int_attribute(token, "completeListSize"),
            cursor=_int_attribute(token, "cursor"),
            response_date=self.response_date,
        )
