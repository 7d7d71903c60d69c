"""OAI-PMH requests → answers read whole and checked, with bounded retries on transport failures.

sickle sends the HTTP request; this module decides what is worth retrying. Every answer is read to its
end into a spool (memory first, then a temporary file) before anything uses it, so a page of any size
costs little memory, and a body that stops before its closing ``</OAI-PMH>`` (a connection cut, a
server that died mid-page) is recognised as truncated. Transport failures (HTTP errors, timeouts,
refused or reset connections, truncated answers, answers that are not OAI-PMH XML) are retried with
exponential backoff, then reported as :class:`~unicat.errors.HarvestError`. A busy server (503, or
429) that says when to come back (``Retry-After``, in seconds or as an HTTP date: the flow control the
OAI-PMH guidelines describe) is retried after that delay instead, up to ``http_retry_after_max``; a
longer one fails the harvest at once, with the delay in the message, rather than blocking it for
hours. An OAI-PMH ``<error>`` is the server's considered answer, so it is raised at once as
:class:`~unicat.oai_protocol.OaiError`. Requests to one server take turns (:mod:`harvester.hosts`).
"""

from __future__ import annotations

import email.utils
import logging
import re
import tempfile
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import BinaryIO, TypeVar, cast

import requests
from lxml import etree
from sickle import Sickle

from harvester.hosts import HostGates
from harvester.namespaces import oai
from unicat.errors import HarvestError
from unicat.oai_protocol import OaiError
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
    """Raise the first ``<error>`` of a response as :class:`~unicat.oai_protocol.OaiError`, if any."""
    error = root.find(oai("error"))
    if error is not None:
        code = error.get("code", "unknown")
        raise OaiError(code, (error.text or "").strip())


T = TypeVar("T")

# Bytes of an answer kept in memory before the rest goes to a temporary file: a page of 10,000 records
# costs disk, not memory.
SPOOL_IN_MEMORY = 4 * 1024 * 1024
_CHUNK = 256 * 1024
_TAIL = 256
_END_OF_DOCUMENT = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?OAI-PMH\s*>\s*$")


class OAIClient:
    """Sends OAI-PMH requests to one base URL: one at a time per server (``gates``), each answer read
    to its end before it is parsed, with bounded retries."""

    def __init__(
        self,
        base_url: str,
        settings: Settings,
        sleep: Callable[[float], None] = time.sleep,
        gates: HostGates | None = None,
    ) -> None:
        self.base_url = base_url
        # stream: the body is read in chunks into a spool instead of one bytes object.
        self._sickle = Sickle(base_url, max_retries=0, timeout=settings.http_timeout, stream=True)
        self._attempts = settings.http_retries + 1
        self._backoff = settings.http_backoff
        self._retry_after_max = settings.http_retry_after_max
        self._sleep = sleep
        self._gates = gates if gates is not None else HostGates(settings.harvest_politeness_delay)
        self.requests = 0  # HTTP requests sent, retries included

    def request(self, **params: str) -> etree._Element:
        """One verb with its arguments, answered whole (Identify, ListSets…): the checked root.

        Raises OaiError or, after the retries, HarvestError."""

        def whole(body: BinaryIO) -> etree._Element:
            root = parse_response(body.read())
            raise_oai_error(root)
            return root

        return self.read(params, whole)

    def read(self, params: Mapping[str, str], handle: Callable[[BinaryIO], T]) -> T:
        """Download one answer to its end, then give it to ``handle`` as a file positioned at 0.

        ``handle`` may raise :class:`BadResponse` (the XML breaks part way): the request is then sent
        again like any other failed attempt, so a page is used only when it was read whole. The server's
        turn (``gates``) covers the download only, not the parsing.
        """
        last_problem = ""
        asked: float | None = None  # the Retry-After of the latest answer, if it gave one
        verb = params.get("verb")
        for attempt in range(self._attempts):
            if attempt:
                delay = asked if asked is not None else self._backoff * 2 ** (attempt - 1)
                logger.warning(
                    "oai retry url=%s verb=%s attempt=%d/%d in %.1fs: %s",
                    self.base_url,
                    verb,
                    attempt + 1,
                    self._attempts,
                    delay,
                    last_problem,
                )
                self._sleep(delay)
                asked = None  # each answer speaks for itself: a timeout now gets the backoff again
            try:
                with self._gates.turn(self.base_url):
                    body = self._download(params)
                with body:
                    return handle(body)
            except requests.HTTPError as exc:
                last_problem = f"HTTP {exc.response.status_code if exc.response is not None else '?'}"
                asked = self._asked_delay(exc.response, verb)
                if asked is not None:
                    last_problem += f" with Retry-After {asked:g} s"
            except requests.Timeout:
                last_problem = f"no answer within {self._sickle.request_args['timeout']} s"
            except requests.ConnectionError as exc:
                last_problem = f"cannot connect or the connection broke ({_root_cause(exc)})"
            except requests.exceptions.ChunkedEncodingError as exc:
                last_problem = f"the connection broke during the answer ({_root_cause(exc)})"
            except requests.RequestException as exc:
                last_problem = f"request failed ({_root_cause(exc)})"
            except BadResponse as exc:
                last_problem = str(exc)
        raise HarvestError(
            f"{self.base_url} gave no valid OAI-PMH answer to {verb} "
            f"after {self._attempts} attempt(s): {last_problem}; check the URL and that the server is up"
        )

    def _download(self, params: Mapping[str, str]) -> BinaryIO:
        """The whole body of one answer in a spool; raises BadResponse when it stops before its end."""
        self.requests += 1
        response = self._sickle.harvest(**params).http_response
        spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned open)
        try:
            for chunk in response.iter_content(_CHUNK):
                spool.write(chunk)
            size = spool.tell()
            spool.seek(max(0, size - _TAIL))
            tail = spool.read()
            spool.seek(0)
            if not _END_OF_DOCUMENT.search(tail):
                head = spool.read(_TAIL)
                spool.seek(0)
                if b"OAI-PMH" in head:
                    raise BadResponse(
                        f"the answer was cut off: {size:,} bytes without the closing </OAI-PMH>"
                    )
                preview = head[:60].decode("utf-8", "replace")
                raise BadResponse(f"response is not an OAI-PMH document; it starts with {preview!r}")
        except BaseException:
            spool.close()
            raise
        finally:
            response.close()
        return cast(BinaryIO, spool)

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
