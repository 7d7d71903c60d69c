"""An OAI-PMH ``<record>`` element → a :class:`SourceRecord`, or a quarantine entry saying why not."""

from __future__ import annotations

from lxml import etree

from harvester.namespaces import marc, oai
from unicat.model import QuarantineEntry, SourceRecord


def convert_record(source: str, element: etree._Element) -> SourceRecord | QuarantineEntry:
    """Keep the MARCXML ``<record>`` of the metadata, namespaced, as the raw bytes.

    A deleted header becomes a tombstone; a record without an identifier, without metadata, or whose
    metadata is not MARCXML is quarantined with the whole OAI ``<record>`` so nothing is lost.
    """
    header = element.find(oai("header"))
    identifier = _text(header, "identifier")
    datestamp = _text(header, "datestamp")
    if header is None or not identifier:
        return _quarantine(source, None, "OAI record has no header identifier", element)
    if header.get("status") == "deleted":
        return SourceRecord(source, identifier, b"", "marcxml", datestamp, deleted=True)
    metadata = element.find(oai("metadata"))
    payload = next(metadata.iterchildren(etree.Element), None) if metadata is not None else None
    if payload is None:
        return _quarantine(source, identifier, "OAI record has no metadata", element)
    if payload.tag == marc("collection"):
        inner = payload.findall(marc("record"))
        if len(inner) != 1:
            return _quarantine(
                source, identifier, f"MARCXML collection holds {len(inner)} records, expected 1", element
            )
        payload = inner[0]
    if payload.tag != marc("record"):
        return _quarantine(
            source,
            identifier,
            f"metadata is not MARCXML (found element {etree.QName(payload).text})",
            element,
        )
    raw = etree.tostring(payload, encoding="utf-8")
    return SourceRecord(source, identifier, raw, "marcxml", datestamp)


def _text(parent: etree._Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    element = parent.find(oai(tag))
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _quarantine(source: str, local_id: str | None, reason: str, element: etree._Element) -> QuarantineEntry:
    return QuarantineEntry(source, local_id, "harvest", reason, etree.tostring(element, encoding="utf-8"))
