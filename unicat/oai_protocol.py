"""The OAI-PMH 2.0 vocabulary, written once for every part that speaks the protocol: the harvester
that reads feeds, the provider at ``/oai``, the demo libraries, and the serialisers of the metadata
formats they carry (MARC21 slim, simple Dublin Core), which SRU and ``unicat export`` share.

A namespace URI or an error code misspelt in one place makes a response that harvesters reject or a
feed that Unicat misreads, so they live here and are imported, never written again.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from unicat.errors import UnicatError

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_SCHEMA = "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"
OAI_IDENTIFIER_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
OAI_IDENTIFIER_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai-identifier.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
MARC_SCHEMA = "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

SECONDS_GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
"""The finer of the two datestamp granularities (section 3.3); Unicat's providers use it."""


class VerbArguments(NamedTuple):
    """What a verb takes (section 4): arguments it requires, arguments it allows, and the one
    argument, if any, that must come alone (``resumptionToken``)."""

    required: frozenset[str]
    optional: frozenset[str]
    exclusive: str | None


_LIST = VerbArguments(frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}), "resumptionToken")
VERBS: dict[str, VerbArguments] = {
    "Identify": VerbArguments(frozenset(), frozenset(), None),
    "ListMetadataFormats": VerbArguments(frozenset(), frozenset({"identifier"}), None),
    "ListSets": VerbArguments(frozenset(), frozenset(), "resumptionToken"),
    "GetRecord": VerbArguments(frozenset({"identifier", "metadataPrefix"}), frozenset(), None),
    "ListIdentifiers": _LIST,
    "ListRecords": _LIST,
}
"""The six verbs and their arguments."""

ErrorCode = Literal[
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
]
"""The error conditions of section 3.6."""


class OaiError(UnicatError):
    """An OAI-PMH ``<error code=...>``: one Unicat's providers answer with (always HTTP 200, never a
    server fault), or one a server sent the harvester. ``code`` is the protocol's own code, which the
    other side acts on (a harvester takes ``noRecordsMatch`` for an empty list); a server may send a
    code outside :data:`ErrorCode`, which is kept as it came."""

    def __init__(self, code: ErrorCode | str, message: str) -> None:
        super().__init__(f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}")
        self.code = code
        self.message = message

    @property
    def echoes_arguments(self) -> bool:
        """Whether the response's ``<request>`` may carry the arguments: not for badVerb and
        badArgument, whose arguments are what was wrong (section 3.2)."""
        return self.code not in ("badVerb", "badArgument")
