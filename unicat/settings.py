"""One typed settings object, built once by the CLI from defaults, a TOML file, the environment and flags.

Nothing below the CLI reads the environment: stages receive a :class:`Settings` and use its fields.
Precedence, lowest first: defaults, ``--config`` file (``[unicat]`` table), ``UNICAT_*`` variables,
command-line flags.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from unicat.content_limits import DEFAULT_RECORD_MAX_BYTES, DEFAULT_SUBFIELD_MAX_BYTES, ContentLimits
from unicat.errors import ConfigError
from unicat.stemming import NETWORK_LANGUAGES, STEMMERS
from unicat.tomlfile import read_toml

DEFAULT_DATA_DIR = Path("unicat-data")
# A record limit below this would refuse ordinary records (a MARC record with a title and an author
# is a few hundred bytes; ISO 2709's leader and directory alone take 60).
MIN_RECORD_MAX_BYTES = 1_000


def default_engine_url(data_dir: Path) -> str:
    """The embedded engine's URL for a data directory: zero setup, one file."""
    return f"sqlite:///{data_dir / 'unicat.db'}"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable, in one place. Times are seconds."""

    data_dir: Path = DEFAULT_DATA_DIR
    # The union index, and (for now) the source records and harvest state beside it: the SQLite file
    # (sqlite:///path) or an Elasticsearch node (http://host:port[/prefix]). Set by --index or --engine.
    engine_url: str = field(default_factory=lambda: default_engine_url(DEFAULT_DATA_DIR))
    # The database of everything readers and librarians write (accounts, comments, lists…):
    # sqlite:///path or postgresql://user@host:port/db. Empty: the index's SQLite file, or
    # <data_dir>/unicat.db when the index is Elasticsearch (see resolved_store_url).
    store_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8080
    # Search
    query_timeout: float = 2.0
    facet_timeout: float = 0.5
    page_size: int = 20
    max_page_size: int = 100
    facet_size: int = 10
    # Entries of the public Atom feeds of new titles (/new.atom, /libraries/{code}/new.atom): the newest.
    new_feed_entries: int = 50
    # "Did you mean" (unicat/speller.py) is tried for a search with at most this many hits (0: only
    # for none); suggestions as you type (/api/suggest) give at most suggest_max_limit headings.
    did_you_mean_max_hits: int = 3
    suggest_max_limit: int = 20
    reader_pool_size: int = 4
    # The languages of the network's readers (ISO 639-1, among unicat.stemming.STEMMERS): a search word
    # also finds the words that share its stem in any of them.
    network_languages: tuple[str, ...] = NETWORK_LANGUAGES
    # Serving (search_app/serving.py, search_app/request_limits.py): what slow or abusive clients may
    # hold. A connection must send a request's line and headers within header_read_timeout of its first
    # byte (of opening, for a new connection) and its body within body_read_timeout of its headers; an
    # idle one is closed after keepalive_timeout. Beyond max_connections new connections are closed at
    # once; beyond max_requests_in_flight requests are answered 503 with Retry-After.
    header_read_timeout: float = 10.0
    body_read_timeout: float = 30.0
    keepalive_timeout: float = 75.0
    max_connections: int = 4096
    # Connections one client address may hold open (0: no such cap; behind a reverse proxy every
    # connection comes from the proxy's address, whose own per-client limits then apply).
    max_connections_per_address: int = 256
    max_requests_in_flight: int = 128
    # Harvest
    http_timeout: float = 30.0
    http_retries: int = 3
    http_backoff: float = 1.0
    # Longest Retry-After (503/429) the harvester waits for; a longer one fails the harvest at once.
    http_retry_after_max: float = 300.0
    # Sources harvested at the same time (by `unicat harvest` and by the web app's schedule).
    harvest_concurrency: int = 4
    # Pause between two requests to the same server; a server never gets two requests at once.
    harvest_politeness_delay: float = 0.1
    # Taken off the start of the last good harvest for the next `from`.
    harvest_overlap: float = 300.0
    # Records stored per write while a page is read: pages larger than this are stored in several.
    harvest_batch_records: int = 1000
    # A full harvest that no longer sees more than this share of a source's live records fails
    # instead of marking them deleted (a broken server, a wrong set), unless only a few are concerned.
    harvest_vanish_limit: float = 0.5
    # How often the web app looks for sources due for a scheduled harvest (0: no scheduled harvests).
    harvest_schedule_check: float = 60.0
    # What one server may cost, however broken or hostile: the size of one answer once decompressed
    # (the temporary file of a page never holds more), the time one whole answer may take however
    # slowly it trickles, and the time one run of a source may take before it stops, to resume from
    # its checkpoint at the next harvest.
    harvest_max_answer_bytes: int = 256 * 1024 * 1024
    harvest_page_time_limit: float = 600.0
    harvest_run_time_limit: float = 24 * 3600.0
    # Content limits (unicat/content_limits.py): a record or one subfield larger than this, harvested
    # or imported, is quarantined (with an excerpt, its size and digest) instead of stored. A harvested
    # record is measured while its page is parsed, so a huge one is never built in memory; Identify and
    # the other answers read whole are held to record_max_bytes too.
    record_max_bytes: int = DEFAULT_RECORD_MAX_BYTES
    subfield_max_bytes: int = DEFAULT_SUBFIELD_MAX_BYTES
    # Index
    index_batch_size: int = 500
    # Elasticsearch engine (used when engine_url is http(s)://…)
    es_shards: int = 1
    es_replicas: int = 0
    es_bulk_chunk: int = 1000
    es_bulk_retries: int = 5
    es_request_timeout: float = 30.0
    log_level: str = "WARNING"
    # OAI-PMH provider (/oai): what Identify says, and how lists are paged. An empty base URL means
    # the address the request came to (set it when a proxy serves Unicat under another address).
    oai_repository_name: str = "Unicat union catalogue"
    oai_repository_identifier: str = "unicat.local"
    oai_admin_email: str = "catalogue@unicat.local"
    oai_base_url: str = ""
    oai_page_size: int = 500
    oai_token_hours: float = 24.0
    # The OpenURL link resolver of the network's libraries (a base URL such as
    # https://resolver.example.org/openurl): record pages and results link to it with each record's
    # ContextObject (unicat/openurl.py). Empty: no such link.
    openurl_resolver: str = ""
    # Accounts (search_app/auth.py). Session cookies are Secure unless this is off: turn it off only
    # when the catalogue is served over plain HTTP on another address than localhost/127.0.0.1
    # (browsers keep Secure cookies of those over HTTP). New readers may register unless closed.
    cookie_secure: bool = True
    registration_open: bool = True
    # E-mail (unicat/mail.py), off while smtp_host is empty. With it, registering is confirmed by a
    # link sent to the address; site_url is where links in e-mails point (never the request's Host,
    # which the sender chooses). smtp_security: "starttls" (port 587), "ssl" (465) or "none".
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_user: str = ""
    smtp_password: str = ""
    mail_from: str = ""
    site_url: str = ""
    # The outbox (unicat/outbox.py): a message the server refuses for now (4xx, no connection) is
    # tried again after mail_retry_base seconds, doubled each time up to mail_retry_cap, at most
    # mail_max_attempts times in all. The sender looks for due messages every mail_poll_interval
    # seconds; a message taken for sending and not done within mail_lease seconds is "interrupted".
    mail_retry_base: float = 60.0
    mail_retry_cap: float = 3600.0
    mail_max_attempts: int = 8
    mail_poll_interval: float = 15.0
    mail_lease: float = 600.0
    # Reverse proxies whose X-Forwarded-For header names the client (addresses or networks, separated
    # by commas; search_app/addresses.py). Empty: the connection's peer is the client.
    trusted_proxies: str = ""
    # Sign-in throttling (search_app/signin_throttle.py): failures are remembered for the window;
    # past the free ones, each try waits signin_backoff seconds after the latest failure, doubled with
    # each further one, at most the window. Free: this many failures on one account from one address,
    # from one address on any accounts, and on one account from browsers and addresses it was never
    # signed in from.
    signin_window: float = 900.0
    signin_backoff: float = 1.0
    signin_free_attempts: int = 5
    signin_limit_address: int = 30
    signin_limit_account: int = 100
    # Posting (search_app/ratelimit.py): at most this many in the window, per account and per address.
    post_window: float = 60.0
    post_limit_account: int = 10
    post_limit_address: int = 60
    # Inter-library requests (docs/shuttle.md): at most this many open (not yet collected, refused,
    # cancelled or failed) per patron, and per holding library.
    shuttle_max_open_per_patron: int = 5
    shuttle_max_open_per_library: int = 200
    # Search history (docs/configuration.md): a signed-in reader's last search_history_size searches
    # are kept for search_history_days; a browser not signed in keeps its own for
    # search_history_visitor_hours (under a cookie). A reader keeps at most saved_searches_max searches.
    search_history_days: float = 90.0
    search_history_size: int = 50
    search_history_visitor_hours: float = 24.0
    saved_searches_max: int = 100
    # Alerts of saved searches (docs/feeds-and-alerts.md): digests go out at alerts_hour (UTC) each day,
    # the weekly ones on alerts_weekday; an unsubscribe link works for alerts_link_days days.
    alerts_hour: int = 6
    alerts_weekday: str = "monday"
    alerts_link_days: float = 60.0
    # Live search (docs/live-search.md): a search asks the enabled live targets by default when
    # live_search_default is true (a reader may still choose); at most live_search_max_runs live searches
    # are held at once (running, or finished and still readable: poll, stream, import), each for
    # live_search_keep_seconds after it finished; when all are running, one more is told to try again.
    live_search_default: bool = True
    live_search_max_runs: int = 50
    live_search_keep_seconds: float = 300.0
    # The interface's language when neither the page's ``lang``, the reader's choice (a cookie) nor the
    # browser's Accept-Language names one of SUPPORTED_LANGUAGES.
    default_language: str = "en"

    @property
    def index_url(self) -> str:
        """The union index's URL (``--index``; ``--engine`` names the same)."""
        return self.engine_url

    @property
    def resolved_store_url(self) -> str:
        """The store's URL: as set, else the embedded default beside the index."""
        if self.store_url:
            return self.store_url
        if self.engine_url.startswith("sqlite:"):
            return self.engine_url
        return default_engine_url(self.data_dir)

    @property
    def content_limits(self) -> ContentLimits:
        """The size limits the intake stages check records against."""
        return ContentLimits(self.record_max_bytes, self.subfield_max_bytes)

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (settings stay immutable once built)."""
        return dataclasses.replace(self, **changes)


_FIELD_TYPES: dict[str, type] = {
    "data_dir": Path,
    "engine_url": str,
    "store_url": str,
    "host": str,
    "port": int,
    "query_timeout": float,
    "facet_timeout": float,
    "page_size": int,
    "max_page_size": int,
    "facet_size": int,
    "new_feed_entries": int,
    "did_you_mean_max_hits": int,
    "suggest_max_limit": int,
    "reader_pool_size": int,
    "network_languages": tuple,
    "header_read_timeout": float,
    "body_read_timeout": float,
    "keepalive_timeout": float,
    "max_connections": int,
    "max_connections_per_address": int,
    "max_requests_in_flight": int,
    "http_timeout": float,
    "http_retries": int,
    "http_backoff": float,
    "http_retry_after_max": float,
    "harvest_concurrency": int,
    "harvest_politeness_delay": float,
    "harvest_overlap": float,
    "harvest_batch_records": int,
    "harvest_vanish_limit": float,
    "harvest_schedule_check": float,
    "harvest_max_answer_bytes": int,
    "harvest_page_time_limit": float,
    "harvest_run_time_limit": float,
    "record_max_bytes": int,
    "subfield_max_bytes": int,
    "index_batch_size": int,
    "es_shards": int,
    "es_replicas": int,
    "es_bulk_chunk": int,
    "es_bulk_retries": int,
    "es_request_timeout": float,
    "log_level": str,
    "oai_repository_name": str,
    "oai_repository_identifier": str,
    "oai_admin_email": str,
    "oai_base_url": str,
    "oai_page_size": int,
    "oai_token_hours": float,
    "openurl_resolver": str,
    "cookie_secure": bool,
    "registration_open": bool,
    "smtp_host": str,
    "smtp_port": int,
    "smtp_security": str,
    "smtp_user": str,
    "smtp_password": str,
    "mail_from": str,
    "mail_retry_base": float,
    "mail_retry_cap": float,
    "mail_max_attempts": int,
    "mail_poll_interval": float,
    "mail_lease": float,
    "site_url": str,
    "trusted_proxies": str,
    "signin_window": float,
    "signin_backoff": float,
    "signin_free_attempts": int,
    "signin_limit_account": int,
    "signin_limit_address": int,
    "post_window": float,
    "post_limit_account": int,
    "post_limit_address": int,
    "shuttle_max_open_per_patron": int,
    "shuttle_max_open_per_library": int,
    "search_history_days": float,
    "search_history_size": int,
    "search_history_visitor_hours": float,
    "saved_searches_max": int,
    "alerts_hour": int,
    "alerts_weekday": str,
    "alerts_link_days": float,
    "live_search_default": bool,
    "live_search_max_runs": int,
    "live_search_keep_seconds": float,
    "default_language": str,
}

# The OAI identifier scheme's repository identifier, and the OAI-PMH schema's adminEmail pattern.
_REPOSITORY_IDENTIFIER = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
_EMAIL = re.compile(r"\S+@(\S+\.)+\S+")

# Names a user may give a setting by, beside its own: the union index is the engine of earlier releases.
_ALIASES = {"index_url": "engine_url"}

_ENV_NAMES = {
    "UNICAT_ENGINE": "engine_url",
    "UNICAT_INDEX": "index_url",
    "UNICAT_STORE": "store_url",
    "UNICAT_DATA_DIR": "data_dir",
    "UNICAT_HOST": "host",
    "UNICAT_PORT": "port",
    "UNICAT_QUERY_TIMEOUT": "query_timeout",
    "UNICAT_LOG_LEVEL": "log_level",
    "UNICAT_COOKIE_SECURE": "cookie_secure",
    "UNICAT_SMTP_PASSWORD": "smtp_password",
    "UNICAT_ES_SHARDS": "es_shards",
    "UNICAT_ES_REPLICAS": "es_replicas",
}


_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


def _canonical(name: str) -> str:
    return _ALIASES.get(name, name)


def _coerce(name: str, value: Any, origin: str) -> Any:
    kind = _FIELD_TYPES.get(_canonical(name))
    if kind is None:
        raise ConfigError(f"{origin}: unknown setting {name!r}; known: {', '.join(sorted(_FIELD_TYPES))}")
    if kind is bool:
        # bool("false") is True: a TOML boolean, or one of the usual words from the environment.
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in _TRUE or word in _FALSE:
            return word in _TRUE
        raise ConfigError(f"{origin}: {name} must be true or false, got {value!r}")
    if kind is tuple:
        return _languages(name, value, origin)
    try:
        result = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{origin}: {name} must be a {kind.__name__}, got {value!r}") from exc
    if kind in (int, float) and result < 0:
        raise ConfigError(f"{origin}: {name} must not be negative, got {value!r}")
    return result


def _languages(name: str, value: Any, origin: str) -> tuple[str, ...]:
    """A list of language codes: a TOML array, or a comma-separated string (the environment's)."""
    parts = value.split(",") if isinstance(value, str) else value
    if not isinstance(parts, list | tuple) or not all(isinstance(part, str) for part in parts):
        raise ConfigError(f'{origin}: {name} must be a list of language codes, such as ["fr", "nl"]')
    codes = tuple(dict.fromkeys(part.strip().lower() for part in parts if part.strip()))
    unknown = [code for code in codes if code not in STEMMERS]
    if unknown:
        raise ConfigError(
            f"{origin}: {name}: {unknown[0][:20]!r} is not a language Unicat stems; "
            f"use some of {', '.join(STEMMERS)} (an empty list turns stemming of searches off)"
        )
    return codes


def _check_networks(name: str, value: str) -> None:
    for part in value.split(","):
        try:
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)
        except ValueError:
            raise ConfigError(
                f"{name}: {part.strip()[:60]!r} is not an IP address or network (such as 10.0.0.5 or "
                "10.0.0.0/8); separate several with commas"
            ) from None


SMTP_SECURITY = ("starttls", "ssl", "none")
# A resolver's base URL: the OpenURL's query is appended to it (after "?", or "&" if it has a query).
_RESOLVER_URL = re.compile(r"https?://[^/\s?#]+([/?][^\s#]*)?")

SUPPORTED_LANGUAGES = ("en", "fr", "nl")
"""The interface's languages (search_app/locale holds a catalogue of messages for each but English)."""


# One SMTP conversation may take up to 30 s at each of its steps (unicat.mail.SMTP_TIMEOUT): a lease
# shorter than a few of them would call a slow but living sender's message interrupted.
MIN_MAIL_LEASE = 120.0


def _check_outbox(settings: Settings) -> None:
    if not 0 < settings.mail_retry_base <= settings.mail_retry_cap:
        raise ConfigError(
            "mail_retry_base must be more than 0 seconds and at most mail_retry_cap, got "
            f"{settings.mail_retry_base} and {settings.mail_retry_cap}"
        )
    if settings.mail_max_attempts < 1:
        raise ConfigError(f"mail_max_attempts must be at least 1, got {settings.mail_max_attempts}")
    if settings.mail_poll_interval <= 0:
        raise ConfigError(
            f"mail_poll_interval must be more than 0 seconds, got {settings.mail_poll_interval}"
        )
    if settings.mail_lease < MIN_MAIL_LEASE:
        raise ConfigError(
            f"mail_lease must be at least {MIN_MAIL_LEASE:g} seconds, got {settings.mail_lease}"
        )


def _check_mail(settings: Settings) -> None:
    if settings.smtp_security not in SMTP_SECURITY:
        raise ConfigError(
            f"smtp_security must be one of {', '.join(SMTP_SECURITY)}, got {settings.smtp_security!r}"
        )
    _check_outbox(settings)
    if not settings.smtp_host:
        return
    if not _EMAIL.fullmatch(settings.mail_from):
        raise ConfigError("smtp_host is set: set mail_from too, the address e-mails come from")
    if not re.fullmatch(r"https?://[^/\s?#]+(/\S*)?", settings.site_url):
        raise ConfigError(
            "smtp_host is set: set site_url too, the catalogue's public address that links in e-mails "
            "point to (such as https://catalogue.example.org)"
        )
    if settings.smtp_port < 1 or settings.smtp_port > 65535:
        raise ConfigError(f"smtp_port must be a port number (1-65535), got {settings.smtp_port}")


def load_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> Settings:
    """Build the settings from a TOML file, an environment mapping and explicit overrides.

    ``overrides`` holds command-line values; ``None`` values are ignored so that an unset flag does
    not hide the file or the environment. When ``data_dir`` is set but ``engine_url`` is not, the
    engine follows the data directory. ``index_url`` is another name of ``engine_url`` and wins over it
    where both come from the same place (``UNICAT_INDEX`` over ``UNICAT_ENGINE``).
    """
    values: dict[str, Any] = {}
    if config_file is not None:
        document = read_toml(config_file, "config file")
        table = document.get("unicat", document)
        if not isinstance(table, dict):
            raise ConfigError(f"config file {config_file}: [unicat] must be a table")
        for key, value in sorted(table.items(), key=lambda item: str(item[0]) in _ALIASES):
            values[_canonical(key)] = _coerce(key, value, str(config_file))
    for env_name, key in _ENV_NAMES.items():
        if environ is not None and environ.get(env_name):
            values[_canonical(key)] = _coerce(key, environ[env_name], env_name)
    for key, value in sorted((overrides or {}).items(), key=lambda item: item[0] in _ALIASES):
        if value is not None:
            values[_canonical(key)] = _coerce(key, value, f"--{key.replace('_', '-')}")
    if "engine_url" not in values:
        values["engine_url"] = default_engine_url(values.get("data_dir", DEFAULT_DATA_DIR))
    settings = Settings(**values)
    if settings.harvest_concurrency < 1 or settings.harvest_batch_records < 1:
        raise ConfigError("harvest_concurrency and harvest_batch_records must be at least 1")
    if settings.record_max_bytes < MIN_RECORD_MAX_BYTES or settings.subfield_max_bytes < 1:
        raise ConfigError(
            f"record_max_bytes must be at least {MIN_RECORD_MAX_BYTES:,} (the smallest useful MARC record) "
            "and subfield_max_bytes at least 1"
        )
    _check_harvest_limits(settings)
    if settings.es_shards < 1:
        raise ConfigError("es_shards must be at least 1 (every index has one primary shard or more)")
    if settings.page_size < 1 or settings.page_size > settings.max_page_size:
        raise ConfigError(f"page_size must be between 1 and max_page_size ({settings.max_page_size})")
    if not 1 <= settings.new_feed_entries <= settings.max_page_size:
        raise ConfigError(
            f"new_feed_entries must be between 1 and max_page_size ({settings.max_page_size}): "
            "a feed of new titles is one page of them"
        )
    # 100: unicat.vocabulary.MAX_SUGGESTIONS, the most an index keeps ranked for a short prefix.
    if settings.did_you_mean_max_hits < 0 or not 1 <= settings.suggest_max_limit <= 100:
        raise ConfigError("did_you_mean_max_hits must be at least 0 and suggest_max_limit between 1 and 100")
    if not _REPOSITORY_IDENTIFIER.fullmatch(settings.oai_repository_identifier):
        raise ConfigError(
            "oai_repository_identifier must be a domain name such as 'catalogue.example.org' (the OAI "
            f"identifier scheme), got {settings.oai_repository_identifier!r}"
        )
    if not _EMAIL.fullmatch(settings.oai_admin_email):
        raise ConfigError(f"oai_admin_email must be an e-mail address, got {settings.oai_admin_email!r}")
    _check_networks("trusted_proxies", settings.trusted_proxies)
    _check_mail(settings)
    if settings.default_language not in SUPPORTED_LANGUAGES:
        raise ConfigError(
            f"default_language must be one of {', '.join(SUPPORTED_LANGUAGES)}, "
            f"got {settings.default_language!r}"
        )
    limits = [settings.signin_free_attempts, settings.signin_limit_account, settings.signin_limit_address]
    limits += [settings.post_limit_account, settings.post_limit_address]
    if min(limits) < 1 or min(settings.signin_window, settings.signin_backoff, settings.post_window) <= 0:
        raise ConfigError("rate limits must be at least 1 and their windows more than 0 seconds")
    timeouts = [settings.header_read_timeout, settings.body_read_timeout, settings.keepalive_timeout]
    if min(timeouts) <= 0:
        raise ConfigError("header_read_timeout, body_read_timeout and keepalive_timeout must be more than 0")
    if settings.max_connections < 1 or settings.max_requests_in_flight < 1:
        raise ConfigError("max_connections and max_requests_in_flight must be at least 1")
    if settings.oai_page_size < 1 or settings.oai_token_hours <= 0:
        raise ConfigError("oai_page_size must be at least 1 and oai_token_hours more than 0")
    if settings.openurl_resolver and not _RESOLVER_URL.fullmatch(settings.openurl_resolver):
        raise ConfigError(
            "openurl_resolver must be the http:// or https:// address of a link resolver, without spaces "
            f"or '#' (such as https://resolver.example.org/openurl), got {settings.openurl_resolver[:80]!r}; "
            "leave it empty for no resolver link"
        )
    for name in ("shuttle_max_open_per_patron", "shuttle_max_open_per_library"):
        if getattr(settings, name) < 1:
            raise ConfigError(f"{name} must be at least 1, got {getattr(settings, name)}")
    _check_search_history(settings)
    _check_live_search(settings)
    _check_alerts(settings)
    return settings


WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _check_alerts(settings: Settings) -> None:
    if not 0 <= settings.alerts_hour <= 23:
        raise ConfigError(f"alerts_hour is an hour of the day in UTC, 0 to 23, got {settings.alerts_hour}")
    if settings.alerts_weekday not in WEEKDAYS:
        raise ConfigError(
            f"alerts_weekday is one of {', '.join(WEEKDAYS)}, got {settings.alerts_weekday[:20]!r}"
        )
    if not 0 < settings.alerts_link_days <= 3660:
        raise ConfigError(
            f"alerts_link_days must be more than 0 and at most 3660, got {settings.alerts_link_days}"
        )


def _check_search_history(settings: Settings) -> None:
    for name in ("search_history_size", "saved_searches_max"):
        if not 1 <= getattr(settings, name) <= 10_000:
            raise ConfigError(f"{name} must be between 1 and 10000, got {getattr(settings, name)}")
    for name in ("search_history_days", "search_history_visitor_hours"):
        if getattr(settings, name) <= 0:
            raise ConfigError(f"{name} must be more than 0, got {getattr(settings, name)}")


def _check_live_search(settings: Settings) -> None:
    if not 1 <= settings.live_search_max_runs <= 10_000:
        raise ConfigError(
            f"live_search_max_runs must be between 1 and 10000, got {settings.live_search_max_runs}"
        )
    if not 0 < settings.live_search_keep_seconds <= 86_400:
        raise ConfigError(
            "live_search_keep_seconds must be more than 0 and at most 86400 (a day), "
            f"got {settings.live_search_keep_seconds}"
        )


# A record is measured as its page is fed to the parser, this many bytes at a time (harvester/pages.py):
# while parsing, a smaller limit could not be told apart from the piece of page around it, so the
# parser holds a record to at least this; the exact record_max_bytes is checked once it is read.
MIN_RECORD_BYTES = 64 * 1024


def parse_record_cap(settings: Settings) -> int:
    """The size past which a harvested record is not built in memory while its page is parsed."""
    return max(settings.record_max_bytes, MIN_RECORD_BYTES)


def _check_harvest_limits(settings: Settings) -> None:
    if settings.record_max_bytes > settings.harvest_max_answer_bytes:
        raise ConfigError(
            f"record_max_bytes ({settings.record_max_bytes:,}) must be at most "
            f"harvest_max_answer_bytes ({settings.harvest_max_answer_bytes:,}): a record comes in an answer"
        )
    if settings.harvest_page_time_limit <= 0 or settings.harvest_run_time_limit <= 0:
        raise ConfigError("harvest_page_time_limit and harvest_run_time_limit must be more than 0 seconds")


def settings_from_environment(config_file: Path | None = None, **overrides: Any) -> Settings:
    """The CLI's entry: file + this process's environment + flags."""
    return load_settings(config_file, os.environ, overrides)
