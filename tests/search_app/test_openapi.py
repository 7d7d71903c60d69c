"""The OpenAPI document (search_app/openapi.yaml, served by search_app/openapi.py): it describes exactly
the routes the app serves, is valid OpenAPI 3.1, states the limits and enums the code enforces, and
carries the page sizes of the server's settings."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from aiohttp import web
from openapi_spec_validator import validate

from search_app.app import make_app
from search_app.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE
from search_app.catalogue.fetch import MAX_ID_LENGTH
from search_app.catalogue.live import LIVE_PARAMETERS
from search_app.librarians.harvests import MAX_SOURCES
from search_app.librarians.requests import SIDES
from search_app.oai.arguments import VERBS
from search_app.oai.formats import FORMATS
from search_app.openapi import DOCUMENT_FILE, openapi_document
from search_app.readers.citations import BIBTEX_MEDIA_TYPE, EXPORT_KINDS, MARCXML_MEDIA_TYPE, RIS_MEDIA_TYPE
from search_app.sru.cql import MAX_QUERY_CHARS
from tests.search_app.search_app_catalogue import ClientFactory, catalogue_settings
from unicat import quarantine, readers, shuttle
from unicat.accounts import MAX_DISPLAY_NAME, MAX_PASSWORD, MIN_PASSWORD
from unicat.catalogue import Catalogue
from unicat.model import QUARANTINE_STAGES
from unicat.query import (
    EXCLUDE_PARAMS,
    FACET_MORE,
    FILTER_FIELDS,
    MAX_PAGE,
    MAX_QUERY_LENGTH,
    SEARCH_PARAMETERS,
    SORT_ORDERS,
)
from unicat.settings import SUPPORTED_LANGUAGES, Settings
from unicat.status import DEFAULT_HISTORY, HEALTH_LABELS, MAX_HISTORY

# The keys of an OpenAPI path item that are operations (the others, such as `parameters`, are not).
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """``node``, or the part of ``document`` its ``$ref`` (a local JSON pointer) points to."""
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def references(node: Any) -> Iterator[str]:
    """Every ``$ref`` in ``node``, depth first."""
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from references(value)
    elif isinstance(node, list):
        for value in node:
            yield from references(value)


def parameter(document: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    """The parameter ``name`` of an operation, its reference resolved."""
    parameters = [resolve(document, p) for p in document["paths"][path][method]["parameters"]]
    (found,) = [p for p in parameters if p["name"] == name]
    return found


def form(document: dict[str, Any], path: str, method: str = "post") -> dict[str, Any]:
    """The schema of an operation's form body, its reference resolved."""
    body = document["paths"][path][method]["requestBody"]["content"]["application/x-www-form-urlencoded"]
    return resolve(document, body["schema"])


def routed_operations(app: web.Application) -> set[tuple[str, str]]:
    """(path template, method) of every route of ``app`` that the document describes.

    Two kinds of route are left out, and neither is described by the document:
    - the static files under /static/ (stylesheets, scripts, icons): files the pages link to, not
      operations of the interface;
    - the HEAD route aiohttp adds beside every GET (``add_get``'s ``allow_head``): HEAD answers as its
      GET without the body (RFC 9110, 9.3.2), so documenting the GET documents it.
    A resource's canonical form is its pattern without the regular expressions that constrain its
    variables (``/lists/{id:\\d+}`` gives ``/lists/{id}``), which is the OpenAPI path template.
    """
    operations = set()
    for resource in app.router.resources():
        if isinstance(resource, web.StaticResource):
            continue
        methods = {route.method for route in resource}
        for method in methods:
            if method == "HEAD" and "GET" in methods:
                continue
            operations.add((resource.canonical, method.lower()))
    return operations


def test_the_document_describes_every_route_and_nothing_else(
    catalogue: Catalogue, settings: Settings
) -> None:
    """The document covers the whole HTTP interface: the JSON API, /sru, /oai, /healthz, and the HTML
    pages and forms readers and librarians use (/, /search, /record/{id}, /signin, /librarians/…). So
    every route is compared, both ways, method by method: a route nobody documented fails, and so does
    a documented operation no route serves."""
    routed = routed_operations(make_app(catalogue, settings))
    document = openapi_document(settings)
    paths = document["paths"]
    documented = {(path, method) for path, item in paths.items() for method in item if method in HTTP_METHODS}
    assert routed == documented, (
        f"routes the document lacks: {sorted(routed - documented)}; "
        f"documented operations no route serves: {sorted(documented - routed)}"
    )


def test_the_document_is_valid_openapi(settings: Settings) -> None:
    """Checked against the OpenAPI 3.1 schema, with every reference resolved, every path variable
    declared as a path parameter and every operationId unique; both as served and as written in the
    package (tools may read the file itself)."""
    served = openapi_document(settings)
    written = yaml.safe_load(DOCUMENT_FILE.read_text(encoding="utf-8"))
    for document in (served, written):
        assert document["openapi"].startswith("3.1")
        validate(document)


def test_every_component_is_used(settings: Settings) -> None:
    document = openapi_document(settings)
    referred = set(references(document))
    required_schemes = {
        scheme
        for item in document["paths"].values()
        for operation in item.values()
        for requirement in operation.get("security", [])
        for scheme in requirement
    }
    unused = []
    for kind, components in document["components"].items():
        for name in components:
            if kind == "securitySchemes":  # named by security requirements, not by $ref
                used = name in required_schemes
            else:
                pointer = f"#/components/{kind}/{name}"
                used = any(ref == pointer or ref.startswith(pointer + "/") for ref in referred)
            if not used:
                unused.append(f"{kind}/{name}")
    assert unused == []


async def test_the_page_sizes_are_the_servers_settings(
    catalogue: Catalogue, tmp_path: Path, aiohttp_client: ClientFactory
) -> None:
    settings = catalogue_settings(tmp_path, page_size=7, max_page_size=77)
    client = await aiohttp_client(make_app(catalogue, settings))
    response = await client.get("/api/openapi.json")
    assert response.status == 200
    document = await response.json()
    for path in ("/api/search", "/search"):
        schema = parameter(document, path, "get", "page_size")["schema"]
        assert (schema["maximum"], schema["default"]) == (77, 7)
    records = parameter(document, "/sru", "get", "maximumRecords")
    assert records["description"] == "Records per response (more than 77 are cut to it)."
    assert records["schema"]["default"] == 7
    # Filling one server's document leaves the written one as it was: another says its own sizes.
    defaults = Settings()
    schema = parameter(openapi_document(defaults), "/api/search", "get", "page_size")["schema"]
    assert (schema["maximum"], schema["default"]) == (defaults.max_page_size, defaults.page_size)


def test_the_search_parameters_are_the_searchs(settings: Settings) -> None:
    document = openapi_document(settings)
    for path in ("/api/search", "/search"):
        names = {resolve(document, p)["name"] for p in document["paths"][path]["get"]["parameters"]}
        assert names == {
            "q",
            *FILTER_FIELDS,
            *EXCLUDE_PARAMS,
            "tag",
            "editions_of",
            "year",
            "new_since",
            "new_at",
            "sort",
            "page",
            "page_size",
            "facets",
            FACET_MORE,
            "lang",
            *LIVE_PARAMETERS,
        }
        # What parse_search_params reads, and /api/search accepts (and live search's), with the language.
        assert names == {*SEARCH_PARAMETERS, *LIVE_PARAMETERS, "lang"}


def test_the_document_states_the_limits_and_enums_the_code_enforces(settings: Settings) -> None:
    """The document writes out what the code declares as constants; this is where they must agree."""
    document = openapi_document(settings)
    schemas = document["components"]["schemas"]

    def query(path: str, name: str) -> dict[str, Any]:
        schema: dict[str, Any] = parameter(document, path, "get", name)["schema"]
        return schema

    # Search
    assert query("/api/search", "q")["maxLength"] == MAX_QUERY_LENGTH
    assert query("/api/search", "sort")["enum"] == list(SORT_ORDERS)
    assert query("/api/search", "page")["maximum"] == MAX_PAGE
    assert query("/api/search", "tag")["items"]["maxLength"] == readers.MAX_TAG
    assert query("/api/search", "lang")["enum"] == list(SUPPORTED_LANGUAGES)
    # Harvest status and quarantine
    assert query("/api/status", "source")["maxItems"] == MAX_SOURCES
    runs = query("/api/status", "runs")
    assert (runs["maximum"], runs["default"]) == (MAX_HISTORY, DEFAULT_HISTORY)
    assert schemas["SourceStatus"]["properties"]["health"]["enum"] == list(HEALTH_LABELS)
    assert list(schemas["SourceStatus"]["properties"]["quarantined_by_stage"]["properties"]) == list(
        QUARANTINE_STAGES
    )
    assert schemas["Quarantined"]["properties"]["stage"]["enum"] == list(QUARANTINE_STAGES)
    assert query("/api/quarantine", "stage")["enum"] == list(QUARANTINE_STAGES)
    assert query("/api/quarantine", "page")["maximum"] == quarantine.MAX_PAGE
    page_size = query("/api/quarantine", "page_size")
    assert page_size["maximum"] == quarantine.MAX_PAGE_SIZE
    assert page_size["default"] == quarantine.DEFAULT_PAGE_SIZE
    # Accounts and their security
    schemes = document["components"]["securitySchemes"]
    assert (schemes["session"]["name"], schemes["csrf"]["name"]) == (SESSION_COOKIE, CSRF_HEADER)
    assert f"form field `{CSRF_FIELD}`" in schemes["csrf"]["description"]
    password = schemas["Password"]
    assert (password["minLength"], password["maxLength"]) == (MIN_PASSWORD, MAX_PASSWORD)
    for path in ("/register", "/account/name"):
        assert form(document, path)["properties"]["display_name"]["maxLength"] == MAX_DISPLAY_NAME
    # Reading lists
    assert schemas["ListForm"]["properties"]["name"]["maxLength"] == readers.MAX_LIST_NAME
    assert schemas["ListForm"]["properties"]["description"]["maxLength"] == readers.MAX_LIST_DESCRIPTION
    assert schemas["ListedRecord"]["maxLength"] == MAX_ID_LENGTH
    assert query("/lists/{id}/export", "format")["enum"] == list(EXPORT_KINDS)
    export = document["paths"]["/lists/{id}/export"]["get"]["responses"]["200"]["content"]
    assert set(export) == {RIS_MEDIA_TYPE, BIBTEX_MEDIA_TYPE.split(";")[0], MARCXML_MEDIA_TYPE}
    # Readers' contributions and moderation
    assert schemas["CommentBody"]["properties"]["body"]["maxLength"] == readers.MAX_COMMENT
    assert form(document, "/record/{id}/tags/remove")["properties"]["tag"]["maxLength"] == readers.MAX_TAG
    report = form(document, "/comments/{comment}/report")["properties"]
    assert report["reason"]["maxLength"] == readers.MAX_REASON
    moderation = form(document, "/librarians/moderation")["properties"]
    assert moderation["verb"]["enum"] == list(readers.MODERATION_VERBS)
    assert moderation["reason"]["maxLength"] == readers.MAX_REASON
    # Inter-library requests
    assert schemas["RequestState"]["enum"] == list(shuttle.STATES)
    assert schemas["RequestBody"]["properties"]["record"]["maxLength"] == MAX_ID_LENGTH
    assert schemas["RequestActionBody"]["properties"]["reason"]["maxLength"] == shuttle.MAX_REASON
    action = parameter(document, "/api/requests/{id}/{action}", "post", "action")["schema"]
    assert action["enum"] == list(shuttle.ACTIONS)
    assert query("/api/requests", "side")["enum"] == list(SIDES)
    # SRU and OAI-PMH
    assert query("/sru", "query")["maxLength"] == MAX_QUERY_CHARS
    assert query("/oai", "verb")["enum"] == list(VERBS)
    assert query("/oai", "metadataPrefix")["enum"] == list(FORMATS)
