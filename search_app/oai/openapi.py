"""The OpenAPI description of ``/oai`` (kept beside the endpoint; :mod:`search_app.openapi` lists it)."""

from __future__ import annotations

from typing import Any

from search_app.oai.formats import FORMATS
from unicat.oai_protocol import VERBS

_ARGUMENTS: dict[str, tuple[str, dict[str, Any]]] = {
    "verb": ("The OAI-PMH 2.0 request.", {"type": "string", "enum": list(VERBS)}),
    "identifier": (
        "GetRecord, ListMetadataFormats: oai:REPOSITORY:UNION-ID (Identify's sampleIdentifier).",
        {"type": "string"},
    ),
    "metadataPrefix": ("GetRecord, ListIdentifiers, ListRecords.", {"type": "string", "enum": list(FORMATS)}),
    "from": (
        "ListIdentifiers, ListRecords: first datestamp, YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC).",
        {"type": "string"},
    ),
    "until": ("ListIdentifiers, ListRecords: last datestamp, same granularity as from.", {"type": "string"}),
    "set": (
        "ListIdentifiers, ListRecords: library, library:CODE, format or format:KIND.",
        {"type": "string"},
    ),
    "resumptionToken": (
        "The token of the previous page; exclusive (only verb beside it).",
        {"type": "string"},
    ),
}


def oai_path() -> dict[str, Any]:
    """The path item of ``/oai``: the same request as a query string (GET) or a form (POST)."""
    answer = {
        "200": {
            "description": "An OAI-PMH response; protocol errors are <error> elements with HTTP 200.",
            "content": {"text/xml": {"schema": {"type": "string"}}},
        }
    }
    parameters = [
        {"name": name, "in": "query", "description": text, "schema": schema, "required": name == "verb"}
        for name, (text, schema) in _ARGUMENTS.items()
    ]
    form = {
        "type": "object",
        "required": ["verb"],
        "properties": {name: {**schema, "description": text} for name, (text, schema) in _ARGUMENTS.items()},
    }
    return {
        "get": {
            "operationId": "oaiPmh",
            "summary": "OAI-PMH 2.0 data provider of the union records (oai_dc, marcxml with holdings)",
            "parameters": parameters,
            "responses": answer,
        },
        "post": {
            "operationId": "oaiPmhPost",
            "summary": "The same OAI-PMH request as a form",
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": form}}},
            "responses": answer,
        },
    }
