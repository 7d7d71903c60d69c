"""The rule book of inter-library requests (unicat/shuttle.py): the states, who may make each change,
the refusal that moves a request on to the next library, and the messages of a change refused."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from unicat.accounts import User
from unicat.errors import BadParameter, Conflict, NotAllowed
from unicat.shuttle import ACTIONS, RULES, STATES, Choice, Request, check_action, transition

NOW = "2026-12-07T10:00:00Z"
PATRON = User("reader@example.org", "Reader", "x", "patron", "GENT", id=1)
OTHER_PATRON = User("other@example.org", "Other", "x", "patron", "GENT", id=2)
HOLDER = User("lib@bxl.example.org", "Holder", "x", "librarian", "BXL", id=3)
PICKUP = User("lib@gent.example.org", "Pickup", "x", "librarian", "GENT", id=4)
ELSEWHERE = User("lib@lux.example.org", "Elsewhere", "x", "librarian", "LUX", id=5)
ADMIN = User("admin@example.org", "Admin", "x", "admin", None, id=6)


BASE = Request(
    patron_id=1,
    record="u1",
    title="Le petit prince",
    pickup="GENT",
    holder="BXL",
    reason="nearest",
    candidates=(Choice("LUX", "next nearest"),),
    id=12,
    created=NOW,
    updated=NOW,
)


def request(**changes: Any) -> Request:
    return replace(BASE, **changes)


def test_a_request_goes_from_placed_to_returned_by_the_parties_of_each_step() -> None:
    current = request()
    for action, user, state in [
        ("accept", HOLDER, "accepted"),
        ("send", HOLDER, "sent"),
        ("arrive", PICKUP, "arrived"),
        ("collect", PICKUP, "collected"),
        ("return", PICKUP, "returned"),
    ]:
        changed, event = transition(current, check_action(action), user, NOW)
        assert changed.state == state and changed.version == current.version + 1
        assert (event.from_state, event.to_state, event.user_id, event.action) == (
            current.state,
            state,
            user.id,
            action,
        )
        current = changed
    assert not current.is_open


def test_a_refusal_moves_the_request_to_the_next_candidate_then_fails_it_with_the_reason() -> None:
    moved, event = transition(request(), "refuse", HOLDER, NOW, "copy damaged")
    assert (moved.state, moved.holder, moved.reason, moved.candidates) == (
        "placed",
        "LUX",
        "next nearest",
        (),
    )
    assert event.library == "LUX" and "copy damaged" in event.reason and event.to_state == "placed"
    # The library that refused is no longer involved; the next one is.
    assert not moved.visible_to(HOLDER) and moved.visible_to(ELSEWHERE)
    refused, last = transition(moved, "refuse", ELSEWHERE, NOW, "  on loan  ")
    assert (refused.state, refused.message, last.to_state) == ("refused", "on loan", "refused")
    with pytest.raises(
        Conflict, match="Request 12 was refused by every library asked; it cannot be collected"
    ):
        transition(refused, "collect", PICKUP, NOW)


@pytest.mark.parametrize(
    ("state", "action"),
    [
        ("sent", "cancel"),
        ("placed", "send"),
        ("returned", "accept"),
        ("cancelled", "refuse"),
        ("arrived", "send"),
    ],
)
def test_a_change_from_a_state_it_does_not_start_from_is_a_conflict_that_names_both(
    state: str, action: str
) -> None:
    with pytest.raises(Conflict, match=r"^Request 12 .*; it cannot be "):
        transition(request(state=state), check_action(action), ADMIN, NOW, "because")


def test_only_the_parties_of_a_change_or_an_admin_may_make_it() -> None:
    allowed = {
        "accept": {HOLDER.id, ADMIN.id},
        "send": {HOLDER.id, ADMIN.id},
        "arrive": {PICKUP.id, ADMIN.id},
        "collect": {PICKUP.id, ADMIN.id},
        "return": {PICKUP.id, HOLDER.id, ADMIN.id},
        "cancel": {PATRON.id, ADMIN.id},
        "refuse": {HOLDER.id, ADMIN.id},
        "fail": {HOLDER.id, PICKUP.id, ADMIN.id},
    }
    assert set(allowed) == set(ACTIONS)
    for action in ACTIONS:
        start = request(state=RULES[action].sources[0])
        for user in (PATRON, OTHER_PATRON, HOLDER, PICKUP, ELSEWHERE, ADMIN):
            if user.id in allowed[action]:
                assert transition(start, action, user, NOW, "a reason")[0].version == 2
            else:
                with pytest.raises(NotAllowed, match="only by"):
                    transition(start, action, user, NOW, "a reason")


def test_a_patron_may_cancel_until_the_request_is_sent() -> None:
    assert transition(request(state="accepted"), "cancel", PATRON, NOW)[0].state == "cancelled"
    with pytest.raises(Conflict, match="Request 12 was sent; it cannot be cancelled"):
        transition(request(state="sent"), "cancel", PATRON, NOW)


def test_a_refusal_or_a_failure_must_say_why_within_the_limit() -> None:
    with pytest.raises(BadParameter, match="reason"):
        transition(request(), "refuse", HOLDER, NOW, "   ")
    with pytest.raises(BadParameter, match="at most 500"):
        transition(request(state="sent"), "fail", HOLDER, NOW, "x" * 501)


def test_only_the_people_involved_see_a_request() -> None:
    seen = {
        user.id
        for user in (PATRON, OTHER_PATRON, HOLDER, PICKUP, ELSEWHERE, ADMIN)
        if request().visible_to(user)
    }
    assert seen == {PATRON.id, HOLDER.id, PICKUP.id, ADMIN.id}


def test_names_outside_the_vocabulary_are_refused() -> None:
    assert len(STATES) == 9
    with pytest.raises(BadParameter, match="not an action"):
        check_action("steal")
