"""Which library a request goes to, in which order the others are asked, and why (docs/shuttle.md).

The rule, in order:

1. the pickup library itself, when it has a copy available (nothing needs carrying);
2. then the libraries taking part in the shuttle that have a copy available, nearest to the pickup
   library first, by the great-circle (haversine) distance between their coordinates, counted in
   whole kilometres so that libraries in one town are equally near;
3. among equally near ones, the one with the fewest open requests first, then by code (so that the
   order is the same every time);
4. libraries whose coordinates (or the pickup library's) are not known come after those whose distance
   is, by open requests then code.

Libraries that refused the request, that have no copy available, or that do not take part in the
shuttle are not asked. Each library chosen comes with its reason, shown to librarians and the patron.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol

from unicat.model import UnionRecord
from unicat.shuttle import Choice

EARTH_RADIUS_KM = 6371.0088
"""The mean radius of the Earth (IUGG), which the haversine formula takes the Earth to be a sphere of."""


@dataclass(frozen=True, slots=True)
class Position:
    """A point on the Earth in decimal degrees (WGS 84, as OpenStreetMap gives them)."""

    latitude: float
    longitude: float


@dataclass(frozen=True, slots=True)
class Candidate:
    """A library holding the record, as the routing rule needs to know it: whether one of its copies is
    available now, where it is (``None`` when not known), how many requests it has under way, and
    whether it takes part in the shuttle."""

    library: str
    has_available_copy: bool
    latitude: float | None
    longitude: float | None
    open_requests: int
    in_shuttle: bool

    @property
    def position(self) -> Position | None:
        if self.latitude is None or self.longitude is None:
            return None
        return Position(self.latitude, self.longitude)


class LibraryPlace(Protocol):
    """What routing needs to know of a library of the network's directory: where it is (``None`` when
    not known) and whether it takes part in the shuttle."""

    @property
    def code(self) -> str: ...

    @property
    def latitude(self) -> float | None: ...

    @property
    def longitude(self) -> float | None: ...

    @property
    def shuttle(self) -> bool: ...


def position_of(place: LibraryPlace | None) -> Position | None:
    """Where a library is, when its directory entry says."""
    if place is None or place.latitude is None or place.longitude is None:
        return None
    return Position(place.latitude, place.longitude)


def candidates_for(
    record: UnionRecord, directory: Mapping[str, LibraryPlace], open_counts: Mapping[str, int]
) -> list[Candidate]:
    """The libraries keeping a copy of ``record``, as :func:`route` takes them, by code.

    A copy is kept by its holding's ``site`` (the directory library resolved at indexing), else by its
    source ``library``. A library has a copy available when one of its holdings has the status
    ``"available"``; a status not sent (``None``) is not taken for one. ``directory`` maps codes to
    libraries' entries (:class:`LibraryPlace`): a library it does not list has no known position and is
    not taken to be in the shuttle (it can still lend at its own desk, as the pickup library).
    ``open_counts`` gives each library's open requests (:meth:`~unicat.ports.shuttle.ShuttleStore.
    open_counts`); a library it does not list has none.
    """
    available: dict[str, bool] = {}
    for holding in record.holdings:
        code = holding.site or holding.library
        available[code] = available.get(code, False) or holding.status == "available"
    candidates = []
    for code, has_copy in sorted(available.items()):
        place = directory.get(code)
        position = position_of(place)
        candidates.append(
            Candidate(
                library=code,
                has_available_copy=has_copy,
                latitude=position.latitude if position else None,
                longitude=position.longitude if position else None,
                open_requests=open_counts.get(code, 0),
                in_shuttle=place is not None and place.shuttle,
            )
        )
    return candidates


def distance_km(a: Position, b: Position) -> float:
    """The great-circle distance between two points, in kilometres (the haversine formula)."""
    lat1, lat2 = math.radians(a.latitude), math.radians(b.latitude)
    dlat = lat2 - lat1
    dlon = math.radians(b.longitude - a.longitude)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _words(text: str) -> str:
    """Marks a phrase for the translators (babel.cfg reads this module for it); the phrase itself is
    English, the words of the API and the audit."""
    return text


# Why a library is asked is stored with the request as a short code ("near:12:3"), so that each
# reader reads it in their own language: :func:`reason_words` gives it in English (the JSON API), the
# web app in the reader's (pages and e-mails), from the same phrases.
REASON_PHRASES: dict[str, str] = {
    "pickup": _words("the pickup library has a copy available: nothing needs carrying"),
    "near": _words(
        "a copy available in a shuttle library %(km)s km from the pickup library "
        "(open requests there: %(open)s)"
    ),
    "unplaced": _words(
        "a copy available in a shuttle library whose distance is not known, so asked after the nearer "
        "ones (open requests there: %(open)s)"
    ),
}


def reason_phrase(code: str) -> tuple[str, dict[str, int]] | None:
    """The phrase of a reason's code and the numbers that fill it; ``None`` for text that is no code
    (a librarian's own words)."""
    kind, _, rest = code.partition(":")
    numbers = rest.split(":") if rest else []
    if kind not in REASON_PHRASES or not all(number.isdigit() for number in numbers):
        return None
    names = {"pickup": (), "near": ("km", "open"), "unplaced": ("open",)}[kind]
    if len(numbers) != len(names):
        return None
    return REASON_PHRASES[kind], {name: int(number) for name, number in zip(names, numbers, strict=True)}


def reason_words(code: str) -> str:
    """A reason in English words: its phrase filled in, or the text as it is when it is no code."""
    found = reason_phrase(code)
    return code if found is None else found[0] % found[1]


def route(
    candidates: Iterable[Candidate],
    pickup: str,
    pickup_position: Position | None,
    refused: Collection[str] = (),
) -> list[Choice]:
    """The libraries to ask, in order, each with why it is there; empty when no library can lend the
    record now. ``refused``: the libraries that refused this request already."""
    asked = [
        candidate
        for candidate in candidates
        if candidate.has_available_copy and candidate.library not in refused
    ]
    route: list[Choice] = []
    if any(candidate.library == pickup for candidate in asked):
        route.append(Choice(pickup, "pickup"))
    near: list[tuple[int, int, str]] = []
    unplaced: list[tuple[int, str]] = []
    for candidate in asked:
        if candidate.library == pickup or not candidate.in_shuttle:
            continue
        position = candidate.position
        if position is None or pickup_position is None:
            unplaced.append((candidate.open_requests, candidate.library))
        else:
            kilometres = round(distance_km(pickup_position, position))
            near.append((kilometres, candidate.open_requests, candidate.library))
    for kilometres, count, library in sorted(near):
        route.append(Choice(library, f"near:{kilometres}:{count}"))
    for count, library in sorted(unplaced):
        route.append(Choice(library, f"unplaced:{count}"))
    return route
