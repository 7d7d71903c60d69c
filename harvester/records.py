"""An OAI-PMH ``<record>`` element → a :class:`SourceRecord`, or a quarantine entry saying why not.

Metadata is kept as the payload element serialised on its own (with the namespaces it uses), never
rewritten: MARCXML in any of the namespaces it travels in (MARC 21 slim, MarcXchange, none; UNIMARC
comes as MARCXML too, and the source's profile says how to read it) is stored as ``marcxml``; simple
Dublin Core (``oai_dc``), from sources without MARC, as ``oai_dc``. The indexer reads both.
"""

from __future__ import annotations

from lxml import etree

from harvester.limits import check_xml_record
from harvester.namespaces import MARC_RECORD_NAMESPACES, oai
from unicat.content_limits import ContentLimits
from unicat.model import QuarantineEntry, RecordSyntax, SourceRecord
from unicat.oai_protocol import OAI_DC_NS

_OAI_DC = f"{{{OAI_DC_NS}}}dc"


def convert_record(
    source: str, element: etree._Element, *, limits: ContentLimits
) -> SourceRecord | QuarantineEntry:
    """Keep the record's metadata as raw bytes, with its identifier and datestamp.

    A deleted header becomes a tombstone; a record without an identifier, without metadata, or whose
    metadata is in no format Unicat reads is quarantined with the whole OAI ``<record>`` so nothing is
    lost and a librarian can see what the server sent. Metadata over the content ``limits`` is
    quarantined instead of stored, with as much of it as the limits let the quarantine keep.
    """
    header = element.find(oai("header"))
    identifier = _text(header, "identifier")
    datestamp = _text(header, "datestamp")
    if header is None or not identifier:
        return _quarantine(limits, source, None, "OAI record has no header identifier", element)
    if header.get("status") == "deleted":
        return SourceRecord(source, identifier, b"", "marcxml", datestamp, deleted=True)
    metadata = element.find(oai("metadata"))
    payload = next(metadata.iterchildren(etree.Element), None) if metadata is not None else None
    if payload is None:
        return _quarantine(limits, source, identifier, "OAI record has no metadata", element)
    syntax: RecordSyntax
    name = etree.QName(payload)
    if payload.tag == _OAI_DC:
        syntax = "oai_dc"
    elif name.namespace in MARC_RECORD_NAMESPACES and name.localname in ("record", "collection"):
        if name.localname == "collection":
            inner = [child for child in payload.iterchildren(etree.Element) if _is_marc_record(child)]
            if len(inner) != 1:
                return _quarantine(
                    limits,
                    source,
                    identifier,
                    f"MARCXML collection holds {len(inner)} records, expected 1",
                    element,
                )
            payload = inner[0]
        syntax = "marcxml"
    else:
        return _quarantine(
            limits,
            source,
            identifier,
            f"metadata is neither MARCXML nor oai_dc (found element {name.text})",
            element,
        )
    raw = etree.tostring(payload, encoding="utf-8", with_tail=False)
    if (reason := check_xml_record(limits, payload, raw)) is not None:
        return limits.quarantine(source, identifier, "harvest", reason, raw)
    return SourceRecord(source, identifier, raw, syntax, datestamp)


def oversized_record(source: str, limit: int, element: etree._Element) -> QuarantineEntry:
    """The quarantine entry of a record larger than ``limit`` bytes, of which only the header was kept
    (:func:`harvester.pages.read_page` drops the rest while parsing): the entry names the record and
    the setting, so a librarian can take it in on purpose."""
    header = element.find(oai("header"))
    identifier = _text(header, "identifier")
    reason = (
        f"the record is larger than record_max_bytes ({limit:,} bytes), so only its header was "
        "kept; to take it in, raise record_max_bytes and harvest the source again with --full"
    )
    raw = etree.tostring(header, encoding="utf-8", with_tail=False) if header is not None else b""
    return QuarantineEntry(source, identifier, "harvest", reason, raw)


def _is_marc_record(element: etree._Element) -> bool:
    name = etree.QName(element)
    return name.localname == "record" and name.namespace in MARC_RECORD_NAMESPACES


def _text(parent: etree._Element | None, tag: str) -> str | None:
    if parent is None:
        return None
    element = parent.find(oai(tag))
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _quarantine(
    limits: ContentLimits, source: str, local_id: str | None, reason: str, element: etree._Element
) -> QuarantineEntry:
    raw = etree.tostring(element, encoding="utf-8", with_tail=False)
    return limits.quarantine(source, local_id, "harvest", reason, raw)
