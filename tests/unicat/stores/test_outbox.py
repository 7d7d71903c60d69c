"""The outbox store (unicat/ports/outbox.py) over both databases: one message per event key, enqueued
within a caller's transaction too, due messages taken by one sender only, leases that run out leave a
message interrupted (never queued again on its own), resending, and a copy that keeps everything."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.support.at_once import all_at_once
from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite import driver
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.engines.sqlite.schema import MIGRATIONS, migrate
from unicat.errors import MessageNotFound, MessageNotResendable
from unicat.outbox import Message
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.outbox import SqlOutboxStore, enqueue_in

LEASE = 600.0
UNSUBSCRIBE = (
    ("List-Unsubscribe", "<https://catalogue.example.org/alerts/unsubscribe?token=a1b2c3>"),
    ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
)


def open_database(kind: str, request: pytest.FixtureRequest, path: Path) -> Database:
    if kind == "sqlite":
        return SqliteDatabase(path, Settings())
    return PostgresDatabase(str(request.getfixturevalue("postgres_database_url")), Settings())


@pytest.fixture(params=["sqlite", "postgresql"])
def outbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlOutboxStore]:
    with open_database(request.param, request, tmp_path / "outbox.db") as db:
        yield SqlOutboxStore(db)


def message(number: int, kind: str = "registration") -> Message:
    return Message(
        f"reader{number}@example.org", f"Subject {number}", f"Text {number}", kind, f"{kind}:{number}"
    )


def test_the_same_event_enqueued_twice_is_one_message(outbox: SqlOutboxStore) -> None:
    first = outbox.enqueue(message(1))
    again = outbox.enqueue(dataclasses.replace(message(1), subject="Other"))
    assert first.id is not None and again.id == first.id and again.subject == "Subject 1"
    assert (first.state, first.attempts, first.recipient) == ("queued", 0, "reader1@example.org")
    assert outbox.counts() == {"queued": 1, "sending": 0, "sent": 0, "failed": 0, "interrupted": 0}


def test_a_message_is_enqueued_within_the_callers_transaction(outbox: SqlOutboxStore) -> None:
    with pytest.raises(RuntimeError), outbox.db.write() as conn:
        enqueue_in(conn, message(1))
        raise RuntimeError("the event's own write failed")
    assert outbox.list_messages() == []  # rolled back with the event
    with outbox.db.write() as conn:
        message_id = enqueue_in(conn, message(2))
    stored = outbox.get(message_id)
    assert stored is not None and stored.key == "registration:2"


def test_a_claimed_message_is_sending_and_then_sent_or_queued_again(outbox: SqlOutboxStore) -> None:
    for number in range(3):
        outbox.enqueue(message(number))
    [one, two] = outbox.claim(2, LEASE)
    assert {one.message.state, two.message.state} == {"sending"} and one.message.attempts == 1
    assert outbox.counts()["sending"] == 2 and outbox.counts()["queued"] == 1
    assert outbox.mark_sent(one)
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert outbox.mark_failed(two, "451 4.3.0 try later", later)
    retried = outbox.get(two.message.id or 0)
    assert retried is not None and (retried.state, retried.error, retried.next_attempt) == (
        "queued", "451 4.3.0 try later", later,
    )  # fmt: skip
    # Not due yet: only the third is taken.
    [three] = outbox.claim(10, LEASE)
    assert three.message.id not in (one.message.id, two.message.id)
    assert outbox.mark_failed(three, "550 5.1.1 no such user", None)
    assert outbox.counts() == {"queued": 1, "sending": 0, "sent": 1, "failed": 1, "interrupted": 0}
    # A claim is used once.
    assert not outbox.mark_sent(one)


def test_a_lease_that_runs_out_leaves_the_message_interrupted_until_resent(outbox: SqlOutboxStore) -> None:
    stored = outbox.enqueue(message(1))
    [claimed] = outbox.claim(1, LEASE)
    after_lease = datetime.now(UTC) + timedelta(seconds=LEASE + 60)
    assert outbox.claim(10, LEASE, now=after_lease) == []  # interrupted, not taken again
    interrupted = outbox.get(stored.id or 0)
    assert interrupted is not None and interrupted.state == "interrupted"
    assert not outbox.mark_sent(claimed)  # the dead sender's claim is gone
    assert outbox.claim(10, LEASE, now=after_lease + timedelta(days=1)) == []
    resent = outbox.resend(stored.id or 0)
    assert (resent.state, resent.attempts) == ("queued", 0)
    with pytest.raises(MessageNotResendable, match="only failed or interrupted"):
        outbox.resend(stored.id or 0)
    with pytest.raises(MessageNotFound):
        outbox.resend(10**9)
    [again] = outbox.claim(1, LEASE)
    assert again.message.id == stored.id and outbox.mark_sent(again)


def test_two_senders_at_once_never_take_the_same_message(outbox: SqlOutboxStore) -> None:
    count = 40
    for number in range(count):
        outbox.enqueue(message(number))
    taken = all_at_once(2, lambda _: [claimed.message.id or 0 for claimed in outbox.claim(count, LEASE)])
    ids = taken[0] + taken[1]
    assert sorted(ids) == sorted({stored.id or 0 for stored in outbox.list_messages()})
    assert len(set(ids)) == count


def test_a_copy_keeps_every_message_and_interrupts_those_being_sent(
    outbox: SqlOutboxStore, tmp_path: Path
) -> None:
    from unicat_cli.migrate import copy_outbox

    for number in range(3):
        outbox.enqueue(message(number))
    outbox.enqueue(dataclasses.replace(message(3, "alert.digest"), headers=UNSUBSCRIBE))
    [claimed] = outbox.claim(1, LEASE)
    with SqliteDatabase(tmp_path / "copy.db", Settings()) as db:
        target = SqlOutboxStore(db)
        assert copy_outbox(outbox, target, lambda _what, _count: None) == 4
        copied = {item.id or 0: item for item in target.iter_messages()}
        original = {item.id or 0: item for item in outbox.iter_messages()}
        assert copied.keys() == original.keys()
        assert copied[claimed.message.id or 0].state == "interrupted"
        for message_id, item in original.items():
            if message_id != claimed.message.id:
                assert copied[message_id] == item
        assert [item.headers for item in copied.values() if item.headers] == [UNSUBSCRIBE]
        # The copy numbers new messages after the copied ones.
        assert (target.enqueue(message(9)).id or 0) > max(original)


def test_extra_headers_are_stored_with_their_message(outbox: SqlOutboxStore) -> None:
    digest = dataclasses.replace(message(1, "alert.digest"), headers=UNSUBSCRIBE)
    stored = outbox.enqueue(digest)
    assert stored.headers == UNSUBSCRIBE and outbox.get(stored.id or 0) == stored
    [claimed] = outbox.claim(1, LEASE)
    assert claimed.message.headers == UNSUBSCRIBE  # what the sender composes from
    assert outbox.mark_failed(claimed, "550 5.1.1 no such user", None)
    assert outbox.resend(stored.id or 0).headers == UNSUBSCRIBE
    assert [item.headers for item in outbox.list_messages()] == [UNSUBSCRIBE]
    assert [item.headers for item in outbox.iter_messages()] == [UNSUBSCRIBE]
    plain = outbox.enqueue(message(2))
    assert plain.headers == ()
    with outbox.db.read() as conn:
        row = conn.execute("SELECT headers FROM outbox WHERE id = ?", (plain.id,)).fetchone()
    assert row[0] is None  # as every message stored before extra headers could be given


def test_a_message_stored_before_extra_headers_existed_has_none(tmp_path: Path) -> None:
    path = tmp_path / "unicat.db"
    conn = driver.connect(path)
    assert migrate(conn, MIGRATIONS[:20]) == 20
    conn.execute(
        "INSERT INTO outbox (idempotency_key, kind, recipient, language, subject, text_body, state, "
        "created, next_attempt) VALUES ('registration:1', 'registration', 'reader1@example.org', 'en', "
        "'Subject 1', 'Text 1', 'queued', '2026-12-01T10:00:00Z', '2026-12-01T10:00:00Z')"
    )
    conn.close()
    with SqliteDatabase(path, Settings()) as db:
        [old] = SqlOutboxStore(db).list_messages()
    assert (old.key, old.headers) == ("registration:1", ())
