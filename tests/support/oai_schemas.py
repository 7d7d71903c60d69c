"""Offline XML Schema validation of whole OAI-PMH responses, the records inside them included.

A response is checked against the official ``OAI-PMH.xsd`` and, in the same pass, every record's
metadata against its own format's schema: the official schema declares ``<metadata>``, ``<about>`` and
``<description>`` content as a *strict* ``##other`` wildcard, so the validator is one small driver schema
that imports OAI-PMH, ``oai_dc`` (with Simple DC and ``xml.xsd``) and MARC 21 slim together. Metadata in
a namespace with no cached schema fails (libxml2: "No matching global element declaration available,
but demanded by the strict wildcard"), as the official schema says it must.

The schemas come from package registries (tests/support/schemas_fetch.py says which, and pins each file's
SHA-256); nothing is read from the network. ``xs:import`` addresses are mapped to the cached files by
an lxml resolver keyed on the addresses (any other address is refused, with its name), and xmllint,
the second opinion, gets the same mapping as an XML catalog and ``--nonet``.

A missing or altered schema fails the caller (never a skip) with the command that fetches it.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from tests.support.schemas_fetch import (
    CACHE_DIR,
    CATALOG,
    FETCH_COMMAND,
    MARC_NS,
    OAI_DC_NS,
    OAI_NS,
    SCHEMAS,
    problems,
)

DRIVER = "oai-validator.xsd"
"""The driver schema, written into the cache beside the files it imports (for xmllint too)."""
_OAI = f"{{{OAI_NS}}}"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
"""Identify's usual ``<description>``; its schema is in no registry package found (see schemas_fetch)."""
METADATA_NAMESPACES = (OAI_DC_NS, MARC_NS)
"""Formats whose records are validated against their own schema (others fail the strict wildcard)."""


class SchemasMissing(RuntimeError):
    """A schema is not cached (or is not the pinned file): the message says what to run."""


@dataclass(frozen=True)
class Validated:
    """What a valid response held, so a test can see that its records' metadata was validated too."""

    verb: str | None
    """The verb element (``ListRecords``, …), or None for an error response."""
    errors: tuple[str, ...]
    """OAI-PMH error codes, for an error response."""
    records: int
    headers: int
    deleted: int
    metadata: dict[str, int]
    """How many ``<metadata>`` children of each namespace were validated."""
    resumption_token: str | None
    unvalidated: tuple[str, ...]
    """Elements let through unchecked (``unvalidated`` namespaces), as "line: {namespace}name"."""


class _LocalSchemas(etree.Resolver):
    """Resolves every known address of a cached schema to the file; refuses (and remembers) the rest."""

    def __init__(self, cache: Path) -> None:
        super().__init__()
        self.cache = cache
        self.files = {url: cache / schema.filename for schema in SCHEMAS for url in schema.urls}
        self.refused: list[str] = []

    def resolve(self, system_url: str | None, public_id: str | None, context: Any) -> Any:
        """The cached file for a known address; a refusal (an empty document) for anything else."""
        if system_url is None:
            return None
        path = self.files.get(system_url)
        if path is not None:
            return self.resolve_filename(str(path), context)
        if Path(system_url.removeprefix("file://")).parent == self.cache:
            return None  # a file of the cache (the driver, a schema) by its own path: libxml2 reads it
        self.refused.append(system_url)
        return self.resolve_string("", context)


def driver_schema() -> str:
    """The driver: one import per cached namespace, by the official address of its schema."""
    imports = "\n".join(
        f'  <xs:import namespace="{schema.namespace}" schemaLocation="{schema.urls[0]}"/>'
        for schema in SCHEMAS
        if schema.namespace in (OAI_NS, *METADATA_NAMESPACES)
    )
    return (
        '<?xml version="1.0"?>\n'
        "<!-- Written by tests/support/oai_schemas.py: validates OAI-PMH responses and the oai_dc and "
        "MARC 21\n"
        "     slim records inside them. Imports resolve to this folder (lxml resolver, catalog.xml). -->\n"
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">\n'
        f"{imports}\n"
        "</xs:schema>\n"
    )


def require_schemas(cache: Path = CACHE_DIR) -> Path:
    """The cache folder, after checking every schema is there and is the pinned file."""
    found = problems(cache)
    if found:
        raise SchemasMissing(
            "the XML schemas the OAI-PMH tests validate against are not cached (run "
            f"`{FETCH_COMMAND}`, which scripts/test.sh runs):\n" + "\n".join(found)
        )
    driver = cache / DRIVER
    text = driver_schema()
    if not driver.is_file() or driver.read_text(encoding="utf-8") != text:
        partial = driver.with_name(f".{DRIVER}.partial")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, driver)
    return cache


@functools.cache
def _schema(cache: Path) -> etree.XMLSchema:
    """The compiled driver schema (compiled once a process: it takes milliseconds, but every page)."""
    require_schemas(cache)
    resolver = _LocalSchemas(cache)
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
    parser.resolvers.add(resolver)
    document = etree.parse(str(cache / DRIVER), parser)
    try:
        return etree.XMLSchema(document)
    except etree.XMLSchemaParseError as exc:
        refused = f"; refused to fetch {', '.join(resolver.refused)}" if resolver.refused else ""
        raise SchemasMissing(f"the cached schemas do not compile: {exc}{refused}") from exc


def _parse(xml: bytes) -> etree._ElementTree:
    """Parse as a harvester would meet it: no network, no entities, no DTD."""
    parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False, huge_tree=True)
    return etree.ElementTree(etree.fromstring(xml, parser))


_STRICT_WILDCARD = "No matching global element declaration available, but demanded by the strict wildcard"


def validate_xml(
    xml: bytes, source: str = "document", *, unvalidated: Iterable[str] = ()
) -> tuple[etree._ElementTree, tuple[str, ...]]:
    """Validate any document whose root is an element of a cached schema (an OAI-PMH response, an
    ``oai_dc:dc``, a MARCXML ``collection`` or ``record``); raises AssertionError listing every error
    with its line.

    ``unvalidated``: namespaces whose elements may stand, unchecked, where the official schema's strict
    wildcards demand a schema that no registry ships (e.g. an Identify ``<description>`` in
    ``http://www.openarchives.org/OAI/2.0/oai-identifier``). Only that one error is forgiven for them,
    and it is returned (as "line: element") so the caller sees what went unchecked. Returns the parsed
    document and those lines.
    """
    try:
        document = _parse(xml)
    except etree.XMLSyntaxError as exc:
        raise AssertionError(f"{source} is not well-formed XML: {exc}") from exc
    schema = _schema(CACHE_DIR)
    if schema.validate(document):
        return document, ()
    forgiven_prefixes = tuple(f"Element '{{{namespace}}}" for namespace in unvalidated)
    lines, forgiven = [], []
    for error in schema.error_log:
        if _STRICT_WILDCARD in error.message and error.message.startswith(forgiven_prefixes):
            forgiven.append(f"{error.line}: {error.message.split(chr(39))[1]}")
        else:
            lines.append(f"{source}:{error.line}:{error.column}: {error.message}")
    if lines:
        raise AssertionError(
            f"{source} is not valid against the official schemas ({len(lines)} errors):\n" + "\n".join(lines)
        )
    return document, tuple(forgiven)


def validate_oai_response(
    xml: bytes, source: str = "response", *, unvalidated: Iterable[str] = ()
) -> Validated:
    """Validate an OAI-PMH response envelope and every record's metadata; AssertionError lists every
    schema error with its line number. Returns what the valid response held. ``unvalidated``: see
    :func:`validate_xml` (default: none, every wildcard's content must be validated)."""
    document, forgiven = validate_xml(xml, source, unvalidated=unvalidated)
    root = document.getroot()
    if root.tag != f"{_OAI}OAI-PMH":
        raise AssertionError(f"{source}: the root element is {root.tag!r}, not an OAI-PMH response")
    errors = tuple(str(error.get("code")) for error in root.iterfind(f"{_OAI}error"))
    verb_element = None if errors else root[2]
    metadata = Counter(
        etree.QName(child).namespace or ""
        for holder in root.iterfind(f"{_OAI}*/{_OAI}record/{_OAI}metadata")
        for child in holder
        if isinstance(child.tag, str)
    )
    token = root.findtext(f"{_OAI}*/{_OAI}resumptionToken")
    return Validated(
        verb=None if verb_element is None else etree.QName(verb_element).localname,
        errors=errors,
        records=len(root.findall(f"{_OAI}*/{_OAI}record")),
        headers=len(list(root.iter(f"{_OAI}header"))),
        deleted=sum(1 for header in root.iter(f"{_OAI}header") if header.get("status") == "deleted"),
        metadata=dict(metadata),
        resumption_token=token or None,
        unvalidated=forgiven,
    )


@dataclass(frozen=True)
class XmllintVerdict:
    """libxml2's command-line validator's verdict on a document: its exit status and output."""

    valid: bool
    returncode: int
    output: str


def xmllint_validate(xml: bytes, cache: Path = CACHE_DIR) -> XmllintVerdict:
    """``xmllint --noout --nonet --schema`` with the same driver schema, imports resolved by the
    cached catalog: a second opinion on lxml's verdict (same library, separate program and loader)."""
    require_schemas(cache)
    environment = {**os.environ, "XML_CATALOG_FILES": str(cache / CATALOG)}
    try:
        result = subprocess.run(
            ["xmllint", "--noout", "--nonet", "--schema", str(cache / DRIVER), "-"],
            input=xml,
            capture_output=True,
            env=environment,
            check=False,
            timeout=120,
        )
    except FileNotFoundError as exc:
        raise SchemasMissing(
            "xmllint is not installed: run `sudo bash scripts/install-test-deps.sh` (libxml2-utils)"
        ) from exc
    output = (result.stdout + result.stderr).decode("utf-8", errors="replace")
    return XmllintVerdict(result.returncode == 0, result.returncode, output)


__all__ = [
    "METADATA_NAMESPACES",
    "OAI_IDENTIFIER_NS",
    "SchemasMissing",
    "Validated",
    "XmllintVerdict",
    "require_schemas",
    "validate_oai_response",
    "validate_xml",
    "xmllint_validate",
]
