"""One error middleware: every failure becomes a helpful page (or JSON under ``/api``), never a bare 500.

Bad input is the user's to fix (400 with the parameter and what to do), a missing record is a 404,
an overloaded or unreachable engine, or an app already answering all the requests it takes, is a 503
the user can retry, a body that does not arrive in time a 408, and only a bug is a 500, with its
traceback in the log and nothing internal in the response.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from search_app.ratelimit import RateLimited
from search_app.render import render
from search_app.request_limits import BodyReadTimeout, Overloaded
from unicat.errors import BadParameter, EngineUnavailable, ItemNotFound, QueryTimeout

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

TITLES = {
    400: "This request could not be understood",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    408: "The request took too long to arrive",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "The catalogue is busy",
}
TIMEOUT_MESSAGE = "the search took too long, try a narrower query"
UNAVAILABLE_MESSAGE = "the catalogue's search engine is not available right now, try again in a minute"
INTERNAL_MESSAGE = "an unexpected error occurred; it has been logged and will be looked at"


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
        "title": TITLES.get(status, "Error"),
        "message": message,
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
        message = exc.reason if exc.status != 404 else "there is no page at this address"
        response = error_response(request, exc.status, message)
        if "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error on %s %s", request.method, request.path_qs)
        return error_response(request, 500, INTERNAL_MESSAGE)
