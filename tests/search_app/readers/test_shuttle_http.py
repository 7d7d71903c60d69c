"""Inter-library requests over real HTTP (search_app/readers/shuttle.py): a request routed, refused,
moved on, carried and collected by the librarians whose step it is; what nobody else may see or do
(IDOR), CSRF, bad bodies, and changes the state does not allow (409).

The network: a patron of Lyon asks for a record whose copies are available at Sciences Po (Paris,
about 390 km from Lyon) and at the Bodleian (Oxford, about 800 km), on loan at Lyon itself: Paris is
asked first, then Oxford.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from search_app.app import make_app
from tests.search_app.accounts_http import Site, csrf_of
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.model import Holding, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation

Client = TestClient[Any, Any]


PLACES = (
    Library("LYON", "Bibliothèque municipale de Lyon", latitude=45.7640, longitude=4.8357, shuttle=True),
    Library("SCPO", "Bibliothèque de Sciences Po", latitude=48.8541, longitude=2.3282, shuttle=True),
    Library("OXF", "Bodleian Library, Oxford", latitude=51.7541, longitude=-1.2540, shuttle=True),
)
WANTED = UnionRecord(
    id="u-wanted",
    title="Le Rhône, fleuve d'Europe",
    holdings=[
        Holding("lyon", "Bibliothèque municipale de Lyon", status="on_loan", site="LYON"),
        Holding("scpo", "Bibliothèque de Sciences Po", status="available", site="SCPO"),
        Holding("oxford", "Bodleian Library, Oxford", status="available", site="OXF"),
    ],
)
NOWHERE = UnionRecord(
    id="u-nowhere", title="Lost", holdings=[Holding("scpo", "Sciences Po", status="lost", site="SCPO")]
)


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    write_union_generation(catalogue.records, catalogue.index, [*RECORDS, WANTED, NOWHERE], REDIRECTS)
    catalogue.libraries.put_libraries(PLACES)
    app = make_app(catalogue, settings)
    served = await Site(app).start()
    yield served
    await served.close()


async def post(client: Client, path: str, body: object = None, *, csrf: bool = True) -> tuple[int, Any]:
    headers = {"X-CSRF-Token": await csrf_of(client)} if csrf else {}
    answer = (
        await client.post(path, json=body, headers=headers)
        if body is not None
        else await client.post(path, headers=headers)
    )
    return answer.status, await answer.json()


async def get(client: Client, path: str) -> tuple[int, Any]:
    answer = await client.get(path)
    return answer.status, await answer.json()


async def test_a_request_travels_from_the_nearest_library_to_the_patron(
    site: Site, catalogue: Catalogue
) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    oxford = await site.signed_in(accounts, "lib@oxf.example.org", "librarian", "OXF")
    lyon = await site.signed_in(accounts, "lib@lyon.example.org", "librarian", "LYON")

    status, placed = await post(patron, "/api/requests", {"record": "u-wanted"})
    assert status == 201, placed
    number = placed["id"]
    assert (placed["pickup"], placed["holder"], placed["state"]) == ("LYON", "SCPO", "placed")
    assert [candidate["library"] for candidate in placed["candidates"]] == ["OXF"]
    assert "km from the pickup library" in placed["reason"]

    # Oxford is not involved yet: the request does not exist for it.
    assert (await get(oxford, f"/api/requests/{number}"))[0] == 404
    status, refused = await post(paris, f"/api/requests/{number}/refuse", {})
    assert status == 400 and refused["error"]["param"] == "reason"
    status, moved = await post(paris, f"/api/requests/{number}/refuse", {"reason": "Copy at the binder's"})
    assert status == 200 and (moved["holder"], moved["state"]) == ("OXF", "placed")
    assert (await get(paris, f"/api/requests/{number}"))[0] == 404

    # The patron sees it but may not make a librarian's change.
    status, error = await post(patron, f"/api/requests/{number}/accept")
    assert status == 403 and "only by" in error["error"]["message"]
    for client, action in [(oxford, "accept"), (oxford, "send"), (lyon, "arrive"), (lyon, "collect")]:
        status, changed = await post(client, f"/api/requests/{number}/{action}")
        assert status == 200, changed
    status, error = await post(patron, f"/api/requests/{number}/cancel")
    assert status == 409
    assert error["error"]["message"] == f"Request {number} was collected; it cannot be cancelled"

    status, shown = await get(patron, f"/api/requests/{number}")
    assert status == 200 and shown["state"] == "collected"
    assert [event["action"] for event in shown["events"]] == [
        "place",
        "refuse",
        "accept",
        "send",
        "arrive",
        "collect",
    ]
    assert "Copy at the binder's" in shown["events"][1]["reason"]
    assert [item["id"] for item in (await get(patron, "/api/requests"))[1]["requests"]] == [number]
    status, desk = await get(lyon, "/api/requests?library=LYON&side=pickup&state=collected")
    assert status == 200 and [item["id"] for item in desk["requests"]] == [number]
    assert (await get(lyon, "/api/requests?library=OXF"))[0] == 403


async def test_nobody_else_sees_or_acts_on_a_request(site: Site, catalogue: Catalogue) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    intruder = await site.signed_in(accounts, "other@example.org", "patron", "LYON")
    elsewhere = await site.signed_in(accounts, "lib@oxf.example.org", "librarian", "OXF")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    number = (await post(patron, "/api/requests", {"record": "u-wanted"}))[1]["id"]
    for client in (intruder, elsewhere):
        assert (await get(client, f"/api/requests/{number}"))[0] == 404
        for action in ("cancel", "accept", "refuse"):
            status, error = await post(client, f"/api/requests/{number}/{action}", {"reason": "mine now"})
            assert status == 404 and error["error"]["message"] == f"there is no request {number}"
        assert (await get(client, "/api/requests"))[1]["requests"] == []
    # The same answer for a number never given.
    assert (await get(intruder, f"/api/requests/{number + 1000}"))[0] == 404
    # A post without the CSRF token changes nothing.
    assert (await post(paris, f"/api/requests/{number}/accept", csrf=False))[0] == 403
    anonymous = await site.browser()
    assert (await get(anonymous, f"/api/requests/{number}"))[0] == 403
    stored = catalogue.shuttle.get(number)
    assert stored is not None and stored.state == "placed" and len(catalogue.shuttle.events(number)) == 1


async def test_bad_bodies_and_impossible_requests_are_told_apart(site: Site, catalogue: Catalogue) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    homeless = await site.signed_in(accounts, "nohome@example.org", "patron", None)
    headers = {"X-CSRF-Token": await csrf_of(patron), "Content-Type": "application/json"}
    answer = await patron.post("/api/requests", data=b"{not json", headers=headers)
    assert answer.status == 400 and (await answer.json())["error"]["param"] == "body"
    cases: list[tuple[Client, object, int, str]] = [
        (patron, ["u-wanted"], 400, "body"),
        (patron, {"record": "u-wanted", "owner": 7}, 400, "owner"),
        (patron, {"record": "x" * 201}, 400, "record"),
        (patron, {"record": 12}, 400, "record"),
        (patron, {"record": "u-wanted", "pickup": "NOPE"}, 400, "pickup"),
        (patron, {"record": "u-wanted", "pickup": "<script>"}, 400, "pickup"),
        (homeless, {"record": "u-wanted"}, 400, "pickup"),
    ]
    for client, body, expected, param in cases:
        status, error = await post(client, "/api/requests", body)
        assert (status, error["error"].get("param")) == (expected, param), body
    assert (await post(patron, "/api/requests", {"record": "u-missing"}))[0] == 404
    status, error = await post(patron, "/api/requests", {"record": "u-nowhere"})
    assert status == 409 and "no library" in error["error"]["message"]
    number = (await post(patron, "/api/requests", {"record": "u-wanted"}))[1]["id"]
    assert (await post(patron, f"/api/requests/{number}/steal"))[0] == 400
    status, error = await post(patron, f"/api/requests/{number}/cancel", {"version": 7})
    assert status == 409 and "since you looked at it" in error["error"]["message"]
    assert (await post(patron, f"/api/requests/{number}/cancel", {"version": "1"}))[0] == 400
    assert (await post(patron, f"/api/requests/{number}/cancel", {"reason": "x" * 501}))[0] == 400
    assert (await get(patron, "/api/requests?state=placed"))[0] == 400
    assert (await get(patron, "/api/requests?colour=red"))[0] == 400
    assert catalogue.shuttle.events(number)[-1].action == "place"


async def test_the_patron_limit_is_a_409_naming_the_setting(
    site: Site, catalogue: Catalogue, settings: Settings
) -> None:
    patron = await site.signed_in(catalogue.accounts, "reader@example.org", "patron", "LYON")
    limit = settings.shuttle_max_open_per_patron
    for _ in range(limit):
        assert (await post(patron, "/api/requests", {"record": "u-wanted"}))[0] == 201
    status, error = await post(patron, "/api/requests", {"record": "u-wanted"})
    assert status == 409 and "shuttle_max_open_per_patron" in error["error"]["message"]
