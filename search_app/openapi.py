"""The OpenAPI 3.1 description of the HTTP interface, so API users can generate clients and check calls.

The document is data, ``search_app/openapi.yaml``, read once. Two of its values depend on the server's
settings (the page sizes it accepts); they are filled in here so the document always says what this
server accepts. So are those the field registry (:mod:`unicat.fields`) decides, so that a field added
there is documented without writing it twice: the search's filter parameters (one per filter, after
``q``), the names of the facets a search answers, the union record's fields the YAML does not describe
itself, the values of coded fields, and the indexes SRU answers facets under.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml

from search_app.sru.request import FACET_NAMES
from unicat.fields import FACETS, RECORD_FIELDS, JsonType
from unicat.query import EXCLUDE_PREFIX, FACET_FIELDS
from unicat.settings import Settings

DOCUMENT_FILE = Path(__file__).resolve().parent / "openapi.yaml"
JSON_SCHEMAS: dict[JsonType, dict[str, Any]] = {
    "string": {"type": "string"},
    "string?": {"type": ["string", "null"]},
    "integer?": {"type": ["integer", "null"]},
    "strings": {"type": "array", "items": {"type": "string"}},
    "objects": {"type": "array", "items": {"type": "object"}},
    "object": {"type": "object", "additionalProperties": {"type": "string"}},
}
"""The JSON Schema of each kind of record field's value."""
FILTER_SCHEMA: dict[str, Any] = {"type": "array", "items": {"type": "string", "maxLength": 100}}


@functools.cache
def _written_document() -> dict[str, Any]:
    """The document as written in the package, parsed on first use; callers fill a copy of it."""
    document = yaml.safe_load(DOCUMENT_FILE.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{DOCUMENT_FILE} is not an OpenAPI document: reinstall Unicat")
    return document


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of the app, with this server's page sizes."""
    document = copy.deepcopy(_written_document())
    parameters = document["components"]["parameters"]
    page_size = parameters["search.page_size"]["schema"]
    page_size["maximum"] = settings.max_page_size
    page_size["default"] = settings.page_size
    records = parameters["sru.maximumRecords"]
    records["description"] = records["description"].format(max_page_size=settings.max_page_size)
    records["schema"]["default"] = settings.page_size
    _add_registry_fields(document)
    return document


def _add_registry_fields(document: dict[str, Any]) -> None:
    """Fill in what the field registry decides (see the module docstring)."""
    _add_filters(document)
    schemas = document["components"]["schemas"]
    schemas["SearchResult"]["properties"]["facets"]["propertyNames"] = {"enum": list(FACET_FIELDS)}
    document["components"]["parameters"]["search.facet_more"]["schema"]["items"]["enum"] = list(FACET_FIELDS)
    described = schemas["UnionRecord"]["properties"]
    for field in RECORD_FIELDS:
        if field.name not in described:
            schema = copy.deepcopy(JSON_SCHEMAS[field.json])
            if field.description:
                schema["description"] = field.description
            if field.vocabulary:
                schema["items"]["enum"] = list(field.vocabulary)
            described[field.name] = schema
    for parameter in document["paths"]["/sru"]["get"]["parameters"]:
        if parameter.get("name") == "facetLimit":
            indexes = ", ".join(FACET_NAMES.values())
            parameter["description"] = parameter["description"].format(facet_indexes=indexes)


def _add_filters(document: dict[str, Any]) -> None:
    """A parameter per filter, listed after ``q`` wherever ``q`` is."""
    filters = [facet for facet in FACETS if facet.filter == "values"]
    for facet in filters:
        schema = copy.deepcopy(FILTER_SCHEMA)
        vocabulary = facet.values
        if vocabulary:
            schema["items"]["enum"] = list(vocabulary)
        document["components"]["parameters"][f"search.{facet.name}"] = {
            "name": facet.name,
            "in": "query",
            "description": facet.description,
            "schema": schema,
            "style": "form",
            "explode": True,
        }
        excluded = f"{EXCLUDE_PREFIX}{facet.name}"
        document["components"]["parameters"][f"search.{excluded}"] = {
            "name": excluded,
            "in": "query",
            "description": f"Leave out the records with this value of {facet.name}; repeatable.",
            "schema": copy.deepcopy(schema),
            "style": "form",
            "explode": True,
        }
    query = {"$ref": "#/components/parameters/search.q"}
    references = [
        {"$ref": f"#/components/parameters/search.{prefix}{facet.name}"}
        for facet in filters
        for prefix in ("", EXCLUDE_PREFIX)
    ]
    for item in document["paths"].values():
        for operation in item.values():
            listed = operation.get("parameters", []) if isinstance(operation, dict) else []
            if query in listed:
                at = listed.index(query) + 1
                listed[at:at] = copy.deepcopy(references)


@functools.lru_cache(maxsize=8)
def openapi_json(settings: Settings) -> bytes:
    """:func:`openapi_document` as served, encoded once per settings (a server has one)."""
    return json.dumps(openapi_document(settings), ensure_ascii=False).encode()
