"""Templates: one jinja2 environment, compiled once at startup, autoescaping everything it renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
import markupsafe
from aiohttp import web

from search_app import i18n
from search_app.auth import viewer
from search_app.state import TEMPLATES

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
CATALOGUE_NAME = i18n.N_("Unicat — union catalogue")


def make_environment() -> jinja2.Environment:
    """The template environment; ``auto_reload`` is off so templates are compiled once, not per request."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=["jinja2.ext.i18n"],
    )
    # Text on pages is written ``{{ _("Search") }}`` or ``{{ _("%(n)s records", n=count) }}`` (new-style
    # gettext: placeholders are filled and escaped by the call, so a translation cannot break markup).
    # The callables translate into the request's language (search_app/i18n.py).
    environment.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    # Translated as each page is rendered (search_app/i18n.py keeps the request's language).
    environment.globals["catalogue_name"] = CATALOGUE_NAME
    environment.globals["language_names"] = i18n.LANGUAGE_NAMES
    environment.filters["paragraphs"] = paragraphs
    environment.filters["utc_time"] = i18n.format_utc_time
    environment.filters["date"] = i18n.format_date
    environment.filters["number"] = i18n.format_number
    environment.filters["decimal"] = i18n.format_decimal
    environment.filters["percent"] = i18n.format_percent
    # A message id held in a variable (marked N_ where it is written): translated as plain text, escaped.
    environment.filters["translate"] = i18n.gettext
    environment.filters["roles"] = i18n.translate_roles
    environment.filters["routing_reason"] = i18n.routing_reason
    return environment


def paragraphs(text: str) -> markupsafe.Markup:
    """Plain text as HTML paragraphs: every character escaped, blank lines between paragraphs and
    single line breaks kept (a reader's comment is never markup)."""
    blocks = [block for block in text.split("\n\n") if block.strip()]
    html = (
        markupsafe.Markup("<p>")
        + markupsafe.Markup("<br>\n").join(markupsafe.escape(line) for line in block.strip("\n").split("\n"))
        + markupsafe.Markup("</p>")
        for block in blocks
    )
    return markupsafe.Markup("\n").join(html)


def render(request: web.Request, name: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """Render template ``name`` as an HTML response; every page knows its viewer (``viewer``: the
    signed-in account or ``None``), whether it is a librarian's (``staff``: only they see the links to
    the librarians' desk and how records were merged) and the CSRF token its forms carry (``csrf``)."""
    template = request.app[TEMPLATES].get_template(name)
    seen = viewer(request)
    full = {
        "viewer": seen.user,
        "staff": seen.is_staff,
        "csrf": seen.csrf,
        "here": request.path_qs,
        "lang": i18n.current_language(),
        "link_lang": i18n.link_language(request),
        "switch_next": i18n.switch_target(request),
        **context,
    }
    text = template.render(full)
    response = web.Response(text=text, status=status, content_type="text/html", charset="utf-8")
    # Pages name who is signed in and carry their token: no shared cache may keep them.
    response.headers["Cache-Control"] = "private, no-cache" if seen.user is None else "private, no-store"
    return response
