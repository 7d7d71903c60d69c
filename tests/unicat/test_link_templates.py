"""Link templates to a record in a library's own catalogue: checked, then filled percent-encoded."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

import pytest

from unicat.errors import BadParameter
from unicat.link_templates import PLACEHOLDERS, check_template, render
from unicat.model import SourceRef, UnionRecord

RECORD = UnionRecord(
    id="u-rivers",
    title="Rivers & roads: a/b? 100%",
    isbns=["9782070360024", "2070360024"],
    sources=[SourceRef("lyon", "BIB 42/7"), SourceRef("scpo", "054273242")],
)
KOHA = "https://opac.lyon.example/cgi-bin/koha/opac-detail.pl?biblionumber={local_id}"


def test_a_template_is_filled_with_the_local_id_of_that_library() -> None:
    assert render(check_template(KOHA), RECORD, "scpo") == KOHA.replace("{local_id}", "054273242")


def test_values_are_percent_encoded_whole_so_they_cannot_change_the_url() -> None:
    template = check_template("https://opac.example.org/find?id={local_id}&t={title}&u={union_id}")
    url = render(template, RECORD, "lyon")
    assert url is not None
    query = urlsplit(url).query
    # Three parameters still, whatever "&", "?", "/" and "%" the values hold; each decodes to the value.
    parts = dict(part.split("=", 1) for part in query.split("&"))
    assert {name: unquote(value) for name, value in parts.items()} == {
        "id": "BIB 42/7",
        "t": RECORD.title,
        "u": "u-rivers",
    }
    assert " " not in url and "/7" not in url


def test_no_link_when_a_placeholder_has_no_value_for_the_record() -> None:
    assert render(KOHA, RECORD, "uva") is None  # no member record from uva
    assert render("https://x.example/issn/{issn}", RECORD, "lyon") is None  # no ISSN
    assert render("https://x.example/isbn/{isbn}", RECORD, "uva") == "https://x.example/isbn/9782070360024"


@pytest.mark.parametrize(
    ("template", "named"),
    [
        ("https://x.example/{biblionumber}", "{biblionumber}"),
        ("https://x.example/{local_id!r}", "{local_id!r}"),
        ("https://x.example/{isbn:>20}", "{isbn:>20}"),
        ("https://x.example/{}", "{}"),
    ],
)
def test_unknown_placeholders_are_named_in_the_error(template: str, named: str) -> None:
    with pytest.raises(BadParameter) as raised:
        check_template(template)
    assert named in raised.value.message
    assert all("{" + name + "}" in raised.value.message for name in PLACEHOLDERS)


@pytest.mark.parametrize(
    "template",
    [
        "javascript:alert(1)//{local_id}",
        "ftp://opac.example.org/{local_id}",
        "opac.example.org/{local_id}",
        "https:///{local_id}",
        "https://opac.example.org/a b/{local_id}",
        "https://opac.example.org/{local_id",
    ],
)
def test_only_http_and_https_addresses_are_templates(template: str) -> None:
    with pytest.raises(BadParameter) as raised:
        check_template(template, "opac")
    assert raised.value.param == "opac"
