"""The aiohttp application: routes, middleware and the resources that live as long as the app.

``make_app`` receives an open engine and the settings from the composition root (the CLI), which
also closes the engine; the app owns only what it creates: the thread pool and the caches of the
sources and of the library directory.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from aiohttp import web

from search_app import i18n, oai, sru
from search_app.alert_scheduler import alert_scheduler_context
from search_app.auth import HASHING, LIMITS, Limits, session_middleware
from search_app.catalogue import (
    api,
    libraries,
    links_out,
    live_api,
    live_pages,
    new_titles,
    pages,
    spelling,
    suggest,
)
from search_app.catalogue.highlight import highlight
from search_app.catalogue.live_directory import TargetDirectory
from search_app.catalogue.live_runs import LiveRuns
from search_app.errors import error_middleware
from search_app.i18n import CATALOGUES, language_middleware, load_catalogues
from search_app.icons import format_badges
from search_app.labels import DEFAULT_FACETS_FILE, load_labels
from search_app.librarians import (
    harvests,
    mail_desk,
    merges,
    moderation_desk,
    overlap,
    quarantine,
    requests_desk,
)
from search_app.librarians import libraries as libraries_desk
from search_app.librarians.reindex import REINDEXER, Reindexer, ReindexJob, reindexer_context
from search_app.library_cache import LIBRARIES, LibraryCache
from search_app.links import api_list_url, api_record_url, list_url, merge_desk_url, record_url
from search_app.nul_guard import nul_guard
from search_app.outbox import outbox_context
from search_app.readers import (
    accounts,
    alerts,
    contributions,
    home_library,
    reading_lists,
    registration,
    request_pages,
    saved_searches,
    shuttle,
)
from search_app.render import STATIC_DIR, make_environment
from search_app.request_limits import RequestLimits
from search_app.security_headers import add_security_headers
from search_app.sources import DEFAULT_TTL, SourceDirectory
from search_app.state import (
    ACCOUNTS,
    ASYNC_SEARCHER,
    CATALOGUE,
    CONTRIBUTIONS,
    EXECUTOR,
    HIT_MARKS,
    INDEX,
    LABELS,
    LIVE_RUNS,
    LIVE_TARGETS,
    RECORDS,
    SETTINGS,
    SOURCES,
    TEMPLATES,
    in_thread,
)
from search_app.timing import server_timing
from unicat.catalogue import Catalogue
from unicat.holding_codes import CodeName
from unicat.libraries import Library
from unicat.live_search import LiveSearch, LiveTarget
from unicat.model import Source
from unicat.settings import Settings


async def _engine_threads(app: web.Application) -> AsyncIterator[None]:
    """The bounded pool engine calls run in, sized like the engine's reader pool."""
    executor = ThreadPoolExecutor(
        max_workers=max(1, app[SETTINGS].reader_pool_size), thread_name_prefix="unicat-engine"
    )
    app[EXECUTOR] = executor

    async def fetch_sources() -> list[Source]:
        return await in_thread(app, app[RECORDS].list_sources)

    async def fetch_codes() -> dict[str, list[CodeName]]:
        return await in_thread(app, app[RECORDS].holding_codes)

    def read_as_of() -> dict[str, str]:
        store = app[RECORDS]
        runs = (store.last_successful_harvest(source.code) for source in store.list_sources())
        return {run.source: run.finished or run.started for run in runs if run is not None}

    async def fetch_as_of() -> dict[str, str]:
        return await in_thread(app, read_as_of)

    async def fetch_libraries() -> list[Library]:
        return await in_thread(app, app[CATALOGUE].libraries.list_libraries)

    app[LIBRARIES] = LibraryCache(fetch_libraries)
    app[SOURCES] = SourceDirectory(
        fetch_sources,
        ttl=DEFAULT_TTL,
        fetch_codes=fetch_codes,
        fetch_as_of=fetch_as_of,
        libraries=app[LIBRARIES],
    )
    app[HASHING] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="unicat-hash")
    yield
    app[HASHING].shutdown(wait=True, cancel_futures=True)
    executor.shutdown(wait=True, cancel_futures=True)


async def _async_searcher(app: web.Application) -> AsyncIterator[None]:
    """The union index's searcher for this app's event loop, where it has one (opened in the loop,
    whose connections it keeps, and closed with the app)."""
    searcher = app[INDEX].async_searcher()
    if searcher is None:
        yield
        return
    app[ASYNC_SEARCHER] = searcher
    try:
        yield
    finally:
        await searcher.close()


async def _hit_marks(app: web.Application) -> AsyncIterator[None]:
    """The store's marks of what hits may carry (search_app/catalogue/fetch.py skips the stores' read
    for a page of unmarked hits), where its database keeps them; stopped with the app."""
    marks = app[CATALOGUE].database.hit_marks()
    if marks is None:
        yield
        return
    app[HIT_MARKS] = marks
    try:
        yield
    finally:
        await in_thread(app, marks.close)


def _live_search_context(live: LiveSearch) -> Callable[[web.Application], AsyncIterator[None]]:
    """The live runs and the enabled targets' cache, opened with the app; the runs still asking
    their targets are stopped and the live search's connections closed with it."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        async def blocking(function: Callable[..., Any], *args: Any) -> Any:
            return await in_thread(app, function, *args)

        async def fetch_targets() -> list[LiveTarget]:
            return await in_thread(app, app[CATALOGUE].targets.list_targets)

        settings = app[SETTINGS]
        app[LIVE_TARGETS] = TargetDirectory(fetch_targets)
        app[LIVE_RUNS] = LiveRuns(
            live,
            blocking,
            max_runs=settings.live_search_max_runs,
            keep_seconds=settings.live_search_keep_seconds,
        )
        yield
        await app[LIVE_RUNS].close()
        await live.close()

    return context


def make_app(
    catalogue: Catalogue,
    settings: Settings,
    facets_file: Path = DEFAULT_FACETS_FILE,
    reindex: ReindexJob | None = None,
    live: LiveSearch | None = None,
) -> web.Application:
    """The search application over ``catalogue``; ``facets_file`` holds the facet order and value labels;
    ``reindex`` is what the librarians' "apply now" runs in the background (none: they wait for the
    next ``unicat index``); ``live`` searches the live targets beside the union index (none: searches
    ask no live target; the composition root builds it, search_app never reaches the targets itself)."""
    # The request limits come before the session's lookup, so that a refused request costs nothing more.
    limits = RequestLimits(settings).middleware
    # The language is chosen before the error middleware, so that error pages speak it too.
    languages = language_middleware(settings.default_language)
    middlewares = [server_timing, languages, error_middleware, limits, nul_guard, session_middleware]
    app = web.Application(middlewares=middlewares)
    app.on_response_prepare.append(add_security_headers)
    app[REINDEXER] = Reindexer(app, reindex)
    labels = load_labels(facets_file)
    templates = make_environment()
    templates.globals["labels"] = labels
    templates.filters["record_url"] = record_url
    templates.filters["api_record_url"] = api_record_url
    templates.filters["list_url"] = list_url
    templates.filters["api_list_url"] = api_list_url
    templates.filters["merge_desk_url"] = merge_desk_url
    templates.filters["highlight"] = highlight
    templates.globals["format_badge"] = format_badges(labels)
    app[CATALOGUE] = catalogue
    app[INDEX] = catalogue.index
    app[RECORDS] = catalogue.records
    app[ACCOUNTS] = catalogue.accounts
    app[CONTRIBUTIONS] = catalogue.contributions
    app[SETTINGS] = settings
    app[LABELS] = labels
    app[TEMPLATES] = templates
    app[CATALOGUES] = load_catalogues()
    app[LIMITS] = Limits.from_settings(settings)
    spelling.setup(app)
    app.cleanup_ctx.append(_engine_threads)
    app.cleanup_ctx.append(_async_searcher)
    app.cleanup_ctx.append(_hit_marks)
    app.cleanup_ctx.append(reindexer_context)
    if live is not None:
        app.cleanup_ctx.append(_live_search_context(live))
    app.cleanup_ctx.append(outbox_context)
    app.cleanup_ctx.append(alert_scheduler_context)
    app.router.add_get("/", pages.home, name="home")
    app.router.add_get("/search", pages.search, name="search")
    app.router.add_get("/record/{id}", pages.record, name="record")
    links_out.add_routes(app)
    app.router.add_get("/librarians/harvests", harvests.harvests_page, name="harvests")
    app.router.add_get("/librarians/quarantine", quarantine.quarantine_desk, name="quarantine")
    app.router.add_get("/healthz", api.healthz, name="healthz")
    app.router.add_get("/api/search", api.api_search, name="api_search")
    app.router.add_get("/api/suggest", suggest.api_suggest, name="api_suggest")
    app.router.add_get("/api/records/{id}", api.api_record, name="api_record")
    app.router.add_get("/api/status", harvests.api_status, name="api_status")
    app.router.add_get("/api/quarantine", quarantine.api_quarantine, name="api_quarantine")
    app.router.add_get("/api/openapi.json", api.api_openapi, name="api_openapi")
    app.router.add_get("/api/search/live/{id}", live_api.api_live, name="api_live")
    app.router.add_get("/api/search/live/{id}/events", live_api.api_live_events, name="api_live_events")
    live_pages.add_routes(app)
    i18n.add_routes(app)
    accounts.add_routes(app)
    home_library.add_routes(app)
    registration.add_routes(app)
    reading_lists.add_routes(app)
    saved_searches.add_routes(app)
    alerts.add_routes(app)
    contributions.add_routes(app)
    shuttle.add_routes(app)
    request_pages.add_routes(app)
    moderation_desk.add_routes(app)
    merges.add_routes(app)
    overlap.add_routes(app)
    mail_desk.add_routes(app)
    requests_desk.add_routes(app)
    libraries.add_routes(app)
    new_titles.add_routes(app)
    libraries_desk.add_routes(app)
    sru.add_routes(app)
    oai.add_routes(app, oai.OaiRepository(catalogue.feed, oai.FORMATS, settings, sample_id="u6lqsbyb5cmra"))
    app.router.add_static("/static/", STATIC_DIR, name="static")
    return app
