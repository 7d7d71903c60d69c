"""``unicat mail``: send the outbox's due messages (from cron, for a catalogue served without its
sender), list its messages, and resend a failed or interrupted one."""

from __future__ import annotations

import argparse
import json

from unicat.catalogue import Catalogue
from unicat.errors import BadParameter, ConfigError
from unicat.mail import mail_enabled
from unicat.mail_sender import BATCH, send_due
from unicat.outbox import STATES, Message, check_state
from unicat.settings import Settings
from unicat_cli.steps import echo

EXIT_OK = 0
EXIT_FAILED = 1


def add_mail_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    mail = commands.add_parser("mail", help="the e-mail outbox: send due messages, list them, resend one")
    actions = mail.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    actions.add_parser("send", help="send the due messages once (for cron); exit 1 if any failed")
    listing = actions.add_parser("list", help="the latest messages, newest first")
    listing.add_argument("--state", choices=STATES, help="only the messages in this state")
    listing.add_argument("--limit", type=int, default=100, help="how many at most (100)")
    listing.add_argument("--json", action="store_true", help="print JSON")
    resend = actions.add_parser("resend", help="queue a failed or interrupted message again")
    resend.add_argument("id", type=int, metavar="ID", help="the message's number (`unicat mail list`)")


def message_json(message: Message) -> dict[str, object]:
    return {
        "id": message.id,
        "kind": message.kind,
        "recipient": message.recipient,
        "language": message.language,
        "subject": message.subject,
        "state": message.state,
        "attempts": message.attempts,
        "created": message.created,
        "next_attempt": message.next_attempt,
        "sent": message.sent,
        "error": message.error,
        "headers": [list(header) for header in message.headers],
    }


def cmd_mail(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    store = catalogue.outbox
    if args.mail_command == "send":
        if not mail_enabled(settings):
            raise ConfigError("smtp_host is not set: set it (and mail_from, site_url) to send mail")
        sent = retried = failed = 0
        while True:  # until no due message is left, a batch at a time
            report = send_due(store, settings)
            sent, retried, failed = sent + report.sent, retried + report.retried, failed + report.failed
            if report.taken < BATCH:
                break
        echo(f"{sent} sent, {retried} to be tried again, {failed} failed")
        return EXIT_FAILED if retried or failed else EXIT_OK
    if args.mail_command == "list":
        if args.limit < 1:
            raise BadParameter("--limit", "give a number of messages of at least 1")
        messages = store.list_messages(check_state(args.state) if args.state else None, args.limit)
        if args.json:
            echo(json.dumps([message_json(message) for message in messages], ensure_ascii=False, indent=2))
            return EXIT_OK
        for message in messages:
            error = f"  {message.error}" if message.error and message.state != "sent" else ""
            echo(
                f"#{message.id}  {message.state}  {message.kind}  {message.recipient}  "
                f"{message.attempts} attempt(s)  {message.created}{error}"
            )
        counts = store.counts()
        echo(", ".join(f"{counts[state]:,} {state}" for state in STATES))
        return EXIT_OK
    resent = store.resend(args.id)
    echo(f"message #{resent.id} to {resent.recipient} is queued again")
    return EXIT_OK
