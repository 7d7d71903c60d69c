"""A small real catalogue for the web app tests: four libraries, twelve union records.

The records are modelled on real ones in ../shared/data (Pride and Prejudice editions from the
dedup set with their 852/926 holdings, French pamphlets from the UNIMARC ``cotesMEL.mrc`` with 995
holdings). Every expected count in the tests is derived by hand from the table in ``RECORDS`` below.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient

from unicat.catalogue import Catalogue
from unicat.model import Holding, MergeRule, Source, SourceRef, UnionRecord
from unicat.settings import Settings
from unicat.union_generation import write_union_generation

SOURCES = [
    Source("oxford", "Bodleian Library, Oxford", "http://127.0.0.1:9/oai", profile="marc21"),
    Source("mcgill", "McGill University Library", "http://127.0.0.1:9/oai", profile="marc21"),
    Source("scpo", "Bibliothèque de Sciences Po", None, profile="unimarc"),
    Source("lyon", "Bibliothèque municipale de Lyon", "http://127.0.0.1:9/oai", profile="unimarc"),
]
NAMES = {source.code: source.name for source in SOURCES}


def holding(library: str, call_number: str, **extra: str) -> Holding:
    return Holding(library=library, library_name=NAMES[library], call_number=call_number, **extra)


# id, title, authors, year, language, format, holdings  — the facts every test count is derived from:
#   library  oxford: pp1980 complete miserables faust quijote            = 5
#            mcgill: pp1980 pp1990 novels script quijote                = 5
#            scpo:   interets rapport revue                             = 3
#            lyon:   rapport miserables revue carte                     = 4
#   language eng 5 (pp1980 pp1990 novels complete script), fre 5 (interets rapport miserables revue
#            carte), ger 1 (faust), spa 1 (quijote);  format book 10, serial 1 (revue), map 1 (carte)
#   audience general 1 (pp1990: 008/22 "g" of mcgill 1934501 in dedup/pride-and-prejudice-fixed.mrc),
#            adults 1 (rapport: 100 $a/17-19 "k" of scpo 114524017 in unimarc/cotesMEL.mrc)
RECORDS = [
    UnionRecord(
        id="u-pp1980",
        title="Pride and prejudice",
        responsibility="Jane Austen ; edited with an introduction by Tony Tanner",
        authors=["Austen, Jane, 1775-1817", "Tanner, Tony"],
        subjects=["Social classes -- Fiction", "Courtship -- Fiction", "England -- Fiction"],
        isbns=["9780140057744"],
        system_numbers=["dlc:81126202"],
        year=1980,
        language="eng",
        publisher="Penguin Books",
        place="Harmondsworth, Middlesex",
        format="book",
        physical="398 p. ; 19 cm",
        holdings=[
            holding("oxford", "M94.G00395", branch="Bodleian", location="BOD Bookstack", barcode="500881138"),
            holding("oxford", "M94.G00396", branch="Bodleian", location="Upper Reading Room"),
            holding("mcgill", "PR4034 .P7 1980b", branch="MAIN", location="McLennan Bldg", item_type="BOOK"),
        ],
        sources=[SourceRef("oxford", "UkOxUb10768999"), SourceRef("mcgill", "4683624")],
        merge=[MergeRule("isbn", "9780140057744")],
    ),
    UnionRecord(
        id="u-pp1990",
        title="Pride and prejudice",
        responsibility="Jane Austen ; edited by James Kinsley",
        authors=["Austen, Jane, 1775-1817", "Kinsley, James"],
        series=["World's classics"],
        year=1990,
        language="eng",
        publisher="Oxford University Press",
        place="Oxford",
        format="book",
        audience=["general"],
        holdings=[holding("mcgill", "PR 4034 P94 1990", branch="MAINSTACKS")],
        sources=[SourceRef("mcgill", "1934501")],
    ),
    UnionRecord(
        id="u-novels",
        title="The novels of Jane Austen",
        authors=["Austen, Jane, 1775-1817", "Chapman, R. W."],
        edition="3d. ed.",
        year=1932,
        language="eng",
        publisher="Oxford University Press",
        format="book",
        notes=["Vols. 2 and 5 reprinted in 1965 with revisions."],
        holdings=[holding("mcgill", f"PR4031 C49 c.{n}", branch="MAIN") for n in (1, 2, 3, 5)],
        sources=[SourceRef("mcgill", "000194998")],
    ),
    UnionRecord(
        id="u-complete",
        title="Complete novels of Jane Austen",
        authors=["Austen, Jane, 1775-1817"],
        isbns=["9780004701479"],
        year=1993,
        language="eng",
        publisher="HarperCollins",
        place="Glasgow",
        format="book",
        holdings=[holding("oxford", "M94.G00395", branch="Bodleian")],
        sources=[SourceRef("oxford", "UkOxUb10768856")],
    ),
    UnionRecord(
        id="u-interets",
        title="Les Intérêts français en Bohême",
        responsibility="Louis Léger",
        authors=["Léger, Louis (1843-1923)"],
        year=1906,
        language="fre",
        publisher="impr. de V. Goupy",
        place="Paris",
        format="book",
        physical="1 vol. (11 p.) ; 18 cm",
        holdings=[holding("scpo", "MEL8°071(05)", branch="BIB01", location="MAG1", barcode="00000001390392")],
        sources=[SourceRef("scpo", "115625623")],
    ),
    UnionRecord(
        id="u-rapport",
        title="Le rapport légal entre l'or et l'argent a-t-il toujours existé ?",
        responsibility="par Clément Juglar",
        authors=["Juglar, Clément (1819-1905)"],
        year=1897,
        language="fre",
        publisher="Imprimerie Chaix",
        place="Paris",
        format="book",
        audience=["adults"],
        holdings=[
            holding("scpo", "MEL8°045(09)", branch="BIB01", location="MAG1"),
            holding("lyon", "SJ IF 432/12", branch="Part-Dieu", location="Silo"),
        ],
        sources=[SourceRef("scpo", "114524017"), SourceRef("lyon", "BML-88213")],
        merge=[MergeRule("title_author_year", "rapport legal entre or argent|juglar|1897")],
    ),
    UnionRecord(
        id="u-miserables",
        title="Les Misérables",
        authors=["Hugo, Victor, 1802-1885"],
        subjects=["France -- Histoire -- 1815-1848 -- Romans"],
        year=1862,
        language="fre",
        publisher="A. Lacroix, Verboeckhoven et Cie",
        place="Paris",
        format="book",
        holdings=[
            holding("lyon", "Rés 341108", branch="Part-Dieu", location="Fonds ancien"),
            holding("oxford", "Vet. Fr. III B.1234", branch="Taylor Institution"),
        ],
        sources=[SourceRef("lyon", "BML-1862-HUG"), SourceRef("oxford", "UkOxUb555")],
        merge=[MergeRule("system_number", "frbnf:30616571")],
    ),
    UnionRecord(
        id="u-revue",
        title="Revue française de science politique",
        issns=["0035-2950"],
        year=1951,
        language="fre",
        publisher="Presses de Sciences Po",
        format="serial",
        holdings=[holding("scpo", "P 1412", location="Salle de lecture"), holding("lyon", "P 8° 2201")],
        sources=[SourceRef("scpo", "000012345"), SourceRef("lyon", "BML-P2201")],
        merge=[MergeRule("issn", "0035-2950")],
    ),
    UnionRecord(
        id="u-script",
        title="<script>alert('owned')</script> & other tricks",
        authors=["Mallory <b>Evil</b>"],
        year=2001,
        language="eng",
        format="book",
        holdings=[holding("mcgill", "QA76.9 <A25>")],
        sources=[SourceRef("mcgill", "666")],
    ),
    UnionRecord(
        id="u-faust",
        title="Faust : eine Tragödie",
        authors=["Goethe, Johann Wolfgang von, 1749-1832"],
        year=1808,
        language="ger",
        publisher="Cotta",
        place="Tübingen",
        format="book",
        holdings=[holding("oxford", "Taylor 38.F.12", branch="Taylor Institution")],
        sources=[SourceRef("oxford", "UkOxUb777")],
    ),
    UnionRecord(
        id="u-carte",
        title="Carte de France",
        authors=["Cassini, César-François, 1714-1784"],
        year=1750,
        language="fre",
        format="map",
        holdings=[holding("lyon", "Cartes 17", location="Cartes et plans")],
        sources=[SourceRef("lyon", "BML-C17")],
    ),
    UnionRecord(
        id="u-quijote",
        title="El ingenioso hidalgo don Quijote de la Mancha",
        authors=["Cervantes Saavedra, Miguel de, 1547-1616"],
        year=1605,
        language="spa",
        publisher="Juan de la Cuesta",
        place="Madrid",
        format="book",
        holdings=[holding("oxford", "Arch. B e.4"), holding("mcgill", "PQ6323 A1 1605")],
        sources=[SourceRef("oxford", "UkOxUb888"), SourceRef("mcgill", "99887")],
        merge=[MergeRule("system_number", "ocolc:1234567")],
    ),
]
REDIRECTS = {"u-old-pp": "u-pp1980"}

Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


def catalogue_settings(tmp_path: Path, **changes: object) -> Settings:
    """Settings over a fresh SQLite file; facet_size 20 so every decade of the data is counted."""
    return Settings(
        data_dir=tmp_path, engine_url=f"sqlite:///{tmp_path / 'unicat.db'}", facet_size=20
    ).replace(**changes)


def fill(catalogue: Catalogue) -> None:
    for source in SOURCES:
        catalogue.records.save_source(source)
    write_union_generation(catalogue.records, catalogue.index, RECORDS, REDIRECTS)
