"""The rules a live target (:class:`unicat.live_search.LiveTarget`) keeps before it is stored: checked
once here, whoever configures it (``unicat target add``, a copied catalogue), so that the federated
search never meets an address it cannot dial or a library the network does not know.

A target's code names it beside the sources: its records get ids ``live:<code>:<local id>`` and its
hits are told apart by it. It must not be the code of a harvested source, whose holdings and ids would
then be taken for the target's (and the other way round).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, Final
from urllib.parse import urlsplit

from unicat.errors import BadParameter
from unicat.live_search import (
    LIVE_PROTOCOLS,
    MAX_RECORDS,
    MAX_TIMEOUT,
    LiveProtocol,
    LiveTarget,
    check_query_map,
    parse_z3950_address,
)
from unicat.model import PROFILES, Profile, check_source_code

MIN_TIMEOUT: Final = 0.5
"""Seconds: less than this is no time for any server to answer a search with its records."""
MAX_NAME_LENGTH: Final = 300
MAX_CHARSET_LENGTH: Final = 40

RECORD_SYNTAXES: Final[dict[LiveProtocol, tuple[str, ...]]] = {
    "sru": ("marcxml",),
    "z3950": ("usmarc", "marc21", "unimarc", "xml"),
}
"""What each protocol can be asked for: an SRU record schema, a Z39.50 preferred record syntax."""


def default_record_syntax(protocol: LiveProtocol, profile: Profile) -> str:
    """What a target is asked for when the librarian does not say: MARCXML over SRU; over Z39.50 the
    ISO 2709 syntax of its profile (``usmarc`` is the name every Z39.50 server knows for MARC 21)."""
    if protocol == "sru":
        return "marcxml"
    return "unimarc" if profile == "unimarc" else "usmarc"


def check_target(target: LiveTarget, *, sources: Collection[str], libraries: Collection[str]) -> LiveTarget:
    """The target with its values cleaned (surrounding spaces dropped), or :class:`BadParameter` naming
    the first value it cannot use and what to give instead.

    ``sources`` are the codes of the catalogue's sources; ``libraries`` the codes of its library
    directory: when the directory lists libraries, every library the target stands for must be one of
    them (a misspelt code would hold the target's hits nowhere); an empty directory checks nothing.
    """
    code = check_source_code(target.code.strip())
    if code in sources:
        raise BadParameter(
            "code",
            f"{code} is the code of a harvested source: a live target must have a code of its own, or its "
            "holdings and record ids would be taken for the source's; choose another code",
        )
    protocol = _protocol(target.protocol)
    profile = _profile(target.profile)
    return LiveTarget(
        code=code,
        name=_name(target.name),
        protocol=protocol,
        address=_address(protocol, target.address),
        record_syntax=_record_syntax(protocol, target.record_syntax),
        profile=profile,
        charset=_charset(target.charset),
        query_map=check_query_map(target.query_map),
        timeout=_timeout(target.timeout),
        libraries=_libraries(target.libraries, libraries),
        max_records=_max_records(target.max_records),
        enabled=bool(target.enabled),
        created=target.created,
        updated=target.updated,
    )


def target_to_json(target: LiveTarget) -> dict[str, Any]:
    """Every value of a target, as ``unicat target show --json`` prints it."""
    return {
        "code": target.code,
        "name": target.name,
        "protocol": target.protocol,
        "address": target.address,
        "record_syntax": target.record_syntax,
        "profile": target.profile,
        "charset": target.charset,
        "query_map": dict(target.query_map),
        "timeout": target.timeout,
        "libraries": list(target.libraries),
        "max_records": target.max_records,
        "enabled": target.enabled,
        "created": target.created,
        "updated": target.updated,
    }


def _protocol(value: str) -> LiveProtocol:
    for protocol in LIVE_PROTOCOLS:
        if value == protocol:
            return protocol
    raise BadParameter("protocol", f"{value!r} is not a protocol Unicat speaks: use sru or z3950")


def _profile(value: str) -> Profile:
    for profile in PROFILES:
        if value == profile:
            return profile
    raise BadParameter("profile", f"{value!r} is not a MARC profile: use {' or '.join(PROFILES)}")


def _name(value: str) -> str:
    name = value.strip()
    if not name or len(name) > MAX_NAME_LENGTH or not name.isprintable():
        raise BadParameter("name", f"{value[:50]!r} is not a name: 1-{MAX_NAME_LENGTH} printable characters")
    return name


def _address(protocol: LiveProtocol, value: str) -> str:
    address = value.strip()
    if protocol == "z3950":
        parse_z3950_address(address)
        return address
    parts = urlsplit(address)
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not address.isprintable()
        or " " in address
    ):
        raise BadParameter(
            "sru",
            f"use the SRU server's http(s) base URL (e.g. https://sru.example.org/books), got {value!r}",
        )
    return address


def _record_syntax(protocol: LiveProtocol, value: str) -> str:
    syntax = value.strip().lower()
    allowed = RECORD_SYNTAXES[protocol]
    if syntax not in allowed:
        over = "SRU" if protocol == "sru" else "Z39.50"
        raise BadParameter("syntax", f"{value!r} cannot be asked for over {over}: use {', '.join(allowed)}")
    return syntax


def _charset(value: str | None) -> str | None:
    if value is None or not value.strip():
        return None
    charset = value.strip()
    if len(charset) > MAX_CHARSET_LENGTH or not all(
        c.isascii() and (c.isalnum() or c in "._:-") for c in charset
    ):
        raise BadParameter(
            "charset", f"{value[:50]!r} is not a character set name (e.g. marc8, iso-8859-1, utf-8)"
        )
    return charset


def _timeout(value: float) -> float:
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:  # a NaN is refused too: every comparison is false
        raise BadParameter("timeout", f"give from {MIN_TIMEOUT} to {MAX_TIMEOUT:g} seconds, got {value!r}")
    return float(value)


def _max_records(value: int) -> int:
    if not 1 <= value <= MAX_RECORDS:
        raise BadParameter("max-records", f"give from 1 to {MAX_RECORDS} records per search, got {value!r}")
    return int(value)


def _libraries(values: Collection[str], known: Collection[str]) -> tuple[str, ...]:
    codes = tuple(dict.fromkeys(value.strip() for value in values))
    for code in codes:
        try:
            check_source_code(code)
        except BadParameter as exc:
            raise BadParameter("library", exc.message.replace("source code", "library code")) from exc
    unknown = [code for code in codes if known and code not in known]
    if unknown:
        raise BadParameter(
            "library",
            f"no library {unknown[0]!r} in the network's directory; known: {', '.join(sorted(known))} "
            "(`unicat library add` adds one)",
        )
    return codes
