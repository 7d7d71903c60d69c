"""What the librarians' harvest page and ``/api/status`` show: the catalogue's status, as `unicat status`.

Both take the same parameters: ``source`` (repeatable: only these sources) and ``runs`` (how many
runs each history holds). A bad one is a 400 naming it, an unknown source code too.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from aiohttp import web

from search_app.catalogue.fetch import query_lists
from search_app.i18n import N_, format_age, format_duration, format_rate
from search_app.parameters import check_api_parameters
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from search_app.timing import add_engine_time
from unicat.errors import BadParameter, SourceNotFound
from unicat.model import SOURCE_CODE_RE
from unicat.status import (
    DEFAULT_HISTORY,
    HEALTH_LABELS,
    MAX_HISTORY,
    STALE_INTERVALS,
    CatalogueStatus,
    catalogue_status,
)

STATUS_PARAMETERS = ("source", "runs")
# The health verdicts (unicat.status.HEALTH_LABELS), shown translated.
HEALTH_NAMES = (N_("ok"), N_("failing"), N_("running"), N_("never harvested"), N_("stale"))
MAX_SOURCES = 100


@dataclass(frozen=True, slots=True)
class StatusParams:
    """Which sources (none: all) and how many runs of each one's history."""

    codes: tuple[str, ...] = ()
    runs: int = DEFAULT_HISTORY

    def query_string(self) -> str:
        """These parameters as a query string (``?…``, or empty for the defaults)."""
        pairs = [("source", code) for code in self.codes]
        if self.runs != DEFAULT_HISTORY:
            pairs.append(("runs", str(self.runs)))
        return f"?{urlencode(pairs)}" if pairs else ""


def parse_status_params(params: Mapping[str, Sequence[str]]) -> StatusParams:
    """The validated parameters, or :class:`BadParameter` naming the first bad one; other names are
    not read (the page ignores them, :func:`api_status` refuses them)."""
    codes = tuple(dict.fromkeys(code for code in params.get("source", ()) if code))
    if len(codes) > MAX_SOURCES:
        raise BadParameter("source", f"give at most {MAX_SOURCES} sources")
    for code in codes:
        if not SOURCE_CODE_RE.match(code):
            raise BadParameter("source", f"{code[:40]!r} is not a source code")
    runs_values = params.get("runs", ())
    if len(runs_values) > 1:
        raise BadParameter("runs", "give this parameter once")
    raw = runs_values[0] if runs_values else ""
    if raw == "":
        return StatusParams(codes)
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_HISTORY:
        raise BadParameter("runs", f"must be a whole number from 0 to {MAX_HISTORY}, got {raw[:40]!r}")
    return StatusParams(codes, int(raw))


async def fetch_status(request: web.Request) -> tuple[StatusParams, CatalogueStatus]:
    """The request's parameters and the status they ask for, collected in the app's thread pool."""
    params = parse_status_params(query_lists(request))
    started = time.perf_counter()
    catalogue = request.app[CATALOGUE]
    try:
        status = await in_thread(request.app, catalogue_status, catalogue, params.codes, history=params.runs)
    except SourceNotFound as exc:
        raise BadParameter("source", f"there is no source with code {exc.code!r}") from None
    add_engine_time(request, started)
    return params, status


async def harvests_page(request: web.Request) -> web.Response:
    """For librarians: each source's health, counts, last success and error, its history, and the
    latest quarantined records."""
    params, status = await fetch_status(request)
    more = StatusParams(params.codes, min(MAX_HISTORY, max(2 * params.runs, DEFAULT_HISTORY)))
    context = {
        "q": "",
        "status": status,
        "params": params,
        "library_names": {source.code: source.name for source in status.sources},
        "json_url": "/api/status" + params.query_string(),
        "more_url": None if params.runs >= MAX_HISTORY else "/librarians/harvests" + more.query_string(),
        "labels_of_health": HEALTH_LABELS,
        "stale_intervals": STALE_INTERVALS,
        "duration": format_duration,
        "rate": format_rate,
        "age": functools.partial(format_age, now=status.generated),
    }
    return render(request, "harvests.html", context)


async def api_status(request: web.Request) -> web.Response:
    """``/api/status``: the JSON of `unicat status --json` (``source``, ``runs`` as its CODE, ``--runs``)."""
    check_api_parameters(query_lists(request), STATUS_PARAMETERS)
    _, status = await fetch_status(request)
    return web.json_response(status.to_json())
