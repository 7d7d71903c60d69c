"""U+0000 (NUL) in what a request carries: PostgreSQL cannot store it in text, nor compare with it,
so unchecked it was a 500 there while SQLite answered. Where a request comes in, both setups now
answer alike: an address holding one names nothing here (404: no record id, list or file has one);
a form field or a JSON string holding one is refused with a 400 naming it
(:mod:`search_app.form_body`, :mod:`search_app.json_body`): nothing a reader writes needs one.

Query parameters are left to the code that reads them: a search for a NUL is answered like any odd
search (the text analysis drops it, as tag filters' cleaning does), and OAI-PMH answers a
``badArgument``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from unicat.errors import BadParameter

NUL = "\x00"
MESSAGE = "holds a NUL character (U+0000), which no text here may hold: remove it"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refuse_nul(param: str, text: str) -> None:
    """:class:`BadParameter` (400) naming ``param`` if ``text`` holds a NUL."""
    if NUL in text:
        raise BadParameter(
            param[:100], "holds a NUL character (U+0000), which no text here may hold: remove it"
        )


@web.middleware
async def nul_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer 404 for a path holding a NUL (inside the error middleware, which makes it the usual
    page or JSON error)."""
    if NUL in request.path:
        raise web.HTTPNotFound()
    return await handler(request)
