"""``GET /api/suggest``: titles, authors and subjects that start as the reader's text does.

The text is analysed as the records are (case, accents, elision folded): the words before the last
must be complete, the last may be the start of a word. Text that ends with a space asks for the next
word, so "emma " does not offer "Emmanuel". The index keeps the headings with each generation and
finds them by prefix (``UnionIndex.suggest``); the most used come first.
"""

from __future__ import annotations

import time

from aiohttp import web

from search_app.state import INDEX, SETTINGS, in_thread
from search_app.timing import add_engine_time
from unicat.analysis import analyze
from unicat.errors import BadParameter

DEFAULT_LIMIT = 8
# Longer text is no prefix anyone types; it would only make the index compare long keys.
MAX_TEXT_LENGTH = 200


def suggestion_prefix(text: str) -> str:
    """The analysed prefix for ``text``: its tokens, and a space after them when the last word is
    finished (the text ends with something that is not part of a word)."""
    analysed = analyze(text)
    if analysed and not text[-1].isalnum():
        return analysed + " "
    return analysed


def _limit(raw: str | None, most: int) -> int:
    if raw is None or raw == "":
        return min(DEFAULT_LIMIT, most)
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter("limit", f"must be a whole number, got {raw!r}") from None
    if not 1 <= value <= most:
        raise BadParameter("limit", f"must be between 1 and {most} (setting suggest_max_limit), got {value}")
    return value


async def api_suggest(request: web.Request) -> web.Response:
    """A JSON list of ``{"text", "kind", "count"}``, the most used first; 400 for bad parameters."""
    for name in ("q", "limit"):
        if len(request.query.getall(name, [])) > 1:
            raise BadParameter(name, "give it once")
    text = request.query.get("q")
    if text is None:
        raise BadParameter("q", "is required: the text typed so far")
    if len(text) > MAX_TEXT_LENGTH:
        raise BadParameter("q", f"must be at most {MAX_TEXT_LENGTH} characters")
    limit = _limit(request.query.get("limit"), request.app[SETTINGS].suggest_max_limit)
    prefix = suggestion_prefix(text)
    if not prefix:
        return web.json_response([])
    started = time.perf_counter()
    found = await in_thread(request.app, request.app[INDEX].suggest, prefix, limit)
    add_engine_time(request, started)
    body = [{"text": entry.text, "kind": entry.kind, "count": entry.count} for entry in found]
    response = web.json_response(body)
    # Readers typing the same letters get the same answer until a rebuild: a minute's caching is safe.
    response.headers["Cache-Control"] = "public, max-age=60"
    return response
