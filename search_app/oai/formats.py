"""The metadata formats a provider disseminates, each with its schema and its serialiser; and the
union catalogue's: every union record in simple Dublin Core and in MARC21 slim."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from search_app.links import record_url
from unicat.model import UnionRecord
from unicat.oai_protocol import MARC_NS, MARC_SCHEMA, OAI_DC_NS, OAI_DC_SCHEMA
from unicat.record_xml import marcxml, oai_dc

Record = TypeVar("Record")


@dataclass(frozen=True, slots=True)
class MetadataFormat(Generic[Record]):
    prefix: str
    schema: str
    namespace: str
    # The record as the format's root element; the second argument is the address of the site that
    # serves the repository (where its record pages are, if it has any).
    render: Callable[[Record, str], str]


def _marcxml(record: UnionRecord, _site: str) -> str:
    return marcxml(record)


def _oai_dc(record: UnionRecord, site: str) -> str:
    return oai_dc(record, record_url=site + record_url(record.id))


FORMATS: dict[str, MetadataFormat[UnionRecord]] = {
    "oai_dc": MetadataFormat("oai_dc", OAI_DC_SCHEMA, OAI_DC_NS, _oai_dc),
    "marcxml": MetadataFormat("marcxml", MARC_SCHEMA, MARC_NS, _marcxml),
}
"""Every record can be disseminated in every format: union records of UNIMARC sources are MARC21
slim too, built from the same extracted fields (``unicat/record_xml.py``)."""
