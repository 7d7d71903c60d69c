"""The outbox's sender against a real SMTP server on 127.0.0.1 (aiosmtpd), over both databases: a
message arrives with its text and HTML parts; a "try later" (451) is retried and the message arrives
once; a "never" (550) fails it at once; a sender killed (SIGKILL, a real process) after taking a
message leaves it interrupted, never sent again until resent; two senders at once deliver each
message once. Expected answers come from RFC 5321's reply classes and the outbox's at-most-once rule."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.at_once import all_at_once
from tests.support.smtp_server import Mailbox, html_part, smtp_server, text_part
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.mail_sender import send_due
from unicat.outbox import Message
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.outbox import SqlOutboxStore

SITE = "https://catalogue.example.org"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'unicat.db'}"
    return str(request.getfixturevalue("postgres_database_url"))


def open_store(url: str) -> SqlOutboxStore:
    db: Database = (
        SqliteDatabase(Path(url.removeprefix("sqlite:///")), Settings())
        if url.startswith("sqlite:")
        else PostgresDatabase(url, Settings())
    )
    return SqlOutboxStore(db)


@pytest.fixture
def outbox(store_url: str) -> Iterator[SqlOutboxStore]:
    store = open_store(store_url)
    with store.db:
        yield store


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with smtp_server() as server:
        yield server


def mail_settings(port: int) -> Settings:
    return Settings().replace(
        smtp_host="127.0.0.1", smtp_port=port, smtp_security="none", mail_from="catalogue@example.org",
        site_url=SITE,
    )  # fmt: skip


def message(number: int) -> Message:
    return Message(
        f"reader{number}@example.org", f"Your request {number}", f"Plain words {number}.\n",
        "request.accepted", f"request.accepted:{number}", "fr", f"<p>Rich words {number}.</p>",
    )  # fmt: skip


def test_a_message_arrives_with_its_text_and_html_parts(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    stored = outbox.enqueue(message(1))
    report = send_due(outbox, mail_settings(mailbox.port))
    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    [arrived] = mailbox.to("reader1@example.org")
    assert arrived["Subject"] == "Your request 1" and arrived["From"] == "catalogue@example.org"
    assert arrived["Content-Language"] == "fr" and arrived.get_content_type() == "multipart/alternative"
    assert (
        text_part(arrived).strip() == "Plain words 1."
        and html_part(arrived).strip() == "<p>Rich words 1.</p>"
    )
    sent = outbox.get(stored.id or 0)
    assert sent is not None and sent.state == "sent" and sent.sent is not None and sent.attempts == 1


def test_a_pass_sends_its_messages_over_one_connection(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    for number in range(1, 6):
        outbox.enqueue(message(number))
    assert send_due(outbox, mail_settings(mailbox.port)).sent == 5
    assert len(mailbox.messages) == 5 and len(mailbox.sessions) == 1


def test_after_a_refusal_the_next_message_goes_over_a_new_connection(
    outbox: SqlOutboxStore, mailbox: Mailbox
) -> None:
    mailbox.refusals.append("451 4.3.0 mailbox busy, try later")
    for number in range(1, 4):
        outbox.enqueue(message(number))
    report = send_due(outbox, mail_settings(mailbox.port))
    assert (report.sent, report.retried) == (2, 1)
    assert len(mailbox.messages) == 2 and len(mailbox.sessions) == 2


def test_a_try_later_answer_is_retried_and_the_message_arrives_once(
    outbox: SqlOutboxStore, mailbox: Mailbox
) -> None:
    settings = mail_settings(mailbox.port)
    mailbox.refusals.append("451 4.3.0 mailbox busy, try later")
    stored = outbox.enqueue(message(1))
    first = send_due(outbox, settings)
    assert (first.sent, first.retried) == (0, 1) and mailbox.messages == []
    waiting = outbox.get(stored.id or 0)
    assert waiting is not None and waiting.state == "queued" and waiting.error is not None
    assert waiting.error.startswith("451") and waiting.attempts == 1
    assert send_due(outbox, settings).taken == 0  # not due before the schedule says
    later = datetime.now(UTC) + timedelta(seconds=settings.mail_retry_base + 1)
    assert send_due(outbox, settings, now=later).sent == 1
    assert send_due(outbox, settings, now=later + timedelta(days=1)).taken == 0
    assert len(mailbox.to("reader1@example.org")) == 1 and mailbox.refused == 1
    delivered = outbox.get(stored.id or 0)
    assert delivered is not None and (delivered.state, delivered.attempts) == ("sent", 2)


def test_a_never_answer_fails_the_message_at_once(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    settings = mail_settings(mailbox.port)
    mailbox.refusals.append("550 5.1.1 no such mailbox")
    stored = outbox.enqueue(message(1))
    assert send_due(outbox, settings).failed == 1
    failed = outbox.get(stored.id or 0)
    assert failed is not None and failed.state == "failed" and (failed.error or "").startswith("550")
    assert send_due(outbox, settings, now=datetime.now(UTC) + timedelta(days=30)).taken == 0
    assert mailbox.messages == [] and outbox.counts()["failed"] == 1


def test_a_temporary_refusal_fails_after_the_last_attempt(outbox: SqlOutboxStore, mailbox: Mailbox) -> None:
    settings = mail_settings(mailbox.port).replace(mail_max_attempts=2)
    mailbox.refusals.extend(["421 4.7.0 come back later"] * 2)
    stored = outbox.enqueue(message(1))
    assert send_due(outbox, settings).retried == 1
    assert send_due(outbox, settings, now=datetime.now(UTC) + timedelta(days=1)).failed == 1
    failed = outbox.get(stored.id or 0)
    assert failed is not None and (failed.state, failed.attempts) == ("failed", 2)


@contextmanager
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that takes connections and never answers: an SMTP conversation with
    it hangs before the greeting, after its message was taken."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join()
        for connection in held:
            connection.close()
        listener.close()


def test_a_sender_killed_after_taking_a_message_leaves_it_interrupted_and_not_sent_twice(
    outbox: SqlOutboxStore, store_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    stored = outbox.enqueue(message(1))
    with silent_server() as port:
        config = tmp_path / "unicat.toml"
        config.write_text(
            f'smtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_security = "none"\n'
            f'mail_from = "catalogue@example.org"\nsite_url = "{SITE}"\n'
        )
        command = [
            sys.executable, "-m", "unicat", "--config", str(config), "--store", store_url,
            "--index", f"sqlite:///{tmp_path / 'index.db'}", "mail", "send",
        ]  # fmt: skip
        sender = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            deadline = time.monotonic() + 60
            while outbox.counts()["sending"] == 0:
                assert sender.poll() is None, sender.communicate()
                assert time.monotonic() < deadline, "the sender never took the message"
                time.sleep(0.05)
        finally:
            os.kill(sender.pid, signal.SIGKILL)
            sender.wait()
    assert sender.returncode == -signal.SIGKILL
    settings = mail_settings(mailbox.port)
    # While its lease lasts, the message is left alone; after it, it is interrupted, not sent.
    assert send_due(outbox, settings).taken == 0
    after_lease = datetime.now(UTC) + timedelta(seconds=settings.mail_lease + 1)
    assert send_due(outbox, settings, now=after_lease).taken == 0
    interrupted = outbox.get(stored.id or 0)
    assert interrupted is not None and (interrupted.state, interrupted.attempts) == ("interrupted", 1)
    assert mailbox.messages == []
    # A librarian resends it: it arrives once.
    outbox.resend(stored.id or 0)
    assert send_due(outbox, settings).sent == 1
    assert len(mailbox.to("reader1@example.org")) == 1


def test_two_senders_at_once_deliver_each_message_once(
    outbox: SqlOutboxStore, store_url: str, mailbox: Mailbox
) -> None:
    count = 30
    for number in range(count):
        outbox.enqueue(message(number))
    settings = mail_settings(mailbox.port)
    others = [open_store(store_url) for _ in range(2)]  # each sender with connections of its own
    try:
        reports = all_at_once(2, lambda number: send_due(others[number], settings))
    finally:
        for other in others:
            other.db.close()
    assert sum(report.sent for report in reports) == count
    assert sorted(message["To"] for message in mailbox.messages) == sorted(
        f"reader{number}@example.org" for number in range(count)
    )
    assert outbox.counts()["sent"] == count
