"""The OAI-PMH 2.0 provider at /oai, request by request over real HTTP, on every engine.

What each answer must hold is derived from the shared data (the records' 001 control numbers, holdings
and titles, read here from the files' bytes) and from the protocol's text (OAI-PMH 2.0, sections 3
and 4), never from running the provider.
"""

from __future__ import annotations

import gzip
import zlib
from collections import Counter
from datetime import UTC, datetime

import pymarc
import pytest

from search_app.oai.tokens import ListToken, decode, encode
from tests.indexer.indexer_testdata import control_number, iso2709_records
from tests.search_app.oai.conftest import IMPORTS, PAGE_SIZE, Catalogue
from tests.search_app.oai.oai_http import NS, Answer, oai, pages, request
from unicat.clock import parse_time
from unicat.oai_protocol import OAI_IDENTIFIER_NS, OAI_NS

OAI_ERRORS = {
    "badArgument",
    "badResumptionToken",
    "badVerb",
    "cannotDisseminateFormat",
    "idDoesNotExist",
    "noRecordsMatch",
    "noMetadataFormats",
    "noSetHierarchy",
}


def stored_members() -> set[tuple[str, str]]:
    """(library, local id) of every record the catalogue was given, by the rule ``unicat import``
    documents: a record's 001, or ``FILE:POSITION`` when it has none or an earlier record took it (a
    few records of cotesMEL.mrc share one); and the two Penguin copies (local id ``r``)."""
    members = {("L27", "r"), ("L30", "r")}
    for source, relative in IMPORTS:
        used: set[str] = set()
        for position, raw in enumerate(iso2709_records(relative)):
            number = control_number(raw)
            local_id = (
                number
                if number is not None and number not in used
                else f"{relative.split('/')[-1]}:{position}"
            )
            used.add(local_id)
            members.add((source.code, local_id))
    return members


def _full_list(catalogue: Catalogue, verb: str, **arguments: str) -> list[Answer]:
    return list(pages(catalogue.oai, verb=verb, **arguments))


def test_identify_describes_a_persistent_seconds_repository(catalogue: Catalogue) -> None:
    answer = oai(catalogue.oai, verb="Identify")
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/xml")
    assert answer.xpath("//oai:Identify/oai:baseURL/text()") == [catalogue.oai]
    assert answer.xpath("//oai:request/@verb") == ["Identify"]
    assert answer.xpath("//oai:protocolVersion/text()") == ["2.0"]
    assert answer.xpath("//oai:deletedRecord/text()") == ["persistent"]
    assert answer.xpath("//oai:granularity/text()") == ["YYYY-MM-DDThh:mm:ssZ"]
    assert answer.xpath("//oai:adminEmail/text()") == [catalogue.settings.oai_admin_email]
    [earliest] = answer.xpath("//oai:earliestDatestamp/text()")
    [response_date] = answer.xpath("//oai:responseDate/text()")
    assert earliest <= response_date
    assert set(answer.xpath("//oai:compression/text()")) == {"gzip", "deflate"}
    found = answer.root.xpath("//i:repositoryIdentifier/text()", namespaces={"i": OAI_IDENTIFIER_NS})
    assert found == ["unicat.local"]


def test_a_full_harvest_gives_every_union_record_once_with_every_stored_record_in_it(
    catalogue: Catalogue,
) -> None:
    answers = _full_list(catalogue, "ListRecords", metadataPrefix="marcxml")
    identifiers = [i for answer in answers for i in answer.xpath("//oai:header/oai:identifier/text()")]
    assert len(identifiers) == len(set(identifiers))
    expected_ids = {catalogue.identifier(record.id) for record in catalogue.index.iter_union_records()}
    assert set(identifiers) == expected_ids
    # Nothing given to the catalogue is lost or doubled on the way out: every stored record is a member
    # (901 $a library, $b local id) of exactly one union record, but those the indexer quarantined.
    members = Counter(
        (
            field.findtext("marc:subfield[@code='a']", namespaces=NS),
            field.findtext("marc:subfield[@code='b']", namespaces=NS),
        )
        for answer in answers
        for field in answer.root.iterfind(".//marc:datafield[@tag='901']", namespaces=NS)
    )
    assert max(members.values()) == 1
    entries = catalogue.records.list_quarantine(limit=10_000)
    quarantined = {(entry.source, entry.local_id) for entry in entries}
    assert set(members) == stored_members() - quarantined
    assert len(quarantined) < 10
    # Pages of PAGE_SIZE, each but the last with a token; cursor and completeListSize as 3.5 says.
    assert len(answers) == -(-len(identifiers) // PAGE_SIZE)
    for number, answer in enumerate(answers):
        [size] = answer.xpath("//oai:resumptionToken/@completeListSize")
        [cursor] = answer.xpath("//oai:resumptionToken/@cursor")
        assert (int(size), int(cursor)) == (len(identifiers), number * PAGE_SIZE)
        assert len(answer.xpath("//oai:record")) == (
            PAGE_SIZE if number < len(answers) - 1 else len(identifiers) - number * PAGE_SIZE
        )
    assert answers[-1].xpath("//oai:resumptionToken/text()") == []
    assert answers[0].xpath("//oai:resumptionToken/@expirationDate")


def test_list_identifiers_and_list_records_cover_the_same_headers(catalogue: Catalogue) -> None:
    def headers(verb: str, prefix: str) -> list[tuple[str, str, str]]:
        return [
            (
                h.findtext("oai:identifier", "", namespaces=NS),
                h.findtext("oai:datestamp", "", namespaces=NS),
                " ".join(h.xpath("oai:setSpec/text()", namespaces=NS)),
            )
            for answer in _full_list(catalogue, verb, metadataPrefix=prefix)
            for h in answer.root.iterfind(f".//{{{OAI_NS}}}header")
        ]

    identifiers = headers("ListIdentifiers", "oai_dc")
    assert identifiers == headers("ListRecords", "oai_dc") == headers("ListIdentifiers", "marcxml")
    datestamps = [datestamp for _, datestamp, _ in identifiers]
    assert datestamps == sorted(datestamps)


def test_the_sets_are_the_libraries_and_the_material_types(catalogue: Catalogue) -> None:
    answer = oai(catalogue.oai, verb="ListSets")
    names = dict(
        zip(
            answer.xpath("//oai:set/oai:setSpec/text()"),
            answer.xpath("//oai:set/oai:setName/text()"),
            strict=True,
        )
    )
    assert names["library:uva"] == "University of Virginia Library"
    assert names["library:mel"] == "Bibliothèque MEL"
    assert {"library", "format", "library:L27", "library:L30", "format:book"} <= set(names)

    # The two Penguin copies are one union record, in the sets of both libraries, with both 852s.
    for library in ("L27", "L30"):
        [page] = _full_list(catalogue, "ListRecords", metadataPrefix="marcxml", set=f"library:{library}")
        assert page.xpath("//marc:datafield[@tag='852']/marc:subfield[@code='a']/text()") == ["L27", "L30"]
        assert "9780141439518" in page.xpath("//marc:datafield[@tag='020']/marc:subfield[@code='a']/text()")
        assert page.xpath("//oai:header/oai:setSpec/text()") == [
            "format",
            "format:book",
            "library",
            "library:L27",
            "library:L30",
        ]

    # Every record of the MEL library (995 holdings on each, UNIMARC) is in its set, and only they.
    mel = {
        i
        for answer in _full_list(catalogue, "ListIdentifiers", metadataPrefix="oai_dc", set="library:mel")
        for i in answer.xpath("//oai:identifier/text()")
    }
    holders = {
        i
        for answer in _full_list(catalogue, "ListRecords", metadataPrefix="marcxml")
        for record in answer.root.iterfind(f".//{{{OAI_NS}}}record")
        if "mel"
        in record.xpath(
            ".//marc:datafield[@tag='852']/marc:subfield[@code='a']/text()",
            namespaces=NS,
        )
        for i in record.xpath(".//oai:identifier/text()", namespaces=NS)
    }
    mel_records = len(iso2709_records("unimarc/cotesMEL.mrc"))
    assert mel == holders and 0 < len(mel) <= mel_records


def test_a_unimarc_record_is_served_as_marc21_and_dublin_core(catalogue: Catalogue) -> None:
    raw = iso2709_records("unimarc/cotesMEL.mrc")[0]
    number = control_number(raw)
    [union_id] = [
        r.id
        for r in catalogue.index.iter_union_records()
        if any(s.source == "mel" and s.local_id == number for s in r.sources)
    ]
    # Its UNIMARC 200 $a, read from the bytes (UTF-8, as the data's INDEX says), is its 245 $a and dc:title.
    [record] = list(pymarc.MARCReader(raw, to_unicode=True, force_utf8=True))
    title = record["200"]["a"]
    marc = oai(
        catalogue.oai, verb="GetRecord", identifier=catalogue.identifier(union_id), metadataPrefix="marcxml"
    )
    [served] = marc.xpath("//marc:datafield[@tag='245']/marc:subfield[@code='a']/text()")
    assert title.strip(" /:;,.") in served
    assert marc.xpath("//marc:datafield[@tag='852']/marc:subfield[@code='a']/text()").count("mel") >= 1
    dc = oai(
        catalogue.oai, verb="GetRecord", identifier=catalogue.identifier(union_id), metadataPrefix="oai_dc"
    )
    [dc_title] = dc.xpath("//dc:title/text()")
    assert dc_title == served
    assert dc.xpath("//dc:identifier/text()")[-1] == f"{catalogue.site}/record/{union_id}"


def test_from_and_until_select_by_datestamp_at_both_granularities(catalogue: Catalogue) -> None:
    [datestamp] = sorted(
        set(
            oai(catalogue.oai, verb="ListIdentifiers", metadataPrefix="oai_dc").xpath(
                "//oai:datestamp/text()"
            )
        )
    )
    everything = oai(catalogue.oai, verb="ListIdentifiers", metadataPrefix="oai_dc").xpath(
        "//oai:resumptionToken/@completeListSize"
    )
    moment = parse_time(datestamp)
    assert moment is not None
    day = moment.strftime("%Y-%m-%d")
    for arguments in (
        {"from_": datestamp},
        {"until": datestamp},
        {"from_": datestamp, "until": datestamp},
        {"from_": day, "until": day},
    ):
        answer = oai(catalogue.oai, verb="ListIdentifiers", metadataPrefix="oai_dc", **arguments)
        assert answer.xpath("//oai:resumptionToken/@completeListSize") == everything, arguments
    before = datetime.fromtimestamp(moment.timestamp() - 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    after = datetime.fromtimestamp(moment.timestamp() + 1, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    for arguments in ({"until": before}, {"from_": after}, {"until": "1990-01-01"}):
        assert (
            oai(catalogue.oai, verb="ListRecords", metadataPrefix="oai_dc", **arguments).error()
            == "noRecordsMatch"
        )


BAD_REQUESTS = [
    ([], "badVerb"),
    ([("verb", "Frobnicate")], "badVerb"),
    ([("verb", "Identify"), ("verb", "Identify")], "badVerb"),
    ([("verb", "Identify"), ("set", "x")], "badArgument"),
    ([("verb", "ListRecords")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("metadataPrefix", "oai_dc")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("resumptionToken", "abc")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2020-13-01")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2020-01-01T00:00:00")], "badArgument"),
    (
        [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"), ("from", "2020-01-01T00:00:00.5Z")],
        "badArgument",
    ),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2020-01-01"),
            ("until", "2021-01-01T00:00:00Z"),
        ],
        "badArgument",
    ),
    (
        [
            ("verb", "ListRecords"),
            ("metadataPrefix", "oai_dc"),
            ("from", "2021-01-01"),
            ("until", "2020-01-01"),
        ],
        "badArgument",
    ),
    ([("verb", "ListRecords"), ("metadataPrefix", "")], "badArgument"),
    ([("verb", "ListRecords"), ("metadataPrefix", "mods")], "cannotDisseminateFormat"),
    (
        [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "library:nowhere")],
        "noRecordsMatch",
    ),
    ([("verb", "ListRecords"), ("resumptionToken", "not-a-token")], "badResumptionToken"),
    ([("verb", "ListRecords"), ("resumptionToken", "\u00e9\u00e9\u00e9")], "badResumptionToken"),
    ([("verb", "ListSets"), ("resumptionToken", "abc")], "badResumptionToken"),
    (
        [("verb", "GetRecord"), ("identifier", "oai:unicat.local:u-none"), ("metadataPrefix", "oai_dc")],
        "idDoesNotExist",
    ),
    (
        [("verb", "GetRecord"), ("identifier", "oai:elsewhere.org:1"), ("metadataPrefix", "oai_dc")],
        "idDoesNotExist",
    ),
    ([("verb", "GetRecord"), ("identifier", "oai:unicat.local:u-none")], "badArgument"),
    ([("verb", "ListMetadataFormats"), ("identifier", "oai:unicat.local:u-none")], "idDoesNotExist"),
]


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
def test_every_bad_request_gets_the_protocol_error(catalogue: Catalogue, post: bool) -> None:
    for pairs, code in BAD_REQUESTS:
        answer = request(catalogue.oai, pairs, post=post)
        assert answer.status == 200, pairs
        assert answer.error() == code, (pairs, answer.body[:500])
        [message] = answer.xpath("//oai:error/text()")
        assert message
        echoed = answer.root.find(f"{{{OAI_NS}}}request")
        assert echoed is not None
        attributes = echoed.attrib
        # badVerb and badArgument echo the base URL only (section 3.2); other errors echo the request.
        assert (dict(attributes) == {}) == (code in ("badVerb", "badArgument")), pairs
    assert {code for _, code in BAD_REQUESTS} <= OAI_ERRORS


def test_a_token_of_another_verb_an_expired_or_a_damaged_one_is_refused(catalogue: Catalogue) -> None:
    [token] = oai(catalogue.oai, verb="ListIdentifiers", metadataPrefix="oai_dc").xpath(
        "//oai:resumptionToken/text()"
    )
    assert oai(catalogue.oai, verb="ListRecords", resumptionToken=token).error() == "badResumptionToken"
    assert (
        oai(catalogue.oai, verb="ListIdentifiers", resumptionToken=token[:-3]).error() == "badResumptionToken"
    )
    assert (
        oai(
            catalogue.oai,
            verb="ListIdentifiers",
            resumptionToken=token[:5] + ("A" if token[5] != "A" else "B") + token[6:],
        ).error()
        == "badResumptionToken"
    )
    live = decode(token, "ListIdentifiers", 0)
    expired = ListToken(**{**{f: getattr(live, f) for f in ListToken.__slots__}, "expires": 1})
    answer = oai(catalogue.oai, verb="ListIdentifiers", resumptionToken=encode(expired))
    assert answer.error() == "badResumptionToken" and "expired" in answer.xpath("//oai:error/text()")[0]
    # The same token twice gives the same page: tokens are idempotent (section 3.5).
    first = oai(catalogue.oai, verb="ListIdentifiers", resumptionToken=token)
    again = oai(catalogue.oai, verb="ListIdentifiers", resumptionToken=token)
    assert first.xpath("//oai:identifier/text()") == again.xpath("//oai:identifier/text()")


def test_a_post_is_answered_as_the_same_get(catalogue: Catalogue) -> None:
    pairs = [("verb", "ListIdentifiers"), ("metadataPrefix", "oai_dc"), ("set", "library:mel")]
    assert request(catalogue.oai, pairs, post=True).xpath("//oai:identifier/text()") == request(
        catalogue.oai, pairs
    ).xpath("//oai:identifier/text()")
    multipart = request(
        catalogue.oai, [], post=True, headers={"Content-Type": "multipart/form-data; boundary=x"}
    )
    assert multipart.error() == "badArgument"


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_harvester_that_asks_gets_a_compressed_answer(catalogue: Catalogue, coding: str) -> None:
    pairs = [("verb", "ListRecords"), ("metadataPrefix", "marcxml")]
    plain = request(catalogue.oai, pairs)
    packed = request(catalogue.oai, pairs, headers={"Accept-Encoding": coding})
    assert packed.headers.get("content-encoding") == coding and "content-encoding" not in plain.headers
    body = gzip.decompress(packed.body) if coding == "gzip" else zlib.decompress(packed.body)
    assert len(packed.body) * 3 < len(body)
    # Only the responseDate may differ (the two requests may straddle a second).
    assert Answer(200, {}, body).xpath("//oai:identifier/text()") == plain.xpath("//oai:identifier/text()")
    both = request(catalogue.oai, pairs, headers={"Accept-Encoding": "deflate, gzip;q=0.5"})
    assert both.headers.get("content-encoding") == "gzip"
    refused = request(catalogue.oai, pairs, headers={"Accept-Encoding": "gzip;q=0"})
    assert "content-encoding" not in refused.headers
