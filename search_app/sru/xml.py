"""SRU responses as XML text, in the namespaces of the version asked.

SRU 1.1/1.2 answer in ``http://www.loc.gov/zing/srw/`` with diagnostics in
``http://www.loc.gov/zing/srw/diagnostic/``; SRU 2.0 in the OASIS namespaces
(``…/search-ws/sruResponse``, ``…/diagnostic``, ``…/facetedResults``), without the ``version``
element 2.0 removed, and with ``recordXMLEscaping`` where 1.2 said ``recordPacking``. Element order
follows the OASIS ``sruResponse.xsd``. Records come from :mod:`unicat.record_xml`, so they read as
the OAI-PMH feed's do.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from search_app.sru.request import DC_SCHEMA, MARCXML_SCHEMA, SruDiagnostic, SruRequest
from unicat.model import UnionRecord
from unicat.oai_protocol import DC_NS
from unicat.query import FacetCount
from unicat.record_xml import escape, marcxml, oai_dc

SRU12_NS = "http://www.loc.gov/zing/srw/"
SRU12_DIAG_NS = "http://www.loc.gov/zing/srw/diagnostic/"
SRU2_NS = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
SRU2_DIAG_NS = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
FACETS_NS = "http://docs.oasis-open.org/ns/search-ws/facetedResults"
SRW_DC_NS = "info:srw/schema/1/dc-schema"
CONTENT_TYPES = {"1.2": "application/xml", "2.0": "application/sru+xml"}
"""SRU 2.0 has its own media type (RFC 6207); 1.2 predates it and is served as XML."""
# Echoed, in the order of echoedSearchRetrieveRequest in sruResponse.xsd.
_ECHO_ORDER = (
    "version",
    "queryType",
    "query",
    "startRecord",
    "maximumRecords",
    "recordXMLEscaping",
    "recordPacking",
    "recordSchema",
    "resultSetTTL",
    "sortKeys",
    "stylesheet",
    "renderedBy",
    "httpAccept",
    "responseType",
)


def _namespaces(version: str) -> tuple[str, str]:
    return (SRU2_NS, SRU2_DIAG_NS) if version == "2.0" else (SRU12_NS, SRU12_DIAG_NS)


def _element(name: str, value: object) -> str:
    return f"<sru:{name}>{escape(str(value))}</sru:{name}>"


def diagnostics(version: str, found: Sequence[SruDiagnostic]) -> str:
    """The ``diagnostics`` element ('' for none)."""
    if not found:
        return ""
    _, diag_ns = _namespaces(version)
    parts = ["<sru:diagnostics>"]
    for diagnostic in found:
        parts.append(f'<diag:diagnostic xmlns:diag="{diag_ns}"><diag:uri>{diagnostic.uri}</diag:uri>')
        if diagnostic.details:
            parts.append(f"<diag:details>{escape(diagnostic.details)}</diag:details>")
        if diagnostic.message:
            parts.append(f"<diag:message>{escape(diagnostic.message)}</diag:message>")
        parts.append("</diag:diagnostic>")
    parts.append("</sru:diagnostics>")
    return "".join(parts)


def _open(root: str, version: str) -> list[str]:
    ns, _ = _namespaces(version)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', f'<sru:{root} xmlns:sru="{ns}">']
    if version != "2.0":
        parts.append(_element("version", version))
    return parts


def fatal(version: str, diagnostic: SruDiagnostic, params: Mapping[str, str]) -> str:
    """A response that carries only a fatal diagnostic (no records). An explain that fails is answered
    so too: an explainResponse must hold a record."""
    parts = _open("searchRetrieveResponse", version)
    parts.append(_element("numberOfRecords", 0))
    parts.append(echo(version, params))
    parts.append(diagnostics(version, [diagnostic]))
    parts.append("</sru:searchRetrieveResponse>")
    return "".join(parts)


def echo(version: str, params: Mapping[str, str]) -> str:
    """``echoedSearchRetrieveRequest``: the parameters the response answers, as given."""
    parts = ["<sru:echoedSearchRetrieveRequest>"]
    for name in _ECHO_ORDER:
        if name == "version":
            parts.append(_element("version", version))
        elif name in params:
            if version != "2.0" and name in ("queryType", "recordXMLEscaping", "renderedBy", "httpAccept"):
                continue
            parts.append(_element(name, params[name]))
    parts.append("</sru:echoedSearchRetrieveRequest>")
    return "".join(parts)


def record_data(record: UnionRecord, schema: str, record_url: str) -> str:
    """The record in ``schema``; ``dc`` is LoC's SRU Dublin Core (``srw_dc:dc``), whose elements are
    those of ``oai_dc``, wrapped in the namespace the ``dc-v1.1`` identifier names."""
    if schema == MARCXML_SCHEMA:
        return marcxml(record)
    dc = oai_dc(record, record_url=record_url)
    if schema != DC_SCHEMA:
        return dc
    inner = dc[dc.index(">") + 1 : dc.rindex("</oai_dc:dc>")]
    return f'<srw_dc:dc xmlns:srw_dc="{SRW_DC_NS}" xmlns:dc="{DC_NS}">{inner}</srw_dc:dc>'


@dataclass(frozen=True, slots=True)
class Facet:
    """One facet of a response: the index it counts and its terms with their counts."""

    index: str
    label: str
    terms: list[FacetCount]
    term_query: str  # a CQL template with {term}: the query that selects a term's records


def search_response(
    request: SruRequest,
    total: int,
    records: Sequence[tuple[UnionRecord, str]],
    facets: Sequence[Facet],
    warnings: Sequence[SruDiagnostic] = (),
) -> str:
    """A searchRetrieve response: ``records`` are (record, record page URL) from ``request.start``."""
    version = request.version
    parts = _open("searchRetrieveResponse", version)
    parts.append(_element("numberOfRecords", total))
    if records:
        parts.append("<sru:records>")
        for position, (record, url) in enumerate(records, start=request.start):
            parts.append(_record(request, record_data(record, request.schema, url), position))
        parts.append("</sru:records>")
    following = request.start + len(records)
    if records and following <= total:
        parts.append(_element("nextRecordPosition", following))
    parts.append(echo(version, request.params))
    parts.append(diagnostics(version, warnings))
    if request.is_v2:
        parts.append(_element("resultCountPrecision", "info:srw/vocabulary/resultCountPrecision/1/exact"))
        if facets:
            parts.append(faceted_results(facets))
    parts.append("</sru:searchRetrieveResponse>")
    return "".join(parts)


def _record(request: SruRequest, data: str, position: int) -> str:
    body = data if request.escaping == "xml" else escape(data)
    parts = ["<sru:record>", _element("recordSchema", request.schema)]
    if request.is_v2:
        parts.append(_element("recordXMLEscaping", request.escaping))
    else:
        parts.append(_element("recordPacking", request.escaping))
    parts.append(f"<sru:recordData>{body}</sru:recordData>")
    parts.append(_element("recordPosition", position))
    parts.append("</sru:record>")
    return "".join(parts)


def faceted_results(facets: Sequence[Facet]) -> str:
    """SRU 2.0 ``facetedResults``: per facet its index and terms, each with the query selecting it."""
    parts = [f'<sru:facetedResults xmlns:facet="{FACETS_NS}">']
    for facet in facets:
        parts.append("<facet:facet>")
        parts.append(f"<facet:facetDisplayLabel>{escape(facet.label)}</facet:facetDisplayLabel>")
        parts.append(f"<facet:index>{escape(facet.index)}</facet:index>")
        parts.append("<facet:terms>")
        for term in facet.terms:
            query = facet.term_query.format(term=cql_quote(term.value))
            parts.append(
                f"<facet:term><facet:actualTerm>{escape(term.value)}</facet:actualTerm>"
                f"<facet:query>{escape(query)}</facet:query>"
                f"<facet:count>{term.count}</facet:count></facet:term>"
            )
        parts.append("</facet:terms></facet:facet>")
    parts.append("</sru:facetedResults>")
    return "".join(parts)


def cql_quote(value: str) -> str:
    """``value`` as a quoted CQL term (quotes, backslashes and masking characters escaped)."""
    escaped = "".join("\\" + char if char in '"\\*?^' else char for char in value)
    return f'"{escaped}"'


def explain_response(version: str, zeerex: str, params: Mapping[str, str], escaping: str) -> str:
    """An explain response around the ZeeRex record ``zeerex``."""
    parts = _open("explainResponse", version)
    body = zeerex if escaping == "xml" else escape(zeerex)
    parts.append("<sru:record>")
    parts.append(_element("recordSchema", "http://explain.z3950.org/dtd/2.0/"))
    parts.append(_element("recordXMLEscaping" if version == "2.0" else "recordPacking", escaping))
    parts.append(f"<sru:recordData>{body}</sru:recordData>")
    parts.append(_element("recordPosition", 1))
    parts.append("</sru:record>")
    parts.append("<sru:echoedExplainRequest>")
    parts.append(_element("version", version))
    for name in ("recordXMLEscaping", "recordPacking"):
        if name in params and (version == "2.0" or name == "recordPacking"):
            parts.append(_element(name, params[name]))
    parts.append("</sru:echoedExplainRequest>")
    parts.append("</sru:explainResponse>")
    return "".join(parts)
