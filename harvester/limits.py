"""The content limits (:mod:`unicat.content_limits`) applied to an XML record as lxml reads it.

Shared by the OAI-PMH harvest and the MARCXML import, so both refuse the same records with the same
words. The record's serialised size is checked first: only a record within ``record_max_bytes`` has its
values looked at one by one, so an oversized value is never copied into Python text.
"""

from __future__ import annotations

from lxml import etree

from unicat.content_limits import ContentLimits

# UTF-8 takes at most 4 bytes a character: text shorter than a quarter of the limit needs no encoding.
_MAX_UTF8_BYTES_PER_CHAR = 4


def check_xml_record(limits: ContentLimits, element: etree._Element, raw: bytes) -> str | None:
    """Why the record ``element`` (serialised as ``raw``) is refused for its size, or None."""
    if (reason := limits.record_too_large(len(raw), "marcxml")) is not None:
        return reason
    if len(raw) <= limits.subfield_max_bytes:
        return None
    quick = limits.subfield_max_bytes // _MAX_UTF8_BYTES_PER_CHAR
    for node in element.iter(etree.Element):
        values = [node.text, node.tail, *node.attrib.values()]
        for value in values:
            if value and len(value) > quick:
                size = len(value.encode("utf-8", "surrogatepass"))
                if (reason := limits.subfield_too_large(size, _describe(node))) is not None:
                    return reason
    return None


def _describe(node: etree._Element) -> str:
    """``subfield 245 $a``, ``control field 001`` or ``element <title>``: where a librarian looks."""
    name = etree.QName(node).localname
    if name == "subfield":
        parent = node.getparent()
        tag = parent.get("tag", "?") if parent is not None else "?"
        return f"subfield {tag} ${node.get('code', '?')}"
    if name == "controlfield":
        return f"control field {node.get('tag', '?')}"
    return f"element <{name}>"
