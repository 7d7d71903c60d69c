"""Which query parameters a request may carry that its handler does not read.

A page is opened from links people share, and those links collect whatever a mailer, a social network
or an analytics tool appends (``utm_source``, ``fbclid``…): a page ignores every parameter it does not
know, so such a link always opens. The JSON API is read by scripts, whose authors want to hear of a
mistyped name (``pagesize`` for ``page_size``) instead of getting the default in silence: it ignores
the well-known tracking parameters only and answers any other unknown name with a 400 naming it.
A bad value of a parameter a handler does know is a 400 on both.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from search_app.i18n import LANG_PARAM
from unicat.errors import BadParameter

TRACKING_PREFIXES = ("utm_",)
"""Campaign parameters (Google Analytics' ``utm_source``, ``utm_medium``… and their kin)."""
TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_ga"}
)
"""Click identifiers that advertisers and mailers append to links."""


def is_tracking(name: str) -> bool:
    """Whether ``name`` is a tracking parameter that no handler reads."""
    return name in TRACKING_PARAMETERS or name.startswith(TRACKING_PREFIXES)


def check_api_parameters(params: Mapping[str, Sequence[str]], known: Collection[str]) -> None:
    """:class:`BadParameter` naming the first parameter an API handler neither reads nor ignores
    (``lang``, the interface's language, is taken everywhere: search_app/i18n.py)."""
    unknown = sorted(
        name for name in params if name not in known and name != LANG_PARAM and not is_tracking(name)
    )
    if unknown:
        raise BadParameter(unknown[0], f"unknown parameter; known: {', '.join(sorted(known))}")
