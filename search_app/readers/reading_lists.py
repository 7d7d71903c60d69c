"""Readers' reading lists: one's own lists, each list's permalink, its JSON, and its export as RIS,
BibTeX or MARCXML (:mod:`search_app.readers.citations`).

Who may do what: a signed-in reader makes lists and changes only their own; a public list can be
read by anyone, signed in or not, at ``/lists/{id}``; a private one only by its owner (anyone else
gets 403, which says the list exists but is not theirs to read). The export and the JSON follow the
permalink's rule.

An entry keeps the union id it was added as. A record merged away since shows as the record it now
lives in (:func:`search_app.readers.record_aliases.live_ids`), once even if the list held both ids; a
record gone from the catalogue altogether stays on the list, shown as no longer in the catalogue, and
is left out of exports (there is nothing to cite).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from search_app.auth import Viewer, check_post_rate, count_post, require_signed_in, viewer
from search_app.catalogue.fetch import MAX_ID_LENGTH, find_record
from search_app.i18n import N_, gettext, translated
from search_app.links import list_url, record_url
from search_app.readers.accounts import form_fields, see_other
from search_app.readers.citations import EXPORT_KINDS, export_records
from search_app.readers.record_aliases import live_ids
from search_app.render import render
from search_app.state import CATALOGUE, CONTRIBUTIONS, SETTINGS, SOURCES, in_thread
from unicat.catalogue import Catalogue
from unicat.clock import utc_now
from unicat.errors import BadParameter, ItemNotFound
from unicat.holding_codes import named_records
from unicat.model import UnionRecord
from unicat.readers import (
    MAX_LIST_DESCRIPTION,
    MAX_LIST_ENTRIES,
    MAX_LIST_NAME,
    ListEntry,
    ReadingList,
    check_list_description,
    check_list_name,
    shown_name,
)

PRIVATE_MESSAGE = N_("this reading list is private: only the reader who made it can see it")
NOT_OWNER_MESSAGE = N_("only the reader who made this list can change it")
EXPORT_LABELS = {"ris": "RIS", "bibtex": "BibTeX", "marcxml": "MARCXML"}
DONE_MESSAGES = {
    "created": N_("Your list is ready."),
    "updated": N_("The list is saved."),
    "added": N_("The record is on the list."),
    "removed": N_("The record is off the list."),
    "deleted": N_("The list is deleted."),
}
_MAX_LIST_ID_DIGITS = 18  # larger numbers are no list's id (and overflow the engines' integers)
_MAX_SLUG = 60
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_CHECKED = ("1", "on", "true", "yes")


@dataclass(frozen=True, slots=True)
class EntryView:
    """A list entry as shown: ``record`` is the id it lives under now (the id it was added as when
    it never moved, or when it is gone), ``found`` the record, ``None`` when it is no longer in the
    catalogue."""

    record: str
    added_as: str
    added: str
    found: UnionRecord | None

    def to_json(self) -> dict[str, Any]:
        found = self.found
        return {
            "record": self.record,
            "added_as": self.added_as,
            "added": self.added,
            "in_catalogue": found is not None,
            "title": found.title if found else None,
            "authors": list(found.authors) if found else [],
            "year": found.year if found else None,
            "libraries": found.libraries if found else [],
            "url": record_url(self.record) if found else None,
        }


@dataclass(frozen=True, slots=True)
class ListView:
    """A list with its owner's display name and its entries, newest first."""

    reading_list: ReadingList
    owner: str
    entries: list[EntryView]

    @property
    def records(self) -> list[UnionRecord]:
        """The records of the list still in the catalogue, in the list's order (what an export holds)."""
        return [entry.found for entry in self.entries if entry.found is not None]

    def to_json(self) -> dict[str, Any]:
        return {
            "list": {
                **self.reading_list.to_json(),
                "owner": self.owner,
                "url": list_url(self.reading_list),
                "entry_count": len(self.entries),
            },
            "entries": [entry.to_json() for entry in self.entries],
        }


def entry_views(catalogue: Catalogue, entries: list[ListEntry]) -> list[EntryView]:
    """The entries as shown, in their order; entries that now lead to one record show once."""
    live = live_ids(catalogue.records, [entry.record for entry in entries])
    wanted = list(dict.fromkeys(live.values()))
    records = {record.id: record for record in catalogue.index.get_union_records(wanted)} if wanted else {}
    views: list[EntryView] = []
    shown: set[str] = set()
    for entry in entries:
        now = live[entry.record]
        if now not in shown:
            shown.add(now)
            views.append(EntryView(now, entry.record, entry.added, records.get(now)))
    return views


def gather_list(catalogue: Catalogue, reading_list: ReadingList) -> ListView:
    """The list, its owner's name and its entries (blocking engine calls: run it in the pool)."""
    assert reading_list.id is not None
    owner = catalogue.accounts.get_user(reading_list.user_id)
    entries = entry_views(catalogue, catalogue.contributions.list_entries(reading_list.id))
    return ListView(reading_list, shown_name(owner), entries)


def file_slug(reading_list: ReadingList) -> str:
    """The export's file name, without extension: the list's name in lower-case ASCII words joined
    by hyphens (``Summer reading — 2026`` → ``summer-reading-2026``), or ``list-{id}``."""
    ascii_name = unicodedata.normalize("NFKD", reading_list.name).encode("ascii", "ignore").decode()
    slug = _NOT_SLUG.sub("-", ascii_name.lower()).strip("-")[:_MAX_SLUG].strip("-")
    return slug or f"list-{reading_list.id}"


def site_url(request: web.Request) -> str:
    """The catalogue's public address, which exports name each record's page under: the one
    configured for the OAI-PMH provider (``oai_base_url`` without its ``/oai``), else the address the
    request came to."""
    base = request.app[SETTINGS].oai_base_url
    return base.rsplit("/oai", 1)[0] if base.endswith("/oai") else str(request.url.origin())


def _checked(form: dict[str, str], name: str) -> bool:
    return form.get(name, "").strip().lower() in _CHECKED


# -- finding a list and who may touch it -----------------------------------------------------------
async def _find_list(request: web.Request, raw: str | None = None) -> ReadingList:
    """The list of the address's id (or of ``raw``); 404 when there is none."""
    raw = request.match_info["id"] if raw is None else raw
    found = None
    if raw.isdigit() and len(raw) <= _MAX_LIST_ID_DIGITS:
        found = await in_thread(request.app, request.app[CONTRIBUTIONS].get_list, int(raw))
    if found is None or found.id is None:
        raise ItemNotFound(f"reading list {raw[:20]!r}")
    return found


def may_read(seen: Viewer, reading_list: ReadingList) -> bool:
    return reading_list.public or (seen.user_id is not None and seen.user_id == reading_list.user_id)


async def _readable_list(request: web.Request) -> ReadingList:
    found = await _find_list(request)
    if not may_read(viewer(request), found):
        raise web.HTTPForbidden(reason=PRIVATE_MESSAGE)
    return found


async def _own_list(request: web.Request, raw: str | None = None) -> tuple[Viewer, ReadingList]:
    seen = require_signed_in(request)
    found = await _find_list(request, raw)
    if found.user_id != seen.user_id:
        raise web.HTTPForbidden(reason=NOT_OWNER_MESSAGE)
    return seen, found


async def _record_to_add(request: web.Request, raw: str) -> str:
    """The union id a form names, as it now lives (a merged-away id gives the record that absorbed
    it); 400 when none is given, 404 when the catalogue has no such record."""
    wanted = raw.strip()
    if not wanted:
        raise BadParameter("record", "give the union id of the record to put on the list")
    if len(wanted) > MAX_ID_LENGTH:
        raise BadParameter("record", f"a union id has at most {MAX_ID_LENGTH} characters")
    found = await find_record(request, wanted)
    return found if isinstance(found, str) else found.id


# -- blocking steps, run in the engine's pool ------------------------------------------------------
def _add_entry(catalogue: Catalogue, reading_list: ReadingList, union_id: str) -> None:
    assert reading_list.id is not None
    entries = catalogue.contributions.list_entries(reading_list.id)
    if len(entries) >= MAX_LIST_ENTRIES and all(entry.record != union_id for entry in entries):
        raise BadParameter(
            "record", f"a list holds at most {MAX_LIST_ENTRIES:,} records: remove some, or start another list"
        )
    catalogue.contributions.add_list_entry(ListEntry(reading_list.id, union_id))
    catalogue.contributions.update_list(reading_list.with_changes(updated=utc_now()))


def _remove_entry(catalogue: Catalogue, reading_list: ReadingList, union_id: str) -> bool:
    """Take the record off the list, whichever of its ids (its own, or one merged into it) it was
    added as."""
    assert reading_list.id is not None
    entries = catalogue.contributions.list_entries(reading_list.id)
    live = live_ids(catalogue.records, [entry.record for entry in entries])
    removed = False
    for entry in entries:
        if union_id in (entry.record, live[entry.record]):
            removed = catalogue.contributions.remove_list_entry(reading_list.id, entry.record) or removed
    if removed:
        catalogue.contributions.update_list(reading_list.with_changes(updated=utc_now()))
    return removed


def _create(catalogue: Catalogue, reading_list: ReadingList, union_id: str | None) -> ReadingList:
    stored = catalogue.contributions.add_list(reading_list)
    if union_id is not None:
        _add_entry(catalogue, stored, union_id)
    return stored


# -- pages -----------------------------------------------------------------------------------------
def _form_context(form: dict[str, str], error: BadParameter | None) -> dict[str, Any]:
    shown = {key: value for key, value in form.items() if key != "csrf"}
    return {
        "form": shown,
        "error": gettext(error.message) if error else None,
        "error_field": error.param if error else None,
        "max_name": MAX_LIST_NAME,
        "max_description": MAX_LIST_DESCRIPTION,
    }


async def _lists_page(
    request: web.Request, seen: Viewer, form: dict[str, str], error: BadParameter | None = None
) -> web.Response:
    assert seen.user_id is not None
    mine = await in_thread(request.app, request.app[CONTRIBUTIONS].lists_of, seen.user_id)
    context = {
        "q": "",
        "lists": mine,
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        **_form_context(form, error),
    }
    return render(request, "lists.html", context, status=400 if error else 200)


async def lists_page(request: web.Request) -> web.Response:
    """``GET /lists``: the signed-in reader's lists, most recently changed first, and the form that
    makes a new one (``record=ID`` puts that record on it too)."""
    seen = viewer(request)
    if seen.user is None:
        return see_other("/signin?next=/lists")
    form = {"record": request.query["record"][:MAX_ID_LENGTH]} if request.query.get("record") else {}
    return await _lists_page(request, seen, form)


async def create_list(request: web.Request) -> web.Response:
    """``POST /lists``: a new list (name, description, public), and the record ``record`` on it if
    given; 303 to the list."""
    seen = require_signed_in(request)
    assert seen.user_id is not None
    form = await form_fields(request)
    try:
        name = check_list_name(form.get("name", ""))
        description = check_list_description(form.get("description", ""))
    except BadParameter as exc:
        return await _lists_page(request, seen, form, exc)
    union_id = await _record_to_add(request, form["record"]) if form.get("record", "").strip() else None
    check_post_rate(request, seen, "new lists")
    new = ReadingList(seen.user_id, name, description, public=_checked(form, "public"))
    stored = await in_thread(request.app, _create, request.app[CATALOGUE], new, union_id)
    count_post(request, seen)
    return see_other(list_url(stored, "?done=created"))


async def _list_page(
    request: web.Request,
    reading_list: ReadingList,
    form: dict[str, str] | None = None,
    error: BadParameter | None = None,
) -> web.Response:
    view = await in_thread(request.app, gather_list, request.app[CATALOGUE], reading_list)
    if form is None:
        form = {"name": reading_list.name, "description": reading_list.description}
        if reading_list.public:
            form["public"] = "1"
    context = {
        "q": "",
        "view": view,
        "list_id": reading_list.id,
        "own": viewer(request).user_id == reading_list.user_id,
        "done": translated(DONE_MESSAGES.get(request.query.get("done", ""))),
        "export_labels": EXPORT_LABELS,
        **_form_context(form, error),
    }
    return render(request, "list.html", context, status=400 if error else 200)


async def list_page(request: web.Request) -> web.Response:
    """``GET /lists/{id}``: the list's permalink; a private list is 403 to all but its owner."""
    found = await _find_list(request)
    if not may_read(viewer(request), found):
        context = {"q": "", "view": None, "list_id": found.id, "message": gettext(PRIVATE_MESSAGE)}
        return render(request, "list.html", context, status=403)
    return await _list_page(request, found)


async def update_list(request: web.Request) -> web.Response:
    """``POST /lists/{id}``: the owner renames the list, describes it, makes it public or private."""
    seen, found = await _own_list(request)
    form = await form_fields(request)
    try:
        name = check_list_name(form.get("name", ""))
        description = check_list_description(form.get("description", ""))
    except BadParameter as exc:
        return await _list_page(request, found, form, exc)
    changed = found.with_changes(
        name=name, description=description, public=_checked(form, "public"), updated=utc_now()
    )
    check_post_rate(request, seen, "changes to lists")
    await in_thread(request.app, request.app[CONTRIBUTIONS].update_list, changed)
    count_post(request, seen)
    return see_other(list_url(found, "?done=updated"))


async def delete_list(request: web.Request) -> web.Response:
    """``POST /lists/{id}/delete``: the owner deletes the list and its entries."""
    _, found = await _own_list(request)
    assert found.id is not None
    await in_thread(request.app, request.app[CONTRIBUTIONS].delete_list, found.id)
    return see_other("/lists?done=deleted")


async def add_entry(request: web.Request) -> web.Response:
    """``POST /lists/{id}/entries``: the owner puts the record ``record`` on the list."""
    seen, found = await _own_list(request)
    return await _put_on_list(request, seen, found, await form_fields(request))


async def add_entry_chosen(request: web.Request) -> web.Response:
    """``POST /lists/entries``: the record page's form, where the list is chosen in a select
    (``list``), so it cannot be in the address."""
    require_signed_in(request)
    form = await form_fields(request)
    chosen = form.get("list", "").strip()
    if not chosen:
        raise BadParameter("list", "choose the list to put the record on")
    seen, found = await _own_list(request, chosen)
    return await _put_on_list(request, seen, found, form)


async def _put_on_list(
    request: web.Request, seen: Viewer, reading_list: ReadingList, form: dict[str, str]
) -> web.Response:
    union_id = await _record_to_add(request, form.get("record", ""))
    check_post_rate(request, seen, "records put on lists")
    await in_thread(request.app, _add_entry, request.app[CATALOGUE], reading_list, union_id)
    count_post(request, seen)
    return see_other(list_url(reading_list, "?done=added"))


async def remove_entry(request: web.Request) -> web.Response:
    """``POST /lists/{id}/entries/remove``: the owner takes the record ``record`` off the list (a
    record no longer on it changes nothing: the button may have been pressed twice)."""
    _, found = await _own_list(request)
    form = await form_fields(request)
    union_id = form.get("record", "").strip()
    if not union_id:
        raise BadParameter("record", "give the union id of the record to take off the list")
    removed = await in_thread(request.app, _remove_entry, request.app[CATALOGUE], found, union_id)
    return see_other(list_url(found, "?done=removed" if removed else ""))


def _privacy(reading_list: ReadingList) -> str:
    # A private list's page, file or JSON is for its owner's eyes: no cache keeps it.
    return "private, no-cache" if reading_list.public else "private, no-store"


async def export_list(request: web.Request) -> web.Response:
    """``GET /lists/{id}/export?format=ris|bibtex|marcxml``: the list's records as a file."""
    found = await _readable_list(request)
    kind = request.query.get("format", "")
    if kind not in EXPORT_KINDS:
        choices = ", ".join(EXPORT_KINDS)
        given = f"{kind[:20]!r} is not an export format" if kind else "say which export format"
        raise BadParameter("format", f"{given}: choose one of {choices}")
    view = await in_thread(request.app, gather_list, request.app[CATALOGUE], found)
    records = named_records(view.records, await request.app[SOURCES].code_tables())
    body, media_type, extension = export_records(records, kind, site_url(request))
    headers = {
        "Content-Type": media_type,
        "Content-Disposition": f'attachment; filename="{file_slug(found)}.{extension}"',
        "Cache-Control": _privacy(found),
    }
    return web.Response(body=body, headers=headers)


async def api_list(request: web.Request) -> web.Response:
    """``GET /api/lists/{id}``: the list and its entries as JSON, under the permalink's rule."""
    found = await _readable_list(request)
    view = await in_thread(request.app, gather_list, request.app[CATALOGUE], found)
    return web.json_response(view.to_json(), headers={"Cache-Control": _privacy(found)})


async def lists_for_record_page(request: web.Request) -> dict[str, Any]:
    """What the record page's "Add to list" form needs (``_record_lists.html``): the signed-in
    reader's lists, most recently changed first (none for anyone else)."""
    seen = viewer(request)
    if seen.user_id is None:
        return {"my_lists": []}
    return {"my_lists": await in_thread(request.app, request.app[CONTRIBUTIONS].lists_of, seen.user_id)}


def add_routes(app: web.Application) -> None:
    app.router.add_get("/lists", lists_page, name="lists")
    app.router.add_post("/lists", create_list, name="create_list")
    app.router.add_post("/lists/entries", add_entry_chosen, name="add_list_entry_chosen")
    app.router.add_get(r"/lists/{id:\d+}", list_page, name="list")
    app.router.add_post(r"/lists/{id:\d+}", update_list, name="update_list")
    app.router.add_post(r"/lists/{id:\d+}/delete", delete_list, name="delete_list")
    app.router.add_post(r"/lists/{id:\d+}/entries", add_entry, name="add_list_entry")
    app.router.add_post(r"/lists/{id:\d+}/entries/remove", remove_entry, name="remove_list_entry")
    app.router.add_get(r"/lists/{id:\d+}/export", export_list, name="export_list")
    app.router.add_get(r"/api/lists/{id:\d+}", api_list, name="api_list")
