"""Where the shared real-data corpus is: ``../shared/data`` beside the checkout (as CI lays it out).

``UNICAT_SHARED_DATA`` overrides it. Tests fail, never skip, when it is missing: they are about that data.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("UNICAT_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))

if not (SHARED_DATA / "INDEX.md").is_file():
    raise RuntimeError(
        f"the shared test data is not at {SHARED_DATA}; set UNICAT_SHARED_DATA to the folder holding INDEX.md"
    )
