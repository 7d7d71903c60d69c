"""The interface's language: which one a request gets, and the translations of its messages.

The language comes from, in order: the page's ``lang`` parameter (so a shared link opens in its
language), the reader's choice remembered in a cookie (the switch in the header sets it), the browser's
``Accept-Language``, then the network's ``default_language`` setting. Messages are gettext catalogues
(``search_app/locale``, compiled to ``.mo`` when the package is installed; docs/translations.md).

The chosen translations live in a context variable for the time of the request, so templates, page
code and e-mails all translate with :func:`gettext` without passing the request down.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from gettext import NullTranslations
from pathlib import Path
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.typedefs import Middleware
from babel import dates, numbers
from babel.support import Translations

from search_app.redirects import safe_next
from unicat import shuttle_routing, status
from unicat.errors import BadParameter, ConfigError
from unicat.settings import SUPPORTED_LANGUAGES

LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
"""The language the messages are written in: it needs no catalogue."""
LANG_PARAM = "lang"
LANG_COOKIE = "unicat_lang"
COOKIE_DAYS = 365
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "nl": "Nederlands"}
"""Each language by its own name, as the switch offers it."""

LANGUAGE = web.RequestKey("language", str)
CATALOGUES = web.AppKey("catalogues", dict[str, NullTranslations])

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_NULL = NullTranslations()
_current: ContextVar[tuple[str, NullTranslations]] = ContextVar("language", default=(SOURCE_LANGUAGE, _NULL))
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")


def load_catalogues(locale_dir: Path = LOCALE_DIR) -> dict[str, NullTranslations]:
    """Every supported language's compiled catalogue; a missing one stops the app at startup rather
    than showing English to readers who asked for another language."""
    catalogues: dict[str, NullTranslations] = {SOURCE_LANGUAGE: _NULL}
    for language in SUPPORTED_LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        compiled = locale_dir / language / "LC_MESSAGES" / f"{DOMAIN}.mo"
        if not compiled.is_file():
            raise ConfigError(
                f"the {language} messages are not compiled ({compiled} is missing): reinstall the package "
                f"(pip install -e .) or run: pybabel compile -d {locale_dir} -D {DOMAIN}"
            )
        with compiled.open("rb") as file:
            catalogues[language] = Translations(file, domain=DOMAIN)
    return catalogues


def accepted_languages(header: str) -> list[str]:
    """The primary languages of an ``Accept-Language`` header, most wanted first (RFC 9110 §12.5.4):
    ``fr-BE`` counts as ``fr``, ``q=0`` means "not this one", a malformed range is skipped."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")[:50]):
        match = _RANGE.match(part)
        if not match:
            continue
        try:
            weight = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        if 0 < weight <= 1:
            ranked.append((-weight, position, match.group(1).split("-")[0].lower()))
    return list(dict.fromkeys(language for _, _, language in sorted(ranked)))


def negotiate(param: str | None, cookie: str | None, accept_language: str, default: str) -> str:
    """The language of a request: the parameter, else the cookie, else the browser's first supported
    language, else the network's default. Unsupported values are passed over, never an error."""
    for choice in (param, cookie):
        if choice in SUPPORTED_LANGUAGES:
            return choice
    for language in accepted_languages(accept_language):
        if language in SUPPORTED_LANGUAGES:
            return language
        if language == "*":
            return default
    return default


def request_language(request: web.Request) -> str:
    """The interface language chosen for ``request`` (one of :data:`SUPPORTED_LANGUAGES`)."""
    language: str = request.get(LANGUAGE, current_language())
    return language


def link_language(request: web.Request) -> str:
    """The ``lang`` the page was opened with, which its links keep carrying; empty when none was given."""
    param = request.query.get(LANG_PARAM, "")
    return param if param in SUPPORTED_LANGUAGES else ""


def switch_target(request: web.Request) -> str:
    """Where the language switch brings the reader back: this page without its ``lang``, which would
    otherwise win over the choice just made."""
    kept = [(key, value) for key, value in request.query.items() if key != LANG_PARAM]
    return request.path + (f"?{urlencode(kept)}" if kept else "")


def current_language() -> str:
    return _current.get()[0]


def N_(message: str) -> str:  # the name gettext's tools look for
    """Mark ``message`` for the catalogues where it is written, to be translated where it is shown."""
    return message


def gettext(message: str) -> str:
    """``message`` in the current request's language (English outside a request)."""
    return _current.get()[1].gettext(message)


def translated(message: str | None) -> str | None:
    """``message`` translated, or ``None`` when there is none (gettext("") is the catalogue's header)."""
    return gettext(message) if message else None


def translate_roles(roles: str) -> str:
    """A contributor's roles as the indexer writes them (relator terms joined by ", ",
    mappings/*.toml ``[relators]``), each translated."""
    return ", ".join(gettext(role) for role in roles.split(", "))


def routing_reason(code: str) -> str:
    """Why a request went to a library (the routing rule's code, unicat/shuttle_routing.py) in the
    reader's words; a librarian's own words are shown as written."""
    found = shuttle_routing.reason_phrase(code)
    if found is None:
        return code
    phrase, numbers = found
    return gettext(phrase) % {name: format_number(value) for name, value in numbers.items()}


def ngettext(singular: str, plural: str, n: int) -> str:
    return _current.get()[1].ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    """``message`` as meant in ``context``: one English word read two ways ("title", a kind of
    suggestion, beside "title", what a count of titles says) may need two translations."""
    return _current.get()[1].pgettext(context, message)


def format_number(value: int | float) -> str:
    """A count as the current language writes it: 1,234 (en), 1 234 (fr), 1.234 (nl)."""
    return numbers.format_decimal(value, locale=current_language())


def format_decimal(value: float) -> str:
    """A figure with one decimal (a rating: 4.5 in English, 4,5 in French and Dutch)."""
    return numbers.format_decimal(value, format="0.0", locale=current_language())


def format_percent(share: float) -> str:
    """A share (0.333) as a percentage with one decimal: 33.3% (en), 33,3 % (fr), 33,3% (nl)."""
    return numbers.format_percent(share, format="0.0%", locale=current_language())


def format_rate(records_per_second: float | None) -> str:
    """A harvest's throughput: 1,234 rec/s in English (one decimal under 10), "-" when unknown."""
    if records_per_second is None:
        return "-"
    pattern = "0.0" if records_per_second < 10 else "#,##0"
    value = numbers.format_decimal(records_per_second, format=pattern, locale=current_language())
    return gettext("%(rate)s rec/s") % {"rate": value}


def format_duration(seconds: float | None) -> str:
    """How long a harvest ran (:func:`unicat.status.format_duration`) with the day's symbol and the
    numbers of the reader's language."""
    return status.format_duration(seconds, day=pgettext("duration unit", "d"), number=format_number)


def format_age(value: str | None, now: str) -> str:
    """How long before ``now`` a stored time was ("3 hours ago", "il y a 3 heures", "3 uur geleden"),
    or how long after; empty when either time is unreadable."""
    try:
        then = dt.datetime.fromisoformat((value or "").replace("Z", "+00:00"))
        reference = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    except ValueError:
        return ""
    delta = then - reference
    if abs(delta.total_seconds()) < 1:
        return gettext("now")
    return dates.format_timedelta(delta, add_direction=True, locale=current_language())


def format_date(value: str | None) -> str:
    """A stored date or time (``2026-12-02`` or ``2026-12-02T13:46:43Z``): the day, as the language
    writes it (2 déc. 2026, 2 dec 2026). English keeps the international form, 2026-12-02: an English
    page of a Belgian network has no reason to write days the American or the British way."""
    if not value:
        return ""
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return value
    if current_language() == SOURCE_LANGUAGE:
        return day.isoformat()
    return dates.format_date(day, format="medium", locale=current_language())


def format_utc_time(value: str | None) -> str:
    """A stored time (``2026-12-02T13:46:43Z``) in the language's own way, in UTC, said so."""
    if not value:
        return ""
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    if current_language() == SOURCE_LANGUAGE:  # the international form, as format_date says why
        shown = moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    else:
        shown = dates.format_datetime(moment, format="medium", tzinfo=dt.UTC, locale=current_language())
    return f"{shown} UTC"


def use_language(language: str, catalogues: dict[str, NullTranslations]) -> None:
    """Translate with ``language`` from now on in this task (a request, a test)."""
    _current.set((language, catalogues.get(language, _NULL)))


def language_middleware(default_language: str) -> Middleware:
    """A middleware that chooses each request's language before anything renders (error pages too),
    and tells caches that pages differ by the headers that chose it."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        language = negotiate(
            request.query.get(LANG_PARAM),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("Accept-Language", ""),
            default_language,
        )
        request[LANGUAGE] = language
        # The JSON API's data and messages stay in English (codes, not labels), and static files are
        # the same in every language: only pages translate, and only they vary by the language's headers.
        translated = not _is_api(request.path) and not request.path.startswith("/static/")
        use_language(language if translated else SOURCE_LANGUAGE, request.app[CATALOGUES])
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if translated:
                _vary(exc)
            raise
        if translated:
            _vary(response)
        return response

    return middleware


def _is_api(path: str) -> bool:
    return path == "/api" or path.startswith("/api/")


def _vary(response: web.StreamResponse) -> None:
    if response.prepared:
        return
    present = [part.strip() for part in response.headers.get("Vary", "").split(",") if part.strip()]
    wanted = [name for name in ("Accept-Language", "Cookie") if name not in present]
    response.headers["Vary"] = ", ".join([*present, *wanted])


async def choose_language(request: web.Request) -> web.Response:
    """The language switch: remember the reader's choice for a year and go back to the page."""
    language = request.query.get(LANG_PARAM, "")
    if language not in SUPPORTED_LANGUAGES:
        raise BadParameter(LANG_PARAM, f"one of {', '.join(SUPPORTED_LANGUAGES)}")
    response = web.HTTPSeeOther(safe_next(request.query.get("next")))
    response.set_cookie(
        LANG_COOKIE, language, max_age=COOKIE_DAYS * 86_400, path="/", samesite="Lax", httponly=True
    )
    raise response


def add_routes(app: web.Application) -> None:
    app.router.add_get("/language", choose_language, name="language")
