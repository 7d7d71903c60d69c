"""The one form every stored time takes: ISO 8601 UTC to the second, with ``Z``; and reading it back."""

from __future__ import annotations

from datetime import UTC, datetime

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def utc_now() -> str:
    """Now, e.g. ``2026-11-25T11:33:42Z``: sortable as text, the same on every engine."""
    return datetime.now(UTC).strftime(TIME_FORMAT)


def format_time(moment: datetime) -> str:
    """The stored form of a time: ``2026-11-25T11:33:42Z``."""
    return moment.astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(value: str | None) -> datetime | None:
    """An ISO 8601 instant (``…Z``, an offset, or naive meaning UTC) as an aware UTC datetime;
    ``None`` for none or an unreadable one."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
