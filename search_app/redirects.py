"""Where the app may send a browser that names its own next page (``next`` after signing in or
registering): a page of this site, never another site's.

A target is judged as a browser will read it in a ``Location`` header, by a parser of the WHATWG URL
Standard (the one browsers follow): browsers drop tabs and newlines anywhere in a URL and read ``\\``
as ``/``, so ``/\\t/evil.example`` and ``/\\evil.example`` are ``//evil.example``, another site. Control
characters and backslashes are refused before parsing (no page of ours needs them, and a newline
would break the header), then the target must resolve to this site, and so must what is written back:
the parser's serialisation (ASCII, percent-encoded), checked again, since ``/.//evil.example``
normalises to the path ``//evil.example``, which alone in a header would name another host.
Anything else goes to the home page.
"""

from __future__ import annotations

import re

from ada_url import URL

HOME = "/"
MAX_TARGET = 2_000
"""Characters a target may have, before and after percent-encoding (longer: the home page)."""

# C0 controls, DEL and C1 controls (which browsers strip or choke on), and the backslash browsers
# read as a slash.
_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\\]")
# Any origin stands for ours: only whether the target leaves it matters.
_BASE = "https://unicat.invalid/"
_ORIGIN = URL(_BASE).origin


def _same_site_path(target: str) -> str | None:
    """``target`` resolved against this site as a browser resolves it: its path, query and fragment,
    serialised; ``None`` when it leaves the site or does not parse."""
    try:
        url = URL(target, _BASE)
    except ValueError:  # not a URL, or not encodable (a lone surrogate): UnicodeError is a ValueError
        return None
    if url.origin != _ORIGIN:
        return None
    return url.pathname + url.search + url.hash


def safe_next(raw: str | None) -> str:
    """The page to send the browser to instead of ``raw``: ``raw`` itself (serialised) when it is a
    path of this site, the home page otherwise."""
    if not raw or len(raw) > MAX_TARGET or not raw.startswith("/") or _REFUSED.search(raw):
        return HOME
    written = _same_site_path(raw)
    if written is None or len(written) > MAX_TARGET or _same_site_path(written) != written:
        return HOME
    return written
