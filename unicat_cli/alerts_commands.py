"""``unicat alerts send``: store the due alert digests in the outbox (for cron, beside ``unicat mail
send``, for a catalogue whose ``unicat serve`` does not run the scheduler); ``--dry-run`` lists what
would go and stores nothing."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime

from search_app.alert_digests import Outcome, send_digests
from search_app.i18n import load_catalogues
from unicat.catalogue import Catalogue
from unicat.errors import ConfigError
from unicat.mail import mail_enabled
from unicat.settings import Settings
from unicat_cli.steps import echo

EXIT_OK = 0


def add_alerts_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    alerts = commands.add_parser("alerts", help="saved searches' alerts: store the due e-mail digests")
    actions = alerts.add_subparsers(dest="alerts_command", required=True, metavar="ACTION")
    send = actions.add_parser(
        "send", help="store the due digests in the outbox (sent by `unicat mail send` or `unicat serve`)"
    )
    send.add_argument("--dry-run", action="store_true", help="list the digests that would go; store nothing")


def cmd_alerts(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    if not mail_enabled(settings):
        raise ConfigError("smtp_host is not set: set it (and mail_from, site_url) to send alert digests")

    def show(outcome: Outcome) -> None:
        what = f"{outcome.total} new title(s)" if outcome.total else "nothing new"
        echo(f"saved search #{outcome.search_id}  {outcome.period}  {outcome.recipient}  {what}")

    report = send_digests(
        catalogue, settings, load_catalogues(), datetime.now(UTC), dry_run=args.dry_run, notify=show
    )
    verb = "would be stored" if args.dry_run else "stored in the outbox"
    echo(f"{report.due} due, {report.stored} digest(s) {verb}, {report.empty} with nothing new")
    return EXIT_OK
