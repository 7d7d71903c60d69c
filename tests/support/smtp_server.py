"""A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread of its own) that keeps what it receives, and
can refuse messages first with the answers a test gives it (a 451 "try later", a 550 "never")."""

from __future__ import annotations

import email
import email.policy
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.support.loopback import free_port


@dataclass
class Mailbox:
    """The messages the server accepted, parsed, in arrival order."""

    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    """Answers given, in turn, to the next messages instead of taking them (``"451 4.3.0 later"``)."""
    refused: int = 0
    sessions: list[Any] = field(default_factory=list)
    """The SMTP connections messages came over (aiosmtpd's session of each), each once."""
    raw: list[bytes] = field(default_factory=list)
    """The accepted messages as they came over the wire, in the order of ``messages``."""
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        """aiosmtpd calls it (by this name) for each message accepted."""
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self._lock:
            if not any(seen is session for seen in self.sessions):
                self.sessions.append(session)
            if self.refusals:
                self.refused += 1
                return self.refusals.pop(0)
            self.messages.append(parsed)
            self.raw.append(bytes(envelope.content))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        with self._lock:
            return [message for message in self.messages if message["To"] == address]


@contextmanager
def smtp_server() -> Iterator[Mailbox]:
    """An SMTP server on a free loopback port, stopped at the end."""
    mailbox = Mailbox("127.0.0.1", free_port())
    controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


def text_part(message: EmailMessage) -> str:
    """The message's text part (the one a text-only mail reader shows)."""
    part = message.get_body(("plain",))
    assert isinstance(part, EmailMessage), message
    return str(part.get_content())


def html_part(message: EmailMessage) -> str:
    """The message's HTML part."""
    part = message.get_body(("html",))
    assert isinstance(part, EmailMessage), message
    return str(part.get_content())
