"""Sending what the outbox holds: one pass takes the due messages, sends each, and records how it went.

Each message is ``sending`` (committed, by :meth:`OutboxStore.claim`) before its SMTP conversation
starts, so a sender that dies mid-way leaves it to become ``interrupted``, never sent a second time
on its own (unicat/outbox.py). A refusal for now (4xx, no connection) is tried again by the retry
schedule; a permanent one (5xx) fails the message at once. Blocking: run it in a thread.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from datetime import UTC, datetime

from unicat import mail
from unicat.outbox import RetrySchedule, describe, is_temporary
from unicat.ports.outbox import Claimed, OutboxStore
from unicat.settings import Settings

log = logging.getLogger(__name__)

BATCH = 50
"""Messages taken at once: a pass sends at most this many, the rest wait for the next one."""


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did: messages sent, put back for a later try, and failed for good (or lost)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0

    @property
    def taken(self) -> int:
        return self.sent + self.retried + self.failed


def send_due(
    store: OutboxStore, settings: Settings, limit: int = BATCH, now: datetime | None = None
) -> PassReport:
    """One pass over the messages due at ``now`` (by default, now), over one SMTP connection. After
    any error the connection is dropped and the next message opens a new one: a refusal may have
    left the conversation in a state no one should send a message through."""
    schedule = RetrySchedule.from_settings(settings)
    sent = retried = failed = 0
    server: smtplib.SMTP | None = None
    try:
        for claimed in store.claim(limit, settings.mail_lease, now):
            try:
                if server is None:
                    server = mail.connect(settings)
                _send_one(server, settings, claimed)
            except (OSError, smtplib.SMTPException) as error:
                if server is not None:
                    server.close()
                    server = None
                outcome = _failed(store, schedule, claimed, error)
            else:
                outcome = _sent(store, claimed)
            sent += outcome == "sent"
            retried += outcome == "retried"
            failed += outcome == "failed"
    finally:
        if server is not None:
            _quit(server)
    return PassReport(sent, retried, failed)


def _send_one(server: smtplib.SMTP, settings: Settings, claimed: Claimed) -> None:
    message = claimed.message
    composed = mail.compose(
        settings,
        message.recipient,
        message.subject,
        message.text,
        message.html,
        message.language,
        message.headers,
    )
    server.send_message(composed)


def _sent(store: OutboxStore, claimed: Claimed) -> str:
    if not store.mark_sent(claimed):
        log.error("mail #%s was sent after its lease ran out: it is marked interrupted", claimed.message.id)
    return "sent"


def _failed(store: OutboxStore, schedule: RetrySchedule, claimed: Claimed, error: BaseException) -> str:
    message = claimed.message
    reason = describe(error)
    later = schedule.next_attempt(message.attempts, datetime.now(UTC)) if is_temporary(error) else None
    store.mark_failed(claimed, reason, later)
    if later is None:
        log.error(
            "mail #%s (%s) to %s failed after %d attempt(s): %s (check the smtp_* settings and the "
            "mail server; `unicat mail resend %s` sends it again)",
            message.id, message.kind, message.recipient, message.attempts, reason, message.id,
        )  # fmt: skip
        return "failed"
    log.warning(
        "mail #%s (%s) to %s failed: %s; tried again at %s (check the smtp_* settings and the mail "
        "server)", message.id, message.kind, message.recipient, reason, later,
    )  # fmt: skip
    return "retried"


def _quit(server: smtplib.SMTP) -> None:
    """End the conversation politely; a server that went away meanwhile changes nothing: every
    message was already recorded."""
    try:
        server.quit()
    except (OSError, smtplib.SMTPException):
        server.close()
