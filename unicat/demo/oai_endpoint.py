"""An OAI-PMH 2.0 data provider (aiohttp) for one demo library, and the network of them on loopback.

Each library gets its own site on a free port, like separate library systems. Records are converted
to MARCXML once at startup; responses are assembled from those bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

from unicat.demo.network import DemoLibrary, library_records
from unicat.demo.oai_requests import (
    METADATA_PREFIX,
    ListRequest,
    check_prefix,
    check_verb,
    format_datestamp,
    list_request,
    single_arguments,
)
from unicat.demo.records import OAIRecord, Repository, build_records
from unicat.model import Source
from unicat.oai_protocol import (
    MARC_NS,
    MARC_SCHEMA,
    OAI_NS,
    OAI_SCHEMA,
    SECONDS_GRANULARITY,
    XSI_NS,
    OaiError,
)

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
IDENTIFIER_PREFIX = "oai:unicat.demo"

_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{OAI_NS} {OAI_SCHEMA}">'
)
REPOSITORY_KEY = web.AppKey("repository", Repository)
PAGE_SIZE_KEY = web.AppKey("page_size", int)


def make_app(repository: Repository, page_size: int = DEFAULT_PAGE_SIZE) -> web.Application:
    """The aiohttp application serving ``repository`` at ``/oai`` (GET and POST)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    app = web.Application()
    app[REPOSITORY_KEY] = repository
    app[PAGE_SIZE_KEY] = page_size
    app.router.add_route("GET", "/oai", _handle)
    app.router.add_route("POST", "/oai", _handle)
    return app


async def _handle(request: web.Request) -> web.Response:
    pairs = list((await request.post()).items()) if request.method == "POST" else list(request.query.items())
    base_url = str(request.url.with_query(None))
    repository = request.app[REPOSITORY_KEY]
    arguments: dict[str, str] = {}
    try:
        arguments = single_arguments([(key, str(value)) for key, value in pairs])
        verb = check_verb(arguments)
        body = _answer(verb, arguments, repository, base_url, request.app[PAGE_SIZE_KEY])
        echo = arguments
    except OaiError as exc:
        # The protocol says: after badVerb or badArgument, echo no arguments in <request>.
        echo = {} if exc.code in ("badVerb", "badArgument") else arguments
        body = f"<error code={quoteattr(exc.code)}>{escape(exc.message)}</error>"
    attributes = "".join(f" {key}={quoteattr(value)}" for key, value in sorted(echo.items()))
    now = format_datestamp(datetime.now(UTC))
    document = (
        f"{_OPEN}<responseDate>{now}</responseDate>"
        f"<request{attributes}>{escape(base_url)}</request>{body}</OAI-PMH>"
    )
    return web.Response(body=document.encode("utf-8"), content_type="text/xml", charset="utf-8")


def _answer(
    verb: str, arguments: dict[str, str], repository: Repository, base_url: str, page_size: int
) -> str:
    if verb == "Identify":
        return _identify(repository, base_url)
    if verb == "ListMetadataFormats":
        if "identifier" in arguments and repository.get(arguments["identifier"]) is None:
            raise OaiError("idDoesNotExist", f"no item {arguments['identifier']!r}")
        return (
            f"<ListMetadataFormats><metadataFormat><metadataPrefix>{METADATA_PREFIX}</metadataPrefix>"
            f"<schema>{MARC_SCHEMA}</schema><metadataNamespace>{MARC_NS}</metadataNamespace>"
            "</metadataFormat></ListMetadataFormats>"
        )
    if verb == "ListSets":
        raise OaiError("noSetHierarchy", "this repository does not support sets")
    if verb == "GetRecord":
        check_prefix(arguments["metadataPrefix"])
        record = repository.get(arguments["identifier"])
        if record is None:
            raise OaiError("idDoesNotExist", f"no item {arguments['identifier']!r}")
        return f"<GetRecord>{_record(record)}</GetRecord>"
    return _list(verb, list_request(arguments), repository, page_size)


def _identify(repository: Repository, base_url: str) -> str:
    return (
        f"<Identify><repositoryName>{escape(repository.name)}</repositoryName>"
        f"<baseURL>{escape(base_url)}</baseURL><protocolVersion>2.0</protocolVersion>"
        "<adminEmail>demo@unicat.invalid</adminEmail>"
        f"<earliestDatestamp>{format_datestamp(repository.earliest_datestamp)}</earliestDatestamp>"
        f"<deletedRecord>persistent</deletedRecord><granularity>{SECONDS_GRANULARITY}</granularity>"
        "</Identify>"
    )


def _list(verb: str, request: ListRequest, repository: Repository, page_size: int) -> str:
    """One page of a list; the token carries the next offset, with cursor and completeListSize."""
    matching = repository.select(*request.bounds())
    if not matching and not request.offset:
        raise OaiError("noRecordsMatch", "no records match these arguments")
    if request.offset >= len(matching):
        raise OaiError("badResumptionToken", "the token points past the end of the list")
    end = request.offset + page_size
    page = matching[request.offset : end]
    render = _record if verb == "ListRecords" else _header
    items = "".join(render(record) for record in page)
    token = ""
    if request.offset or end < len(matching):
        next_token = escape(request.token(end)) if end < len(matching) else ""
        token = (
            f'<resumptionToken completeListSize="{len(matching)}" cursor="{request.offset}">'
            f"{next_token}</resumptionToken>"
        )
    return f"<{verb}>{items}{token}</{verb}>"


def _header(record: OAIRecord) -> str:
    status = ' status="deleted"' if record.deleted else ""
    return (
        f"<header{status}><identifier>{escape(record.identifier)}</identifier>"
        f"<datestamp>{format_datestamp(record.datestamp)}</datestamp></header>"
    )


def _record(record: OAIRecord) -> str:
    if record.metadata is None:
        return f"<record>{_header(record)}</record>"
    return f"<record>{_header(record)}<metadata>{record.metadata.decode('utf-8')}</metadata></record>"


def build_repository(library: DemoLibrary) -> Repository:
    """A library's records as a repository: read, selected and converted to MARCXML (slow: seconds)."""
    records = build_records(
        f"{IDENTIFIER_PREFIX}:{library.code}",
        library_records(library),
        profile=library.profile,
        force_utf8=library.force_utf8,
    )
    return Repository(library.name, records)


@dataclass(slots=True)
class Endpoint:
    """One running library endpoint."""

    library: DemoLibrary
    url: str
    repository: Repository

    def source(self) -> Source:
        return self.library.source(self.url)


@dataclass(slots=True)
class RunningNetwork:
    """The demo libraries being served; ``close()`` stops every site."""

    endpoints: list[Endpoint]
    _runners: list[web.AppRunner]

    @property
    def urls(self) -> dict[str, str]:
        """Library code → OAI-PMH base URL."""
        return {endpoint.library.code: endpoint.url for endpoint in self.endpoints}

    def sources(self) -> list[Source]:
        """A :class:`Source` per library, pointing at its running endpoint."""
        return [endpoint.source() for endpoint in self.endpoints]

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()


async def start_endpoints(
    libraries: Sequence[DemoLibrary], host: str = "127.0.0.1", page_size: int = DEFAULT_PAGE_SIZE
) -> RunningNetwork:
    """Serve each library on its own free port of ``host``; records are converted in worker threads."""
    repositories = await asyncio.gather(
        *(asyncio.to_thread(build_repository, library) for library in libraries)
    )
    network = RunningNetwork([], [])
    try:
        for library, repository in zip(libraries, repositories, strict=True):
            runner = web.AppRunner(make_app(repository, page_size), access_log=None)
            await runner.setup()
            network._runners.append(runner)
            site = web.TCPSite(runner, host, 0)
            await site.start()
            port = runner.addresses[0][1]
            url = f"http://{host}:{port}/oai"
            network.endpoints.append(Endpoint(library, url, repository))
            logger.info("demo endpoint code=%s url=%s records=%d", library.code, url, len(repository))
    except BaseException:
        await network.close()
        raise
    return network
