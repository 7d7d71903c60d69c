"""The one reader of posted forms, so that a body that cannot be read as a form is the client's
error to fix (400 naming ``body``), never a 500: multipart without its boundary or broken inside,
or a charset that does not exist; a field holding a NUL is refused too (:mod:`search_app.nul_guard`).
Every route and the CSRF check read forms through it.
"""

from __future__ import annotations

from aiohttp import web
from multidict import MultiDictProxy

from search_app.nul_guard import refuse_nul
from unicat.errors import BadParameter

HOW_TO_SEND = (
    "send it as application/x-www-form-urlencoded, or as multipart/form-data with its boundary, in UTF-8"
)


async def posted_form(request: web.Request) -> MultiDictProxy[str | bytes | bytearray | web.FileField]:
    """The request's form (aiohttp keeps it: later reads get the same); :class:`BadParameter` (400)
    if the body cannot be read as one."""
    try:
        form = await request.post()
    except (ValueError, LookupError) as exc:  # (UnicodeDecodeError is a ValueError)
        raise BadParameter("body", f"the form could not be read ({exc}); {HOW_TO_SEND}") from exc
    for name, value in form.items():
        refuse_nul(name, name)
        if isinstance(value, str):
            refuse_nul(name, value)
    return form
