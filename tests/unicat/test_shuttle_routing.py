"""The routing rule of requests (unicat/shuttle_routing.py, docs/shuttle.md)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from unicat.model import Holding, UnionRecord
from unicat.shuttle_routing import (
    Candidate,
    Position,
    candidates_for,
    distance_km,
    position_of,
    reason_words,
    route,
)

# Coordinates of the cities' centres (OpenStreetMap).
GENT = Position(51.0543, 3.7174)
BRUSSELS = (50.8467, 4.3525)
ANTWERP = (51.2194, 4.4025)
LIEGE = (50.6326, 5.5797)


def candidate(
    library: str,
    where: tuple[float, float] | None,
    *,
    available: bool = True,
    open_requests: int = 0,
    shuttle: bool = True,
) -> Candidate:
    latitude, longitude = where if where is not None else (None, None)
    return Candidate(library, available, latitude, longitude, open_requests, shuttle)


def test_haversine_distance_matches_the_published_great_circle_distance() -> None:
    # Paris (48.8566, 2.3522) to London (51.5074, -0.1278): 343.5 km on a sphere of radius 6371 km.
    assert distance_km(Position(48.8566, 2.3522), Position(51.5074, -0.1278)) == pytest.approx(343.5, abs=1.0)
    assert distance_km(GENT, GENT) == 0.0


def test_the_pickup_library_comes_first_when_it_has_a_copy_available() -> None:
    chosen = route(
        [candidate("BXL", BRUSSELS), candidate("GENT", (GENT.latitude, GENT.longitude), shuttle=False)],
        "GENT",
        GENT,
    )
    assert [choice.library for choice in chosen] == ["GENT", "BXL"]
    assert chosen[0].reason == "pickup"
    assert "pickup library" in reason_words(chosen[0].reason)


def test_nearest_shuttle_library_with_a_copy_first_and_the_others_are_left_out() -> None:
    chosen = route(
        [
            candidate("LIE", LIEGE),
            candidate("ANT", ANTWERP),
            candidate("BXL", BRUSSELS, available=False),
            candidate("OUT", BRUSSELS, shuttle=False),
            candidate("GENT", (GENT.latitude, GENT.longitude), available=False),
        ],
        "GENT",
        GENT,
    )
    # Ghent–Antwerp is about 50 km, Ghent–Liège about 137 km.
    assert [choice.library for choice in chosen] == ["ANT", "LIE"]
    assert chosen[0].reason in ("near:50:0", "near:51:0")
    assert " km from the pickup library" in reason_words(chosen[0].reason)


def test_equally_near_libraries_by_fewest_open_requests_then_by_code() -> None:
    chosen = route(
        [
            candidate("C", BRUSSELS, open_requests=2),
            candidate("B", BRUSSELS, open_requests=1),
            candidate("A", BRUSSELS, open_requests=2),
        ],
        "GENT",
        GENT,
    )
    assert [choice.library for choice in chosen] == ["B", "A", "C"]
    assert chosen[0].reason.endswith(":1")
    assert reason_words(chosen[0].reason).endswith("(open requests there: 1)")


def test_refused_libraries_are_skipped_and_unplaced_ones_come_last() -> None:
    chosen = route(
        [candidate("FAR", LIEGE), candidate("NOWHERE", None), candidate("ANT", ANTWERP)],
        "GENT",
        GENT,
        refused={"ANT"},
    )
    assert [choice.library for choice in chosen] == ["FAR", "NOWHERE"]
    assert chosen[1].reason == "unplaced:0"
    assert "not known" in reason_words(chosen[1].reason)


def test_no_pickup_position_orders_by_open_requests_then_code() -> None:
    chosen = route(
        [candidate("B", LIEGE, open_requests=0), candidate("A", ANTWERP, open_requests=3)], "GENT", None
    )
    assert [choice.library for choice in chosen] == ["B", "A"]


def test_no_library_with_a_copy_available_gives_an_empty_route() -> None:
    assert route([candidate("ANT", ANTWERP, available=False)], "GENT", GENT) == []


def test_the_example_of_docs_shuttle_md() -> None:
    chosen = route(
        [
            candidate("GENT", (GENT.latitude, GENT.longitude), available=False),
            candidate("ANT", ANTWERP, open_requests=4),
            candidate("BXL", BRUSSELS, open_requests=2),
            candidate("BXL2", (50.8466, 4.3528)),
            candidate("LIE", None),
            candidate("PRIV", (51.05, 3.72), shuttle=False),
        ],
        "GENT",
        GENT,
    )
    assert [choice.library for choice in chosen] == ["BXL2", "BXL", "ANT", "LIE"]


@dataclass(frozen=True)
class Place:
    code: str
    latitude: float | None
    longitude: float | None
    shuttle: bool


def test_candidates_come_from_the_holdings_by_site_and_the_directory() -> None:
    record = UnionRecord(
        id="u1",
        title="Le petit prince",
        holdings=[
            Holding("SRC", "Source", status="on_loan", site="BXL"),
            Holding("SRC", "Source", status="available", site="BXL"),
            Holding("ANT", "Antwerp", status="available"),
            Holding("GENT", "Ghent", status=None),
            Holding("PRIV", "Private", status="available"),
        ],
    )
    directory = {
        "BXL": Place("BXL", *BRUSSELS, shuttle=True),
        "ANT": Place("ANT", None, None, shuttle=True),
        "GENT": Place("GENT", GENT.latitude, GENT.longitude, shuttle=True),
    }
    found = candidates_for(record, directory, {"ANT": 3})
    assert found == [
        Candidate("ANT", True, None, None, 3, True),
        Candidate("BXL", True, *BRUSSELS, 0, True),
        Candidate("GENT", False, GENT.latitude, GENT.longitude, 0, True),
        Candidate("PRIV", True, None, None, 0, False),
    ]
    assert [choice.library for choice in route(found, "GENT", position_of(directory["GENT"]))] == [
        "BXL",
        "ANT",
    ]


def test_a_reason_that_is_no_code_is_shown_as_written() -> None:
    assert reason_words("the copy is at the binder's") == "the copy is at the binder's"
    assert reason_words("near:12") == "near:12"  # a code missing a number is no code
