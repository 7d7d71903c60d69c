"""Union records as an Atom feed (RFC 4287): the text of the document, nothing else.

A feed reader polls the feed and shows each entry once, by its ``atom:id``: an entry's id is the
record page's absolute URL, the same in every feed that lists the record (a saved search's alert, the
network's and a library's new titles), so a reader subscribed to two feeds recognises the title. Its
``updated`` is the instant the caller says the record became new there (first entered the catalogue,
or first held by the library), never the record's own datestamp, which re-harvests and re-indexing
move: a re-index must not make old titles look new again.

Absolute URLs are built from a base the caller gives, the catalogue's ``site_url`` where set (see
:func:`search_app.feeds.http.feed_base`): ids built from a request's ``Host`` would change with the
name the server was reached by.

MARC data carries control characters and odd Unicode from damaged records. Record text is made one
line without control codes (:func:`search_app.display_text.one_line`), and every value goes through
:func:`unicat.record_xml.escape`, which escapes markup and drops what XML 1.0 cannot hold, so the
document is well-formed whatever the records hold. Built as strings, like the OAI-PMH responses,
because a feed is a list of small, flat elements. The summary's words are translated in the current
language (:mod:`search_app.i18n`); the caller sets it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urlsplit

from search_app.display_text import one_line
from search_app.i18n import gettext
from unicat.clock import format_time
from unicat.model import Holding, UnionRecord
from unicat.record_xml import escape

ATOM_NS = "http://www.w3.org/2005/Atom"
ATOM_MEDIA_TYPE = "application/atom+xml"
GENERATOR = "Unicat"


@dataclass(frozen=True, slots=True)
class Feed:
    """What the feed says of itself. ``id`` is a stable absolute IRI chosen by the caller (it must
    not change when the feed's address does: a reader keys its subscription on it); ``self_url`` is
    the feed's own address, ``page_url`` the HTML page it mirrors; ``author`` names the catalogue, the
    author of every entry that names no contributor; ``updated`` is the last time the feed changed
    (an aware time); ``language`` its ``xml:lang``."""

    id: str
    title: str
    updated: datetime
    self_url: str
    page_url: str
    author: str
    language: str = "en"
    subtitle: str = ""


@dataclass(frozen=True, slots=True)
class Entry:
    """One record of the feed and the instant it became new there (an aware time)."""

    record: UnionRecord
    updated: datetime


def record_url(base_url: str, record_id: str) -> str:
    """The record page's absolute address: an entry's id and its link."""
    return f"{base_url.rstrip('/')}/record/{quote(record_id, safe='')}"


def write_feed(
    feed: Feed, entries: Iterable[Entry], base_url: str, library_names: Mapping[str, str] | None = None
) -> str:
    """The Atom document of ``feed`` with ``entries`` in the order given. ``base_url`` is the
    catalogue's absolute address; ``library_names`` names libraries by code in the reader's
    language (the directory's names), else the names the records carry are shown.
    :class:`ValueError` when an id or address is not absolute, or a time is naive."""
    for name, value in (("id", feed.id), ("self_url", feed.self_url), ("page_url", feed.page_url)):
        _check_absolute(f"the feed's {name}", value)
    _check_absolute("the base URL", base_url)
    names = library_names or {}
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n',
        f'<feed xmlns="{ATOM_NS}" xml:lang="{escape(feed.language)}">',
        f"<id>{escape(feed.id)}</id>",
        f"<title>{escape(one_line(feed.title))}</title>",
    ]
    if feed.subtitle:
        parts.append(f"<subtitle>{escape(one_line(feed.subtitle))}</subtitle>")
    parts += [
        f"<updated>{_instant(feed.updated)}</updated>",
        f'<link rel="self" type="{ATOM_MEDIA_TYPE}" href="{escape(feed.self_url)}"/>',
        f'<link rel="alternate" type="text/html" href="{escape(feed.page_url)}"/>',
        f"<author><name>{escape(one_line(feed.author))}</name></author>",
        f"<generator>{GENERATOR}</generator>",
    ]
    parts.extend(_entry(entry, base_url, names) for entry in entries)
    parts.append("</feed>\n")
    return "".join(parts)


def _entry(entry: Entry, base_url: str, names: Mapping[str, str]) -> str:
    record = entry.record
    url = escape(record_url(base_url, record.id))
    parts = [
        "<entry>",
        f"<id>{url}</id>",
        f"<title>{escape(_title(record))}</title>",
        f"<updated>{_instant(entry.updated)}</updated>",
        f'<link rel="alternate" type="text/html" href="{url}"/>',
    ]
    parts.extend(f"<author><name>{escape(name)}</name></author>" for name in _contributors(record))
    parts.extend(f'<category term="{escape(term)}"/>' for term in _subjects(record))
    summary = summary_text(record, names)
    if summary:
        parts.append(f"<summary>{escape(summary)}</summary>")
    parts.append("</entry>")
    return "".join(parts)


def summary_text(record: UnionRecord, names: Mapping[str, str]) -> str:
    """What a reader decides on: who is responsible, who published it and when, who holds it."""
    published = ", ".join(part for part in (_unpunctuated(record.publisher), str(record.year or "")) if part)
    libraries = holding_libraries(record.holdings, names)
    held = gettext("Held by %(libraries)s") % {"libraries": ", ".join(libraries)} if libraries else ""
    return ". ".join(part for part in (_unpunctuated(record.responsibility), published, held) if part)


def _unpunctuated(text: str | None) -> str:
    """A field without the ISBD punctuation that ends it in MARC (``Gallimard,``, ``par X.``): the
    summary puts its own between the parts."""
    return one_line(text).rstrip(" /:;,.")


def holding_libraries(holdings: Iterable[Holding], names: Mapping[str, str]) -> list[str]:
    """The names of the libraries holding copies, each once, in the order of the holdings: the
    directory's name (``names``, by the copy's library of the directory or its source) where given,
    else the name the record carries."""
    seen: dict[str, str] = {}
    for holding in holdings:
        code = holding.site or holding.library
        if code not in seen:
            fallback = holding.library_name if code == holding.library else code
            seen[code] = one_line(names.get(code)) or one_line(fallback) or code
    return list(seen.values())


def _title(record: UnionRecord) -> str:
    """The entry's title: atom:title must be there, and a damaged record may have lost 245."""
    return one_line(record.title) or one_line(record.responsibility) or record.id


def _contributors(record: UnionRecord) -> list[str]:
    names = [contributor.name for contributor in record.contributors] or record.authors
    return _distinct(names)


def _subjects(record: UnionRecord) -> list[str]:
    return _distinct(record.subjects)


def _distinct(values: Iterable[str]) -> list[str]:
    """Each value once, blank ones left out (an empty atom:name or category term says nothing)."""
    cleaned = (one_line(value) for value in values)
    return list(dict.fromkeys(value for value in cleaned if value))


def _instant(moment: datetime) -> str:
    """An RFC 3339 date-time in UTC (``2026-12-07T09:30:00Z``)."""
    if moment.tzinfo is None:
        raise ValueError("a feed's times must be aware datetimes (UTC)")
    return format_time(moment)


def _check_absolute(what: str, value: str) -> None:
    parts = urlsplit(value)
    if not parts.scheme or not (parts.netloc or parts.scheme in ("tag", "urn")):
        raise ValueError(f"{what} must be an absolute IRI (https://…, tag:…, urn:…): {value[:100]!r}")
