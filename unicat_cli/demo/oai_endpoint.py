"""Each demo library as an OAI-PMH 2.0 data provider (aiohttp), and the network of them on loopback.

Each library gets its own site on a free port, like separate library systems, served by the union
catalogue's own provider (``search_app/oai/``) over the library's records (:class:`Repository`, a
feed). Records are converted to MARCXML once at startup; responses are assembled from those bytes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from aiohttp import web

from search_app import oai
from search_app.state import EXECUTOR
from unicat.model import Source
from unicat.oai_protocol import MARC_NS, MARC_SCHEMA
from unicat.settings import Settings
from unicat_cli.demo.network import DemoLibrary, library_records
from unicat_cli.demo.records import DEFAULT_REPOSITORY, Repository, build_records

logger = logging.getLogger(__name__)

DEFAULT_PAGE_SIZE = 100
ADMIN_EMAIL = "demo@unicat.invalid"


def _marcxml(record: bytes, _site: str) -> str:
    return record.decode("utf-8")


FORMATS = {"marcxml": oai.MetadataFormat("marcxml", MARC_SCHEMA, MARC_NS, _marcxml)}
"""A library serves its records as they are: MARCXML (MARC 21 slim, UNIMARC in it for UNIMARC)."""


async def _threads(app: web.Application) -> AsyncIterator[None]:
    """The pool the provider reads the feed in (the records are in memory: reads are short)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-oai") as executor:
        app[EXECUTOR] = executor
        yield


def make_app(repository: Repository, page_size: int = DEFAULT_PAGE_SIZE) -> web.Application:
    """The aiohttp application serving ``repository`` at ``/oai`` (GET and POST)."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    settings = Settings(
        oai_repository_name=repository.name,
        oai_repository_identifier=repository.repository_identifier,
        oai_admin_email=ADMIN_EMAIL,
        oai_page_size=page_size,
    )
    app = web.Application()
    app.cleanup_ctx.append(_threads)
    oai.add_routes(app, oai.OaiRepository(repository, FORMATS, settings, repository.sample_id))
    return app


def build_repository(library: DemoLibrary) -> Repository:
    """A library's records as a repository: read, selected and converted to MARCXML (slow: seconds)."""
    records = build_records(
        f"oai:{DEFAULT_REPOSITORY}:{library.code}",
        library_records(library),
        profile=library.profile,
        force_utf8=library.force_utf8,
        circulation=True,
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
