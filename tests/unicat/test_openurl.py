"""OpenURL 1.0 ContextObjects (Z39.88-2004 KEV) of union records, read back with the standard library.

The keys allowed are those of the registered KEV matrices (info:ofi/fmt:kev:mtx:book and :journal) and
the ContextObject's own (Z39.88-2004 Part 2); the values are the records' data.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from unicat.model import UnionRecord
from unicat.openurl import context_object, kev, referrer_id, resolver_url

# Keys of the ContextObject (ctx_ver, the referent's format and ids, the referrer) and of each matrix.
CONTEXT_KEYS = {"ctx_ver", "rft_val_fmt", "rft_id", "rfr_id"}
BOOK_KEYS = {
    *("aulast", "aufirst", "auinit", "auinit1", "auinitm", "ausuffix", "au", "aucorp", "btitle", "atitle"),
    *("title", "place", "pub", "date", "edition", "tpages", "series", "spage", "epage", "pages", "issn"),
    *("isbn", "bici", "genre"),
}
JOURNAL_KEYS = {
    *("aulast", "aufirst", "auinit", "auinit1", "auinitm", "ausuffix", "au", "aucorp", "atitle", "title"),
    *("jtitle", "stitle", "date", "chron", "ssn", "quarter", "volume", "part", "issue", "spage", "epage"),
    *("pages", "artnum", "issn", "eissn", "isbn", "coden", "sici", "genre"),
}
# Keys a matrix allows once (Max 1); rft.au is repeatable.
ONCE = {"ctx_ver", "rft_val_fmt", "rfr_id", "rft.genre", "rft.btitle", "rft.jtitle", "rft.date", "rft.isbn"}
ONCE |= {"rft.issn", "rft.pub", "rft.place", "rft.edition", "rft.series"}

BOOK = UnionRecord(
    id="u-pp",
    title="Pride & prejudice: a novel",
    authors=["Austen, Jane, 1775-1817", "Maine, Harry"],
    isbns=["9780006480280", "0006480284"],
    year=1980,
    publisher="Fontana",
    place="London",
    edition="2nd ed.",
    series=["Fontana classics"],
    format="book",
)
SERIAL = UnionRecord(
    id="u-perio", title="Revue d'économie politique", issns=["0373-2630"], year=1887, format="serial"
)
URL = "https://catalogue.example.org/record/u-pp"
REFERRER = referrer_id("catalogue.example.org")


def _read(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True, strict_parsing=True)


def _check_keys(pairs: list[tuple[str, str]], matrix: set[str]) -> None:
    keys = [key for key, _ in pairs]
    assert {key for key in keys if not key.startswith("rft.")} <= CONTEXT_KEYS
    assert {key.removeprefix("rft.") for key in keys if key.startswith("rft.")} <= matrix
    assert all(keys.count(key) == 1 for key in ONCE if key in keys)


def test_a_book_is_described_in_the_book_format() -> None:
    pairs = _read(kev(context_object(BOOK, URL, REFERRER)))
    _check_keys(pairs, BOOK_KEYS)
    values: dict[str, list[str]] = {}
    for key, value in pairs:
        values.setdefault(key, []).append(value)
    assert values == {
        "ctx_ver": ["Z39.88-2004"],
        "rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"],
        "rfr_id": ["info:sid/catalogue.example.org:unicat"],
        "rft_id": ["info:isbn/9780006480280", URL],
        "rft.genre": ["book"],
        "rft.btitle": [BOOK.title],
        "rft.au": BOOK.authors,
        "rft.date": ["1980"],
        "rft.isbn": ["9780006480280"],
        "rft.pub": ["Fontana"],
        "rft.place": ["London"],
        "rft.edition": ["2nd ed."],
        "rft.series": ["Fontana classics"],
    }


def test_authors_may_be_given_as_citations_name_them() -> None:
    pairs = context_object(BOOK, URL, REFERRER, ["Austen, Jane", "Maine, Harry"])
    assert [value for key, value in pairs if key == "rft.au"] == ["Austen, Jane", "Maine, Harry"]


def test_a_serial_is_described_in_the_journal_format() -> None:
    pairs = _read(kev(context_object(SERIAL, None, REFERRER)))
    _check_keys(pairs, JOURNAL_KEYS)
    assert dict(pairs) == {
        "ctx_ver": "Z39.88-2004",
        "rft_val_fmt": "info:ofi/fmt:kev:mtx:journal",
        "rfr_id": "info:sid/catalogue.example.org:unicat",
        "rft_id": "info:issn/0373-2630",
        "rft.genre": "journal",
        "rft.jtitle": SERIAL.title,
        "rft.date": "1887",
        "rft.issn": "0373-2630",
    }


def test_values_are_url_encoded_so_the_text_splits_only_at_its_own_ampersands() -> None:
    text = kev(context_object(BOOK, URL, REFERRER))
    assert " " not in text and "Pride%20%26%20prejudice" in text
    assert text.count("&") == len(_read(text)) - 1


def test_a_resolver_link_is_an_openurl_by_value() -> None:
    pairs = context_object(BOOK, URL, REFERRER)
    for base, query in (
        ("https://resolver.example.org/openurl", ""),
        ("https://r.example/sfx?inst=3", "inst=3&"),
    ):
        link = resolver_url(base, pairs)
        assert link.startswith(base)
        read = _read(urlsplit(link).query)
        head = [("url_ver", "Z39.88-2004"), ("url_ctx_fmt", "info:ofi/fmt:kev:mtx:ctx")]
        assert read == _read(query + kev(head + pairs))
