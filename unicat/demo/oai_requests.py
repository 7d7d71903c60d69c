"""OAI-PMH 2.0 request checking for the demo data provider: arguments, dates and resumption tokens.

Every problem becomes an :class:`~unicat.oai_protocol.OaiError` carrying the protocol's own error
code, which the endpoint renders as an ``<error>`` element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from unicat.oai_protocol import VERBS, OaiError

METADATA_PREFIX = "marcxml"
_DAY = "%Y-%m-%d"
_SECOND = "%Y-%m-%dT%H:%M:%SZ"
_TOKEN_SEPARATOR = "!"


@dataclass(frozen=True, slots=True)
class ListRequest:
    """A ListRecords/ListIdentifiers request, whether from arguments or from a resumption token."""

    metadata_prefix: str
    since: str | None
    until: str | None
    offset: int = 0

    def token(self, offset: int) -> str:
        """A stateless token: everything needed to continue, so the server keeps no sessions."""
        return _TOKEN_SEPARATOR.join((str(offset), self.metadata_prefix, self.since or "", self.until or ""))

    def bounds(self) -> tuple[datetime | None, datetime | None]:
        """``from`` and ``until`` as instants; a day-granular ``until`` covers that whole day."""
        since = parse_datestamp("from", self.since) if self.since else None
        until = parse_datestamp("until", self.until) if self.until else None
        if until is not None and self.until is not None and len(self.until) == len("YYYY-MM-DD"):
            until += timedelta(days=1, seconds=-1)
        return since, until


def single_arguments(pairs: Sequence[tuple[str, str]]) -> dict[str, str]:
    """Request arguments as a dict; a repeated argument is illegal in OAI-PMH."""
    arguments: dict[str, str] = {}
    for key, value in pairs:
        if key in arguments:
            raise OaiError("badArgument" if key != "verb" else "badVerb", f"argument {key!r} is repeated")
        arguments[key] = value
    return arguments


def check_verb(arguments: Mapping[str, str]) -> str:
    """The verb, once its arguments are legal for it (missing, unknown or exclusive ones refused)."""
    verb = arguments.get("verb")
    if verb is None:
        raise OaiError("badVerb", "the verb argument is missing")
    if verb not in VERBS:
        raise OaiError("badVerb", f"{verb!r} is not an OAI-PMH verb")
    required, optional, exclusive = VERBS[verb]
    given = set(arguments) - {"verb"}
    illegal = given - required - optional - {exclusive}
    if illegal:
        raise OaiError("badArgument", f"{verb} does not take {', '.join(sorted(illegal))}")
    if "resumptionToken" in given:
        if given != {"resumptionToken"}:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb
    missing = required - given
    if missing:
        raise OaiError("badArgument", f"{verb} requires {', '.join(sorted(missing))}")
    return verb


def check_prefix(prefix: str) -> None:
    if prefix != METADATA_PREFIX:
        raise OaiError("cannotDisseminateFormat", f"only {METADATA_PREFIX!r} is served, not {prefix!r}")


def list_request(arguments: Mapping[str, str]) -> ListRequest:
    """The list request of checked ListRecords/ListIdentifiers arguments (or of their token)."""
    if "resumptionToken" in arguments:
        return _from_token(arguments["resumptionToken"])
    if "set" in arguments:
        raise OaiError("noSetHierarchy", "this repository does not support sets")
    check_prefix(arguments["metadataPrefix"])
    request = ListRequest(arguments["metadataPrefix"], arguments.get("from"), arguments.get("until"))
    since, until = request.bounds()
    if request.since and request.until and len(request.since) != len(request.until):
        raise OaiError("badArgument", "from and until must have the same granularity")
    if since is not None and until is not None and since > until:
        raise OaiError("badArgument", "from is later than until")
    return request


def parse_datestamp(name: str, value: str) -> datetime:
    """A UTC datestamp at day or second granularity (both are supported here)."""
    for pattern in (_SECOND, _DAY):
        try:
            return datetime.strptime(value, pattern).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise OaiError("badArgument", f"{name}={value!r} is not YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def format_datestamp(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime(_SECOND)


def _from_token(token: str) -> ListRequest:
    parts = token.split(_TOKEN_SEPARATOR)
    if len(parts) != 4 or not parts[0].isdigit() or parts[1] != METADATA_PREFIX:
        raise OaiError("badResumptionToken", f"{token!r} is not a resumption token of this repository")
    request = ListRequest(parts[1], parts[2] or None, parts[3] or None, int(parts[0]))
    try:
        request.bounds()
    except OaiError as exc:
        raise OaiError("badResumptionToken", f"{token!r} holds a bad date") from exc
    return request
