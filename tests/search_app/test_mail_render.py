"""Mail templates rendered in the recipient's language, whatever the current one, as a message whose
two parts Python's ``email`` package reads back: the text part unescaped, the HTML part escaped, both
with the translations the catalogues hold (expected strings read from the .po files)."""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from search_app.i18n import current_language, load_catalogues, use_language
from search_app.mail_render import mail_environment, render_mail
from tests.search_app.test_i18n import translation
from tests.support.smtp_server import html_part, text_part
from unicat import mail
from unicat.settings import Settings

LINK = "https://catalogue.example.org/register/confirm?token=abc&lang=nl"
VALUES = {"catalogue": "Bib <Noord> & Zuid", "hours": 24, "link": LINK}


def parsed(language: str) -> EmailMessage:
    catalogues = load_catalogues()
    use_language("fr", catalogues)  # the reader who caused the message speaks French
    rendered = render_mail(mail_environment(), catalogues, "registration_confirm", language, VALUES)
    assert current_language() == "fr"  # left as it was
    settings = Settings().replace(mail_from="catalogue@example.org")
    composed = mail.compose(
        settings, "jan@example.org", rendered.subject, rendered.text, rendered.html, language
    )
    message = email.message_from_bytes(composed.as_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_a_message_is_written_in_the_recipients_language_in_both_parts() -> None:
    message = parsed("nl")
    subject = translation("nl", "Confirm your account at %(catalogue)s") % {"catalogue": VALUES["catalogue"]}
    assert message["Subject"] == subject and message["Content-Language"] == "nl"
    wanted = translation("nl", "To create it, open this link within %(hours)s hours and press the button:")
    text, html = text_part(message), html_part(message)
    assert (wanted % {"hours": 24}) in text and LINK in text
    assert "Bib <Noord> & Zuid" in text  # plain text is not escaped
    assert 'href="https://catalogue.example.org/register/confirm?token=abc&amp;lang=nl"' in html
    assert "Bib &lt;Noord&gt; &amp; Zuid" in html and "<Noord>" not in html
    assert '<html lang="nl">' in html


def test_english_is_the_source_text() -> None:
    message = parsed("en")
    assert message["Subject"] == "Confirm your account at Bib <Noord> & Zuid"
    assert "If it was not you, do nothing: no account is made without this link." in text_part(message)
