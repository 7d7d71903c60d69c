"""``unicat mail`` against a real SMTP server on 127.0.0.1: ``send`` says by its exit code whether a
message failed, ``list`` shows failures with the server's answer, ``resend`` queues a failed message
again (and refuses one that was sent: it could arrive twice)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.smtp_server import smtp_server
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.outbox import Message
from unicat.settings import Settings
from unicat.stores.outbox import SqlOutboxStore
from unicat_cli.cli import main

UNSUBSCRIBE = (("List-Unsubscribe", "<https://catalogue.example.org/alerts/unsubscribe?token=a1b2c3>"),)


def test_send_list_and_resend(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    database = tmp_path / "unicat.db"
    with SqliteDatabase(database, Settings()) as db:
        SqlOutboxStore(db).enqueue(
            Message("ann@example.org", "Hello", "Text\n", "registration", "k:1", headers=UNSUBSCRIBE)
        )
    with smtp_server() as mailbox:
        config = tmp_path / "unicat.toml"
        config.write_text(
            f'smtp_host = "127.0.0.1"\nsmtp_port = {mailbox.port}\nsmtp_security = "none"\n'
            'mail_from = "catalogue@example.org"\nsite_url = "https://catalogue.example.org"\n'
        )
        base = ["--config", str(config), "--engine", f"sqlite:///{database}", "mail"]
        mailbox.refusals.append("550 5.1.1 no such mailbox")
        assert main([*base, "send"]) == 1
        assert "0 sent, 0 to be tried again, 1 failed" in capsys.readouterr().out
        assert main([*base, "list", "--state", "failed", "--json"]) == 0
        [failed] = json.loads(capsys.readouterr().out)
        assert (failed["recipient"], failed["attempts"]) == ("ann@example.org", 1)
        assert failed["error"].startswith("550")
        assert failed["headers"] == [list(header) for header in UNSUBSCRIBE]
        assert main([*base, "resend", str(failed["id"])]) == 0
        assert main([*base, "send"]) == 0
        assert "1 sent, 0 to be tried again, 0 failed" in capsys.readouterr().out
        [arrived] = mailbox.to("ann@example.org")
        assert arrived["List-Unsubscribe"] == UNSUBSCRIBE[0][1]  # resending kept it
        assert main([*base, "resend", str(failed["id"])]) == 1
        assert "is sent: only failed or interrupted messages can be resent" in capsys.readouterr().err
        assert main([*base, "list"]) == 0
        assert "0 queued, 0 sending, 1 sent, 0 failed, 0 interrupted" in capsys.readouterr().out
