"""An alert's digest e-mail, stored in the outbox and sent by the real sender to a real SMTP server on
127.0.0.1, then read back with Python's ``email`` package: a text and an HTML part, the reader's
language (with its plural rule), markup in titles escaped in HTML only, the first titles listed and
the rest counted behind a link, the unsubscribe link in both parts."""

from __future__ import annotations

import io
from collections.abc import Iterator
from email.message import EmailMessage
from gettext import NullTranslations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.support import Translations

from search_app.alert_mail import KIND, LISTED, Digest, NewTitle, digest_message
from search_app.i18n import load_catalogues
from tests.support.smtp_server import Mailbox, html_part, smtp_server, text_part
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.mail_sender import send_due
from unicat.outbox import Message
from unicat.settings import Settings
from unicat.stores.outbox import SqlOutboxStore

SITE = "https://catalogue.example.org"
UNSUBSCRIBE = f"{SITE}/alerts/unsubscribe?token=abc.def&lang=fr"
MANAGE = f"{SITE}/account/alerts"
ALL = f"{SITE}/search?q=chats&new_since=2026-12-06"
SEARCH = f"{SITE}/search?q=chats&sort=newest"
READER = "jan@example.org"
# The reader's language as a translator would write it (a catalogue of the digest's own strings), so
# that the test does not depend on the interface's catalogues being translated yet. French has three
# plural forms in CLDR (one: 0 and 1; many: millions, "de"; other), as search_app/locale/fr says.
FRENCH: dict[str | tuple[str, ...], str | tuple[str, ...]] = {
    ("%(num)s new title this week for “%(search)s”", "%(num)s new titles this week for “%(search)s”"): (
        "%(num)s nouveau titre cette semaine pour « %(search)s »",
        "%(num)s de nouveaux titres cette semaine pour « %(search)s »",
        "%(num)s nouveaux titres cette semaine pour « %(search)s »",
    ),
    ("And %(num)s more title:", "And %(num)s more titles:"): (
        "Et %(num)s autre titre :",
        "Et %(num)s d’autres titres :",
        "Et %(num)s autres titres :",
    ),
    "Stop these e-mails (no need to sign in):": "Ne plus recevoir ces courriels (sans vous connecter) :",
    "Hello %(name)s,": "Bonjour %(name)s,",
}


def french_catalogues() -> dict[str, NullTranslations]:
    catalog = Catalog(locale="fr", fuzzy=False)
    for source, translated in FRENCH.items():
        catalog.add(source, translated)
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    return {**load_catalogues(), "fr": Translations(compiled, domain="messages")}


def title(number: int) -> NewTitle:
    return NewTitle(
        f"Title {number:02d}",
        f"{SITE}/record/u{number}",
        f"by Author {number}",
        2000 + number,
        ("Bibliothèque A",),
    )


def digest(language: str, titles: list[NewTitle], total: int, **changes: object) -> Digest:
    values: dict[str, object] = {
        "reader": "Jan",
        "language": language,
        "search": "Chats <noirs> & blancs",
        "search_url": SEARCH,
        "titles": titles,
        "total": total,
        "period": "weekly",
        "all_url": ALL,
        "unsubscribe_url": UNSUBSCRIBE,
        "manage_url": MANAGE,
    }
    return Digest(**{**values, **changes})  # type: ignore[arg-type]


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def delivered(tmp_path: Path, mailbox: Mailbox, message: Message) -> EmailMessage:
    """``message`` stored in a real outbox, sent by the real sender, as the SMTP server received it."""
    settings = Settings().replace(
        smtp_host=mailbox.host, smtp_port=mailbox.port, smtp_security="none",
        mail_from="catalogue@example.org", site_url=SITE,
    )  # fmt: skip
    store = SqlOutboxStore(SqliteDatabase(tmp_path / "unicat.db", settings))
    with store.db:
        store.enqueue(message)
        assert send_due(store, settings).sent == 1
    [received] = mailbox.to(READER)
    return received


def test_a_digest_arrives_in_the_readers_language_with_both_parts(tmp_path: Path, mailbox: Mailbox) -> None:
    titles = [
        NewTitle("Tom & <Jerry> \x00", f"{SITE}/record/u1?x=1&y=2", "par Hanna & Barbera", 1940, ("Bib <A>",))
    ]
    message = digest_message(
        digest("fr", titles, 2), recipient=READER, key="alert.digest:7:2026-W49",
        catalogue="Unicat", catalogues=french_catalogues(),
    )  # fmt: skip
    assert message.kind == KIND and message.key == "alert.digest:7:2026-W49"
    received = delivered(tmp_path, mailbox, message)
    assert received["Subject"] == "2 nouveaux titres cette semaine pour « Chats <noirs> & blancs »"
    assert received["Content-Language"] == "fr"
    text, html = text_part(received), html_part(received)
    assert "Bonjour Jan," in text and "<p>Bonjour Jan,</p>" in html
    assert "Et 1 autre titre :" in text and "Et 1 autre titre :" in html  # French: 1 is singular
    assert '<html lang="fr">' in html
    # Markup in a title is text: kept in the text part, escaped in the HTML one.
    assert "Tom & <Jerry>" in text and "par Hanna & Barbera" in text and "Bib <A>" in text
    assert "Tom &amp; &lt;Jerry&gt;" in html and "<Jerry>" not in html and "Bib &lt;A&gt;" in html
    assert 'href="https://catalogue.example.org/record/u1?x=1&amp;y=2"' in html
    # Unsubscribing, without signing in, from either part.
    assert "Ne plus recevoir ces courriels (sans vous connecter) :" in text
    assert UNSUBSCRIBE in text
    assert 'href="https://catalogue.example.org/alerts/unsubscribe?token=abc.def&amp;lang=fr"' in html


def test_the_first_titles_are_listed_and_the_rest_counted(tmp_path: Path, mailbox: Mailbox) -> None:
    titles = [title(number) for number in range(1, LISTED + 6)]
    message = digest_message(
        digest("en", titles, LISTED + 10, period="daily"), recipient=READER, key="alert.digest:8:2026-12-07",
        catalogue="Unicat", catalogues=load_catalogues(),
    )  # fmt: skip
    received = delivered(tmp_path, mailbox, message)
    assert received["Subject"] == f"{LISTED + 10} new titles today for “Chats <noirs> & blancs”"
    text, html = text_part(received), html_part(received)
    for part in (text, html):
        listed = [number for number in range(1, LISTED + 6) if f"Title {number:02d}" in part]
        assert listed == list(range(1, LISTED + 1))
        assert "And 10 more titles:" in part
    assert (
        ALL in text and 'href="https://catalogue.example.org/search?q=chats&amp;new_since=2026-12-06"' in html
    )
    assert MANAGE in text and f'href="{MANAGE}"' in html
    assert "Held by Bibliothèque A" in text


def test_a_language_the_catalogue_speaks_is_kept_where_untranslated(tmp_path: Path, mailbox: Mailbox) -> None:
    message = digest_message(
        digest("nl", [title(1)], 1, reader=""), recipient=READER, key="alert.digest:9:2026-W49",
        catalogue="Unicat", catalogues=load_catalogues(),
    )  # fmt: skip
    received = delivered(tmp_path, mailbox, message)
    assert received["Content-Language"] == "nl" and '<html lang="nl">' in html_part(received)
    assert "And" not in text_part(received)  # nothing more than it lists


@pytest.mark.parametrize(
    ("changes", "words"),
    [({"language": "de"}, "language"), ({"total": 0}, "fewer"), ({"titles": []}, "at least one"),
     ({"period": "hourly"}, "period")],
)  # fmt: skip
def test_a_digest_that_contradicts_itself_is_refused(changes: dict[str, object], words: str) -> None:
    values: dict[str, object] = {"titles": [title(1)], "total": 1, **changes}
    bad = digest(str(values.pop("language", "en")), **values)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=words):
        digest_message(bad, recipient=READER, key="k", catalogue="Unicat", catalogues=load_catalogues())
