"""One OAI-PMH request → one parsed, checked response, with bounded retries on transport failures.

sickle sends the HTTP request; this module decides what is worth retrying. Transport failures (HTTP
errors, timeouts, refused connections, answers that are not OAI-PMH XML) are retried with exponential
backoff, then reported as :class:`~unicat.errors.HarvestError`. An OAI-PMH ``<error>`` is the server's
considered answer, so it is raised at once as :class:`~unicat.errors.OAIProtocolError`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import requests
from lxml import etree
from sickle import Sickle

from harvester.namespaces import oai
from unicat.errors import HarvestError, OAIProtocolError
from unicat.settings import Settings

logger = logging.getLogger(__name__)

# Strict on purpose (sickle's own parser recovers): a truncated page must be retried, not half-read.
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_blank_text=True)


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
        self._sleep = sleep

    def request(self, **params: str) -> etree._Element:
        """One verb with its arguments; raises OAIProtocolError or, after the retries, HarvestError."""
        last_problem = ""
        for attempt in range(self._attempts):
            if attempt:
                delay = self._backoff * 2 ** (attempt - 1)
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
            try:
                response = self._sickle.harvest(**params)
                root = parse_response(response.http_response.content)
            except requests.HTTPError as exc:
                last_problem = f"HTTP {exc.response.status_code if exc.response is not None else '?'}"
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


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests error (its messages nest the urllib3 ones)."""
    while exc.__context__ is not None and exc.__context__ is not exc:
        exc = exc.__context__
    return str(exc) or type(exc).__name__
