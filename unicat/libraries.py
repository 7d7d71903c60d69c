"""The network's library directory: each library (not only each harvested source) with its names,
address, coordinates, opening hours, contact, shuttle participation and catalogue link template.

A harvested source may hold the copies of many libraries (a city's network exports one catalogue for
all its branches). A library names the source whose holdings it keeps and the branch codes of those
holdings that are its own (852 $a, 952 $a, 995 $b, as :attr:`unicat.model.Holding.branch` holds them).
:meth:`LibraryDirectory.site_of` resolves a copy to the library that keeps it when records are
indexed; the directory is small (tens to hundreds of libraries) and read once per index run.

Libraries are kept by the library store (:mod:`unicat.ports.libraries`) and managed with
``unicat library`` and the librarians' page; the TOML shape of ``unicat library import`` is
:func:`parse_library_file`'s (docs/cli.md#libraries).
"""

from __future__ import annotations

import json
import math
import re
import string
import threading
import time
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Final
from urllib.parse import urlsplit

from unicat.errors import BadParameter
from unicat.model import check_source_code

LANGUAGES: Final = ("fr", "nl", "en")
"""The languages a library's ``names`` may be given in: the site's."""
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
OPAC_PLACEHOLDERS: Final = ("local_id", "isbn", "issn", "title", "union_id")
"""What an OPAC link template may ask for; another part of Unicat fills them in."""
MAX_TEXT_LENGTH: Final = 300
MAX_BRANCHES: Final = 100
EARTH_RADIUS_KM: Final = 6371.0088  # the mean radius (IUGG)

# "09:00-12:30, 14:00-18:00", or "closed": periods of a day, each opening before it closes.
_PERIOD_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
CLOSED: Final = "closed"
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_RE = re.compile(r"^\+?[0-9 ().\-/]{3,40}$")


def _text(name: str, value: Any, *, required: bool = False) -> str | None:
    """A printable line of text, surrounding spaces dropped; ``None`` for an empty optional one."""
    if value is None or (isinstance(value, str) and not value.strip() and not required):
        return None
    if not isinstance(value, str):
        raise BadParameter(name, f"expected text, got {value!r}")
    cleaned = value.strip()
    if not cleaned or len(cleaned) > MAX_TEXT_LENGTH or not cleaned.isprintable():
        raise BadParameter(name, f"{value[:50]!r} is not a name: 1-{MAX_TEXT_LENGTH} printable characters")
    return cleaned


def check_hours(day: str, text: str) -> str:
    """One day's opening hours as "09:00-12:30, 14:00-18:00" (periods in order) or "closed"."""
    param = f"opening_hours.{day}"
    cleaned = text.strip()
    if cleaned.lower() == CLOSED:
        return CLOSED
    end_before = -1
    for period in cleaned.split(","):
        found = _PERIOD_RE.match(period.strip())
        if found is None:
            raise BadParameter(
                param, f'{text[:50]!r}: write periods as "09:00-12:30, 14:00-18:00" or "closed"'
            )
        opens = int(found[1]) * 60 + int(found[2])
        closes = int(found[3]) * 60 + int(found[4])
        if closes > 24 * 60 or opens >= closes or opens < end_before:
            raise BadParameter(
                param, f"{text[:50]!r}: each period opens before it closes, in the day's order"
            )
        end_before = closes
    return ", ".join(period.strip() for period in cleaned.split(","))


def check_opac_url(template: str) -> str:
    """An http(s) URL whose ``{placeholders}`` are among :data:`OPAC_PLACEHOLDERS`."""
    cleaned = template.strip()
    if urlsplit(cleaned).scheme not in ("http", "https") or not urlsplit(cleaned).netloc:
        raise BadParameter("opac_url", f"{template[:80]!r} is not an http:// or https:// URL")
    try:
        names = {name for _text_, name, _spec, _conv in string.Formatter().parse(cleaned) if name is not None}
    except ValueError as exc:
        raise BadParameter("opac_url", f"{template[:80]!r}: unbalanced braces ({exc})") from exc
    unknown = sorted(names - set(OPAC_PLACEHOLDERS))
    if unknown:
        known = ", ".join("{" + name + "}" for name in OPAC_PLACEHOLDERS)
        raise BadParameter("opac_url", f"unknown placeholder {{{unknown[0]}}}: use {known}")
    return cleaned


def _coordinate(name: str, value: Any, limit: float) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise BadParameter(name, f"{value!r} is not a number of degrees") from exc
    if not math.isfinite(number) or not -limit <= number <= limit:
        raise BadParameter(name, f"{value!r} is out of range: between -{limit:g} and {limit:g} degrees")
    return number


@dataclass(frozen=True, slots=True)
class Library:
    """One library of the network, checked when made: a bad field raises :class:`BadParameter` naming
    it. ``branches`` empty: every copy of ``source`` that no other library of that source claims."""

    code: str
    name: str
    source: str | None = None
    branches: tuple[str, ...] = ()
    names: Mapping[str, str] = field(default_factory=dict)
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    opening_hours: Mapping[str, str] = field(default_factory=dict)
    email: str | None = None
    phone: str | None = None
    website: str | None = None
    shuttle: bool = False
    opac_url: str | None = None

    def __post_init__(self) -> None:
        def put(name: str, value: Any) -> None:
            object.__setattr__(self, name, value)

        put("code", _checked_code("code", self.code))
        put("name", _text("name", self.name, required=True))
        put("source", _checked_code("source", self.source) if self.source else None)
        put("branches", _branches(self.branches))
        put("names", _names(self.names))
        for name in ("street", "postcode", "city", "country"):
            put(name, _text(name, getattr(self, name)))
        put("latitude", _coordinate("latitude", self.latitude, 90))
        put("longitude", _coordinate("longitude", self.longitude, 180))
        if (self.latitude is None) != (self.longitude is None):
            raise BadParameter("latitude", "give both latitude and longitude, or neither")
        put("opening_hours", _hours(self.opening_hours))
        email = _text("email", self.email)
        if email is not None and not _EMAIL_RE.match(email):
            raise BadParameter("email", f"{email!r} is not an e-mail address")
        put("email", email)
        phone = _text("phone", self.phone)
        if phone is not None and not _PHONE_RE.match(phone):
            raise BadParameter("phone", f"{phone!r} is not a telephone number (digits, spaces, + ( ) . - /)")
        put("phone", phone)
        website = _text("website", self.website)
        if website is not None and urlsplit(website).scheme not in ("http", "https"):
            raise BadParameter("website", f"{website!r} is not an http:// or https:// URL")
        put("website", website)
        if not isinstance(self.shuttle, bool):
            raise BadParameter("shuttle", f"expected true or false, got {self.shuttle!r}")
        put("opac_url", check_opac_url(self.opac_url) if self.opac_url else None)

    def name_in(self, language: str | None) -> str:
        """The library's name in ``language`` when it has one, else its ``name``."""
        return self.names.get(language or "", self.name)

    @property
    def located(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def to_json(self) -> dict[str, Any]:
        """Every field, ``branches`` as a list (the JSON API's, the store's and the TOML file's shape)."""
        data = {item.name: getattr(self, item.name) for item in fields(self)}
        data["branches"] = list(self.branches)
        data["names"] = dict(self.names)
        data["opening_hours"] = dict(self.opening_hours)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str = "library") -> Library:
        """A library from :meth:`to_json`'s shape; an unknown key is an error naming it (a typo would
        otherwise be lost without a word)."""
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise BadParameter(unknown[0], f"{where}: unknown key; use {', '.join(sorted(known))}")
        values = dict(data)
        for name in ("code", "name"):
            if name not in values:
                raise BadParameter(name, f"{where}: missing")
        branches = values.get("branches", ())
        if isinstance(branches, str) or not isinstance(branches, list | tuple):
            raise BadParameter("branches", f"{where}: expected a list of branch codes")
        values["branches"] = tuple(branches)
        return cls(**values)


def _checked_code(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise BadParameter(name, f"expected a code, got {value!r}")
    try:
        return check_source_code(value.strip())
    except BadParameter as exc:
        raise BadParameter(name, exc.message.replace("source code", "code")) from exc


def _branches(values: Iterable[str]) -> tuple[str, ...]:
    checked = []
    for value in values:
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 100:
            raise BadParameter("branches", f"{value!r} is not a branch code as the holdings carry it")
        checked.append(value.strip())
    if len(checked) > MAX_BRANCHES:
        raise BadParameter("branches", f"at most {MAX_BRANCHES} branch codes per library")
    return tuple(dict.fromkeys(checked))


def _names(values: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise BadParameter("names", "expected a table of language = name")
    names = {}
    for language, name in values.items():
        if language not in LANGUAGES:
            raise BadParameter("names", f"{language!r} is not a language of the site: {', '.join(LANGUAGES)}")
        text = _text(f"names.{language}", name)
        if text is not None:
            names[language] = text
    return names


def _hours(values: Mapping[str, str]) -> dict[str, str]:
    if not isinstance(values, Mapping):
        raise BadParameter("opening_hours", "expected a table of weekday = hours")
    hours = {}
    for day in values:
        if day not in WEEKDAYS:
            raise BadParameter("opening_hours", f"{day!r} is not a weekday: {', '.join(WEEKDAYS)}")
    for day in WEEKDAYS:  # kept in the week's order, whatever order they were given in
        text = values.get(day)
        if text is None or (isinstance(text, str) and not text.strip()):
            continue
        if not isinstance(text, str):
            raise BadParameter(f"opening_hours.{day}", f"expected text, got {text!r}")
        hours[day] = check_hours(day, text)
    return hours


def haversine_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (latitude, longitude) points, in kilometres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


class LibraryDirectory:
    """The libraries of the network, by code, and where a copy is kept.

    Resolution rule (:meth:`site_of`): a copy of ``source`` with branch code ``branch`` is kept by
    the library of that source that lists ``branch`` in its ``branches``; else by the library of
    that source that lists no branch (it keeps every copy no other library claims); else by none
    (``None``: the copy shows under its source). Two libraries of one source may not claim the same
    branch, nor may two of them list no branch: the directory refuses them.
    """

    def __init__(self, libraries: Iterable[Library] = ()) -> None:
        self._by_code: dict[str, Library] = {}
        self._by_branch: dict[tuple[str, str], str] = {}
        self._default: dict[str, str] = {}
        for library in sorted(libraries, key=lambda item: item.code):
            if library.code in self._by_code:
                raise BadParameter("code", f"library {library.code!r} is listed twice")
            self._by_code[library.code] = library
            if library.source is None:
                continue
            if not library.branches:
                other = self._default.setdefault(library.source, library.code)
                if other != library.code:
                    raise BadParameter(
                        "branches",
                        f"libraries {other} and {library.code} both keep every copy of source "
                        f"{library.source}: give one of them its branch codes",
                    )
            for branch in library.branches:
                other = self._by_branch.setdefault((library.source, branch), library.code)
                if other != library.code:
                    raise BadParameter(
                        "branches", f"branch {branch!r} of source {library.source} is claimed by {other} too"
                    )

    def __iter__(self) -> Iterator[Library]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Library | None:
        return self._by_code.get(code)

    def site_of(self, source: str, branch: str | None) -> str | None:
        """The code of the library keeping a copy of ``source`` with ``branch`` (rule: class docstring)."""
        if branch is not None:
            site = self._by_branch.get((source, branch.strip()))
            if site is not None:
                return site
        return self._default.get(source)

    def of_source(self, source: str) -> list[Library]:
        """The libraries keeping copies of ``source``."""
        return [library for library in self if library.source == source]

    def distance_km(self, a: str, b: str) -> float | None:
        """How far apart two libraries are (great circle), ``None`` when either has no coordinates;
        a code the directory does not list is a :class:`BadParameter`."""
        first, second = self._known(a), self._known(b)
        if first.latitude is None or first.longitude is None:
            return None
        if second.latitude is None or second.longitude is None:
            return None
        return haversine_km((first.latitude, first.longitude), (second.latitude, second.longitude))

    def _known(self, code: str) -> Library:
        library = self._by_code.get(code)
        if library is None:
            raise BadParameter("library", f"no library {code!r} in the directory: `unicat library list`")
        return library


DIRECTORY_REFRESH_SECONDS = 60.0
"""How old the directory a long-running process reads live records with may be (:class:`DirectoryCache`)."""


class DirectoryCache:
    """The network's library directory as of at most ``ttl`` seconds ago: a callable for the long-running
    parts that resolve copies to libraries at every search (the live search's record reader), so that a
    library a librarian adds or changes in the store counts within ``ttl`` without a restart, while a
    search makes no store call of its own.

    ``read`` reads the directory from the store; it is called again at the first call after ``ttl``. A
    read that fails raises to the caller and is tried again at the next call. Thread-safe: the reader
    runs in the web app's thread pool, and one refresh at a time reads the store.
    """

    def __init__(
        self,
        read: Callable[[], LibraryDirectory],
        ttl: float = DIRECTORY_REFRESH_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read
        self._ttl = ttl
        self._clock = clock
        self._directory: LibraryDirectory | None = None
        self._expires = float("-inf")
        self._lock = threading.Lock()

    def __call__(self) -> LibraryDirectory:
        with self._lock:
            if self._directory is None or self._clock() >= self._expires:
                self._directory = self._read()
                self._expires = self._clock() + self._ttl
            return self._directory


def parse_library_file(text: str, where: str) -> list[Library]:
    """The libraries of a TOML file: one ``[[library]]`` table each, with :meth:`Library.to_json`'s
    keys (``names`` and ``opening_hours`` as sub-tables); errors name the file and the entry."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise BadParameter("FILE", f"{where} is not valid TOML: {exc}") from exc
    extra = sorted(set(document) - {"library"})
    if extra:
        raise BadParameter("FILE", f"{where}: unknown table [{extra[0]}]; write each library as [[library]]")
    entries = document.get("library", [])
    if not isinstance(entries, list):
        raise BadParameter("FILE", f"{where}: write each library as [[library]]")
    libraries = []
    for position, entry in enumerate(entries, start=1):
        label = f"{where}, library {position}"
        try:
            libraries.append(Library.from_json(entry, label))
        except BadParameter as exc:
            message = exc.message if where in exc.message else f"{label}: {exc.message}"
            raise BadParameter(exc.param, message) from None
    LibraryDirectory(libraries)  # the same checks as the directory's: codes and branches claimed once
    return libraries


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    # A JSON string is a TOML basic string: the same escapes (\" \\ \n \uXXXX).
    return json.dumps(value, ensure_ascii=False)


def format_library_file(libraries: Iterable[Library]) -> str:
    """The TOML text :func:`parse_library_file` reads back as the same libraries."""
    blocks = []
    for library in libraries:
        data = library.to_json()
        lines = ["[[library]]"]
        tables = []
        for key, value in data.items():
            if isinstance(value, dict):
                if value:
                    tables.append((key, value))
            elif value is not None and value != []:
                lines.append(f"{key} = {_toml_value(value)}")
        for key, table in tables:
            lines.append(f"[library.{key}]")
            lines.extend(f"{name} = {_toml_value(text)}" for name, text in table.items())
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
