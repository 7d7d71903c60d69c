"""The one form every stored time takes: ISO 8601 UTC to the second, with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> str:
    """Now, e.g. ``2026-11-25T11:33:42Z``: sortable as text, the same on every engine."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
