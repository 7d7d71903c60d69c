"""federated/query_translation.py: the reader's search as CQL and PQF.

The expected strings follow the CQL 1.2 specification (quoted terms, ``\\`` escapes, ``*`` masking,
booleans of one precedence read left to right) and YAZ's PQF grammar (prefix ``@and``/``@or``/``@not``,
``@attr type=value``, quoted terms with ``\\`` escapes). Every query produced is then read by the
parsers that will receive them: Unicat's own CQL parser and index table, and YAZ (``yaz-client``
converting CQL with YAZ's default ``pqf.properties``, as Zebra does, and sending PQF to yaz-ztest).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from federated.query_translation import (
    DEFAULTS_FILE,
    NothingToSearch,
    QueryDefaults,
    check_cql_index,
    load_defaults,
    pqf_attributes,
    to_cql,
    to_pqf,
)
from search_app.sru.cql import parse as parse_cql
from search_app.sru.cql_search import translate
from tests.support.yaz_ztest import ZtestServer
from unicat.errors import BadParameter, ConfigError
from unicat.live_search import LiveTarget
from unicat.query import SearchQuery

SRU = LiveTarget("sru", "An SRU target", "sru", "http://127.0.0.1:1/sru")
Z3950 = LiveTarget("z", "A Z39.50 target", "z3950", "127.0.0.1:1/Default")
PQF_PROPERTIES = Path("/usr/share/yaz/etc/pqf.properties")

# (typed text, year_from, year_to, CQL, PQF) for a target with the default maps.
CASES: list[tuple[str, int | None, int | None, str, str]] = [
    ("computer", None, None, 'cql.serverChoice="computer"', '@attr 1=1016 @attr 4=2 "computer"'),
    (
        "war peace",
        None,
        None,
        'cql.serverChoice="war" and cql.serverChoice="peace"',
        '@and @attr 1=1016 @attr 4=2 "war" @attr 1=1016 @attr 4=2 "peace"',
    ),
    ('title:"war and peace"', None, None, 'dc.title="war and peace"', '@attr 1=4 @attr 4=1 "war and peace"'),
    (
        "ti:comput* au:knuth",
        None,
        None,
        'dc.title="comput*" and dc.creator="knuth"',
        '@and @attr 1=4 @attr 4=2 @attr 5=1 "comput" @attr 1=1003 @attr 4=2 "knuth"',
    ),
    (
        "su:history OR su:geography",
        None,
        None,
        'dc.subject="history" or dc.subject="geography"',
        '@or @attr 1=21 @attr 4=2 "history" @attr 1=21 @attr 4=2 "geography"',
    ),
    (
        "(virginia OR carolina) history NOT war",
        None,
        None,
        '((cql.serverChoice="virginia" or cql.serverChoice="carolina") and cql.serverChoice="history")'
        ' not cql.serverChoice="war"',
        '@not @and @or @attr 1=1016 @attr 4=2 "virginia" @attr 1=1016 @attr 4=2 "carolina"'
        ' @attr 1=1016 @attr 4=2 "history" @attr 1=1016 @attr 4=2 "war"',
    ),
    # A NOT with no positive part: every record but those.
    (
        "-war",
        None,
        None,
        'cql.allRecords=1 not cql.serverChoice="war"',
        '@not @attr 1=_ALLRECORDS @attr 2=103 "" @attr 1=1016 @attr 4=2 "war"',
    ),
    (
        "peace OR -war",
        None,
        None,
        'cql.serverChoice="peace" or (cql.allRecords=1 not cql.serverChoice="war")',
        '@or @attr 1=1016 @attr 4=2 "peace"'
        ' @not @attr 1=_ALLRECORDS @attr 2=103 "" @attr 1=1016 @attr 4=2 "war"',
    ),
    # Nothing typed: every record; a year alone needs no match-all.
    ("", None, None, "cql.allRecords=1", '@attr 1=_ALLRECORDS @attr 2=103 ""'),
    (
        "",
        1990,
        1999,
        "dc.date>=1990 and dc.date<=1999",
        "@and @attr 1=31 @attr 2=4 1990 @attr 1=31 @attr 2=2 1999",
    ),
    (
        "history",
        1850,
        1850,
        'cql.serverChoice="history" and dc.date=1850',
        '@and @attr 1=1016 @attr 4=2 "history" @attr 1=31 @attr 2=3 1850',
    ),
    (
        "history",
        None,
        1800,
        'cql.serverChoice="history" and dc.date<=1800',
        '@and @attr 1=1016 @attr 4=2 "history" @attr 1=31 @attr 2=2 1800',
    ),
    (
        "history -war",
        1900,
        None,
        '(cql.serverChoice="history" and dc.date>=1900) not cql.serverChoice="war"',
        '@not @and @attr 1=1016 @attr 4=2 "history" @attr 1=31 @attr 2=4 1900 @attr 1=1016 @attr 4=2 "war"',
    ),
    # Identifiers: an ISBN alone goes to the ISBN index without its hyphens (as 020 $a holds it), an
    # ISSN to the ISSN index as typed.
    ("9780131103627", None, None, 'bath.isbn="9780131103627"', '@attr 1=7 @attr 4=2 "9780131103627"'),
    ("isbn:0-13-110362-8", None, None, 'bath.isbn="0131103628"', '@attr 1=7 @attr 4=2 "0131103628"'),
    ("issn:0028-0836", None, None, 'bath.issn="0028-0836"', '@attr 1=8 @attr 4=2 "0028-0836"'),
    ("id:0028-0836", None, None, 'bath.issn="0028-0836"', '@attr 1=8 @attr 4=2 "0028-0836"'),
    ("pub:penguin", None, None, 'dc.publisher="penguin"', '@attr 1=1018 @attr 4=2 "penguin"'),
    # Neither dc nor bath has a series index: searched as any over CQL; Bib-1 has 1=5.
    ("series:pelican", None, None, 'cql.serverChoice="pelican"', '@attr 1=5 @attr 4=2 "pelican"'),
    # Lower-case "and" is a word (operators are upper case); CQL keeps it inside quotes.
    (
        "title:and",
        None,
        None,
        'dc.title="and"',
        '@attr 1=4 @attr 4=2 "and"',
    ),
    # CQL escapes ? * ^ \ and " (a * inside a word is no mask); PQF escapes only \ and ".
    (
        r"what? a*b c^d back\slash",
        None,
        None,
        r'cql.serverChoice="what\?" and cql.serverChoice="a\*b" and cql.serverChoice="c\^d"'
        r' and cql.serverChoice="back\\slash"',
        r'@and @and @and @attr 1=1016 @attr 4=2 "what?" @attr 1=1016 @attr 4=2 "a*b"'
        r' @attr 1=1016 @attr 4=2 "c^d" @attr 1=1016 @attr 4=2 "back\\slash"',
    ),
    (
        'su:"x \\" y"',
        None,
        None,
        r'dc.subject="x \\" and cql.serverChoice="y"',
        r'@and @attr 1=21 @attr 4=1 "x \\" @attr 1=1016 @attr 4=2 "y"',
    ),
    # A phrase's star is text, not a mask; a word that is only punctuation drops out.
    ('"comput*"', None, None, r'cql.serverChoice="comput\*"', '@attr 1=1016 @attr 4=2 "comput*"'),
    ("history &", None, None, 'cql.serverChoice="history"', '@attr 1=1016 @attr 4=2 "history"'),
    # Operators in the reader's words are words for the target, whatever their case there.
    (
        "or not",
        None,
        None,
        'cql.serverChoice="or" and cql.serverChoice="not"',
        '@and @attr 1=1016 @attr 4=2 "or" @attr 1=1016 @attr 4=2 "not"',
    ),
    ("@and", None, None, 'cql.serverChoice="@and"', '@attr 1=1016 @attr 4=2 "@and"'),
]


def _query(text: str, low: int | None, high: int | None) -> SearchQuery:
    return SearchQuery(text=text, year_from=low, year_to=high)


@pytest.mark.parametrize(("text", "low", "high", "cql", "pqf"), CASES)
def test_translation(text: str, low: int | None, high: int | None, cql: str, pqf: str) -> None:
    query = _query(text, low, high)
    assert to_cql(query, SRU) == cql
    assert to_pqf(query, Z3950) == pqf


def test_the_filters_other_than_the_year_are_not_sent() -> None:
    query = SearchQuery(
        text="history", filters={"language": ("eng",), "held_at": ("uva",)}, exclusions={"format": ("map",)}
    )
    assert to_cql(query, SRU) == 'cql.serverChoice="history"'
    assert to_pqf(query, Z3950) == '@attr 1=1016 @attr 4=2 "history"'


def test_a_target_map_overrides_field_by_field() -> None:
    sru = LiveTarget(
        "s", "S", "sru", "http://h/sru", query_map={"title": "bath.title", "any": "cql.anywhere"}
    )
    assert to_cql(_query("ti:peace war", None, None), sru) == 'bath.title="peace" and cql.anywhere="war"'
    # A field the target maps neither itself nor in the defaults is searched as the target's any.
    assert to_cql(_query("series:pelican", None, None), sru) == 'cql.anywhere="pelican"'
    z3950 = LiveTarget(
        "z", "Z", "z3950", "h:210/db", query_map={"title": "@attr 1=4 @attr 4=6", "year": "1=30"}
    )
    assert to_pqf(_query("ti:peace*", 1990, None), z3950) == (
        '@and @attr 1=4 @attr 4=6 @attr 5=1 "peace" @attr 1=30 @attr 2=4 1990'
    )


def test_a_target_that_maps_ident_gets_issns_there_too() -> None:
    sru = LiveTarget("s", "S", "sru", "http://h/sru", query_map={"ident": "dc.identifier"})
    assert to_cql(_query("issn:0028-0836", None, None), sru) == 'dc.identifier="0028-0836"'


def test_without_a_year_index_the_year_is_not_sent(tmp_path: Path) -> None:
    text = DEFAULTS_FILE.read_text(encoding="utf-8").replace('year = "dc.date"\n', "")
    (tmp_path / "live.toml").write_text(text, encoding="utf-8")
    defaults = load_defaults(tmp_path / "live.toml")
    assert to_cql(_query("history", 1990, 1999), SRU, defaults) == 'cql.serverChoice="history"'


def test_text_with_nothing_to_search_is_refused() -> None:
    for text in ("&&&", "()", '""', "-*"):
        with pytest.raises(NothingToSearch):
            to_cql(_query(text, None, None), SRU)
        with pytest.raises(NothingToSearch):
            to_pqf(_query(text, 1990, None), Z3950)


@pytest.mark.parametrize("value", ["dc.title=x", "dc.title or x", "", '"dc.title"', "a.b.c"])
def test_a_cql_map_value_is_an_index_name_only(value: str) -> None:
    with pytest.raises(BadParameter, match="CQL index name"):
        check_cql_index(value)
    target = LiveTarget("s", "S", "sru", "http://h/sru", query_map={"title": value or "x y"})
    with pytest.raises(BadParameter):
        to_cql(_query("ti:peace", None, None), target)


@pytest.mark.parametrize("value", ["@and 1=4", "1=4 @attr", "4", "1=4 x", '@attr 1="4"'])
def test_a_pqf_map_value_is_attributes_only(value: str) -> None:
    with pytest.raises(BadParameter, match="Bib-1 attributes"):
        pqf_attributes(value)


def test_pqf_attributes_are_read_in_both_forms() -> None:
    assert pqf_attributes("1=4 4=1") == pqf_attributes("@attr 1=4 @attr 4=1") == (("1", "4"), ("4", "1"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("[cql]\nany = 'cql.serverChoice'\nall = 'cql.allRecords=1'\n", "add a [pqf] table"),
        ("[cql]\nall = 'x'\n[pqf]\nany = '1=1016'\nall = 'x'\n", "[cql] needs 'any'"),
        ("[cql]\nany = 'a'\nall = 'x'\ntitel = 'dc.title'\n[pqf]\nany = '1=1016'\nall = 'x'\n", "'titel'"),
        ("[cql]\nany = 'a'\nall = 'x'\n[pqf]\nany = 'title'\nall = 'x'\n", "[pqf] any"),
    ],
)
def test_a_broken_defaults_file_is_named(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "live.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(problem)):
        load_defaults(path)


def test_the_shipped_defaults() -> None:
    defaults = load_defaults()
    assert defaults.pqf["title"] == "1=4" and defaults.pqf["author"] == "1=1003"
    assert defaults.cql["title"] == "dc.title" and defaults.cql["any"] == "cql.serverChoice"


# Every query of the cases, and of targets with maps of their own, as the receivers read them.

OWN_MAPS = (
    LiveTarget("s", "S", "sru", "http://h/sru", query_map={"title": "bath.title", "ident": "dc.identifier"}),
)


def _all_cql(*targets: LiveTarget) -> list[str]:
    return [to_cql(_query(text, low, high), target) for text, low, high, _, _ in CASES for target in targets]


def _all_pqf() -> list[str]:
    return [to_pqf(_query(text, low, high), Z3950) for text, low, high, _, _ in CASES]


def test_unicat_sru_reads_every_cql_produced() -> None:
    for query in _all_cql(SRU, *OWN_MAPS):
        translate(parse_cql(query))  # raises CqlError (an SRU diagnostic) for what /sru would refuse


def _yaz_client(ztest: ZtestServer, *lines: str) -> str:
    yaz_client = shutil.which("yaz-client")
    assert yaz_client is not None, "yaz-client is missing: apt-get install yaz"
    script = "\n".join([f"open tcp:{ztest.z3950_address}", *lines, "quit", ""])
    done = subprocess.run([yaz_client], input=script, capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


def test_yaz_parses_every_cql_produced_and_maps_its_indexes(ztest: ZtestServer) -> None:
    """YAZ's CQL parser, and its default CQL-to-PQF table (Zebra's), take every query: yaz-client
    converts each to RPN before sending it (a parse or mapping failure is printed, not sent). The
    default maps only: a target's own map names what its server knows (bath.title is not in YAZ's table)."""
    queries = _all_cql(SRU)
    output = _yaz_client(
        ztest, f"set_cqlfile {PQF_PROPERTIES}", "querytype cql2rpn", *(f"find {query}" for query in queries)
    )
    assert output.count("Search was a success.") == len(queries), output
    assert "Can't" not in output, output


def test_yaz_ztest_accepts_every_pqf_produced(ztest: ZtestServer) -> None:
    queries = _all_pqf()
    output = _yaz_client(ztest, "querytype prefix", *(f"find {query}" for query in queries))
    assert output.count("Search was a success.") == len(queries), output
    assert "error" not in output.lower(), output


def test_defaults_object_is_usable_directly() -> None:
    defaults = QueryDefaults(
        cql={"any": "cql.anywhere", "all": "cql.allRecords=1"}, pqf={"any": "1=1016", "all": "x"}
    )
    assert to_cql(_query("ti:peace", None, None), SRU, defaults) == 'cql.anywhere="peace"'
