"""Which MARC a record is written in (MARC 21 or UNIMARC), from the record's own evidence.

A source declares one profile, but real feeds mix flavours: a MARC 21 file can carry UNIMARC-family
records (Chinese CNMARC-like records converted by a tool that kept a MARC 21 leader and 008), and read
with the wrong profile such a record has no title and an author line of coded data. UNIMARC's national
variants (CNMARC, RUSMARC) share its tags and read as UNIMARC.

The evidence, judged from what the record's directory and leader show before anything is decoded
(tags, four leader bytes, the first bytes of 100 $a), each hint with a weight:

- Title (weight 3): MARC 21's title statement is 245, UNIMARC's title and statement of responsibility
  is 200 (200 is not a MARC 21 bibliographic tag, 245 not a UNIMARC one). Only one of the two counts.
- 100 $a (weight 2 for UNIMARC, 1 for MARC 21): UNIMARC 100 is "general processing data", coded,
  starting with the date entered on file (YYYYMMDD, 8 digits) and a type-of-date letter; MARC 21 100
  is the main entry's personal name, which starts with no digit.
- 008 (weight 1) is MARC 21's fixed-length data elements (UNIMARC defines no 008); 101 (weight 1) is
  UNIMARC's language of the item (not a MARC 21 bibliographic tag).
- Leader/20-23, the entry map (weight 1): MARC 21 fixes ``4500``
  (https://www.loc.gov/marc/bibliographic/bdleader.html); UNIMARC fixes ``450 `` (UNIMARC Manual -
  Bibliographic Format, Record Label: https://archive.ifla.org/VI/3/p1996-1/uni.htm, which also
  defines 100 and 101). Conversion tools often leave the leader as it was, so it weighs little.

The declared profile wins unless the other flavour leads by :data:`FLIP_MARGIN` points *and* rests on
at least two different hints: a record is never read against its source on one hint, nor when the
evidence is weak or split. A record that shows no field evidence at all (no title tag, no 008, no 100,
no 101) is nothing Unicat can read as a bibliographic record: :func:`detect` says so, and the indexer
sets it aside (:data:`indexer.record_kinds.UNRECOGNISED`).
"""

from __future__ import annotations

import re
from collections.abc import Container
from dataclasses import dataclass

from unicat.model import Profile

TITLE_WEIGHT = 3
CODED_100_WEIGHT = 2
HINT_WEIGHT = 1
FLIP_MARGIN = 3
MIN_HINTS = 2

NAMES: dict[Profile, str] = {"marc21": "MARC 21", "unimarc": "UNIMARC"}

# UNIMARC 100 $a/0-8: date entered on file (YYYYMMDD) and the type of publication date (a letter).
_CODED_100_RE = re.compile(r"[0-9]{8}[a-z]")


@dataclass(frozen=True, slots=True)
class Flavour:
    """The profile a record is read with (``None``: no flavour recognised) and, when that is not the
    declared one, the warning that says why."""

    profile: Profile | None
    warning: str = ""

    @property
    def corrected(self) -> bool:
        return bool(self.warning)


def detect(declared: Profile, leader: str, tags: Container[str], head_100a: str | None) -> Flavour:
    """The flavour of a record whose field tags are ``tags``, ``head_100a`` the first 9 characters of
    its 100 $a (``None`` without one), declared ``declared`` by its source."""
    own_title, other_title = _TITLE_TAGS[declared]
    if own_title in tags and other_title not in tags:
        # The declared flavour's title outweighs everything the other can show (SETTLED_BY_TITLE):
        # nearly every record stops here, without weighing the rest.
        return _AS_DECLARED[declared]
    hints = _hints(leader, tags, head_100a)
    if hints is None:
        return _UNRECOGNISED
    other: Profile = "unimarc" if declared == "marc21" else "marc21"
    for_other = [hint for hint in hints if hint[0] == other]
    for_declared = [hint for hint in hints if hint[0] == declared]
    lead = sum(weight for _, weight, _ in for_other) - sum(weight for _, weight, _ in for_declared)
    if lead < FLIP_MARGIN or len(for_other) < MIN_HINTS:
        return _AS_DECLARED[declared]
    evidence = "; ".join(hint for _, _, hint in for_other)
    against = f"; against: {', '.join(hint for _, _, hint in for_declared)}" if for_declared else ""
    return Flavour(
        other,
        f"source declares {NAMES[declared]}; the record is {NAMES[other]} ({evidence}{against}): "
        f"read as {NAMES[other]}",
    )


_TITLE_TAGS: dict[Profile, tuple[str, str]] = {"marc21": ("245", "200"), "unimarc": ("200", "245")}
# The most the other flavour can score without the title (UNIMARC: coded 100 $a, 101 and the leader;
# MARC 21: a name in 100 $a, 008 and the leader), less the declared title's weight, stays under the
# margin a flip needs: a record with its declared title tag and not the other's is never flipped.
SETTLED_BY_TITLE = max(CODED_100_WEIGHT + 2 * HINT_WEIGHT, 3 * HINT_WEIGHT) - TITLE_WEIGHT < FLIP_MARGIN
_UNRECOGNISED = Flavour(None)
_AS_DECLARED: dict[Profile, Flavour] = {"marc21": Flavour("marc21"), "unimarc": Flavour("unimarc")}
# A hint: the flavour it speaks for, its weight, and how a warning names it.
_Hint = tuple[Profile, int, str]


def _hints(leader: str, tags: Container[str], head_100a: str | None) -> list[_Hint] | None:
    """What the record shows of either flavour; ``None`` when no field shows anything (the leader's
    entry map alone is no bibliographic record)."""
    hints: list[_Hint] = []
    has_245 = "245" in tags
    has_200 = "200" in tags
    if has_245 and not has_200:
        hints.append(("marc21", TITLE_WEIGHT, "title in 245"))
    elif has_200 and not has_245:
        hints.append(("unimarc", TITLE_WEIGHT, "title in 200, no 245"))
    if head_100a:
        if _CODED_100_RE.match(head_100a):
            hints.append(("unimarc", CODED_100_WEIGHT, f"100 $a is coded data ({head_100a!r})"))
        elif not head_100a[0].isdigit():
            hints.append(("marc21", HINT_WEIGHT, "100 $a is a name"))
    if "008" in tags:
        hints.append(("marc21", HINT_WEIGHT, "008 present"))
    if "101" in tags:
        hints.append(("unimarc", HINT_WEIGHT, "101 present"))
    if not hints:
        return None
    entry_map = leader[20:24]
    if entry_map == "4500":
        hints.append(("marc21", HINT_WEIGHT, "leader/20-23 '4500'"))
    elif entry_map == "450 ":
        hints.append(("unimarc", HINT_WEIGHT, "leader/20-23 '450 '"))
    return hints
