"""The one reader of JSON request bodies, so that every route that takes JSON refuses the same bad
bodies the same way: a 400 naming ``body``, with what was wrong and an example of what to send.

The body is parsed by orjson, which keeps to RFC 8259 strictly: it refuses invalid UTF-8, a lone
surrogate escape (``"\\ud800"``, which no store could encode), ``NaN`` and numbers out of range, and
nesting deeper than 1,024 levels (parsed recursively, a deeper body would exhaust the stack). A
string holding a NUL is refused too (:mod:`search_app.nul_guard`). A body over the app's
``client_max_size`` is refused before it is read (413).
"""

from __future__ import annotations

import orjson
from aiohttp import web

from search_app.nul_guard import refuse_nul
from unicat.errors import BadParameter


async def json_body(request: web.Request, example: str) -> object:
    """The request's body parsed as JSON; :class:`BadParameter` (400) if it is not JSON, saying
    why and showing ``example``, what the route expects."""
    raw = await request.read()
    try:
        sent: object = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadParameter("body", f"the body is not valid JSON ({exc.msg}); send {example}") from exc
    if b"\\u0000" in raw:  # the one way JSON writes a NUL (a raw one is refused by the parser)
        _refuse_nul_strings(sent)
    return sent


def _refuse_nul_strings(sent: object) -> None:
    """Refuse a NUL (``"\\u0000"``) in any string of ``sent``, names included (iteratively: a
    value may be 1,024 levels deep)."""
    waiting = [sent]
    while waiting:
        value = waiting.pop()
        if isinstance(value, str):
            refuse_nul("body", value)
        elif isinstance(value, list):
            waiting.extend(value)
        elif isinstance(value, dict):
            waiting.extend(value.keys())
            waiting.extend(value.values())
