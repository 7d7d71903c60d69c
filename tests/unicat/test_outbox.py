"""The outbox's rules (unicat/outbox.py): the retry schedule (doubling from the base, capped, a last
attempt), which SMTP refusals are temporary (RFC 5321 §4.2.1: 4yz transient, 5yz permanent), how
addresses are masked, and the settings that set the schedule, checked when loaded."""

from __future__ import annotations

import smtplib
from datetime import UTC, datetime

import pytest

from unicat.errors import ConfigError
from unicat.outbox import RetrySchedule, describe, is_temporary, mask
from unicat.settings import load_settings


def test_the_schedule_doubles_up_to_its_cap_and_stops_after_the_last_attempt() -> None:
    schedule = RetrySchedule(base=60, cap=600, max_attempts=6)
    assert [schedule.delay(n) for n in range(1, 7)] == [60, 120, 240, 480, 600, 600]
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert schedule.next_attempt(1, now) == "2026-01-01T12:01:00Z"
    assert schedule.next_attempt(5, now) == "2026-01-01T12:10:00Z"
    assert schedule.next_attempt(6, now) is None


def test_4xx_and_lost_connections_are_temporary_5xx_permanent() -> None:
    assert is_temporary(smtplib.SMTPDataError(451, b"4.3.0 try later"))
    assert is_temporary(smtplib.SMTPSenderRefused(421, b"busy", "a@example.org"))
    assert is_temporary(ConnectionRefusedError(111, "Connection refused"))
    assert is_temporary(smtplib.SMTPServerDisconnected("gone"))
    assert not is_temporary(smtplib.SMTPDataError(550, b"5.1.1 no such mailbox"))
    refused = {"a@example.org": (550, b"no"), "b@example.org": (450, b"later")}
    assert not is_temporary(smtplib.SMTPRecipientsRefused(refused))
    assert describe(smtplib.SMTPDataError(550, b"5.1.1 no such mailbox")) == "550 5.1.1 no such mailbox"


def test_librarians_see_masked_addresses() -> None:
    assert mask("jane.doe@example.org") == "j***@example.org"
    assert mask("not an address") == "***"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mail_retry_base": 0}, "mail_retry_base must be more than 0"),
        ({"mail_retry_base": 100, "mail_retry_cap": 50}, "at most mail_retry_cap"),
        ({"mail_max_attempts": 0}, "mail_max_attempts must be at least 1"),
        ({"mail_poll_interval": 0}, "mail_poll_interval must be more than 0"),
        ({"mail_lease": 10}, "mail_lease must be at least 120"),
    ],
)
def test_bad_outbox_settings_are_refused_naming_the_setting(
    overrides: dict[str, float], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings(overrides=overrides)
