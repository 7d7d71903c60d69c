"""YAZ, an independent SRU client (Debian's ``yaz`` package), queries /sru on both engines.

``yaz-client`` speaks SRU GET in 1.2 and 2.0 (``sru get VERSION``, ``querytype cql``, ``find``,
``show``); ``zoomsh`` also asks SRU 2.0 facets (``set facets``, from a PQF facet list, sent as
``facetLimit``). Their counts, records and diagnostics must be those expected from the MARC data.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from tests.search_app.sru import sru_catalogue
from tests.search_app.sru.sru_catalogue import Served, UvaRecord, matching

# The module-scoped fixtures of the catalogue (served on each engine, and its MARC facts).
served = sru_catalogue.served
uva = sru_catalogue.uva

YAZ_CLIENT = shutil.which("yaz-client")
ZOOMSH = shutil.which("zoomsh")
pytestmark = [
    pytest.mark.peers,
    pytest.mark.skipif(
        YAZ_CLIENT is None or ZOOMSH is None, reason="YAZ is not installed (apt-get install yaz)"
    ),
]
HITS_RE = re.compile(r"Number of hits: (\d+)")


def yaz_client(served: Served, version: str, *commands: str) -> str:
    """yaz-client's output for ``commands`` over SRU GET ``version`` with CQL queries."""
    script = "\n".join([f"sru get {version}", "querytype cql", *commands, "quit", ""])
    assert YAZ_CLIENT is not None
    done = subprocess.run(
        [YAZ_CLIENT, f"{served.url}/sru"], input=script, capture_output=True, text=True, timeout=120
    )
    return done.stdout + done.stderr


def hits(output: str) -> list[int]:
    return [int(found) for found in HITS_RE.findall(output)]


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_counts_match_the_data(served: Served, uva: list[UvaRecord], version: str) -> None:
    history = matching(uva, lambda r: "history" in r.title)
    virginia = matching(uva, lambda r: "virginia" in r.title)
    john = matching(uva, lambda r: "john" in r.author)
    old = matching(uva, lambda r: r.year is not None and r.year < 1850)
    output = yaz_client(
        served,
        version,
        "find dc.title=history and unicat.library=uva",
        "find unicat.library=uva and (dc.title=history or dc.title=virginia)",
        "find unicat.library=uva and dc.title=history not dc.title=virginia",
        "find dc.creator=john and unicat.library=uva",
        "find dc.date<1850 and unicat.library=uva",
    )
    assert hits(output) == [
        len(history),
        len(history | virginia),
        len(history - virginia),
        len(john),
        len(old),
    ], output


def test_a_record_as_yaz_shows_it(served: Served, uva: list[UvaRecord]) -> None:
    with_isbn = next(record for record in uva if record.isbns)
    isbn = sorted(with_isbn.isbns)[0]
    output = yaz_client(served, "2.0", f"find bath.isbn={isbn}", "show 1")
    assert hits(output)[0] == len(matching(uva, lambda r: isbn in r.isbns))
    assert "schema=info:srw/schema/1/marcxml-v1.1" in output
    assert f'<subfield code="b">{with_isbn.local_id}</subfield>' in output


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_diagnostics_reach_yaz(served: Served, version: str) -> None:
    output = yaz_client(
        served, version, 'find dc.title="unclosed', "find foo.title=a", "find title=a prox title=b"
    )
    assert re.findall(r"SRW diagnostic info:srw/diagnostic/1/(\d+)", output) == ["14", "15", "39"], output
    # SRU 2.0 answers a fatal diagnostic with a 4xx status; YAZ still reads the diagnostic in it.
    assert ("HTTP Error Status=400" in output) == (version == "2.0")


def test_zoomsh_facets(served: Served, uva: list[UvaRecord]) -> None:
    assert ZOOMSH is not None
    done = subprocess.run(
        [
            ZOOMSH,
            "set sru get",
            "set sru_version 2.0",
            "set facets @attr 1=unicat.library @attr 3=5",
            f"connect {served.url}/sru",
            "search cql:cql.allRecords=1",
            "facets",
            "quit",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    output = done.stdout + done.stderr
    assert f"{len(uva) + 109} hits" in output, output
    assert f"term: uva {len(uva)}" in output and "term: mel 109" in output, output
