"""SRU at /sru over real HTTP, on both engines, over real MARC records (see sru_catalogue.py).

Expected counts come from the MARC fields read with pymarc; the responses are parsed as XML.
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import pytest
from lxml import etree

from tests.indexer.indexer_testdata import field_bytes, iso2709_records
from tests.search_app.sru import sru_catalogue
from tests.search_app.sru.sru_catalogue import MEL_RECORDS, Served, UvaRecord, matching
from unicat.oai_protocol import DC_NS, MARC_NS

# The module-scoped fixtures of the catalogue (served on each engine, and its MARC facts).
served = sru_catalogue.served
uva = sru_catalogue.uva

# uva_001_2000.mrc records whose 008/22 codes a target audience (see test_target_audience_index_and_facet).
JUVENILE_BOOKS = {"u482", "u500", "u626", "u665"}
ADULT_VIDEOS = {"u251", "u1109"}

SRU12 = "http://www.loc.gov/zing/srw/"
SRU2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
DIAG12 = "http://www.loc.gov/zing/srw/diagnostic/"
DIAG2 = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
NS = {
    "s1": SRU12,
    "s2": SRU2,
    "d1": DIAG12,
    "d2": DIAG2,
    "m": MARC_NS,
    "zr": "http://explain.z3950.org/dtd/2.0/",
}


def get(served: Served, **params: str) -> tuple[int, str, etree._Element]:
    """(HTTP status, content type, parsed body) of ``/sru`` with ``params``."""
    url = f"{served.url}/sru?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=60) as answer:
            return answer.status, answer.headers["Content-Type"], etree.fromstring(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], etree.fromstring(error.read())


def search(served: Served, query: str, version: str = "2.0", **params: str) -> etree._Element:
    status, _, root = get(served, operation="searchRetrieve", version=version, query=query, **params)
    assert status == 200, etree.tostring(root)
    return root


def count(served: Served, query: str, version: str = "2.0") -> int:
    root = search(served, query, version, maximumRecords="0")
    prefix = "s2" if version == "2.0" else "s1"
    return int(root.findtext(f"{prefix}:numberOfRecords", namespaces=NS) or "-1")


def local_ids(served: Served, query: str) -> set[str]:
    """The UVA local ids (901 $b) of every record the query finds, walking the pages."""
    found: set[str] = set()
    start = 1
    while True:
        root = search(served, query, startRecord=str(start), maximumRecords="100")
        for record in root.iterfind(".//m:record", NS):
            found.update(record.xpath("m:datafield[@tag='901']/m:subfield[@code='b']/text()", namespaces=NS))
        following = root.findtext("s2:nextRecordPosition", namespaces=NS)
        if following is None:
            return found
        start = int(following)


def diagnostic(served: Served, version: str = "2.0", **params: str) -> tuple[int, str, str]:
    """(HTTP status, diagnostic number, details) of a request that must fail."""
    status, content_type, root = get(served, version=version, **params)
    # The answer is in the version asked, or the nearest one spoken (2.0 for a 3.0).
    v2 = root.tag.startswith(f"{{{SRU2}}}")
    prefix = "d2" if v2 else "d1"
    uri = root.findtext(f".//{prefix}:diagnostic/{prefix}:uri", namespaces=NS)
    assert uri is not None and uri.startswith("info:srw/diagnostic/1/"), etree.tostring(root)
    assert content_type.startswith("application/sru+xml" if v2 else "application/xml")
    details = root.findtext(f".//{prefix}:diagnostic/{prefix}:details", namespaces=NS) or ""
    return status, uri.rsplit("/", 1)[1], details


def test_every_record_is_one_union_record(served: Served, uva: list[UvaRecord]) -> None:
    assert count(served, "cql.allRecords=1") == len(uva) + MEL_RECORDS
    assert count(served, "unicat.library=uva") == len(uva)
    assert count(served, "bath.possessingInstitution=mel") == MEL_RECORDS


@pytest.mark.parametrize("index", ["dc.title", "bath.title", "title"])
def test_title(served: Served, uva: list[UvaRecord], index: str) -> None:
    expected = matching(uva, lambda r: "history" in r.title)
    assert len(expected) > 20
    assert local_ids(served, f"{index} = history and unicat.library = uva") == expected


@pytest.mark.parametrize("index", ["dc.creator", "bath.name", "bath.author"])
def test_creator(served: Served, uva: list[UvaRecord], index: str) -> None:
    expected = matching(uva, lambda r: "john" in r.author)
    assert len(expected) > 10
    assert local_ids(served, f"{index} = john and unicat.library = uva") == expected


@pytest.mark.parametrize("index", ["dc.subject", "bath.subject"])
def test_subject(served: Served, uva: list[UvaRecord], index: str) -> None:
    expected = matching(uva, lambda r: "politics" in r.subject)
    assert len(expected) > 5
    assert local_ids(served, f"{index} = politics and unicat.library = uva") == expected


def test_relations_all_any_adj(served: Served, uva: list[UvaRecord]) -> None:
    both = matching(uva, lambda r: {"united", "states"} <= r.subject)
    either = matching(uva, lambda r: bool({"congress", "senate"} & r.subject))
    uva_only = " and unicat.library=uva"
    assert local_ids(served, 'dc.subject all "united states"' + uva_only) == both
    assert local_ids(served, 'dc.subject any "congress senate"' + uva_only) == either
    adjacent = local_ids(served, 'dc.subject adj "united states"' + uva_only)
    assert adjacent <= both and len(adjacent) > len(both) // 2


def test_booleans_are_real(served: Served, uva: list[UvaRecord]) -> None:
    history = matching(uva, lambda r: "history" in r.title)
    poems = matching(uva, lambda r: "poems" in r.title)
    virginia = matching(uva, lambda r: "virginia" in r.title)
    uva_only = "unicat.library=uva and "
    assert local_ids(served, uva_only + "(title=history or title=poems)") == history | poems
    assert local_ids(served, uva_only + "title=history not title=virginia") == history - virginia
    assert local_ids(served, uva_only + "(title=history or title=virginia) not title=poems") == (
        (history | virginia) - poems
    )
    # Left to right, one precedence: "a or b and c" is "(a or b) and c".
    assert local_ids(served, "title=history or title=poems and unicat.library=uva") == history | poems


def test_prefix_masking(served: Served, uva: list[UvaRecord]) -> None:
    expected = matching(uva, lambda r: any(word.startswith("virgin") for word in r.title))
    assert local_ids(served, "title=virgin* and unicat.library=uva") == expected
    assert len(expected) > len(matching(uva, lambda r: "virginia" in r.title))


def test_dates(served: Served, uva: list[UvaRecord]) -> None:
    def years(low: int, high: int) -> set[str]:
        return matching(uva, lambda r: r.year is not None and low <= r.year <= high)

    uva_only = " and unicat.library=uva"
    assert local_ids(served, 'dc.date within "1980 1984"' + uva_only) == years(1980, 1984)
    assert local_ids(served, "dc.date < 1850" + uva_only) == years(0, 1849)
    assert local_ids(served, "dc.date >= 1990" + uva_only) == years(1990, 9999)
    assert local_ids(served, "dc.date = 1984" + uva_only) == years(1984, 1984)
    assert count(served, "dc.date <> 1984" + uva_only) == len(uva) - len(years(1984, 1984))


def test_identifier_normalised(served: Served, uva: list[UvaRecord]) -> None:
    with_isbn = next(record for record in uva if record.isbns)
    isbn13 = sorted(with_isbn.isbns)[0]
    core = isbn13[3:12]
    check = sum((10 - i) * int(d) for i, d in enumerate(core)) % 11
    isbn10 = core + ("X" if (11 - check) % 11 == 10 else str((11 - check) % 11))
    hyphenated = f"{isbn10[0]}-{isbn10[1:4]}-{isbn10[4:9]}-{isbn10[9]}"
    expected = matching(uva, lambda r: isbn13 in r.isbns)
    for query in (f"bath.isbn={isbn13}", f"dc.identifier={hyphenated}", f"bath.standardIdentifier={isbn10}"):
        assert local_ids(served, query) == expected, query
    assert local_ids(served, isbn10) == expected  # a bare ISBN, as the web search takes it


def test_paging_walks_every_record_once(served: Served, uva: list[UvaRecord]) -> None:
    query = "title=history and unicat.library=uva"
    total = len(matching(uva, lambda r: "history" in r.title))
    seen: list[str] = []
    start = 1
    while True:
        root = search(served, query, startRecord=str(start), maximumRecords="7")
        positions = [int(p) for p in root.xpath("//s2:recordPosition/text()", namespaces=NS)]
        assert positions == list(range(start, start + len(positions)))
        seen += root.xpath("//m:controlfield[@tag='001']/text()", namespaces=NS)
        following = root.findtext("s2:nextRecordPosition", namespaces=NS)
        if following is None:
            break
        start = int(following)
    assert len(seen) == len(set(seen)) == total
    # Starting anywhere, not only on a multiple of the page size.
    root = search(served, query, startRecord="4", maximumRecords="5")
    assert root.xpath("//m:controlfield[@tag='001']/text()", namespaces=NS) == seen[3:8]


def test_sort_by_date(served: Served) -> None:
    root = search(served, "unicat.library=uva sortBy dc.date/sort.descending", maximumRecords="20")
    years = [int(y[7:11]) for y in root.xpath("//m:controlfield[@tag='008']/text()", namespaces=NS)]
    assert years == sorted(years, reverse=True)
    root = search(served, "unicat.library=uva", version="1.2", sortKeys="dc.date,,1", maximumRecords="20")
    years = [int(y[7:11]) for y in root.xpath("//m:controlfield[@tag='008']/text()", namespaces=NS)]
    assert years == sorted(years)


def test_versions_and_schemas(served: Served) -> None:
    root = search(served, "title=history", version="1.2", recordSchema="dc", maximumRecords="2")
    assert root.tag == f"{{{SRU12}}}searchRetrieveResponse"
    assert root.findtext("s1:version", namespaces=NS) == "1.2"
    record = root.find("s1:records/s1:record", NS)
    assert record is not None
    assert record.findtext("s1:recordSchema", namespaces=NS) == "info:srw/schema/1/dc-v1.1"
    dc = record.find("s1:recordData/*", NS)
    assert dc is not None and dc.tag == "{info:srw/schema/1/dc-schema}dc"
    assert "history" in (dc.findtext(f"{{{DC_NS}}}title") or "").lower()
    root = search(served, "title=history", recordSchema="info:srw/schema/1/marcxml-v1.1", maximumRecords="1")
    assert root.tag == f"{{{SRU2}}}searchRetrieveResponse"
    assert root.find("s2:version", NS) is None  # removed in 2.0
    assert root.find("s2:records/s2:record/s2:recordData/m:record", NS) is not None
    assert root.findtext("s2:records/s2:record/s2:recordXMLEscaping", namespaces=NS) == "xml"
    echoed = root.find("s2:echoedSearchRetrieveRequest", NS)
    assert echoed is not None and echoed.findtext("s2:query", namespaces=NS) == "title=history"


def test_string_packing(served: Served) -> None:
    root = search(served, "title=history", version="1.2", recordPacking="string", maximumRecords="1")
    data = root.findtext("s1:records/s1:record/s1:recordData", namespaces=NS) or ""
    assert etree.fromstring(data.encode()).tag == f"{{{MARC_NS}}}record"
    root = search(served, "title=history", recordXMLEscaping="string", maximumRecords="1")
    data = root.findtext("s2:records/s2:record/s2:recordData", namespaces=NS) or ""
    assert etree.fromstring(data.encode()).tag == f"{{{MARC_NS}}}record"


def test_post(served: Served) -> None:
    body = urllib.parse.urlencode({"operation": "searchRetrieve", "version": "1.2", "query": "title=history"})
    with urllib.request.urlopen(f"{served.url}/sru", data=body.encode(), timeout=60) as answer:
        root = etree.fromstring(answer.read())
    assert int(root.findtext("s1:numberOfRecords", namespaces=NS) or 0) > 20


def test_facets(served: Served, uva: list[UvaRecord]) -> None:
    root = search(served, "cql.allRecords=1", maximumRecords="0", facetLimit="5:unicat.library,3:dc.date")
    facets = {
        facet.findtext("{*}index"): {
            term.findtext("{*}actualTerm"): int(term.findtext("{*}count") or 0)
            for term in facet.iterfind(".//{*}term")
        }
        for facet in root.iterfind("s2:facetedResults/{*}facet", NS)
    }
    assert facets["unicat.library"] == {"uva": len(uva), "mel": MEL_RECORDS}
    assert len(facets["dc.date"]) == 3
    decade, decade_count = next(iter(facets["dc.date"].items()))
    assert count(served, f'dc.date within "{decade}"') == decade_count


def _facets(root: etree._Element) -> dict[str, dict[str, int]]:
    """Index → term → count of a response's facetedResults."""
    return {
        facet.findtext("{*}index") or "": {
            term.findtext("{*}actualTerm") or "": int(term.findtext("{*}count") or 0)
            for term in facet.iterfind(".//{*}term")
        }
        for facet in root.iterfind("s2:facetedResults/{*}facet", NS)
    }


def _field(raw: bytes, tag: bytes) -> bytes:
    return field_bytes(raw, tag) or b""


def test_target_audience_index_and_facet(served: Served, uva: list[UvaRecord]) -> None:
    """unicat.audience over real records, its codes read from their bytes first: uva_001_2000.mrc's
    008/22 is "j" (juvenile) in four books and "e" (adult) in two videos, and "b" in the map u1803, where
    the position is the map's projection; cotesMEL.mrc's 100 $a/17-19 is "k" (adult, serious) in 61
    records and "m" (adult, general) in 2, "u" (unknown) or blank in the others."""
    # (leader/06, 008/22) of each UVA record; 100 $a/17-19 of each MEL record (after indicators and $a).
    codes = {record.local_id: (record.raw[6:7], _field(record.raw, b"008")[22:23]) for record in uva}
    assert {local_id for local_id, code in codes.items() if code == (b"a", b"j")} == JUVENILE_BOOKS
    assert {local_id for local_id, code in codes.items() if code == (b"g", b"e")} == ADULT_VIDEOS
    assert {local_id for local_id, (_, code) in codes.items() if code not in b" je"} == {"u1803"}
    mel = [_field(raw, b"100")[4 + 17 : 4 + 20] for raw in iso2709_records("unimarc/cotesMEL.mrc")]
    assert Counter(mel) == {b"k  ": 61, b"m  ": 2, b"u  ": 11, b"   ": 35}

    assert local_ids(served, "unicat.audience=children") == JUVENILE_BOOKS
    assert local_ids(served, "unicat.audience=adults and unicat.library=uva") == ADULT_VIDEOS
    assert count(served, "unicat.audience=Adults") == len(ADULT_VIDEOS) + 61 + 2  # terms are folded
    assert count(served, 'unicat.audience any "children young_adults"') == len(JUVENILE_BOOKS)
    root = search(served, "cql.allRecords=1", maximumRecords="0", facetLimit="10:unicat.audience")
    audiences = _facets(root)["unicat.audience"]
    assert audiences == {"adults": len(ADULT_VIDEOS) + 63, "children": len(JUVENILE_BOOKS)}
    queries = [term.findtext("{*}query") for term in root.iterfind("s2:facetedResults/{*}facet//{*}term", NS)]
    assert queries == ['unicat.audience == "adults"', 'unicat.audience == "children"']
    assert [count(served, query or "") for query in queries] == list(audiences.values())


def test_explain(served: Served) -> None:
    for params in ({}, {"operation": "explain", "version": "1.2"}, {"version": "2.0"}):
        status, _, root = get(served, **params)
        assert status == 200
        explain = root.find(".//zr:explain", NS)
        assert explain is not None, params
        host = served.url.removeprefix("http://").split(":")
        assert explain.findtext("zr:serverInfo/zr:host", namespaces=NS) == host[0]
        assert explain.findtext("zr:serverInfo/zr:port", namespaces=NS) == host[1]
        names = {
            f"{name.get('set')}.{name.text}"
            for name in explain.iterfind("zr:indexInfo/zr:index/zr:map/zr:name", NS)
        }
        assert {"dc.title", "dc.creator", "bath.isbn", "cql.serverChoice", "unicat.library"} <= names
    schemas = {schema.get("name") for schema in root.iterfind(".//zr:schema", NS)}
    assert {"marcxml", "dc"} <= schemas


BAD_INPUT = [
    ({"query": 'title="unclosed'}, "14"),
    ({"query": "(title=a"}, "13"),
    ({"query": "title=a and"}, "10"),
    ({"query": "cat dog"}, "10"),
    ({"query": "foo.title=a"}, "15"),
    ({"query": "dc.nothing=a"}, "16"),
    ({"query": "title within a"}, "22"),
    ({"query": "title encloses a"}, "22"),
    ({"query": "title frobs a"}, "19"),
    ({"query": "title =/respectCase a"}, "20"),
    ({"query": "title=a prox title=b"}, "39"),
    ({"query": "title=*story"}, "28"),
    ({"query": "dc.date < soon"}, "36"),
    ({"query": 'title=""'}, "27"),
    ({"query": "title=a sortBy dc.publisher"}, "88"),
    ({"query": "title=a", "recordSchema": "mods"}, "66"),
    ({"query": "title=a", "startRecord": "0"}, "6"),
    ({"query": "title=a", "startRecord": "x"}, "6"),
    ({"query": "title=a", "maximumRecords": "-1"}, "6"),
    ({"query": "title=history", "startRecord": "100000"}, "61"),
    ({"query": "title=a", "recordXMLEscaping": "json"}, "71"),
    ({"query": "title=a", "facetLimit": "5:dc.publisher"}, "6"),
    ({"query": "title=a", "bogus": "1"}, "8"),
    ({"query": "title=a", "stylesheet": "x.xsl"}, "110"),
    ({"operation": "scan", "scanClause": "title=a"}, "4"),
    ({"version": "3.0", "query": "a"}, "5"),
]


@pytest.mark.parametrize(("params", "code"), BAD_INPUT, ids=[code for _, code in BAD_INPUT])
def test_bad_input_is_a_diagnostic(served: Served, params: dict[str, str], code: str) -> None:
    status, found, _ = diagnostic(served, **{"operation": "searchRetrieve", **params})
    assert found == code
    assert status == 400  # SRU 2.0: a fatal diagnostic the client must fix


def test_diagnostics_in_1_2_are_http_200(served: Served) -> None:
    assert diagnostic(served, version="1.2", operation="searchRetrieve", query="(a") == (200, "13", "2")
    assert diagnostic(served, version="1.2", query="a")[:2] == (200, "7")  # 1.2 needs an operation
    assert diagnostic(served, version="1.2", operation="searchRetrieve", recordPacking="json", query="a")[
        :2
    ] == (
        200,
        "71",
    )
    assert diagnostic(served, version="1.2", operation="searchRetrieve")[:2] == (200, "7")


def test_repeated_parameter(served: Served) -> None:
    url = f"{served.url}/sru?version=2.0&query=a&query=b"
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(url, timeout=60)
    root = etree.fromstring(caught.value.read())
    assert root.findtext(".//d2:uri", namespaces=NS) == "info:srw/diagnostic/1/6"
