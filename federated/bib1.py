"""Bib-1 diagnostics (Z39.50's error vocabulary) in words a librarian can act on.

ZOOM names a diagnostic in the standard's terms ("Unsupported Use attribute"); a status line needs what
it means for the search ("unsupported search field") and the server's detail under its name ("use
attribute 9999"). The codes are the standard's (Z39.50 Bib-1 diagnostic set); a code not listed here
reads as ZOOM names it.
"""

from __future__ import annotations

from typing import NamedTuple


class Wording(NamedTuple):
    what: str
    """What went wrong, for the status line."""
    detail: str
    """What the server's additional information names, or "" when it speaks for itself."""


BIB1: dict[int, Wording] = {
    1: Wording("the target failed (permanent system error)", ""),
    2: Wording("the target failed for now (temporary system error)", ""),
    3: Wording("the target does not support this search", ""),
    4: Wording("the search has only stop words", ""),
    11: Wording("the search is too long for the target", ""),
    12: Wording("too many records asked for", ""),
    13: Wording("records asked beyond the result", ""),
    100: Wording("the target failed (unspecified error)", ""),
    107: Wording("the target does not take this kind of query", "query type"),
    108: Wording("the target could not read the query", ""),
    109: Wording("database unavailable", "database"),
    113: Wording("unsupported attribute type", "attribute type"),
    114: Wording("unsupported search field", "use attribute"),
    115: Wording("unsupported search field", "use attribute"),
    116: Wording("the search needs a search field", ""),
    117: Wording("unsupported relation", "relation attribute"),
    118: Wording("unsupported structure", "structure attribute"),
    119: Wording("unsupported position", "position attribute"),
    120: Wording("unsupported truncation", "truncation attribute"),
    121: Wording("unsupported attribute set", "attribute set"),
    122: Wording("unsupported completeness", "completeness attribute"),
    123: Wording("unsupported combination of attributes", "attributes"),
    126: Wording("a search term the target does not accept", "term"),
    235: Wording("database does not exist", "database"),
    236: Wording("access to the database denied", "database"),
    238: Wording("records not available in the requested syntax", "syntax"),
    239: Wording("record syntax not supported", "syntax"),
}


def describe(code: int, message: str, addinfo: str, diagset: str = "Bib-1") -> str:
    """``unsupported search field (Bib-1 114: use attribute 9999)``: the diagnostic in words, then
    its set, code and the server's detail."""
    wording = BIB1.get(code) if diagset.lower() == "bib-1" else None
    what = wording.what if wording else (message or "diagnostic").lower()
    detail = f"{wording.detail} {addinfo}" if wording and wording.detail and addinfo else addinfo
    return f"{what} ({diagset} {code}: {detail})" if detail else f"{what} ({diagset} {code})"
