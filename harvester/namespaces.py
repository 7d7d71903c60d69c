"""XML namespaces the harvester reads: the OAI-PMH envelope and the metadata formats it takes in."""

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"

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
