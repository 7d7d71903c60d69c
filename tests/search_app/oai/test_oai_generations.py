"""From datestamps to generations: the arithmetic every list request starts with."""

from __future__ import annotations

from datetime import UTC, datetime

from search_app.oai.generations import GenerationClock

REGISTERED = [(2, "2026-01-01T10:00:00Z"), (5, "2026-01-01T10:00:00Z"), (9, "2026-01-02T08:30:00Z")]
NOW = "2026-01-03T00:00:00Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def test_from_and_until_become_an_inclusive_generation_range() -> None:
    clock = GenerationClock(REGISTERED, NOW)
    assert clock.latest == 9 and clock.origin == "2026-01-01T10:00:00Z"
    assert clock.bounds(None, None) == (0, 9)
    assert clock.bounds(at("2026-01-01T10:00:00Z"), at("2026-01-01T10:00:00Z")) == (0, 5)
    assert clock.bounds(at("2026-01-01T10:00:01Z"), None) == (6, 9)
    assert clock.bounds(None, at("2026-01-01T09:59:59Z")) is None
    assert clock.bounds(at("2026-01-02T08:30:01Z"), None) is None


def test_an_unregistered_generation_takes_the_next_registered_datestamp() -> None:
    clock = GenerationClock(REGISTERED, NOW)
    assert clock.datestamp(5, "x") == "2026-01-01T10:00:00Z"
    assert clock.datestamp(7, "x") == "2026-01-02T08:30:00Z"
    assert clock.datestamp(10, "x") == "x"


def test_a_generation_is_seen_only_once_its_second_is_past() -> None:
    assert GenerationClock(REGISTERED, "2026-01-02T08:30:00Z").latest == 5
    assert GenerationClock(REGISTERED, "2026-01-02T08:30:01Z").latest == 9
    assert GenerationClock([], NOW).bounds(None, None) is None
