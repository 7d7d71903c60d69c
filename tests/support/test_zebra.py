"""The Zebra harness serves the shared records as a real Z39.50 and SRU server: what Debian's own
``yaz-client`` and a plain SRU request find there is what the records hold, read with pymarc."""

from __future__ import annotations

import io
import re
import subprocess
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import pymarc
import pytest
from lxml import etree

from tests.support.zebra import (
    MARC21_DATABASE,
    MARC21_FILES,
    MARC21_INDEXES,
    MARCXML_SCHEMA,
    UNIMARC_DATABASE,
    UNIMARC_FILES,
    UNIMARC_INDEXES,
    ZebraServer,
    running_zebra,
)

pytestmark = pytest.mark.peers

# Zebra's stock string.chr, read from its definition: these characters separate words ("space"),
# A-Z and six accented capitals fold to lower case; every other character stays in the word as it is.
ZEBRA_SPACE = re.compile(r"""[\x01-\x20!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]+""")
ZEBRA_FOLD = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZÜÆÄØÖÅ", "abcdefghijklmnopqrstuvwxyzüæäøöå")

Fields = Sequence[tuple[str, str]]
PARSE_XML: Callable[[object], list[pymarc.Record]] = pymarc.parse_xml_to_array


@pytest.fixture(scope="module")
def zebra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZebraServer]:
    with running_zebra(Path(tmp_path_factory.mktemp("zebra"))) as server:
        yield server


def read(files: Iterable[Path]) -> list[pymarc.Record]:
    """The records as Zebra reads them: UTF-8 whatever the leader says (the UNIMARC files declare
    otherwise, wrongly)."""
    records: list[pymarc.Record] = []
    for path in files:
        with path.open("rb") as handle:
            reader = pymarc.MARCReader(handle, to_unicode=True, force_utf8=True, permissive=True)
            records += [record for record in reader if record is not None]
    return records


def zebra_words(text: str) -> set[str]:
    return {word for word in ZEBRA_SPACE.split(text.translate(ZEBRA_FOLD)) if word}


def values(record: pymarc.Record, fields: Fields) -> Iterator[str]:
    for tag, codes in fields:
        for field in record.get_fields(tag):
            yield from (subfield.value for subfield in field.subfields if subfield.code in codes)


def count_words(records: list[pymarc.Record], fields: Fields, word: str) -> int:
    """Records holding ``word`` as a word of one of ``fields``' subfields, folded as Zebra folds."""
    return sum(1 for record in records if any(word in zebra_words(text) for text in values(record, fields)))


def first_word(value: str) -> str:
    return value.split()[0].replace("-", "").translate(ZEBRA_FOLD) if value.split() else ""


def yaz_client(server: ZebraServer, database: str, commands: str) -> str:
    script = f"open tcp:{server.z3950_address(database)}\n{commands}\nquit\n"
    done = subprocess.run(
        ["yaz-client"],
        input=script,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=60,
        check=False,
    )
    return done.stdout


def hits(server: ZebraServer, database: str, query: str) -> int:
    out = yaz_client(server, database, f"find {query}")
    found = re.search(r"Number of hits: (\d+)", out)
    assert found, f"yaz-client found no hit count for {query!r}:\n{out}"
    return int(found.group(1))


def sru(server: ZebraServer, database: str, **parameters: str) -> etree._Element:
    query = urllib.parse.urlencode({"version": "1.2", "operation": "searchRetrieve", **parameters})
    with urllib.request.urlopen(f"{server.sru_url(database)}?{query}", timeout=30) as answer:
        return etree.fromstring(answer.read())


def most_common(records: list[pymarc.Record], fields: Fields, normalise: Callable[[str], str]) -> str:
    counted = Counter(normalise(text) for record in records for text in set(values(record, fields)))
    return counted.most_common(1)[0][0]


def shape(record: pymarc.Record) -> tuple[object, ...]:
    """A record's fields as comparable data (the leader aside: YAZ writes its own lengths)."""
    return tuple(
        (field.tag, field.data)
        if field.is_control_field()
        else (field.tag, field.indicators, tuple((s.code, s.value) for s in field.subfields))
        for field in record.fields
    )


MARC21 = read(MARC21_FILES)
UNIMARC = read(UNIMARC_FILES)


@pytest.mark.parametrize(
    ("database", "records", "indexes", "use", "index", "word"),
    [
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, 4, "Title", "pride"),
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, 4, "Title", "community"),
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, 1003, "Author", "austen"),
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, 1004, "Author-name-personal", "jane"),
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, 21, "Subject-heading", "fiction"),
        (UNIMARC_DATABASE, UNIMARC, UNIMARC_INDEXES, 4, "Title", "histoire"),
        (UNIMARC_DATABASE, UNIMARC, UNIMARC_INDEXES, 1003, "Author", "leroy"),
        (UNIMARC_DATABASE, UNIMARC, UNIMARC_INDEXES, 21, "Subject-heading", "france"),
    ],
)
def test_a_word_finds_the_records_holding_it_in_that_index(
    zebra: ZebraServer,
    database: str,
    records: list[pymarc.Record],
    indexes: Mapping[str, Fields],
    use: int,
    index: str,
    word: str,
) -> None:
    expected = count_words(records, indexes[index], word)
    assert expected > 0
    assert hits(zebra, database, f"@attr 1={use} {word}") == expected


def test_an_isbn_finds_the_records_carrying_it(zebra: ZebraServer) -> None:
    # The most shared ISBN of the data (the cotes*.mrc UNIMARC records carry no 010 ISBN).
    fields = MARC21_INDEXES["ISBN"]
    isbn = most_common(MARC21, fields, first_word)
    expected = sum(1 for record in MARC21 if isbn in {first_word(v) for v in values(record, fields)})
    assert expected > 1
    assert hits(zebra, MARC21_DATABASE, f"@attr 1=7 {isbn}") == expected


def test_a_year_finds_the_records_of_that_year_in_008(zebra: ZebraServer) -> None:
    years = Counter((field.data or "")[7:11] for record in MARC21 for field in record.get_fields("008")[:1])
    year, expected = next((year, n) for year, n in years.most_common() if year.isdigit())
    assert hits(zebra, MARC21_DATABASE, f"@attr 1=31 {year}") == expected


def test_any_finds_a_word_of_any_subfield(zebra: ZebraServer) -> None:
    every_field = [
        (field.tag, "".join(s.code for s in field.subfields)) for r in UNIMARC for field in r.fields
    ]
    expected = count_words(UNIMARC, sorted(set(every_field)), "paris")
    assert expected > 0
    assert hits(zebra, UNIMARC_DATABASE, "@attr 1=1016 paris") == expected


@pytest.mark.parametrize(
    ("database", "records", "indexes", "word"),
    [
        (MARC21_DATABASE, MARC21, MARC21_INDEXES, "pride"),
        (UNIMARC_DATABASE, UNIMARC, UNIMARC_INDEXES, "histoire"),
    ],
)
def test_sru_counts_what_z3950_counts(
    zebra: ZebraServer, database: str, records: list[pymarc.Record], indexes: Mapping[str, Fields], word: str
) -> None:
    answer = sru(zebra, database, query=f"dc.title={word}", maximumRecords="0")
    count = answer.findtext("{http://www.loc.gov/zing/srw/}numberOfRecords")
    assert count is not None and int(count) == count_words(records, indexes["Title"], word)


def test_sru_returns_the_records_as_marcxml(zebra: ZebraServer) -> None:
    answer = sru(
        zebra, MARC21_DATABASE, query="dc.creator=austen", maximumRecords="3", recordSchema="marcxml"
    )
    srw = "{http://www.loc.gov/zing/srw/}"
    assert [schema.text for schema in answer.iterfind(f"{srw}records/{srw}record/{srw}recordSchema")] == [
        MARCXML_SCHEMA
    ] * 3
    returned = [marcxml_record(data[0]) for data in answer.iter(f"{srw}recordData")]
    originals = {shape(record) for record in MARC21}
    assert len(returned) == 3
    assert all(shape(record) in originals for record in returned)


@pytest.mark.parametrize("syntax", ["usmarc", "xml"])
def test_z3950_returns_the_records_as_iso2709_or_marcxml(
    zebra: ZebraServer, tmp_path: Path, syntax: str
) -> None:
    dump = tmp_path / f"records.{syntax}"
    element = "elem marcxml\n" if syntax == "xml" else ""
    yaz_client(
        zebra,
        UNIMARC_DATABASE,
        f"set_marcdump {dump}\nfind @attr 1=4 histoire\nformat {syntax}\n{element}show 1+3",
    )
    if syntax == "usmarc":
        with dump.open("rb") as handle:
            returned = list(pymarc.MARCReader(handle, to_unicode=True, force_utf8=True))
    else:
        documents = dump.read_bytes().split(b'<?xml version="1.0" encoding="UTF-8"?>')
        returned = [marcxml_record(etree.fromstring(doc)) for doc in documents if doc.strip()]
    originals = {shape(record) for record in UNIMARC}
    assert len(returned) == 3
    assert all(record is not None and shape(record) in originals for record in returned)
    assert all(record is not None and record.get_fields("995") for record in returned)


def marcxml_record(element: etree._Element) -> pymarc.Record:
    (record,) = PARSE_XML(io.BytesIO(etree.tostring(element)))
    return record
