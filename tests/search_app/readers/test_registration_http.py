"""Registering over real HTTP, on both storage setups, without telling anyone which addresses have an
account: with e-mail (a real SMTP server on 127.0.0.1), a new address gets a single-use link that
creates the account and an existing one gets a message saying so, behind the same answer; without
e-mail, both get the same answer too.

Expected answers come from the attack's definition: the page a registering browser sees must be the
same for an address with an account and one without.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from search_app.app import make_app
from search_app.outbox import MAILS_PER_RECIPIENT, OUTBOX
from tests.conftest import CatalogueFactory
from tests.search_app.accounts_http import PASSWORD, Site, make_account, me, post_form, register, sign_in
from tests.support.loopback import free_port
from tests.support.smtp_server import Mailbox, smtp_server, text_part
from unicat.accounts import new_registration, verify_password
from unicat.catalogue import Catalogue
from unicat.settings import Settings

SITE_URL = "https://catalogue.example.org"
LINK = re.compile(re.escape(SITE_URL) + r"/register/confirm\?token=([A-Za-z0-9_-]+)")


@pytest.fixture
def catalogue(catalogue_factory: CatalogueFactory) -> Catalogue:
    return catalogue_factory()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def mail_settings(catalogue: Catalogue, port: int) -> Settings:
    return catalogue.index.settings.replace(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="catalogue@example.org",
        site_url=SITE_URL,
    )  # fmt: skip


@pytest.fixture
async def site(catalogue: Catalogue, mailbox: Mailbox) -> AsyncIterator[Site]:
    served = await Site(make_app(catalogue, mail_settings(catalogue, mailbox.port))).start()
    yield served
    await served.close()


async def sent(site: Site) -> None:
    """Wait until the app's outbox has handed every message to the SMTP server."""
    await site.app[OUTBOX].drain()


def what_the_browser_sees(answer: Any) -> tuple[int, str, list[str]]:
    cookies = sorted(header.split("=")[0] for header in answer.headers.getall("Set-Cookie", []))
    return answer.status, answer.headers.get("Location", ""), cookies


async def test_a_new_address_gets_a_link_that_creates_the_account_once(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    browser = await site.browser()
    answer = await register(browser, "jane@example.org", "Jane")
    assert what_the_browser_sees(answer) == (303, "/register?sent=1", [])
    page = await (await browser.get("/register?sent=1")).text()
    assert "Check your mailbox" in page
    assert catalogue.accounts.find_user("jane@example.org") is None  # nothing until the link is used
    await sent(site)
    [message] = mailbox.to("jane@example.org")
    assert message["From"] == "catalogue@example.org" and "Confirm your account" in message["Subject"]
    match = LINK.search(text_part(message))
    assert match, text_part(message)
    token = match.group(1)
    # The link opens a page with a button (a mail scanner opening the link uses nothing up).
    confirm_page = await browser.get(f"/register/confirm?token={token}")
    assert confirm_page.status == 200 and "jane@example.org" in await confirm_page.text()
    assert catalogue.accounts.find_user("jane@example.org") is None
    done = await post_form(browser, "/register/confirm", {"token": token})
    assert done.status == 303 and done.headers["Location"] == "/account?done=registered"
    jane = catalogue.accounts.find_user("jane@example.org")
    assert jane is not None and jane.display_name == "Jane" and verify_password(PASSWORD, jane.password_hash)
    assert (await me(browser) or {}).get("email") == "jane@example.org"
    # The link works once.
    again = await post_form(await site.browser(), "/register/confirm", {"token": token})
    assert again.status == 400 and "used already" in await again.text()


async def test_the_apps_own_sender_delivers_a_stored_message(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    """Nobody drains the outbox here: the sender task of the app, woken by the stored message, sends it."""
    await register(await site.browser(), "solo@example.org", "Solo")
    deadline = asyncio.get_running_loop().time() + 60  # generous: the sender is woken at once
    while catalogue.outbox.counts()["sent"] == 0:  # marked once the server has taken it
        assert asyncio.get_running_loop().time() < deadline, catalogue.outbox.list_messages()
        await asyncio.sleep(0.05)
    [stored] = catalogue.outbox.list_messages()
    assert (stored.kind, stored.recipient) == ("registration", "solo@example.org")
    assert len(mailbox.to("solo@example.org")) == 1


async def test_an_address_with_an_account_gets_the_same_answer_and_a_message_instead(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    ann = make_account(catalogue.accounts, "ann@example.org", "Ann")
    answers = []
    for email in ("ann@example.org", "new@example.org"):
        answer = await register(await site.browser(), email, "Someone Else", "another fine passphrase")
        answers.append(what_the_browser_sees(answer))
    assert answers[0] == answers[1] == (303, "/register?sent=1", [])
    await sent(site)
    [message] = mailbox.to("ann@example.org")
    assert "already have an account" in message["Subject"]
    assert f"{SITE_URL}/signin" in text_part(message) and not LINK.search(text_part(message))
    assert catalogue.accounts.find_user("ann@example.org") == ann  # unchanged: name, password
    assert (await sign_in(await site.browser(), "ann@example.org")).status == 303


async def test_an_expired_or_made_up_link_creates_nothing(site: Site, catalogue: Catalogue) -> None:
    from datetime import UTC, datetime

    token, old = new_registration(
        "late@example.org", "Late", "scrypt$x", now=datetime(2020, 1, 1, tzinfo=UTC)
    )
    catalogue.accounts.save_registration(old)
    browser = await site.browser()
    expired = await post_form(browser, "/register/confirm", {"token": token})
    assert expired.status == 400 and "more than 24 hours old" in await expired.text()
    for made_up in ("x" * 43, "", "y" * 500):
        answer = await post_form(browser, "/register/confirm", {"token": made_up})
        assert answer.status == 400 and "register again" in await answer.text()
    page = await browser.get("/register/confirm?token=" + "z" * 43)
    assert page.status == 400 and "register again" in await page.text()
    assert catalogue.accounts.list_users() == []


async def test_nobody_is_sent_more_than_a_few_messages_an_hour(
    site: Site, catalogue: Catalogue, mailbox: Mailbox
) -> None:
    for _ in range(MAILS_PER_RECIPIENT + 2):
        answer = await register(await site.browser(), "victim@example.org", "Victim")
        assert what_the_browser_sees(answer) == (303, "/register?sent=1", [])
    await sent(site)
    assert len(mailbox.to("victim@example.org")) == MAILS_PER_RECIPIENT


async def test_a_mail_server_that_is_down_is_logged_and_the_answer_stays_the_same(
    catalogue: Catalogue, caplog: pytest.LogCaptureFixture
) -> None:
    nobody_listens = free_port()
    site = await Site(make_app(catalogue, mail_settings(catalogue, nobody_listens))).start()
    try:
        with caplog.at_level(logging.WARNING, logger="unicat.mail_sender"):
            answer = await register(await site.browser(), "jane@example.org", "Jane")
            assert what_the_browser_sees(answer) == (303, "/register?sent=1", [])
            await sent(site)
        [record] = [r for r in caplog.records if r.name == "unicat.mail_sender"]
        assert "jane@example.org failed" in record.getMessage() and "smtp_" in record.getMessage()
        # Kept for a later try: a refused connection may be a server restarting.
        [waiting] = catalogue.outbox.list_messages()
        assert (waiting.recipient, waiting.state, waiting.attempts) == ("jane@example.org", "queued", 1)
        assert waiting.error and "ConnectionRefusedError" in waiting.error
    finally:
        await site.close()


async def test_without_mail_new_and_existing_addresses_get_the_same_answer(catalogue: Catalogue) -> None:
    site = await Site(make_app(catalogue, catalogue.index.settings)).start()
    try:
        ann = make_account(catalogue.accounts, "ann@example.org", "Ann")
        answers, pages = [], []
        for email in ("ann@example.org", "new@example.org"):
            browser = await site.browser()
            answer = await register(browser, email, "Someone", "another fine passphrase")
            answers.append(what_the_browser_sees(answer))
            page = await (await browser.get(answer.headers["Location"])).text()
            pages.append(re.sub(r'name="csrf" value="[^"]*"', "", page))
        assert answers[0] == answers[1] == (303, "/signin?done=registered", [])
        assert pages[0] == pages[1] and "Sign in with the address and the password you gave" in pages[0]
        assert catalogue.accounts.find_user("ann@example.org") == ann
        new = catalogue.accounts.find_user("new@example.org")
        assert new is not None and verify_password("another fine passphrase", new.password_hash)
        assert (
            await sign_in(await site.browser(), "new@example.org", "another fine passphrase")
        ).status == 303
    finally:
        await site.close()


def test_mail_settings_are_checked_when_loaded() -> None:
    from unicat.errors import ConfigError
    from unicat.settings import load_settings

    with pytest.raises(ConfigError, match="set mail_from too"):
        load_settings(overrides={"smtp_host": "mail.example.org", "site_url": SITE_URL})
    with pytest.raises(ConfigError, match="set site_url too"):
        load_settings(overrides={"smtp_host": "mail.example.org", "mail_from": "c@example.org"})
    with pytest.raises(ConfigError, match="smtp_security must be one of starttls, ssl, none"):
        load_settings(overrides={"smtp_security": "tls"})
    assert (
        dataclasses.asdict(
            load_settings(
                overrides={
                    "smtp_host": "mail.example.org",
                    "mail_from": "c@example.org",
                    "site_url": SITE_URL,
                }
            )
        )["smtp_port"]
        == 587
    )
