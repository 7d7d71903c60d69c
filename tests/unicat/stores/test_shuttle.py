"""The requests store (unicat/ports/shuttle.py) over SQLite and PostgreSQL: a request and its audit
entries, the limits, lists for a patron and a library, changes refused without a trace, and two
librarians acting on one request at the same moment."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace

import pytest

from unicat.accounts import User
from unicat.errors import Conflict, ItemNotFound, LimitReached, NotAllowed
from unicat.ports.database import Connection, Database
from unicat.shuttle import Action, Choice, Event, Request
from unicat.stores.shuttle import SqlShuttleStore

PATRON = User("reader@example.org", "Reader", "x", "patron", "GENT", id=1)
OTHER = User("other@example.org", "Other", "x", "patron", "GENT", id=2)
HOLDER = User("lib@bxl.example.org", "Holder", "x", "librarian", "BXL", id=3)
HOLDER_TOO = User("lib2@bxl.example.org", "Holder too", "x", "librarian", "BXL", id=4)
PICKUP = User("lib@gent.example.org", "Pickup", "x", "librarian", "GENT", id=5)
NEXT = User("lib@lux.example.org", "Next", "x", "librarian", "LUX", id=6)


def new_request(
    patron: User = PATRON, holder: str = "BXL", record: str = "u1", *, last_library: bool = False
) -> Request:
    assert patron.id is not None
    return Request(
        patron_id=patron.id,
        record=record,
        title="Le petit prince",
        pickup="GENT",
        holder=holder,
        reason="nearest shuttle library with a copy available",
        candidates=() if last_library else (Choice("LUX", "next nearest"),),
    )


@pytest.fixture
def shuttle(database: Database) -> SqlShuttleStore:
    return SqlShuttleStore(database, max_open_per_patron=3, max_open_per_library=4)


def test_a_placed_request_is_stored_with_its_first_event(shuttle: SqlShuttleStore) -> None:
    stored = shuttle.create(new_request())
    assert stored.id is not None and stored.state == "placed" and stored.version == 1 and stored.created
    assert shuttle.get(stored.id) == stored
    (event,) = shuttle.events(stored.id)
    assert (event.action, event.from_state, event.to_state, event.user_id, event.library) == (
        "place",
        None,
        "placed",
        PATRON.id,
        "BXL",
    )
    assert shuttle.get(10**9) is None


def test_every_change_is_stored_with_its_audit_entry(shuttle: SqlShuttleStore) -> None:
    request = shuttle.create(new_request())
    assert request.id is not None
    steps: list[tuple[Action, User, str]] = [
        ("refuse", HOLDER, "copy damaged"),
        ("accept", NEXT, ""),
        ("send", NEXT, ""),
        ("arrive", PICKUP, ""),
        ("collect", PICKUP, ""),
        ("return", PICKUP, ""),
    ]
    for action, user, reason in steps:
        shuttle.act(request.id, action, user, reason)
    final = shuttle.get(request.id)
    assert final is not None
    assert (final.state, final.holder, final.candidates, final.version) == ("returned", "LUX", (), 7)
    history = shuttle.events(request.id)
    assert [event.action for event in history] == ["place", *(action for action, _, _ in steps)]
    assert [event.to_state for event in history] == [
        "placed",
        "placed",
        "accepted",
        "sent",
        "arrived",
        "collected",
        "returned",
    ]
    assert "copy damaged" in history[1].reason and history[1].library == "LUX"


def test_a_bad_change_is_a_conflict_and_leaves_no_trace(shuttle: SqlShuttleStore) -> None:
    request = shuttle.create(new_request())
    assert request.id is not None
    shuttle.act(request.id, "cancel", PATRON)
    with pytest.raises(Conflict, match=f"Request {request.id} was cancelled; it cannot be sent"):
        shuttle.act(request.id, "send", HOLDER)
    with pytest.raises(NotAllowed):
        shuttle.act(request.id, "cancel", OTHER)
    with pytest.raises(ItemNotFound):
        shuttle.act(10**9, "accept", HOLDER)
    stored = shuttle.get(request.id)
    assert stored is not None and stored.version == 2
    assert len(shuttle.events(request.id)) == 2


def test_a_change_decided_on_an_older_version_is_refused(shuttle: SqlShuttleStore) -> None:
    request = shuttle.create(new_request())
    assert request.id is not None
    shuttle.act(request.id, "accept", HOLDER, version=1)
    with pytest.raises(Conflict, match="since you looked at it"):
        shuttle.act(request.id, "refuse", HOLDER_TOO, "no copy", version=1)
    assert [event.action for event in shuttle.events(request.id)] == ["place", "accept"]


def test_histories_of_several_requests_at_once_are_each_ones_own(shuttle: SqlShuttleStore) -> None:
    first = shuttle.create(new_request(record="u1"))
    second = shuttle.create(new_request(record="u2"))
    assert first.id is not None and second.id is not None
    shuttle.act(first.id, "accept", HOLDER)
    shuttle.act(second.id, "cancel", PATRON)
    shuttle.act(first.id, "send", HOLDER)
    histories = shuttle.histories([second.id, first.id, 10**9])
    assert histories == {
        first.id: shuttle.events(first.id),
        second.id: shuttle.events(second.id),
        10**9: [],
    }
    assert [event.action for event in histories[first.id]] == ["place", "accept", "send"]
    assert [event.action for event in histories[second.id]] == ["place", "cancel"]


def test_the_limits_name_their_setting(shuttle: SqlShuttleStore) -> None:
    for number in range(3):
        shuttle.create(new_request(record=f"u{number}"))
    with pytest.raises(LimitReached, match="shuttle_max_open_per_patron is 3") as caught:
        shuttle.create(new_request(record="u9"))
    assert caught.value.setting == "shuttle_max_open_per_patron"
    # A cancelled request is no longer open: the patron may place another.
    first = shuttle.for_patron(PATRON.id or 0)[-1]
    assert first.id is not None
    shuttle.act(first.id, "cancel", PATRON)
    shuttle.create(new_request(record="u9"))
    # BXL holds 3 open requests; a fourth from someone else fills it, a fifth is refused.
    shuttle.create(new_request(patron=OTHER, record="u10"))
    with pytest.raises(LimitReached, match="shuttle_max_open_per_library is 4"):
        shuttle.create(new_request(patron=OTHER, record="u11"))
    assert shuttle.open_counts() == {"BXL": 4}


def test_lists_for_a_patron_and_for_a_library(shuttle: SqlShuttleStore) -> None:
    mine = shuttle.create(new_request(record="a"))
    theirs = shuttle.create(new_request(patron=OTHER, holder="GENT", record="b"))
    assert mine.id is not None and theirs.id is not None
    shuttle.act(mine.id, "accept", HOLDER)
    assert [request.id for request in shuttle.for_patron(PATRON.id or 0)] == [mine.id]
    assert [request.id for request in shuttle.for_library("BXL")] == [mine.id]
    assert [request.id for request in shuttle.for_library("GENT")] == [mine.id, theirs.id]
    assert [request.id for request in shuttle.for_library("GENT", side="holder")] == [theirs.id]
    assert [request.id for request in shuttle.for_library("GENT", side="pickup", state="accepted")] == [
        mine.id
    ]
    assert shuttle.for_library("GENT", state="sent") == []


def _race(first: Callable[[], object], second: Callable[[], object]) -> list[str]:
    """Run both at the same moment; what each did: "ok" or the conflict's message."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(act: Callable[[], object]) -> None:
        barrier.wait()
        try:
            act()
            outcome = "ok"
        except (Conflict, NotAllowed) as exc:
            outcome = str(exc)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(act,)) for act in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def test_two_librarians_acting_at_once_one_wins_and_the_other_is_told(database: Database) -> None:
    shuttle = SqlShuttleStore(database, max_open_per_patron=1000, max_open_per_library=1000)
    rounds = 40
    for number in range(rounds):
        # The last library to ask: a refusal ends the request, and both librarians stay involved.
        request = shuttle.create(new_request(record=f"r{number}", last_library=True))
        request_id = request.id
        assert request_id is not None
        # Even rounds: both accept. Odd rounds: one accepts while the other refuses what they both saw
        # placed (version 1); refusing after an accept is allowed, so only the version tells.
        action: Action = "accept" if number % 2 == 0 else "refuse"
        seen = None if number % 2 == 0 else 1
        outcomes = _race(
            lambda: shuttle.act(request_id, "accept", HOLDER, version=seen),  # noqa: B023 (joined in the round)
            lambda: shuttle.act(request_id, action, HOLDER_TOO, "no copy on the shelf", version=seen),  # noqa: B023
        )
        assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1, outcomes
        (told,) = [outcome for outcome in outcomes if outcome != "ok"]
        assert told.startswith(f"Request {request_id} ")
        stored = shuttle.get(request_id)
        assert stored is not None and stored.version == 2
        events = shuttle.events(request_id)
        assert len(events) == 2 and events[1].to_state == stored.state


def test_what_a_change_stores_through_on_change_is_committed_with_it_or_not_at_all(
    shuttle: SqlShuttleStore, database: Database
) -> None:
    """The hook's writes share the change's transaction: a hook that raises leaves neither the change,
    its event, nor what the hook wrote."""
    seen: list[tuple[int | None, int | None, str]] = []

    def note(conn: Connection, request: Request, event: Event) -> None:
        conn.execute("CREATE TABLE IF NOT EXISTS noted (event_id INTEGER)")
        conn.execute("INSERT INTO noted (event_id) VALUES (?)", (event.id,))
        seen.append((request.id, event.id, event.action))

    def broken(conn: Connection, request: Request, event: Event) -> None:
        note(conn, request, event)
        raise RuntimeError("the message could not be written")

    stored = shuttle.create(replace(new_request(), language="fr"), note)
    assert stored.id is not None and stored.language == "fr"
    assert shuttle.get(stored.id) == stored
    with pytest.raises(RuntimeError):
        shuttle.act(stored.id, "accept", HOLDER, on_change=broken)
    changed, event = shuttle.act(stored.id, "accept", HOLDER, on_change=note)
    assert changed.state == "accepted" and changed.language == "fr"
    assert [item.id for item in shuttle.events(stored.id)] == [seen[0][1], event.id]
    # The broken hook saw its change's event (a number PostgreSQL does not give again), then lost it.
    assert [(request_id, action) for request_id, _, action in seen] == [
        (stored.id, "place"),
        (stored.id, "accept"),
        (stored.id, "accept"),
    ]
    assert seen[2][1] == event.id
    with database.read() as conn:
        noted = [row[0] for row in conn.execute("SELECT event_id FROM noted ORDER BY event_id")]
    assert noted == [seen[0][1], event.id]  # the broken hook's row went with its change
