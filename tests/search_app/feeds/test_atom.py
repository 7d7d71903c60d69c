"""Atom feeds of union records, read back by a third-party parser (feedparser: no "bozo" error) and
checked against RFC 4287's requirements with lxml: every union record the indexer builds from the
shared real data (MARC21, UNIMARC, and the malformed files), records whose text holds what XML 1.0
forbids, and an empty feed. Expected values come from the records and from the RFCs (4287, 3339)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

import feedparser
import pytest
from lxml import etree

from search_app.feeds.atom import Entry, Feed, write_feed
from tests.search_app.feeds.shared_records import malformed_sources, shared_union_records
from unicat.model import Contributor, Holding, UnionRecord

ATOM = "{http://www.w3.org/2005/Atom}"
SITE = "https://catalogue.example.org"
UPDATED = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
# RFC 3339 §5.6 date-time.
RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.IGNORECASE
)  # fmt: skip
# XML 1.0 §2.2: the characters a record may hold that a document cannot, and the controls it discourages.
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
CHUNK = 400


def feed(**changes: object) -> Feed:
    values: dict[str, object] = {
        "id": f"{SITE}/new",
        "title": "New titles in the network",
        "updated": UPDATED,
        "self_url": f"{SITE}/new.atom",
        "page_url": f"{SITE}/new",
        "author": "Unicat union catalogue",
    }
    return Feed(**{**values, **changes})  # type: ignore[arg-type]


def entries(records: list[UnionRecord]) -> list[Entry]:
    return [Entry(record, UPDATED - timedelta(minutes=n)) for n, record in enumerate(records)]


def parsed(document: str) -> feedparser.FeedParserDict:
    result = feedparser.parse(document.encode("utf-8"))
    assert result.bozo == 0, result.get("bozo_exception")
    assert result.version == "atom10"
    return result


def check_rfc4287(document: str) -> etree._Element:
    """The must-haves of RFC 4287 §4.1.1-4.1.2, read from the XML itself."""
    root = etree.fromstring(document.encode("utf-8"))
    assert root.tag == f"{ATOM}feed"
    feed_has_author = root.find(f"{ATOM}author/{ATOM}name") is not None
    for element in [root, *root.findall(f"{ATOM}entry")]:
        ids, titles, updated = (element.findall(f"{ATOM}{name}") for name in ("id", "title", "updated"))
        assert len(ids) == len(titles) == len(updated) == 1, etree.tostring(element)[:300]
        iri = urlsplit(ids[0].text or "")
        assert iri.scheme and iri.netloc, ids[0].text  # absolute
        assert RFC3339.fullmatch(updated[0].text or ""), updated[0].text
        assert feed_has_author or element.find(f"{ATOM}author/{ATOM}name") is not None
    for link in root.iter(f"{ATOM}link"):
        assert urlsplit(link.get("href") or "").scheme == "https"
    return root


def test_every_record_of_the_shared_data_makes_a_valid_feed() -> None:
    records = list(shared_union_records())
    assert malformed_sources(tuple(records)), "the malformed files gave no record: the test would prove less"
    for start in range(0, len(records), CHUNK):
        chunk = records[start : start + CHUNK]
        document = write_feed(feed(), entries(chunk), SITE)
        check_rfc4287(document)
        result = parsed(document)
        assert len(result.entries) == len(chunk)
        for record, entry in zip(chunk, result.entries, strict=True):
            assert entry.id == f"{SITE}/record/{quote(record.id, safe='')}"
            assert entry.link == entry.id
            if record.title.strip():
                assert entry.title == " ".join(NOT_XML.sub("", record.title).split())


def test_an_empty_feed_is_valid() -> None:
    document = write_feed(feed(), [], SITE)
    root = check_rfc4287(document)
    result = parsed(document)
    assert result.entries == [] and result.feed.title == "New titles in the network"
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == f"{SITE}/new.atom"  # type: ignore[union-attr]
    assert root.find(f"{ATOM}link[@rel='alternate']").get("href") == f"{SITE}/new"  # type: ignore[union-attr]


HOSTILE = "<b>Tom & Jerry</b> ]]> \x00\x1b[1m\x0c \ud800 \ufffe \"quoted\" 'single' — ü ẞ 𝔘"


def hostile_record() -> UnionRecord:
    return UnionRecord(
        id="u/1 ?&#",
        title=HOSTILE,
        responsibility="by <Someone> & co.\x07",
        contributors=[Contributor("Dupont, \x1fJean <jd>"), Contributor("\x01\x02"),
                      Contributor("Dupont, \x1fJean <jd>")],
        subjects=["Cats & dogs", "Mice <and> \x0bmen", ""],
        publisher="Éditions \"Q\" & fils,",
        year=1999,
        holdings=[
            Holding("lib-a", "Library <A> & \x1d"),
            Holding("lib-b", "Library B", site="site-b"),
            Holding("lib-a", "Library <A> & \x1d", call_number="second copy"),
        ],
    )  # fmt: skip


def test_markup_and_characters_xml_forbids_are_escaped_or_dropped() -> None:
    record = hostile_record()
    document = write_feed(
        feed(title="Alerts <&> \x00"), [Entry(record, UPDATED)], SITE, {"site-b": "Bibliothèque B"}
    )
    check_rfc4287(document)
    result = parsed(document)
    entry = result.entries[0]
    assert result.feed.title == "Alerts <&>"
    assert entry.title == " ".join(NOT_XML.sub("", HOSTILE).split())
    assert entry.id == f"{SITE}/record/u%2F1%20%3F%26%23"
    assert [author.name for author in entry.authors] == ["Dupont, Jean <jd>"]
    assert [tag.term for tag in entry.tags] == ["Cats & dogs", "Mice <and> men"]
    summary = entry.summary
    assert summary.startswith('by <Someone> & co. Éditions "Q" & fils, 1999. ')  # ISBD's stops not doubled
    assert "Library <A> &" in summary and "Bibliothèque B" in summary
    assert summary.count("Library <A>") == 1  # a library once, however many copies


def test_an_entry_without_contributors_leaves_the_feed_author_to_stand_for_it() -> None:
    document = write_feed(feed(), [Entry(UnionRecord(id="u1", title="Anonymous"), UPDATED)], SITE)
    root = check_rfc4287(document)
    assert root.find(f"{ATOM}entry/{ATOM}author") is None
    assert root.findtext(f"{ATOM}author/{ATOM}name") == "Unicat union catalogue"


def test_a_record_without_a_title_still_has_one() -> None:
    document = write_feed(
        feed(), [Entry(UnionRecord(id="u2", title="\x00 ", responsibility="Anon"), UPDATED)], SITE
    )
    check_rfc4287(document)
    assert parsed(document).entries[0].title == "Anon"


def test_each_entry_carries_the_instant_it_became_new() -> None:
    became_new = datetime(2026, 12, 1, 23, 30, 5, tzinfo=UTC)
    record = UnionRecord(id="u3", title="T", updated="1990-01-01T00:00:00Z")
    result = parsed(write_feed(feed(), [Entry(record, became_new)], SITE))
    assert result.entries[0].updated == "2026-12-01T23:30:05Z"
    assert result.feed.updated == "2026-12-07T06:00:00Z"


@pytest.mark.parametrize(
    "changes", [{"id": "/new"}, {"self_url": "new.atom"}, {"updated": datetime(2026, 1, 1)}]
)
def test_relative_ids_and_naive_times_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        write_feed(feed(**changes), [], SITE)
