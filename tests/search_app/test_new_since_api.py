"""``new_since``, ``new_at`` and ``sort=newest`` over HTTP: the JSON API answers from the dates the
catalogue's index run gave its records (read on the clock around that run), and each hit says them."""

from __future__ import annotations

from tests.search_app.search_app_catalogue import RECORDS, Client
from unicat.catalogue import Catalogue


async def test_the_api_finds_what_is_new_since_a_date(client: Client, catalogue: Catalogue) -> None:
    stored = catalogue.index.get_union_record(RECORDS[0].id)
    assert stored is not None and stored.first_seen is not None
    indexed_at = stored.first_seen
    every = await (await client.get("/api/search?page_size=1")).json()
    # Everything entered at the one index run of the fixture: new since then, and not a second later.
    answer = await (await client.get(f"/api/search?new_since={indexed_at}&sort=newest")).json()
    assert answer["total"] == every["total"] > 0
    later = await (await client.get("/api/search?new_since=2999-01-01")).json()
    assert later["total"] == 0
    # At a library: the records whose copies it keeps, as its held_at facet counts them.
    library = stored.holdings[0].site or stored.holdings[0].library
    held = await (await client.get(f"/api/search?held_at={library}&page_size=1")).json()
    at = await (await client.get(f"/api/search?new_since={indexed_at[:10]}&new_at={library}")).json()
    assert at["total"] == held["total"] > 0
    record = await (await client.get(f"/api/records/{RECORDS[0].id}")).json()
    assert record["first_seen"] == indexed_at
    assert record["held_since"][library] == indexed_at
