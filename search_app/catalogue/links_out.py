"""What takes a record out of the catalogue: its COinS for reference managers, the link to the
libraries' OpenURL resolver, and the download of the record as RIS, BibTeX or MARCXML.

The ContextObject names the record's page under the catalogue's public address (the one exports use,
:func:`search_app.readers.reading_lists.site_url`), so Zotero saves a link back to the record, and its
authors as the exports do, without the life dates of catalogue headings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from aiohttp import web

from search_app.catalogue.fetch import find_record
from search_app.links import record_export_url
from search_app.readers.citations import (
    EXPORT_KINDS,
    citation_key,
    citation_name,
    export_records,
    record_url,
)
from search_app.readers.reading_lists import EXPORT_LABELS, site_url
from search_app.state import SETTINGS
from unicat.errors import BadParameter
from unicat.model import UnionRecord
from unicat.openurl import context_object, kev, referrer_id, resolver_url


@dataclass(frozen=True, slots=True)
class CiteLinks:
    """A record's ContextObject as a COinS span's title, and its resolver link (``None``: no resolver
    is configured)."""

    coins: str
    resolver: str | None


def cite_links_of(request: web.Request, records: Iterable[UnionRecord]) -> dict[str, CiteLinks]:
    """The :class:`CiteLinks` of each record, by union id."""
    settings = request.app[SETTINGS]
    base = site_url(request)
    referrer = referrer_id(settings.oai_repository_identifier)
    resolver = settings.openurl_resolver
    links: dict[str, CiteLinks] = {}
    for record in records:
        names = [name for name in map(citation_name, record.authors) if name]
        pairs = context_object(record, record_url(base, record.id), referrer, names)
        links[record.id] = CiteLinks(kev(pairs), resolver_url(resolver, pairs) if resolver else None)
    return links


def export_links(record_id: str) -> list[tuple[str, str]]:
    """The record's downloads as (format's name, URL), in :data:`EXPORT_KINDS` order."""
    return [(EXPORT_LABELS[kind], record_export_url(record_id, kind)) for kind in EXPORT_KINDS]


async def export_record(request: web.Request) -> web.Response:
    """``GET /record/{id}/export?format=ris|bibtex|marcxml``: one record as a file. A merged-away id
    moves to its record's export, as its page does."""
    kind = request.query.get("format", "")
    if kind not in EXPORT_KINDS:
        given = f"{kind[:20]!r} is not an export format" if kind else "say which export format"
        raise BadParameter("format", f"{given}: choose one of {', '.join(EXPORT_KINDS)}")
    found = await find_record(request, request.match_info["id"])
    if isinstance(found, str):
        raise web.HTTPMovedPermanently(record_export_url(found, kind))
    body, media_type, extension = export_records([found], kind, site_url(request))
    name = citation_key(found.id, set())
    headers = {
        "Content-Type": media_type,
        "Content-Disposition": f'attachment; filename="{name}.{extension}"',
    }
    return web.Response(body=body, headers=headers)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/record/{id}/export", export_record, name="record_export")
