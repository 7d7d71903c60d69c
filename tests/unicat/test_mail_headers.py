"""Extra e-mail headers through the outbox, to a real SMTP server on 127.0.0.1 over both databases:
the one-click unsubscribe headers of RFC 8058 (and RFC 2369's List-Id, RFC 3834's Auto-Submitted)
arrive exactly as given, on one line each; a header outside the allow-list, or a value that could end
its line (header injection: CR, LF, NUL), is refused when the message is made, before anything is
stored or sent."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.smtp_server import Mailbox, smtp_server, text_part
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.mail import compose
from unicat.mail_sender import send_due
from unicat.outbox import Message
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.outbox import SqlOutboxStore

SITE = "https://catalogue.example.org"
# A signed token as long as real ones get: no space in it for a mail program to fold at.
UNSUBSCRIBE = f"<{SITE}/alerts/unsubscribe?token={'Kq3-_x9' * 24}>"
DIGEST_HEADERS = (
    ("List-Unsubscribe", UNSUBSCRIBE),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    ("List-Id", "New titles of the union catalogue <alerts.catalogue.example.org>"),
    ("Auto-Submitted", "auto-generated"),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlOutboxStore]:
    db: Database = (
        SqliteDatabase(tmp_path / "unicat.db", Settings())
        if request.param == "sqlite"
        else PostgresDatabase(str(request.getfixturevalue("postgres_database_url")), Settings())
    )
    with db:
        yield SqlOutboxStore(db)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def mail_settings(port: int) -> Settings:
    return Settings().replace(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="catalogue@example.org",
        site_url=SITE,
    )  # fmt: skip


def digest(headers: tuple[tuple[str, str], ...] = DIGEST_HEADERS) -> Message:
    return Message(
        "reader@example.org", "New titles for “Austen”", "Three new titles.\n", "alert.digest",
        "alert.digest:1:2026-12-07", "en", "<p>Three new titles.</p>", headers=headers,
    )  # fmt: skip


def test_the_extra_headers_arrive_exactly_as_given(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    outbox.enqueue(digest())
    assert send_due(outbox, mail_settings(mailbox.port)).sent == 1
    [arrived] = mailbox.to("reader@example.org")
    for name, value in DIGEST_HEADERS:
        assert arrived.get_all(name) == [value], name
    assert text_part(arrived).strip() == "Three new titles."
    # On the wire, the unsubscribe link is one line as written: a mail provider reads it there, and
    # does not decode RFC 2047 encoded words in it (RFC 8058 §3.1: one HTTPS URI, POSTed to as is).
    [raw] = mailbox.raw
    lines = raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    for name, value in DIGEST_HEADERS:
        assert f"{name}: {value}".encode() in lines, name


def test_a_message_without_extra_headers_has_none(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    stored = outbox.enqueue(digest(headers=()))
    assert stored.headers == ()
    assert send_due(outbox, mail_settings(mailbox.port)).sent == 1
    [arrived] = mailbox.messages
    assert all(name not in arrived for name, _ in DIGEST_HEADERS)


def test_header_names_are_matched_in_any_case_and_written_as_listed() -> None:
    made = digest(headers=(("list-unsubscribe", UNSUBSCRIBE), ("AUTO-SUBMITTED", "auto-generated")))
    assert made.headers == (("List-Unsubscribe", UNSUBSCRIBE), ("Auto-Submitted", "auto-generated"))


@pytest.mark.parametrize(
    "name",
    ["Bcc", "From", "To", "Reply-To", "Content-Type", "Subject", "X-Mailer", "List-Unsubscribe\r\nBcc", ""],
)
def test_a_header_outside_the_allow_list_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match=re.escape(repr(name)) + " may not be given"):
        digest(headers=((name, "reader2@example.org"),))


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (f"{UNSUBSCRIBE}\r\nBcc: everyone@example.org", "a carriage return"),
        (f"{UNSUBSCRIBE}\nBcc: everyone@example.org", "a line feed"),
        (f"{UNSUBSCRIBE}\r", "a carriage return"),
        (f"{UNSUBSCRIBE}\0", "a NUL"),
        (f"{UNSUBSCRIBE}\u2028Bcc: everyone@example.org", "the character U+2028"),
        (f"{UNSUBSCRIBE}\x0bBcc: everyone@example.org", "the character U+000B"),
    ],
)
def test_a_value_that_could_end_its_line_is_refused(value: str, what: str) -> None:
    with pytest.raises(ValueError, match=f"'List-Unsubscribe' holds {re.escape(what)}"):
        digest(headers=(("List-Unsubscribe", value),))
    with pytest.raises(ValueError, match=f"'List-Unsubscribe' holds {re.escape(what)}"):
        compose(Settings(), "reader@example.org", "Subject", "Text", headers=(("List-Unsubscribe", value),))


def test_an_unsubscribe_header_given_twice_or_not_fitting_one_line_is_refused() -> None:
    with pytest.raises(ValueError, match="'List-Unsubscribe' is given twice"):
        digest(headers=(("List-Unsubscribe", UNSUBSCRIBE), ("list-unsubscribe", "<mailto:x@example.org>")))
    with pytest.raises(ValueError, match="'List-Unsubscribe' must be ASCII"):
        digest(headers=(("List-Unsubscribe", f"<{SITE}/désabonner>"),))
    # RFC 5322 §2.1.1: a line is at most 998 characters; "List-Unsubscribe: " takes 18 of them.
    digest(headers=(("List-Unsubscribe", "<" + "a" * 978 + ">"),))
    with pytest.raises(ValueError, match="longer than a header line may be"):
        digest(headers=(("List-Unsubscribe", "<" + "a" * 979 + ">"),))
