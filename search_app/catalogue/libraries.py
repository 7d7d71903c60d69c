"""The public library directory: ``/libraries`` (every library of the network), ``/libraries/{code}``
(one library's address, hours, contact, map and what it holds) and their JSON, ``/api/libraries`` and
``/api/libraries/{code}``.

What a library holds is counted with the search's ``held_at`` filter: the records with a copy the
directory places at that library (:attr:`unicat.model.Holding.site`), so a library that shares its
source with others (the branches of one network) counts its own copies, not the whole source's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from search_app.catalogue.fetch import count_search
from search_app.i18n import N_, current_language
from search_app.render import render
from search_app.state import CATALOGUE, in_thread
from unicat.catalogue import Catalogue
from unicat.errors import ItemNotFound
from unicat.libraries import WEEKDAYS, Library, LibraryDirectory
from unicat.query import SearchQuery

WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        (N_("Monday"), N_("Tuesday"), N_("Wednesday"), N_("Thursday"), N_("Friday"), N_("Saturday"),
         N_("Sunday")),
        strict=True,
    )
)  # fmt: skip
MAP_ZOOM = 17


@dataclass(frozen=True, slots=True)
class Holdings:
    """What a library holds: the ``titles`` with a copy kept at library ``code``, harvested from its
    ``source`` (which ``shared_with`` other libraries of the directory share)."""

    code: str
    source: str
    titles: int
    shared_with: int

    @property
    def search_url(self) -> str:
        return "/search?" + urlencode({"held_at": self.code})

    def to_json(self) -> dict[str, Any]:
        return {
            "library": self.code,
            "source": self.source,
            "titles": self.titles,
            "shared_with": self.shared_with,
            "search": self.search_url,
        }


def map_url(library: Library) -> str | None:
    """The library's place on OpenStreetMap (a marker at its coordinates), ``None`` without them."""
    if library.latitude is None or library.longitude is None:
        return None
    lat, lon = f"{library.latitude:.5f}", f"{library.longitude:.5f}"
    return (
        f"https://www.openstreetmap.org/?{urlencode({'mlat': lat, 'mlon': lon})}#map={MAP_ZOOM}/{lat}/{lon}"
    )


def library_json(library: Library, holdings: Holdings | None = None) -> dict[str, Any]:
    """A library as the JSON API gives it: every stored field, its page and its map."""
    data = library.to_json()
    data["url"] = f"/libraries/{library.code}"
    data["map"] = map_url(library)
    if holdings is not None:
        data["holdings"] = holdings.to_json()
    return data


def _holdings(catalogue: Catalogue, library: Library) -> Holdings | None:
    if library.source is None:
        return None
    others = [item for item in catalogue.libraries.list_libraries() if item.source == library.source]
    query = SearchQuery(filters={"held_at": (library.code,)}, facets=False, page_size=1)
    return Holdings(library.code, library.source, count_search(catalogue, query), len(others) - 1)


def find_library(catalogue: Catalogue, code: str) -> Library:
    """The directory's library ``code``; :class:`ItemNotFound` (a 404) for a code it does not list."""
    library = catalogue.libraries.get_library(code)
    if library is None:
        raise ItemNotFound(f"library {code[:40]!r} in the directory")
    return library


def _find(catalogue: Catalogue, code: str) -> tuple[Library, Holdings | None]:
    library = find_library(catalogue, code)
    return library, _holdings(catalogue, library)


def _sorted(directory: LibraryDirectory, language: str) -> list[Library]:
    return sorted(directory, key=lambda library: library.name_in(language).casefold())


async def libraries_page(request: web.Request) -> web.Response:
    """``GET /libraries``: every library, by its name in the reader's language."""
    catalogue = request.app[CATALOGUE]
    directory = await in_thread(request.app, catalogue.libraries.directory)
    context = {"q": "", "libraries": _sorted(directory, current_language())}
    return render(request, "libraries.html", context)


async def library_page(request: web.Request) -> web.Response:
    """``GET /libraries/{code}``: one library; 404 for a code the directory does not list."""
    library, holdings = await in_thread(
        request.app, _find, request.app[CATALOGUE], request.match_info["code"]
    )
    context = {
        "q": "",
        "library": library,
        "holdings": holdings,
        "map_url": map_url(library),
        "weekday_names": WEEKDAY_NAMES,
    }
    return render(request, "library.html", context)


async def api_libraries(request: web.Request) -> web.Response:
    """``GET /api/libraries``: every library of the directory, by code."""
    libraries = await in_thread(request.app, request.app[CATALOGUE].libraries.list_libraries)
    return web.json_response({"libraries": [library_json(library) for library in libraries]})


async def api_library(request: web.Request) -> web.Response:
    """``GET /api/libraries/{code}``: one library, with what it holds; 404 for an unknown code."""
    library, holdings = await in_thread(
        request.app, _find, request.app[CATALOGUE], request.match_info["code"]
    )
    return web.json_response(library_json(library, holdings))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/libraries", libraries_page, name="libraries")
    app.router.add_get("/libraries/{code}", library_page, name="library")
    app.router.add_get("/api/libraries", api_libraries, name="api_libraries")
    app.router.add_get("/api/libraries/{code}", api_library, name="api_library")
