"""An e-mail at each step of an inter-library request (search_app/shuttle_mail.py), on SQLite and on
PostgreSQL: requests placed and changed over real HTTP, the outbox sending to a real SMTP server on
loopback, and what arrived read with Python's ``email`` package.

The network of tests/search_app/readers/test_shuttle_http.py: a patron of Lyon asks for a book
available at Sciences Po (Paris, nearest) and at the Bodleian (Oxford); each library has an address
in the directory, Lyon its opening hours too. The patron places requests in French (``?lang=fr``):
each message about them says ``Content-Language: fr``; the libraries' are in the site's language.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from email.message import EmailMessage

import pytest

from search_app.app import make_app
from search_app.outbox import OUTBOX
from search_app.readers.shuttle import LIBRARY_PLACES
from tests.conftest import CatalogueFactory
from tests.search_app.accounts_http import Site
from tests.search_app.readers.test_shuttle_http import NOWHERE, PLACES, WANTED, Client, get, post
from tests.support.smtp_server import Mailbox, html_part, smtp_server, text_part
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.union_generation import write_union_generation

PATRON = "lecteur@example.org"
LIBRARIES = [
    Library(
        "LYON",
        "Bibliothèque municipale de Lyon",
        street="30 boulevard Vivier-Merle",
        postcode="69003",
        city="Lyon",
        country="France",
        opening_hours={"tuesday": "10:00-19:00", "saturday": "10:00-18:00", "sunday": "closed"},
        email="navette@bm-lyon.example.org",
        shuttle=True,
    ),
    Library("SCPO", "Bibliothèque de Sciences Po", city="Paris", email="pret@scpo.example.org", shuttle=True),
    # No address in the directory: Oxford is asked, and nobody is written to for it.
    Library("OXF", "Bodleian Library", city="Oxford", shuttle=True),
]
PARIS_DESK = "pret@scpo.example.org"


@pytest.fixture
def catalogue(catalogue_factory: CatalogueFactory) -> Catalogue:
    catalogue = catalogue_factory()
    write_union_generation(catalogue.records, catalogue.index, [WANTED, NOWHERE], {})
    catalogue.libraries.put_libraries(LIBRARIES)
    return catalogue


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def site(catalogue: Catalogue, mailbox: Mailbox) -> AsyncIterator[Site]:
    settings = catalogue.index.settings.replace(
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_security="none",
        mail_from="catalogue@example.org", site_url="https://catalogue.example.org",
    )  # fmt: skip
    app = make_app(catalogue, settings)
    app[LIBRARY_PLACES] = PLACES
    served = await Site(app).start()
    yield served
    await served.close()


async def delivered(site: Site, mailbox: Mailbox, address: str) -> list[EmailMessage]:
    """What ``address`` received once the outbox has handed every stored message to the server."""
    await site.app[OUTBOX].drain()
    return mailbox.to(address)


def kinds(catalogue: Catalogue, address: str) -> list[str]:
    """The templates of the messages stored for ``address``, oldest first."""
    return [
        message.kind for message in reversed(catalogue.outbox.list_messages()) if message.recipient == address
    ]


def check_parts(message: EmailMessage, language: str, number: int) -> tuple[str, str]:
    """A message of both parts, in ``language``, about request ``number``: its text and HTML."""
    assert message["From"] == "catalogue@example.org"
    assert message["Content-Language"] == language
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    assert str(number) in message["Subject"] and f"{number}: " in text
    assert f'<html lang="{language}">' in html and "https://catalogue.example.org/record/u-wanted" in html
    return text, html


async def place(site: Site, patron: Client, *, lang: str = "fr") -> int:
    status, placed = await post(patron, f"/api/requests?lang={lang}", {"record": "u-wanted"})
    assert status == 201, placed
    return int(placed["id"])


async def test_each_step_sends_its_message_once_to_the_patron_and_the_library_asked(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, PATRON, "patron", "LYON")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    oxford = await site.signed_in(accounts, "lib@oxf.example.org", "librarian", "OXF")
    lyon = await site.signed_in(accounts, "lib@lyon.example.org", "librarian", "LYON")

    number = await place(site, patron)
    [placed] = await delivered(site, mailbox, PATRON)
    text, _ = check_parts(placed, "fr", number)
    assert "Bibliothèque de Sciences Po" in text and "km from the pickup library" in text
    [incoming] = await delivered(site, mailbox, PARIS_DESK)
    text, _ = check_parts(incoming, "en", number)
    assert "New request" in incoming["Subject"] and "Bibliothèque municipale de Lyon" in text

    refusal = "Exemplaire chez le relieur"
    assert (await post(paris, f"/api/requests/{number}/refuse", {"reason": refusal}))[0] == 200
    for client, action in [(oxford, "accept"), (oxford, "send"), (lyon, "arrive"), (lyon, "collect")]:
        status, changed = await post(client, f"/api/requests/{number}/{action}")
        assert status == 200, changed

    arrived = await delivered(site, mailbox, PATRON)
    assert kinds(catalogue, PATRON) == [
        "request_placed",
        "request_moved",
        "request_accepted",
        "request_sent",
        "request_arrived",
    ]  # collecting the book sends nothing: the patron is at the desk
    assert len(arrived) == 5 and all(message["Content-Language"] == "fr" for message in arrived)
    moved_text, _ = check_parts(arrived[1], "fr", number)
    assert refusal in moved_text and "asked next" not in moved_text and "Bodleian Library" in moved_text
    ready_text, ready_html = check_parts(arrived[4], "fr", number)
    assert "Bibliothèque municipale de Lyon" in arrived[4]["Subject"]
    for shown in (ready_text, ready_html):
        assert "30 boulevard Vivier-Merle" in shown and "69003 Lyon" in shown
        assert "10:00-19:00" in shown and "10:00-18:00" in shown
    # The libraries: Paris was told once of the request, Oxford has no address, Lyon lends nothing.
    assert len(await delivered(site, mailbox, PARIS_DESK)) == 1
    assert kinds(catalogue, "navette@bm-lyon.example.org") == []
    assert len(mailbox.messages) == 6


async def test_a_refusal_by_every_library_a_failure_and_a_cancellation_tell_the_patron(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, PATRON, "patron", "LYON")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    oxford = await site.signed_in(accounts, "lib@oxf.example.org", "librarian", "OXF")

    refused = await place(site, patron)
    await post(paris, f"/api/requests/{refused}/refuse", {"reason": "Relié"})
    assert (await post(oxford, f"/api/requests/{refused}/refuse", {"reason": "Only in the reading room"}))[
        0
    ] == 200
    failed = await place(site, patron, lang="en")
    await post(paris, f"/api/requests/{failed}/accept")
    assert (await post(paris, f"/api/requests/{failed}/fail", {"reason": "The copy is lost"}))[0] == 200
    cancelled = await place(site, patron)
    assert (await post(patron, f"/api/requests/{cancelled}/cancel"))[0] == 200

    messages = await delivered(site, mailbox, PATRON)
    assert kinds(catalogue, PATRON) == [
        *("request_placed", "request_moved", "request_refused"),
        *("request_placed", "request_accepted", "request_failed"),
        *("request_placed", "request_cancelled"),
    ]
    refused_text, _ = check_parts(messages[2], "fr", refused)
    assert "Only in the reading room" in refused_text
    failed_text, _ = check_parts(messages[5], "en", failed)  # placed in English: written in English
    assert "The copy is lost" in failed_text
    check_parts(messages[7], "fr", cancelled)
    assert len(messages) == 8


async def test_a_change_refused_or_retried_stores_no_message(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    accounts = catalogue.accounts
    patron = await site.signed_in(accounts, PATRON, "patron", "LYON")
    paris = await site.signed_in(accounts, "lib@scpo.example.org", "librarian", "SCPO")
    number = await place(site, patron)
    version = (await get(patron, f"/api/requests/{number}"))[1]["version"]
    stored = sum(catalogue.outbox.counts().values())  # in any state: the app's sender runs meanwhile

    status, error = await post(paris, f"/api/requests/{number}/send")  # not accepted yet
    assert status == 409, error
    status, error = await post(paris, f"/api/requests/{number}/accept", {"version": version + 1})
    assert status == 409, error
    assert sum(catalogue.outbox.counts().values()) == stored == 2

    status, accepted = await post(paris, f"/api/requests/{number}/accept", {"version": version})
    assert status == 200, accepted
    status, again = await post(paris, f"/api/requests/{number}/accept", {"version": version})
    assert status == 409 and "was accepted" in again["error"]["message"]
    assert kinds(catalogue, PATRON) == ["request_placed", "request_accepted"]
    assert len(await delivered(site, mailbox, PATRON)) == 2


async def test_without_a_mail_server_requests_store_no_message(catalogue: Catalogue) -> None:
    app = make_app(catalogue, catalogue.index.settings)
    app[LIBRARY_PLACES] = PLACES
    site = await Site(app).start()
    try:
        patron = await site.signed_in(catalogue.accounts, PATRON, "patron", "LYON")
        number = await place(site, patron)
        assert (await post(patron, f"/api/requests/{number}/cancel"))[0] == 200
        assert sum(catalogue.outbox.counts().values()) == 0
    finally:
        await site.close()
