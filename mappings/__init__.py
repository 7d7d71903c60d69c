"""Data, not code: MARC field maps, facet labels, the demo network (and later index definitions).

A librarian can read and change these files; this module only tells the code where they are, so that
they are found the same way in a source checkout and in an installed wheel.
"""

from pathlib import Path

MAPPINGS_DIR = Path(__file__).resolve().parent
