"""Every kind of page passes axe-core's WCAG 2.1 A and AA rules in the real Chromium, in each of the
interface's languages, as a reader signed out, as a patron and as a librarian see it.

axe-core (tests/support/axe.py) judges what a tool can: contrast, names of controls and links, landmarks,
headings, ARIA, the page's language. What it cannot judge (whether the words make sense, the order of
reading) is for people; test_accessibility.py checks the structure we promise beyond it.

With ``UNICAT_REPORT_DIR`` set, each run also writes what it audited to ``axe-<language>.json`` there
(pages, viewers and violations), the report an issue's closing note quotes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from indexer.sites import with_sites
from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, make_account
from tests.search_app.catalogue.test_libraries import BODLEIAN, SCIENCES_PO
from tests.search_app.librarians.test_mail_desk import failed_and_interrupted
from tests.search_app.live_pages import LIVE_PAGE, WAITED_PAGE, LiveSite, open_when_live_done
from tests.search_app.readers.test_request_pages import a_request
from tests.search_app.search_app_catalogue import NAMES, RECORDS, REDIRECTS
from tests.support.axe import AXE_VERSION, Violation, audit
from tests.support.served_app import ServedApp
from unicat import signed_links
from unicat.alerts import UNSUBSCRIBE
from unicat.catalogue import Catalogue
from unicat.clock import utc_now
from unicat.model import Holding, SourceRef, UnionRecord
from unicat.saved_searches import SavedSearch
from unicat.settings import Settings
from unicat.stores.alerts import SqlAlertStore
from unicat.union_generation import write_union_generation

if TYPE_CHECKING:  # imported by pytest as a plugin (below), so that its asserts are rewritten
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser", "tests.search_app.live_site"]

pytestmark = pytest.mark.e2e

LANGUAGES = ("en", "fr", "nl")

# What each viewer opens (records and libraries from tests/search_app/search_app_catalogue.py): the
# pages a reader meets, the answers to bad requests, and the desk of each role.
SIGNED_OUT = (
    "/",
    "/search",
    "/search?q=austen",
    "/search?q=austen&language=eng&sort=year_desc",
    "/search?q=zzyzx",
    "/record/u-pp1980",
    "/record/u-complete",
    "/record/u-nothing",
    "/search?page=abc",
    "/search?availability=available",
    "/record/u-statuses",
    "/search?q=statuses",
    "/signin",
    "/register",
    "/tags",
    "/libraries",
    "/libraries/SCPO",
    "/libraries/NOPE",
    "/new",
    "/new?q=austen&language=eng&days=7",
    "/libraries/SCPO/new",
    "/new?days=abc",
    "/account/history",  # the searches above, in this browser's history
)
PATRON = (
    "/account",
    "/account/requests",
    "/lists",
    "/record/u-pp1980",
    "/record/u-statuses",
    "/search?q=pride",
    "/account/history",
    "/account/searches",
)
LIBRARIAN = (
    "/librarians/harvests",
    "/librarians/quarantine",
    "/librarians/merges",
    "/librarians/merges/u-pp1980",
    "/librarians/moderation",
    "/librarians/overlap",
    "/librarians/mail",
    "/librarians/requests",
    "/librarians/libraries",
    "/librarians/libraries/SCPO",
    "/record/u-pp1980",
)
ADMIN = ("/librarians/libraries", "/librarians/libraries/SCPO", "/librarians/requests")
# The directory the library pages show (the desk librarian works at SCPO, so edits its hours).
LIBRARIES = (
    replace(SCIENCES_PO, opac_url="https://scpo.example.org/record/{local_id}"),
    # Its available copy of u-statuses gives the patron the "Request this book" form.
    replace(BODLEIAN, opac_url="https://oxford.example.org/record/{local_id}", shuttle=True),
)
# A copy in every status, and one whose library says nothing: the colours of the status cells and of
# the results' availability line are audited, on the record page and in the results.
STATUSES = UnionRecord(
    id="u-statuses",
    title="Statuses of copies",
    holdings=[
        Holding("scpo", NAMES["scpo"], "S 1", status="on_loan", due_date="2027-01-15"),
        *(
            Holding("scpo", NAMES["scpo"], f"S {n}", status=status)
            for n, status in enumerate(("not_for_loan", "lost", "damaged", "withdrawn"), start=2)
        ),
        Holding("lyon", NAMES["lyon"], "L 1"),
        Holding("oxford", NAMES["oxford"], "O 1", status="available"),
    ],
    sources=[SourceRef("scpo", "s1"), SourceRef("lyon", "l1"), SourceRef("oxford", "o1")],
)


@pytest.fixture
def site(catalogue: Catalogue, settings: Settings) -> Iterator[str]:
    # With a link resolver and the libraries' catalogue templates, so that their links are audited too.
    app = make_app(catalogue, settings.replace(openurl_resolver="https://resolver.example.org/openurl"))
    with ServedApp(app) as served:
        yield served.url


def alert_pages(catalogue: Catalogue, user_id: int, saved: SavedSearch) -> tuple[str, ...]:
    """The saved search's e-mail and feed switched on (its settings form shows the feed's address and
    the button for a new one), and the pages of its unsubscribe link: asking, and a broken link."""
    assert saved.id is not None
    alerts = SqlAlertStore(catalogue.database)
    alerts.set_alert(user_id, saved.id, "daily", "en", utc_now())
    alerts.set_feed(user_id, saved.id, True)
    alert = alerts.alert(user_id, saved.id)
    assert alert is not None and alert.key is not None
    token = signed_links.sign(alert.key, UNSUBSCRIBE, str(saved.id), datetime.now(UTC) + timedelta(days=1))
    page = f"/alerts/unsubscribe?search={saved.id}&token="
    return (page + token, page + "x")


def _in_language(path: str, language: str) -> str:
    """The page as a link in ``language`` opens it (the language switch remembers it in a cookie)."""
    return f"{path}{'&' if '?' in path else '?'}lang={language}"


def _sign_in(browser: Browser, site: str, email: str) -> None:
    browser.open(site + "/signin")
    browser.fill("#field-email", email)
    browser.fill("#field-password", PASSWORD)
    browser.submit("#field-email")
    assert browser.url == site + "/", f"{email} was not signed in: {browser.text('main')[:200]}"


def _audit_all(
    browser: Browser, site: str, viewer: str, paths: tuple[str, ...], language: str
) -> dict[str, list[Violation]]:
    found: dict[str, list[Violation]] = {}
    for path in paths:
        browser.open(site + _in_language(path, language))
        found[f"{viewer} {path}"] = audit(browser)
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_of_page_passes_wcag21_aa(
    browser: Browser, site: str, catalogue: Catalogue, language: str
) -> None:
    reader = make_account(catalogue.accounts, "reader@example.org", "Reader", "patron", "SCPO")
    make_account(catalogue.accounts, "desk@example.org", "Desk", "librarian", "SCPO")
    make_account(catalogue.accounts, "admin@example.org", "Admin", "admin")
    catalogue.libraries.put_libraries(LIBRARIES)
    # Indexed again with the directory, as `unicat index` does: copies carry their library (the
    # record page groups them by it, the sidebar names it), and the record of every status joins.
    directory = catalogue.libraries.directory()
    records = [with_sites(replace(record), directory) for record in (*RECORDS, STATUSES)]
    write_union_generation(catalogue.records, catalogue.index, records, REDIRECTS)
    failed_and_interrupted(catalogue)  # the mail desk with its table and resend buttons
    assert reader.id is not None
    a_request(catalogue, reader.id, "u-pp1980", "Pride and prejudice", "SCPO")  # with its forms
    austen = SavedSearch(reader.id, "Austen in English", "language=eng&q=austen")
    saved = catalogue.searches.add_search(austen, 10)
    signed_out = (*SIGNED_OUT, *alert_pages(catalogue, reader.id, saved))
    audited = _audit_all(browser, site, "signed out", signed_out, language)
    _sign_in(browser, site, "reader@example.org")
    audited |= _audit_all(browser, site, "patron", PATRON, language)
    browser.reset()
    _sign_in(browser, site, "desk@example.org")
    audited |= _audit_all(browser, site, "librarian", LIBRARIAN, language)
    browser.reset()
    _sign_in(browser, site, "admin@example.org")
    audited |= _audit_all(browser, site, "admin", ADMIN, language)

    if report_dir := os.environ.get("UNICAT_REPORT_DIR"):
        report = {
            "axe_core": AXE_VERSION,
            "language": language,
            "pages": {page: [str(v) for v in violations] for page, violations in audited.items()},
        }
        Path(report_dir, f"axe-{language}.json").write_text(json.dumps(report, indent=2, ensure_ascii=False))
    failing = {page: [str(v) for v in violations] for page, violations in audited.items() if violations}
    assert failing == {}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_live_results_pages_pass_wcag21_aa(browser: Browser, live_site: LiveSite, language: str) -> None:
    """The results page once the live catalogues' answers are placed in it (live-only lines, live
    holdings, "+N live" facets, the panel's final statuses), and the page of ``live=wait``; as a reader
    signed out and as a librarian, who gets the import forms."""
    audited: dict[str, list[Violation]] = {}
    for viewer in ("signed out", "librarian"):
        if viewer == "librarian":
            email = f"live-desk-{language}@example.org"
            make_account(live_site.catalogue.accounts, email, "Desk", "librarian")
            browser.reset()
            _sign_in(browser, live_site.url, email)
        open_when_live_done(browser, live_site.url + _in_language(LIVE_PAGE, language))
        assert browser.find_all(".result-card--live"), "the live lines were placed before the audit"
        audited[f"{viewer} {LIVE_PAGE} (updated)"] = audit(browser)
        browser.open(live_site.url + _in_language(WAITED_PAGE, language))
        audited[f"{viewer} {WAITED_PAGE}"] = audit(browser)
    failing = {page: [str(v) for v in violations] for page, violations in audited.items() if violations}
    assert failing == {}
