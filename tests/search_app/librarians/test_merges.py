"""The librarians' merge desk over real HTTP, on every engine: why a record was merged, split and
forced merges through the forms, the background re-index that applies them, and bad input.

Records as in tests/indexer/test_indexer_merge_decisions.py: in dedup/pride-and-prejudice-fixed.mrc,
27 and 30 are the 2003 Penguin *Pride and prejudice* (ISBN 0141439513 → 9780141439518), 31 the 2003
Penguin *Sense and sensibility*, 19 the 1994 Penguin *Pride and prejudice*.
"""

from __future__ import annotations

from typing import Any

import lxml.html
import pytest
from aiohttp.test_utils import TestClient

from indexer import run_index
from search_app.app import make_app
from search_app.librarians.reindex import REINDEXER
from tests.indexer.indexer_testdata import (
    PRIDE_1994,
    PRIDE_2003_A,
    PRIDE_2003_B,
    SENSE_2003,
    home,
    store_penguin_records,
)
from tests.search_app.accounts_http import staff_client
from unicat.catalogue import Catalogue
from unicat.model import MergeDecision, SourceRef

HOSTILE = '<script>alert("x")</script>'


@pytest.fixture
def catalogue(catalogue: Catalogue) -> Catalogue:
    """The web app tests' catalogue with the Penguin records too, indexed."""
    store_penguin_records(catalogue.records)
    run_index(catalogue.records, catalogue.index, workers=1)
    return catalogue


async def _client(aiohttp_client: Any, catalogue: Catalogue) -> TestClient[Any, Any]:
    """A signed-in librarian's client (the desk is theirs), sending the session's CSRF token."""
    app = make_app(
        catalogue,
        catalogue.index.settings,
        reindex=lambda store, index: run_index(store, index, workers=1),
    )
    return await staff_client(aiohttp_client, app, catalogue.accounts)


async def test_the_desk_explains_a_merge_and_a_split_applies_in_the_background(
    catalogue: Catalogue, aiohttp_client: Any
) -> None:
    client = await _client(aiohttp_client, catalogue)
    merged = home(catalogue.records, PRIDE_2003_A)
    page = await client.get(f"/librarians/merges/{merged}")
    assert page.status == 200
    text = " ".join(lxml.html.fromstring(await page.text()).text_content().split())
    assert "Same ISBN: 9780141439518" in text and "Library 27" in text and "Library 30" in text
    explained = await (await client.get(f"/api/records/{merged}/merge")).json()
    assert {"rule": "isbn", "key": "9780141439518", "label": "same ISBN"} in explained["rules"]
    assert explained["members"] == [{"source": "L27", "local_id": "r"}, {"source": "L30", "local_id": "r"}]

    answer = await client.post(
        "/librarians/merges",
        data={"action": "split", "record": merged, "member": "L30:r", "reason": HOSTILE, "apply": "1"},
        allow_redirects=False,
    )
    assert answer.status == 303 and answer.headers["Location"] == f"/librarians/merges/{merged}?done=split"
    await client.app[REINDEXER].wait()
    assert home(catalogue.records, PRIDE_2003_A) == merged != home(catalogue.records, PRIDE_2003_B)

    listing = await client.get("/librarians/merges")
    html = await listing.text()
    assert HOSTILE not in html and "&lt;script&gt;" in html
    assert "Last re-index finished" in html
    decisions = await (await client.get("/api/merges")).json()
    assert [(d["kind"], d["reason"]) for d in decisions] == [("split", HOSTILE)]

    undo = await client.post(
        "/librarians/merges",
        data={"action": "undo", "decision": str(decisions[0]["id"])},
        allow_redirects=False,
    )
    assert undo.status == 303
    assert await (await client.get("/api/merges")).json() == []


async def test_a_forced_merge_through_the_form(catalogue: Catalogue, aiohttp_client: Any) -> None:
    client = await _client(aiohttp_client, catalogue)
    pride, sense = home(catalogue.records, PRIDE_2003_A), home(catalogue.records, SENSE_2003)
    answer = await client.post(
        "/librarians/merges", data={"action": "force", "record": sense, "other": pride, "apply": "1"}
    )
    assert answer.status == 200  # followed to the record's desk page
    await client.app[REINDEXER].wait()
    assert home(catalogue.records, SENSE_2003) == home(catalogue.records, PRIDE_2003_A)
    record = await (await client.get(f"/api/records/{home(catalogue.records, SENSE_2003)}")).json()
    assert {"rule": "librarian", "key": "forced"} in record["merge"]


@pytest.mark.parametrize(
    ("form", "param"),
    [
        ({"action": "bogus"}, "action"),
        ({"action": "split", "record": "RECORD", "member": "no-colon"}, "member"),
        ({"action": "split", "record": "u-none", "member": "L27:r"}, "record"),
        ({"action": "force", "record": "RECORD"}, "other"),
        ({"action": "force", "record": "RECORD", "other": "RECORD"}, "other"),
        ({"action": "undo", "decision": "abc"}, "decision"),
        ({"action": "undo", "decision": "999"}, "decision"),
        ({"action": "split", "record": "RECORD", "member": "L27:r", "reason": "x" * 1001}, "reason"),
    ],
)
async def test_bad_forms_get_a_400_naming_the_field(
    catalogue: Catalogue, aiohttp_client: Any, form: dict[str, str], param: str
) -> None:
    client = await _client(aiohttp_client, catalogue)
    merged = home(catalogue.records, PRIDE_2003_A)
    data = {key: value.replace("RECORD", merged) for key, value in form.items()}
    answer = await client.post("/librarians/merges", data=data, headers={"Accept": "application/json"})
    assert answer.status == 400
    assert param in await answer.text()
    assert catalogue.records.merge_decisions() == []


async def test_a_form_from_another_site_is_refused(catalogue: Catalogue, aiohttp_client: Any) -> None:
    """Another site's page can make the librarian's browser post, with the session cookie, but it
    cannot read the page's CSRF token."""
    client = await _client(aiohttp_client, catalogue)
    merged = home(catalogue.records, PRIDE_2003_A)
    del client.session.headers["X-CSRF-Token"]
    for token in ({}, {"csrf": "guessed-token-guessed-token"}):
        answer = await client.post(
            "/librarians/merges",
            data={"action": "split", "record": merged, "member": "L30:r", **token},
            headers={"Origin": "https://evil.example"},
        )
        assert answer.status == 403
    assert catalogue.records.merge_decisions() == []


async def test_a_moved_record_redirects_to_its_new_desk_page(
    catalogue: Catalogue, aiohttp_client: Any
) -> None:
    client = await _client(aiohttp_client, catalogue)
    merged = home(catalogue.records, PRIDE_2003_A)
    decision = catalogue.records.save_merge_decision(
        MergeDecision("split", SourceRef("L27", "r"), SourceRef("L30", "r"))
    )
    run_index(catalogue.records, catalogue.index, workers=1)
    split_off = home(catalogue.records, PRIDE_2003_B)
    catalogue.records.remove_merge_decision(decision.id or 0)
    run_index(catalogue.records, catalogue.index, workers=1)
    moved = await client.get(f"/librarians/merges/{split_off}", allow_redirects=False)
    assert moved.status == 301 and moved.headers["Location"] == f"/librarians/merges/{merged}"
    moved_api = await client.get(f"/api/records/{split_off}/merge", allow_redirects=False)
    assert moved_api.status == 301 and moved_api.headers["Location"] == f"/api/records/{merged}/merge"
    assert (await client.get("/librarians/merges/u-none")).status == 404


async def test_the_record_page_lists_other_editions_and_links_to_the_desk(
    catalogue: Catalogue, aiohttp_client: Any
) -> None:
    client = await _client(aiohttp_client, catalogue)
    pride = home(catalogue.records, PRIDE_2003_A)
    page = await client.get(f"/record/{pride}")
    html = lxml.html.fromstring(await page.text())
    editions = [link.get("href") for link in html.cssselect("#editions a")]
    assert editions == [f"/record/{home(catalogue.records, PRIDE_1994)}"]
    assert f"/librarians/merges/{pride}" in [a.get("href") for a in html.cssselect("a")]
    sense = lxml.html.fromstring(
        await (await client.get(f"/record/{home(catalogue.records, SENSE_2003)}")).text()
    )
    assert sense.cssselect("#editions") == []
