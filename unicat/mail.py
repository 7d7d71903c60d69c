"""Sending one e-mail through the SMTP server of the settings (``smtp_*``, ``mail_from``).

A text part, and an HTML alternative when the message has one, and the few extra headers a message
may carry (:data:`EXTRA_HEADERS`: RFC 2369's list headers and RFC 8058's one-click unsubscribe, which
large mail providers require of bulk senders such as alert digests). The outbox's sender
(unicat/mail_sender.py) sends a pass's messages over one connection (:func:`connect`): a busy network
sends a message at each step of every request, and a conversation per message (connecting, TLS,
signing in) would cost more than the message. Blocking: the sender runs in a thread of its own, never
on the web app's event loop.
"""

from __future__ import annotations

import email.policy
import smtplib
import ssl
import unicodedata
from collections.abc import Sequence
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import EmailPolicy
from email.utils import formatdate, make_msgid

from unicat.settings import Settings

SMTP_TIMEOUT = 30.0
"""Seconds one SMTP connection may take at each step before the message is given up."""


EXTRA_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Auto-Submitted")
"""The only headers a message may add to those :func:`compose` writes. An allow-list, not a deny-list:
a caller that could name any header could forge ``From``, ``Bcc`` or ``Content-Type``."""

VERBATIM_HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")
"""Headers written on one line exactly as given. Python folds a long header value that has no space
(an unsubscribe URL with its token) into RFC 2047 encoded words, which mail providers do not decode
in these headers: the link would be lost. Their values must be ASCII (URIs are) and fit one line."""

MAX_LINE = 998
"""Characters a header line may hold, its name included (RFC 5322 §2.1.1)."""

_NAMED = {"\r": "a carriage return", "\n": "a line feed", "\0": "a NUL"}


def _forbidden(value: str) -> str | None:
    """What in ``value`` no header line may hold, said for the error: a line break (CR, LF, or one
    Python's ``splitlines`` would break at, U+2028 among them) or another control character but TAB."""
    for character in value:
        if character in _NAMED:
            return _NAMED[character]
        if (unicodedata.category(character) == "Cc" and character != "\t") or character in "\u2028\u2029":
            return f"the character U+{ord(character):04X}"
    return None


def check_headers(headers: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """``headers`` as a tuple of (name, value), each name one of :data:`EXTRA_HEADERS` (in any case,
    written as listed there) and given once; raises :class:`ValueError` naming the header otherwise, or
    when a value holds a line break or a NUL: a value that could end its line could add headers of its
    own, or a body (header injection)."""
    allowed = {name.lower(): name for name in EXTRA_HEADERS}
    checked: list[tuple[str, str]] = []
    for name, value in headers:
        canonical = allowed.get(name.lower())
        if canonical is None:
            raise ValueError(
                f"the e-mail header {name!r} may not be given: only {', '.join(EXTRA_HEADERS)} may"
            )
        if any(seen == canonical for seen, _ in checked):
            raise ValueError(f"the e-mail header {canonical!r} is given twice: give it once")
        what = _forbidden(value)
        if what is not None:
            raise ValueError(f"the value of the e-mail header {canonical!r} holds {what}: give one line")
        if canonical in VERBATIM_HEADERS:
            if not value.isascii():
                raise ValueError(f"the value of the e-mail header {canonical!r} must be ASCII (URIs are)")
            if len(canonical) + 2 + len(value) > MAX_LINE:
                raise ValueError(
                    f"the e-mail header {canonical!r} is longer than a header line may be ({MAX_LINE} "
                    "characters): give a shorter value"
                )
        checked.append((canonical, value))
    return tuple(checked)


class _VerbatimHeader(UnstructuredHeader, BaseHeader):
    """A header written as given, on one line (:data:`VERBATIM_HEADERS`). ``BaseHeader`` is named
    here only for the type checker: the registry adds it to every header class it makes."""

    def fold(self, *, policy: email.policy.Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _policy() -> EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    for name in VERBATIM_HEADERS:
        registry.map_to_type(name.lower(), _VerbatimHeader)
    return email.policy.default.clone(header_factory=registry)


_POLICY = _policy()
"""Python's default e-mail policy (the one ``EmailMessage()`` takes), but for :data:`VERBATIM_HEADERS`."""


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def compose(
    settings: Settings,
    to: str,
    subject: str,
    body: str,
    html: str | None = None,
    language: str = "",
    headers: Sequence[tuple[str, str]] = (),
) -> EmailMessage:
    """The message as sent: ``body`` as its text part, ``html`` (if any) as the alternative a mail
    reader that shows HTML prefers; ``Content-Language`` says what the text is written in; ``headers``
    are added as given (checked by :func:`check_headers`)."""
    message = EmailMessage(policy=_POLICY)
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2])
    for name, value in check_headers(headers):
        message[name] = value
    message.set_content(body)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if language:  # after the parts: making them moves the Content-* headers there
        message["Content-Language"] = language
    return message


def connect(settings: Settings) -> smtplib.SMTP:
    """A connection to the SMTP server, secured and signed in as the settings say, ready to take
    messages (``send_message``); the caller closes it (``quit``, or ``close`` after an error). Raises
    :class:`OSError` or :class:`smtplib.SMTPException` when it cannot."""
    context = ssl.create_default_context()
    server: smtplib.SMTP
    if settings.smtp_security == "ssl":
        server = smtplib.SMTP_SSL(
            settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT, context=context
        )
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=SMTP_TIMEOUT)
    try:
        if settings.smtp_security == "starttls":
            server.starttls(context=context)
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
    except BaseException:
        server.close()
        raise
    return server


def send(settings: Settings, message: EmailMessage) -> None:
    """Deliver ``message`` over a connection of its own; raises :class:`OSError` or
    :class:`smtplib.SMTPException` when it cannot."""
    with connect(settings) as server:
        server.send_message(message)
