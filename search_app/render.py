"""Templates: one jinja2 environment, compiled once at startup, autoescaping everything it renders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from search_app.state import TEMPLATES

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"
CATALOGUE_NAME = "Unicat — union catalogue"


def make_environment() -> jinja2.Environment:
    """The template environment; ``auto_reload`` is off so templates are compiled once, not per request."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.globals["catalogue_name"] = CATALOGUE_NAME
    return environment


def render(request: web.Request, name: str, context: dict[str, Any], status: int = 200) -> web.Response:
    """Render template ``name`` as an HTML response."""
    template = request.app[TEMPLATES].get_template(name)
    return web.Response(
        text=template.render(context), status=status, content_type="text/html", charset="utf-8"
    )
