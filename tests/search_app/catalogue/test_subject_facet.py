"""The subject facet on the results page: counted from search_app_catalogue.RECORDS, its links filter."""

from __future__ import annotations

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import lxml.html

from tests.search_app.search_app_catalogue import RECORDS, Client


async def page(client: Client, path: str) -> lxml.html.HtmlElement:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return lxml.html.fromstring(await response.text())


def text_of(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def subject_links(doc: lxml.html.HtmlElement) -> dict[str, tuple[int, str]]:
    """Label → (count, link) of every value shown in the subject facet."""
    section = doc.get_element_by_id("facet-subject").getparent()
    shown: dict[str, tuple[int, str]] = {}
    for link in section.find_class("facet__link"):
        label = text_of(link.find_class("facet__label")[0]).removeprefix("Remove filter: ")
        count = int(text_of(link.find_class("facet__count")[0]).split()[0].replace(",", ""))
        shown[label] = (count, link.get("href") or "")
    return shown


def main_headings(record_subjects: list[str]) -> set[str]:
    return {subject.split(" -- ")[0] for subject in record_subjects}


async def test_subject_facet_shows_main_headings_and_its_links_filter(client: Client) -> None:
    austen = [r for r in RECORDS if any("Austen" in author for author in r.authors)]
    expected = Counter(heading for r in austen for heading in main_headings(r.subjects))
    doc = await page(client, "/search?q=austen")
    shown = subject_links(doc)
    assert {label: count for label, (count, _) in shown.items()} == dict(expected)
    order = [section.get("id") for section in doc.xpath('//*[starts-with(@id, "facet-")]')]
    assert order[-1] == "facet-subject"


async def test_subject_facet_links_filter(client: Client) -> None:
    austen = [r for r in RECORDS if any("Austen" in author for author in r.authors)]
    heading = "Courtship"
    _, link = subject_links(await page(client, "/search?q=austen"))[heading]
    assert parse_qs(urlsplit(link).query) == {"q": ["austen"], "subject": [heading]}
    narrowed = await page(client, link)
    titles = {text_of(h) for h in narrowed.find_class("result-card__title")}
    assert titles == {r.title for r in austen if heading in main_headings(r.subjects)}
    assert "Remove filter" in text_of(narrowed.find_class("is-selected")[0])
