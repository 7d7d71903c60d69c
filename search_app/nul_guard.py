"""No text the app takes in may hold U+0000 (NUL): PostgreSQL cannot store it in text (and refuses
to compare with it), and no record id, search, name or comment has a use for it. Refusing it where a
request comes in, as a 400 naming the parameter, makes both storage setups answer alike, and
spares every store the check: the path and query here, forms in :mod:`search_app.form_body`, JSON
in :mod:`search_app.json_body`.

``/oai`` and ``/sru`` are left to their protocol's own errors (an OAI-PMH ``badArgument``, an SRU
diagnostic), which their handlers give for a NUL as for any other bad argument.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from unicat.errors import BadParameter

NUL = "\x00"
MESSAGE = "holds a NUL character (U+0000), which no text here may hold: remove it"
PROTOCOL_PATHS = ("/oai", "/sru")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refuse_nul(param: str, text: str) -> None:
    """:class:`BadParameter` (400) naming ``param`` if ``text`` holds a NUL."""
    if NUL in text:
        raise BadParameter(
            param[:100], "holds a NUL character (U+0000), which no text here may hold: remove it"
        )


@web.middleware
async def nul_guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse a NUL in the request's path or in its query's names and values (inside the error
    middleware, which turns the refusal into a 400 page or JSON error)."""
    if request.path not in PROTOCOL_PATHS:
        refuse_nul("path", request.path)
        for name, value in request.query.items():
            refuse_nul(name, name)
            refuse_nul(name, value)
    return await handler(request)
