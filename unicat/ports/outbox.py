"""The outbox store: e-mail messages waiting for, going to, or refused by the mail server.

What a message is and its states are :mod:`unicat.outbox`; this port is where they are kept.
Implemented once in SQL over either database (``unicat/stores/outbox.py``), which also offers
``enqueue_in(conn, …)`` for a store that records an event and its message in one transaction.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from unicat.outbox import Message, State


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message a sender took, and the token that proves it still holds it."""

    message: Message
    claim: str


class OutboxStore(abc.ABC):
    """Every method is synchronous and safe to call from several threads and processes at once."""

    @abc.abstractmethod
    def enqueue(self, message: Message) -> Message:
        """Store a queued message, due now; returns it with its ``id``. A message whose ``key`` is
        stored already is not stored again: the stored one is returned."""

    @abc.abstractmethod
    def claim(self, limit: int, lease_seconds: float, now: datetime | None = None) -> list[Claimed]:
        """Take at most ``limit`` due queued messages for sending: each is ``sending`` (committed)
        with one more attempt when this returns, and no other caller gets it. First, messages whose
        lease ran out become ``interrupted``."""

    @abc.abstractmethod
    def mark_sent(self, claimed: Claimed, now: datetime | None = None) -> bool:
        """The mail server took the message; ``False`` when the claim was lost meanwhile (the lease
        ran out: the message stays ``interrupted``)."""

    @abc.abstractmethod
    def mark_failed(self, claimed: Claimed, error: str, next_attempt: str | None) -> bool:
        """The mail server refused it: queued again for ``next_attempt``, or ``failed`` when
        ``None``; the error is kept. ``False`` when the claim was lost meanwhile."""

    @abc.abstractmethod
    def interrupt_expired(self, now: datetime | None = None) -> int:
        """Mark ``interrupted`` every ``sending`` message whose lease has run out; returns how many."""

    @abc.abstractmethod
    def resend(self, message_id: int) -> Message:
        """Queue a ``failed`` or ``interrupted`` message again, due now, with its attempts counted
        afresh. Raises :class:`~unicat.errors.MessageNotFound` or
        :class:`~unicat.errors.MessageNotResendable`."""

    @abc.abstractmethod
    def get(self, message_id: int) -> Message | None: ...

    @abc.abstractmethod
    def counts(self) -> dict[State, int]:
        """How many messages are in each state (every state named, 0 included)."""

    @abc.abstractmethod
    def list_messages(self, state: State | None = None, limit: int = 100) -> list[Message]:
        """The latest messages (of one state), newest first."""

    @abc.abstractmethod
    def iter_messages(self) -> Iterator[Message]:
        """Every message, by id (``unicat migrate``)."""

    @abc.abstractmethod
    def add_copied(self, message: Message) -> None:
        """Store a message from another catalogue as it was (id, state, attempts, times)."""
