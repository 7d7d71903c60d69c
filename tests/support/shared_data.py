"""Where the shared real-data corpus is: ``../shared/data`` beside the checkout (as CI lays it out).

``UNICAT_SHARED_DATA`` overrides it. Tests fail, never skip, when it is missing: they are about that data.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("UNICAT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

if not (SHARED_DATA / "INDEX.md").is_file():
    raise RuntimeError(
        f"the shared test data is not at {SHARED_DATA}; set UNICAT_SHARED_DATA to the folder holding INDEX.md"
    )


def undouble(text: str | None) -> str | None:
    """UTF-8 that was read as latin-1 and encoded again, read back (other text as it is).

    Some real records carry such damage, e.g. the 995 $k call numbers of ``unimarc/cotes*.mrc``
    ("8Â°" where 945 $b of the same records has "8°"); the indexer repairs it, so a test reading a
    record with plain pymarc expects the repaired text. Written from the definition of the damage,
    independently of the indexer's repair.
    """
    try:
        return None if text is None else text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text
