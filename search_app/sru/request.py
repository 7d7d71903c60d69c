"""An SRU request read and checked: version, operation and searchRetrieve parameters, each bad one
an SRU diagnostic (:class:`SruDiagnostic`) rather than an HTTP error.

Versions 1.1, 1.2 and 2.0 are answered (1.1 as 1.2, whose responses it shares). Version 2.0 lets
``operation`` be absent (searchRetrieve when there is a ``query``, explain when not) and defaults
``version`` to 2.0; for 1.1 and 1.2 ``operation`` is mandatory, except that a request with no
parameter at all is the explain request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from search_app.sru.cql import CqlError
from search_app.sru.cql_search import INDEXES, resolve_index, sort_by
from unicat.fields import FACETS
from unicat.oai_protocol import OAI_DC_NS
from unicat.query import FACET_FIELDS, SortOrder
from unicat.settings import Settings

VERSIONS = ("1.1", "1.2", "2.0")
HIGHEST = "2.0"
MARCXML_SCHEMA = "info:srw/schema/1/marcxml-v1.1"
DC_SCHEMA = "info:srw/schema/1/dc-v1.1"
OAI_DC_SCHEMA = OAI_DC_NS
"""SRU names the oai_dc record schema by its namespace."""
SCHEMAS: dict[str, str] = {
    "marcxml": MARCXML_SCHEMA,
    "marc21": MARCXML_SCHEMA,
    "info:srw/schema/1/marcxml-v1.1": MARCXML_SCHEMA,
    "info:srw/schema/1/marcxml-v1.1-light": MARCXML_SCHEMA,
    "http://www.loc.gov/marc21/slim": MARCXML_SCHEMA,
    "dc": DC_SCHEMA,
    "info:srw/schema/1/dc-v1.1": DC_SCHEMA,
    "info:srw/schema/1/dc-schema": DC_SCHEMA,
    "oai_dc": OAI_DC_SCHEMA,
    OAI_DC_SCHEMA: OAI_DC_SCHEMA,
}
"""Every recordSchema name or identifier we accept → the schema identifier it means."""
SCHEMA_NAMES = {MARCXML_SCHEMA: "marcxml", DC_SCHEMA: "dc", OAI_DC_SCHEMA: "oai_dc"}

FACET_NAMES = {facet.name: facet.sru for facet in FACETS}
"""The index each facet is answered under (and that its terms' queries use)."""


def _facet_indexes() -> dict[tuple[str, str], str]:
    """Every index that searches what a facet's own index searches (``bath.possessingInstitution``
    as ``unicat.library``) → that facet: ``facetLimit`` may name a facet by any of them."""
    found: dict[tuple[str, str], str] = {}
    for facet in FACETS:
        _, _, target = resolve_index(facet.sru, {})
        for context, indexes in INDEXES.items():
            for name, index in indexes.items():
                if (index.kind, index.field) == (target.kind, target.field):
                    found[(context, name)] = facet.name
    return found


FACET_INDEXES: dict[tuple[str, str], str] = _facet_indexes()
"""Index (as resolved by :mod:`unicat.cql_search`) → the engine facet it counts."""
MAX_FACET_LIMIT = 100

_COMMON = {"operation", "version", "recordPacking", "recordXMLEscaping", "stylesheet", "extraRequestData"}
_SEARCH = {
    "query",
    "queryType",
    "startRecord",
    "maximumRecords",
    "recordSchema",
    "resultSetTTL",
    "sortKeys",
    "facetLimit",
    "facetStart",
    "facetSort",
    "facetCount",
    "httpAccept",
    "renderedBy",
    "responseType",
    "recordXPath",
}


@dataclass
class SruDiagnostic(Exception):
    """An SRU diagnostic: ``code`` from the SRU list (``info:srw/diagnostic/1/N``), ``details`` as the
    list asks, ``message`` for people. Raised, it is fatal: the response carries no records."""

    code: int
    details: str = ""
    message: str = ""

    @property
    def uri(self) -> str:
        return f"info:srw/diagnostic/1/{self.code}"

    @classmethod
    def of_cql(cls, error: CqlError) -> SruDiagnostic:
        return cls(error.code, error.details, error.message)


@dataclass
class SruRequest:
    """What the client asked, with the parameters as given (for the echo) and as understood."""

    version: str
    operation: str
    params: dict[str, str]
    query: str = ""
    start: int = 1
    maximum: int = 10
    schema: str = MARCXML_SCHEMA
    escaping: str = "xml"
    sort: SortOrder | None = None
    facet_limits: dict[str, int] = field(default_factory=dict)

    @property
    def is_v2(self) -> bool:
        return self.version == "2.0"


def single_values(params: Mapping[str, Sequence[str]]) -> dict[str, str]:
    """Each parameter's one value; a repeated one is diagnostic 6 (its name as details)."""
    values: dict[str, str] = {}
    for name, given in params.items():
        if len(given) > 1:
            raise SruDiagnostic(6, name, f"give {name} once")
        values[name] = given[0]
    return values


def negotiate_version(params: Mapping[str, Sequence[str]]) -> str:
    """The version to answer in: the one asked, or for an unknown one the nearest we speak (the
    diagnostic for it is raised by :func:`read_request`)."""
    asked = (params.get("version") or [HIGHEST])[0].strip()
    if asked in VERSIONS:
        return "1.2" if asked == "1.1" else asked
    try:
        return "1.2" if float(asked) < 2 else HIGHEST
    except ValueError:
        return HIGHEST


def read_request(raw: Mapping[str, Sequence[str]], settings: Settings) -> SruRequest:
    """The checked request, or :class:`SruDiagnostic` for the first problem found."""
    version = negotiate_version(raw)
    params = single_values(raw)
    asked_version = params.get("version")
    if asked_version is not None and asked_version.strip() not in VERSIONS:
        raise SruDiagnostic(5, HIGHEST, f"version {asked_version!r} is not supported; use 1.2 or 2.0")
    operation = params.get("operation")
    if operation is None:
        if version == "2.0" or not params:
            operation = "searchRetrieve" if "query" in params else "explain"
        else:
            raise SruDiagnostic(7, "operation", "SRU 1.2 needs operation=searchRetrieve or operation=explain")
    if operation not in ("searchRetrieve", "explain"):
        raise SruDiagnostic(
            4, operation, f"operation {operation!r} is not supported; use searchRetrieve or explain"
        )
    request = SruRequest(version, operation, params, maximum=settings.page_size)
    _check_known(request)
    request.escaping = _escaping(request)
    if "stylesheet" in params:
        raise SruDiagnostic(110, "", "stylesheets are not supported")
    if operation == "searchRetrieve":
        _read_search(request, settings)
    return request


def _check_known(request: SruRequest) -> None:
    known = _COMMON | (_SEARCH if request.operation == "searchRetrieve" else set())
    for name in request.params:
        if name not in known and not name.startswith("x-"):
            raise SruDiagnostic(8, name, f"unsupported parameter {name!r} for {request.operation}")


def _escaping(request: SruRequest) -> str:
    """``xml`` or ``string``: 1.2's recordPacking, 2.0's recordXMLEscaping (2.0's recordPacking says
    packed or unpacked; only packed records exist here)."""
    params = request.params
    if request.is_v2:
        packing = params.get("recordPacking", "packed")
        if packing != "packed":
            raise SruDiagnostic(
                6, "recordPacking", f"recordPacking {packing!r}: only packed records are served"
            )
        value = params.get("recordXMLEscaping", "xml")
    else:
        if "recordXMLEscaping" in params:
            raise SruDiagnostic(8, "recordXMLEscaping", "recordXMLEscaping is SRU 2.0; 1.2 has recordPacking")
        value = params.get("recordPacking", "xml")
    if value not in ("xml", "string"):
        raise SruDiagnostic(71, value, f"record escaping {value!r} is not supported; use xml or string")
    return value


def _whole_number(params: Mapping[str, str], name: str, low: int) -> int | None:
    raw = params.get(name)
    if raw is None:
        return None
    text = raw.strip()
    if not text.isdigit() or int(text) < low:
        raise SruDiagnostic(6, name, f"{name} must be a whole number of at least {low}, got {raw[:50]!r}")
    return int(text)


def _read_search(request: SruRequest, settings: Settings) -> None:
    params = request.params
    query = params.get("query")
    if query is None or not query.strip():
        raise SruDiagnostic(7, "query", "searchRetrieve needs a query (CQL)")
    request.query = query
    query_type = params.get("queryType", "cql")
    if query_type != "cql":
        raise SruDiagnostic(6, "queryType", f"queryType {query_type!r} is not supported; only cql")
    start = _whole_number(params, "startRecord", 1)
    if start is not None:
        request.start = start
    maximum = _whole_number(params, "maximumRecords", 0)
    if maximum is not None:
        # The protocol lets a server return fewer than asked: more than the most a page holds are cut.
        request.maximum = min(maximum, settings.max_page_size)
    _whole_number(params, "resultSetTTL", 0)  # checked, then ignored: no result set outlives a request
    schema = params.get("recordSchema", "marcxml")
    if schema not in SCHEMAS:
        known = ", ".join(sorted({"marcxml", "dc", "oai_dc", *SCHEMA_NAMES}))
        raise SruDiagnostic(66, schema, f"unknown record schema {schema!r}; known: {known}")
    request.schema = SCHEMAS[schema]
    if "recordXPath" in params:
        raise SruDiagnostic(72, "", "XPath retrieval is not supported")
    if "sortKeys" in params:
        request.sort = sort_keys(params["sortKeys"])
    if "facetLimit" in params:
        request.facet_limits = facet_limits(params["facetLimit"])
    start_facet = params.get("facetStart", "1").strip()
    if start_facet != "1":
        raise SruDiagnostic(6, "facetStart", "facet terms are always given from the first")


def sort_keys(text: str) -> SortOrder:
    """SRU 1.1/1.2 ``sortKeys`` (``path,schema,ascending,caseSensitive,missingValue``, keys separated
    by spaces) as an engine order."""
    keys = text.split()
    if not keys:
        raise SruDiagnostic(6, "sortKeys", "sortKeys is empty")
    if len(keys) > 1:
        raise SruDiagnostic(84, "1", "only one sort key is supported")
    path, schema, ascending, case, missing = (keys[0].split(",") + [""] * 5)[:5]
    if schema and schema not in SCHEMAS:
        raise SruDiagnostic(87, schema, f"cannot sort in schema {schema!r}")
    if case == "1":
        raise SruDiagnostic(91, case, "sorting always ignores case")
    if missing:
        raise SruDiagnostic(92, missing, "records without the value always sort last")
    if ascending not in ("", "0", "1"):
        raise SruDiagnostic(6, "sortKeys", f"ascending must be 0 or 1, got {ascending!r}")
    try:
        _, name, _ = resolve_index(path, {})
        return sort_by(name, ascending == "0", path)
    except CqlError as error:
        raise SruDiagnostic(88, path, error.message) from None


def facet_limits(text: str) -> dict[str, int]:
    """SRU 2.0 ``facetLimit``: ``N`` (every facet, N terms) or ``N:index`` pairs separated by commas."""
    limits: dict[str, int] = {}
    for part in (item.strip() for item in text.split(",")):
        count_text, colon, index = part.partition(":")
        if not count_text.strip().isdigit():
            raise SruDiagnostic(6, "facetLimit", f"facetLimit is count or count:index, got {part[:50]!r}")
        count = min(int(count_text), MAX_FACET_LIMIT)
        if not colon:
            limits.update({facet: count for facet in FACET_FIELDS})
            continue
        try:
            context, name, _ = resolve_index(index.strip(), {})
        except CqlError:
            context, name = "", ""
        facet = FACET_INDEXES.get((context, name))
        if facet is None:
            known = ", ".join(FACET_NAMES.values())
            raise SruDiagnostic(6, "facetLimit", f"no facet for index {index!r}; facets: {known}")
        limits[facet] = count
    return {facet: count for facet, count in limits.items() if count > 0}
