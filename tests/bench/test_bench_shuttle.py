"""Smoke test of the shuttle's load benchmark: a few patrons for a few seconds on each storage setup.

The benchmark itself exits 1 when a request, an event or an e-mail is lost, doubled or failed; these
tests check that it ran every kind of action, that its counts follow from its arguments, that what it
reports agrees with itself, and that its verdict does see a loss when there is one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.shuttle import LIBRARIES, Answer, judge, main
from unicat.outbox import Message
from unicat.shuttle import Event, Request

pytestmark = pytest.mark.timeout(300)

PATRONS, SECONDS = 4, 4


def run_small(tmp_path: Path, setup: str, *extra: str) -> dict[str, Any]:
    out = tmp_path / "figures.json"
    arguments = ["--records", "120", "--setups", setup, "--patrons", str(PATRONS), "--seconds", str(SECONDS)]
    arguments += ["--think", "0.1", "--drain", "30", "--json", str(out), *extra]
    assert main(arguments) == 0
    figures: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    (result,) = figures["setups"]
    assert result["setup"] == setup
    return result  # type: ignore[no-any-return]


def check_setup(result: dict[str, Any]) -> None:
    assert (result["patrons"], result["librarians"]) == (PATRONS, len(LIBRARIES))
    assert result["seconds"] >= SECONDS
    actions = result["actions"]
    # Every step of a request's life was taken at least once in a few seconds of work.
    for action in ("place", "list own", "poll desk", "accept", "send", "arrive", "collect", "return"):
        assert actions[action]["calls"] > 0, action
        assert 0 < actions[action]["p50_ms"] <= actions[action]["p95_ms"] <= actions[action]["max_ms"]
    verdict = result["verdict"]
    assert verdict["nothing_lost"] is True
    assert verdict["server_errors"] == 0
    assert verdict["placed"] == actions["place"]["statuses"]["201"] == verdict["stored_requests"]
    assert sum(result["final_states"].values()) == verdict["stored_requests"]
    assert verdict["stored_events"] == verdict["placed"] + verdict["changes"]
    assert verdict["conflicts"] == sum(result["conflicts"].values())
    # docs/shuttle.md: each placed request writes to its patron (request_placed) and to the library
    # asked (request_incoming), whose addresses the benchmark's directory gives; all of them arrive.
    assert verdict["mail_by_kind"]["request_placed"] == verdict["placed"]
    assert verdict["mail_by_kind"]["request_incoming"] >= verdict["placed"]
    assert (
        verdict["mail_received"] == verdict["mail_by_state"]["sent"] == sum(verdict["mail_by_kind"].values())
    )


def test_a_small_shuttle_benchmark_on_sqlite_reports_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    check_setup(run_small(tmp_path, "sqlite"))
    printed = capsys.readouterr().out
    assert printed.startswith("Machine: ")
    assert f"{PATRONS} patrons and {len(LIBRARIES)} librarians" in printed
    assert "nothing lost, nothing doubled" in printed


def test_a_small_shuttle_benchmark_on_postgresql_reports_every_figure(
    tmp_path: Path, postgres_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    check_setup(run_small(tmp_path, "postgresql", "--pg-url", postgres_database_url))
    assert "nothing lost, nothing doubled" in capsys.readouterr().out


def _answer(action: str, request_id: int, version: int, state: str) -> Answer:
    status = 201 if action == "place" else 200
    return Answer(action, status, 0.01, request_id, {"id": request_id, "version": version, "state": state})


def _request(request_id: int, version: int, state: Any) -> Request:
    return Request(
        1,
        f"u{request_id}",
        "A title",
        "LYON",
        "GRENO",
        "nearest",
        state=state,
        version=version,
        id=request_id,
    )


def _event(request_id: int, action: Any) -> Event:
    return Event(request_id, 1, action, None, "placed", "GRENO", "", "2026-12-07T10:00:00Z")


def _message(number: int, state: Any = "sent") -> Message:
    return Message(
        f"p{number}@example.org", f"Request {number}", "text", "request.accepted", f"k{number}", state=state
    )


def test_the_verdict_sees_lost_doubled_and_disagreeing_requests_events_and_e_mails() -> None:
    answers = [
        _answer("place", 1, 1, "placed"),
        _answer("accept", 1, 2, "accepted"),
        _answer("place", 2, 1, "placed"),
        Answer("send", 409, 0.01, 2, error="Request 2 was placed; it cannot be sent"),
    ]
    requests = [_request(1, 2, "accepted"), _request(2, 1, "placed")]
    events = [_event(1, "place"), _event(1, "accept"), _event(2, "place")]
    messages = [_message(1), _message(2)]
    received = [("<a@x>", "p1@example.org", "Request 1"), ("<b@x>", "p2@example.org", "Request 2")]
    good = judge(answers, requests, events, messages, received)
    assert good.nothing_lost, good
    assert (good.placed, good.changes, good.conflicts, good.expected_events) == (2, 1, 1, 3)

    assert not judge(answers, requests[:1], events, messages, received).nothing_lost
    doubled = judge(answers, [*requests, requests[1]], events, messages, received)
    assert (doubled.duplicate_request_ids, doubled.nothing_lost) == (1, False)
    assert judge(answers, requests, events[:2], messages, received).expected_events == 3
    assert not judge(answers, requests, events[:2], messages, received).nothing_lost
    applied_twice = judge(answers, [_request(1, 3, "accepted"), requests[1]], events, messages, received)
    assert (applied_twice.disagreeing_requests, applied_twice.nothing_lost) == (1, False)

    lost_mail = judge(answers, requests, events, messages, received[:1])
    assert (lost_mail.mail_unmatched, lost_mail.nothing_lost) == (1, False)
    twice = judge(answers, requests, events, messages, [*received, received[0]])
    assert (twice.duplicate_message_ids, twice.nothing_lost) == (1, False)
    stuck = judge(answers, requests, events, [*messages, _message(3, "failed")], received)
    assert not stuck.nothing_lost
    dropped = judge([*answers, Answer("place", 0, 0.01, error="reset")], requests, events, messages, received)
    assert (dropped.server_errors, dropped.nothing_lost) == (1, False)
