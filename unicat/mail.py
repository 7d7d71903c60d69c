"""Sending one e-mail through the SMTP server of the settings (``smtp_*``, ``mail_from``).

A text part, and an HTML alternative when the message has one. The outbox's sender
(unicat/mail_sender.py) sends a pass's messages over one connection (:func:`connect`): a busy network
sends a message at each step of every request, and a conversation per message (connecting, TLS,
signing in) would cost more than the message. Blocking: the sender runs in a thread of its own, never
on the web app's event loop.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from unicat.settings import Settings

SMTP_TIMEOUT = 30.0
"""Seconds one SMTP connection may take at each step before the message is given up."""


def mail_enabled(settings: Settings) -> bool:
    return bool(settings.smtp_host)


def compose(
    settings: Settings, to: str, subject: str, body: str, html: str | None = None, language: str = ""
) -> EmailMessage:
    """The message as sent: ``body`` as its text part, ``html`` (if any) as the alternative a mail
    reader that shows HTML prefers; ``Content-Language`` says what the text is written in."""
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.mail_from.rpartition("@")[2])
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
