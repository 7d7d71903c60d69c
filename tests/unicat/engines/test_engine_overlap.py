"""The holdings overlap between libraries on every engine: what each library holds, what it alone
holds, and what each pair shares, counted over the whole union index.

The expected numbers are counted here, from the records' holdings, by plain set logic
(:func:`expected_overlap`), never by the code under test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from harvester.importer import import_files
from indexer import run_index
from tests.support.shared_data import SHARED_DATA
from unicat.catalogue import Catalogue
from unicat.model import Holding, Profile, Source, SourceRef, UnionRecord
from unicat.overlap import LibraryOverlap
from unicat.ports.union_index import UnionIndex

MakeRecord = Callable[..., UnionRecord]


def expected_overlap(records: Iterable[UnionRecord]) -> LibraryOverlap:
    """The overlap of ``records``: each one's set of holding libraries, counted."""
    held = [{holding.library for holding in record.holdings} for record in records]
    libraries = set().union(*held)
    totals = {library: sum(library in libraries_of for libraries_of in held) for library in libraries}
    unique = {
        library: count
        for library in libraries
        if (count := sum(libraries_of == {library} for libraries_of in held))
    }
    shared = {
        (first, second): count
        for first in libraries
        for second in libraries
        if first < second and (count := sum({first, second} <= libraries_of for libraries_of in held))
    }
    return LibraryOverlap(records=len(held), totals=totals, unique=unique, shared=shared)


@pytest.fixture
def network(make_union_record: MakeRecord) -> list[UnionRecord]:
    """Records held by different sets of libraries: one, two, three and all five of them; a library
    (``bm-lyon``, lower case: it sorts after the others) that holds nothing alone; a record with two
    copies in one library; and one with no holdings at all."""
    two_copies = make_union_record("miserables", "Les Misérables", libraries=["BNF", "OXF"])
    two_copies.holdings.append(Holding(library="BNF", library_name="BnF", call_number="8-Y2-2"))
    return [
        make_union_record("etranger", "L'Étranger", libraries=["BNF", "SCPO"]),
        make_union_record("peste", "La Peste", libraries=["SCPO", "UVA", "bm-lyon"]),
        make_union_record("pride", "Pride and Prejudice", libraries=["UVA", "OXF"]),
        make_union_record("emma", "Emma", libraries=["OXF"]),
        make_union_record("persuasion", "Persuasion", libraries=["OXF"]),
        make_union_record("rfsp", "Revue française de science politique", libraries=["SCPO"]),
        make_union_record("faust", "Faust", libraries=["BNF", "OXF", "SCPO", "UVA", "bm-lyon"]),
        make_union_record("carte", "Carte de la France", libraries=["BNF"]),
        two_copies,
        UnionRecord(id="orphan", title="A record without holdings", sources=[SourceRef("BNF", "bnf-orphan")]),
    ]


def test_totals_unique_and_pairs_follow_the_holdings(engine: UnionIndex, network: list[UnionRecord]) -> None:
    assert engine.replace_union_records(network).written == len(network)
    found = engine.library_overlap()
    assert found == expected_overlap(network)
    # The same numbers by hand, so that the set logic above is checked too.
    assert found.records == 10
    assert found.totals == {"BNF": 4, "OXF": 5, "SCPO": 4, "UVA": 3, "bm-lyon": 2}
    assert found.unique == {"BNF": 1, "OXF": 2, "SCPO": 1}
    assert found.shared[("BNF", "OXF")] == 2 and found.shared[("SCPO", "bm-lyon")] == 2
    assert ("BNF", "bm-lyon") in found.shared and ("BNF", "UVA") in found.shared
    assert found.shared_by("bm-lyon", "UVA") == found.shared_by("UVA", "bm-lyon") == 2
    assert found.libraries == ["BNF", "OXF", "SCPO", "UVA", "bm-lyon"]


def test_a_rebuild_gives_the_new_index_overlap(
    engine: UnionIndex, network: list[UnionRecord], make_union_record: MakeRecord
) -> None:
    engine.replace_union_records(network)
    engine.library_overlap()
    smaller = [
        make_union_record("etranger", "L'Étranger", libraries=["BNF", "UVA"]),
        make_union_record("emma", "Emma", libraries=["UVA"]),
    ]
    engine.replace_union_records(smaller)
    assert engine.library_overlap() == LibraryOverlap(
        records=2, totals={"BNF": 1, "UVA": 2}, unique={"UVA": 1}, shared={("BNF", "UVA"): 1}
    )


def test_the_empty_index_has_no_overlap(engine: UnionIndex, network: list[UnionRecord]) -> None:
    assert engine.library_overlap() == LibraryOverlap(records=0)
    engine.replace_union_records(network)
    engine.replace_union_records([])
    assert engine.library_overlap() == LibraryOverlap(records=0)


def test_many_libraries_are_counted_exactly(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    """More libraries than a facet shows (the Elasticsearch engine sizes its aggregations from the
    library count): record n is held by libraries 0..n mod 7 of 120, and by library n alone too."""
    codes = [f"L{number:03d}" for number in range(120)]
    records = [
        make_union_record(f"r{n}", f"Title {n}", libraries=sorted({codes[n], *codes[: n % 7 + 1]}))
        for n in range(120)
    ]
    engine.replace_union_records(records)
    assert engine.library_overlap() == expected_overlap(records)


def _pride_chunks() -> list[bytes]:
    data = (SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc").read_bytes()
    return [chunk + b"\x1d" for chunk in data.split(b"\x1d") if chunk.strip()]


def test_overlap_of_real_records(catalogue: Catalogue, tmp_path: Path) -> None:
    """Real MARC records, imported and indexed as a network would: the 383 records of the Pride and
    Prejudice set shared between two libraries (even and odd records, as the demo's Austen
    societies), a third holding the first 60, and the 109 UNIMARC records of cotesMEL.mrc in a
    fourth. The indexer merges copies of one edition, so libraries share the merged records."""
    pride = _pride_chunks()
    libraries: dict[str, tuple[Profile, list[bytes]]] = {
        "AUSA": ("marc21", pride[0::2]),
        "AUSB": ("marc21", pride[1::2]),
        "AUSC": ("marc21", pride[:60]),
        "MEL": ("unimarc", [(SHARED_DATA / "unimarc" / "cotesMEL.mrc").read_bytes()]),
    }
    for code, (profile, chunks) in libraries.items():
        path = tmp_path / f"{code}.mrc"
        path.write_bytes(b"".join(chunks))
        source = Source(code=code, name=f"Library {code}", profile=profile)
        catalogue.records.save_source(source)
        import_files(catalogue.records, source, [path])
    run_index(catalogue.records, catalogue.index, workers=1)

    indexed = list(catalogue.index.iter_union_records())
    expected = expected_overlap(indexed)
    assert catalogue.index.library_overlap() == expected
    # The data makes every kind of count: shared pairs, a library with nothing of its own, records
    # of three libraries.
    assert expected.records == catalogue.index.union_count() and set(expected.totals) == set(libraries)
    assert expected.shared_by("AUSA", "AUSB") > 0 and expected.shared_by("AUSC", "MEL") == 0
    assert expected.unique.get("AUSC", 0) == 0 and expected.unique["MEL"] == expected.totals["MEL"]
    assert any(len(record.libraries) == 3 for record in indexed)
