"""The demo's libraries searched live: each is a Unicat catalogue of its own, served over SRU on loopback
and registered in the demo catalogue as a live target, never harvested.

A library marked ``live`` in ``mappings/demo/network.toml`` gets an embedded catalogue at
``<data-dir>/demo-live/<CODE>.db``, loaded from its records by the same import and indexing as
``unicat import`` and ``unicat index``, and a second search app in this process whose ``/sru`` answers
the federated search. The file is rebuilt on every run, as the OAI-PMH endpoints rebuild their feeds,
so that a changed network file or a second run never leaves records of an earlier one behind.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web

from unicat.catalogue import Catalogue
from unicat.live_search import LiveTarget
from unicat.live_targets import check_target, default_record_syntax
from unicat.model import Source
from unicat.settings import Settings
from unicat_cli.demo.network import DemoLibrary, library_records
from unicat_cli.wiring import open_catalogue

logger = logging.getLogger(__name__)

LIVE_DIR = "demo-live"
"""The folder of the data dir that holds the live libraries' own catalogues."""


@dataclass(slots=True)
class LiveLibrary:
    """One live library being served: its catalogue's SRU address and how many records it serves."""

    library: DemoLibrary
    url: str
    records: int

    def target(self) -> LiveTarget:
        """The live target the demo catalogue searches it as, standing for the library of its code."""
        return LiveTarget(
            code=self.library.code,
            name=self.library.name,
            protocol="sru",
            address=self.url,
            record_syntax=default_record_syntax("sru", self.library.profile),
            profile=self.library.profile,
            libraries=(self.library.code,),
        )


@dataclass(slots=True)
class LiveLibraries:
    """The live libraries being served; ``close()`` stops their apps and closes their catalogues."""

    libraries: list[LiveLibrary] = field(default_factory=list)
    _runners: list[web.AppRunner] = field(default_factory=list)
    _catalogues: list[Catalogue] = field(default_factory=list)

    async def start(
        self, libraries: Sequence[DemoLibrary], settings: Settings, host: str = "127.0.0.1"
    ) -> None:
        """Build each library's catalogue (in a worker thread: seconds) and serve it on a free port."""
        from search_app.app import make_app
        from search_app.serving import serve

        for library in libraries:
            live_settings = _live_settings(settings, library)
            catalogue = open_catalogue(live_settings)
            self._catalogues.append(catalogue)
            records = await asyncio.to_thread(_load, catalogue, library, _folder(settings))
            runner = await serve(make_app(catalogue, live_settings), host, 0)
            self._runners.append(runner)
            url = f"http://{host}:{runner.addresses[0][1]}/sru"
            self.libraries.append(LiveLibrary(library, url, records))
            logger.info("demo live library code=%s url=%s records=%d", library.code, url, records)

    def register(self, catalogue: Catalogue) -> None:
        """Store each library as a live target of ``catalogue`` (replacing the one an earlier run stored,
        whose port is gone), checked as ``unicat target add`` checks one."""
        sources = {source.code for source in catalogue.records.list_sources()}
        known = {library.code for library in catalogue.libraries.list_libraries()}
        for live in self.libraries:
            catalogue.targets.save_target(check_target(live.target(), sources=sources, libraries=known))

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        for catalogue in self._catalogues:
            catalogue.close()
        self._catalogues.clear()


def _folder(settings: Settings) -> Path:
    return settings.data_dir / LIVE_DIR


def _live_settings(settings: Settings, library: DemoLibrary) -> Settings:
    """The demo's settings, with the library's own catalogue (embedded, one file) in place of its
    catalogue; the file is removed first so that it is loaded afresh."""
    folder = _folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    database = folder / f"{library.code}.db"
    for path in (
        database,
        database.with_name(f"{database.name}-wal"),
        database.with_name(f"{database.name}-shm"),
    ):
        path.unlink(missing_ok=True)
    return dataclasses.replace(settings, data_dir=folder, engine_url=f"sqlite:///{database}", store_url="")


def _load(catalogue: Catalogue, library: DemoLibrary, folder: Path) -> int:
    """Import the library's records into its catalogue and index them; returns the union records."""
    from harvester.importer import import_files
    from indexer import run_index

    dump = folder / f"{library.code}.mrc"
    dump.write_bytes(b"".join(library_records(library)))
    # A source fed by file imports only (no OAI-PMH address), as `unicat import` makes one.
    source = Source(code=library.code, name=library.name, profile=library.profile, mapping=library.mapping)
    catalogue.records.save_source(source)
    if library.codes:
        catalogue.records.set_holding_codes(library.code, library.codes)
    import_files(catalogue.records, source, [dump])
    return run_index(catalogue.records, catalogue.index).union_records
