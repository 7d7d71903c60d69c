"""Reading a ``Retry-After`` header as RFC 9110 defines it: delay-seconds or an HTTP date."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from harvester.transport import retry_after

NOW = datetime(2026, 12, 1, 18, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 7 ", 7.0),
        ("Tue, 01 Dec 2026 18:01:30 GMT", 90.0),  # IMF-fixdate
        ("Tuesday, 01-Dec-26 18:00:05 GMT", 5.0),  # obsolete RFC 850 form, which RFC 9110 still accepts
        ("Tue Dec  1 18:00:10 2026", 10.0),  # asctime form
        ("Tue, 01 Dec 2026 17:00:00 GMT", 0.0),  # already past: now
    ],
)
def test_delay_seconds_and_http_dates(value: str, seconds: float) -> None:
    assert retry_after({"Retry-After": value}, NOW) == seconds


@pytest.mark.parametrize("headers", [{}, {"Retry-After": ""}, {"Retry-After": "soon"}, {"Retry-After": "-5"}])
def test_absent_or_unreadable_is_none(headers: dict[str, str]) -> None:
    assert retry_after(headers, NOW) is None
