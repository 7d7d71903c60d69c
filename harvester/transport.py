"""OAI-PMH requests → answers read whole, within their limits, and checked, with bounded retries.

sickle sends the HTTP request (through :mod:`harvester.deadlines`' session); this module decides what
is worth retrying. Every answer is read to its end into a spool (memory first, then a temporary
file) before anything uses it, so a page of any size costs little memory, and a body that stops
before its closing ``</OAI-PMH>`` (a connection cut, a server that died mid-page) is recognised as
truncated. What one answer may cost is bounded whatever the server does: its size once decompressed
(``harvest_max_answer_bytes``, counted while it arrives: :mod:`harvester.bodies`; the spool never
holds more) and the time the whole exchange takes (``harvest_page_time_limit``, however slowly the
bytes trickle). Past a limit the answer fails at once with :class:`~unicat.errors.HarvestLimitExceeded`,
naming the limit, without retrying (it would come as large or as slow again). Transport failures (HTTP
errors, timeouts, refused or reset connections, truncated answers, answers that are not OAI-PMH XML)
are retried with exponential backoff, then reported as :class:`~unicat.errors.HarvestError`. A busy
server (503, or 429) that says when to come back (``Retry-After``, in seconds or as an HTTP date: the
flow control the OAI-PMH guidelines describe) is retried after that delay instead, up to
``http_retry_after_max``; a longer one fails the harvest at once, with the delay in the message, rather
than blocking it for hours. An OAI-PMH ``<error>`` is the server's considered answer, so it is raised
at once as :class:`~unicat.oai_protocol.OaiError`. Requests to one server take turns
(:mod:`harvester.hosts`).
"""

from __future__ import annotations

import email.utils
import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, TypeVar

import requests
import urllib3
from lxml import etree
from sickle import Sickle

from harvester.bodies import ACCEPTED_ENCODINGS, TooLarge, UnreadableEncoding, spool
from harvester.deadlines import Deadline, watched_session
from harvester.hosts import HostGates
from harvester.namespaces import oai
from unicat.errors import HarvestError, HarvestLimitExceeded
from unicat.oai_protocol import OaiError
from unicat.settings import Settings

logger = logging.getLogger(__name__)

# Strict on purpose (sickle's own parser recovers): a truncated page must be retried, not half-read.
# Without huge_tree: an answer read whole is small (Identify, ListSets), so libxml2's own bounds on
# depth and node size stay on as a second guard behind the size cap.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True)


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


def parse_response(body: BinaryIO) -> etree._Element:
    """The ``<OAI-PMH>`` root of a response body (a file at 0, read by the parser as it goes);
    raises :class:`BadResponse` for anything else."""
    try:
        root = etree.parse(body, parser=_PARSER).getroot()
    except etree.XMLSyntaxError as exc:
        body.seek(0)
        preview = body.read(60).decode("utf-8", "replace")
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

_TAIL = 256
_RAW_CHUNK = 64 * 1024  # compressed bytes read at a time (each inflates in pieces of bodies.CHUNK)
_END_OF_DOCUMENT = re.compile(rb"</(?:[A-Za-z_][\w.-]*:)?OAI-PMH\s*>\s*$")


class _SessionSickle(Sickle):  # type: ignore[misc]  # sickle has no type hints
    """sickle, sending its requests through one session of ours instead of requests' module-level
    ``get``: the connection is kept alive between pages, and its socket is one the page deadline can
    reach (:func:`harvester.deadlines.watched_session`)."""

    def __init__(self, base_url: str, session: requests.Session, timeout: float) -> None:
        # No retries of sickle's own (this module retries), and streamed: the body is read in chunks.
        super().__init__(base_url, max_retries=0, timeout=timeout, stream=True)
        self.session = session

    def _request(self, kwargs: Mapping[str, str]) -> requests.Response:
        return self.session.get(self.endpoint, params=kwargs, **self.request_args)


class OAIClient:
    """Sends OAI-PMH requests to one base URL: one at a time per server (``gates``), each answer read
    to its end, within its size and time limits, before it is parsed, with bounded retries."""

    def __init__(
        self,
        base_url: str,
        settings: Settings,
        sleep: Callable[[float], None] = time.sleep,
        gates: HostGates | None = None,
    ) -> None:
        self.base_url = base_url
        self._session = watched_session()
        self._session.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        self._sickle = _SessionSickle(base_url, self._session, settings.http_timeout)
        self._timeout = settings.http_timeout
        self._attempts = settings.http_retries + 1
        self._backoff = settings.http_backoff
        self._retry_after_max = settings.http_retry_after_max
        self._answer_cap = settings.harvest_max_answer_bytes
        self._whole_cap = settings.record_max_bytes
        self._page_time = settings.harvest_page_time_limit
        self._sleep = sleep
        self._gates = gates if gates is not None else HostGates(settings.harvest_politeness_delay)
        self.requests = 0  # HTTP requests sent, retries included

    def close(self) -> None:
        """Close the connections kept open to the server."""
        self._session.close()

    def request(self, **params: str) -> etree._Element:
        """One verb with its arguments, answered whole (Identify, ListSets…): the checked root.

        Such an answer becomes one tree in memory, so it is held to ``record_max_bytes``, the
        size of the largest piece of XML the harvester builds whole, rather than to the page cap.
        Raises OaiError or, after the retries, HarvestError."""

        def whole(body: BinaryIO) -> etree._Element:
            root = parse_response(body)
            raise_oai_error(root)
            return root

        return self.read(params, whole, cap=self._whole_cap, cap_setting="record_max_bytes")

    def read(
        self,
        params: Mapping[str, str],
        handle: Callable[[BinaryIO], T],
        cap: int | None = None,
        cap_setting: str = "harvest_max_answer_bytes",
    ) -> T:
        """Download one answer to its end, then give it to ``handle`` as a file positioned at 0.

        ``handle`` may raise :class:`BadResponse` (the XML breaks part way): the request is then sent
        again like any other failed attempt, so a page is used only when it was read whole. The server's
        turn (``gates``) covers the download only, not the parsing. An answer larger than ``cap``
        (``cap_setting`` names the setting that sets it) or slower than ``harvest_page_time_limit``
        raises :class:`HarvestLimitExceeded` at once: sent again, it would be as large or as slow.
        """
        last_problem = ""
        asked: float | None = None  # the Retry-After of the latest answer, if it gave one
        verb = params.get("verb")
        limits = _Limits(
            self.base_url, verb, cap if cap is not None else self._answer_cap, cap_setting, self._page_time
        )
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
                    body = self._download(params, limits)
                with body:
                    return handle(body)
            except requests.HTTPError as exc:
                last_problem = f"HTTP {exc.response.status_code if exc.response is not None else '?'}"
                asked = self._asked_delay(exc.response, verb)
                if asked is not None:
                    last_problem += f" with Retry-After {asked:g} s"
            except requests.Timeout:
                last_problem = f"no answer within {self._timeout} s"
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

    def _download(self, params: Mapping[str, str], limits: _Limits) -> BinaryIO:
        """The whole decoded body of one answer in a spool, within ``limits``; raises BadResponse when
        it stops before its end."""
        self.requests += 1
        with Deadline(limits.seconds) as deadline:
            try:
                try:
                    response = self._sickle.harvest(**params).http_response
                except requests.HTTPError as exc:  # sickle's answer to an error status
                    if exc.response is not None:
                        exc.response.close()  # its body is not read: give the connection back
                    raise
                try:
                    encoding = response.headers.get("Content-Encoding", "")
                    body = spool(_raw_chunks(response, deadline), encoding, limits.size)
                finally:
                    response.close()
            except TooLarge as exc:
                raise limits.too_large(exc.size) from None
            except UnreadableEncoding as exc:
                raise BadResponse(str(exc)) from exc
            except requests.RequestException as exc:
                if deadline.expired:
                    raise limits.too_slow() from exc
                raise
        if deadline.expired:  # cut while the body was read without a length: it only looks whole
            body.close()
            raise limits.too_slow()
        try:
            _check_complete(body)
        except BaseException:
            body.close()
            raise
        return body

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


def _raw_chunks(response: requests.Response, deadline: Deadline) -> Iterator[bytes]:
    """The body as sent (still compressed), with urllib3's failures told as requests tells them."""
    try:
        for chunk in response.raw.stream(_RAW_CHUNK, decode_content=False):
            yield chunk
            if deadline.expired:  # a connection the deadline could not reach (a SOCKS proxy's)
                raise requests.exceptions.ConnectionError("the answer's time limit passed")
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.Timeout(exc) from exc
    except urllib3.exceptions.HTTPError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc


def _check_complete(body: BinaryIO) -> None:
    """Raise BadResponse unless the spooled answer ends with its closing ``</OAI-PMH>``; rewinds it."""
    size = body.tell()
    body.seek(max(0, size - _TAIL))
    tail = body.read()
    body.seek(0)
    if _END_OF_DOCUMENT.search(tail):
        return
    head = body.read(_TAIL)
    body.seek(0)
    if b"OAI-PMH" in head:
        raise BadResponse(f"the answer was cut off: {size:,} bytes without the closing </OAI-PMH>")
    preview = head[:60].decode("utf-8", "replace")
    raise BadResponse(f"response is not an OAI-PMH document; it starts with {preview!r}")


@dataclass(frozen=True, slots=True)
class _Limits:
    """The size and time one answer may take, and the failures that name them."""

    url: str
    verb: str | None
    size: int
    size_setting: str
    seconds: float

    def too_large(self, size: int) -> HarvestLimitExceeded:
        return HarvestLimitExceeded(
            f"{self.url} sent an answer to {self.verb} larger than {self.size_setting} ({self.size:,} "
            f"bytes once decompressed; {size:,} read when it was stopped); raise {self.size_setting} "
            "if this server's answers really are that large (what was stored is kept)"
        )

    def too_slow(self) -> HarvestLimitExceeded:
        return HarvestLimitExceeded(
            f"{self.url} did not send its whole answer to {self.verb} within harvest_page_time_limit "
            f"({self.seconds:g} s); raise harvest_page_time_limit if this server is really that slow "
            "(what was stored is kept, and the next harvest resumes from there)"
        )


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests error (its messages nest the urllib3 ones)."""
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return str(exc) or type(exc).__name__
