"""OAI-PMH 2.0 error conditions (section 3.6): the code a harvester acts on, and a message for its log."""

from __future__ import annotations

from typing import Literal

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


class OaiError(Exception):
    """A request the protocol answers with an ``<error>``: always HTTP 200, never a server fault."""

    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code: ErrorCode = code
        self.message = message

    @property
    def echoes_arguments(self) -> bool:
        """Whether the response's ``<request>`` may carry the arguments: not for badVerb and
        badArgument, whose arguments are what was wrong (section 3.2)."""
        return self.code not in ("badVerb", "badArgument")
