"""Record text as one line a reader can read: what a feed or an e-mail shows of a MARC field.

MARC fields carry newlines and runs of spaces, control codes from damaged records (which XML 1.0
cannot carry at all), and the C1 controls U+0098/U+009C that MARC 21 uses to mark the words a title
sorts without: a feed reader or a mail reader would show them as junk, or refuse the document.
"""

from __future__ import annotations

import re

# XML 1.0 §2.2: what its Char production leaves out, and the controls it discourages (U+0085, a line
# break, becomes a space like the others).
_NOT_SHOWN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")


def one_line(text: str | None) -> str:
    """``text`` without control codes, its white space runs made single spaces, trimmed."""
    return " ".join(_NOT_SHOWN.sub("", text or "").split())
