"""The e-mail digest of a saved search's alert: the titles new since the last one, as an outbox message.

A digest is written in its reader's language (the templates ``mail/alert_digest.*``, rendered by
:func:`search_app.mail_render.render_mail`), lists the first :data:`LISTED` new titles and says how
many more there are with a link to all of them, and ends with the links to the saved search, to the
reader's alerts and to stop the alert. The unsubscribe link works without signing in: the caller signs
it (:mod:`unicat.signed_links`) and passes it in, as it passes every other address, already absolute.

The message is returned, not stored: the caller enqueues it in the transaction that records the
digest as sent (:func:`unicat.stores.outbox.enqueue_in`), under a key naming the saved search and the
period, so that a run that crashes and starts again stores it once.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from gettext import NullTranslations
from typing import Literal

import jinja2

from search_app.display_text import one_line
from search_app.mail_render import mail_environment, render_mail
from unicat.outbox import MAX_KEY, Message
from unicat.settings import SUPPORTED_LANGUAGES

KIND = "alert.digest"
TEMPLATE = "alert_digest"
LISTED = 20
"""Titles a digest lists at most; the others are counted, behind a link to all of them."""

Period = Literal["daily", "weekly"]
PERIODS: tuple[Period, ...] = ("daily", "weekly")


@dataclass(frozen=True, slots=True)
class NewTitle:
    """One new title as the digest shows it; ``libraries`` are the holding libraries' names in the
    reader's language, ``link`` the record page's absolute address."""

    title: str
    link: str
    responsibility: str | None = None
    year: int | None = None
    libraries: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Digest:
    """What one digest tells one reader. ``titles`` are the new titles in the order to show (more
    than :data:`LISTED` may be given: the rest are counted); ``total`` is how many are new in all
    (at least ``len(titles)``); ``all_url`` lists all of them (the saved search limited to the new
    ones); ``reader`` is the name to greet, empty for none."""

    reader: str
    language: str
    search: str
    search_url: str
    titles: Sequence[NewTitle]
    total: int
    period: Period
    all_url: str
    unsubscribe_url: str
    manage_url: str


@functools.cache
def _templates() -> jinja2.Environment:
    """One environment for every digest (it caches compiled templates; rendering is thread-safe)."""
    return mail_environment()


def digest_message(
    digest: Digest,
    *,
    recipient: str,
    key: str,
    catalogue: str,
    catalogues: dict[str, NullTranslations],
    listed: int = LISTED,
) -> Message:
    """The outbox message of ``digest`` to ``recipient`` (kind :data:`KIND`, stored under ``key``),
    from ``catalogue`` (the catalogue's name), in the digest's language with ``catalogues`` (the
    app's translations). :class:`ValueError` when the digest contradicts itself."""
    _check(digest, key)
    shown = [_shown(title) for title in digest.titles[:listed]]
    values = {
        "catalogue": catalogue,
        "reader": one_line(digest.reader),
        "search": one_line(digest.search),
        "search_url": digest.search_url,
        "titles": shown,
        "total": digest.total,
        "more": digest.total - len(shown),
        "period": digest.period,
        "all_url": digest.all_url,
        "unsubscribe_url": digest.unsubscribe_url,
        "manage_url": digest.manage_url,
    }
    rendered = render_mail(_templates(), catalogues, TEMPLATE, digest.language, values)
    return Message(
        recipient,
        rendered.subject,
        rendered.text,
        kind=KIND,
        key=key,
        language=digest.language,
        html=rendered.html,
    )


def _shown(title: NewTitle) -> NewTitle:
    """A title as a mail reader can show it: record text carries control codes and line breaks."""
    return NewTitle(
        one_line(title.title),
        title.link,
        one_line(title.responsibility),
        title.year,
        tuple(one_line(name) for name in title.libraries),
    )


def _check(digest: Digest, key: str) -> None:
    if digest.language not in SUPPORTED_LANGUAGES:
        raise ValueError(
            f"a digest's language is one of {', '.join(SUPPORTED_LANGUAGES)}: {digest.language!r}"
        )
    if digest.period not in PERIODS:
        raise ValueError(f"a digest's period is one of {', '.join(PERIODS)}: {digest.period!r}")
    if not digest.titles or digest.total < len(digest.titles):
        raise ValueError(
            f"a digest tells of at least one title and of no fewer than it lists "
            f"(total {digest.total}, titles {len(digest.titles)}): send none when nothing is new"
        )
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"an outbox key is 1-{MAX_KEY} characters: {key[:40]!r}")
