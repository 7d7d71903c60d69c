"""The ``from`` argument of an incremental harvest: the server's own clock, at its granularity.

The start of the last good harvest is taken as the server said it (the ``responseDate`` of its first
answer), so a clock that differs between this machine and the library's never skips a record. A small
overlap is taken off it (a record stamped a moment before the harvest began may have become visible
only after it) and the result is cut to the granularity the server declares: a day server gets the
day, which only ever re-fetches records, never misses one.
"""

from __future__ import annotations

from datetime import timedelta

from lxml import etree

from harvester.namespaces import oai
from unicat.clock import format_time, parse_time

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


def response_date(answer: etree._Element) -> str | None:
    """The ``responseDate`` of an answer as ISO 8601 UTC seconds, or None if it is missing or not a
    UTC date and time (then this machine's clock is all there is)."""
    element = answer.find(oai("responseDate"))
    text = (element.text or "").strip() if element is not None else ""
    instant = parse_time(text)
    return format_time(instant) if instant is not None else None


def from_argument(started: str, server_granularity: str, overlap: float = 0.0) -> str:
    """Format an ISO 8601 instant (the start of the last good harvest), less ``overlap`` seconds, as
    an OAI-PMH ``from`` at the server's granularity."""
    instant = parse_time(started)
    if instant is None:
        raise ValueError(f"not an ISO 8601 instant: {started!r}")
    instant -= timedelta(seconds=overlap)
    if server_granularity == SECOND:
        return format_time(instant)
    return instant.strftime("%Y-%m-%d")
