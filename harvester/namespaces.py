"""How the harvester names the XML it reads: the OAI-PMH envelope, and every namespace a MARCXML record
comes in from real feeds (the standard URIs are :mod:`unicat.oai_protocol`'s)."""

from unicat.oai_protocol import MARC_NS, OAI_NS

# Namespaces a MARCXML record comes in: MARC 21 slim (also for UNIMARC in MARCXML), MarcXchange
# (ISO 25577, common for UNIMARC feeds), UNIMARC slim (RUSMARC's), none at all, or the OAI envelope's
# own namespace, which a <record> without an xmlns of its own inherits from a page whose default
# namespace is OAI-PMH.
MARC_RECORD_NAMESPACES = (
    MARC_NS,
    "info:lc/xmlns/marcxchange-v1",
    "info:lc/xmlns/marcxchange-v2",
    "urn:isbn:1-931666-22-9",
    "http://www.rba.ru/rusmarc/soft",  # RUSMARC/UNIMARC slim, as Russian and other UNIMARC systems send it
    OAI_NS,
    None,
)


def oai(tag: str) -> str:
    """An OAI-PMH element name in lxml's ``{namespace}tag`` form."""
    return f"{{{OAI_NS}}}{tag}"


def marc(tag: str) -> str:
    """A MARCXML element name in lxml's ``{namespace}tag`` form."""
    return f"{{{MARC_NS}}}{tag}"
