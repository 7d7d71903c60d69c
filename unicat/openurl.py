"""A union record as an OpenURL 1.0 ContextObject (ANSI/NISO Z39.88-2004) in Key/Encoded-Value form.

The same text serves two ends: in a COinS span (``<span class="Z3988" title="…">``, "ContextObjects in
Spans"), where Zotero and other reference managers read a page's citations, and appended to a link
resolver's base URL, where a library's resolver finds its own copy, the e-book it licenses or an
inter-library loan form.

The referent is described by value in one of the two Z39.88 KEV metadata formats a catalogue needs:
- ``info:ofi/fmt:kev:mtx:journal`` for serials (``rft.genre=journal``, title in ``rft.jtitle``) and
  articles (``rft.genre=article``, title in ``rft.atitle``), with ``rft.issn``;
- ``info:ofi/fmt:kev:mtx:book`` for everything else (``rft.genre=book``, title in ``rft.btitle``), with
  ``rft.isbn``, ``rft.pub``, ``rft.place``, ``rft.edition`` and ``rft.series``, keys the journal format
  does not have.
Both carry ``rft.au`` once per author (repeatable in both matrices) and ``rft.date`` (the year, as the
matrices' W3CDTF ``YYYY``). Keys the matrices allow once (``isbn``, ``issn``) take the record's first
value. ``rft_id`` identifies the referent: ``info:isbn/…`` / ``info:issn/…`` (the "info" URI namespaces
of ISBN and ISSN) and the record's page in the catalogue. ``rfr_id`` (the referrer) is
``info:sid/{domain}:unicat``, the catalogue's domain name and the software.
"""

from __future__ import annotations

from urllib.parse import quote

from unicat.model import UnionRecord

CTX_VER = "Z39.88-2004"
BOOK_FORMAT = "info:ofi/fmt:kev:mtx:book"
JOURNAL_FORMAT = "info:ofi/fmt:kev:mtx:journal"
# What an OpenURL (a resolver link, not a COinS span) says of itself: version 1.0, and a ContextObject
# in KEV form carried by value in the query string.
URL_VER = "Z39.88-2004"
CTX_KEV_FORMAT = "info:ofi/fmt:kev:mtx:ctx"

# Format (mappings/*.toml) → the journal format's genre; every other format is a book.
JOURNAL_GENRES = {"serial": "journal", "article": "article"}


def referrer_id(domain: str) -> str:
    """The ``rfr_id`` of a catalogue at ``domain`` (an ``info:sid`` URI: the source's domain and name)."""
    return f"info:sid/{domain}:unicat"


def context_object(
    record: UnionRecord, record_url: str | None, referrer: str, authors: list[str] | None = None
) -> list[tuple[str, str]]:
    """The ContextObject of ``record`` as key/value pairs, in order (module docstring); ``record_url``
    is the record's page (a whole URL, or ``None`` when the catalogue's address is unknown);
    ``authors`` the names as citations give them (the pages drop the life dates catalogues add to
    headings, as the exports do), by default the record's headings."""
    pairs: list[tuple[str, str]] = [("ctx_ver", CTX_VER)]
    genre = JOURNAL_GENRES.get(record.format)
    journal = genre is not None
    pairs.append(("rft_val_fmt", JOURNAL_FORMAT if journal else BOOK_FORMAT))
    pairs.append(("rfr_id", referrer))
    if journal and record.issns:
        pairs.append(("rft_id", f"info:issn/{record.issns[0]}"))
    if not journal and record.isbns:
        pairs.append(("rft_id", f"info:isbn/{record.isbns[0]}"))
    if record_url:
        pairs.append(("rft_id", record_url))
    pairs.append(("rft.genre", genre or "book"))
    title_key = {"journal": "rft.jtitle", "article": "rft.atitle", None: "rft.btitle"}[genre]
    pairs.append((title_key, record.title))
    pairs.extend(("rft.au", author) for author in (record.authors if authors is None else authors))
    if record.year is not None and 0 <= record.year <= 9999:
        pairs.append(("rft.date", f"{record.year:04d}"))
    if journal:
        pairs.extend(("rft.issn", issn) for issn in record.issns[:1])
    else:
        pairs.extend(("rft.isbn", isbn) for isbn in record.isbns[:1])
        pairs.extend(("rft.issn", issn) for issn in record.issns[:1])
        optional = (
            ("rft.pub", record.publisher),
            ("rft.place", record.place),
            ("rft.edition", record.edition),
            ("rft.series", record.series[0] if record.series else None),
        )
        pairs.extend((key, value) for key, value in optional if value)
    return [(key, value) for key, value in pairs if value.strip()]


def kev(pairs: list[tuple[str, str]]) -> str:
    """The pairs as Key/Encoded-Value text: ``key=value`` joined by ``&``, every value URL-encoded
    (UTF-8, a space as ``%20``)."""
    return "&".join(f"{key}={quote(value, safe='')}" for key, value in pairs)


def resolver_url(base: str, pairs: list[tuple[str, str]]) -> str:
    """The OpenURL 1.0 link to the resolver at ``base`` for the ContextObject ``pairs``."""
    head = [("url_ver", URL_VER), ("url_ctx_fmt", CTX_KEV_FORMAT)]
    return base + ("&" if "?" in base else "?") + kev(head + pairs)
