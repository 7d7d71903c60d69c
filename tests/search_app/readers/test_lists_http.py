"""Readers' reading lists over real HTTP, on both engines: making, renaming, publishing and deleting a
list; records on and off it, newest first; who may read and who may change (a private list is 403 to
everyone but its owner, a public one is read by all and changed by its owner only); the exports read
back by third-party parsers (rispy, pybtex, lxml); the CSRF token; bad input; a record merged away;
hostile text.

Expected titles come from the catalogue fixture (search_app_catalogue.py), never from the code under
test; the 403 for another reader's private list is the brief's.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.etree
import lxml.html
import pybtex.errors
import pytest
import rispy
from aiohttp import web
from aiohttp.test_utils import TestClient
from pybtex.database import parse_string
from pybtex.richtext import Text

from search_app.app import make_app
from search_app.readers import reading_lists
from tests.search_app.accounts_http import Site, csrf_of, post_form
from tests.search_app.oai.conftest import open_test_catalogue
from tests.search_app.search_app_catalogue import RECORDS, catalogue_settings, fill
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.oai_protocol import MARC_NS
from unicat.ports.accounts import AccountStore
from unicat.readers import ListEntry, ReadingList
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue

Browser = TestClient[web.Request, web.Application]
HOSTILE = '<script>alert("list")</script>'
TITLES = {record.id: record.title for record in RECORDS}
MARC = {"m": MARC_NS}


@pytest.fixture(params=["sqlite", "elasticsearch"])
def catalogue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Catalogue]:
    """The web app tests' catalogue (12 records), on each engine (its stores in the SQLite file, or
    in PostgreSQL beside Elasticsearch)."""
    if request.param == "sqlite":
        with open_catalogue(catalogue_settings(tmp_path)) as opened:
            fill(opened)
            yield opened
    else:
        with open_test_catalogue(
            "elasticsearch", request, tmp_path, data_dir=tmp_path, facet_size=20
        ) as opened:
            fill(opened)
            yield opened


def at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}Z"


def user_id(accounts: AccountStore, email: str) -> int:
    user = accounts.find_user(email)
    assert user is not None and user.id is not None
    return user.id


def text_of(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


async def make_list(browser: Browser, name: str, description: str = "", public: bool = False) -> int:
    data = {"name": name, "description": description, **({"public": "1"} if public else {})}
    answer = await post_form(browser, "/lists", data)
    assert answer.status == 303, await answer.text()
    found = re.fullmatch(r"/lists/(\d+)\?done=created", answer.headers["Location"])
    assert found is not None, answer.headers["Location"]
    return int(found[1])


async def add(browser: Browser, list_id: int, record: str) -> Any:
    return await post_form(browser, f"/lists/{list_id}/entries", {"record": record})


async def as_json(browser: Browser, list_id: int, status: int = 200) -> Any:
    answer = await browser.get(f"/api/lists/{list_id}")
    assert answer.status == status, await answer.text()
    assert answer.content_type == "application/json"
    return await answer.json()


def entry_titles(html: str) -> list[str]:
    page = lxml.html.fromstring(html)
    return [" ".join(h3.text_content().split()) for h3 in page.cssselect(".list-entry .result-card__title")]


# -- making and changing a list ------------------------------------------------------------------------
async def test_a_reader_makes_renames_publishes_and_deletes_a_list(site: Site, catalogue: Catalogue) -> None:
    anonymous = await site.browser()
    answer = await anonymous.get("/lists", allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/signin?next=/lists"

    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    empty = await jane.get("/lists")
    assert empty.status == 200 and "You have no reading list yet" in text_of(await empty.text())
    assert_accessible(await empty.text())

    list_id = await make_list(jane, "Summer reading", "Novels for the beach.\r\n\r\nAnd one map.")
    page = await jane.get(f"/lists/{list_id}?done=created")
    text = text_of(await page.text())
    assert page.status == 200 and page.headers["Cache-Control"] == "private, no-store"
    assert "Summer reading" in text and "A private reading list by Jane" in text
    assert "Novels for the beach." in text and "And one map." in text and "Your list is ready." in text
    listing = await (await jane.get("/lists")).text()
    assert_accessible(listing)
    mine = text_of(listing)
    assert "Summer reading" in mine and "private" in mine
    first = (await as_json(jane, list_id))["list"]
    assert (first["name"], first["public"], first["owner"]) == ("Summer reading", False, "Jane")
    assert first["description"] == "Novels for the beach.\n\nAnd one map."

    data = {"name": "  Holiday   reading ", "description": "", "public": "1"}
    answer = await post_form(jane, f"/lists/{list_id}", data)
    assert answer.status == 303 and answer.headers["Location"] == f"/lists/{list_id}?done=updated"
    renamed = (await as_json(jane, list_id))["list"]
    assert (renamed["name"], renamed["description"], renamed["public"]) == ("Holiday reading", "", True)
    assert renamed["created"] == first["created"] and renamed["updated"] >= first["updated"]
    page = await jane.get(f"/lists/{list_id}")
    assert "A public reading list by Jane" in text_of(await page.text())

    answer = await post_form(jane, f"/lists/{list_id}", {"name": "Holiday reading"})  # box unchecked
    assert answer.status == 303 and (await as_json(jane, list_id))["list"]["public"] is False

    answer = await post_form(jane, f"/lists/{list_id}/delete", {})
    assert answer.status == 303 and answer.headers["Location"] == "/lists?done=deleted"
    assert catalogue.contributions.get_list(list_id) is None
    assert (await jane.get(f"/lists/{list_id}")).status == 404
    assert (await as_json(jane, list_id, status=404))["error"]["status"] == 404
    assert (await post_form(jane, f"/lists/{list_id}/delete", {})).status == 404
    assert (await jane.get("/lists/99999999999999999999")).status == 404


async def test_records_go_on_and_off_a_list_and_the_newest_come_first(
    site: Site, catalogue: Catalogue, monkeypatch: pytest.MonkeyPatch
) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    # A list made long ago, so that each change is seen to move its "updated" on.
    stored = catalogue.contributions.add_list(
        ReadingList(user_id(catalogue.accounts, "jane@example.org"), "To read", created=at(0), updated=at(0))
    )
    assert stored.id is not None
    list_id = stored.id
    for record in ("u-pp1980", "u-faust", "u-miserables"):
        answer = await add(jane, list_id, record)
        assert answer.status == 303 and answer.headers["Location"] == f"/lists/{list_id}?done=added"
    assert (await add(jane, list_id, "u-faust")).status == 303  # once only
    body = await as_json(jane, list_id)
    assert sorted(entry["record"] for entry in body["entries"]) == ["u-faust", "u-miserables", "u-pp1980"]
    assert body["list"]["updated"] > at(0)
    for entry in body["entries"]:
        assert entry["title"] == TITLES[entry["record"]] and entry["in_catalogue"] is True
        assert entry["url"] == f"/record/{entry['record']}"

    answer = await post_form(jane, f"/lists/{list_id}/entries/remove", {"record": "u-faust"})
    assert answer.status == 303 and answer.headers["Location"] == f"/lists/{list_id}?done=removed"
    assert [entry.record for entry in catalogue.contributions.list_entries(list_id)] == [
        "u-miserables",
        "u-pp1980",
    ]
    again = await post_form(jane, f"/lists/{list_id}/entries/remove", {"record": "u-faust"})
    assert again.status == 303 and again.headers["Location"] == f"/lists/{list_id}"

    # Newest additions first, whatever order the ids sort in.
    ordered = catalogue.contributions.add_list(
        ReadingList(user_id(catalogue.accounts, "jane@example.org"), "Ordered")
    )
    assert ordered.id is not None
    for record, second in (("u-carte", 1), ("u-quijote", 3), ("u-faust", 2)):
        catalogue.contributions.add_list_entry(ListEntry(ordered.id, record, added=at(second)))
    expected = ["u-quijote", "u-faust", "u-carte"]
    assert [entry["record"] for entry in (await as_json(jane, ordered.id))["entries"]] == expected
    page = await jane.get(f"/lists/{ordered.id}")
    assert entry_titles(await page.text()) == [TITLES[record] for record in expected]
    assert_accessible(await page.text())
    held = [card.text_content() for card in lxml.html.fromstring(await page.text()).cssselect(".list-entry")]
    assert "2 copies in 2 libraries" in held[0] and "1 copy in 1 library" in held[2]  # quijote, carte

    # Bad records: none given, none such, and a full list.
    missing = await add(jane, list_id, "   ")
    assert missing.status == 400 and "record" in text_of(await missing.text())
    unknown = await add(jane, list_id, "u-nothing")
    assert unknown.status == 404 and "u-nothing" in text_of(await unknown.text())
    monkeypatch.setattr(reading_lists, "MAX_LIST_ENTRIES", 2)
    full = await add(jane, list_id, "u-carte")
    assert full.status == 400 and "a list holds at most 2 records" in text_of(await full.text())
    assert (await add(jane, list_id, "u-pp1980")).status == 303  # already on it: still fine
    assert len(catalogue.contributions.list_entries(list_id)) == 2


async def test_a_record_added_under_its_old_id_goes_on_as_the_record_it_lives_in(
    site: Site, catalogue: Catalogue
) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Austen")
    assert (await add(jane, list_id, "u-old-pp")).status == 303  # the fixture's u-old-pp → u-pp1980
    assert [entry.record for entry in catalogue.contributions.list_entries(list_id)] == ["u-pp1980"]


# -- who may read, who may change ----------------------------------------------------------------------
async def test_a_private_list_is_403_to_everyone_but_its_owner(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Secret shelf")
    assert (await add(jane, list_id, "u-faust")).status == 303
    assert (await jane.get(f"/lists/{list_id}")).status == 200
    assert (await jane.get(f"/lists/{list_id}/export?format=ris")).status == 200
    assert (await as_json(jane, list_id))["entries"][0]["record"] == "u-faust"

    john = await site.signed_in(catalogue.accounts, "john@example.org")
    anonymous = await site.browser()
    for browser in (john, anonymous):
        page = await browser.get(f"/lists/{list_id}")
        html = await page.text()
        assert page.status == 403 and "This reading list is private" in text_of(html)
        assert_accessible(html)
        assert "Secret shelf" not in html and TITLES["u-faust"] not in html
        export = await browser.get(f"/lists/{list_id}/export?format=bibtex")
        assert export.status == 403 and "Content-Disposition" not in export.headers
        error = await as_json(browser, list_id, status=403)
        assert error["error"]["status"] == 403 and "private" in error["error"]["message"]
    signin_links = lxml.html.fromstring(await (await anonymous.get(f"/lists/{list_id}")).text()).xpath(
        "//main//a[starts-with(@href, '/signin')]/@href"
    )
    assert f"/signin?next=/lists/{list_id}" in signin_links
    assert (await john.get("/lists")).status == 200
    assert "Secret shelf" not in await (await john.get("/lists")).text()


async def test_a_public_list_is_read_by_all_and_changed_by_its_owner_only(
    site: Site, catalogue: Catalogue
) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Classics", "Old books.", public=True)
    assert (await add(jane, list_id, "u-quijote")).status == 303
    owner_page = lxml.html.fromstring(await (await jane.get(f"/lists/{list_id}")).text())
    assert owner_page.xpath(f"//form[@action='/lists/{list_id}/delete']")
    assert owner_page.xpath(f"//form[@action='/lists/{list_id}/entries/remove']")

    john = await site.signed_in(catalogue.accounts, "john@example.org")
    anonymous = await site.browser()
    for browser in (john, anonymous):
        page = await browser.get(f"/lists/{list_id}")
        assert page.status == 200
        shown = lxml.html.fromstring(await page.text())
        assert TITLES["u-quijote"] in shown.text_content() and "by Jane" in shown.text_content()
        assert not shown.xpath("//form[starts-with(@action, '/lists/')]")  # no owner's forms
        assert_accessible(await page.text())
        assert (await as_json(browser, list_id))["list"]["name"] == "Classics"
        assert (await browser.get(f"/lists/{list_id}/export?format=marcxml")).status == 200

    changes = [
        (f"/lists/{list_id}", {"name": "Mine now"}),
        (f"/lists/{list_id}/delete", {}),
        (f"/lists/{list_id}/entries", {"record": "u-faust"}),
        (f"/lists/{list_id}/entries/remove", {"record": "u-quijote"}),
        ("/lists/entries", {"list": str(list_id), "record": "u-faust"}),
    ]
    for browser in (john, anonymous):
        for path, data in changes:
            answer = await post_form(browser, path, data)
            assert answer.status == 403, (path, await answer.text())
    stored = catalogue.contributions.get_list(list_id)
    assert stored is not None and stored.name == "Classics"
    assert [entry.record for entry in catalogue.contributions.list_entries(list_id)] == ["u-quijote"]
    assert (await post_form(anonymous, "/lists", {"name": "Anonymous"})).status == 403


async def test_a_change_without_the_csrf_token_is_refused(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Kept")
    for token in ({}, {"csrf": "guessed-token-guessed-token"}):
        for path, data in (
            ("/lists", {"name": "Forged"}),
            (f"/lists/{list_id}", {"name": "Forged"}),
            (f"/lists/{list_id}/entries", {"record": "u-faust"}),
            (f"/lists/{list_id}/delete", {}),
        ):
            answer = await jane.post(path, data={**data, **token}, allow_redirects=False)
            assert answer.status == 403, path
    assert [
        stored.name
        for stored in catalogue.contributions.lists_of(user_id(catalogue.accounts, "jane@example.org"))
    ] == ["Kept"]
    assert catalogue.contributions.list_entries(list_id) == []


# -- bad input, hostile input ----------------------------------------------------------------------------
async def test_an_over_long_or_empty_name_is_refused_with_the_message(
    site: Site, catalogue: Catalogue
) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    answer = await post_form(jane, "/lists", {"name": "x" * 121, "description": "Kept as typed"})
    html = await answer.text()
    assert answer.status == 400 and "A list's name has at most 120 characters." in text_of(html)
    assert_accessible(html)
    form = lxml.html.fromstring(html).xpath("//form[@action='/lists']")[0]
    assert form.xpath(".//input[@name='name']/@value") == ["x" * 121]
    assert form.xpath(".//textarea[@name='description']")[0].text == "Kept as typed"
    assert catalogue.contributions.lists_of(user_id(catalogue.accounts, "jane@example.org")) == []

    list_id = await make_list(jane, "Named")
    answer = await post_form(jane, f"/lists/{list_id}", {"name": "   "})
    assert answer.status == 400 and "Give the list a name." in text_of(await answer.text())
    long_description = await post_form(
        jane, f"/lists/{list_id}", {"name": "Named", "description": "d" * 1001}
    )
    assert long_description.status == 400
    stored = catalogue.contributions.get_list(list_id)
    assert stored is not None and stored.name == "Named"


async def test_the_export_format_must_be_named(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Formats")
    for query in ("", "?format=", "?format=endnote"):
        answer = await jane.get(f"/lists/{list_id}/export{query}")
        text = text_of(await answer.text())
        assert answer.status == 400 and "The parameter format is not valid" in text, query
        assert "ris, bibtex, marcxml" in text


async def test_a_hostile_list_name_is_shown_as_text(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, HOSTILE, HOSTILE, public=True)
    assert (await add(jane, list_id, "u-script")).status == 303  # a record with a hostile title too
    for browser in (jane, await site.browser()):
        html = await (await browser.get(f"/lists/{list_id}")).text()
        assert HOSTILE not in html and "<script>alert('owned')" not in html
        assert "&lt;script&gt;alert(" in html
        assert (
            lxml.html.fromstring(html).xpath("//script[not(@src='/static/suggest.js')]") == []
        )  # but the page's own
    listing = await (await jane.get("/lists")).text()
    assert HOSTILE not in listing and "&lt;script&gt;" in listing
    assert (await as_json(jane, list_id))["list"]["name"] == HOSTILE  # JSON carries it as it is
    export = await jane.get(f"/lists/{list_id}/export?format=ris")
    assert export.headers["Content-Disposition"] == 'attachment; filename="script-alert-list-script.ris"'


# -- exports ----------------------------------------------------------------------------------------------
async def test_a_list_exports_as_ris_bibtex_and_marcxml(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Été — lectures, 2026!")
    records = ["u-pp1980", "u-script", "u-miserables", "u-faust"]
    for record in records:
        assert (await add(jane, list_id, record)).status == 303
    order = [entry["record"] for entry in (await as_json(jane, list_id))["entries"]]
    assert sorted(order) == sorted(records)
    base = str(site.server.make_url("/")).rstrip("/")

    ris = await jane.get(f"/lists/{list_id}/export?format=ris")
    assert ris.status == 200 and ris.content_type == "application/x-research-info-systems"
    assert ris.headers["Content-Disposition"] == 'attachment; filename="ete-lectures-2026.ris"'
    assert ris.headers["Cache-Control"] == "private, no-store"
    read = rispy.loads((await ris.read()).decode("utf-8"))
    assert [entry["id"] for entry in read] == order
    assert [entry["title"] for entry in read] == [TITLES[record] for record in order]
    assert read[0]["urls"] == [f"{base}/record/{order[0]}"]

    bibtex = await jane.get(f"/lists/{list_id}/export?format=bibtex")
    assert bibtex.status == 200 and bibtex.content_type == "application/x-bibtex"
    assert bibtex.headers["Content-Disposition"] == 'attachment; filename="ete-lectures-2026.bib"'
    pybtex.errors.set_strict_mode(True)
    data = parse_string((await bibtex.read()).decode("utf-8"), "bibtex")
    assert list(data.entries) == order
    for record in order:
        title = Text.from_latex(data.entries[record].fields["title"]).render_as("text")
        assert title == TITLES[record], record

    marcxml = await jane.get(f"/lists/{list_id}/export?format=marcxml")
    assert marcxml.status == 200 and marcxml.content_type == "application/marcxml+xml"
    assert marcxml.headers["Content-Disposition"] == 'attachment; filename="ete-lectures-2026.xml"'
    collection = lxml.etree.fromstring(await marcxml.read())
    found = collection.findall("m:record", MARC)
    assert len(found) == len(order)
    assert [r.findtext("m:controlfield[@tag='001']", namespaces=MARC) for r in found] == order
    titles = [r.findtext("m:datafield[@tag='245']/m:subfield[@code='a']", namespaces=MARC) for r in found]
    assert titles == [TITLES[record] for record in order]

    empty = await make_list(jane, "Nothing yet")
    answer = await jane.get(f"/lists/{empty}/export?format=marcxml")
    assert answer.status == 200
    assert lxml.etree.fromstring(await answer.read()).findall("m:record", MARC) == []


# -- records that moved -----------------------------------------------------------------------------------
async def test_an_entry_merged_away_shows_as_its_new_record_and_a_gone_one_stays(
    site: Site, catalogue: Catalogue
) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "Moving", public=True)
    for record in ("u-pp1980", "u-pp1990", "u-faust"):
        assert (await add(jane, list_id, record)).status == 303
    # Re-indexing merges u-pp1990 into u-pp1980, and u-faust leaves the catalogue.
    kept = [record for record in RECORDS if record.id not in ("u-pp1990", "u-faust")]
    write_union_generation(catalogue.records, catalogue.index, kept, {"u-pp1990": "u-pp1980"})

    body = await as_json(await site.browser(), list_id)
    shown = {entry["record"]: entry for entry in body["entries"]}
    assert sorted(shown) == ["u-faust", "u-pp1980"]  # the two ids of one record show once
    assert shown["u-pp1980"]["title"] == TITLES["u-pp1980"] and shown["u-pp1980"]["in_catalogue"]
    assert shown["u-faust"] == {
        "record": "u-faust",
        "added_as": "u-faust",
        "added": shown["u-faust"]["added"],
        "in_catalogue": False,
        "title": None,
        "authors": [],
        "year": None,
        "libraries": [],
        "url": None,
    }
    html = await (await jane.get(f"/lists/{list_id}")).text()
    page = lxml.html.fromstring(html)
    assert page.xpath("//a[@href='/record/u-pp1980']") and not page.xpath("//a[@href='/record/u-pp1990']")
    assert "This record is no longer in the catalogue." in text_of(html)
    ris = rispy.loads((await (await jane.get(f"/lists/{list_id}/export?format=ris")).read()).decode())
    assert [entry["id"] for entry in ris] == ["u-pp1980"]

    # Taking the record off takes off both ids it was added under.
    answer = await post_form(jane, f"/lists/{list_id}/entries/remove", {"record": "u-pp1980"})
    assert answer.status == 303
    assert [entry.record for entry in catalogue.contributions.list_entries(list_id)] == ["u-faust"]
    answer = await post_form(jane, f"/lists/{list_id}/entries/remove", {"record": "u-faust"})
    assert answer.status == 303 and catalogue.contributions.list_entries(list_id) == []


async def test_a_single_merged_entry_shows_under_its_new_id(site: Site, catalogue: Catalogue) -> None:
    jane = await site.signed_in(catalogue.accounts, "jane@example.org")
    list_id = await make_list(jane, "One edition")
    assert (await add(jane, list_id, "u-pp1990")).status == 303
    write_union_generation(
        catalogue.records,
        catalogue.index,
        [r for r in RECORDS if r.id != "u-pp1990"],
        {"u-pp1990": "u-pp1980"},
    )
    [entry] = (await as_json(jane, list_id))["entries"]
    assert (entry["record"], entry["added_as"], entry["title"]) == (
        "u-pp1980",
        "u-pp1990",
        TITLES["u-pp1980"],
    )
    html = await (await jane.get(f"/lists/{list_id}")).text()
    assert "as u-pp1990, since merged into this record" in text_of(html)


# -- the record page's form -------------------------------------------------------------------------------
async def test_the_record_page_form_puts_the_record_on_a_list_of_ones_own(catalogue: Catalogue) -> None:
    site = await Site(make_app(catalogue, catalogue.index.settings)).start()
    try:
        anonymous = await site.browser()
        assert "Add to list" not in await (await anonymous.get("/record/u-faust")).text()

        jane = await site.signed_in(catalogue.accounts, "jane@example.org")
        first = lxml.html.fromstring(await (await jane.get("/record/u-faust")).text())
        [link] = first.xpath("//a[contains(., 'make your first list')]/@href")
        assert parse_qs(urlsplit(link).query) == {"record": ["u-faust"]}
        new_form = lxml.html.fromstring(await (await jane.get(link)).text()).xpath(
            "//form[@action='/lists']"
        )[0]
        assert new_form.xpath(".//input[@name='record']/@value") == ["u-faust"]
        answer = await post_form(jane, "/lists", {"name": "Plays", "record": "u-faust"})
        assert answer.status == 303
        plays = int(answer.headers["Location"].split("/")[2].split("?")[0])
        assert [entry.record for entry in catalogue.contributions.list_entries(plays)] == ["u-faust"]

        other = await make_list(jane, "Novels")
        john = await site.signed_in(catalogue.accounts, "john@example.org")
        await make_list(john, "John's own")
        html = await (await jane.get("/record/u-miserables")).text()
        form = lxml.html.fromstring(html).xpath("//form[@action='/lists/entries']")[0]
        options = form.xpath(".//select[@name='list']/option")
        assert sorted(option.text for option in options) == ["Novels", "Plays"]
        fields = {field.name: field.value for field in form.inputs if field.name}
        assert fields["record"] == "u-miserables" and fields["csrf"] == await csrf_of(jane)
        answer = await jane.post("/lists/entries", data={**fields, "list": str(other)}, allow_redirects=False)
        assert answer.status == 303 and answer.headers["Location"] == f"/lists/{other}?done=added"
        assert [entry.record for entry in catalogue.contributions.list_entries(other)] == ["u-miserables"]
        refused = await post_form(jane, "/lists/entries", {"record": "u-faust"})
        assert refused.status == 400 and "list" in text_of(await refused.text())
    finally:
        await site.close()


async def test_a_list_of_a_deleted_account_shows_a_former_reader(site: Site, catalogue: Catalogue) -> None:
    stored = catalogue.contributions.add_list(ReadingList(987_654, "Orphan", public=True))  # no such account
    page = await (await site.browser()).get(f"/lists/{stored.id}")
    assert page.status == 200 and "by a former reader" in text_of(await page.text())


async def test_changes_to_lists_share_the_posting_budget(catalogue: Catalogue) -> None:
    # A new list, a change to one and a record put on one each count against the budget comments use.
    settings = catalogue.index.settings.replace(post_limit_account=4, post_limit_address=1_000)
    site = await Site(make_app(catalogue, settings)).start()
    try:
        jane = await site.signed_in(catalogue.accounts, "jane@example.org")
        list_id = await make_list(jane, "Flood")  # 1
        renamed = await post_form(jane, f"/lists/{list_id}", {"name": "Renamed"})  # 2
        assert renamed.status == 303
        for record in ("u-pp1980", "u-pp1990"):  # 3, 4
            assert (await add(jane, list_id, record)).status == 303
        for answer, what in (
            (await add(jane, list_id, "u-faust"), "records put on lists"),
            (await post_form(jane, "/lists/entries", {"list": str(list_id), "record": "u-faust"}), "records"),
            (await post_form(jane, f"/lists/{list_id}", {"name": "Again"}), "changes to lists"),
            (await post_form(jane, "/lists", {"name": "Another"}), "new lists"),
        ):
            assert answer.status == 429 and 0 < int(answer.headers["Retry-After"]) <= 60
            assert f"Too many {what}" in await answer.text()
        stored = await as_json(jane, list_id)
        assert stored["list"]["name"] == "Renamed"
        assert sorted(entry["record"] for entry in stored["entries"]) == ["u-pp1980", "u-pp1990"]
        # Taking a record off one's list is not a post: it only undoes what was counted.
        removed = await post_form(jane, f"/lists/{list_id}/entries/remove", {"record": "u-pp1990"})
        assert removed.status == 303
    finally:
        await site.close()
