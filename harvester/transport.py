"""One OAI-PMH request → one parsed, checked response, with bounded retries on transport failures.

sickle sends the HTTP request; this module decides what is worth retrying. Transport failures (HTTP
errors, timeouts, refused connections, answers that are not OAI-PMH XML) are retried with exponential
backoff, then reported as :class:`~unicat.errors.HarvestError`. A busy server (503, or 429) that says
when to come back (``Retry-After``, in seconds or as an HTTP date: the flow control the OAI-PMH
guidelines describe) is retried after that delay instead, up to ``http_retry_after_max``; a longer
one fails the harvest at once, with the delay in the message, rather than blocking it for hours. An
OAI-PMH ``<error>`` is the server's considered answer, so it is raised at once as
:class:`~unicat.errors.OAIProtocolError`.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

import requests
from lxml import etree
from sickle import Sickle

from harvester.namespaces import oai
from unicat.errors import HarvestError, OAIProtocolError
from unicat.settings import Settings

logger = logging.getLogger(__name__)

# Strict on purpose (sickle's own parser recovers): a truncated page must be retried, not half-read.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True)


# Statuses whose Retry-After says when the server will take requests again.
BUSY_STATUSES = (429, 503)


def retry_after(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """The seconds a ``Retry-After`` header asks to wait (RFC 9110: seconds or an HTTP date), or
    ``None`` when it is absent or unreadable. A date in the past means now: 0."""
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class BadResponse(Exception):
    """The server answered, but not with an OAI-PMH document (HTML error page, garbage, truncation)."""


def parse_response(content: bytes) -> etree._Element:
    """The ``<OAI-PMH>`` root of a response body; raises :class:`BadResponse` for anything else."""
    try:
        root = etree.fromstring(content, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        preview = content[:60].decode("utf-8", "replace")
        raise BadResponse(f"response is not XML ({exc}); it starts with {preview!r}") from exc
    if root.tag != oai("OAI-PMH"):
        raise BadResponse(f"response is XML but not OAI-PMH 2.0 (root element {etree.QName(root).text})")
    return root


def raise_oai_error(root: etree._Element) -> None:
    """Raise the first ``<error>`` of a response as :class:`OAIProtocolError`, if there is one."""
    error = root.find(oai("error"))
    if error is not None:
        code = error.get("code", "unknown")
        raise OAIProtocolError(code, (error.text or "").strip())


class OAIClient:
    """Sends OAI-PMH requests to one base URL and returns checked response roots."""

    def __init__(
        self, base_url: str, settings: Settings, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        self.base_url = base_url
        self._sickle = Sickle(base_url, max_retries=0, timeout=settings.http_timeout)
        self._attempts = settings.http_retries + 1
        self._backoff = settings.http_backoff
        self._retry_after_max = settings.http_retry_after_max
        self._sleep = sleep

    def request(self, **params: str) -> etree._Element:
        """One verb with its arguments; raises OAIProtocolError or, after the retries, HarvestError."""
        last_problem = ""
        asked: float | None = None  # the Retry-After of the latest answer, if it gave one
        for attempt in range(self._attempts):
            if attempt:
                delay = asked if asked is not None else self._backoff * 2 ** (attempt - 1)
                logger.warning(
                    "oai retry url=%s verb=%s attempt=%d/%d in %.1fs: %s",
                    self.base_url,
                    params.get("verb"),
                    attempt + 1,
                    self._attempts,
                    delay,
                    last_problem,
                )
                self._sleep(delay)
                asked = None  # each answer speaks for itself: a timeout now gets the backoff again
            try:
                response = self._sickle.harvest(**params)
                root = parse_response(response.http_response.content)
            except requests.HTTPError as exc:
                last_problem = f"HTTP {exc.response.status_code if exc.response is not None else '?'}"
                asked = self._asked_delay(exc.response, params.get("verb"))
                if asked is not None:
                    last_problem += f" with Retry-After {asked:g} s"
            except requests.Timeout:
                last_problem = f"no answer within {self._sickle.request_args['timeout']} s"
            except requests.ConnectionError as exc:
                last_problem = f"cannot connect ({_root_cause(exc)})"
            except requests.RequestException as exc:
                last_problem = f"request failed ({exc})"
            except BadResponse as exc:
                last_problem = str(exc)
            else:
                raise_oai_error(root)
                return root
        raise HarvestError(
            f"{self.base_url} gave no valid OAI-PMH answer to {params.get('verb')} "
            f"after {self._attempts} attempt(s): {last_problem}; check the URL and that the server is up"
        )

    def _asked_delay(self, response: requests.Response | None, verb: str | None) -> float | None:
        """The wait a busy answer asks for; raises HarvestError when it is longer than allowed."""
        if response is None or response.status_code not in BUSY_STATUSES:
            return None
        delay = retry_after(response.headers)
        if delay is not None and delay > self._retry_after_max:
            raise HarvestError(
                f"{self.base_url} is busy (HTTP {response.status_code}) and asks to retry {verb} after "
                f"{delay:g} s, longer than http_retry_after_max ({self._retry_after_max:g} s); the next "
                "harvest tries again (what was stored is kept)"
            )
        return delay


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests error (its messages nest the urllib3 ones)."""
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return str(exc) or type(exc).__name__
