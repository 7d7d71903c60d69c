"""Which live targets a search asks, starting its run, and the run's state as the API gives it.

A search asks the enabled live targets (``unicat target add``) beside the union index when the
setting ``live_search_default`` says so, or when the reader asks (``live=1``, ``live=wait``); it asks
those the reader chose with ``target=CODE`` (repeatable; an empty ``target=`` says "I chose", so that a
form with every box unticked asks none), and none with ``live=0``. Searches that are about the union's
own records (:func:`unicat.live_filtering.can_match_live`) ask none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from search_app.catalogue.fetch import Search
from search_app.catalogue.live_runs import LiveRun
from search_app.catalogue.present import hit_json, holding_json
from search_app.state import LIVE_RUNS, LIVE_TARGETS, SETTINGS
from unicat.errors import BadParameter, ItemNotFound
from unicat.live_filtering import can_match_live
from unicat.live_search import LiveTarget, LiveUpdate, MergedHit, TargetStatus
from unicat.model import Holding

LIVE_PARAM = "live"
TARGET_PARAM = "target"
LIVE_PARAMETERS = frozenset({LIVE_PARAM, TARGET_PARAM})
"""The search parameters of live search, beside :data:`unicat.query.SEARCH_PARAMETERS`."""
LIVE_VALUES = ("0", "1", "wait")
BUSY_MESSAGE = "live search is busy, try again in a moment (at most live_search_max_runs run at once)"

WAIT_MARGIN = 5.0
"""Seconds ``live=wait`` waits beyond the slowest target's timeout (the fan-out's own margin, and
reading the last answer) before it shows what came."""

LiveMode = Literal["0", "1", "wait", ""]


@dataclass(slots=True)
class LiveChoice:
    """What a search asks of live search: the targets ``chosen`` among those ``offered`` (enabled),
    whether the reader ``picked`` them (``target=``), and ``mode`` (``live``: ``""`` when not given)."""

    offered: list[LiveTarget] = field(default_factory=list)
    chosen: list[LiveTarget] = field(default_factory=list)
    picked: bool = False
    mode: LiveMode = ""

    @property
    def waits(self) -> bool:
        """Whether the answer waits for the live targets (``live=wait``, the page without script)."""
        return self.mode == "wait" and bool(self.chosen)

    def link_params(self) -> tuple[tuple[str, str], ...]:
        """What the search's links keep of the choice, so a facet or a page keeps the same targets."""
        if self.mode == "0":
            return ((LIVE_PARAM, "0"),)
        if self.picked:
            return ((TARGET_PARAM, ""), *((TARGET_PARAM, target.code) for target in self.chosen))
        return ()


@dataclass(slots=True)
class LiveStart:
    """A search's live part: the choice, and the run it started (``None``: none asked, or ``busy``)."""

    choice: LiveChoice
    run: LiveRun | None = None
    busy: bool = False


def _mode(params: Mapping[str, Sequence[str]]) -> LiveMode:
    values = params.get(LIVE_PARAM, [])
    if len(values) > 1 or any(value not in LIVE_VALUES for value in values):
        raise BadParameter(LIVE_PARAM, f"give one of {', '.join(LIVE_VALUES)}, once")
    mode = values[0] if values else ""
    return "0" if mode == "0" else "1" if mode == "1" else "wait" if mode == "wait" else ""


async def choose_targets(request: web.Request, params: Mapping[str, Sequence[str]]) -> LiveChoice:
    """The live targets the search of ``params`` asks (module docstring); :class:`BadParameter` for a
    ``live`` value it does not know or a ``target`` that is not an enabled live target."""
    mode = _mode(params)
    directory = request.app.get(LIVE_TARGETS)
    offered = await directory.enabled() if directory is not None else {}
    codes = [code for code in params.get(TARGET_PARAM, []) if code]
    unknown = [code for code in codes if code not in offered]
    if unknown:
        known = ", ".join(offered) or "none is configured"
        raise BadParameter(
            TARGET_PARAM, f"{unknown[0][:40]!r} is not a live target searched here; known: {known}"
        )
    picked = TARGET_PARAM in params
    choice = LiveChoice(list(offered.values()), [], picked, mode)
    if mode == "0" or not offered:
        return choice
    if picked:
        choice.chosen = [offered[code] for code in dict.fromkeys(codes)]
    elif mode or request.app[SETTINGS].live_search_default:
        choice.chosen = list(offered.values())
    return choice


async def start_live(request: web.Request, found: Search, choice: LiveChoice) -> LiveStart:
    """Register the run of ``found``'s live part, when it asks any target, so that the answer can name
    it; with ``live=wait`` it starts asking at once (the answer waits for it), else the handler starts
    it with :func:`launch_live` once the union's answer is ready."""
    runs = request.app.get(LIVE_RUNS)
    if runs is None or not choice.chosen or not can_match_live(found.query):
        return LiveStart(dataclasses.replace(choice, chosen=[] if runs is None else choice.chosen))
    run = runs.start(found.query, found.result.hits, choice.chosen, found.ratings)
    if run is not None and choice.waits:
        runs.launch(run)
    return LiveStart(choice, run, run is None)


def launch_live(request: web.Request, live: LiveStart) -> None:
    """Start asking the targets of ``live``'s run: called when the union's answer is ready, just before
    it is sent, so that the targets' first steps never delay it (the run is measured from there)."""
    runs = request.app.get(LIVE_RUNS)
    if runs is not None and live.run is not None:
        runs.launch(live.run)


async def wait_for_end(run: LiveRun) -> None:
    """Wait until ``run`` ends: every target answers or runs out of its own time (``live=wait``)."""
    bound = max((target.timeout for target in run.targets), default=0.0) + WAIT_MARGIN
    await run.newer_than(2**62, bound)


def find_run(request: web.Request, run_id: str) -> LiveRun:
    """The live run of ``run_id``, or 404 saying it expired (or never ran here)."""
    runs = request.app.get(LIVE_RUNS)
    run = runs.get(run_id[:64]) if runs is not None else None
    if run is None:
        keep = request.app[SETTINGS].live_search_keep_seconds
        raise ItemNotFound(
            f"live search {run_id[:64]!r}: it ended more than {keep:g} s ago (live_search_keep_seconds) "
            "or never ran here; search again"
        )
    return run


def status_json(status: TargetStatus) -> dict[str, Any]:
    return dataclasses.asdict(status)


def live_summary_json(request: web.Request, start: LiveStart) -> dict[str, Any] | None:
    """The ``live`` member of ``/api/search``: the run's id, where to poll and stream it, and its
    targets' statuses; ``None`` when the search asked no live target."""
    if start.busy:
        return {"id": None, "busy": True, "message": BUSY_MESSAGE, "targets": []}
    run = start.run
    if run is None:
        return None
    return {
        "id": run.id,
        "busy": False,
        "poll": str(request.app.router["api_live"].url_for(id=run.id)),
        "stream": str(request.app.router["api_live_events"].url_for(id=run.id)),
        "targets": [status_json(status) for status in run.update.targets],
    }


def target_of(holding: Holding, hit: MergedHit, targets: Sequence[LiveTarget]) -> str:
    """The code of the target a live holding came from: the target of that code, or the one that
    stands for the holding's library, among those that found the hit."""
    found = [target for target in targets if target.code in hit.found_by] or list(targets)
    for target in found:
        if holding.library == target.code or holding.library in target.libraries:
            return target.code
    return found[0].code if found else ""


def run_json(
    run: LiveRun,
    library_names: Mapping[str, str],
    *,
    barcodes: bool,
    as_of: Mapping[str, str],
) -> dict[str, Any]:
    """The body of ``/api/search/live/{id}``: the run's latest state (docs/live-search.md)."""
    update: LiveUpdate = run.update
    hits = []
    for hit in update.hits:
        data = hit_json(hit.record, library_names, barcodes=barcodes, as_of=as_of if hit.in_union else {})
        rating = run.ratings.get(hit.record.id) if hit.in_union else None
        data["rating"] = rating.to_json() if rating is not None else None
        data["in_union"] = hit.in_union
        data["found_by"] = list(hit.found_by)
        data["live_holdings"] = [
            {
                **holding_json(holding, library_names, barcodes=barcodes),
                "target": target_of(holding, hit, run.targets),
            }
            for holding in hit.live_holdings
        ]
        if not hit.in_union:
            for holding, shown in zip(hit.record.holdings, data["holdings"], strict=True):
                shown["target"] = target_of(holding, hit, run.targets)
        hits.append(data)
    return {
        "id": run.id,
        "done": update.done,
        "seconds": update.seconds,
        "version": run.version,
        "targets": [status_json(status) for status in update.targets],
        "hits": hits,
        "facets_live": {
            name: [{"value": count.value, "count": count.count} for count in counts]
            for name, counts in update.facets.items()
        },
    }
