"""A NUL character (U+0000) anywhere a request carries text, over real HTTP on both storage setups:
PostgreSQL cannot hold one in text, so each of these was a 500 there. Now both setups answer alike:
an address holding one is a 404, a form field or JSON string a 400 naming it, OAI-PMH its own
errors, and nothing is stored.
"""

from __future__ import annotations

import dataclasses
import time

import lxml.etree
import pytest

from search_app.app import make_app
from search_app.oai import tokens
from tests.search_app.accounts_http import Site, csrf_of, post_form
from tests.search_app.oai.conftest import wait_for_datestamps
from unicat.catalogue import Catalogue
from unicat.oai_protocol import OAI_NS

NUL = "%00"


@pytest.fixture
def catalogue(each_setup_catalogue: Catalogue) -> Catalogue:
    return each_setup_catalogue


async def test_a_nul_in_an_address_names_nothing_and_a_search_for_one_is_an_odd_search(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    for path in (
        f"/record/u-pp1980{NUL}",
        f"/api/records/{NUL}/comments",
        f"/lists/1{NUL}",
        f"/static/{NUL}",
    ):
        answer = await ann.get(path, allow_redirects=False)
        assert answer.status == 404, (path, answer.status)
    # A searched tag is cleaned of control characters, as a typed one is: never a NUL in a query.
    assert (await post_form(ann, "/record/u-pp1980/tags", {"tags": "classic"})).status == 303
    for query, status, total in (("tag=classic%00", 200, 1), ("tag=%00", 400, None), ("q=%00", 200, 12)):
        answer = await ann.get(f"/api/search?{query}")
        assert answer.status == status and (await answer.json()).get("total") == total, query
    answer = await ann.get(f"/signin?next=/search{NUL}", allow_redirects=False)
    assert answer.status == 303 and answer.headers["Location"] == "/"


async def test_a_nul_in_a_form_or_json_is_a_400_and_nothing_is_stored(
    site: Site, catalogue: Catalogue
) -> None:
    ann = await site.signed_in(catalogue.accounts, "ann@example.org")
    for path, form in (
        ("/record/u-pp1980/comments", {"body": "a\x00b"}),
        ("/record/u-pp1980/tags", {"tags": "a\x00b"}),
        ("/lists", {"name": "a\x00b"}),
        ("/account/name", {"display_name": "a\x00b"}),
        ("/signin", {"email": "a\x00@example.org", "password": "x"}),
    ):
        answer = await post_form(ann, path, form)
        assert answer.status == 400 and "NUL character" in await answer.text(), path
    token = await csrf_of(ann)
    for sent in ('{"body": "a\\u0000b"}', '{"body": "x", "a\\u0000": 1}', '[["\\u0000"]]'):
        answer = await ann.post(
            "/api/records/u-pp1980/comments",
            data=sent,
            headers={"X-CSRF-Token": token, "Content-Type": "application/json"},
        )
        assert answer.status == 400 and (await answer.json())["error"]["param"] == "body", sent
    assert catalogue.contributions.comments_for(["u-pp1980"]) == []
    assert await (await ann.get("/api/tags")).json() == []


async def test_oai_pmh_and_sru_answer_a_nul_with_their_own_errors(site: Site) -> None:
    browser = await site.browser()
    for query in (
        f"verb=GetRecord&metadataPrefix=oai_dc&identifier=oai:unicat.local:u-pp1980{NUL}",
        f"verb=ListRecords&metadataPrefix=oai_dc&set=library:oxford{NUL}",
        f"verb=ListRecords&resumptionToken=x{NUL}",
        f"verb=ListIdentifiers&metadataPrefix=oai_dc&from=2020-01-01{NUL}",
    ):
        answer = await browser.get(f"/oai?{query}")
        assert answer.status == 200, query  # OAI-PMH: errors are answered 200 with <error> (§3.6)
        tree = lxml.etree.fromstring(await answer.read())
        assert tree.find(f"{{{OAI_NS}}}error") is not None, query
    answer = await browser.get(f"/sru?operation=searchRetrieve&version=2.0&query=pride{NUL}")
    assert answer.status < 500


async def test_a_forged_resumption_token_is_a_bad_resumption_token(catalogue: Catalogue) -> None:
    # A token's checksum guards against damage, not forgery: a harvester can re-encode a real token
    # with a NUL in its keyset id, or a number no store column holds.
    wait_for_datestamps(catalogue.records)  # (the provider serves a generation from the next second)
    site = await Site(make_app(catalogue, catalogue.index.settings.replace(oai_page_size=2))).start()
    try:
        browser = await site.browser()
        first = lxml.etree.fromstring(
            await (await browser.get("/oai?verb=ListRecords&metadataPrefix=oai_dc")).read()
        )
        issued = first.findtext(f".//{{{OAI_NS}}}resumptionToken")
        assert issued
        real = tokens.decode(issued, "ListRecords", int(time.time()))
        for forged in (
            dataclasses.replace(real, after=(real.after[0], real.after[1] + "\x00")),
            dataclasses.replace(real, after=(2**70, real.after[1])),
            dataclasses.replace(real, low=-(2**80)),
            dataclasses.replace(real, set_spec="library:oxford\x00"),
        ):
            answer = await browser.get(
                "/oai", params={"verb": "ListRecords", "resumptionToken": tokens.encode(forged)}
            )
            assert answer.status == 200, forged
            error = lxml.etree.fromstring(await answer.read()).find(f"{{{OAI_NS}}}error")
            assert error is not None and error.get("code") == "badResumptionToken", forged
        answer = await browser.get("/oai", params={"verb": "ListRecords", "resumptionToken": issued})
        assert lxml.etree.fromstring(await answer.read()).find(f"{{{OAI_NS}}}error") is None
    finally:
        await site.close()
