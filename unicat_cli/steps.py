"""The pipeline's steps as the CLI and the demo run them: harvest, index, serve, each reporting to the
console. Stages are imported inside each step, so that a command loads only the stages it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, TextIO

from aiohttp import web

from unicat.catalogue import Catalogue
from unicat.model import Source
from unicat.ports.records import RecordStore
from unicat.ports.union_index import UnionIndex
from unicat.settings import Settings
from unicat_cli.open_files import fit_connections
from unicat_cli.progress import ProgressBoard, ProgressLine, bar, rate

if TYPE_CHECKING:
    from harvester import HarvestReport
    from indexer import IndexReport

logger = logging.getLogger("unicat")


def echo(text: str, stream: TextIO | None = None) -> None:
    """Print one line of what a command did (stdout unless told otherwise), flushed at once."""
    print(text, file=stream or sys.stdout, flush=True)


def harvest_step(
    store: RecordStore,
    settings: Settings,
    sources: Sequence[Source],
    *,
    full: bool,
    from_: str | None = None,
    until: str | None = None,
) -> int:
    """Harvest ``sources`` with a live line per source on a terminal; print one line per source.
    Returns how many failed or stopped unfinished (past harvest_run_time_limit)."""
    from harvester import HarvestProgress, harvest_all

    board = ProgressBoard()

    def show(progress: HarvestProgress) -> None:
        if not progress.done:
            state = "harvesting"
        else:
            state = "stopped" if progress.stopped else "failed" if progress.error else "done"
        board.update(
            progress.source,
            f"{progress.source:<12} {state:<10} {bar(progress.records, progress.expected)} "
            f"{progress.records:,} records in {progress.pages:,} pages, "
            f"{rate(progress.records, progress.seconds)}",
            force=progress.done,
        )

    reports = harvest_all(store, sources, settings, full=full, from_=from_, until=until, on_progress=show)
    board.done()
    failed = 0
    for report in reports:
        if report.status == "ok":
            extra = f", {report.vanished:,} vanished" if report.vanished else ""
            echo(
                f"  {report.source}: {report.records:,} records ({report.deleted:,} deleted{extra}, "
                f"{report.quarantined:,} quarantined) in {report.pages:,} pages, "
                f"{rate(report.records, report.seconds)}"
            )
        else:
            failed += 1
            echo(f"  {report.source}: {report.status.upper()}: {report.error}", sys.stderr)
    return failed


def index_step(catalogue: Catalogue, *, rebuild: bool = False) -> None:
    """Bring the union catalogue up to date with the record store (an incremental pass over what
    changed, or a full rebuild: ``indexer/incremental.py`` says when), with a progress line and a
    summary."""
    from indexer import update_index

    progress = ProgressLine()
    report = update_index(
        catalogue.records,
        catalogue.index,
        on_progress=lambda p: progress.update(f"indexing ({p.phase}): {p.done:,}/{p.total:,}"),
        directory=catalogue.libraries.directory(),
        rebuild=rebuild,
    )
    progress.done()
    if report.mode == "incremental":
        echo(
            f"  incremental: {report.changed:,} source records changed since the last index reached "
            f"{report.region:,}; {report.union_records:,} union records written, {report.removed:,} "
            f"removed, {report.quarantined:,} quarantined, {report.redirects:,} redirects, "
            f"in {report.total_seconds:.1f}s"
        )
    else:
        why = f" ({report.rebuild_reason})" if report.rebuild_reason and not rebuild else ""
        echo(
            f"  rebuilt whole{why}: {report.union_records:,} union records from {report.parsed:,} source "
            f"records: {report.merged_clusters:,} editions merged from several records, "
            f"{report.quarantined:,} quarantined, {report.redirects:,} redirects, "
            f"in {report.total_seconds:.1f}s"
        )
    if report.set_aside:
        kinds = ", ".join(f"{count:,} {kind}" for kind, count in sorted(report.set_aside.items()))
        echo(f"  of the quarantined, set aside as no book: {kinds} (`unicat quarantine list --kind KIND`)")
    if report.flavour_corrected:
        echo(
            f"  {report.flavour_corrected:,} records read as another MARC flavour than their source "
            "declares (MARC 21 / UNIMARC; see their warnings)"
        )


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


async def serve_step(
    catalogue: Catalogue, settings: Settings, host: str, port: int
) -> tuple[web.AppRunner, str]:
    """Start the search app on ``host:port`` (0 = any free port); returns the runner and its URL.

    The process's limit on open files is raised first, and the connection cap fitted under it."""
    from indexer import update_index
    from search_app.app import make_app
    from search_app.serving import serve
    from unicat_cli.wiring import open_live_search

    def reindex(store: RecordStore, index: UnionIndex) -> IndexReport:
        # The directory as it is when the job starts: a library changed since is resolved by this run.
        return update_index(store, index, directory=catalogue.libraries.directory())

    settings = fit_connections(settings)
    live = open_live_search(catalogue)
    runner = await serve(make_app(catalogue, settings, reindex=reindex, live=live), host, port)
    bound_host, bound_port = runner.addresses[0][:2]
    return runner, f"http://{bound_host}:{bound_port}/"


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""What stops ``unicat serve`` cleanly: Ctrl-C, and what ``docker stop``, systemd and CI runners send."""


@contextlib.contextmanager
def _stopped_by_signals(stop: asyncio.Event) -> Iterator[None]:
    """Set ``stop`` on :data:`STOP_SIGNALS` while in the block. Installed on the loop, they also take
    over a signal the process inherited as ignored: a server started in the background by a shell
    without job control has SIGINT ignored, and would otherwise not stop on it."""
    loop = asyncio.get_running_loop()
    installed = []
    for signum in STOP_SIGNALS:
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError, ValueError):  # not on this platform or thread
            continue
        installed.append(signum)
    try:
        yield
    finally:
        for signum in installed:
            loop.remove_signal_handler(signum)


async def serve_forever(catalogue: Catalogue, settings: Settings, host: str, port: int) -> None:
    """Serve the search app until SIGINT or SIGTERM (:data:`STOP_SIGNALS`), saying where, and harvest
    the sources that have a schedule (``harvest_interval``) while it runs, re-indexing when they
    changed."""
    from harvester.schedule import changed_anything, run_schedule
    from indexer import update_index

    def after(reports: Sequence[HarvestReport]) -> None:
        if changed_anything(reports):
            index = update_index(
                catalogue.records, catalogue.index, directory=catalogue.libraries.directory()
            )
            logger.info(
                "re-indexed after scheduled harvests (%s): %d union records", index.mode, index.union_records
            )

    stop = asyncio.Event()
    # Before the address is printed: whoever reads it may signal at once.
    with _stopped_by_signals(stop):
        runner, url = await serve_step(catalogue, settings, host, port)
        echo(f"Unicat is serving at {url} (Ctrl-C to stop)")
        if settings.cookie_secure and host not in LOOPBACK_HOSTS:
            # Browsers keep Secure cookies over plain HTTP from localhost only: elsewhere sign-in needs HTTPS.
            echo(
                "Sign-in sessions use Secure cookies: serve this address over HTTPS (a reverse proxy), "
                "or set cookie_secure = false for plain HTTP on a private network."
            )
        schedule = asyncio.create_task(run_schedule(catalogue.records, settings, stop, after))
        try:
            await stop.wait()
        finally:
            stop.set()
            schedule.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await schedule
            await runner.cleanup()
