"""The arguments of an OAI-PMH request, checked against its verb (sections 3.1, 4): what is required,
what is allowed, what is exclusive, repeated or unknown; and the datestamps of ``from``/``until``.

Everything a harvester can get wrong is an :class:`~unicat.oai_protocol.OaiError` with the
protocol's code and a message that names the argument, so the harvester's operator can fix the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from unicat.oai_protocol import VERBS, OaiError

_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_SECONDS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z")
MAX_VALUE_LENGTH = 2000


@dataclass(frozen=True, slots=True)
class OaiRequest:
    """A request whose verb and arguments are legal together (values are checked by each verb)."""

    verb: str
    arguments: dict[str, str]

    def get(self, name: str) -> str | None:
        return self.arguments.get(name)


def parse_request(pairs: Iterable[tuple[str, str]]) -> OaiRequest:
    """Check the request's arguments (query string or form body, in order, repeats kept)."""
    verbs: list[str] = []
    arguments: dict[str, str] = {}
    repeated: list[str] = []
    for name, value in pairs:
        if name == "verb":
            verbs.append(value)
        elif name in arguments:
            repeated.append(name)
        else:
            arguments[name] = value
    if not verbs:
        raise OaiError("badVerb", "the request has no verb argument")
    if len(verbs) > 1:
        raise OaiError("badVerb", "the verb argument is repeated")
    verb = verbs[0]
    if verb not in VERBS:
        raise OaiError("badVerb", f"{verb[:100]!r} is not an OAI-PMH verb; the verbs are {', '.join(VERBS)}")
    if repeated:
        raise OaiError("badArgument", f"argument repeated: {', '.join(sorted(set(repeated)))}")
    required, optional, exclusive = VERBS[verb]
    allowed = required | optional | ({exclusive} if exclusive else set())
    unknown = sorted(set(arguments) - allowed)
    if unknown:
        listed = ", ".join(name[:50] for name in unknown)
        raise OaiError("badArgument", f"{verb} does not take the argument(s) {listed}")
    for name, value in arguments.items():
        if not value:
            raise OaiError("badArgument", f"the argument {name} is empty")
        if len(value) > MAX_VALUE_LENGTH:
            raise OaiError("badArgument", f"the argument {name} is longer than {MAX_VALUE_LENGTH} characters")
        if "\x00" in value:  # no value of ours holds one, and PostgreSQL could not compare with it
            raise OaiError("badArgument", f"the argument {name} holds a NUL character (U+0000)")
    if exclusive is not None and exclusive in arguments:
        if len(arguments) > 1:
            others = ", ".join(sorted(set(arguments) - {exclusive}))
            raise OaiError("badArgument", f"{exclusive} is exclusive: it cannot come with {others}")
        return OaiRequest(verb, arguments)
    missing = sorted(required - set(arguments))
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
    return OaiRequest(verb, arguments)


@dataclass(frozen=True, slots=True)
class DateRange:
    """``from`` and ``until`` as inclusive instants (a day ``until`` reaches the day's last second)."""

    start: datetime | None
    end: datetime | None


def _instant(name: str, value: str, end_of_day: bool) -> tuple[datetime, str]:
    match = _SECONDS.fullmatch(value)
    granularity = "seconds"
    if match is None:
        match = _DAY.fullmatch(value)
        granularity = "day"
    if match is None:
        raise OaiError(
            "badArgument",
            f"{name}={value[:50]!r} is not a UTC datestamp: use YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ",
        )
    parts = [int(part) for part in match.groups()]
    if granularity == "day":
        parts += [23, 59, 59] if end_of_day else [0, 0, 0]
    year, month, day, hour, minute, second = parts
    try:
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC), granularity
    except ValueError:
        raise OaiError("badArgument", f"{name}={value[:50]!r} is not a real date or time") from None


def date_range(request: OaiRequest) -> DateRange:
    """The request's ``from``/``until``: both of one granularity, ``from`` not after ``until``."""
    start = end = None
    granularities = set()
    if (raw := request.get("from")) is not None:
        start, granularity = _instant("from", raw, end_of_day=False)
        granularities.add(granularity)
    if (raw := request.get("until")) is not None:
        end, granularity = _instant("until", raw, end_of_day=True)
        granularities.add(granularity)
    if len(granularities) > 1:
        raise OaiError(
            "badArgument", "from and until must have the same granularity (both days or both seconds)"
        )
    if start is not None and end is not None and start > end:
        raise OaiError("badArgument", "from is later than until")
    return DateRange(start, end)
