"""A patron's home library over real HTTP: chosen on the account page (a form with the CSRF token) or
by ``PUT /api/account/library``, among the libraries of the shuttle only; never a librarian's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site, csrf_of, post_form
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.libraries import Library

SCIENCES_PO = Library(
    "SCPO", "Bibliothèque de Sciences Po", names={"en": "Sciences Po Library"}, city="Paris", shuttle=True
)
BODLEIAN = Library("OX-BOD", "Bodleian Library", city="Oxford", shuttle=True)
SPECIAL = Library("OX-SC", "Special Collections", city="Oxford", shuttle=False)


@pytest.fixture
async def site(catalogue: Catalogue) -> AsyncIterator[Site]:
    catalogue.libraries.put_libraries([SCIENCES_PO, BODLEIAN, SPECIAL])
    served = await Site(make_app(catalogue, catalogue.index.settings)).start()
    yield served
    await served.close()


def library_of(catalogue: Catalogue, email: str) -> str | None:
    user = catalogue.accounts.find_user(email)
    assert user is not None
    return user.library


async def test_the_account_page_offers_the_shuttle_libraries_and_keeps_the_choice(
    site: Site, catalogue: Catalogue
) -> None:
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    page = await patron.get("/account", params={"lang": "en"})
    html = await page.text()
    assert_accessible(html)
    options = lxml.html.fromstring(html).findall(".//select[@name='library']/option")
    assert [(option.get("value"), option.text_content()) for option in options] == [
        ("", "None chosen"),
        ("OX-BOD", "Bodleian Library (Oxford)"),
        ("SCPO", "Sciences Po Library (Paris)"),
    ]

    chosen = await post_form(patron, "/account/library", {"library": "SCPO"})

    assert chosen.status == 303 and chosen.headers["Location"] == "/account?done=library"
    assert library_of(catalogue, "pat@example.org") == "SCPO"
    doc = lxml.html.fromstring(await (await patron.get("/account")).text())
    assert doc.find(".//select[@name='library']/option[@selected]").get("value") == "SCPO"
    assert doc.find(".//dl//a[@href='/libraries/SCPO']") is not None


async def test_a_library_outside_the_shuttle_or_unknown_is_refused_and_nothing_changes(
    site: Site, catalogue: Catalogue
) -> None:
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    await post_form(patron, "/account/library", {"library": "OX-BOD"})

    outside = await post_form(patron, "/account/library", {"library": "OX-SC"})
    unknown = await patron.put(
        "/api/account/library", json={"library": "NOPE"}, headers={"X-CSRF-Token": await csrf_of(patron)}
    )
    not_shuttle = await patron.put(
        "/api/account/library", json={"library": "OX-SC"}, headers={"X-CSRF-Token": await csrf_of(patron)}
    )
    shapeless = await patron.put(
        "/api/account/library", json={"code": "SCPO"}, headers={"X-CSRF-Token": await csrf_of(patron)}
    )

    assert outside.status == 400
    assert "does not take part in the shuttle" in lxml.html.fromstring(await outside.text()).text_content()
    assert unknown.status == 400 and (await unknown.json())["error"]["param"] == "library"
    assert "no library 'NOPE'" in (await unknown.json())["error"]["message"]
    assert not_shuttle.status == 400 and "shuttle" in (await not_shuttle.json())["error"]["message"]
    assert shapeless.status == 400 and (await shapeless.json())["error"]["param"] == "body"
    assert library_of(catalogue, "pat@example.org") == "OX-BOD"


async def test_the_json_api_sets_and_forgets_it_with_the_csrf_token(site: Site, catalogue: Catalogue) -> None:
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    token = {"X-CSRF-Token": await csrf_of(patron)}

    no_token = await patron.put("/api/account/library", json={"library": "SCPO"})
    chosen = await patron.put("/api/account/library", json={"library": "SCPO"}, headers=token)
    assert no_token.status == 403
    assert chosen.status == 200 and await chosen.json() == {"library": "SCPO"}
    assert (await (await patron.get("/api/me")).json())["user"]["library"] == "SCPO"

    forgotten = await patron.put("/api/account/library", json={"library": None}, headers=token)
    assert await forgotten.json() == {"library": None} and library_of(catalogue, "pat@example.org") is None


async def test_a_librarian_cannot_move_their_own_workplace_nor_anyone_signed_out(
    site: Site, catalogue: Catalogue
) -> None:
    librarian = await site.signed_in(catalogue.accounts, "anne@example.org", "librarian", library="OX-BOD")
    stranger = await site.browser()

    moved = await librarian.put(
        "/api/account/library", json={"library": "SCPO"}, headers={"X-CSRF-Token": await csrf_of(librarian)}
    )
    by_form = await post_form(librarian, "/account/library", {"library": "SCPO"})
    signed_out = await post_form(stranger, "/account/library", {"library": "SCPO"})

    assert moved.status == 403 and by_form.status == 403 and signed_out.status == 403
    assert library_of(catalogue, "anne@example.org") == "OX-BOD"
    page = lxml.html.fromstring(await (await librarian.get("/account")).text())
    assert page.find(".//select[@name='library']") is None
