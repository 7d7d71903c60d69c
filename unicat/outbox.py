"""The outbox: e-mail messages kept in the database until the mail server has taken them.

A message is stored when the event it tells of happens (in the same transaction when the event is
stored too), then sent by a sender (``unicat serve``'s, or ``unicat mail send`` from cron). A crash
must neither lose nor double a message, and the two pull against each other: SMTP cannot say "this
message, once". The outbox chooses *at most once*: a message is marked ``sending`` (committed) before
the SMTP conversation starts. A sender that dies during it leaves the message ``sending``; when its
lease runs out the message becomes ``interrupted`` — it may have gone out — and is shown to librarians,
who may resend it. It is never sent again on its own.

States::

    queued ──claim──▶ sending ──250──▶ sent
      ▲                  │ 4xx, no connection (attempts left) ─▶ queued (later, by the schedule)
      │                  │ 5xx, or no attempts left ──────────▶ failed
      │                  └ lease runs out ────────────────────▶ interrupted
      └────────── a librarian resends (failed, interrupted)
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

from unicat.clock import format_time
from unicat.mail import check_headers
from unicat.settings import Settings

State = Literal["queued", "sending", "sent", "failed", "interrupted"]
STATES: tuple[State, ...] = get_args(State)
RESENDABLE: tuple[State, ...] = ("failed", "interrupted")

MAX_KEY = 200
MAX_ERROR = 1000
"""Characters of the mail server's answer kept with a failed attempt (its first lines say why)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One e-mail. ``key`` names the event it tells of (``registration:<token hash>``,
    ``request.accepted:<request id>``): enqueueing the same key twice stores one message.
    ``language`` is the one the text was written in (the recipient's). ``headers`` are extra header
    lines sent with it (``List-Unsubscribe`` for a digest), only those :data:`unicat.mail.EXTRA_HEADERS`
    allows: any other, or a value holding a line break, raises :class:`ValueError` when the message is
    made, before it can be stored."""

    recipient: str
    subject: str
    text: str
    kind: str
    key: str
    language: str = "en"
    html: str | None = None
    id: int | None = None
    state: State = "queued"
    attempts: int = 0
    created: str = ""
    next_attempt: str = ""
    sent: str | None = None
    error: str | None = None
    headers: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", check_headers(self.headers))


def check_state(value: str) -> State:
    """``value`` as a :data:`State`; :class:`ValueError` naming the states otherwise."""
    for state in STATES:
        if value == state:
            return state
    raise ValueError(f"unknown mail state {value!r}: use one of {', '.join(STATES)}")


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """When a message refused for now is tried again: ``base`` seconds after the first try, doubled
    after each further one, never more than ``cap``; after ``max_attempts`` tries it has failed."""

    base: float
    cap: float
    max_attempts: int

    @classmethod
    def from_settings(cls, settings: Settings) -> RetrySchedule:
        return cls(settings.mail_retry_base, settings.mail_retry_cap, settings.mail_max_attempts)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th try (1 for the first)."""
        return float(min(self.cap, self.base * 2 ** max(0, attempts - 1)))

    def next_attempt(self, attempts: int, now: datetime) -> str | None:
        """The stored time of the next try after ``attempts`` tries, or ``None`` when none is left."""
        if attempts >= self.max_attempts:
            return None
        return format_time(now + timedelta(seconds=self.delay(attempts)))


def is_temporary(error: BaseException) -> bool:
    """Whether trying again later may succeed: a 4xx answer (RFC 5321 §4.2.1, "transient negative"),
    a refused or dropped connection, a timeout. A 5xx answer is permanent: the same message would be
    refused again."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return 400 <= error.smtp_code < 500
    return isinstance(error, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError))


def describe(error: BaseException) -> str:
    """The mail server's answer (or the connection's failure) as kept with the message."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        text = "; ".join(
            f"{address}: {code} {answer.decode(errors='replace')}"
            for address, (code, answer) in error.recipients.items()
        )
    elif isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error
        text = f"{error.smtp_code} {answer.decode(errors='replace') if isinstance(answer, bytes) else answer}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:MAX_ERROR]


def mask(address: str) -> str:
    """An address as librarians see it: enough to tell messages apart, not to copy the address
    (``j***@example.org``)."""
    local, at, domain = address.rpartition("@")
    if not at:
        return "***"
    return f"{local[:1]}***@{domain}"
