"""``unicat demo``: the whole pipeline on a bundled network of real library records.

The demo libraries of ``mappings/demo/network.toml`` are served as real OAI-PMH endpoints on loopback,
registered as sources, harvested over HTTP (incrementally: a second run harvests only changes),
indexed into union records and served by the search app, all in one process. The libraries marked
``live`` are not harvested: each is a catalogue of its own served over SRU on loopback while the demo
runs, and registered as a live target (``unicat_cli/demo/live_library.py``).
"""

from __future__ import annotations

import asyncio
import time

from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat_cli.demo.live_library import LiveLibraries
from unicat_cli.demo.network import load_directory, load_network
from unicat_cli.demo.oai_endpoint import start_endpoints
from unicat_cli.steps import echo, harvest_step, index_step, serve_forever


async def run_demo(
    catalogue: Catalogue,
    settings: Settings,
    *,
    host: str,
    port: int,
    serve: bool,
    live: LiveLibraries | None = None,
) -> int:
    """Run the demo; with ``serve`` it keeps serving until interrupted. Returns the exit status.

    The libraries searched live are served as long as the demo serves; given ``live``, they are served
    there and outlive the call, until the caller closes it (to search them after the setup)."""
    running = LiveLibraries() if live is None else live
    try:
        return await _run_demo(catalogue, settings, running, host=host, port=port, serve=serve)
    finally:
        if live is None:
            await running.close()


async def _run_demo(
    catalogue: Catalogue, settings: Settings, live: LiveLibraries, *, host: str, port: int, serve: bool
) -> int:
    started = time.monotonic()
    libraries = load_network()
    directory = load_directory(libraries)
    harvested = [library for library in libraries if library.live is None]
    searched_live = [library for library in libraries if library.live is not None]
    index = catalogue.index
    store = "" if catalogue.store_url == index.url else f", store {catalogue.store_url}"
    also = f" and {len(searched_live)} searched live" if searched_live else ""
    echo(f"Unicat demo: {len(harvested)} libraries{also}, engine {index.url}{store}")
    network = await start_endpoints(harvested)
    try:
        await live.start(searched_live, settings)
        for endpoint in network.endpoints:
            catalogue.records.save_source(endpoint.source())
            if endpoint.library.codes:
                catalogue.records.set_holding_codes(endpoint.library.code, endpoint.library.codes)
            echo(
                f"  {endpoint.library.code:<5} {endpoint.library.profile:<8} "
                f"{len(endpoint.repository):>6,} records  {endpoint.url}  {endpoint.library.name}"
            )
        for served in live.libraries:
            echo(
                f"  {served.library.code:<5} {'live SRU':<8} {served.records:>6,} records  {served.url}  "
                f"{served.library.name} (searched live, not harvested)"
            )
        catalogue.libraries.put_libraries(directory)
        live.register(catalogue)
        echo(f"  {len(directory)} libraries in the directory (/libraries)")
        echo("Harvesting the libraries over OAI-PMH (incremental)…")
        failed = await asyncio.to_thread(
            harvest_step, catalogue.records, settings, network.sources(), full=False
        )
    finally:
        await network.close()
    echo("Indexing: merging the copies of each edition into union records…")
    await asyncio.to_thread(index_step, catalogue)
    echo(f"Demo catalogue ready in {time.monotonic() - started:.1f}s.")
    if serve:
        await serve_forever(catalogue, settings, host, port)
    return 1 if failed else 0
