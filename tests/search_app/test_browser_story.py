"""The readers' and librarians' story, walked by real headless Chromiums (one per person): a patron
registers, searches, comments and rates; a second patron reports the comment; a librarian hides it;
the first patron sees the outcome. Every page is checked for script errors and alerts: the comment
carries markup that would run if it were ever rendered as HTML.

The catalogue is search_app_catalogue.py's, on SQLite, served as ``unicat serve`` serves it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from search_app.app import make_app
from tests.search_app.accounts_http import PASSWORD, make_account
from tests.support.served_app import ServedApp
from unicat.catalogue import Catalogue
from unicat.settings import Settings

if TYPE_CHECKING:
    from tests.support.browser import Browser

pytest_plugins = ["tests.support.browser"]

pytestmark = pytest.mark.e2e

COMMENT = "Loved it. <img src=x onerror=alert('owned')> Read it twice!"


@pytest.fixture
def site(catalogue: Catalogue, settings: Settings) -> Iterator[str]:
    with ServedApp(make_app(catalogue, settings)) as served:
        yield served.url


def no_script_ran(browser: Browser) -> None:
    assert browser.alert_text() is None
    assert browser.script_errors() == []


def register(browser: Browser, site: str, email: str, name: str) -> None:
    browser.open(site + "/")
    browser.click("a[href='/register']")
    browser.fill("#field-email", email)
    browser.fill("#field-display_name", name)
    browser.fill("#field-password", PASSWORD)
    browser.fill("#field-password_again", PASSWORD)
    browser.submit("#field-email")
    # The same answer whether or not the address had an account: sign in.
    assert browser.url == site + "/signin?done=registered"
    assert browser.text("[role=status]").startswith("Thank you. Sign in with the address and the password")
    browser.fill("#field-email", email)
    browser.fill("#field-password", PASSWORD)
    browser.submit("#field-email")
    assert browser.url == site + "/"
    session = browser.cookie("unicat_session")
    assert (session.http_only, session.secure, session.same_site) == (True, True, "Lax")
    assert browser.execute("return document.cookie;") == ""  # no script can read the session
    browser.open(site + "/account")
    assert browser.text("h1") == "Your account" and name in browser.text("main")


def test_a_comment_is_posted_reported_hidden_and_its_author_sees_why(
    browser: Browser, open_browser: Callable[[], Browser], site: str, catalogue: Catalogue
) -> None:
    # Ann registers, finds Pride and prejudice, comments and rates it.
    register(browser, site, "ann@example.org", "Ann Reader")
    browser.fill("#header-q", "pride prejudice penguin")
    browser.submit("#header-q")
    browser.click(".result-card__title a[href='/record/u-pp1980']")
    assert browser.text("h1") == "Pride and prejudice"
    browser.fill("#field-body", COMMENT)
    browser.submit("#field-body")
    assert browser.url.startswith(site + "/record/u-pp1980#comment-")
    [number] = [comment.id for comment in catalogue.contributions.comments_for(["u-pp1980"])]
    card = f"#comment-{number}"
    assert browser.text(f"{card} .comment__author") == "Ann Reader"
    assert browser.text(f"{card} .comment__body") == COMMENT  # shown as typed: text, not markup
    assert browser.find_all(f"{card} .comment__body img") == []
    browser.click("label[for='stars-4']")
    browser.submit("#stars-4")
    assert "4.0 out of 5 (1 rating)" in browser.text(".rating")
    no_script_ran(browser)

    # Bob, in a browser of his own, registers, finds Ann's comment and reports it.
    bob = open_browser()
    register(bob, site, "bob@example.org", "Bob")
    bob.open(site + "/record/u-pp1980")
    assert bob.text(f"{card} .comment__body") == COMMENT
    bob.click(f"{card} details summary")
    bob.fill(f"#report-{number}", "Rude and off topic")
    bob.submit(f"#report-{number}")
    assert bob.text(f"{card} .comment__reported") == "You reported this comment; a librarian will look at it."
    # Bob is a patron: the librarians' desk is not for him.
    bob.open(site + "/librarians/moderation")
    assert bob.text("h1") == "Not allowed"
    no_script_ran(bob)

    # A librarian signs in, finds the report in the queue and hides the comment.
    make_account(catalogue.accounts, "lib@example.org", "Lena Librarian", role="librarian")
    librarian = open_browser()
    librarian.open(site + "/librarians/moderation")
    assert librarian.url.startswith(site + "/signin?next=")
    # Her browser still holds a session cookie that is no longer any good (signed out elsewhere
    # while this form was open): it is sent with the form, and must not undo the new session.
    librarian.cdp(
        "Network.setCookie",
        name="unicat_session",
        value="signed-out-elsewhere-" + "x" * 30,
        url=site + "/",
        path="/",
        httpOnly=True,
        secure=True,
        sameSite="Lax",
    )
    librarian.fill("#field-email", "lib@example.org")
    librarian.fill("#field-password", PASSWORD)
    librarian.submit("#field-email")
    assert librarian.url == site + "/librarians/moderation"
    assert "Reported by Bob" in librarian.text(f"#comment-{number}")
    assert "Rude and off topic" in librarian.text(f"#comment-{number}")
    librarian.fill(f"#hide-{number}", "Personal remarks are not allowed")
    librarian.submit(f"#hide-{number}")
    assert librarian.text("[role=status]") == "The comment is hidden; its author sees why."
    assert "Personal remarks are not allowed" in librarian.text("#log-title + .table-wrap")
    no_script_ran(librarian)

    # Bob no longer sees the comment; Ann sees it hidden, with the librarian's reason.
    bob.open(site + "/record/u-pp1980")
    assert bob.find_all(card) == [] and bob.text(".comments__empty") == "No comments yet."
    browser.open(site + "/record/u-pp1980")
    assert browser.text(f"{card} .comment__hidden") == (
        "A librarian hid your comment: other readers no longer see it. "
        "Reason: Personal remarks are not allowed"
    )
    assert browser.text(f"{card} .comment__body") == COMMENT
    no_script_ran(browser)
