"""Whether a reader can have a copy now: the vocabulary of a copy's status, and what a record says.

A library sends the circulation state of each copy in its own local fields (Koha's 952, Recommandation
995, MARC 21 Holdings 876-878); the profiles' ``[[holdings.status]]`` rules (``mappings/*.toml``) read
them into :attr:`unicat.model.Holding.status`, one of :data:`AVAILABILITY`. Everything that shows or
counts availability (the record page, the results, the facets of both engines) derives it from the
holdings here, so that the page and the facet never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from unicat.model import Holding

AVAILABILITY: tuple[str, ...] = ("available", "on_loan", "not_for_loan", "lost", "damaged", "withdrawn")
"""A copy's status, as its library sent it:

- ``available``: on the shelf, loanable: the library sends circulation data and none of its flags
  says otherwise. The one status under which a reader (or the shuttle) can have the copy now;
- ``on_loan``: lent to someone, back by :attr:`~unicat.model.Holding.due_date` if the library says;
- ``not_for_loan``: kept for reading on site (reference, heritage, reserve): it exists, but travels not;
- ``lost``: the library no longer finds it; it may turn up, so it is not withdrawn;
- ``damaged``: awaiting repair, kept apart from loans meanwhile;
- ``withdrawn``: discarded from the collection; the record may keep the copy until the next export.

``None`` (no status) is "status unknown": the library sent no circulation data for the copy. Nothing
is guessed: a copy of a library that does not say is neither available nor unavailable."""

AVAILABLE = "available"
UNKNOWN = "unknown"
"""The value the ``availability`` facet counts for a copy whose library did not say (status ``None``)."""

RECORD_AVAILABILITY: tuple[str, ...] = (*AVAILABILITY, UNKNOWN)
"""The values of the ``availability`` facet: the statuses of a record's copies, and ``unknown``."""


def site(holding: Holding) -> str:
    """The code of the library keeping the copy: the directory's ``site``, else the source's code."""
    return holding.site or holding.library


def held_at(holdings: Iterable[Holding]) -> tuple[str, ...]:
    """The libraries keeping a copy, each once, in holdings order (the ``held_at`` facet)."""
    return tuple(dict.fromkeys(site(holding) for holding in holdings))


def available_at(holdings: Iterable[Holding]) -> tuple[str, ...]:
    """The libraries keeping an available copy, each once (the ``available_at`` facet)."""
    return tuple(dict.fromkeys(site(holding) for holding in holdings if holding.status == AVAILABLE))


def record_availability(holdings: Iterable[Holding]) -> tuple[str, ...]:
    """The record-level values of the ``availability`` facet: every status its copies have (``unknown``
    for a copy whose library did not say), in :data:`RECORD_AVAILABILITY` order, so "available" is
    there when any copy is available, whatever the others."""
    present = {holding.status or UNKNOWN for holding in holdings}
    return tuple(value for value in RECORD_AVAILABILITY if value in present)


@dataclass(frozen=True, slots=True)
class Summary:
    """What a results list says of a record in a line: where it is available now, else why not.

    ``available_at``: the libraries with an available copy. ``status``: when none is available, the
    status of the copies that tells a reader most (on loan, then not for loan…; ``None``: no library
    said); ``due_date``: the earliest date a copy on loan is due back, if any library sent one.
    """

    available_at: tuple[str, ...]
    status: str | None
    due_date: str | None


def summary(holdings: Sequence[Holding]) -> Summary:
    """The one-line availability of a record whose copies are ``holdings``."""
    where = available_at(holdings)
    if where:
        return Summary(where, AVAILABLE, None)
    statuses = {holding.status for holding in holdings if holding.status}
    # The order of AVAILABILITY: a copy coming back soon says more than one kept on site, and so on.
    status = next((value for value in AVAILABILITY if value in statuses), None)
    dues = sorted(
        holding.due_date for holding in holdings if holding.status == "on_loan" and holding.due_date
    )
    return Summary((), status, dues[0] if dues and status == "on_loan" else None)
