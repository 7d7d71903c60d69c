"""Which records are not books: the kinds of record a union catalogue sets aside at index time.

A library's OAI-PMH feed or dump often mixes authority, holdings and other non-bibliographic records
in with its bibliographic ones. They carry no title to show (their 1XX/2XX is a heading, or there is
none), so mapped as books they become untitled union records. Leader/06 (type of record) says what a
record is, so one byte decides before any field is mapped.

The codes, per family of formats:

- MARC 21 (https://www.loc.gov/marc/ : the Authority, Holdings, Classification and Community
  Information formats' leaders): ``z`` authority; ``u`` ``v`` ``x`` ``y`` holdings; ``w``
  classification; ``q`` community information.
- UNIMARC/Authorities (IFLA, UNIMARC Manual - Authorities Format, Record Label, archived at
  https://archive.ifla.org/VI/3/p1996-1/uniafull.htm): ``x`` authority entry, ``y`` reference entry,
  ``z`` general explanatory entry record — all authority records.
- UNIMARC/Holdings (http://www.unimarc.info/holdings/1/en/000, Record Label): leader/06 is ``a`` ``b``
  ``c`` ``d`` (single-part, multipart, serial, integrating item holdings) or ``u``: the first four are
  bibliographic codes too, so leader/06 cannot tell a UNIMARC holdings record from a book. Such a
  record has no 200 (title) field; it is set aside as untitled instead (:data:`UNTITLED`).

The same byte means different kinds in the two families (``x`` is MARC 21 holdings, UNIMARC
authority), so the family read is the profile the record was read with.
"""

from __future__ import annotations

from unicat.errors import RecordError
from unicat.model import Profile

AUTHORITY = "authority"
HOLDINGS = "holdings"
CLASSIFICATION = "classification"
COMMUNITY_INFORMATION = "community information"
# A record whose title is empty once mapped: nothing a patron could recognise or click.
UNTITLED = "untitled"
# A record with no field that says which MARC it is written in (indexer.flavour): no title tag, no
# 008, no 100, no 101; nothing in it can be read as a bibliographic record.
UNRECOGNISED = "unrecognised format"

# Leader/06 → kind, for the codes that are not bibliographic in each family (sources in module doc).
_KINDS: dict[Profile, dict[str, str]] = {
    "marc21": {
        "z": AUTHORITY,
        "u": HOLDINGS,
        "v": HOLDINGS,
        "x": HOLDINGS,
        "y": HOLDINGS,
        "w": CLASSIFICATION,
        "q": COMMUNITY_INFORMATION,
    },
    "unimarc": {"x": AUTHORITY, "y": AUTHORITY, "z": AUTHORITY},
}


class SetAside(RecordError):
    """A record that reads well but must not become a union record; ``kind`` says why, for counting."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


def check_bibliographic(leader: str, profile: Profile) -> None:
    """Raise :class:`SetAside` when leader/06 marks a non-bibliographic record in ``profile``'s family."""
    code = leader[6:7]
    kind = _KINDS[profile].get(code)
    if kind is not None:
        raise SetAside(kind, f"{kind} record (leader/06 {code!r}): not a bibliographic record")


def check_titled(title: str, profile: Profile) -> None:
    """Raise :class:`SetAside` when mapping gave no title: patrons would see an empty line and link."""
    if not title.strip():
        field = "200" if profile == "unimarc" else "245"
        raise SetAside(
            UNTITLED,
            f"no title after mapping with the {profile} profile (no {field} $a): check the record's "
            "format, or the source's profile",
        )


def unrecognised(leader: str) -> SetAside:
    """The :class:`SetAside` of a record in which :func:`indexer.flavour.detect` found no evidence."""
    return SetAside(
        UNRECOGNISED,
        f"unrecognised format: no 245 or 200 (title), no 008, 100 or 101 (leader {leader!r}): "
        "neither MARC 21 nor UNIMARC; check what the source sends",
    )
