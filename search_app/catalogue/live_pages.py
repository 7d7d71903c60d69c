"""The results page's live part: its panel, the fragments ``static/live.js`` places as the live
catalogues answer, and a librarian's import of an edition only a live catalogue holds.

The fragments are rendered here, on the server, by the templates that render the page's own hits
(``_hit.html``): one template renders a hit, in the reader's language, with the import forms only a
librarian gets (and their CSRF token). So the event stream stays the API's JSON, the same for every
reader, and the page fetches the fragment of the version the stream announced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from search_app.auth import require_staff
from search_app.catalogue.fetch import Search
from search_app.catalogue.links_out import cite_links_of
from search_app.catalogue.live import TARGET_PARAM, LiveChoice, LiveStart, find_run, target_of
from search_app.catalogue.live_runs import LiveRun
from search_app.catalogue.present import availability_line, availability_status, held_by, value_label
from search_app.form_body import posted_form
from search_app.i18n import current_language, format_decimal, format_number, gettext, link_language, ngettext
from search_app.links import SearchLinks, year_param
from search_app.render import render
from search_app.state import LABELS, RECORDS, SETTINGS, SOURCES, in_thread
from unicat.errors import BadParameter, SourceNotFound
from unicat.live_search import LiveTarget, LiveUpdate, MergedHit, TargetStatus
from unicat.model import Holding, Source, SourceRecord, UnionRecord
from unicat.ports.records import RecordStore


@dataclass(frozen=True, slots=True)
class StatusLine:
    code: str
    state: str
    line: str


@dataclass(frozen=True, slots=True)
class LivePanel:
    """What the page's "Live catalogues" panel shows (templates/_live_panel.html)."""

    offered: list[LiveTarget]
    chosen: set[str]
    hidden_fields: list[tuple[str, str]]
    form_action: str
    run_id: str = ""
    busy: bool = False
    done: bool = False
    version: int = 0
    statuses: list[StatusLine] = dataclasses.field(default_factory=list)
    summary: str = ""
    wait_url: str = ""
    stream_url: str = ""
    fragment_url: str = ""


@dataclass(frozen=True, slots=True)
class FacetPlus:
    """What live hits add to one facet value: their count, and the link that filters by the value (for
    a value only live hits have, which the union's facet does not list)."""

    label: str
    count: int
    url: str
    selected: bool


def status_line(status: TargetStatus) -> str:
    """One target's status as a reader reads it: "Name: 7 hits in 1.2 s", "…: timed out after 10 s"."""
    if status.state == "waiting":
        text = gettext("waiting…")
    elif status.state == "done":
        hits = status.hits or 0
        text = ngettext("%(num)s hit in %(seconds)s s", "%(num)s hits in %(seconds)s s", hits) % {
            "num": format_number(hits),
            "seconds": format_decimal(round(status.seconds or 0.0, 1)),
        }
    elif status.state == "timed_out":
        text = gettext("timed out after %(seconds)s s") % {
            "seconds": format_decimal(round(status.seconds or 0.0, 1))
        }
    else:
        text = gettext("failed: %(message)s") % {"message": status.message}
    return f"{status.name}: {text}"


def summary_line(update: LiveUpdate) -> str:
    """The panel's polite live status: how many catalogues answered, and how many titles they add."""
    total = len(update.targets)
    answered = sum(1 for status in update.targets if status.state == "done")
    more = sum(1 for hit in update.hits if not hit.in_union)
    values = {"answered": format_number(answered), "total": format_number(total), "num": format_number(more)}
    if update.done:
        return (
            ngettext(
                "Live search done: %(answered)s of %(total)s live catalogues answered, %(num)s more title",
                "Live search done: %(answered)s of %(total)s live catalogues answered, %(num)s more titles",
                more,
            )
            % values
        )
    return (
        ngettext(
            "%(answered)s of %(total)s live catalogues answered: %(num)s more title",
            "%(answered)s of %(total)s live catalogues answered: %(num)s more titles",
            more,
        )
        % values
    )


def _panel(request: web.Request, start: LiveStart, links: SearchLinks) -> LivePanel:
    choice, run = start.choice, start.run
    hidden = [pair for pair in links.hidden_fields() if pair[0] not in ("target", "live", "page")]
    panel = LivePanel(
        choice.offered, {target.code for target in choice.chosen}, hidden, links.path, busy=start.busy
    )
    if run is None:
        return panel
    lang = link_language(request)
    query = request.rel_url.query.copy()
    query["live"] = "wait"
    return dataclasses.replace(
        panel,
        run_id=run.id,
        done=run.done,
        version=run.version,
        statuses=[
            StatusLine(status.code, status.state, status_line(status)) for status in run.update.targets
        ],
        summary=summary_line(run.update),
        wait_url=str(request.rel_url.with_query(query)),
        stream_url=str(request.app.router["api_live_events"].url_for(id=run.id)),
        fragment_url=str(
            request.app.router["live_fragment"].url_for(id=run.id).with_query({"lang": lang} if lang else {})
        ),
    )


async def hit_context(
    request: web.Request, run: LiveRun | None, lines: Sequence[MergedHit], union_hits: Sequence[UnionRecord]
) -> dict[str, Any]:
    """What ``_hit.html`` needs of every line: the union records' availability, holders and citation
    links (those a live target made the page show too), and the live targets' names."""
    records = {hit.record.id: hit.record for hit in lines if hit.in_union}
    records.update((record.id, record) for record in union_hits)
    shown = list(records.values())
    targets = run.targets if run is not None else []
    names = {target.code: target.name for target in targets}

    def live_target_name(holding: Holding, hit: MergedHit) -> str:
        code = target_of(holding, hit, targets)
        return names.get(code, code)

    return {
        "lines": list(lines),
        "availability": {record.id: availability_line(record) for record in shown},
        "availability_status": {record.id: availability_status(record) for record in shown},
        "held_by": {record.id: held_by(record) for record in shown},
        "cite_links": cite_links_of(request, shown),
        "live_target_name": live_target_name,
        "live_target_names": names,
        "live_run_id": run.id if run is not None else "",
    }


async def _live_facets(
    request: web.Request, update: LiveUpdate, library_names: Mapping[str, str], links: SearchLinks
) -> dict[str, dict[str, FacetPlus]]:
    labels = request.app[LABELS]
    sites = await request.app[SOURCES].site_names(current_language())
    year = year_param(links.query)
    facets: dict[str, dict[str, FacetPlus]] = {}
    for name, counts in update.facets.items():
        values = facets[name] = {}
        for count in counts:
            # As the union's facet links (catalogue/pages.py facet_links): the union then has none of
            # a value only live hits have, so the filtered page lists the live lines alone.
            if name == "year":
                selected = count.value == year
                url = links.with_year(None if selected else count.value)
            else:
                selected = links.is_selected(name, count.value)
                url = links.toggle(name, count.value)
            label = value_label(name, count.value, labels, library_names, sites)
            values[count.value] = FacetPlus(label, count.count, url, selected)
    return facets


async def live_context(
    request: web.Request, start: LiveStart, found: Search, links: SearchLinks
) -> dict[str, Any]:
    """The results page's live part: the panel, and (once the run is done, ``live=wait``) the merged
    lines and the live facet counts; a run still going leaves the union's page as it is."""
    run = start.run
    shown = bool(start.choice.offered) or start.busy
    context: dict[str, Any] = {"live": _panel(request, start, links) if shown else None}
    if run is None or not run.done:
        context.update(await hit_context(request, run, union_lines(found.result.hits), found.result.hits))
        return context
    context.update(await hit_context(request, run, run.update.hits, found.result.hits))
    plus = await _live_facets(request, run.update, found.library_names, links)
    context["live_facets"] = plus
    union_values = {name: {count.value for count in counts} for name, counts in found.result.facets.items()}
    context["live_facet_extra"] = {
        name: {value: extra for value, extra in values.items() if value not in union_values.get(name, set())}
        for name, values in plus.items()
    }
    return context


async def live_fragment(request: web.Request) -> web.Response:
    """``/search/live/{id}/fragment``: the run's latest version as HTML for static/live.js."""
    run = find_run(request, request.match_info["id"])
    names = await request.app[SOURCES].names()
    context = await hit_context(request, run, run.update.hits, run.union_hits)
    # The page's links keep the run's targets, as the results page's do (LiveChoice.link_params).
    targets = ((TARGET_PARAM, ""), *((TARGET_PARAM, target.code) for target in run.targets))
    links = SearchLinks(
        run.query, request.app[SETTINGS].page_size, lang=link_language(request), extra=targets
    )
    panel = dataclasses.replace(
        _panel(request, LiveStart(LiveChoice(list(run.targets), list(run.targets)), run), links),
        hidden_fields=[],
    )
    context.update(
        {
            "q": run.query.text,
            "query": run.query,
            "ratings": run.ratings,
            "site_names": await request.app[SOURCES].site_names(current_language()),
            "library_names": names,
            "live": panel,
            "live_facets": await _live_facets(request, run.update, names, links),
        }
    )
    response = render(request, "live_fragment.html", context)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def union_lines(records: Sequence[UnionRecord]) -> list[MergedHit]:
    """The union's page as lines of a merged list, before any live catalogue answered."""
    return [MergedHit(record, True, found_by=["union"]) for record in records]


def _import(store: RecordStore, target: LiveTarget, record: SourceRecord) -> bool:
    """Store ``record`` under the source of ``target``'s code, created as a file-fed source when
    absent; whether the source was created."""
    try:
        store.get_source(target.code)
        created = False
    except SourceNotFound:
        store.save_source(Source(target.code, target.name, profile=target.profile))
        created = True
    store.store_page(target.code, [record], None)
    return created


async def live_import(request: web.Request) -> web.Response:
    """A librarian stores the record a live target sent for an edition the union lacks: it joins the
    catalogue, as a record of the source named by the target's code, at the next ``unicat index``."""
    require_staff(request, "importing a live record")
    form = await posted_form(request)
    code, local_id = str(form.get("target", "")), str(form.get("local_id", ""))
    run = find_run(request, request.match_info["id"])
    target = run.target(code)
    raw = run.raw_record(code, local_id)
    if target is None or raw is None:
        raise BadParameter(
            "local_id", "this live search found no such record; search again and import from its page"
        )
    record = SourceRecord(target.code, local_id, raw.data, raw.syntax)
    created = await in_thread(request.app, _import, request.app[RECORDS], target, record)
    context = {"q": run.query.text, "target": target, "local_id": local_id, "created": created}
    return render(request, "live_imported.html", context)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/search/live/{id}/fragment", live_fragment, name="live_fragment")
    app.router.add_post("/search/live/{id}/import", live_import, name="live_import")
