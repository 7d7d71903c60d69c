"""The OpenAPI 3.1 description of the HTTP interface, so API users can generate clients and check calls.

Parameter limits come from the settings, so the document always says what this server accepts.
"""

from __future__ import annotations

from typing import Any

from search_app.account_openapi import ACCOUNT_SCHEMA, SECURITY_SCHEMES, SIGNED_IN, account_paths
from search_app.lists_openapi import lists_paths
from search_app.oai.openapi import oai_path
from search_app.readers_openapi import COMMENT_SCHEMA, reader_paths
from search_app.sru_openapi import sru_path
from unicat.model import QUARANTINE_STAGES
from unicat.quarantine import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE
from unicat.quarantine import MAX_PAGE as MAX_QUARANTINE_PAGE
from unicat.query import MAX_PAGE, MAX_QUERY_LENGTH, SORT_ORDERS
from unicat.settings import Settings
from unicat.status import DEFAULT_HISTORY, HEALTH_LABELS, MAX_HISTORY

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
        repeatable("subject", "with this main subject heading"),
        {
            "name": "tag",
            "in": "query",
            "description": "Only records readers gave this tag; repeat to require several (AND).",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 40}},
            "style": "form",
            "explode": True,
        },
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
_STATUS_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "source",
        "in": "query",
        "description": "Only this source (code); repeat for several. Omit for every source.",
        "schema": {"type": "array", "items": {"type": "string", "maxLength": 32}, "maxItems": 100},
        "style": "form",
        "explode": True,
    },
    {
        "name": "runs",
        "in": "query",
        "description": "How many of each source's latest runs the history holds.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_HISTORY, "default": DEFAULT_HISTORY},
    },
]
_QUARANTINE_PARAMETERS: list[dict[str, Any]] = [
    {
        "name": "source",
        "in": "query",
        "description": "Only this source's records (code).",
        "schema": {"type": "string", "maxLength": 32},
    },
    {
        "name": "stage",
        "in": "query",
        "description": "Only the records quarantined at this stage.",
        "schema": {"type": "string", "enum": list(QUARANTINE_STAGES)},
    },
    {
        "name": "page",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_QUARANTINE_PAGE, "default": 1},
    },
    {
        "name": "page_size",
        "in": "query",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE, "default": DEFAULT_PAGE_SIZE},
    },
]
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
                "branch_name",
                "depositary",
                "depositary_name",
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
            "rating": {
                "description": "Readers' ratings of the record (and of those merged into it), or null.",
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "object",
                        "required": ["count", "average"],
                        "properties": {"count": {"type": "integer"}, "average": {"type": "number"}},
                    },
                ],
            },
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
    "HarvestRun": {
        "type": "object",
        "description": "A run as the engine stores it; times are ISO 8601 UTC to the second.",
        "required": ["id", "source", "started", "status", "mode"],
        "properties": {
            "id": {"type": "integer"},
            "source": {"type": "string"},
            "started": {"type": "string"},
            "finished": {"type": ["string", "null"]},
            "status": {"type": "string", "enum": ["running", "ok", "failed"]},
            "mode": {"type": "string", "enum": ["incremental", "full", "import"]},
            "from": {"type": ["string", "null"]},
            "until": {"type": ["string", "null"]},
            "resumption_token": {"type": ["string", "null"]},
            "pages": {"type": "integer"},
            "records": {"type": "integer"},
            "deleted": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "error": {"type": ["string", "null"]},
            "server_time": {"type": ["string", "null"]},
        },
        "additionalProperties": True,
    },
    "RunSummary": {
        "type": "object",
        "description": "A run of a source's history, with its duration and throughput (null while it "
        "runs, or when it took under a second).",
        "required": ["id", "mode", "status", "started", "seconds", "records", "records_per_second"],
        "properties": {
            "id": {"type": "integer"},
            "mode": {"type": "string"},
            "status": {"type": "string"},
            "started": {"type": "string"},
            "finished": {"type": ["string", "null"]},
            "seconds": {"type": ["integer", "null"]},
            "records": {"type": "integer"},
            "deleted": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "pages": {"type": "integer"},
            "records_per_second": {"type": ["number", "null"]},
            "error": {"type": ["string", "null"]},
        },
    },
    "SourceStatus": {
        "type": "object",
        "required": ["code", "name", "kind", "live", "deleted", "quarantined", "health", "history"],
        "properties": {
            "code": {"type": "string"},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["oai-pmh", "file"]},
            "profile": {"type": "string"},
            "oai_url": {"type": ["string", "null"]},
            "live": {"type": "integer"},
            "deleted": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "last_run": {"oneOf": [{"$ref": "#/components/schemas/HarvestRun"}, {"type": "null"}]},
            "last_success": {"oneOf": [{"$ref": "#/components/schemas/HarvestRun"}, {"type": "null"}]},
            "health": {"type": "string", "enum": list(HEALTH_LABELS)},
            "last_error": {
                "description": "The latest failed run after the last success.",
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "run": {"type": "integer"},
                            "at": {"type": "string"},
                            "message": {"type": ["string", "null"]},
                        },
                    },
                    {"type": "null"},
                ],
            },
            "throughput": {
                "type": ["number", "null"],
                "description": "Records per second of the last successful run.",
            },
            "harvest_interval": {"type": ["number", "null"], "description": "Seconds between harvests."},
            "next_due": {"type": ["string", "null"]},
            "history": {"type": "array", "items": {"$ref": "#/components/schemas/RunSummary"}},
            "quarantined_by_stage": {
                "type": "object",
                "description": "Quarantined records per stage; stages without any are left out.",
                "properties": {stage: {"type": "integer"} for stage in QUARANTINE_STAGES},
            },
        },
    },
    "QuarantinePage": {
        "type": "object",
        "description": "A page of quarantined records, newest first, as `unicat quarantine list --json` "
        "prints it; `total` counts the records the filter matches, `counts` every source and stage.",
        "required": ["page", "page_size", "total", "counts", "entries"],
        "properties": {
            "source": {"type": ["string", "null"]},
            "stage": {"type": ["string", "null"]},
            "page": {"type": "integer"},
            "page_size": {"type": "integer"},
            "total": {"type": "integer"},
            "counts": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "source": {"type": "string"},
                        "stage": {"type": "string"},
                        "count": {"type": "integer"},
                    },
                },
            },
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/Quarantined"}},
        },
    },
    "Quarantined": {
        "type": "object",
        "properties": {
            "source": {"type": "string"},
            "local_id": {"type": ["string", "null"]},
            "stage": {"type": "string", "enum": ["harvest", "import", "index"]},
            "reason": {"type": "string"},
            "bytes": {"type": "integer"},
            "created": {"type": ["string", "null"]},
        },
    },
    "Status": {
        "type": "object",
        "description": "The catalogue's health, as `unicat status --json` prints it.",
        "required": ["engine", "generated", "union_records", "quarantined", "sources", "recent_quarantine"],
        "properties": {
            "engine": {"type": "string"},
            "generated": {"type": "string"},
            "union_records": {"type": "integer"},
            "quarantined": {"type": "integer"},
            "history_limit": {"type": "integer"},
            "sources": {"type": "array", "items": {"$ref": "#/components/schemas/SourceStatus"}},
            "recent_quarantine": {"type": "array", "items": {"$ref": "#/components/schemas/Quarantined"}},
        },
    },
    "UnionRecord": {
        "type": "object",
        "description": "One edition with every library's holdings, its sources and merge rules.",
        "required": ["id", "title", "holdings", "sources", "merge"],
        "properties": {
            "id": {"type": "string"},
            "title": {"type": "string"},
            "other_titles": {"type": "array", "items": {"type": "string"}},
            "contributors": {
                "type": "array",
                "description": "The names of the author and contributor fields with their role in words "
                "(null when the record gives none); `authors` keeps the names alone.",
                "items": {
                    "type": "object",
                    "required": ["name", "role"],
                    "properties": {"name": {"type": "string"}, "role": {"type": ["string", "null"]}},
                },
            },
            "format_detail": {
                "type": ["string", "null"],
                "description": "What the coded data adds to `format`: large print, braille, online, "
                "electronic, microform.",
            },
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
            "work": {"type": ["string", "null"]},
            "editions": {"type": "array", "items": {"type": "string"}},
        },
        "additionalProperties": True,
    },
    "SourceRef": {
        "type": "object",
        "required": ["source", "local_id"],
        "properties": {"source": {"type": "string"}, "local_id": {"type": "string"}},
    },
    "MergeDecision": {
        "type": "object",
        "required": ["id", "kind", "first", "second", "reason", "by", "at"],
        "properties": {
            "id": {"type": "integer"},
            "kind": {"enum": ["split", "force"]},
            "first": {"$ref": "#/components/schemas/SourceRef"},
            "second": {"$ref": "#/components/schemas/SourceRef"},
            "reason": {"type": "string"},
            "by": {"type": "string"},
            "at": {"type": "string"},
        },
    },
    "MergeExplanation": {
        "type": "object",
        "required": ["id", "members", "rules", "decisions"],
        "properties": {
            "id": {"type": "string"},
            "members": {"type": "array", "items": {"$ref": "#/components/schemas/SourceRef"}},
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {n: {"type": "string"} for n in ("rule", "key", "label")},
                },
            },
            "decisions": {"type": "array", "items": {"$ref": "#/components/schemas/MergeDecision"}},
        },
    },
    "LibraryOverlap": {
        "type": "object",
        "description": "Union records (titles) each library holds, those no other library holds, and "
        "those each pair of libraries both hold, over the whole catalogue.",
        "required": ["records", "libraries"],
        "properties": {
            "records": {"type": "integer", "description": "Union records in the catalogue."},
            "libraries": {
                "type": "array",
                "description": "Every library holding at least one record, by code.",
                "items": {
                    "type": "object",
                    "required": ["code", "name", "records", "unique", "shared"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "records": {"type": "integer", "description": "Records the library holds."},
                        "unique": {"type": "integer", "description": "Records no other library holds."},
                        "shared": {
                            "type": "object",
                            "description": "Other library's code → records both hold (none: left out).",
                            "additionalProperties": {"type": "integer"},
                        },
                    },
                },
            },
        },
    },
}

_DECISION_FORM = {
    "required": True,
    "content": {
        "application/x-www-form-urlencoded": {
            "schema": {
                "type": "object",
                "required": ["action"],
                "properties": {
                    "action": {"enum": ["split", "force", "undo"]},
                    "record": {"type": "string", "description": "the union record (split, force)"},
                    "member": {"type": "string", "description": "SOURCE:LOCAL_ID to keep apart (split)"},
                    "other": {"type": "string", "description": "the union record to merge with (force)"},
                    "decision": {"type": "integer", "description": "the decision to forget (undo)"},
                    "reason": {"type": "string", "maxLength": 500},
                    "by": {"type": "string"},
                    "apply": {"enum": ["1"], "description": "re-index in the background at once"},
                },
            }
        }
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
            "/api/status": {
                "get": {
                    "operationId": "getStatus",
                    "summary": "Each source's health, counts, last success and error, and latest runs",
                    "parameters": _STATUS_PARAMETERS,
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Status"}, "The status."),
                        "400": _BAD_REQUEST,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/quarantine": {
                "get": {
                    "operationId": "listQuarantine",
                    "summary": "Quarantined records, newest first, paged, with counts per source and stage",
                    "parameters": _QUARANTINE_PARAMETERS,
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/QuarantinePage"}, "A page."),
                        "400": _BAD_REQUEST,
                        "503": _UNAVAILABLE,
                    },
                }
            },
            "/api/records/{id}/merge": {
                "get": {
                    "operationId": "getRecordMerge",
                    "summary": "Why a union record holds its members: rules, keys and librarians' decisions",
                    "parameters": [_ID_PARAMETER],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/MergeExplanation"}, "The explanation."),
                        "301": _MOVED,
                        "404": _json(_ERROR, "No such record."),
                    },
                }
            },
            "/api/merges": {
                "get": {
                    "operationId": "listMergeDecisions",
                    "summary": "Every librarians' merge decision, oldest first",
                    "responses": {
                        "200": _json(
                            {"type": "array", "items": {"$ref": "#/components/schemas/MergeDecision"}},
                            "The decisions.",
                        )
                    },
                }
            },
            "/api/overlap": {
                "get": {
                    "operationId": "getLibraryOverlap",
                    "summary": "Records each library holds, holds alone, and shares with each other library",
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/LibraryOverlap"}, "The overlap."),
                        "503": _UNAVAILABLE,
                    },
                }
            },
            **account_paths(),
            **lists_paths(),
            **reader_paths(),
            "/sru": sru_path(settings),
            "/oai": oai_path(),
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
            "/librarians/harvests": {
                "get": {
                    "operationId": "harvestsPage",
                    "summary": "Librarians' page: harvest health, history and quarantine (HTML)",
                    "parameters": _STATUS_PARAMETERS,
                    "responses": {"200": _html("The page."), "400": _html("A parameter is invalid.")},
                }
            },
            "/librarians/quarantine": {
                "get": {
                    "operationId": "quarantinePage",
                    "summary": "Librarians' page: the quarantined records, paged (HTML)",
                    "parameters": _QUARANTINE_PARAMETERS,
                    "responses": {"200": _html("The page."), "400": _html("A parameter is invalid.")},
                }
            },
            "/librarians/merges": {
                "get": {
                    "operationId": "mergesPage",
                    "summary": "Librarians' page: every merge decision, with undo (HTML)",
                    "responses": {"200": _html("The page.")},
                },
                "post": {
                    "operationId": "decideMerge",
                    "security": SIGNED_IN,
                    "summary": "Split a member off a union record, force a merge, or undo a decision",
                    "requestBody": _DECISION_FORM,
                    "responses": {
                        "303": {"description": "Done: `Location` is the page to go back to."},
                        "400": _html("A field is invalid; the message names it."),
                        "403": _html("No CSRF token, or the account is not a librarian's."),
                    },
                },
            },
            "/librarians/merges/{id}": {
                "get": {
                    "operationId": "recordMergePage",
                    "summary": "Librarians' page: why a record was merged, with split and force forms (HTML)",
                    "parameters": [_ID_PARAMETER],
                    "responses": {"200": _html("The page."), "301": _MOVED, "404": _html("No such record.")},
                }
            },
            "/librarians/overlap": {
                "get": {
                    "operationId": "overlapPage",
                    "summary": "Librarians' page: holdings overlap between libraries and their pairs (HTML)",
                    "responses": {"200": _html("The page.")},
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
        "components": {
            "schemas": {**_SCHEMAS, "Account": ACCOUNT_SCHEMA, "Comment": COMMENT_SCHEMA},
            "securitySchemes": SECURITY_SCHEMES,
        },
    }
