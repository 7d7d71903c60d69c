"""The typed state of the application and the one way handlers reach the catalogue's ports.

The index's and the stores' methods are synchronous (SQLite, psycopg, or an HTTP client for
Elasticsearch): they run in a bounded thread pool so that a slow query never blocks the event loop,
and so that the number of queries in flight never exceeds what the reader pools can serve.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

import jinja2
from aiohttp import web

from search_app.catalogue.live_directory import TargetDirectory
from search_app.catalogue.live_runs import LiveRuns
from search_app.labels import Labels
from search_app.sources import SourceDirectory
from unicat.catalogue import Catalogue
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.ports.hit_marks import HitMarks
from unicat.ports.records import RecordStore
from unicat.ports.union_index import AsyncSearcher, UnionIndex
from unicat.settings import Settings

P = ParamSpec("P")
T = TypeVar("T")

CATALOGUE = web.AppKey("catalogue", Catalogue)
INDEX = web.AppKey("index", UnionIndex)
RECORDS = web.AppKey("records", RecordStore)
ACCOUNTS = web.AppKey("accounts", AccountStore)
CONTRIBUTIONS = web.AppKey("contributions", ContributionStore)
SETTINGS = web.AppKey("settings", Settings)
LABELS = web.AppKey("labels", Labels)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
EXECUTOR = web.AppKey("executor", ThreadPoolExecutor)
SOURCES = web.AppKey("sources", SourceDirectory)
# Set only when the union index offers searches the loop awaits (UnionIndex.async_searcher): read it
# with ``app.get``.
ASYNC_SEARCHER = web.AppKey("async_searcher", AsyncSearcher)
# What a page of hits may carry from the stores, where the store's database keeps marks (PostgreSQL).
HIT_MARKS = web.AppKey("hit_marks", HitMarks)
# Set only when the app was given a live search (make_app's ``live``): read them with ``app.get``.
LIVE_RUNS = web.AppKey("live_runs", LiveRuns)
LIVE_TARGETS = web.AppKey("live_targets", TargetDirectory)


async def in_thread(app: web.Application, call: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """Run a blocking call of a port in the app's thread pool and wait for it without blocking the loop."""
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(app[EXECUTOR], functools.partial(call, *args, **kwargs))
