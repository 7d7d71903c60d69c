"""E-mail messages from templates (``templates/mail/``), written in the recipient's language.

Each message is two templates: ``NAME.txt``, the text part, which also sets ``subject``, and
``NAME.html``, the HTML part. Strings are marked ``{{ _("…", name=value) }}`` as on pages and are
translated with the catalogue of the language given, not the current request's: a message may be
written for someone else than the reader who caused it (a librarian's action tells a patron).
Only the HTML part is escaped.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from gettext import NullTranslations
from typing import Any

import jinja2

from search_app import i18n
from search_app.render import TEMPLATE_DIR

MAIL_DIR = TEMPLATE_DIR / "mail"


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def mail_environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(MAIL_DIR),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=False, default=False),
        auto_reload=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]  # added by the extension
        i18n.gettext, i18n.ngettext, newstyle=True, pgettext=i18n.pgettext
    )
    environment.filters["routing_reason"] = i18n.routing_reason
    return environment


def render_mail(
    environment: jinja2.Environment,
    catalogues: dict[str, NullTranslations],
    name: str,
    language: str,
    values: dict[str, Any],
) -> RenderedMail:
    """The message ``name`` in ``language``; the caller's own language is left as it was."""
    return contextvars.copy_context().run(_render, environment, catalogues, name, language, values)


def _render(
    environment: jinja2.Environment,
    catalogues: dict[str, NullTranslations],
    name: str,
    language: str,
    values: dict[str, Any],
) -> RenderedMail:
    i18n.use_language(language, catalogues)
    context = {**values, "language": language}
    text = environment.get_template(f"{name}.txt").make_module(context)
    subject = " ".join(str(getattr(text, "subject", "")).split())  # one line, whatever the template
    if not subject:
        raise ValueError(f"the mail template {name}.txt sets no subject")
    html = environment.get_template(f"{name}.html").render({**context, "subject": subject})
    return RenderedMail(subject, str(text).strip() + "\n", html)
