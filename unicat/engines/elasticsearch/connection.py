"""Reaching the node: the engine URL, the client, and the translation of transport failures.

The URL is ``http://host:port[/prefix]``: the optional path names the index prefix, so several
catalogues (and every test) can share one cluster. A cluster's nodes may be listed comma-separated
(``http://a:9200,http://b:9200,http://c:9200/prefix``): the client spreads requests over them and, when
one dies, sends the request again to another. Every call into the client goes through
:func:`translated`, so a node that is down surfaces as :class:`~unicat.errors.EngineUnavailable`
with what to do, and a slow one as :class:`~unicat.errors.QueryTimeout`, never as a client exception;
the web app's awaited searches (:mod:`unicat.engines.elasticsearch.search_session`) word theirs with
the same functions.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from elasticsearch import (
    ApiError,
    ConnectionError,
    ConnectionTimeout,
    Elasticsearch,
    OrjsonSerializer,
    TransportError,
)

from unicat.errors import ConfigError, EngineError, EngineUnavailable, QueryTimeout
from unicat.settings import Settings

DEFAULT_PREFIX = "unicat"
# Index names must be lower case and may not contain most punctuation; keep prefixes plain.
_PREFIX_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


@dataclass(frozen=True, slots=True)
class EngineAddress:
    """Where the nodes are (``node_urls``, one or several of one cluster) and the prefix of every index
    this catalogue owns."""

    node_urls: tuple[str, ...]
    prefix: str

    @property
    def node_url(self) -> str:
        """The nodes as messages name them: the one URL, or the URLs comma-separated."""
        return ",".join(self.node_urls)


def parse_engine_url(url: str) -> EngineAddress:
    """Split ``http://host:port[/prefix]`` (or several comma-separated nodes of one cluster, the prefix
    on any of them); raises :class:`ConfigError` for anything else."""
    parsed = [_parse_node_url(url, part.strip()) for part in url.split(",")]
    prefixes = {prefix for _, prefix in parsed if prefix}
    if len(prefixes) > 1:
        raise ConfigError(
            f"engine URL {url!r}: the nodes name different index prefixes {sorted(prefixes)}; a catalogue "
            "has one: write it once, after the last node (http://a:9200,http://b:9200/prefix)"
        )
    prefix = prefixes.pop() if prefixes else DEFAULT_PREFIX
    if not _PREFIX_RE.match(prefix):
        raise ConfigError(
            f"engine URL {url!r}: the index prefix {prefix!r} must be 1-64 lower-case letters, digits, "
            "'_' or '-', starting with a letter or digit"
        )
    return EngineAddress(node_urls=tuple(node for node, _ in parsed), prefix=prefix)


def _parse_node_url(url: str, part: str) -> tuple[str, str]:
    """One node's ``scheme://host:port`` and the path it names (``""`` if none)."""
    parts = urlsplit(part)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"engine URL {url!r}: expected http://host:port[/index-prefix], or several nodes "
            "comma-separated (http://a:9200,http://b:9200[/index-prefix])"
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"engine URL {url!r}: no query or fragment allowed, only http://host:port[/prefix]")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"engine URL {url!r}: {exc}") from exc
    netloc = parts.hostname if port is None else f"{parts.hostname}:{port}"
    if ":" in parts.hostname:
        netloc = f"[{parts.hostname}]" + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{netloc}", parts.path.strip("/")


# "Too busy now, try later" answers: 429 (rejected execution, circuit breakers) and 503 (unavailable).
OVERLOAD_STATUSES = (429, 503)


def make_client(address: EngineAddress, settings: Settings) -> Elasticsearch:
    """A client for the nodes; 429/502/503/504 answers are retried by the transport itself, and so is
    a request whose connection failed (a node down or killed), on another node when there are several:
    the failed node is set aside for a while (from one second, doubling up to 30) and tried again later.

    The transport logs every failed attempt as a warning with a full traceback; the engine reports the
    outcome itself, as one clear error, so those attempts are only shown when debugging.
    """
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logging.getLogger("elastic_transport").setLevel(logging.ERROR)
    return Elasticsearch(
        list(address.node_urls),
        # orjson reads and writes JSON several times faster than the standard library, and a rebuild
        # or a re-index moves every record through JSON twice.
        serializer=OrjsonSerializer(),
        request_timeout=settings.es_request_timeout,
        max_retries=settings.es_bulk_retries,
        retry_on_status=(429, 502, 503, 504),
    )


def _reason(exc: BaseException) -> str:
    """The root cause of a transport failure in a few words (the client's own message is generic)."""
    causes: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(causes) < 10:
        causes.append(current)
        current = current.__cause__ or current.__context__
    if any(isinstance(cause, ConnectionRefusedError) for cause in causes):
        return "connection refused"
    text = " ".join(str(cause) for cause in causes).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service not known" in text or "nodename nor servname" in text:
        return "unknown host"
    return str(causes[-1]) or type(causes[-1]).__name__


@contextmanager
def translated(node_url: str, what: str = "request") -> Iterator[None]:
    """Turn the client's exceptions into Unicat's: unavailable, timed out, or refused by the node."""
    try:
        yield
    except ConnectionTimeout as exc:
        raise too_slow(node_url, what) from exc
    except ConnectionError as exc:
        raise unreachable(node_url, exc) from exc
    except ApiError as exc:
        raise refused(node_url, what, exc.status_code, api_error_text(exc)) from exc
    except TransportError as exc:
        raise EngineUnavailable(f"Elasticsearch at {node_url} failed the {what}: {exc}") from exc


def too_slow(node_url: str, what: str) -> QueryTimeout:
    """The error of a request the nodes did not answer within its time."""
    return QueryTimeout(f"Elasticsearch at {node_url} did not answer the {what} in time")


def unreachable(node_url: str, exc: BaseException) -> EngineUnavailable:
    """The error of a request no node took (refused, reset, unknown host: :func:`_reason` says)."""
    return EngineUnavailable(
        f"cannot reach Elasticsearch at {node_url}: {_reason(exc)}; start it or check --engine"
    )


def refused(node_url: str, what: str, status: int, text: str) -> EngineError:
    """The error of a node's error answer (``text``: :func:`error_text`), after any retries."""
    if status in OVERLOAD_STATUSES:
        # Still refused after the retries: the node is there but cannot take the work now.
        return EngineUnavailable(
            f"Elasticsearch at {node_url} is overloaded and refused the {what} ({text}); try again later"
        )
    return EngineError(f"Elasticsearch at {node_url} refused the {what}: {text}")


def api_error_text(exc: ApiError) -> str:
    """The node's own reason for an error answer (type: reason), or its status."""
    return error_text(exc.status_code, exc.body, exc.message)


def error_text(status: int, body: object, message: str) -> str:
    """The node's own reason for an error answer whose parsed ``body`` is given (type: reason), or
    its status and ``message``."""
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        error = body["error"]
        return f"{error.get('type', 'error')}: {error.get('reason', '')}".strip()
    return f"HTTP {status} {message}"
