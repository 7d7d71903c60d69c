"""The behaviour every engine must have, run against each engine of ``tests/conftest.py::ENGINES``.

Expected answers come from the records each test writes (counted here with plain Python), never from
running the engine itself.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import replace

import pytest

from unicat.model import Holding, KeptApart, MergeRule, SourceRef, UnionRecord
from unicat.ports.union_index import UnionIndex
from unicat.query import (
    Clause,
    Not,
    Or,
    SearchQuery,
    SearchResult,
    ValueFilter,
    decade_label,
    parse_search_params,
)
from unicat.settings import Settings

MakeRecord = Callable[..., UnionRecord]


def search(engine: UnionIndex, q: str = "", **params: str | list[str]) -> SearchResult:
    """Search as the web app does: from request parameters."""
    request = {name: value if isinstance(value, list) else [value] for name, value in params.items()}
    request["q"] = [q]
    return engine.search(parse_search_params(request, Settings()))


def ids(result: SearchResult) -> set[str]:
    return {hit.id for hit in result.hits}


@pytest.fixture
def catalogue(make_union_record: MakeRecord) -> list[UnionRecord]:
    """A small union catalogue: French, English, German and Dutch titles, a serial, a map."""
    return [
        make_union_record(
            "etranger",
            "L'Étranger",
            authors=["Camus, Albert"],
            year=1942,
            language="fre",
            libraries=["BNF", "SCPO"],
            # ISBN-10 2-07-036002-4 (Folio): 978 + 207036002 + check 4 (ISBN-13 weights 1,3).
            isbns=["9782070360024"],
            subjects=["Roman français -- 20e siècle"],
            publisher="Gallimard",
            place="Paris",
            series=["Folio"],
        ),
        make_union_record(
            "oeuvres",
            "Œuvres complètes",
            authors=["Rimbaud, Arthur"],
            year=1972,
            language="fre",
            libraries=["BNF"],
            publisher="Gallimard",
            series=["Bibliothèque de la Pléiade"],
        ),
        make_union_record(
            "peste",
            "La Peste",
            authors=["Camus, Albert"],
            year=1947,
            language="fre",
            libraries=["SCPO", "UVA"],
            publisher="Gallimard",
        ),
        make_union_record(
            "pride-1813",
            "Pride and Prejudice",
            authors=["Austen, Jane"],
            year=1813,
            language="eng",
            libraries=["UVA", "OXF"],
            publisher="T. Egerton",
            place="London",
        ),
        make_union_record(
            "pride-2003",
            "Pride and prejudice",
            authors=["Austen, Jane"],
            year=2003,
            language="eng",
            libraries=["OXF"],
            # ISBN-10 0-14-143951-3 (Penguin Classics) → 978-0-14-143951-8.
            isbns=["9780141439518"],
            publisher="Penguin",
        ),
        make_union_record(
            "rfsp",
            "Revue française de science politique",
            year=1951,
            language="fre",
            format="serial",
            libraries=["SCPO"],
            issns=["0035-2950"],
            subjects=["Science politique -- Périodiques"],
        ),
        make_union_record(
            "faust",
            "Faust: der Tragödie erster Teil",
            authors=["Goethe, Johann Wolfgang von"],
            year=1808,
            language="ger",
            libraries=["UVA"],
        ),
        make_union_record(
            "achterhuis",
            "Het Achterhuis: dagboekbrieven",
            authors=["Frank, Anne"],
            language="dut",
            libraries=["UVA"],
        ),
        make_union_record(
            "carte",
            "Carte de la France en 1850",
            year=1850,
            language="fre",
            format="map",
            libraries=["BNF"],
        ),
    ]


@pytest.fixture
def indexed(engine: UnionIndex, catalogue: list[UnionRecord]) -> UnionIndex:
    assert engine.replace_union_records(catalogue).written == len(catalogue)
    return engine


# -- union index -----------------------------------------------------------------------------------


def test_replace_get_iter_count(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    assert indexed.union_count() == len(catalogue)
    stored = indexed.get_union_record("etranger")
    assert stored is not None
    assert stored.to_json() == catalogue[0].to_json()
    assert indexed.get_union_record("missing") is None
    assert [record.id for record in indexed.iter_union_records()] == sorted(r.id for r in catalogue)


def test_merge_rules_and_refusals_round_trip(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    """What a librarian reads on the merge page (the rules that merged, the records kept apart and
    why) comes back from the index as it was written."""
    record = replace(
        make_union_record("pride", "Pride and prejudice", year=1813, libraries=["BNF", "UVA"]),
        merge=[MergeRule("system_number", "(OCoLC)123")],
        kept_apart=[
            KeptApart(
                SourceRef("SCPO", "b42"), "system_number", "(OCoLC)123", "the years differ (1813 / 1894)"
            ),
            KeptApart(
                SourceRef("UVA", "u7"), "lccn", "81010777", "an edition statement on one only (none / 2)"
            ),
        ],
    )
    assert engine.replace_union_records([record]).written == 1
    stored = engine.get_union_record("pride")
    assert stored is not None
    assert stored.kept_apart == record.kept_apart
    assert stored.merge == record.merge
    assert [r.kept_apart for r in engine.iter_union_records()] == [record.kept_apart]


def test_replace_drops_records_not_given_again(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    assert indexed.replace_union_records(catalogue[:2]).written == 2
    assert indexed.union_count() == 2
    assert indexed.get_union_record("peste") is None
    assert search(indexed, "peste").total == 0


def test_iter_union_records_streams_many(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    records = (make_union_record(f"r{n:05d}", f"Mémoires, tome {n}") for n in range(1_500))
    assert engine.replace_union_records(records).written == 1_500
    assert sum(1 for _ in engine.iter_union_records()) == 1_500


# -- search ----------------------------------------------------------------------------------------


def test_text_search_ignores_accents_case_and_elision(indexed: UnionIndex) -> None:
    assert ids(search(indexed, "etranger")) == {"etranger"}
    assert ids(search(indexed, "ÉTRANGER")) == {"etranger"}
    assert ids(search(indexed, "l'étranger")) == {"etranger"}
    assert ids(search(indexed, "oeuvres completes")) == {"oeuvres"}
    assert ids(search(indexed, "tragodie")) == {"faust"}


def test_all_words_must_match(indexed: UnionIndex) -> None:
    assert ids(search(indexed, "camus")) == {"etranger", "peste"}
    assert ids(search(indexed, "camus peste")) == {"peste"}
    assert ids(search(indexed, "camus austen")) == set()


def test_field_clauses(indexed: UnionIndex) -> None:
    assert ids(search(indexed, "author:camus")) == {"etranger", "peste"}
    assert ids(search(indexed, "title:camus")) == set()
    assert ids(search(indexed, "subject:politique")) == {"rfsp"}
    assert ids(search(indexed, "publisher:gallimard")) == {"etranger", "oeuvres", "peste"}
    assert ids(search(indexed, "series:pleiade")) == {"oeuvres"}


def test_phrases_keep_words_adjacent_and_in_order(indexed: UnionIndex) -> None:
    assert ids(search(indexed, '"pride and prejudice"')) == {"pride-1813", "pride-2003"}
    assert ids(search(indexed, '"prejudice and pride"')) == set()
    assert ids(search(indexed, 'title:"science politique"')) == {"rfsp"}


def test_any_spans_every_text_field_but_a_phrase_stays_inside_one(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    gazette = make_union_record(
        "gazette", "Gazette de Lausanne", authors=["Dupont, Marie"], publisher="Imprimerie vaudoise"
    )
    engine.replace_union_records(
        [
            replace(gazette, notes=["Numérisé par la Bibliothèque cantonale"]),
            make_union_record("journal", "Journal de Genève", authors=["Marie, Louise"]),
        ]
    )
    assert ids(search(engine, "numerise")) == {"gazette"}  # a word found only in the notes
    assert ids(search(engine, "lausanne dupont vaudoise")) == {"gazette"}  # title, author, publisher
    assert ids(search(engine, "lausan* vaud*")) == {"gazette"}
    assert ids(search(engine, "marie")) == {"gazette", "journal"}
    assert ids(search(engine, '"gazette de lausanne"')) == {"gazette"}
    # The title's last word and the author's first are adjacent in no field.
    assert ids(search(engine, '"lausanne dupont"')) == set()
    assert ids(search(engine, "title:numerise")) == set()


def test_prefix_search(indexed: UnionIndex) -> None:
    assert ids(search(indexed, "prej*")) == {"pride-1813", "pride-2003"}
    assert ids(search(indexed, "achter*")) == {"achterhuis"}
    assert ids(search(indexed, "title:oeuv*")) == {"oeuvres"}


def test_identifier_search(indexed: UnionIndex) -> None:
    for typed in ("9782070360024", "978-2-07-036002-4", "2-07-036002-4", "2070360024"):
        assert ids(search(indexed, typed)) == {"etranger"}, typed
    assert ids(search(indexed, "isbn:0141439513")) == {"pride-2003"}
    assert ids(search(indexed, "issn:0035-2950")) == {"rfsp"}


def test_engine_syntax_in_user_text_is_only_text(indexed: UnionIndex) -> None:
    for text in ('NEAR(" camus', "AND", "title:", "*", "{title}:x", "^camus", "camus:*"):
        result = search(indexed, text)
        assert result.total >= 0


def test_search_box_operators(indexed: UnionIndex) -> None:
    camus, austen = ids(search(indexed, "camus")), ids(search(indexed, "austen"))
    assert camus and austen and not camus & austen
    assert ids(search(indexed, "camus OR austen")) == camus | austen
    assert ids(search(indexed, "(camus OR austen) -peste")) == (camus | austen) - {"peste"}
    # A lone quote or parenthesis finds nothing, not the whole catalogue.
    assert search(indexed, '"').total == search(indexed, "(").total == 0


def test_filters(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    assert ids(search(indexed, library="SCPO")) == {r.id for r in catalogue if "SCPO" in r.libraries}
    assert ids(search(indexed, library=["BNF", "OXF"])) == {
        r.id for r in catalogue if {"BNF", "OXF"} & set(r.libraries)
    }
    assert ids(search(indexed, "camus", library="UVA")) == {"peste"}
    assert ids(search(indexed, format="map")) == {"carte"}
    assert ids(search(indexed, language=["eng", "ger"], library="UVA")) == {"pride-1813", "faust"}
    assert ids(search(indexed, format="book", language="dut")) == {"achterhuis"}
    assert search(indexed, library="NOWHERE").total == 0


def test_year_ranges(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    def years(low: int | None, high: int | None) -> set[str]:
        return {
            r.id
            for r in catalogue
            if r.year is not None and (low is None or r.year >= low) and (high is None or r.year <= high)
        }

    assert ids(search(indexed, year="1942")) == {"etranger"} == years(1942, 1942)
    assert ids(search(indexed, year="1900-1999")) == years(1900, 1999)
    assert ids(search(indexed, year="-1850")) == years(None, 1850)
    assert ids(search(indexed, year="1950-")) == years(1950, None)


def test_sorting(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    dated = sorted((r for r in catalogue if r.year is not None), key=lambda r: r.year or 0)
    undated = [r.id for r in catalogue if r.year is None]
    newest = [hit.id for hit in search(indexed, sort="year_desc", page_size="100").hits]
    assert newest == [r.id for r in reversed(dated)] + undated
    oldest = [hit.id for hit in search(indexed, sort="year_asc", page_size="100").hits]
    assert oldest == [r.id for r in dated] + undated
    by_title = [hit.id for hit in search(indexed, sort="title", page_size="100").hits]
    # Folded titles: "carte…", "etranger" (elided l'), "faust…", "het achterhuis…", "la peste", "oeuvres…"
    assert by_title == [
        "carte",
        "etranger",
        "faust",
        "achterhuis",
        "peste",
        "oeuvres",
        "pride-1813",
        "pride-2003",
        "rfsp",
    ]


def test_relevance_puts_title_matches_first(indexed: UnionIndex, make_union_record: MakeRecord) -> None:
    records = [
        make_union_record("notes", "Carnets", subjects=["Camus, Albert -- Critique et interprétation"]),
        make_union_record("camus-title", "Camus"),
    ]
    indexed.replace_union_records(records)
    assert [hit.id for hit in search(indexed, "camus").hits] == ["camus-title", "notes"]


def test_the_whole_query_as_a_phrase_in_a_title_ranks_first(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    # After two serials of the demo (unimarc/periouni.mrc): the second has every word of "cold war
    # history" in its title and its author, but not together in its title. Both have the same subject.
    subjects = ["Cold war -- History -- Periodicals"]
    known = make_union_record("cold-war-history", "Cold war history", subjects=subjects)
    scattered = make_union_record(
        "bulletin",
        "Bulletin - Cold War International History Project",
        authors=["Cold War International History Project"],
        subjects=subjects,
    )
    others = [
        make_union_record("peace", "War and peace", authors=["Tolstoy, Leo"]),
        make_union_record("rome", "The history of Rome", authors=["Mommsen, Theodor"]),
        make_union_record("farm", "Cold comfort farm", authors=["Gibbons, Stella"]),
        make_union_record("notes", "Notes of a native son", authors=["Baldwin, James"]),
    ]
    engine.replace_union_records([known, scattered, *others])
    assert [hit.id for hit in search(engine, "Cold war history").hits] == ["cold-war-history", "bulletin"]
    assert [hit.id for hit in search(engine, "cold war history", format="book").hits] == [
        "cold-war-history",
        "bulletin",
    ]
    # A field the reader named is theirs: nothing is added to the scores, and the order is the plain one.
    assert {hit.id for hit in search(engine, "subject:history war").hits} == {"bulletin", "cold-war-history"}


def test_at_equal_text_score_the_edition_more_libraries_hold_ranks_first(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    # Identical text, so identical scores; the ids alone (the last tie-break) would put "a-one" first.
    one = make_union_record("a-one", "Madame Bovary", authors=["Flaubert, Gustave"], libraries=["BNF"])
    three = make_union_record(
        "b-three", "Madame Bovary", authors=["Flaubert, Gustave"], libraries=["BNF", "SCPO", "UVA"]
    )
    engine.replace_union_records([one, three])
    assert [hit.id for hit in search(engine, "madame bovary").hits] == ["b-three", "a-one"]
    assert [hit.id for hit in search(engine, "bovary", library="BNF").hits] == ["b-three", "a-one"]
    # So many ties that SQLite sorts every match in full rather than its best scores alone.
    many = [
        make_union_record(f"a-{n:03d}", "Madame Bovary", authors=["Flaubert, Gustave"]) for n in range(120)
    ]
    engine.replace_union_records([*many, three])
    assert [hit.id for hit in search(engine, "madame bovary", page_size="1").hits] == ["b-three"]
    # Only a tie-break: the title that is the query alone outranks the longer one more libraries hold.
    shorter = make_union_record("z-short", "Bovary", libraries=["OXF"])
    engine.replace_union_records([one, three, shorter])
    assert [hit.id for hit in search(engine, "bovary", page_size="1").hits] == ["z-short"]


def test_paging_covers_every_hit_once(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    # Equal titles and years: the order must still be total, or pages would overlap.
    records = [make_union_record(f"r{n:03d}", "Les Misérables", year=1862 + n % 3) for n in range(47)]
    engine.replace_union_records(records)
    for sort in ("relevance", "year_desc", "title"):
        for q in ("miserables", ""):
            seen: list[str] = []
            for page in range(1, 6):
                result = search(engine, q, sort=sort, page=str(page), page_size="10")
                assert result.total == 47
                seen.extend(hit.id for hit in result.hits)
            assert sorted(seen) == sorted(r.id for r in records), (sort, q)


def test_facets_count_the_whole_match_set(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    result = search(indexed, page_size="1")
    assert result.total == len(catalogue)
    assert len(result.hits) == 1
    assert result.facets_timed_out == []
    library = Counter(code for r in catalogue for code in r.libraries)
    language = Counter(r.language for r in catalogue if r.language)
    formats = Counter(r.format for r in catalogue)
    decades = Counter(decade_label(r.year) for r in catalogue if r.year is not None)

    def expected(counts: Counter[str]) -> list[tuple[str, int]]:
        return sorted(counts.items(), key=lambda item: (-item[1], item[0]))

    def got(name: str) -> list[tuple[str, int]]:
        return [(facet.value, facet.count) for facet in result.facets[name]]

    assert got("library") == expected(library)
    assert got("language") == expected(language)
    assert got("format") == expected(formats)
    assert got("year") == expected(decades)


def test_facets_follow_the_query_and_filters(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    result = search(indexed, "gallimard", library="SCPO")
    gallimard = [r for r in catalogue if r.publisher == "Gallimard"]
    matched = [r for r in gallimard if "SCPO" in r.libraries]
    assert result.total == len(matched) == 2
    # The library facet has a selection of its own: it counts the query's matches without it.
    library = Counter(code for r in gallimard for code in r.libraries)
    assert {(f.value, f.count) for f in result.facets["library"]} == set(library.items())
    assert [(f.value, f.count) for f in result.facets["year"]] == [("1940-1949", 2)]


def test_facet_size_limits_values(indexed: UnionIndex) -> None:
    query = parse_search_params({}, Settings())
    small = SearchQuery(facet_size=2, page_size=query.page_size)
    result = indexed.search(small)
    assert all(len(values) <= 2 for values in result.facets.values())
    assert [f.value for f in result.facets["language"]] == ["fre", "eng"]


def test_no_facets_when_not_asked(indexed: UnionIndex) -> None:
    assert search(indexed, facets="0").facets == {}


def test_match_all_and_empty_index(engine: UnionIndex, catalogue: list[UnionRecord]) -> None:
    empty = search(engine)
    assert (empty.total, empty.hits) == (0, [])
    engine.replace_union_records(catalogue)
    everything = search(engine, page_size="100")
    assert everything.total == len(catalogue)
    assert ids(everything) == {r.id for r in catalogue}
    assert everything.took_ms > 0


# -- concurrency -----------------------------------------------------------------------------------


def test_searches_during_a_rebuild_see_old_or_new_index_whole(
    engine: UnionIndex, make_union_record: MakeRecord
) -> None:
    def edition(generation: str, n: int) -> UnionRecord:
        return make_union_record(f"{generation}-{n:04d}", f"Les Misérables, {generation} tome {n}", year=1862)

    old = [edition("ancien", n) for n in range(600)]
    new = [edition("nouveau", n) for n in range(900)]
    engine.replace_union_records(old)
    failures: list[BaseException] = []
    totals: set[int] = set()
    stop = threading.Event()

    def searcher() -> None:
        while not stop.is_set():
            try:
                result = search(engine, "miserables")
                facet_total = sum(f.count for f in result.facets["year"])
                generations = {hit.id.split("-")[0] for hit in result.hits}
                assert len(generations) == 1, generations
                assert facet_total == result.total
                totals.add(result.total)
            except BaseException as exc:
                failures.append(exc)
                return

    threads = [threading.Thread(target=searcher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for _ in range(3):
        engine.replace_union_records(new)
        engine.replace_union_records(old)
    stop.set()
    for thread in threads:
        thread.join()
    assert failures == []
    assert totals <= {len(old), len(new)}
    assert totals


# -- subject facet and filter ----------------------------------------------------------------------


@pytest.fixture
def subject_catalogue(make_union_record: MakeRecord) -> list[UnionRecord]:
    """Records whose subject headings repeat a main heading with different subdivisions."""
    return [
        make_union_record(
            "criticism",
            "Jane Austen and the novel",
            libraries=["OXF", "UVA"],
            language="eng",
            subjects=[
                "Austen, Jane, 1775-1817 -- Criticism and interpretation",
                "Austen, Jane, 1775-1817 -- Film adaptations",
                "Women in literature",
            ],
        ),
        make_union_record(
            "bibliography",
            "Jane Austen: a bibliography",
            libraries=["OXF"],
            language="eng",
            subjects=["Austen, Jane, 1775-1817 -- Bibliography"],
        ),
        make_union_record(
            "pride",
            "Pride and prejudice",
            libraries=["UVA", "BNF"],
            language="eng",
            subjects=["Courtship -- England -- Fiction", "Women in literature -- England"],
        ),
        make_union_record(
            "femmes",
            "Les femmes dans le roman anglais",
            libraries=["BNF"],
            language="fre",
            subjects=["Women in literature", "Roman anglais -- 19e siècle -- Histoire et critique"],
        ),
        make_union_record("carte", "Carte de la France en 1850", libraries=["BNF"], format="map"),
    ]


def main_headings(record: UnionRecord) -> set[str]:
    """A record's main subject headings: each heading's part before " -- " (MARC 6XX $a), once."""
    return {subject.split(" -- ")[0] for subject in record.subjects}


def test_subject_facet_counts_each_main_heading_once_per_record(
    engine: UnionIndex, subject_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(subject_catalogue)
    result = search(engine)
    counts = Counter(heading for record in subject_catalogue for heading in main_headings(record))
    expected = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    assert [(f.value, f.count) for f in result.facets["subject"]] == expected
    # Written out: the data above has Women in literature thrice, Austen twice, the others once.
    assert expected[:2] == [("Women in literature", 3), ("Austen, Jane, 1775-1817", 2)]
    assert result.facets_timed_out == []


def test_subject_facet_follows_the_query(engine: UnionIndex, subject_catalogue: list[UnionRecord]) -> None:
    engine.replace_union_records(subject_catalogue)
    result = search(engine, "austen")
    matched = [r for r in subject_catalogue if "austen" in r.title.lower()]
    counts = Counter(heading for record in matched for heading in main_headings(record))
    assert {(f.value, f.count) for f in result.facets["subject"]} == set(counts.items())
    assert result.total == len(matched) == 2


def test_subject_filter_is_or_within_and_and_across_fields(
    engine: UnionIndex, subject_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(subject_catalogue)

    def having(*headings: str) -> set[str]:
        return {r.id for r in subject_catalogue if main_headings(r) & set(headings)}

    assert ids(search(engine, subject="Women in literature")) == having("Women in literature")
    both = ["Courtship", "Austen, Jane, 1775-1817"]
    assert ids(search(engine, subject=both)) == having(*both) == {"criticism", "bibliography", "pride"}
    assert ids(search(engine, subject="Women in literature", library="BNF")) == {"pride", "femmes"}
    assert ids(search(engine, subject="Women in literature", language="eng")) == {"criticism", "pride"}
    assert ids(search(engine, "pride", subject="Austen, Jane, 1775-1817")) == set()
    # A subdivided heading is not a facet value: the filter takes main headings only.
    assert search(engine, subject="Courtship -- England -- Fiction").total == 0


def test_subject_facet_of_a_filtered_search(engine: UnionIndex, subject_catalogue: list[UnionRecord]) -> None:
    engine.replace_union_records(subject_catalogue)
    result = search(engine, subject="Austen, Jane, 1775-1817")
    # The subject facet counts as if no subject were chosen, so a second one can be added (OR).
    every = Counter(heading for r in subject_catalogue for heading in main_headings(r))
    expected = sorted(every.items(), key=lambda item: (-item[1], item[0]))[:10]
    assert [(f.value, f.count) for f in result.facets["subject"]] == expected
    assert {(f.value, f.count) for f in result.facets["library"]} == {("OXF", 2), ("UVA", 1)}


# -- target audience: a facet of the field registry without a table or column of its own --------------

AUDIENCES = {
    "hungry": ["children"],
    "hobbit": ["children", "young_adults"],
    "outsiders": ["young_adults"],
    "emma": ["adults"],
    "atlas": [],
}


@pytest.fixture
def audience_catalogue(make_union_record: MakeRecord) -> list[UnionRecord]:
    """Records coded for one audience, two, or none (as a map is)."""
    records = [
        make_union_record("hungry", "The very hungry caterpillar", libraries=["BNF", "UVA"]),
        make_union_record("hobbit", "The hobbit", libraries=["UVA"]),
        make_union_record("outsiders", "The outsiders", libraries=["OXF"]),
        make_union_record("emma", "Emma", libraries=["OXF", "UVA"]),
        make_union_record("atlas", "Atlas of the world", libraries=["BNF"], format="map"),
    ]
    return [replace(record, audience=AUDIENCES[record.id]) for record in records]


def audience_counts(records: list[UnionRecord]) -> list[tuple[str, int]]:
    """The audience facet of ``records`` counted here: count descending, then value."""
    counts = Counter(value for record in records for value in record.audience)
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))


def test_audience_facet_counts_every_value_of_each_record(
    engine: UnionIndex, audience_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(audience_catalogue)
    result = search(engine)
    assert [(f.value, f.count) for f in result.facets["audience"]] == audience_counts(audience_catalogue)
    # Written out: children twice, young adults twice, adults once; the atlas counts nowhere.
    assert audience_counts(audience_catalogue) == [("children", 2), ("young_adults", 2), ("adults", 1)]
    held_by_uva = [record for record in audience_catalogue if "UVA" in record.libraries]
    result = search(engine, library="UVA")
    assert [(f.value, f.count) for f in result.facets["audience"]] == audience_counts(held_by_uva)
    result = search(engine, "hobbit")
    assert [(f.value, f.count) for f in result.facets["audience"]] == [("children", 1), ("young_adults", 1)]


def test_audience_filter_is_or_within_and_and_across_fields(
    engine: UnionIndex, audience_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(audience_catalogue)

    def coded(*values: str) -> set[str]:
        return {record.id for record in audience_catalogue if set(record.audience) & set(values)}

    assert ids(search(engine, audience="children")) == coded("children") == {"hungry", "hobbit"}
    assert ids(search(engine, audience=["children", "adults"])) == coded("children", "adults")
    assert ids(search(engine, audience="young_adults", library="OXF")) == {"outsiders"}
    assert ids(search(engine, "the", audience="young_adults")) == {"hobbit", "outsiders"}
    assert search(engine, audience="general").total == 0
    # In a boolean expression (CQL's unicat.audience): NOT keeps the records coded for nothing.
    others = SearchQuery(expression=Not(ValueFilter("audience", ("children",))))
    assert ids(engine.search(others)) == {"outsiders", "emma", "atlas"}
    either = SearchQuery(expression=Or((ValueFilter("audience", ("adults",)), Clause("title", ("hobbit",)))))
    assert ids(engine.search(either)) == {"emma", "hobbit"}


# -- availability: facets derived from the copies' status and site (unicat/availability.py) ----------

# Per record, its copies as (source, site, status): a site of None stands for the source's code.
COPIES: dict[str, list[tuple[str, str | None, str | None]]] = {
    "hungry": [("NET", "EAST", "available"), ("NET", "WEST", "on_loan")],
    "hobbit": [("NET", "WEST", "available")],
    "outsiders": [("OXF", None, "lost"), ("NET", "EAST", "not_for_loan")],
    "emma": [("OXF", None, None)],
    "atlas": [("UVA", None, "available"), ("OXF", None, "withdrawn")],
}


@pytest.fixture
def copies_catalogue(make_union_record: MakeRecord) -> list[UnionRecord]:
    """Records whose copies are available, on loan, lost… at directory sites or at plain sources."""
    titles = {
        "hungry": "The very hungry caterpillar",
        "hobbit": "The hobbit",
        "outsiders": "The outsiders",
        "emma": "Emma",
        "atlas": "Atlas of the world",
    }
    records = []
    for key, title in titles.items():
        record = make_union_record(key, title, libraries=sorted({source for source, _, _ in COPIES[key]}))
        holdings = [
            Holding(library=source, library_name=source, site=site, status=status)
            for source, site, status in COPIES[key]
        ]
        records.append(replace(record, holdings=holdings))
    return records


def test_availability_facets_count_sites_and_statuses(
    engine: UnionIndex, copies_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(copies_catalogue)
    result = search(engine)
    # Counted from COPIES by hand: a copy's site, else its source; each record once per value.
    # Ranked as every facet is: count descending, then value.
    assert got(result, "held_at") == [("OXF", 3), ("EAST", 2), ("WEST", 2), ("UVA", 1)]
    assert got(result, "available_at") == [("EAST", 1), ("UVA", 1), ("WEST", 1)]
    # "available" when any copy is available (hungry, hobbit, atlas); the other statuses present too,
    # and "unknown" for emma's copy, whose library said nothing.
    assert got(result, "availability") == [
        ("available", 3),
        ("lost", 1),
        ("not_for_loan", 1),
        ("on_loan", 1),
        ("unknown", 1),
        ("withdrawn", 1),
    ]


def test_available_now_and_available_at_my_library_filter(
    engine: UnionIndex, copies_catalogue: list[UnionRecord]
) -> None:
    engine.replace_union_records(copies_catalogue)
    assert ids(search(engine, availability="available")) == {"hungry", "hobbit", "atlas"}
    assert ids(search(engine, available_at="EAST")) == {"hungry"}
    # Held at WEST is not available at WEST: hungry's WEST copy is on loan.
    assert ids(search(engine, held_at="WEST")) == {"hungry", "hobbit"}
    assert ids(search(engine, available_at="WEST")) == {"hobbit"}
    assert ids(search(engine, available_at=["EAST", "UVA"])) == {"hungry", "atlas"}
    assert ids(search(engine, "hobbit", availability="available")) == {"hobbit"}
    assert search(engine, "outsiders", availability="available").total == 0
    assert ids(search(engine, availability="unknown")) == {"emma"}
    assert ids(search(engine, not_availability="available")) == {"outsiders", "emma"}
    assert search(engine, available_at="OXF").total == 0


# -- facets that combine: OR within a group, AND across groups, exclusions, more values ---------------


def facet_counts(records: list[UnionRecord], facet: str) -> list[tuple[str, int]]:
    """A facet of ``records`` counted here, as engines rank it: count descending, then value."""
    values: Counter[str] = Counter()
    for record in records:
        if facet == "library":
            values.update(record.libraries)
        elif facet == "language":
            values.update([record.language] if record.language else [])
        elif facet == "format":
            values.update([record.format])
        elif facet == "year":
            values.update([decade_label(record.year)] if record.year is not None else [])
        else:
            values.update(main_headings(record))
    return sorted(values.items(), key=lambda item: (-item[1], item[0]))


def got(result: SearchResult, facet: str) -> list[tuple[str, int]]:
    return [(f.value, f.count) for f in result.facets[facet]]


def test_a_chosen_value_keeps_the_others_of_its_group(
    indexed: UnionIndex, catalogue: list[UnionRecord]
) -> None:
    french = [r for r in catalogue if r.language == "fre"]
    result = search(indexed, language="fre")
    assert ids(result) == {r.id for r in french}
    # Dutch is still offered, with its count over the whole catalogue, so it can be added.
    assert got(result, "language") == facet_counts(catalogue, "language")
    assert ("dut", 1) in got(result, "language")
    assert got(result, "library") == facet_counts(french, "library")
    assert got(result, "year") == facet_counts(french, "year")


def test_values_of_one_group_or_and_groups_and(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    result = search(indexed, language=["fre", "dut"], library="UVA")
    in_uva = [r for r in catalogue if "UVA" in r.libraries]
    french_or_dutch = [r for r in catalogue if r.language in ("fre", "dut")]
    both = [r for r in french_or_dutch if r in in_uva]
    assert ids(result) == {r.id for r in both} == {"peste", "achterhuis"}
    assert result.total == 2
    # Each selected group counts the others' selections only; an unselected group counts the hits.
    assert got(result, "language") == facet_counts(in_uva, "language")
    assert got(result, "library") == facet_counts(french_or_dutch, "library")
    assert got(result, "format") == facet_counts(both, "format")


def test_selected_groups_count_within_the_text_match(
    indexed: UnionIndex, catalogue: list[UnionRecord]
) -> None:
    camus = [r for r in catalogue if "Camus, Albert" in r.authors]
    result = search(indexed, "camus", library="UVA")
    assert ids(result) == {"peste"}
    assert got(result, "library") == facet_counts(camus, "library")


def test_excluded_values_leave_their_records_out(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    not_english = [r for r in catalogue if r.language != "eng"]
    result = search(indexed, not_language="eng")
    assert ids(result) == {r.id for r in not_english}
    assert got(result, "language") == facet_counts(not_english, "language")
    # A multi-valued facet: one excluded library among a record's libraries leaves the record out.
    outside_uva = [r for r in catalogue if "UVA" not in r.libraries]
    assert ids(search(indexed, not_library="UVA")) == {r.id for r in outside_uva}
    assert ids(search(indexed, not_library=["UVA", "BNF"])) == {
        r.id for r in outside_uva if "BNF" not in r.libraries
    }


def test_exclusions_combine_with_choices(indexed: UnionIndex, catalogue: list[UnionRecord]) -> None:
    chosen = [r for r in catalogue if r.language == "fre" and "BNF" not in r.libraries]
    result = search(indexed, language="fre", not_library="BNF")
    assert ids(result) == {r.id for r in chosen} == {"peste", "rfsp"}
    # The language group drops its own choice, not the exclusion of another group.
    without_bnf = [r for r in catalogue if "BNF" not in r.libraries]
    assert got(result, "language") == facet_counts(without_bnf, "language")
    assert ids(search(indexed, "camus", not_format="book")) == set()


def test_a_chosen_year_range_keeps_the_other_decades(
    indexed: UnionIndex, catalogue: list[UnionRecord]
) -> None:
    forties = [r for r in catalogue if r.year is not None and 1940 <= r.year <= 1949]
    result = search(indexed, year="1940-1949")
    assert ids(result) == {r.id for r in forties} == {"etranger", "peste"}
    assert got(result, "year") == facet_counts(catalogue, "year")
    assert got(result, "language") == facet_counts(forties, "language")


def test_facet_more_lists_past_the_first_ten(engine: UnionIndex, make_union_record: MakeRecord) -> None:
    # 15 subjects; subject n is on n + 1 records, so every count differs and the order is fixed.
    headings = [f"Subject {n:02d}" for n in range(15)]
    records = [make_union_record(f"r{n:02d}", f"Record {n}", subjects=headings[n:]) for n in range(15)]
    engine.replace_union_records(records)
    expected = facet_counts(records, "subject")
    assert len(expected) == 15
    assert got(search(engine), "subject") == expected[:10]
    more = search(engine, facet_more="subject")
    assert got(more, "subject") == expected
    assert len(more.facets["language"]) <= 10
    # A chosen subject still lists (and counts) every other one.
    chosen = search(engine, subject="Subject 00", facet_more="subject")
    assert got(chosen, "subject") == expected
