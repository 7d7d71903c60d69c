"""What pages and the API show of a search: facets with labels, hits as JSON, holdings by library.

Shared by the HTML handlers and the JSON API so both name libraries, formats and languages the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from search_app.i18n import N_, format_date, format_number, gettext, ngettext
from search_app.labels import Labels
from unicat.availability import held_at, summary
from unicat.availability import site as site_of
from unicat.fields import RECORD_FIELDS
from unicat.link_templates import render as render_link
from unicat.model import Holding, UnionRecord
from unicat.query import SearchQuery, SearchResult
from unicat.readers import RatingSummary

LIBRARY_FACETS = frozenset({"library", "held_at", "available_at"})
"""The facets whose values are library codes, shown by the library's name."""
SITE_FACETS = frozenset({"held_at", "available_at"})
"""The library facets whose values are the directory's libraries (a copy's site), not sources."""


@dataclass(frozen=True, slots=True)
class FacetValue:
    value: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class FacetView:
    """One sidebar facet; ``timed_out`` when the engine dropped it to keep the search fast."""

    name: str
    title: str
    values: list[FacetValue]
    timed_out: bool = False


def value_label(
    facet: str,
    value: str,
    labels: Labels,
    library_names: Mapping[str, str],
    site_names: Mapping[str, str] | None = None,
) -> str:
    """How a facet value is shown: the library's name (a source's from ``library_names``, a library of
    the directory's from ``site_names``), the format or language label, or the value."""
    if facet in SITE_FACETS and site_names is not None:
        return site_names.get(value, value)
    if facet in LIBRARY_FACETS:
        return library_names.get(value, value)
    return labels.label(facet, value)


def facet_views(
    result: SearchResult,
    labels: Labels,
    library_names: Mapping[str, str],
    site_names: Mapping[str, str] | None = None,
    *,
    every: bool = False,
) -> list[FacetView]:
    """The facets to show, in the configured order; decades newest first, other values as counted.
    With ``every`` (the JSON API), the facets the engine counted that the order leaves out follow, so
    that a facet taken out of the sidebar stays in the answers scripts read."""
    views: list[FacetView] = []
    names = list(labels.facet_order)
    if every:
        names.extend(name for name in (*result.facets, *result.facets_timed_out) if name not in names)
    for name in dict.fromkeys(names):
        counts = result.facets.get(name)
        timed_out = name in result.facets_timed_out
        if counts is None and not timed_out:
            continue
        values = [
            FacetValue(c.value, value_label(name, c.value, labels, library_names, site_names), c.count)
            for c in counts or ()
        ]
        if name == "year":
            values.sort(key=lambda v: v.value, reverse=True)
        views.append(FacetView(name, labels.facet_title(name), values, timed_out))
    return views


def holding_json(holding: Holding, library_names: Mapping[str, str], *, barcodes: bool) -> dict[str, Any]:
    """A holding as the API gives it; its ``barcode`` only with ``barcodes`` (a librarian asking)."""
    data = holding.to_json()
    if not barcodes:
        data.pop("barcode", None)
    data["library_name"] = library_names.get(holding.library, holding.library_name)
    return data


def as_of_json(record: UnionRecord, as_of: Mapping[str, str]) -> dict[str, str]:
    """Per library holding the record, when its copies' status was last read: the end of its source's
    last successful harvest or import (a source never harvested is left out). Keyed by each source's
    code, as before the directory, and by the code of each library of the directory keeping a copy
    (:attr:`Holding.site`, the code the record page groups its copies under), which has its source's
    time."""
    return _as_of([(holding.library, holding.site) for holding in record.holdings], as_of)


def _as_of(holdings: list[tuple[str, str | None]], as_of: Mapping[str, str]) -> dict[str, str]:
    """:func:`as_of_json` of a record's holdings given as (library, site) pairs."""
    read: dict[str, str] = {}
    for library, _ in holdings:
        if library in as_of:
            read.setdefault(library, as_of[library])
    for library, site in holdings:
        if site and library in as_of:
            read.setdefault(site, as_of[library])
    return read


def record_json(
    record: UnionRecord, *, barcodes: bool, as_of: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The body of ``/api/records/{id}``: the record's JSON, its holdings' barcodes only with
    ``barcodes``, and ``as_of`` per library. A barcode names one physical copy, which is the
    libraries' business, not the public's."""
    data = record.to_json()
    if not barcodes:
        for holding in data["holdings"]:
            holding.pop("barcode", None)
    data["as_of"] = as_of_json(record, as_of or {})
    return data


def hit_json(
    record: UnionRecord,
    library_names: Mapping[str, str],
    *,
    barcodes: bool,
    as_of: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A result of ``/api/search``: enough to list it (the fields the registry marks ``hit``) and say
    where it is held, whether each copy is available, and as of when."""
    hit: dict[str, Any] = {}
    for field in RECORD_FIELDS:
        if field.hit:
            value = getattr(record, field.name)
            hit[field.name] = list(value) if isinstance(value, list) else value
    hit["holdings"] = [holding_json(h, library_names, barcodes=barcodes) for h in record.holdings]
    hit["as_of"] = as_of_json(record, as_of or {})
    return hit


_HIT_FIELDS = [field.name for field in RECORD_FIELDS if field.hit]
_HOLDING_FIELDS = Holding.__slots__
# What UnionRecord.from_json makes of a field its document leaves out (every other field: None).
_LIST_FIELDS = frozenset(field.name for field in RECORD_FIELDS if field.json == "strings")
_DEFAULTS: dict[str, Any] = {"format": "other"}


def document_hit_json(
    document: Mapping[str, Any],
    library_names: Mapping[str, str],
    *,
    barcodes: bool,
    as_of: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """:func:`hit_json` of the record stored as ``document`` (``UnionRecord.to_json``'s form, as the
    union index keeps it), written from the document: the same JSON, key for key, without building
    the record and each holding as objects and turning them back into dicts (most of the API's own
    work on a page of hits)."""
    holdings: list[dict[str, Any]] = []
    for stored in document.get("holdings", ()):
        # Holding.from_json, then holding_json: the fields that are set, in the holding's order.
        data = {name: value for name in _HOLDING_FIELDS if (value := stored.get(name)) is not None}
        if not barcodes:
            data.pop("barcode", None)
        data["library_name"] = library_names.get(data["library"], stored.get("library_name"))
        holdings.append(data)
    hit: dict[str, Any] = {}
    for name in _HIT_FIELDS:
        if name == "libraries":  # a property of the record: its holdings' libraries
            hit[name] = sorted({holding["library"] for holding in holdings})
        elif name in _LIST_FIELDS:
            hit[name] = list(document.get(name, ()))
        else:
            hit[name] = document.get(name, _DEFAULTS.get(name))
    hit["holdings"] = holdings
    hit["as_of"] = _as_of([(holding["library"], holding.get("site")) for holding in holdings], as_of or {})
    return hit


def coded_data(record: UnionRecord, labels: Labels) -> list[tuple[str, str]]:
    """What the record page lists of the fields the registry gives a ``label``: that label, and the
    record's values by their labels (``mappings/facets.toml``), for the fields the record has."""
    shown: list[tuple[str, str]] = []
    for field in RECORD_FIELDS:
        if field.label is None:
            continue
        value = getattr(record, field.name)
        values = value if isinstance(value, list) else [value] if value else []
        if values:
            # The registry's English label is a facet title of mappings/facets.toml too: one message.
            shown.append(
                (gettext(field.label), ", ".join(labels.label(field.name, str(item)) for item in values))
            )
    return shown


def search_json(
    query: SearchQuery,
    result: SearchResult,
    labels: Labels,
    library_names: Mapping[str, str],
    ratings: Mapping[str, RatingSummary] | None = None,
    *,
    barcodes: bool = False,
    as_of: Mapping[str, str] | None = None,
    site_names: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The body of ``/api/search``; each hit has its readers' ``rating`` (``null`` if none), its
    holdings' barcodes only with ``barcodes``, and when each library's data was read (``as_of``)."""
    rated = ratings or {}
    if result.documents is not None:
        hits = [
            document_hit_json(document, library_names, barcodes=barcodes, as_of=as_of)
            for document in result.documents
        ]
    else:
        hits = [hit_json(record, library_names, barcodes=barcodes, as_of=as_of) for record in result.hits]
    for hit in hits:
        summary = rated.get(hit["id"])
        hit["rating"] = summary.to_json() if summary is not None else None
    return {
        "total": result.total,
        "page": query.page,
        "page_size": query.page_size,
        "hits": hits,
        "filters": {name: list(values) for name, values in query.filters.items()},
        "exclusions": {name: list(values) for name, values in query.exclusions.items()},
        "facets": {
            view.name: [{"value": v.value, "label": v.label, "count": v.count} for v in view.values]
            for view in facet_views(result, labels, library_names, site_names, every=True)
        },
        "facets_timed_out": list(result.facets_timed_out),
        "notices": [notice.message for notice in query.notices],
        "took_ms": round(result.took_ms, 1),
    }


# The columns of a library's table of copies, in order; a column no copy fills is left out.
# English names, also the keys the record page tests; shown translated (the ``translate`` filter).
HOLDING_COLUMNS = (
    N_("Branch"),
    N_("Call number"),
    N_("Location"),
    N_("Document type"),
    N_("Availability"),
    N_("Barcode"),
)

# A copy's status as a reader reads it (unicat/availability.py); on loan has its own, dated sentence.
STATUS_TEXTS = {
    "available": N_("Available"),
    "on_loan": N_("On loan"),
    "not_for_loan": N_("Not for loan"),
    "lost": N_("Lost"),
    "damaged": N_("Damaged"),
    "withdrawn": N_("Withdrawn"),
}


def status_text(status: str | None, due_date: str | None = None) -> str:
    """A copy's status in the reader's language: "On loan until <the date as the language writes
    it>", "Not for loan"…, or "Status unknown" when its library did not say."""
    if status == "on_loan" and due_date:
        return gettext("On loan until %(date)s") % {"date": format_date(due_date)}
    if status in STATUS_TEXTS:
        return gettext(STATUS_TEXTS[status])
    return gettext("Status unknown")


def availability_line(record: UnionRecord) -> str:
    """The results' one line of a record's availability: "Available at 2 libraries", else why not."""
    found = summary(record.holdings)
    if found.available_at:
        count = len(found.available_at)
        return ngettext("Available at %(num)s library", "Available at %(num)s libraries", count) % {
            "num": format_number(count)
        }
    return status_text(found.status, found.due_date)


def held_by(record: UnionRecord) -> list[str]:
    """The libraries a result says hold it: those keeping its copies (the ``held_at`` facet's values,
    so the line and the sidebar name the same libraries), else its sources when it lists no copy."""
    return list(held_at(record.holdings)) or list(record.libraries)


def availability_status(record: UnionRecord) -> str:
    """The status :func:`availability_line` speaks of (``available``, ``on_loan``… or ``unknown``): the
    class that styles the line, which never says more than its text."""
    return summary(record.holdings).status or "unknown"


def _column_filled(column: str, holding: Holding) -> bool:
    if column == "Availability":
        return holding.status is not None
    if column == "Branch":
        return bool(holding.branch or holding.branch_name)
    if column == "Call number":
        return bool(holding.call_number)
    if column == "Location":
        # The location cell also says where a copy is deposited and carries the library's note.
        return bool(holding.location or holding.depositary or holding.depositary_name or holding.note)
    if column == "Document type":
        return bool(holding.item_type)
    return bool(holding.barcode)


@dataclass(frozen=True, slots=True)
class LibraryHoldings:
    """The copies one library holds of a record.

    A library is one of the directory's (the copies' ``site``), else a source, or one branch of a
    source whose ``[libraries]`` table names its branch codes (a network exporting the items of all its
    libraries): ``code`` is the library's, the source's or the branch's, and ``source_name`` names the
    source of a library or branch that is not the source itself.
    """

    code: str
    name: str
    holdings: list[Holding]
    source_name: str | None = None
    opac_url: str | None = None
    """The record in this library's own catalogue, when the library has a link template."""
    # When the status of these copies was read: the end of the source's last successful harvest or
    # import (None: never).
    as_of: str | None = None

    def status_text(self, holding: Holding) -> str:
        """What the page says of one copy's availability."""
        return status_text(holding.status, holding.due_date)

    @property
    def site(self) -> str:
        """The library these copies count for in the ``held_at`` facet and the first-held dates
        (:attr:`UnionRecord.held_since`): a branch's copies count for its source."""
        return site_of(self.holdings[0])

    @property
    def status_unknown(self) -> bool:
        """Whether the library said nothing of any copy's status (no column then; one line says so)."""
        return all(holding.status is None for holding in self.holdings)

    @property
    def columns(self) -> list[str]:
        """The columns of this library's table: those at least one copy fills (a column of dashes
        says nothing to a reader)."""
        return [c for c in HOLDING_COLUMNS if any(_column_filled(c, h) for h in self.holdings)]


def holdings_by_library(
    record: UnionRecord,
    library_names: Mapping[str, str],
    first: str | None = None,
    *,
    barcodes: bool = False,
    opac_templates: Mapping[str, str] | None = None,
    as_of: Mapping[str, str] | None = None,
    site_names: Mapping[str, str] | None = None,
) -> list[LibraryHoldings]:
    """Holdings grouped by library, libraries by name (then code), copies in the order the library
    listed them; a named branch is a library of its own. The holdings of library ``first`` (a
    librarian's own) come before the others. Barcodes are kept only with ``barcodes`` (for
    librarians): the page cannot show what it is not given. A library whose code (a branch's, else its
    source's) has one of ``opac_templates`` links to the record in its own catalogue. ``as_of``: per
    source, when its data was last read. Copies the directory places at a library (their ``site``)
    are grouped by that library, named by ``site_names`` (in the reader's language)."""
    templates = opac_templates or {}
    read = as_of or {}
    sites = site_names or {}
    groups: dict[tuple[str, str | None, str | None], list[Holding]] = {}
    for holding in record.holdings:
        branch = holding.branch if holding.branch_name and not holding.site else None
        if holding.barcode and not barcodes:
            holding = replace(holding, barcode=None)
        groups.setdefault((holding.library, branch, holding.site), []).append(holding)
    result: list[LibraryHoldings] = []
    for (code, branch, site), items in groups.items():
        source_name = library_names.get(code, items[0].library_name)
        # The local id is the source's: a branch shares its source's records.
        template = templates.get(site or branch or code) or templates.get(code)
        opac_url = render_link(template, record, code) if template else None
        if site is not None:
            shown_source = source_name if site != code else None
            group = LibraryHoldings(
                site, sites.get(site, site), items, shown_source, opac_url, read.get(code)
            )
            result.append(group)
        elif branch is None:
            result.append(LibraryHoldings(code, source_name, items, opac_url=opac_url, as_of=read.get(code)))
        else:
            name = items[0].branch_name or branch
            result.append(LibraryHoldings(branch, name, items, source_name, opac_url, read.get(code)))
    result.sort(
        key=lambda group: (
            first is None or first not in (group.code, group.holdings[0].library),
            group.name.casefold(),
            group.code,
            group.source_name or "",
        )
    )
    return result
