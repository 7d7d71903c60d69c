"""The message catalogues: every message the interface shows has a French and a Dutch translation,
and the template (``messages.pot``) holds exactly what the code and templates mark today.

Run ``pybabel extract`` and ``pybabel update`` when this fails (docs/translations.md says how).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from search_app.i18n import DOMAIN, LOCALE_DIR, SOURCE_LANGUAGE
from unicat.settings import SUPPORTED_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [language for language in SUPPORTED_LANGUAGES if language != SOURCE_LANGUAGE]


def read_catalogue(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file)


def ids(catalogue: Catalog) -> set[str | tuple[str, ...]]:
    return {message.id for message in catalogue if message.id}


def extracted_now() -> set[str | tuple[str, ...]]:
    """The messages babel.cfg's extraction finds in the sources as they are."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file)
    found: set[str | tuple[str, ...]] = set()
    for _, _, message, _, _ in extract_from_dir(
        str(ROOT),
        method_map,
        options_map,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)},
    ):
        found.add(message if isinstance(message, str) else tuple(message))
    return {message for message in found if message}


def test_the_template_is_up_to_date_with_the_code_and_templates() -> None:
    template = ids(read_catalogue(LOCALE_DIR / f"{DOMAIN}.pot"))
    now = extracted_now()
    assert now - template == set(), "marked in the sources but missing from messages.pot: re-extract"
    assert template - now == set(), "in messages.pot but no longer in the sources: re-extract"


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_message_is_translated(language: str) -> None:
    template = ids(read_catalogue(LOCALE_DIR / f"{DOMAIN}.pot"))
    catalogue = read_catalogue(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")
    translated = {
        message.id
        for message in catalogue
        if message.id
        and not message.fuzzy
        and (all(message.string) if isinstance(message.string, tuple) else message.string)
    }
    missing = sorted(str(message) for message in template - translated)
    assert missing == [], f"{language}: {len(missing)} messages without a translation (or fuzzy)"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_their_placeholders(language: str) -> None:
    """A translation that drops or renames a %(name)s would fail when the page is rendered."""
    catalogue = read_catalogue(LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po")
    for message in catalogue:
        if not message.id or not message.python_format:
            continue
        assert not message.check(catalogue), message.id
