"""unicat/oai_protocol.py against the standards' own schema files (tests/support/schemas_fetch.py pins them):
every part that speaks OAI-PMH takes its namespaces, verbs and error codes from there, so a slip in
that one module would be a slip everywhere at once."""

from __future__ import annotations

from typing import get_args

import pytest
from lxml import etree

from tests.support.oai_schemas import require_schemas
from tests.support.schemas_fetch import SCHEMAS
from unicat.oai_protocol import (
    DC_NS,
    MARC_NS,
    MARC_SCHEMA,
    OAI_DC_NS,
    OAI_DC_SCHEMA,
    OAI_NS,
    OAI_SCHEMA,
    VERBS,
    ErrorCode,
)

XS = "{http://www.w3.org/2001/XMLSchema}"


def _schema(filename: str) -> etree._Element:
    return etree.parse(str(require_schemas() / filename)).getroot()


def _enumeration(schema: etree._Element, type_name: str) -> set[str]:
    [simple_type] = schema.iterfind(f"{XS}simpleType[@name='{type_name}']")
    return {value.get("value", "") for value in simple_type.iter(f"{XS}enumeration")}


@pytest.mark.parametrize(
    ("filename", "namespace", "location"),
    [
        ("OAI-PMH.xsd", OAI_NS, OAI_SCHEMA),
        ("oai_dc.xsd", OAI_DC_NS, OAI_DC_SCHEMA),
        ("MARC21slim.xsd", MARC_NS, MARC_SCHEMA),
        ("simpledc20021212.xsd", DC_NS, None),
    ],
)
def test_each_namespace_is_its_schemas_target_and_each_location_its_official_address(
    filename: str, namespace: str, location: str | None
) -> None:
    assert _schema(filename).get("targetNamespace") == namespace
    if location is not None:
        [schema] = [schema for schema in SCHEMAS if schema.filename == filename]
        assert schema.urls[0] == location


def test_the_verbs_and_error_codes_are_the_schemas() -> None:
    schema = _schema("OAI-PMH.xsd")
    assert set(VERBS) == _enumeration(schema, "verbType")
    assert set(get_args(ErrorCode)) == _enumeration(schema, "OAI-PMHerrorcodeType")
