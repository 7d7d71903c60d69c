"""The shuttle's story, walked by real headless Chromiums (one per person), with every e-mail read at
a real SMTP server on loopback: a patron of Ghent chooses Ghent as their home library, finds a book
whose Ghent copy is on loan, sees that Antwerp would be asked and why, and requests it from the page
opened in French; a librarian of Antwerp accepts and sends it at their desk; a librarian of Ghent
marks it arrived, then collected; the patron follows it in their account. After each step the e-mail
it sends is awaited and read (recipient, subject naming the request, text and HTML parts, language);
at the end the server has exactly the messages the steps send (docs/shuttle.md#e-mail-at-each-step),
none twice. Every page is checked for script errors and alerts.

The catalogue is search_app_catalogue.py's with one record more, on SQLite, served as ``unicat serve``
serves it, its own mail sender delivering.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, make_account
from tests.search_app.search_app_catalogue import RECORDS, REDIRECTS
from tests.support.served_app import ServedApp
from tests.support.smtp_server import Mailbox, html_part, smtp_server, text_part
from unicat.catalogue import Catalogue
from unicat.libraries import Library
from unicat.model import Holding, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.e2e

SITE_URL = "https://catalogue.example.org"
SENDER = "catalogue@example.org"
PATRON = "lezer@example.org"
GHENT_DESK = "navette@krook.example.org"
ANTWERP_DESK = "pret@conscience.example.org"
# The libraries of docs/shuttle.md's example: Antwerp is 51 km from Ghent.
GHENT = Library(
    "GENT",
    "De Krook",
    street="Miriam Makebaplein 1",
    postcode="9000",
    city="Gent",
    country="Belgium",
    opening_hours={"monday": "10:00-19:00", "saturday": "10:00-17:00", "sunday": "closed"},
    email=GHENT_DESK,
    latitude=51.0543,
    longitude=3.7174,
    shuttle=True,
)
ANTWERP = Library(
    "ANT",
    "Erfgoedbibliotheek Hendrik Conscience",
    city="Antwerpen",
    country="Belgium",
    email=ANTWERP_DESK,
    latitude=51.2194,
    longitude=4.4025,
    shuttle=True,
)
RECORD = "u-schelde"
TITLE = "De Schelde, een rivier door drie landen"
WANTED = UnionRecord(
    id=RECORD,
    title=TITLE,
    holdings=[
        Holding("gent", "Stadsbibliotheek Gent", status="on_loan", due_date="2026-12-24", site="GENT"),
        Holding("antwerpen", "Bibliotheek Antwerpen", status="available", site="ANT"),
    ],
)
MAIL_SECONDS = 30.0


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
def site(catalogue: Catalogue, settings: Settings, mailbox: Mailbox) -> Iterator[str]:
    write_union_generation(catalogue.records, catalogue.index, [*RECORDS, WANTED], REDIRECTS)
    catalogue.libraries.put_libraries([GHENT, ANTWERP])
    mailing = settings.replace(
        smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_security="none",
        mail_from=SENDER, site_url=SITE_URL,
    )  # fmt: skip
    with ServedApp(make_app(catalogue, mailing)) as served:
        yield served.url


def no_script_ran(browser: Browser) -> None:
    assert browser.alert_text() is None
    assert browser.script_errors() == []


def sign_in(browser: Browser, site: str, email: str, page: str) -> None:
    """Open ``page``, be sent to the sign-in form, sign in and come back to it."""
    browser.open(site + page)
    assert browser.url.startswith(site + "/signin?next=")
    browser.fill("#field-email", email)
    browser.fill("#field-password", PASSWORD)
    browser.submit("#field-email")
    assert browser.url == site + page
    no_script_ran(browser)


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll ``condition`` for up to MAIL_SECONDS: the app's sender delivers a change's messages
    moments after the change that stored them."""
    deadline = time.monotonic() + MAIL_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"waited {MAIL_SECONDS:g} s for {what}"
        time.sleep(0.05)


def new_mail(mailbox: Mailbox, seen: int, count: int) -> list[EmailMessage]:
    """The ``count`` messages the server receives after the first ``seen``, awaited, by recipient."""
    wait_until(lambda: len(mailbox.messages) >= seen + count, f"{count} e-mails after the first {seen}")
    return sorted(mailbox.messages[seen:], key=lambda message: str(message["To"]))


def read(message: EmailMessage, to: str, subject: str, language: str, number: int) -> tuple[str, str]:
    """Check a message of both parts to ``to`` about request ``number``; its text and HTML."""
    assert (message["From"], message["To"], message["Subject"]) == (SENDER, to, subject)
    assert message["Content-Language"] == language
    assert message.get_content_type() == "multipart/alternative"
    text, html = text_part(message), html_part(message)
    # "Request 3: …", "Demande 3 : …" (French puts a space before a colon), then the book's link.
    assert re.search(rf"\b{number}\s?: ", text) and TITLE in text and TITLE in html
    assert f'<html lang="{language}">' in html
    assert f"{SITE_URL}/record/{RECORD}" in text and f'href="{SITE_URL}/record/{RECORD}"' in html
    return text, html


def history(browser: Browser, number: int) -> list[str]:
    """The lines of a request's history on the patron's page: who did what (times left out)."""
    browser.click(f"#request-{number} .request-history summary")
    lines = browser.texts(f"#request-{number} .request-history li")
    return [line.split(" — ", 1)[1].split(" → ")[0] for line in lines]


def act(librarian: Browser, site: str, number: int, action: str, done: str = "changed") -> None:
    """Press a button of the desk on request ``number``: the desk comes back saying it is done."""
    librarian.open(site + "/librarians/requests")
    librarian.submit(f"form[action='/librarians/requests/{number}/{action}'] button")
    assert librarian.url == f"{site}/librarians/requests?done={done}"
    assert librarian.find_all(f"form[action='/librarians/requests/{number}/{action}']") == []
    no_script_ran(librarian)


def test_a_book_held_elsewhere_is_requested_carried_and_collected_with_an_e_mail_at_each_step(
    browser: Browser, open_browser: Callable[[], Browser], site: str, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    make_account(catalogue.accounts, PATRON, "Lies Lezer")
    make_account(catalogue.accounts, "lib@conscience.example.org", "Anton", role="librarian", library="ANT")
    make_account(catalogue.accounts, "lib@krook.example.org", "Griet", role="librarian", library="GENT")

    # The patron signs in and chooses Ghent, the library they collect books at, on their account page.
    sign_in(browser, site, PATRON, "/account")
    assert browser.text("#field-library option:checked") == "None chosen"
    browser.click("#field-library option[value='GENT']")
    browser.submit("#field-library")
    assert browser.url == site + "/account?done=library"
    assert browser.text("#field-library option:checked") == "De Krook (Gent)"
    no_script_ran(browser)

    # They find the book: Ghent's copy is on loan, Antwerp's available.
    browser.fill("#header-q", "schelde rivier")
    browser.submit("#header-q")
    browser.click(f".result-card__title a[href='/record/{RECORD}']")
    assert browser.text("h1") == TITLE
    on_loan = browser.text("#holdings .copy-status--on_loan")
    assert on_loan.startswith("On loan until") and "2026" in on_loan
    assert browser.text("#holdings .copy-status--available") == "Available"
    # Where it would come from and why: Antwerp, the nearest shuttle library with a copy available.
    offer = browser.find(".record-request")
    assert offer.find("a[href='/libraries/GENT']").text == "De Krook"
    assert offer.find("a[href='/libraries/ANT']").text == "Erfgoedbibliotheek Hendrik Conscience"
    assert "51 km from the pickup library" in offer.text
    no_script_ran(browser)

    # They open the book's page in French, as a shared link would (``?lang=fr``), and request it: the
    # request is placed in French, the language its e-mails to the patron are written in.
    browser.open(f"{site}/record/{RECORD}?lang=fr")
    assert browser.find("html").attribute("lang") == "fr"
    assert "51 km de la bibliothèque de retrait" in browser.text(".record-request")
    browser.submit(".record-request__form button")
    assert browser.url == site + "/account/requests?done=placed&lang=fr"
    assert browser.find("html").attribute("lang") == "fr"
    [item] = browser.find_all(".request")
    number = int(str(item.attribute("id")).removeprefix("request-"))
    no_script_ran(browser)

    # Placed: the patron is told (in French) which library is asked and why; Antwerp (in the site's
    # language, English) that it has a request to accept or refuse.
    placed, incoming = new_mail(mailbox, 0, 2)
    text, _ = read(placed, PATRON, f"Votre demande {number} est enregistrée", "fr", number)
    assert "Erfgoedbibliotheek Hendrik Conscience" in text and "51 km de la bibliothèque de retrait" in text
    text, _ = read(incoming, ANTWERP_DESK, f"New request {number} for Erfgoedbibliotheek Hendrik Conscience",
                   "en", number)  # fmt: skip
    assert "to collect it at De Krook" in text and "51 km from the pickup library" in text

    # Antwerp's librarian finds it on the desk, to lend, and accepts it.
    antwerp = open_browser()
    sign_in(antwerp, site, "lib@conscience.example.org", "/librarians/requests")
    lend = antwerp.text(f"#request-holder-{number}")
    assert TITLE in lend and "De Krook" in lend and "51 km from the pickup library" in lend
    act(antwerp, site, number, "accept")
    [accepted] = new_mail(mailbox, 2, 1)
    text, _ = read(accepted, PATRON, f"Votre demande {number} est acceptée", "fr", number)
    assert "Erfgoedbibliotheek Hendrik Conscience" in text and "De Krook" in text

    # … and sends it.
    act(antwerp, site, number, "send")
    [sent] = new_mail(mailbox, 3, 1)
    read(sent, PATRON, f"Votre demande {number} est en route", "fr", number)

    # Ghent's librarian, the pickup library's, has it to hand over and marks it arrived.
    ghent = open_browser()
    sign_in(ghent, site, "lib@krook.example.org", "/librarians/requests")
    assert TITLE in ghent.text(f"#request-pickup-{number}")
    act(ghent, site, number, "arrive")
    [arrived] = new_mail(mailbox, 4, 1)
    text, html = read(arrived, PATRON, f"Votre demande {number} vous attend à De Krook", "fr", number)
    for shown in (text, html):  # where and when to collect it
        assert "Miriam Makebaplein 1" in shown and "9000 Gent" in shown
        assert "10:00-19:00" in shown and "10:00-17:00" in shown

    # The patron's account: ready to collect, with its history.
    browser.open(site + "/account")
    browser.click("a[href='/account/requests']")
    ready = browser.text(f"#request-{number} .request__state")
    assert ready == "Arrived: ready to collect at the pickup library"
    assert history(browser, number) == [
        "you placed the request",
        "library ANT accepted it",
        "library ANT sent it",
        "library GENT marked it arrived",
    ]
    no_script_ran(browser)

    # The patron comes to the desk: Ghent's librarian marks it collected, which sends no e-mail.
    act(ghent, site, number, "collect")
    browser.open(site + "/account/requests")
    assert browser.text(f"#request-{number} .request__state") == "Collected"
    assert browser.find_all(f"form[action='/account/requests/{number}/cancel']") == []
    assert history(browser, number)[-1] == "library GENT marked it collected"
    no_script_ran(browser)

    # Each step's message, once: the change stored it with itself, and the sender sent it once.
    def settled() -> bool:
        counts = catalogue.outbox.counts()
        return counts["queued"] == counts["sending"] == 0

    wait_until(settled, "the outbox to send every e-mail it stores")
    assert {state: n for state, n in catalogue.outbox.counts().items() if n} == {"sent": 5}
    delivered = [(message["To"], message["Subject"]) for message in mailbox.messages]
    assert sorted(delivered[:2]) == [
        (PATRON, f"Votre demande {number} est enregistrée"),
        (ANTWERP_DESK, f"New request {number} for Erfgoedbibliotheek Hendrik Conscience"),
    ]
    assert delivered[2:] == [
        (PATRON, f"Votre demande {number} est acceptée"),
        (PATRON, f"Votre demande {number} est en route"),
        (PATRON, f"Votre demande {number} vous attend à De Krook"),
    ]
    assert mailbox.to(GHENT_DESK) == []  # the pickup library lends nothing: it is not written to
