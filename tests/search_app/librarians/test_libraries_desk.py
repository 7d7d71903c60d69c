"""The librarians' library directory over real HTTP: administrators add, change and remove libraries;
a librarian changes their own library's hours and contact only; everyone else is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import lxml.html
import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import Site, post_form
from tests.search_app.test_accessibility import assert_accessible
from unicat.catalogue import Catalogue
from unicat.libraries import Library

SCIENCES_PO = Library("SCPO", "Bibliothèque de Sciences Po", source="scpo", city="Paris", shuttle=True)
BODLEIAN = Library("OX-BOD", "Bodleian Library", source="oxford", city="Oxford")
NEW_LIBRARY = {
    "code": "LYON-PD",
    "name": "Bibliothèque de la Part-Dieu",
    "name_en": "Part-Dieu Library",
    "source": "lyon",
    "branches": "PD, PD-ANNEX",
    "street": "30 boulevard Vivier-Merle",
    "postcode": "69003",
    "city": "Lyon",
    "latitude": "45.7609",
    "longitude": "4.8590",
    "hours_tuesday": "10:00-19:00",
    "email": "partdieu@example.org",
    "shuttle": "1",
    "opac_url": "https://opac.example.org/{local_id}",
}


@pytest.fixture
async def site(catalogue: Catalogue) -> AsyncIterator[Site]:
    catalogue.libraries.put_libraries([SCIENCES_PO, BODLEIAN])
    served = await Site(make_app(catalogue, catalogue.index.settings)).start()
    yield served
    await served.close()


async def test_an_admin_adds_a_library_and_a_bad_field_is_named_and_kept(
    site: Site, catalogue: Catalogue
) -> None:
    admin = await site.signed_in(catalogue.accounts, "admin@example.org", "admin")
    page = await admin.get("/librarians/libraries")
    assert page.status == 200
    assert_accessible(await page.text())

    refused = await post_form(admin, "/librarians/libraries", {**NEW_LIBRARY, "latitude": "145"})
    assert refused.status == 400
    doc = lxml.html.fromstring(await refused.text())
    assert "Latitude: '145' is out of range" in doc.find(".//p[@id='form-error']").text_content()
    assert doc.find(".//input[@name='latitude']").get("aria-invalid") == "true"
    assert doc.find(".//input[@name='street']").get("value") == "30 boulevard Vivier-Merle"
    assert catalogue.libraries.get_library("LYON-PD") is None

    added = await post_form(admin, "/librarians/libraries", NEW_LIBRARY)
    assert added.status == 303 and added.headers["Location"] == "/librarians/libraries/LYON-PD?done=added"
    assert catalogue.libraries.get_library("LYON-PD") == Library(
        "LYON-PD",
        "Bibliothèque de la Part-Dieu",
        names={"en": "Part-Dieu Library"},
        source="lyon",
        branches=("PD", "PD-ANNEX"),
        street="30 boulevard Vivier-Merle",
        postcode="69003",
        city="Lyon",
        latitude=45.7609,
        longitude=4.859,
        opening_hours={"tuesday": "10:00-19:00"},
        email="partdieu@example.org",
        shuttle=True,
        opac_url="https://opac.example.org/{local_id}",
    )
    again = await post_form(admin, "/librarians/libraries", NEW_LIBRARY)
    assert again.status == 400 and "library LYON-PD exists" in await again.text()


async def test_an_admin_changes_and_removes_a_library(site: Site, catalogue: Catalogue) -> None:
    admin = await site.signed_in(catalogue.accounts, "admin@example.org", "admin")
    form_page = await admin.get("/librarians/libraries/OX-BOD")
    assert form_page.status == 200
    assert_accessible(await form_page.text())

    saved = await post_form(
        admin, "/librarians/libraries/OX-BOD", {"name": "The Bodleian", "source": "oxford", "city": "Oxford"}
    )
    assert saved.status == 303
    assert catalogue.libraries.get_library("OX-BOD") == Library(
        "OX-BOD", "The Bodleian", source="oxford", city="Oxford"
    )

    removed = await post_form(admin, "/librarians/libraries/OX-BOD/remove", {})
    assert removed.status == 303 and catalogue.libraries.get_library("OX-BOD") is None


async def test_a_librarian_changes_only_the_hours_and_contact_of_their_own_library(
    site: Site, catalogue: Catalogue
) -> None:
    librarian = await site.signed_in(catalogue.accounts, "anne@example.org", "librarian", library="SCPO")
    page = await librarian.get("/librarians/libraries/SCPO")
    assert page.status == 200
    doc = lxml.html.fromstring(await page.text())
    assert (
        doc.find(".//input[@name='name']") is None and doc.find(".//input[@name='hours_monday']") is not None
    )

    sent = {"hours_monday": "09:00-19:00", "phone": "+33 1 99 00 00 03", "name": "Taken over", "shuttle": ""}
    saved = await post_form(librarian, "/librarians/libraries/SCPO", sent)

    assert saved.status == 303
    assert catalogue.libraries.get_library("SCPO") == Library(
        "SCPO", "Bibliothèque de Sciences Po", source="scpo", city="Paris", shuttle=True,
        opening_hours={"monday": "09:00-19:00"}, phone="+33 1 99 00 00 03",
    )  # fmt: skip
    bad = await post_form(librarian, "/librarians/libraries/SCPO", {"hours_friday": "19:00-09:00"})
    assert bad.status == 400
    refused = lxml.html.fromstring(await bad.text())
    assert (
        "'19:00-09:00': each period opens before it closes"
        in refused.find(".//p[@id='form-error']").text_content()
    )
    assert refused.find(".//input[@name='hours_friday']").get("aria-invalid") == "true"


async def test_others_are_refused(site: Site, catalogue: Catalogue) -> None:
    other = await site.signed_in(catalogue.accounts, "bob@example.org", "librarian", library="OX-BOD")
    patron = await site.signed_in(catalogue.accounts, "pat@example.org")
    admin = await site.signed_in(catalogue.accounts, "admin@example.org", "admin")

    assert (await other.get("/librarians/libraries/SCPO")).status == 403
    assert (
        await post_form(other, "/librarians/libraries/SCPO", {"phone": "+33 1 99 00 00 09"})
    ).status == 403
    assert (await post_form(other, "/librarians/libraries", NEW_LIBRARY)).status == 403
    assert (await post_form(other, "/librarians/libraries/OX-BOD/remove", {})).status == 403
    assert (await patron.get("/librarians/libraries")).status == 403
    assert (
        await post_form(patron, "/librarians/libraries/SCPO", {"phone": "+33 1 99 00 00 09"})
    ).status == 403
    no_token = await admin.post("/librarians/libraries/SCPO", data={"name": "X"}, allow_redirects=False)
    assert no_token.status == 403
    assert (await admin.get("/librarians/libraries/NOPE")).status == 404
    assert catalogue.libraries.list_libraries() == [BODLEIAN, SCIENCES_PO]
