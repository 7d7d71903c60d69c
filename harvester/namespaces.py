"""XML namespaces the harvester reads: the OAI-PMH envelope and the MARC 21 slim schema."""

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
MARC_NS = "http://www.loc.gov/MARC21/slim"


def oai(tag: str) -> str:
    """An OAI-PMH element name in lxml's ``{namespace}tag`` form."""
    return f"{{{OAI_NS}}}{tag}"


def marc(tag: str) -> str:
    """A MARCXML element name in lxml's ``{namespace}tag`` form."""
    return f"{{{MARC_NS}}}{tag}"
