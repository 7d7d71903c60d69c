"""The metadata formats the provider disseminates, each with its schema and its serialiser."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from unicat.model import UnionRecord
from unicat.oai_protocol import MARC_NS, MARC_SCHEMA, OAI_DC_NS, OAI_DC_SCHEMA
from unicat.record_xml import marcxml, oai_dc


@dataclass(frozen=True, slots=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    # The record as the format's root element; the second argument is the record page's address.
    render: Callable[[UnionRecord, str], str]


def _marcxml(record: UnionRecord, _url: str) -> str:
    return marcxml(record)


def _oai_dc(record: UnionRecord, url: str) -> str:
    return oai_dc(record, record_url=url)


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS, _oai_dc),
    "marcxml": MetadataFormat("marcxml", MARC_SCHEMA, MARC_NS, _marcxml),
}
"""Every record can be disseminated in every format: union records of UNIMARC sources are MARC21
slim too, built from the same extracted fields (``unicat/record_xml.py``)."""
