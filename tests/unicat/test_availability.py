"""What a record says of its copies' availability: the facets' values and the results' one line."""

from __future__ import annotations

from unicat.availability import available_at, held_at, record_availability, summary
from unicat.model import Holding


def copy(
    library: str, status: str | None = None, *, site: str | None = None, due: str | None = None
) -> Holding:
    return Holding(library=library, library_name=library, status=status, due_date=due, site=site)


def test_a_copy_is_at_its_directory_site_else_at_its_source() -> None:
    holdings = [copy("NET", "available", site="EAST"), copy("NET", "on_loan", site="WEST"), copy("OXF")]
    assert held_at(holdings) == ("EAST", "WEST", "OXF")
    assert available_at(holdings) == ("EAST",)


def test_a_record_is_available_when_any_copy_is_and_lists_the_other_statuses() -> None:
    holdings = [copy("A", "lost"), copy("B", "available"), copy("C"), copy("D", "lost")]
    assert record_availability(holdings) == ("available", "lost", "unknown")
    assert record_availability([copy("A")]) == ("unknown",)


def test_the_summary_says_where_it_is_available_else_when_it_comes_back() -> None:
    assert summary([copy("A", "available"), copy("B", "available"), copy("A", "available")]).available_at == (
        "A",
        "B",
    )
    on_loan = summary(
        [copy("A", "on_loan", due="2027-02-01"), copy("B", "on_loan", due="2027-01-15"), copy("C", "lost")]
    )
    assert (on_loan.available_at, on_loan.status, on_loan.due_date) == ((), "on_loan", "2027-01-15")
    kept = summary([copy("A", "not_for_loan"), copy("B", "withdrawn")])
    assert (kept.status, kept.due_date) == ("not_for_loan", None)
    assert summary([copy("A"), copy("B")]).status is None
