"""The interface's language over real HTTP: how a request's language is chosen (``lang`` parameter,
then the switch's cookie, then Accept-Language with its q-values, then the ``default_language``
setting), ``<html lang>`` on every page, translated text, numbers per locale, links that keep
``lang``, and the registration e-mail in the reader's language.

Expected text comes from the catalogues (search_app/locale), never from rendering the code under test;
expected number formats from the locales' conventions (CLDR: a narrow no-break space groups thousands
in French, a full stop in Dutch).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import lxml.html
import pytest
from babel.messages.pofile import read_po

from search_app.app import make_app
from search_app.i18n import (
    DOMAIN,
    LANG_COOKIE,
    LOCALE_DIR,
    accepted_languages,
    format_date,
    format_duration,
    format_number,
    format_utc_time,
    load_catalogues,
    negotiate,
    use_language,
)
from search_app.outbox import OUTBOX
from search_app.state import SETTINGS
from tests.search_app.accounts_http import Site, make_account, register
from tests.search_app.search_app_catalogue import Client, ClientFactory
from tests.search_app.test_accessibility import PAGES
from tests.support.smtp_server import Mailbox, smtp_server, text_part
from unicat.catalogue import Catalogue
from unicat.errors import ConfigError
from unicat.settings import SUPPORTED_LANGUAGES, Settings


def translation(language: str, message: str, context: str | None = None) -> str:
    """``message``'s translation as the catalogue file has it."""
    with (LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as file:
        found = read_po(file).get(message, context=context)
    assert found is not None and isinstance(found.string, str) and found.string, message
    return found.string


def html_lang(page: str) -> str | None:
    return lxml.html.fromstring(page).get("lang")


def visible_text(page: str) -> str:
    return " ".join(lxml.html.fromstring(page).text_content().split())


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fr-BE,fr;q=0.9,en;q=0.8", ["fr", "en"]),
        ("nl-BE", ["nl"]),
        ("en;q=0.5, nl;q=0.8, fr;q=0.1", ["nl", "en", "fr"]),
        ("de, nl;q=0", ["de"]),  # q=0: "not this one"
        ("fr;q=0.5, nl;q=0.5", ["fr", "nl"]),  # equal weights keep the header's order
        ("*;q=0.1, NL-be", ["nl", "*"]),
        ("fr;q=abc, nl;q=2, ;;, en", ["en"]),  # malformed ranges are skipped
        ("", []),
    ],
)
def test_accept_language_ranks_by_q_value(header: str, expected: list[str]) -> None:
    assert accepted_languages(header) == expected


@pytest.mark.parametrize(
    ("param", "cookie", "header", "default", "expected"),
    [
        ("fr", "nl", "nl", "en", "fr"),  # the parameter first
        (None, "nl", "fr-BE", "en", "nl"),  # then the cookie
        (None, None, "de-DE, nl-BE;q=0.7, fr;q=0.5", "en", "nl"),  # then the first supported language
        (None, None, "de, es", "fr", "fr"),  # then the network's default
        ("xx", "yy", "", "nl", "nl"),  # unsupported choices are passed over
        (None, None, "de, *;q=0.2", "fr", "fr"),  # "anything" is the default
    ],
)
def test_the_language_comes_from_param_then_cookie_then_header_then_setting(
    param: str | None, cookie: str | None, header: str, default: str, expected: str
) -> None:
    assert negotiate(param, cookie, header, default) == expected


def test_numbers_are_grouped_as_each_language_writes_them() -> None:
    catalogues = load_catalogues()
    expected = {"en": "1,234,567", "fr": "1\u202f234\u202f567", "nl": "1.234.567"}
    for language, written in expected.items():
        use_language(language, catalogues)
        assert format_number(1234567) == written


def test_dates_are_written_as_each_language_writes_them() -> None:
    """CLDR's medium dates (French "d MMM y", Dutch "d MMM y"); English keeps ISO 8601."""
    catalogues = load_catalogues()
    expected = {"en": "2026-12-02", "fr": "2 déc. 2026", "nl": "2 dec 2026"}
    for language, written in expected.items():
        use_language(language, catalogues)
        assert format_date("2026-12-02T13:46:43Z") == written
        assert format_utc_time("2026-12-02T13:46:43Z").endswith(" UTC")
    use_language("en", catalogues)
    assert format_utc_time("2026-12-02T13:46:43Z") == "2026-12-02 13:46:43 UTC"


def test_durations_keep_the_international_symbols_and_translate_the_day() -> None:
    """s, min and h are SI symbols every language writes alike; the day is "j" (jour) in French."""
    catalogues = load_catalogues()
    use_language("en", catalogues)
    assert [format_duration(s) for s in (None, 0, 45, 200, 180, 7500, 3661, 273600)] == [
        "-", "0 s", "45 s", "3 min 20 s", "3 min", "2 h 5 min", "1 h 1 min", "3 d 4 h",
    ]  # fmt: skip
    use_language("fr", catalogues)
    assert format_duration(273600) == f"3 {translation('fr', 'd', context='duration unit')} 4 h" == "3 j 4 h"
    use_language("en", catalogues)


def test_a_missing_compiled_catalogue_stops_the_app_with_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="pybabel compile"):
        load_catalogues(tmp_path)


@pytest.mark.parametrize("language", SUPPORTED_LANGUAGES)
@pytest.mark.parametrize(("path", "status"), PAGES)
async def test_every_page_says_its_language(
    client: Client, librarian: Client, path: str, status: int, language: str
) -> None:
    browser = librarian if path.startswith(("/librarians/", "/account")) else client
    separator = "&" if "?" in path else "?"
    response = await browser.get(f"{path}{separator}lang={language}")
    assert response.status == status
    assert html_lang(await response.text()) == language


async def test_a_french_browser_gets_french_pages(client: Client) -> None:
    response = await client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9,en;q=0.5"})
    page = await response.text()
    assert html_lang(page) == "fr"
    text = visible_text(page)
    for message in ("Find a book in every library of the network", "Libraries of the network", "Sign in"):
        assert translation("fr", message) in text
    assert "Find a book in every library" not in text
    assert "Accept-Language" in response.headers["Vary"] and "Cookie" in response.headers["Vary"]


async def test_a_dutch_record_page_translates_labels_and_headings(client: Client) -> None:
    page = await (await client.get("/record/u-pp1980", headers={"Accept-Language": "nl-BE"})).text()
    assert html_lang(page) == "nl"
    text = visible_text(page)
    for message in ("Where to find it", "Description", "Title", "Book", "English"):
        assert translation("nl", message) in text, message


async def test_a_dutch_error_page(client: Client) -> None:
    response = await client.get("/record/u-nothing?lang=nl")
    assert response.status == 404
    text = visible_text(await response.text())
    assert translation("nl", "Not found") in text and translation("nl", "What you can do") in text


async def test_messages_written_in_python_are_translated_where_shown(client: Client) -> None:
    """A 404's reason and a core BadParameter's common message, English in the code, read translated."""
    response = await client.get("/nowhere?lang=nl")
    assert response.status == 404
    reason = translation("nl", "there is no page at this address")
    assert reason[:1].upper() + reason[1:] in visible_text(await response.text())
    response = await client.get("/search?q=a&q=b&lang=fr")
    assert response.status == 400
    assert translation("fr", "give this parameter once") in visible_text(await response.text())


async def test_counts_on_the_results_page_follow_the_language(client: Client) -> None:
    """The results count, "Showing 1–2 of N": N is the same number, grouped per language."""
    english = await (await client.get("/search?page_size=2&lang=en")).text()
    match = re.search(r"of <strong>([\d,]+)</strong>", english)
    assert match, english
    total = int(match.group(1).replace(",", ""))
    french = await (await client.get("/search?page_size=2&lang=fr")).text()
    use_language("fr", load_catalogues())
    assert f"<strong>{format_number(total)}</strong>" in french
    assert f"{translation('fr', 'Results')}" in french


async def test_the_switch_remembers_the_choice_in_a_cookie(client: Client) -> None:
    response = await client.get("/language?lang=nl&next=/search%3Fq%3Daustin", allow_redirects=False)
    assert response.status == 303 and response.headers["Location"] == "/search?q=austin"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{LANG_COOKIE}=nl;")
    assert "Max-Age=31536000" in cookie and "Path=/" in cookie and "SameSite=Lax" in cookie
    # The client's jar keeps it: later pages are Dutch even to a French browser.
    page = await (await client.get("/", headers={"Accept-Language": "fr"})).text()
    assert html_lang(page) == "nl"
    # A page's own lang still wins over the cookie.
    assert html_lang(await (await client.get("/?lang=en")).text()) == "en"


async def test_the_switch_is_in_the_header_each_language_in_its_own(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/search?q=austen&lang=fr")).text())
    [switch] = doc.xpath("//nav[contains(@class, 'language-switch')]")
    names = {(element.get("lang"), element.text_content()) for element in switch.xpath(".//*[@lang]")}
    assert names == {("en", "English"), ("fr", "Français"), ("nl", "Nederlands")}
    links = {link.get("lang"): link.get("href") for link in switch.iter("a")}
    assert set(links) == {"en", "nl"}  # the current language is not a link
    # Switching goes back to this page, without the lang that would override the choice.
    assert links["nl"] == "/language?lang=nl&next=/search%3Fq%3Dausten"


async def test_links_of_a_page_opened_with_lang_keep_it(client: Client) -> None:
    doc = lxml.html.fromstring(await (await client.get("/search?q=austen&page_size=1&lang=fr")).text())
    pager = [link.get("href") for link in doc.xpath("//nav[contains(@class, 'pager')]//a")]
    facets = [link.get("href") for link in doc.xpath("//aside[contains(@class, 'facets')]//a")]
    assert pager and facets
    assert all("lang=fr" in href for href in pager + facets)
    assert doc.xpath("//form[@role='search']//input[@name='lang']/@value") == ["fr"]


async def test_a_bad_lang_on_the_search_is_a_400_and_lang_is_no_search_parameter(client: Client) -> None:
    assert (await client.get("/search?q=austen&lang=de")).status == 400
    assert (await client.get("/search?q=austen&lang=fr&lang=nl")).status == 400
    english = await (await client.get("/api/search?q=austen")).json()
    french = await (await client.get("/api/search?q=austen&lang=fr")).json()
    api = await client.get("/api/search?q=austen", headers={"Accept-Language": "fr"})
    assert "Accept-Language" not in api.headers.get("Vary", "")
    for answer in (english, french):
        answer.pop("took_ms")
    assert french == english  # the API's data stays in codes, whatever the language


async def test_the_network_default_applies_when_the_browser_says_nothing(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> None:
    client = await aiohttp_client(make_app(catalogue, settings.replace(default_language="nl")))
    assert html_lang(await (await client.get("/")).text()) == "nl"
    assert (
        html_lang(await (await client.get("/", headers={"Accept-Language": "de, fr;q=0.3"})).text()) == "fr"
    )


SITE_URL = "https://catalogue.example.org"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


@pytest.fixture
async def mail_site(catalogue: Catalogue, settings: Settings, mailbox: Mailbox) -> AsyncIterator[Site]:
    mail = settings.replace(
        smtp_host="127.0.0.1", smtp_port=mailbox.port, smtp_security="none",
        mail_from="catalogue@example.org", site_url=SITE_URL,
    )  # fmt: skip
    served = await Site(make_app(catalogue, mail)).start()
    yield served
    await served.close()


async def test_the_registration_mails_speak_the_readers_language(
    mail_site: Site, mailbox: Mailbox, catalogue: Catalogue
) -> None:
    make_account(catalogue.accounts, "marie@example.org", "Marie")
    french = await mail_site.browser()
    await register(french, "marie@example.org", "Marie", headers={"Accept-Language": "fr-BE"})
    dutch = await mail_site.browser()
    await register(dutch, "jan@example.org", "Jan", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    await mail_site.app[OUTBOX].drain()
    [taken] = mailbox.to("marie@example.org")
    name = mail_site.app[SETTINGS].oai_repository_name
    assert taken["Subject"] == translation("fr", "You already have an account at %(catalogue)s") % {
        "catalogue": name
    }
    assert translation("fr", "If it was not you, you need do nothing.") in text_part(taken)
    assert f"{SITE_URL}/signin?lang=fr" in text_part(taken)
    [confirm] = mailbox.to("jan@example.org")
    assert confirm["Subject"] == translation("nl", "Confirm your account at %(catalogue)s") % {
        "catalogue": name
    }
    body = text_part(confirm)
    assert (
        translation("nl", "To create it, open this link within %(hours)s hours and press the button:")
        % {"hours": 24}
        in body
    )
    # The link opens the confirmation page in Dutch.
    link = re.search(re.escape(SITE_URL) + r"(/register/confirm\?\S+)", body)
    assert link and "lang=nl" in link.group(1)
    page = await (await dutch.get(link.group(1))).text()
    assert html_lang(page) == "nl" and translation("nl", "Confirm your account") in page
