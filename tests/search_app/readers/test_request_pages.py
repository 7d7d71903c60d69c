"""The shuttle's pages over real HTTP (search_app/readers/request_pages.py and
search_app/librarians/requests_desk.py): a patron requests a book from its page, the holding
library's librarian accepts and sends it at their desk, the pickup library's marks it arrived and
collected, and the patron follows it in their account. Then what nobody else may do (IDOR, CSRF) and
two librarians acting at once.

The network is test_shuttle_http's: a patron of Lyon asks for a record on loan at Lyon and available at
Sciences Po (Paris, about 390 km away) and at the Bodleian (Oxford, about 800 km): Paris is asked first.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import lxml.html
import pytest
from aiohttp.test_utils import TestClient

from search_app.app import make_app
from tests.conftest import CatalogueFactory
from tests.search_app.accounts_http import Site, csrf_of
from tests.search_app.readers.test_shuttle_http import NOWHERE, PLACES, WANTED
from tests.search_app.readers.test_shuttle_mail_http import LIBRARIES as MAIL_LIBRARIES
from tests.search_app.readers.test_shuttle_mail_http import PARIS_DESK, PATRON, kinds
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS
from tests.support.smtp_server import smtp_server
from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat.shuttle import Request
from unicat.union_generation import write_union_generation

Client = TestClient[Any, Any]


@pytest.fixture
async def site(catalogue: Catalogue, settings: Settings) -> AsyncIterator[Site]:
    write_union_generation(catalogue.records, catalogue.index, [*RECORDS, WANTED, NOWHERE], REDIRECTS)
    catalogue.libraries.put_libraries(PLACES)
    served = await Site(make_app(catalogue, settings)).start()
    yield served
    await served.close()


async def page(client: Client, path: str) -> tuple[int, lxml.html.HtmlElement]:
    answer = await client.get(path, allow_redirects=False)
    text = await answer.text()
    return answer.status, lxml.html.fromstring(text) if text else lxml.html.fromstring("<p></p>")


async def submit(
    client: Client, action: str, fields: dict[str, str], *, csrf: bool = True
) -> tuple[int, str]:
    """Post a form as the browser would; the status and the page (or the redirect's target)."""
    data = {**fields, **({"csrf": await csrf_of(client)} if csrf else {})}
    answer = await client.post(action, data=data, allow_redirects=False)
    return answer.status, answer.headers.get("Location") or await answer.text()


def desk_form(doc: lxml.html.HtmlElement, request_id: int, action: str) -> dict[str, str]:
    """The fields of the desk's form for ``action`` on request ``request_id`` (its version above all)."""
    [form] = doc.xpath(f"//form[@action='/librarians/requests/{request_id}/{action}']")
    return {name: value for name, value in form.form_values() if name != "csrf"}


def text_of(doc: lxml.html.HtmlElement, css: str) -> str:
    return " ".join(" ".join(node.text_content().split()) for node in doc.cssselect(css))


async def place(site: Site, patron: Client) -> int:
    status, location = await submit(patron, "/record/u-wanted/request", {})
    assert (status, location) == (303, "/account/requests?done=placed")
    _, doc = await page(patron, "/account/requests")
    [item] = doc.cssselect(".request")
    return int(item.get("id").removeprefix("request-"))


def a_request(catalogue: Catalogue, patron_id: int, record: str, title: str, library: str) -> Request:
    """A request stored straight in the store, lent and collected at ``library`` (the request pages
    with something on them, for the browser tests)."""
    return catalogue.shuttle.create(Request(patron_id, record, title, library, library, "pickup"))


async def test_a_request_placed_carried_and_collected_through_the_pages(
    site: Site, catalogue: Catalogue
) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    lyon = await site.signed_in(accounts, "lib@lyon.example.org", "librarian", "LYON")

    status, record = await page(patron, "/record/u-wanted")
    assert status == 200
    offer = text_of(record, ".record-request")
    assert "Bibliothèque municipale de Lyon" in offer  # where the patron collects it
    assert "Bibliothèque de Sciences Po" in offer and "km from the pickup library" in offer
    assert record.cssselect(".record-request form[action='/record/u-wanted/request'] input[name=csrf]")

    _, account = await page(patron, "/account")
    assert account.cssselect("a[href='/account/requests']")
    number = await place(site, patron)
    _, mine = await page(patron, "/account/requests?done=placed")
    assert "Your request was placed" in text_of(mine, ".notice")
    assert mine.cssselect(f"#request-{number} a[href='/record/u-wanted']")
    assert "Waiting for a library to accept it" in text_of(mine, f"#request-{number} .request__state")
    assert mine.cssselect(f"form[action='/account/requests/{number}/cancel']")

    # Administrators see every library's desk, or one library's.
    admin = await site.signed_in(accounts, "admin@example.org", "admin")
    # As the pickup library, Lyon has nothing to do yet; Oxford is not involved.
    for library, shown, to_accept in [
        ("", True, True),
        ("SCPO", True, True),
        ("LYON", True, False),
        ("OXF", False, False),
    ]:
        _, desk = await page(admin, f"/librarians/requests?library={library}")
        assert bool(desk.cssselect("a[href='/record/u-wanted']")) == shown, library
        assert bool(desk.cssselect(f"form[action='/librarians/requests/{number}/accept']")) == to_accept, (
            library
        )
    _, desk = await page(paris, "/librarians/requests")
    assert desk.cssselect(".librarians-nav a[href='/librarians/requests'][aria-current=page]")
    assert "km from the pickup library" in text_of(desk, "#side-holder ~ ul .request")

    for client, action in [(paris, "accept"), (paris, "send"), (lyon, "arrive"), (lyon, "collect")]:
        _, desk = await page(client, "/librarians/requests")
        status, location = await submit(
            client, f"/librarians/requests/{number}/{action}", desk_form(desk, number, action)
        )
        assert (status, location) == (303, "/librarians/requests?done=changed"), action

    _, mine = await page(patron, "/account/requests")
    assert text_of(mine, f"#request-{number} .request__state") == "Collected"
    assert not mine.cssselect(f"form[action='/account/requests/{number}/cancel']")  # too late to cancel
    history = [
        " ".join(li.text_content().split()) for li in mine.cssselect(f"#request-{number} .request-history li")
    ]
    assert [line.split(" — ", 1)[1].split(" → ")[0] for line in history] == [
        "you placed the request",
        "library SCPO accepted it",
        "library SCPO sent it",
        "library LYON marked it arrived",
        "library LYON marked it collected",
    ]
    _, desk = await page(lyon, "/librarians/requests?state=collected")
    assert desk.cssselect(f"form[action='/librarians/requests/{number}/return']")


async def test_the_patron_cancels_and_no_one_else_can(site: Site, catalogue: Catalogue) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    other = await site.signed_in(accounts, "other@example.org", "patron", "LYON")
    oxford = await site.signed_in(accounts, "lib@oxf.example.org", "librarian", "OXF")
    number = await place(site, patron)

    # Another patron's request, and a librarian of a library not (yet) involved: it does not exist.
    assert (await submit(other, f"/account/requests/{number}/cancel", {"version": "1"}))[0] == 404
    assert (await submit(oxford, f"/librarians/requests/{number}/accept", {"version": "1"}))[0] == 404
    # Without the CSRF token nothing happens.
    assert (await submit(patron, f"/account/requests/{number}/cancel", {"version": "1"}, csrf=False))[
        0
    ] == 403
    assert (await page(patron, "/librarians/requests"))[0] == 403

    status, location = await submit(patron, f"/account/requests/{number}/cancel", {"version": "1"})
    assert (status, location) == (303, "/account/requests?done=cancelled")
    _, mine = await page(patron, "/account/requests")
    assert text_of(mine, f"#request-{number} .request__state") == "Cancelled"
    # The old form, sent again: told what the request is now, nothing done twice.
    status, shown = await submit(patron, f"/account/requests/{number}/cancel", {"version": "1"})
    assert status == 409 and "it is now “cancelled”" in shown
    events = catalogue.shuttle.events(number)
    assert [event.action for event in events] == ["place", "cancel"]


async def test_two_librarians_at_once_one_wins_the_other_is_told(site: Site, catalogue: Catalogue) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, "reader@example.org", "patron", "LYON")
    first = await site.signed_in(accounts, "one@scpo.example.org", "librarian", "SCPO")
    second = await site.signed_in(accounts, "two@scpo.example.org", "librarian", "SCPO")
    number = await place(site, patron)
    forms = []
    for client in (first, second):
        _, desk = await page(client, "/librarians/requests")
        forms.append(desk_form(desk, number, "accept"))

    answers = await asyncio.gather(
        submit(first, f"/librarians/requests/{number}/accept", forms[0]),
        submit(second, f"/librarians/requests/{number}/accept", forms[1]),
    )
    assert sorted(status for status, _ in answers) == [303, 409]
    [told] = [shown for status, shown in answers if status == 409]
    assert "changed by someone else meanwhile: it is now “accepted" in told
    assert [event.action for event in catalogue.shuttle.events(number)] == ["place", "accept"]


async def test_the_record_page_says_what_to_do_first(site: Site, catalogue: Catalogue) -> None:
    signed_out = await site.browser()
    _, doc = await page(signed_out, "/record/u-wanted")
    assert doc.cssselect(".record-request a[href^='/signin?next=']")
    homeless = await site.signed_in(catalogue.accounts, "new@example.org", "patron")
    _, doc = await page(homeless, "/record/u-wanted")
    assert doc.cssselect(".record-request a[href^='/account']")
    assert not doc.cssselect(".record-request form")
    # No copy available in the shuttle: nothing to request.
    _, doc = await page(homeless, "/record/u-nowhere")
    assert not doc.cssselect(".record-request")


async def test_a_limit_reached_is_a_page_naming_it(
    site: Site, catalogue: Catalogue, settings: Settings
) -> None:
    patron = await site.signed_in(catalogue.accounts, "reader@example.org", "patron", "LYON")
    for _ in range(settings.shuttle_max_open_per_patron):
        assert (await submit(patron, "/record/u-wanted/request", {}))[0] == 303
    status, shown = await submit(patron, "/record/u-wanted/request", {})
    assert status == 409 and "shuttle_max_open_per_patron" in shown


async def test_the_pages_send_the_same_e_mails_as_the_api(catalogue_factory: CatalogueFactory) -> None:
    """Placing from the record page and accepting at the desk store the e-mails the JSON API's calls
    do: the patron is told the request was placed, then accepted; the library asked, that it has one."""
    catalogue = catalogue_factory()
    write_union_generation(catalogue.records, catalogue.index, [WANTED, NOWHERE], {})
    catalogue.libraries.put_libraries(MAIL_LIBRARIES)
    with smtp_server() as mailbox:
        settings = catalogue.index.settings.replace(
            smtp_host="127.0.0.1",
            smtp_port=mailbox.port,
            smtp_security="none",
            mail_from="catalogue@example.org",
        )
        site = await Site(make_app(catalogue, settings)).start()
        try:
            patron = await site.signed_in(catalogue.accounts, PATRON, "patron", "LYON")
            paris = await site.signed_in(catalogue.accounts, "lib@scpo.example.org", "librarian", "SCPO")
            number = await place(site, patron)
            _, desk = await page(paris, "/librarians/requests")
            form = desk_form(desk, number, "accept")
            assert (await submit(paris, f"/librarians/requests/{number}/accept", form))[0] == 303
            assert kinds(catalogue, PATRON) == ["request_placed", "request_accepted"]
            assert kinds(catalogue, PARIS_DESK) == ["request_incoming"]
        finally:
            await site.close()
