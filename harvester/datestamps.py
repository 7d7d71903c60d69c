"""The ``from`` argument of an incremental harvest, at the granularity the server declares."""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from harvester.namespaces import oai

DAY = "YYYY-MM-DD"
SECOND = "YYYY-MM-DDThh:mm:ssZ"


def granularity(identify: etree._Element) -> str:
    """The datestamp granularity of an Identify response; days if it is missing or unknown.

    Days is the safe fallback: every server must accept it, and a coarser ``from`` only re-harvests a
    few records, never misses one.
    """
    element = identify.find(f"{oai('Identify')}/{oai('granularity')}")
    value = (element.text or "").strip() if element is not None else ""
    return SECOND if value == SECOND else DAY


def from_argument(started: str, server_granularity: str) -> str:
    """Format an ISO 8601 instant (the start of the last good harvest) as an OAI-PMH ``from``."""
    instant = datetime.fromisoformat(started)
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    instant = instant.astimezone(UTC)
    if server_granularity == SECOND:
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")
    return instant.strftime("%Y-%m-%d")
