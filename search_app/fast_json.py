"""JSON answers written by orjson: a search's page of hits is ~11 kB of JSON, which the standard
library's encoder writes in ~0.3 ms and orjson in ~0.02 ms, on every ``/api/search``.

The two encoders write the same JSON values; the bytes differ only in form (orjson writes no spaces
and UTF-8 rather than ``\\u`` escapes), which no JSON reader sees. What orjson refuses (a lone
surrogate in a string, which a decoded query can carry back in a search's notices; a key that is not
a string) goes to the standard library, so every body is still answered as before.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from aiohttp import web


def dumps(body: Any) -> bytes:
    """``body`` as JSON bytes: orjson's, or the standard library's where orjson refuses it."""
    try:
        return orjson.dumps(body)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(body).encode()


def json_response(body: Any, *, status: int = 200) -> web.Response:
    """``web.json_response(body)`` (the same status and content type), written by orjson."""
    return web.Response(body=dumps(body), status=status, content_type="application/json", charset="utf-8")
