"""Links to a record in a library's own catalogue (its OPAC), from a template the network keeps per library.

A template is an ``http(s)`` URL with placeholders in braces, such as
``https://opac.example.org/cgi-bin/koha/opac-detail.pl?biblionumber={local_id}``. The placeholders are
:data:`PLACEHOLDERS`: ``{local_id}`` is the record's id in that library's system (the union record's
member from that source), ``{isbn}`` and ``{issn}`` the record's first ones, ``{title}`` its title and
``{union_id}`` its id in the union catalogue. A library whose catalogue finds records by ISBN only can
use ``{isbn}``; the link is left out for a record that has none, rather than pointing at an empty search.

Values are percent-encoded whole (``/``, ``?``, ``&`` included), so a value never changes the shape of
the URL it is put in.
"""

from __future__ import annotations

import string
from urllib.parse import quote, urlsplit

from unicat.errors import BadParameter
from unicat.model import UnionRecord

PLACEHOLDERS = ("local_id", "isbn", "issn", "title", "union_id")
MAX_TEMPLATE_LENGTH = 2000

_FORMATTER = string.Formatter()


def placeholders(template: str, param: str = "opac_url") -> list[str]:
    """The placeholders ``template`` uses, in order; :class:`BadParameter` (named ``param``) for one
    that is not in :data:`PLACEHOLDERS`, or for braces that do not make a placeholder."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError:
        message = "a brace is not closed: write placeholders as {local_id}, {isbn}…"
        raise BadParameter(param, message) from None
    names: list[str] = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in PLACEHOLDERS or spec or conversion:
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise BadParameter(
                param,
                f"{shown[:40]!r} is not a placeholder; use some of "
                + ", ".join("{" + known + "}" for known in PLACEHOLDERS),
            )
        names.append(name)
    return names


def check_template(template: str, param: str = "opac_url") -> str:
    """``template`` stripped, if it is an http(s) URL with known placeholders; :class:`BadParameter`
    (named ``param``) saying what to fix otherwise."""
    template = template.strip()
    if len(template) > MAX_TEMPLATE_LENGTH:
        raise BadParameter(param, f"a link template is at most {MAX_TEMPLATE_LENGTH} characters")
    placeholders(template, param)
    # The placeholders are filled with a harmless value to read the URL's scheme and host.
    shape = urlsplit(template.replace("{", "").replace("}", ""))
    if shape.scheme not in ("http", "https") or not shape.netloc or any(c.isspace() for c in template):
        raise BadParameter(
            param,
            "give an http:// or https:// address without spaces, such as "
            "https://opac.example.org/record/{local_id}",
        )
    return template


def values(record: UnionRecord, source_code: str) -> dict[str, str]:
    """What each placeholder stands for in ``record`` as held by ``source_code``; a placeholder the
    record has no value for is absent."""
    found: dict[str, str] = {"union_id": record.id}
    local_ids = [ref.local_id for ref in record.sources if ref.source == source_code]
    if local_ids:
        found["local_id"] = local_ids[0]
    if record.isbns:
        found["isbn"] = record.isbns[0]
    if record.issns:
        found["issn"] = record.issns[0]
    if record.title.strip():
        found["title"] = record.title.strip()
    return found


def render(template: str, record: UnionRecord, source_code: str) -> str | None:
    """The link ``template`` (checked by :func:`check_template`) makes for ``record`` in the catalogue
    of ``source_code``, each value percent-encoded; ``None`` when a placeholder it uses has no value for
    this record (no member from that source for ``{local_id}``, no ISBN for ``{isbn}``…)."""
    known = values(record, source_code)
    used = placeholders(template)
    if any(name not in known for name in used):
        return None
    return template.format_map({name: quote(known[name], safe="") for name in used})
