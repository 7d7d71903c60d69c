"""Links out over real HTTP: each library's link to the record in its own catalogue, COinS in the results
and on the record page (read back from the served HTML and parsed as KEV), the OpenURL resolver link, and
the one-record exports read by third-party parsers (rispy, pybtex, the MARC21 slim schema and pymarc).

Expected values come from the records below and from Z39.88-2004 (the KEV book and journal formats), the
RIS and BibTeX formats, never from the code under test.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import lxml.html
import pymarc
import pytest
import rispy
from pybtex.database import parse_string

from search_app.app import make_app
from tests.search_app.accounts_http import Site, csrf_of
from tests.search_app.search_app_catalogue import catalogue_settings
from tests.support.oai_schemas import validate_xml
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.model import Holding, Source, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

SITE = "https://catalogue.example.org"
RESOLVER = "https://resolver.example.org/openurl"
BOOK = UnionRecord(
    id="u-pp",
    title="Pride & prejudice",
    authors=["Austen, Jane, 1775-1817", "Maine, Harry"],
    isbns=["9780006480280"],
    year=1980,
    publisher="Fontana",
    place="London",
    edition="2nd ed.",
    format="book",
    holdings=[
        Holding("lyon", "Bibliothèque municipale de Lyon", "R 123"),
        Holding("scpo", "Sciences Po", "8°7"),
        Holding("uva", "Universiteit van Amsterdam", "UB A 1"),
    ],
    sources=[SourceRef("lyon", "BIB 42/7"), SourceRef("scpo", "054273242")],
)
SERIAL = UnionRecord(
    id="u-perio",
    title="Revue d'économie politique",
    issns=["0373-2630"],
    year=1887,
    format="serial",
    holdings=[Holding("scpo", "Sciences Po", "P 12")],
    sources=[SourceRef("scpo", "p12")],
)
# Lyon finds records by its own number; Amsterdam by ISBN; Sciences Po has no template. The record has
# no member from Amsterdam, so a template of Amsterdam's by local id would give no link.
TEMPLATES = {
    "lyon": "https://opac.lyon.example/record?id={local_id}",
    "uva": "https://uva.example/search/isbn/{isbn}",
}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return catalogue_settings(
        tmp_path,
        openurl_resolver=RESOLVER,
        oai_base_url=f"{SITE}/oai",
        oai_repository_identifier="catalogue.example.org",
    )


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    with open_catalogue(settings) as opened:
        for code, name in (("lyon", "Lyon"), ("scpo", "Sciences Po"), ("uva", "Amsterdam")):
            opened.records.save_source(Source(code, name))
        write_union_generation(opened.records, opened.index, [BOOK, SERIAL], {"u-old": "u-pp"})
        # The templates come from the library directory, as the app reads it.
        opened.libraries.put_libraries(
            [Library(code, code.title(), source=code, opac_url=url) for code, url in TEMPLATES.items()]
        )
        yield opened


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    app = make_app(catalogue, settings)
    served = await Site(app).start()
    yield served
    await served.close()


async def _page(site: Site, path: str) -> lxml.html.HtmlElement:
    browser = await site.browser()
    response = await browser.get(path)
    assert response.status == 200, path
    return lxml.html.fromstring(await response.text())


def _kev(text: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in parse_qsl(text, keep_blank_values=True, strict_parsing=True):
        values.setdefault(key, []).append(value)
    return values


BOOK_CONTEXT = {
    "ctx_ver": ["Z39.88-2004"],
    "rft_val_fmt": ["info:ofi/fmt:kev:mtx:book"],
    "rfr_id": ["info:sid/catalogue.example.org:unicat"],
    "rft_id": ["info:isbn/9780006480280", f"{SITE}/record/u-pp"],
    "rft.genre": ["book"],
    "rft.btitle": ["Pride & prejudice"],
    # Headings without their life dates, as citations give names.
    "rft.au": ["Austen, Jane", "Maine, Harry"],
    "rft.date": ["1980"],
    "rft.isbn": ["9780006480280"],
    "rft.pub": ["Fontana"],
    "rft.place": ["London"],
    "rft.edition": ["2nd ed."],
}
SERIAL_CONTEXT = {
    "ctx_ver": ["Z39.88-2004"],
    "rft_val_fmt": ["info:ofi/fmt:kev:mtx:journal"],
    "rfr_id": ["info:sid/catalogue.example.org:unicat"],
    "rft_id": ["info:issn/0373-2630", f"{SITE}/record/u-perio"],
    "rft.genre": ["journal"],
    "rft.jtitle": ["Revue d'économie politique"],
    "rft.date": ["1887"],
    "rft.issn": ["0373-2630"],
}


async def test_each_library_with_a_template_links_to_its_own_catalogue(site: Site) -> None:
    doc = await _page(site, "/record/u-pp")
    links: dict[str, list[str]] = {}
    for group in doc.find_class("holdings-library"):
        code = group.find_class("holdings-library__code")[0].text_content().strip()
        links[code] = [a.get("href") for a in group.cssselect(".holdings-library__opac a")]
    assert links == {
        # "BIB 42/7" percent-encoded whole: the space and the slash.
        "lyon": ["https://opac.lyon.example/record?id=BIB%2042%2F7"],
        "scpo": [],
        "uva": ["https://uva.example/search/isbn/9780006480280"],
    }
    assert (
        "See it in this library's catalogue" in doc.cssselect(".holdings-library__opac a")[0].text_content()
    )


async def test_a_library_added_on_the_librarians_page_links_at_once(site: Site, catalogue: Catalogue) -> None:
    await _page(site, "/record/u-pp")  # the directory is read and kept before the library is added
    admin = await site.signed_in(catalogue.accounts, "admin@example.org", "admin")
    form = {
        "code": "scpo",
        "name": "Sciences Po",
        "source": "scpo",
        "opac_url": "https://catalogue.sciencespo.example/notice/{local_id}",
        "csrf": await csrf_of(admin),
    }
    answer = await admin.post("/librarians/libraries", data=form, allow_redirects=False)
    assert answer.status == 303, await answer.text()
    doc = await _page(site, "/record/u-pp")
    scpo = [
        group
        for group in doc.find_class("holdings-library")
        if group.find_class("holdings-library__code")[0].text_content().strip() == "scpo"
    ]
    assert [a.get("href") for a in scpo[0].cssselect(".holdings-library__opac a")] == [
        "https://catalogue.sciencespo.example/notice/054273242"  # its member record from scpo
    ]


async def test_the_record_page_carries_its_coins_and_resolver_link(site: Site) -> None:
    for path, expected in (("/record/u-pp", BOOK_CONTEXT), ("/record/u-perio", SERIAL_CONTEXT)):
        doc = await _page(site, path)
        [span] = doc.cssselect("span.Z3988")
        assert _kev(span.get("title")) == expected
        [resolver] = doc.cssselect(".record__resolver a")
        assert resolver.text_content().strip() == "Find it via your library's link resolver"
        href = resolver.get("href")
        assert href.startswith(RESOLVER + "?")
        query = _kev(urlsplit(href).query)
        assert query.pop("url_ver") == ["Z39.88-2004"]
        assert query.pop("url_ctx_fmt") == ["info:ofi/fmt:kev:mtx:ctx"]
        assert query == expected


async def test_every_hit_of_the_results_carries_its_coins(site: Site) -> None:
    doc = await _page(site, "/search")
    cards = doc.find_class("result-card")
    assert len(cards) == 2
    contexts = {}
    for card in cards:
        record_id = card.cssselect(".result-card__title a")[0].get("href").rsplit("/", 1)[1]
        [span] = card.cssselect("span.Z3988")
        contexts[record_id] = _kev(span.get("title"))
        [resolver] = card.cssselect(".result-card__resolver a")
        assert _kev(urlsplit(resolver.get("href")).query)["rft_id"] == contexts[record_id]["rft_id"]
    assert contexts == {"u-pp": BOOK_CONTEXT, "u-perio": SERIAL_CONTEXT}


async def test_no_resolver_link_without_a_resolver(catalogue: Catalogue, settings: Settings) -> None:
    for code in TEMPLATES:
        catalogue.libraries.remove_library(code)
    served = await Site(make_app(catalogue, settings.replace(openurl_resolver=""))).start()
    try:
        for path in ("/record/u-pp", "/search"):
            doc = await _page(served, path)
            assert doc.cssselect("span.Z3988")
            assert not doc.cssselect(".record__resolver, .result-card__resolver")
            assert not doc.cssselect(".holdings-library__opac")  # no templates in the directory either
    finally:
        await served.close()


async def _download(site: Site, record_id: str, kind: str) -> tuple[bytes, str, str]:
    browser = await site.browser()
    response = await browser.get(f"/record/{record_id}/export", params={"format": kind})
    assert response.status == 200, kind
    return await response.read(), response.headers["Content-Type"], response.headers["Content-Disposition"]


async def test_the_record_page_links_to_its_three_exports(site: Site) -> None:
    doc = await _page(site, "/record/u-pp")
    links = {a.text_content(): a.get("href") for a in doc.cssselect(".record__exports a")}
    assert links == {
        "RIS": "/record/u-pp/export?format=ris",
        "BibTeX": "/record/u-pp/export?format=bibtex",
        "MARCXML": "/record/u-pp/export?format=marcxml",
    }
    browser = await site.browser()
    for href in links.values():
        assert (await browser.get(href)).status == 200


async def test_ris_export_read_by_rispy(site: Site) -> None:
    body, media_type, disposition = await _download(site, "u-pp", "ris")
    assert media_type == "application/x-research-info-systems"
    assert disposition == 'attachment; filename="u-pp.ris"'
    [entry] = rispy.loads(body.decode("utf-8"))
    assert entry["type_of_reference"] == "BOOK"
    assert entry["title"] == BOOK.title
    assert entry["authors"] == ["Austen, Jane", "Maine, Harry"]
    assert entry["year"] == "1980"
    assert entry["publisher"] == "Fontana" and entry["place_published"] == "London"
    assert entry["issn"] == "9780006480280"  # rispy reads SN (ISBN or ISSN) as "issn"
    assert entry["urls"] == [f"{SITE}/record/u-pp"]


async def test_bibtex_export_read_by_pybtex(site: Site) -> None:
    body, media_type, disposition = await _download(site, "u-perio", "bibtex")
    assert media_type == "application/x-bibtex; charset=utf-8"
    assert disposition == 'attachment; filename="u-perio.bib"'
    data = parse_string(body.decode("utf-8"), "bibtex")
    [(key, entry)] = data.entries.items()
    assert key == "u-perio" and entry.type == "misc"
    # Only the title's first letter is a capital: nothing to brace against a style's lower-casing.
    assert entry.fields["title"] == "Revue d'économie politique"
    assert entry.fields["year"] == "1887" and entry.fields["issn"] == "0373-2630"
    assert entry.fields["url"] == f"{SITE}/record/u-perio"


async def test_marcxml_export_is_valid_marc21_slim(site: Site) -> None:
    body, media_type, disposition = await _download(site, "u-pp", "marcxml")
    assert media_type.split(";")[0] == "application/marcxml+xml"
    assert disposition == 'attachment; filename="u-pp.xml"'
    validate_xml(body, "one-record marcxml export")
    [record] = pymarc.parse_xml_to_array(io.BytesIO(body))
    assert record["001"].data == "u-pp"
    assert record["020"]["a"] == "9780006480280"
    assert record["245"]["a"].startswith("Pride & prejudice")
    assert sorted(field["a"] for field in record.get_fields("852")) == ["lyon", "scpo", "uva"]


async def test_bad_exports_are_refused_clearly(site: Site) -> None:
    browser = await site.browser()
    unknown = await browser.get("/record/u-pp/export", params={"format": "endnote"})
    assert unknown.status == 400
    text = lxml.html.fromstring(await unknown.text()).text_content()
    assert "'endnote' is not an export format" in text and "ris, bibtex, marcxml" in text
    missing = await browser.get("/record/u-pp/export")
    assert missing.status == 400
    assert "say which export format" in lxml.html.fromstring(await missing.text()).text_content()
    absent = await browser.get("/record/u-none/export", params={"format": "ris"})
    assert absent.status == 404
    moved = await browser.get("/record/u-old/export", params={"format": "bibtex"}, allow_redirects=False)
    assert moved.status == 301
    assert moved.headers["Location"] == "/record/u-pp/export?format=bibtex"
