"""The OpenAPI 3.1 description of the HTTP interface, so API users can generate clients and check calls.

Parameter limits come from the settings, so the document always says what this server accepts.
"""

from __future__ import annotations

from typing import Any

from unicat.query import MAX_PAGE, MAX_QUERY_LENGTH, SORT_ORDERS
from unicat.settings import Settings

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _search_parameters(settings: Settings) -> list[dict[str, Any]]:
    def repeatable(name: str, what: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "query",
            "description": f"Only records {what}; repeat to accept several (OR).",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 100}},
            "style": "form",
            "explode": True,
        }

    return [
        {
            "name": "q",
            "in": "query",
            "description": (
                'Words, "phrases", field:word (title, author, subject, isbn, issn, publisher, series), '
                "word* for a prefix. Omit to list everything."
            ),
            "schema": {"type": "string", "maxLength": MAX_QUERY_LENGTH},
        },
        repeatable("library", "held by this library code"),
        repeatable("format", "of this format code (book, serial…)"),
        repeatable("language", "in this ISO 639-2 language code"),
        {
            "name": "year",
            "in": "query",
            "description": "A year (1995) or an inclusive range (1990-1999, -1800, 1950-).",
            "schema": {"type": "string", "pattern": r"^\s*(\d{1,4}|\d{0,4}\s*-\s*\d{0,4})\s*$"},
        },
        {
            "name": "sort",
            "in": "query",
            "schema": {"type": "string", "enum": list(SORT_ORDERS), "default": "relevance"},
        },
        {
            "name": "page",
            "in": "query",
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE, "default": 1},
        },
        {
            "name": "page_size",
            "in": "query",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_page_size,
                "default": settings.page_size,
            },
        },
        {
            "name": "facets",
            "in": "query",
            "description": "0 to skip facet counts (faster).",
            "schema": {"type": "string", "enum": ["0", "1", "true", "false"], "default": "1"},
        },
    ]


_ID_PARAMETER = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_BAD_REQUEST = _json(_ERROR, "A parameter is invalid; `error.param` names it.")
_UNAVAILABLE = _json(_ERROR, "The search took too long or the engine is unavailable; retry later.")
_MOVED = {"description": "The record was merged into another; `Location` gives its new address."}

_SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["status", "message"],
                "properties": {
                    "status": {"type": "integer"},
                    "param": {"type": "string"},
                    "message": {"type": "string"},
                },
            }
        },
    },
    "Holding": {
        "type": "object",
        "required": ["library", "library_name"],
        "properties": {
            name: {"type": "string"}
            for name in (
                "library",
                "library_name",
                "call_number",
                "branch",
                "location",
                "barcode",
                "item_type",
                "note",
            )
        },
    },
    "Hit": {
        "type": "object",
        "required": ["id", "title", "authors", "year", "format", "libraries", "holdings"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "authors": {"type": "array", "items": {"type": "string"}},
            "year": {"type": ["integer", "null"]},
            "format": {"type": "string"},
            "language": {"type": ["string", "null"]},
            "publisher": {"type": ["string", "null"]},
            "libraries": {"type": "array", "items": {"type": "string"}},
            "holdings": {"type": "array", "items": {"$ref": "#/components/schemas/Holding"}},
        },
    },
    "FacetValue": {
        "type": "object",
        "required": ["value", "label", "count"],
        "properties": {
            "value": {"type": "string"},
            "label": {"type": "string"},
            "count": {"type": "integer"},
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["total", "page", "page_size", "hits", "facets", "facets_timed_out", "took_ms"],
        "properties": {
            "total": {"type": "integer"},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "hits": {"type": "array", "items": {"$ref": "#/components/schemas/Hit"}},
            "facets": {
                "type": "object",
                "additionalProperties": {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/FacetValue"},
                },
            },
            "facets_timed_out": {"type": "array", "items": {"type": "string"}},
            "took_ms": {"type": "number"},
        },
    },
    "UnionRecord": {
        "type": "object",
        "description": "One edition with every library's holdings, its sources and merge rules.",
        "required": ["id", "title", "holdings", "sources", "merge"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "holdings": {"type": "array", "items": {"$ref": "#/components/schemas/Holding"}},
            "sources": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"source": {"type": "string"}, "local_id": {"type": "string"}},
                },
            },
            "merge": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"rule": {"type": "string"}, "key": {"type": "string"}},
                },
            },
        },
        "additionalProperties": True,
    },
}


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of the app."""
    search_parameters = _search_parameters(settings)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Unicat union catalogue",
            "version": "1",
            "description": "Search the union catalogue and see which libraries hold each edition.",
        },
        "paths": {
            "/api/search": {
                "get": {
                    "operationId": "searchRecords",
                    "summary": "Search union records, with facet counts",
                    "parameters": search_parameters,
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/SearchResult"}, "One page of hits."),
                        "400": _BAD_REQUEST,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/records/{id}": {
                "get": {
                    "operationId": "getRecord",
                    "summary": "One union record with its holdings, sources and merge rules",
                    "parameters": [_ID_PARAMETER],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/UnionRecord"}, "The record."),
                        "301": _MOVED,
                        "404": _json(_ERROR, "No such record."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "getOpenAPI",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "The OpenAPI document.")},
                }
            },
            "/healthz": {
                "get": {
                    "operationId": "health",
                    "summary": "Whether the search engine answers",
                    "responses": {
                        "200": _json({"type": "object"}, '{"status": "ok"}'),
                        "503": _json({"type": "object"}, '{"status": "unavailable", "message": …}'),
                    },
                }
            },
            "/": {
                "get": {"operationId": "home", "summary": "Home page", "responses": {"200": _html("Home")}}
            },
            "/search": {
                "get": {
                    "operationId": "searchPage",
                    "summary": "Results page (HTML)",
                    "parameters": search_parameters,
                    "responses": {"200": _html("Results"), "400": _html("A parameter is invalid.")},
                }
            },
            "/record/{id}": {
                "get": {
                    "operationId": "recordPage",
                    "summary": "Record page with holdings by library (HTML)",
                    "parameters": [_ID_PARAMETER],
                    "responses": {
                        "200": _html("The record."),
                        "301": _MOVED,
                        "404": _html("No such record."),
                    },
                }
            },
        },
        "components": {"schemas": _SCHEMAS},
    }
