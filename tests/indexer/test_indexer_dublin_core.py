"""Dublin Core (``oai_dc``) records through the MARC 21 crosswalk, on real OAI-PMH responses.

The records are those of ``oai/oaipmh_oai_dc.xml`` (100 records of SPIRE, the Sciences Po repository)
and the ``oai_dc`` samples of sickle. Expected values were read from the XML by eye and from the Library
of Congress crosswalk as ``indexer/dublin_core.py`` documents it; where a record had to be changed to
make a case (no title, broken XML), the change is made here, on a real record, and says what it is.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree

from indexer import run_index
from indexer.decoding import decode_fields
from indexer.dedup import cluster_records
from indexer.dublin_core import leader_type
from indexer.extract import ExtractedRecord
from indexer.marc import MarcFields
from indexer.parsing import ParseFailure, parse_outcome
from tests.indexer.indexer_testdata import (
    OAI_DC_NS,
    OaiDcRecord,
    iso2709_records,
    marcxml_records,
    oai_dc_records,
)
from tests.support.shared_data import SHARED_DATA
from unicat.model import Source, SourceRecord
from unicat.oai_protocol import DC_NS, MARC_NS
from unicat.query import SearchQuery, parse_text_query
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

SPIRE_FILE = "oai/oaipmh_oai_dc.xml"
SPIRE = Source(
    "SPIRE",
    "Sciences Po — SPIRE",
    oai_url="http://spire.sciences-po.fr/dissemination/oaipmh2-publications.xml",
    metadata_prefix="oai_dc",
)

# SPIRE records used by name (header identifiers).
GENRE_BOOK = "oai:spire.sciences-po.fr:2441/4b1hq9muclp43is97e8166a94"  # book, urn:ISBN:9782296083967
GENRE_CHAPTER = "oai:spire.sciences-po.fr:2441/53r60a8s3kup1vc9k36akh5ho"  # its introduction, same ISBN
SOPHIA_ARTICLE = "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09lac2iik3h"  # article, urn:ISSN:00142123
ESPRIT_2003 = (  # two articles of 2003 in the journal of ISSN 0014-2123 (Etudes internationales)
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09laib815ij",
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09lai1m40kg",
)
UNION_REPORT_PART = "oai:spire.sciences-po.fr:2441/dambferfb7dfprc9m263lgtsl"  # the first record

# The SPIRE books (dc:type info:eu-repo/semantics/book) and their urn:ISBN, read from the file.
SPIRE_BOOK_ISBNS = {
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09la58h00c2": "9782724612165",
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09la54l0dbm": "9782130550754",
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09la599f0jg": "9782110087669",
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09la59m568j": "9782717858594",
    "oai:spire.sciences-po.fr:2441/f4rshpf3v1umfa09la58l023h": "9782738496393",
    GENRE_BOOK: "9782296083967",
    "oai:spire.sciences-po.fr:2441/53r60a8s3kup1vc9k15hk290l": "9780804769198",
}


def _spire() -> dict[str, OaiDcRecord]:
    return {record.identifier: record for record in oai_dc_records(SPIRE_FILE)}


def _sickle(name: str) -> OaiDcRecord:
    (record,) = oai_dc_records(f"oai/sickle-samples/{name}")
    return record


def _parse(raw: bytes, source: Source = SPIRE, local_id: str = "x") -> ExtractedRecord | ParseFailure:
    record = SourceRecord(source.code, local_id, raw, "oai_dc", "2013-04-05T00:00:00Z")
    return parse_outcome(record, {source.code: source})[1]


def _extract(record: OaiDcRecord, source: Source = SPIRE) -> ExtractedRecord:
    outcome = _parse(record.raw, source, record.identifier)
    assert isinstance(outcome, ExtractedRecord), outcome
    return outcome


def _marc(raw: bytes) -> MarcFields:
    return decode_fields(raw, "oai_dc", "marc21")


def _subfields(decoded: MarcFields, tag: str) -> list[list[tuple[str, str]]]:
    return [content[1] for found, content in decoded.fields if found == tag and not isinstance(content, str)]


def _edited(raw: bytes, change: str) -> bytes:
    """A real record with its DC elements changed: ``drop:title`` removes every dc:title;
    ``types:Image,Text`` replaces the dc:type elements; ``add:<xml>`` appends elements."""
    root = etree.fromstring(raw)
    kind, _, argument = change.partition(":")
    if kind == "drop":
        for element in root.findall(f"{{{DC_NS}}}{argument}"):
            root.remove(element)
    elif kind == "types":
        for element in root.findall(f"{{{DC_NS}}}type"):
            root.remove(element)
        for value in argument.split(","):
            etree.SubElement(root, f"{{{DC_NS}}}type").text = value
    elif kind == "add":
        wrapper = etree.fromstring(f'<w xmlns:dc="{DC_NS}">{argument}</w>')
        for element in wrapper:
            root.append(element)
    return etree.tostring(root, encoding="utf-8")


# -- field mapping of real records ---------------------------------------------------------------


def test_a_real_book_maps_through_marc21() -> None:
    # SPIRE 4b1hq9muclp43is97e8166a94: creators Muller, Pierre / Sénac, Réjane; date 2009-05; format 248;
    # urn:ISBN:9782296083967; language fre; publisher L'Harmattan; one subject with a trailing blank;
    # types Text, book, info:eu-repo/semantics/book; one description.
    book = _spire()[GENRE_BOOK]
    extracted = _extract(book)
    assert extracted.title == "Genre et action publique : la frontière public/privé en questions"
    assert extracted.authors == ["Muller, Pierre", "Sénac, Réjane"]
    assert extracted.subjects == ["Logiques politiques DROIT, JUSTICE POLITIQUE QUESTIONS DE FEMMES"]
    assert extracted.isbns == ["9782296083967"]
    assert extracted.issns == []
    assert extracted.year == 2009
    assert extracted.language == "fre"
    assert extracted.publisher == "L'Harmattan"
    assert extracted.format == "book"
    assert extracted.physical == "248"
    assert len(extracted.notes) == 1
    assert extracted.notes[0].startswith(
        "La définition des catégories de public et de privé est au fondement"
    )
    assert [(h.library, h.library_name) for h in extracted.holdings] == [("SPIRE", "Sciences Po — SPIRE")]
    assert extracted.warnings == []

    # The MARC 21 form the profile read (the crosswalk's fields).
    marc = _marc(book.raw)
    assert marc.leader[6:8] == "am" and len(marc.leader) == 24 and marc.leader[9] == "a"
    assert _subfields(marc, "245") == [
        [("a", "Genre et action publique : la frontière public/privé en questions")]
    ]
    assert _subfields(marc, "020") == [[("a", "9782296083967")]]
    assert _subfields(marc, "720") == [
        [("a", "Muller, Pierre"), ("e", "author")],
        [("a", "Sénac, Réjane"), ("e", "author")],
    ]
    assert _subfields(marc, "260") == [[("b", "L'Harmattan"), ("c", "2009-05")]]
    assert _subfields(marc, "041") == [[("a", "fre")]]
    assert _subfields(marc, "856") == [
        [("u", "http://spire.sciences-po.fr/hdl:/2441/4b1hq9muclp43is97e8166a94")]
    ]
    assert _subfields(marc, "024")[0] == [("a", "info:hdl/2441/4b1hq9muclp43is97e8166a94")]
    assert _subfields(marc, "540") == [[("a", "info:eu-repo/semantics/restrictedAccess")]]
    assert _subfields(marc, "773") == []


def test_a_real_article_keeps_its_journals_issn_as_host_and_its_contributor_as_author() -> None:
    # SPIRE f4rshpf3v1umfa09lac2iik3h: only a dc:contributor (Ramel, Frédéric), two descriptions,
    # urn:ISSN:00142123 (the journal), dc:source "Etudes internationales, 38(1), 5-17 (2007-03)", and
    # a second URL (the article's PDF at erudit.org); types Text, article, info:eu-repo/semantics/article.
    article = _spire()[SOPHIA_ARTICLE]
    extracted = _extract(article)
    assert (
        extracted.title
        == "Quand Sophia rencontre Arès. Des intérêts de la philosophie en Relations internationales"
    )
    assert extracted.authors == ["Ramel, Frédéric"]
    assert extracted.format == "article"
    assert extracted.year == 2007
    assert extracted.issns == [] and extracted.isbns == []
    assert len(extracted.notes) == 2
    assert extracted.notes[1].startswith("Introduction du numéro spécial de la revue Etudes internationales")
    marc = _marc(article.raw)
    assert marc.leader[6:8] == "ab"
    assert _subfields(marc, "022") == []
    assert _subfields(marc, "773") == [[("x", "00142123")]]
    assert _subfields(marc, "786") == [[("n", "Etudes internationales, 38(1), 5-17 (2007-03)")]]
    assert _subfields(marc, "720") == [[("a", "Ramel, Frédéric")]]  # a contributor: no $e author
    assert [sub[0][1] for sub in _subfields(marc, "856")] == [
        "http://spire.sciences-po.fr/hdl:/2441/f4rshpf3v1umfa09lac2iik3h",
        "http://www.erudit.org/revue/ei/2007/v38/n1/015699ar.pdf",
    ]


def test_sickle_samples_repeated_creators_xml_lang_and_whitespace() -> None:
    # ListRecords.xml, oai:test.example.com:1585322: "John Doe" four times, a description with
    # xml:lang="eng" spread over lines, a publisher between line breaks, date 2010, and types
    # info:eu-repo/semantics/article, doc-type:article, text.
    extracted = _extract(_sickle("ListRecords.xml"))
    assert extracted.title == "Sample Title"
    assert extracted.authors == ["John Doe"]
    assert extracted.publisher == "Sample Publisher"
    assert extracted.year == 2010
    assert extracted.language == "eng"
    assert extracted.format == "article"
    assert extracted.notes[0].startswith(
        "Lorem ipsum dolor sit amet, consectetur adipisicing elit, sed do eiusmod tempor"
    )
    assert "\n" not in extracted.notes[0] and "  " not in extracted.notes[0]
    # GetRecord_utf8test.xml: a creator in Chinese script, types "text" only.
    utf8 = _extract(_sickle("GetRecord_utf8test.xml"))
    assert utf8.authors == ["某人"]
    assert utf8.format == "book"
    assert utf8.year == 2011


def test_every_spire_record_maps_title_year_format_and_only_its_own_isbn() -> None:
    records = oai_dc_records(SPIRE_FILE)
    assert len(records) == 100
    formats: Counter[str] = Counter()
    for record in records:
        dc = etree.fromstring(record.raw)
        extracted = _extract(record)
        title = " ".join(dc.findtext(f"{{{DC_NS}}}title", "").split())
        # The profile strips a final ISBD period (two SPIRE titles end with one).
        assert extracted.title == title.removesuffix("."), record.identifier
        first_date = dc.findtext(f"{{{DC_NS}}}date", "")
        assert extracted.year == int(first_date[:4]), record.identifier
        assert extracted.language == dc.findtext(f"{{{DC_NS}}}language"), record.identifier
        own_isbn = SPIRE_BOOK_ISBNS.get(record.identifier)
        assert extracted.isbns == ([own_isbn] if own_isbn else []), record.identifier
        assert extracted.issns == []  # none of them is a journal: their ISSNs are their journals'
        repository_types = {t.text for t in dc.findall(f"{{{DC_NS}}}type")}
        is_article = repository_types & {
            "info:eu-repo/semantics/article",
            "info:eu-repo/semantics/bookReview",
        }
        assert extracted.format == ("article" if is_article else "book"), record.identifier
        formats[extracted.format] += 1
    # 44 articles and 4 book reviews; the others are books, chapters, papers, reports and issues.
    assert formats == {"article": 48, "book": 52}


def test_xml_lang_picks_the_title_proper_and_marks_parallel_titles() -> None:
    # sickle GetRecord.xml (dc:language eng, title "Sample Title") with a French title put before it
    # and xml:lang on both: the English one, the resource's language, is the title proper.
    raw = _sickle("GetRecord.xml").raw
    root = etree.fromstring(raw)
    english = root.find(f"{{{DC_NS}}}title")
    assert english is not None
    english.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    french = etree.Element(f"{{{DC_NS}}}title")
    french.text = "Titre d'exemple"
    french.set("{http://www.w3.org/XML/1998/namespace}lang", "fr")
    english.addprevious(french)
    edited = etree.tostring(root, encoding="utf-8")
    marc = _marc(edited)
    assert _subfields(marc, "245") == [[("a", "Sample Title")]]
    assert [content for tag, content in marc.fields if tag == "246"] == [("31", [("a", "Titre d'exemple")])]
    assert _extract(OaiDcRecord("t", "d", edited)).title == "Sample Title"


def test_empty_elements_are_skipped() -> None:
    # sickle GetRecord.xml plus an empty dc:creator, a blank dc:subject and an empty dc:date.
    raw = _edited(
        _sickle("GetRecord.xml").raw, "add:<dc:creator/><dc:subject>   </dc:subject><dc:date></dc:date>"
    )
    extracted = _extract(OaiDcRecord("t", "d", raw))
    assert extracted.authors == ["John Doe"]
    assert extracted.subjects == []
    assert extracted.year == 2011
    assert _subfields(_marc(raw), "653") == []


def test_a_dublin_core_source_maps_with_marc21_whatever_its_profile() -> None:
    book = _spire()[GENRE_BOOK]
    as_unimarc = Source("SPIRE", "Sciences Po — SPIRE", profile="unimarc")
    assert _extract(book, as_unimarc) == _extract(book)


# -- material type from dc:type ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "leader", "format"),
    [
        # DCMI Type Vocabulary → Leader/06 (LC's DC2MARC21slim.xsl) → mappings/marc21.toml formats.
        ("Text", "am", "book"),
        ("Image", "km", "image"),
        ("StillImage", "km", "image"),
        ("MovingImage", "gm", "video"),
        ("Sound", "im", "sound recording"),
        ("Software", "mm", "computer file"),
        ("Dataset", "mm", "computer file"),
        ("InteractiveResource", "mm", "computer file"),
        ("PhysicalObject", "rm", "object"),
        ("Collection", "pc", "mixed"),
        ("http://purl.org/dc/dcmitype/MovingImage", "gm", "video"),
        # Genre words of repositories → Leader/07; a part wins over the whole.
        ("Text,info:eu-repo/semantics/article", "ab", "article"),
        ("Text,info:eu-repo/semantics/bookPart", "aa", "book"),
        ("Text,report,info:eu-repo/semantics/reportPart", "aa", "book"),
        ("Text,journal", "as", "serial"),
        ("Text,info:eu-repo/semantics/doctoralThesis", "am", "book"),
        ("", "am", "book"),
    ],
)
def test_dc_type_gives_leader_and_format(types: str, leader: str, format: str) -> None:
    values = [value for value in types.split(",") if value]
    assert "".join(leader_type(values)) == leader
    # The same types put in a real record (sickle GetRecord.xml), through the profile.
    raw = _edited(_sickle("GetRecord.xml").raw, f"types:{types}" if values else "drop:type")
    assert _marc(raw).leader[6:8] == leader
    assert _extract(OaiDcRecord("t", "d", raw)).format == format


# -- identifiers ---------------------------------------------------------------------------------


def test_isbn_forms_in_dc_identifier() -> None:
    # sickle GetRecord_utf8test.xml (type "text" only: a book) with ISBNs written the ways repositories
    # write them. (GetRecord.xml is typed an article: there they would be its host's.)
    raw = _edited(
        _sickle("GetRecord_utf8test.xml").raw,
        "add:<dc:identifier>ISBN 978-2-7246-1216-5</dc:identifier>"
        "<dc:identifier>urn:isbn:2940174369</dc:identifier>"
        "<dc:identifier>9780141439518</dc:identifier>"
        "<dc:identifier>urn:ISBN:978275210088788</dc:identifier>"  # SPIRE's own broken ISBN
        "<dc:identifier>urn:ISSN:0181009X</dc:identifier>",
    )
    extracted = _extract(OaiDcRecord("t", "d", raw))
    # ISBN-13 of 2-940174-36-9: 978 + 294017436 + check digit 2.
    assert extracted.isbns == ["9782724612165", "9782940174362", "9780141439518"]
    assert extracted.issns == []  # a book's ISSN is its series'
    marc = _marc(raw)
    assert [("z", "978275210088788")] in _subfields(marc, "020")
    assert _subfields(marc, "490") == [[("x", "0181009X")]]


def test_a_chapter_and_articles_sharing_their_hosts_identifiers_stay_apart() -> None:
    spire = _spire()
    extracted = [_extract(record) for record in spire.values()]
    clusters = cluster_records(extracted)
    # No two SPIRE records describe the same publication, though the book and its introduction carry
    # the same ISBN, and many articles their journal's ISSN (two of them, 2003, Etudes internationales).
    assert len(clusters) == 100
    chapter = next(r for r in extracted if r.local_id == GENRE_CHAPTER)
    assert chapter.isbns == [] and chapter.year == 2009 and chapter.format == "book"
    assert {r.year for r in extracted if r.local_id in ESPRIT_2003} == {2003}


def test_articles_do_not_merge_with_the_journals_they_appeared_in() -> None:
    # periouni.mrc (Sciences Po's UNIMARC serials) holds 19 of the journals whose ISSN SPIRE's articles
    # carry (0014-2123, 0035-2950, 1290-7839, …): a union catalogue must keep the articles apart.
    scpo = Source("SCPO", "Sciences Po — périodiques", profile="unimarc")
    serials = []
    for number, raw in enumerate(iso2709_records("unimarc/periouni.mrc")):
        _, outcome = parse_outcome(SourceRecord("SCPO", f"p{number}", raw), {"SCPO": scpo})
        if isinstance(outcome, ExtractedRecord):
            serials.append(outcome)
    assert any("0014-2123" in serial.issns for serial in serials)
    clusters = cluster_records(serials + [_extract(record) for record in oai_dc_records(SPIRE_FILE)])
    for cluster in clusters:
        sources = {member.source for member in cluster.members}
        assert "SPIRE" not in sources or len(cluster.members) == 1


# -- quarantine ----------------------------------------------------------------------------------


def test_a_record_without_title_is_refused_with_the_reason() -> None:
    # SPIRE's first record with its dc:title removed; and sickle GetRecord.xml with a blank title.
    no_title = _edited(_spire()[UNION_REPORT_PART].raw, "drop:title")
    blank = re.sub(rb"<dc:title>[^<]*</dc:title>", b"<dc:title>  </dc:title>", _sickle("GetRecord.xml").raw)
    for raw in (no_title, blank):
        outcome = _parse(raw)
        assert isinstance(outcome, ParseFailure)
        assert "no dc:title" in outcome.reason
        assert outcome.details == ""  # an expected refusal, not a bug


def test_malformed_xml_is_refused_with_the_reason() -> None:
    cut = _spire()[GENRE_BOOK].raw
    broken = (SHARED_DATA / "oai/sickle-samples/ListRecordsBroken.xml").read_bytes()
    for raw in (cut[: len(cut) // 2], broken, b""):
        outcome = _parse(raw)
        assert isinstance(outcome, ParseFailure)
        assert outcome.reason.startswith("oai_dc record is not well-formed XML"), outcome.reason
        assert outcome.details == ""
    # Well-formed, but MARCXML stored as oai_dc.
    (marcxml,) = marcxml_records("marc21/OCLC_814388508.xml")
    outcome = _parse(marcxml)
    assert isinstance(outcome, ParseFailure) and "no <oai_dc:dc> element" in outcome.reason


# -- a catalogue of MARCXML and Dublin Core sources ------------------------------------------------


def _genre_marcxml() -> bytes:
    """A MARC 21 record of the book of SPIRE 4b1hq9muclp43is97e8166a94, as a library would catalogue it.

    Every value comes from the real SPIRE record and its OpenURL (rft.place Paris, rft.pub
    L'Harmattan, rft.series Logiques politiques, rft.date 2009-05, rft.isbn 9782296083967, dc:format
    248, the two creators), written the MARC way: ISBN hyphenated with a qualifier, ISBD punctuation,
    008 with the date and language.
    """
    fixed = "090515s2009    fr " + " " * 17 + "fre d"
    assert len(fixed) == 40
    return f"""<record xmlns="{MARC_NS}">
  <leader>00000nam a2200000 i 4500</leader>
  <controlfield tag="001">genre-2009</controlfield>
  <controlfield tag="008">{fixed}</controlfield>
  <datafield tag="020" ind1=" " ind2=" "><subfield code="a">978-2-296-08396-7 (br.)</subfield></datafield>
  <datafield tag="245" ind1="1" ind2="0">
    <subfield code="a">Genre et action publique :</subfield>
    <subfield code="b">la frontière public/privé en questions /</subfield>
    <subfield code="c">Pierre Muller, Réjane Sénac</subfield>
  </datafield>
  <datafield tag="264" ind1=" " ind2="1">
    <subfield code="a">Paris :</subfield>
    <subfield code="b">L'Harmattan,</subfield>
    <subfield code="c">2009.</subfield>
  </datafield>
  <datafield tag="300" ind1=" " ind2=" "><subfield code="a">248 p.</subfield></datafield>
  <datafield tag="490" ind1="0" ind2=" "><subfield code="a">Logiques politiques</subfield></datafield>
  <datafield tag="700" ind1="1" ind2=" "><subfield code="a">Muller, Pierre.</subfield></datafield>
  <datafield tag="700" ind1="1" ind2=" "><subfield code="a">Sénac, Réjane.</subfield></datafield>
  <datafield tag="852" ind1=" " ind2=" ">
    <subfield code="a">BIB</subfield><subfield code="h">305.42 GEN</subfield>
  </datafield>
</record>""".encode()


def test_marcxml_and_oai_dc_sources_index_together(tmp_path: Path) -> None:
    catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}"))
    try:
        library = Source("BIB", "Bibliothèque de test", metadata_prefix="marcxml")
        marc = [
            ("genre-2009", _genre_marcxml()),
            *(("oclc", raw) for raw in marcxml_records("marc21/OCLC_814388508.xml")),
            *(("koha", raw) for raw in marcxml_records("marc21/1474920681_KOHA_LFL_5.xml")),
        ]
        catalogue.records.save_source(library)
        catalogue.records.store_page(
            "BIB",
            [SourceRecord("BIB", key, raw, "marcxml", "2024-01-01T00:00:00Z") for key, raw in marc],
            None,
        )

        spire = oai_dc_records(SPIRE_FILE)
        first = spire[0]
        unusable = [
            ("no-title", _edited(first.raw, "drop:title")),
            ("cut", first.raw[: len(first.raw) // 2]),
        ]
        catalogue.records.save_source(SPIRE)
        catalogue.records.store_page(
            "SPIRE",
            [SourceRecord("SPIRE", r.identifier, r.raw, "oai_dc", r.datestamp) for r in spire]
            + [SourceRecord("SPIRE", key, raw, "oai_dc", "2013-04-05T00:00:00Z") for key, raw in unusable],
            None,
        )

        report = run_index(
            catalogue.records, catalogue.index, workers=2, parallel_from=0
        )  # worker processes too
        assert report.read == len(marc) + len(spire) + len(unusable)
        assert report.parsed == len(marc) + len(spire)
        assert report.quarantined == 2
        reasons = {q.local_id: (q.stage, q.reason, q.raw) for q in catalogue.records.list_quarantine()}
        assert set(reasons) == {"no-title", "cut"}
        assert reasons["no-title"][0] == "index" and "no dc:title" in reasons["no-title"][1]
        assert reasons["cut"][1].startswith("oai_dc record is not well-formed XML")
        assert reasons["cut"][2] == first.raw[: len(first.raw) // 2]

        # One merge only: the library's copy of the SPIRE book, by its ISBN.
        assert report.merged_clusters == 1
        assert report.union_records == catalogue.index.union_count() == len(marc) + len(spire) - 1
        merged = next(r for r in catalogue.index.iter_union_records() if len(r.sources) > 1)
        assert {(s.source, s.local_id) for s in merged.sources} == {
            ("BIB", "genre-2009"),
            ("SPIRE", GENRE_BOOK),
        }
        assert [(m.rule, m.key) for m in merged.merge] == [("isbn", "9782296083967")]
        assert sorted(h.library for h in merged.holdings) == ["BIB", "SPIRE"]
        assert merged.year == 2009 and merged.isbns == ["9782296083967"]
        assert "Logiques politiques DROIT, JUSTICE POLITIQUE QUESTIONS DE FEMMES" in merged.subjects
        assert merged.updated == "2024-01-01T00:00:00Z"  # the later datestamp of the two
        chapter = next(
            r
            for r in catalogue.index.iter_union_records()
            if any(s.local_id == GENRE_CHAPTER for s in r.sources)
        )
        assert len(chapter.sources) == 1 and chapter.isbns == []

        # Searched and faceted like any record.
        # 229608396X: the ISBN-10 form of 978-2-296-08396-7 (check digit 243 mod 11 = 1 → X).
        by_isbn = catalogue.index.search(SearchQuery(clauses=parse_text_query("isbn:229608396X").clauses))
        assert [hit.id for hit in by_isbn.hits] == [merged.id]
        by_author = catalogue.index.search(
            SearchQuery(clauses=parse_text_query('author:"Ramel, Frédéric"').clauses, page_size=100)
        )
        assert by_author.total >= 1 and all("SPIRE" in hit.libraries for hit in by_author.hits)
        everything = catalogue.index.search(SearchQuery(page_size=1))
        formats = {facet.value: facet.count for facet in everything.facets["format"]}
        assert formats["article"] == 48
        libraries = {facet.value: facet.count for facet in everything.facets["library"]}
        assert libraries == {"SPIRE": len(spire), "BIB": len(marc)}
        articles = catalogue.index.search(SearchQuery(filters={"format": ("article",)}, page_size=1))
        assert articles.total == 48
    finally:
        catalogue.close()


def test_the_oai_dc_namespace_is_what_the_helper_serialises() -> None:
    # The harvester stores the <oai_dc:dc> element itself, namespaces included: so do these tests.
    raw = oai_dc_records(SPIRE_FILE)[0].raw
    root = etree.fromstring(raw)
    assert root.tag == f"{{{OAI_DC_NS}}}dc"
    assert raw.startswith(b"<oai_dc:dc ")
