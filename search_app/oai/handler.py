"""``GET|POST /oai``: the OAI-PMH 2.0 data provider, of the union catalogue and of each demo library.

A provider serves an :class:`OaiRepository`: a feed (``unicat/oai_feed.py``), the formats its records
are disseminated in, and what Identify says. Each verb reads the feed in the app's thread pool. List
responses stream: the first batch is read before the response starts, so that every protocol error
(``noRecordsMatch`` included) is a whole, valid response; the page's later batches are read and
rendered while the earlier ones travel, so memory holds one batch whatever the page size. Protocol
errors are HTTP 200 with an ``<error>``, as harvesters expect; nothing a harvester sends is a 500.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from urllib.parse import quote, unquote

from aiohttp import hdrs, web
from aiohttp.web_response import ContentCoding

from search_app.form_body import posted_form
from search_app.oai import xml
from search_app.oai.arguments import OaiRequest, date_range, parse_request
from search_app.oai.formats import MetadataFormat
from search_app.oai.generations import GenerationClock
from search_app.oai.tokens import ListToken, decode, encode
from search_app.state import in_thread
from unicat.clock import format_time
from unicat.errors import BadParameter
from unicat.oai_feed import FeedEntry, OaiFeed
from unicat.oai_items import OaiSelection
from unicat.oai_protocol import OaiError
from unicat.settings import Settings

BATCH = 100
"""Items read and rendered per feed call while a page streams."""
CONTENT_TYPE = "text/xml; charset=utf-8"
_LOCAL_SAFE = "-_.!~*'();/?:@&=+$,"

Record = TypeVar("Record")


@dataclass(frozen=True, slots=True)
class OaiRepository(Generic[Record]):
    """What one provider serves: its feed, the formats it disseminates the feed's records in, and
    what Identify says (``settings``' ``oai_*`` options, and ``sample_id``, an id of the feed's kind)."""

    feed: OaiFeed[Record]
    formats: Mapping[str, MetadataFormat[Record]]
    settings: Settings
    sample_id: str


@dataclass(frozen=True, slots=True)
class Exchange(Generic[Record]):
    """One request as the verbs see it."""

    request: web.Request
    oai: OaiRequest
    repository: OaiRepository[Record]
    now: float
    response_date: str
    base_url: str
    site: str

    @property
    def settings(self) -> Settings:
        return self.repository.settings

    @property
    def feed(self) -> OaiFeed[Record]:
        return self.repository.feed

    @property
    def echo(self) -> dict[str, str]:
        return {"verb": self.oai.verb, **self.oai.arguments}

    def identifier(self, union_id: str) -> str:
        return f"oai:{self.settings.oai_repository_identifier}:{quote(union_id, safe=_LOCAL_SAFE)}"

    def union_id(self, identifier: str) -> str:
        prefix = f"oai:{self.settings.oai_repository_identifier}:"
        if not identifier.startswith(prefix) or len(identifier) == len(prefix):
            raise OaiError(
                "idDoesNotExist", f"{identifier[:200]!r} is not an identifier of this repository ({prefix}…)"
            )
        union_id = unquote(identifier[len(prefix) :])
        if "\x00" in union_id:  # (%00: no union id holds a NUL)
            raise OaiError("idDoesNotExist", f"{identifier[:200]!r} is not an identifier of this repository")
        return union_id

    def format(self, prefix: str) -> MetadataFormat[Record]:
        formats = self.repository.formats
        fmt = formats.get(prefix)
        if fmt is None:
            raise OaiError(
                "cannotDisseminateFormat",
                f"{prefix[:100]!r} is not a format of this repository; try {', '.join(formats)}",
            )
        return fmt


def add_routes(app: web.Application, repository: OaiRepository[Any]) -> None:
    """Serve ``repository`` at ``/oai``; its feed is read in the app's thread pool (``EXECUTOR``)."""
    handler = functools.partial(oai_endpoint, repository)
    resource = app.router.add_resource("/oai", name="oai")
    resource.add_route("GET", handler)
    resource.add_route("POST", handler)


async def _pairs(request: web.Request) -> list[tuple[str, str]]:
    if request.method != "POST":
        return list(request.query.items())
    if request.content_type != "application/x-www-form-urlencoded":
        raise OaiError(
            "badArgument", "a POST request must send its arguments as application/x-www-form-urlencoded"
        )
    try:
        form = await posted_form(request)
    except BadParameter as exc:
        raise OaiError("badArgument", exc.message) from None
    return [(name, value) for name, value in form.items() if isinstance(value, str)]


async def oai_endpoint(repository: OaiRepository[Record], request: web.Request) -> web.StreamResponse:
    settings = repository.settings
    now = time.time()
    response_date = format_time(datetime.fromtimestamp(math.floor(now), UTC))
    base = settings.oai_base_url or str(request.url.with_query(None))
    site = base.rsplit("/oai", 1)[0] if base.endswith("/oai") else str(request.url.origin())
    try:
        oai = parse_request(await _pairs(request))
    except OaiError as exc:
        return await _small(
            request, xml.envelope_start(response_date, base, None) + xml.error(exc.code, exc.message)
        )
    exchange = Exchange(request, oai, repository, now, response_date, base, site)
    try:
        return await VERBS[oai.verb](exchange)
    except OaiError as exc:
        start = xml.envelope_start(response_date, base, exchange.echo if exc.echoes_arguments else None)
        return await _small(request, start + xml.error(exc.code, exc.message))


def _coding(request: web.Request) -> ContentCoding:
    """gzip when the harvester accepts it, else deflate, else none (``q=0`` refuses a coding)."""
    accepted: dict[str, float] = {}
    for part in request.headers.get(hdrs.ACCEPT_ENCODING, "").lower().split(","):
        name, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        accepted[name.strip()] = quality
    for coding in (ContentCoding.gzip, ContentCoding.deflate):
        if accepted.get(coding.value, 0.0) > 0:
            return coding
    return ContentCoding.identity


async def _start(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={hdrs.CONTENT_TYPE: CONTENT_TYPE, hdrs.VARY: "Accept-Encoding"})
    coding = _coding(request)
    if coding is not ContentCoding.identity:
        response.enable_compression(coding)
    await response.prepare(request)
    return response


async def _small(request: web.Request, body: str) -> web.StreamResponse:
    response = await _start(request)
    await response.write((body + xml.ENVELOPE_END).encode("utf-8"))
    await response.write_eof()
    return response


async def _clock(exchange: Exchange[Record]) -> GenerationClock:
    registered = await in_thread(exchange.request.app, exchange.feed.oai_generations)
    return GenerationClock(registered, exchange.response_date)


# -- verbs -------------------------------------------------------------------------------------------
async def identify(exchange: Exchange[Record]) -> web.StreamResponse:
    clock = await _clock(exchange)
    settings = exchange.settings
    body = xml.identify(
        name=settings.oai_repository_name,
        base_url=exchange.base_url,
        admin_email=settings.oai_admin_email,
        earliest=clock.earliest(exchange.response_date),
        repository_identifier=settings.oai_repository_identifier,
        sample_identifier=exchange.identifier(exchange.repository.sample_id),
    )
    return await _small(exchange.request, _start_of(exchange) + body)


def _start_of(exchange: Exchange[Record]) -> str:
    return xml.envelope_start(exchange.response_date, exchange.base_url, exchange.echo)


async def _entry(exchange: Exchange[Record], identifier: str, with_record: bool) -> FeedEntry[Record]:
    union_id = exchange.union_id(identifier)
    entry = await in_thread(exchange.request.app, exchange.feed.oai_entry, union_id, with_record)
    if entry is None or (with_record and not entry.item.deleted and entry.record is None):
        raise OaiError("idDoesNotExist", f"no record has the identifier {identifier[:200]!r}")
    return entry


async def list_metadata_formats(exchange: Exchange[Record]) -> web.StreamResponse:
    identifier = exchange.oai.get("identifier")
    if identifier is not None:
        # Every record (and every deleted record's header) is available in every format.
        await _entry(exchange, identifier, with_record=False)
    formats = xml.metadata_formats(exchange.repository.formats.values())
    return await _small(exchange.request, _start_of(exchange) + formats)


async def _sets(exchange: Exchange[Record]) -> dict[str, str]:
    """The feed's sets; ``noSetHierarchy`` when it has none (a demo library, or a union catalogue not
    indexed yet)."""
    named = await in_thread(exchange.request.app, exchange.feed.oai_sets)
    if not named:
        raise OaiError("noSetHierarchy", "this repository has no sets")
    return named


async def list_sets(exchange: Exchange[Record]) -> web.StreamResponse:
    if exchange.oai.get("resumptionToken") is not None:
        raise OaiError(
            "badResumptionToken", "ListSets answers in one response: this repository issues no token for it"
        )
    named = await _sets(exchange)
    return await _small(exchange.request, _start_of(exchange) + xml.sets(named))


async def get_record(exchange: Exchange[Record]) -> web.StreamResponse:
    identifier = exchange.oai.arguments["identifier"]
    fmt = exchange.format(exchange.oai.arguments["metadataPrefix"])
    entry = await _entry(exchange, identifier, with_record=True)
    clock = await _clock(exchange)
    body = _render(exchange, clock, fmt, [entry], with_records=True)
    return await _small(exchange.request, _start_of(exchange) + f"<GetRecord>{body}</GetRecord>")


async def list_identifiers(exchange: Exchange[Record]) -> web.StreamResponse:
    return await _list(exchange, with_records=False)


async def list_records(exchange: Exchange[Record]) -> web.StreamResponse:
    return await _list(exchange, with_records=True)


@dataclass(frozen=True, slots=True)
class _Page(Generic[Record]):
    """Where a list page starts: its selection, keyset position and cursor, and the list's facts."""

    fmt: MetadataFormat[Record]
    selection: OaiSelection
    after: tuple[int, str] | None
    cursor: int
    total: int
    resumed: bool
    origin: str


async def _first_page(exchange: Exchange[Record], clock: GenerationClock) -> _Page[Record]:
    arguments = exchange.oai.arguments
    fmt = exchange.format(arguments["metadataPrefix"])
    dates = date_range(exchange.oai)
    set_spec = arguments.get("set")
    app = exchange.request.app
    if set_spec is not None and set_spec not in await _sets(exchange):
        raise OaiError(
            "noRecordsMatch", f"no record is in the set {set_spec[:100]!r} (ListSets lists the sets)"
        )
    bounds = clock.bounds(dates.start, dates.end)
    if bounds is None:
        raise OaiError("noRecordsMatch", "no record has a datestamp in the range asked for")
    selection = OaiSelection(bounds[0], bounds[1], set_spec)
    total = await in_thread(app, exchange.feed.oai_count, selection)
    if total == 0:
        raise OaiError("noRecordsMatch", "no record matches the arguments")
    return _Page(fmt, selection, None, 0, total, False, clock.origin)


def _resumed_page(exchange: Exchange[Record], clock: GenerationClock) -> _Page[Record]:
    token = decode(exchange.oai.arguments["resumptionToken"], exchange.oai.verb, int(exchange.now))
    if token.origin != clock.origin or token.high > clock.latest:
        raise OaiError(
            "badResumptionToken", "the resumption token is of a catalogue this repository no longer holds"
        )
    fmt = exchange.format(token.prefix)
    selection = OaiSelection(token.low, token.high, token.set_spec)
    return _Page(fmt, selection, token.after, token.cursor, token.total, True, token.origin)


async def _list(exchange: Exchange[Record], with_records: bool) -> web.StreamResponse:
    app = exchange.request.app
    feed = exchange.feed
    clock = await _clock(exchange)
    resumed = "resumptionToken" in exchange.oai.arguments
    page = _resumed_page(exchange, clock) if resumed else await _first_page(exchange, clock)
    page_size = exchange.settings.oai_page_size

    def fetch(after: tuple[int, str] | None, limit: int) -> asyncio.Future[Sequence[FeedEntry[Record]]]:
        """Up to ``limit`` entries after ``after``, and one more to know whether the list goes on."""
        return asyncio.ensure_future(
            in_thread(app, feed.oai_list, page.selection, after, limit + 1, with_records)
        )

    limit = min(BATCH, page_size)
    entries = await fetch(page.after, limit)
    if not entries:
        raise OaiError("noRecordsMatch", "no record is left in this list: its records changed since it began")
    verb = exchange.oai.verb
    response = await _start(exchange.request)
    await response.write((_start_of(exchange) + f"<{verb}>").encode("utf-8"))
    served = 0
    upcoming: asyncio.Future[Sequence[FeedEntry[Record]]] | None = None
    try:
        while True:
            batch = entries[:limit]
            served += len(batch)
            last = batch[-1].item
            more = len(entries) > len(batch)
            # The next batch is read (for the union catalogue: an Elasticsearch round trip, or a SQLite
            # query, and JSON decoding) while this one is rendered and sent.
            limit = min(BATCH, page_size - served)
            upcoming = fetch((last.generation, last.id), limit) if more and limit > 0 else None
            text = await in_thread(app, _render, exchange, clock, page.fmt, batch, with_records)
            await response.write(text.encode("utf-8"))
            if upcoming is None:
                break
            entries = await upcoming
            upcoming = None
            if not entries:
                more = False
                break
    finally:
        if upcoming is not None:
            # The harvester went away mid-page: the read in flight is not waited for.
            upcoming.cancel()
    cursor = page.cursor + served
    tail = ""
    if more:
        expires = math.floor(exchange.now + exchange.settings.oai_token_hours * 3600)
        token = ListToken(
            verb,
            page.fmt.prefix,
            page.selection.set_spec,
            page.selection.low,
            page.selection.high,
            (last.generation, last.id),
            cursor,
            max(page.total, cursor + 1),
            expires,
            page.origin,
        )
        expiry = format_time(datetime.fromtimestamp(expires, UTC))
        tail = xml.resumption_token(encode(token), token.total, page.cursor, expiry)
    elif page.resumed:
        tail = xml.resumption_token("", max(page.total, cursor), page.cursor, None)
    await response.write((tail + f"</{verb}>" + xml.ENVELOPE_END).encode("utf-8"))
    await response.write_eof()
    return response


def _render(
    exchange: Exchange[Record],
    clock: GenerationClock,
    fmt: MetadataFormat[Record],
    entries: Sequence[FeedEntry[Record]],
    with_records: bool,
) -> str:
    parts: list[str] = []
    fallback = exchange.response_date
    for entry in entries:
        item = entry.item
        datestamp = clock.datestamp(item.generation, fallback)
        identifier = exchange.identifier(item.id)
        if not with_records:
            parts.append(xml.header(item, identifier, datestamp))
        elif item.deleted:
            parts.append(xml.record(item, identifier, datestamp, None))
        elif entry.record is not None:
            parts.append(xml.record(item, identifier, datestamp, fmt.render(entry.record, exchange.site)))
        # A live item without its record (the index refused it, or a rebuild is between its write to
        # the index and its write to the store) has nothing to serve.
    return "".join(parts)


VERBS: dict[str, Callable[[Exchange[Any]], Awaitable[web.StreamResponse]]] = {
    "Identify": identify,
    "ListMetadataFormats": list_metadata_formats,
    "ListSets": list_sets,
    "GetRecord": get_record,
    "ListIdentifiers": list_identifiers,
    "ListRecords": list_records,
}
