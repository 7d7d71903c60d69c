"""One error middleware: every failure becomes a helpful page (or JSON under ``/api``), never a bare 500.

Bad input is the user's to fix (400 with the parameter and what to do), a missing record is a 404,
a change the thing's state does not allow (or a limit of the settings) a 409 saying why, a change the
user may not make a 403,
an overloaded or unreachable engine, or an app already answering all the requests it takes, is a 503
the user can retry, a body that does not arrive in time a 408, and only a bug is a 500, with its
traceback in the log and nothing internal in the response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from search_app.i18n import N_, gettext
from search_app.ratelimit import RateLimited
from search_app.render import render
from search_app.request_limits import BodyReadTimeout, Overloaded
from unicat.errors import (
    BadParameter,
    Conflict,
    EngineUnavailable,
    ItemNotFound,
    LimitReached,
    NotAllowed,
    QueryTimeout,
)

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TITLES = {
    400: N_("This request could not be understood"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    405: N_("Method not allowed"),
    408: N_("The request took too long to arrive"),
    409: N_("This cannot be done now"),
    429: N_("Too many attempts"),
    500: N_("Something went wrong"),
    503: N_("The catalogue is busy"),
}
TIMEOUT_MESSAGE = N_("the search took too long, try a narrower query")
UNAVAILABLE_MESSAGE = N_("the catalogue's search engine is not available right now, try again in a minute")
INTERNAL_MESSAGE = N_("an unexpected error occurred; it has been logged and will be looked at")
NO_PAGE_MESSAGE = N_("there is no page at this address")

# Messages of the core's BadParameter that readers meet most, in English in unicat/ (which knows no
# language): marked here so that the catalogues hold them, and translated when the page is rendered.
# A message not listed (one with a value in it) is shown as the core wrote it.
COMMON_MESSAGES = (
    N_("give this parameter once"),
    N_("value too long"),
    N_("required"),
    N_("give an e-mail address"),
    N_("give the name to show beside your comments"),
    N_("a display name cannot hold control characters"),
    N_("write something: an empty comment cannot be posted"),
    N_("a tag needs at least one letter or digit"),
    N_("a tag cannot hold a comma"),
    N_("give at least one tag (several are separated by commas)"),
    N_("give the list a name"),
    N_("give your password"),
    N_("this is not your current password"),
    N_("the two passwords differ; type the same one twice"),
)


class RecordNotFound(LookupError):
    """No union record with that id, and no redirect from it."""

    def __init__(self, record_id: str) -> None:
        super().__init__(f"there is no record {record_id!r} in the catalogue")
        self.record_id = record_id


def is_api(request: web.Request) -> bool:
    """Whether the client asked a JSON endpoint (so expects JSON errors)."""
    return request.path == "/api" or request.path.startswith("/api/")


def error_response(request: web.Request, status: int, message: str, param: str | None = None) -> web.Response:
    """The error as JSON for the API, as a page for people."""
    if is_api(request):
        error: dict[str, object] = {"status": status, "message": message}
        if param is not None:
            error["param"] = param
        return web.json_response({"error": error}, status=status)
    context = {
        "status": status,
        "title": gettext(TITLES.get(status, N_("Error"))),
        # Translated by its English text, the message id (COMMON_MESSAGES).
        "message": gettext(message),
        "param": param,
        # Keep what the user typed in the search box so they can correct it.
        "q": request.query.get("q", "")[:1000],
        "harvest_page": request.path == "/librarians/harvests",
    }
    return render(request, "error.html", context, status=status)


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn exceptions into responses; see the module docstring for the mapping."""
    try:
        return await handler(request)
    except BadParameter as exc:
        return error_response(request, 400, exc.message, param=exc.param)
    except RecordNotFound as exc:
        return error_response(request, 404, str(exc))
    except RateLimited as exc:
        response = error_response(request, 429, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except ItemNotFound as exc:
        return error_response(request, 404, str(exc))
    except (Conflict, LimitReached) as exc:
        return error_response(request, 409, str(exc))
    except NotAllowed as exc:
        return error_response(request, 403, str(exc))
    except Overloaded as exc:
        response = error_response(request, 503, str(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except BodyReadTimeout as exc:
        response = error_response(request, 408, str(exc))
        response.force_close()  # the rest of the body may still be coming: not another request
        return response
    except QueryTimeout:
        return error_response(request, 503, TIMEOUT_MESSAGE)
    except EngineUnavailable as exc:
        log.warning("engine unavailable on %s %s: %s", request.method, request.path, exc)
        response = error_response(request, 503, UNAVAILABLE_MESSAGE)
        response.headers["Retry-After"] = "60"
        return response
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        message = exc.reason if exc.status != 404 else NO_PAGE_MESSAGE
        response = error_response(request, exc.status, message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        return error_response(request, 500, INTERNAL_MESSAGE)
