"""The OpenAPI description of ``/sru`` (kept beside the endpoint; :mod:`search_app.openapi` lists it)."""

from __future__ import annotations

from typing import Any

from unicat.cql import MAX_QUERY_CHARS
from unicat.settings import Settings


def _param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "description": description, "schema": schema}


def _sru_parameters(settings: Settings) -> list[dict[str, Any]]:
    return [
        _param(
            "operation",
            "searchRetrieve or explain; SRU 2.0 may leave it out (searchRetrieve with a query, explain "
            "without). scan is not supported.",
            {"type": "string", "enum": ["searchRetrieve", "explain"]},
        ),
        _param("version", "1.2 or 2.0 (1.1 is answered as 1.2); default 2.0.", {"type": "string"}),
        _param(
            "query",
            "CQL: dc.title, dc.creator, dc.subject, dc.identifier, dc.date, dc.publisher, dc.language, "
            "dc.type, bath.*, cql.serverChoice, cql.allRecords, unicat.library…; and/or/not, "
            'parentheses, word*, sortBy. Example: dc.title all "pride prejudice" and dc.date < 1900',
            {"type": "string", "maxLength": MAX_QUERY_CHARS},
        ),
        _param("startRecord", "Position of the first record returned.", {"type": "integer", "minimum": 1}),
        _param(
            "maximumRecords",
            f"Records per response (more than {settings.max_page_size} are cut to it).",
            {"type": "integer", "minimum": 0, "default": settings.page_size},
        ),
        _param(
            "recordSchema",
            "marcxml (info:srw/schema/1/marcxml-v1.1, alias marc21), dc (info:srw/schema/1/dc-v1.1) "
            "or oai_dc.",
            {"type": "string", "default": "marcxml"},
        ),
        _param("recordPacking", "1.2: xml or string. 2.0: packed.", {"type": "string"}),
        _param("recordXMLEscaping", "2.0: xml or string.", {"type": "string", "enum": ["xml", "string"]}),
        _param("sortKeys", "1.2: one key, dc.title or dc.date (path,schema,ascending).", {"type": "string"}),
        _param(
            "facetLimit",
            "2.0: N, or N:index pairs (unicat.library, dc.type, dc.language, dc.date, dc.subject).",
            {"type": "string"},
        ),
        _param(
            "resultSetTTL", "Accepted and ignored: no result set is kept.", {"type": "integer", "minimum": 0}
        ),
    ]


def sru_path(settings: Settings) -> dict[str, Any]:
    """The path item of ``/sru``."""
    xml = {
        "application/sru+xml": {"schema": {"type": "string"}},
        "application/xml": {"schema": {"type": "string"}},
    }
    responses = {
        "200": {"description": "An SRU response (1.2: diagnostics too).", "content": xml},
        "400": {"description": "SRU 2.0: a fatal diagnostic the client can fix.", "content": xml},
        "503": {"description": "SRU 2.0: the engine is busy (diagnostic 2); retry.", "content": xml},
    }
    operation = {
        "summary": "SRU 1.2 / 2.0 searchRetrieve (CQL) and explain",
        "parameters": _sru_parameters(settings),
        "responses": responses,
    }
    return {
        "get": {"operationId": "sru", **operation},
        "post": {
            "operationId": "sruPost",
            "summary": operation["summary"],
            "requestBody": {
                "content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}},
            },
            "responses": responses,
        },
    }
