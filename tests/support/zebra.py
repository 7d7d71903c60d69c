"""Index Data's Zebra (``idzebra-2.0``) loaded with real records from the shared data: a real Z39.50 and
SRU server on a free loopback port, for the federated search's clients.

Two databases, one per profile, so a test searches both as a library's catalogue would answer:

- ``marc21``: ``dedup/pride-and-prejudice-fixed.mrc`` (383 editions of one novel from many libraries,
  with ISBNs, authors and 852 holdings: the live hits a union of the same data must merge) and
  ``marc21/065001035.mrc`` (40 records of another shape: corporate authors, subjects, no ISBN).
- ``unimarc``: ``unimarc/cotes*.mrc`` (205 records of a French library, 995 holdings on each).

All are UTF-8 bytes (the UNIMARC ones declare another charset in 100$a, wrongly), so Zebra reads them
as UTF-8 and a test reading them with pymarc as UTF-8 sees the same text: no MARC-8 conversion in
between whose differences a hit count would measure instead of the server.

Zebra reads the ISO2709 records through its ``dom`` filter (YAZ turns each into MARCXML) and indexes
them by an XSLT written here from :data:`MARC21_INDEXES` and :data:`UNIMARC_INDEXES`: Bib-1 use
attributes by their names in Zebra's ``bib1.att`` (Title 4, Author 1003, Author-name-personal 1004,
Subject-heading 21, ISBN 7, Any 1016, Date-of-publication 31...). Words are cut and folded by Zebra's
stock ``string.chr``: ASCII punctuation and controls separate words, A-Z and ÜÆÄØÖÅ fold to lower
case, any other character (é, ç...) stays in its word unfolded, so ``été`` does not match ``ete``.
Records come back as ISO2709 (syntax USMARC or UNIMARC, YAZ writing the MARCXML back) or as MARCXML
(syntax XML, element set or SRU ``recordSchema`` ``marcxml``); SRU's CQL goes through
:data:`CQL_TO_PQF`. Every file is written in the test's directory, never in the checkout.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from tests.support.loopback import free_port
from tests.support.peer_process import not_installed, start_group, stop_group, tail, wait_listening
from tests.support.shared_data import SHARED_DATA

MARC21_DATABASE = "marc21"
UNIMARC_DATABASE = "unimarc"
MARC21_FILES = (
    SHARED_DATA / "dedup" / "pride-and-prejudice-fixed.mrc",
    SHARED_DATA / "marc21" / "065001035.mrc",
)
UNIMARC_FILES = tuple(sorted((SHARED_DATA / "unimarc").glob("cotes*.mrc")))
INDEX_SECONDS = 120.0

# Which subfields of which fields each index holds: the index name (bib1.att's name of the use
# attribute) → (tag, subfield codes). The tests derive their expected hits from the same fields.
MARC21_INDEXES: Mapping[str, Sequence[tuple[str, str]]] = {
    "Title": (("245", "ab"), ("246", "ab"), ("240", "a"), ("130", "a"), ("730", "a"), ("740", "a")),
    "Author": (("100", "a"), ("110", "a"), ("111", "a"), ("700", "a"), ("710", "a"), ("711", "a")),
    "Author-name-personal": (("100", "a"), ("700", "a")),
    "Personal-name": (("100", "a"), ("700", "a")),
    "Subject-heading": tuple((tag, "axyzv") for tag in ("600", "610", "611", "630", "650", "651")),
    "ISBN": (("020", "a"),),
    "ISSN": (("022", "a"),),
}
UNIMARC_INDEXES: Mapping[str, Sequence[tuple[str, str]]] = {
    "Title": (("200", "ae"), ("500", "a"), ("517", "a")),
    "Author": tuple((tag, "ab") for tag in ("700", "701", "702", "710", "711", "712")),
    "Author-name-personal": tuple((tag, "ab") for tag in ("700", "701", "702")),
    "Personal-name": tuple((tag, "ab") for tag in ("700", "701", "702")),
    "Subject-heading": tuple((tag, "axyz") for tag in ("600", "601", "602", "604", "605", "606", "607")),
    "ISBN": (("010", "a"),),
    "ISSN": (("011", "a"),),
}
# Where the year of publication is: (tag, subfield or "" for a control field, 1-based start).
MARC21_YEAR = ("008", "", 8)
UNIMARC_YEAR = ("100", "a", 10)
# Words (w) for every index; whole fields (p) where a phrase search is usual.
PHRASE_INDEXES = frozenset({"Title", "Author", "Author-name-personal", "Subject-heading"})
# ISBN and ISSN are indexed as their first word without hyphens ("0-14-043951-6 (pbk.)" → 0140439516),
# the form a client sends.
NUMBER_INDEXES = frozenset({"ISBN", "ISSN"})

# CQL indexes SRU clients send → Bib-1 (SRU's ``<cql2rpn>``); relations, positions and structures as
# in YAZ's own pqf.properties, indexes limited to those the databases have (dc.date is 31 here).
CQL_TO_PQF = """\
set.cql = info:srw/cql-context-set/1/cql-v1.2
set.dc = info:srw/cql-context-set/1/dc-v1.1
set.bath = http://zing.z3950.org/cql/bath/2.0/
set.rec = info:srw/cql-context-set/2/rec-1.1
set = info:srw/cql-context-set/1/dc-v1.1
index.cql.serverChoice = 1=1016
index.cql.anywhere = 1=1016
index.cql.allRecords = 1=_ALLRECORDS 2=103
index.rec.id = 1=12
index.dc.title = 1=4
index.dc.creator = 1=1003
index.dc.author = 1=1003
index.dc.subject = 1=21
index.dc.date = 1=31
index.bath.isbn = 1=7
index.bath.issn = 1=8
index.bath.name = 1=1003
index.bath.personalName = 1=1
relation.< = 2=1
relation.le = 2=2
relation.eq = 2=3
relation.exact = 2=3 6=3
relation.ge = 2=4
relation.> = 2=5
relation.<> = 2=6
relation.all = 4=6
relation.any = 4=105
relation.scr = 2=3
relation.= = 2=3
position.first = 3=1 6=1
position.any = 3=3 6=1
position.last = 3=4 6=1
position.firstAndLast = 3=3 6=3
structure.exact = 4=108
structure.all = 4=2
structure.any = 4=2
structure.* = 4=1
truncation.right = 5=1
truncation.left = 5=2
truncation.both = 5=3
truncation.none = 5=100
truncation.z3958 = 5=104
always = 6=1
"""

MARCXML_SCHEMA = "info:srw/schema/1/marcxml-v1.1"

# The records as Zebra stored them go back through YAZ's MARC writer: ISO2709 for the MARC syntaxes,
# MARCXML for XML (and SRU, whose recordSchema "marcxml" names the same retrieval).
CONVERTED_RETRIEVAL = f"""\
<retrievalinfo>
  <retrieval syntax="usmarc">
    <backend syntax="xml" name="marcxml">
      <marc inputformat="xml" outputformat="marc" outputcharset="utf-8"/>
    </backend>
  </retrieval>
  <retrieval syntax="unimarc">
    <backend syntax="xml" name="marcxml">
      <marc inputformat="xml" outputformat="marc" outputcharset="utf-8"/>
    </backend>
  </retrieval>
  <retrieval syntax="xml" name="marcxml" identifier="{MARCXML_SCHEMA}"/>
  <retrieval syntax="xml"><backend syntax="xml" name="marcxml"/></retrieval>
</retrievalinfo>
"""


class ZebraError(RuntimeError):
    """Zebra could not index the records or serve them; the message holds its output."""


@dataclass(frozen=True, slots=True)
class ZebraDatabase:
    """A Zebra database: its name (also the zebra.cfg group that indexes it), its record type (the
    ``recordType`` value) and the files loaded into it."""

    name: str
    record_type: str
    files: tuple[Path, ...]


@dataclass(frozen=True, slots=True)
class ZebraServer:
    host: str
    port: int
    workdir: Path
    log: Path

    def z3950_address(self, database: str) -> str:
        """The ``host:port/database`` a Z39.50 target names."""
        return f"{self.host}:{self.port}/{database}"

    def sru_url(self, database: str) -> str:
        """The base URL an SRU target names (SRU 1.1/1.2 over HTTP GET on the same port)."""
        return f"http://{self.host}:{self.port}/{database}"


@contextmanager
def running_zebra(workdir: Path) -> Iterator[ZebraServer]:
    """Zebra with the ``marc21`` and ``unimarc`` databases, on a free loopback port, until the block ends."""
    workdir.mkdir(parents=True, exist_ok=True)
    databases = (
        ZebraDatabase(
            MARC21_DATABASE, _dom_filter(workdir, MARC21_DATABASE, MARC21_INDEXES, MARC21_YEAR), MARC21_FILES
        ),
        ZebraDatabase(
            UNIMARC_DATABASE,
            _dom_filter(workdir, UNIMARC_DATABASE, UNIMARC_INDEXES, UNIMARC_YEAR),
            UNIMARC_FILES,
        ),
    )
    with serving(workdir, databases, CONVERTED_RETRIEVAL) as server:
        yield server


@contextmanager
def serving(workdir: Path, databases: Sequence[ZebraDatabase], retrievalinfo: str) -> Iterator[ZebraServer]:
    """Index ``databases`` into a new register in ``workdir`` (``zebraidx init`` then ``update`` per
    database), serve them with ``zebrasrv`` (Z39.50 and SRU) on a free loopback port, stop it after."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "register").mkdir(exist_ok=True)
    (workdir / "cql2pqf.txt").write_text(CQL_TO_PQF)
    _write_config(workdir, databases)
    _zebraidx(workdir, ["init"])
    for database in databases:
        _zebraidx(workdir, ["-g", database.name, "-d", database.name, "update", *map(str, database.files)])
    port = free_port()
    (workdir / "yazgfs.xml").write_text(
        "<yazgfs>\n"
        f'  <listen id="loopback">tcp:127.0.0.1:{port}</listen>\n'
        '  <server id="zebra" listenref="loopback">\n'
        "    <config>zebra.cfg</config>\n"
        "    <cql2rpn>cql2pqf.txt</cql2rpn>\n"
        f"{retrievalinfo}"
        "  </server>\n"
        "</yazgfs>\n"
    )
    log = workdir / f"zebrasrv-{port}.log"
    process = start_group(["zebrasrv", "-f", "yazgfs.xml"], workdir, log)
    try:
        wait_listening(process, port, log)
        yield ZebraServer("127.0.0.1", port, workdir, log)
    finally:
        stop_group(process)


def _write_config(workdir: Path, databases: Sequence[ZebraDatabase]) -> None:
    lines = [
        f"profilePath: {workdir}:/usr/share/idzebra-2.0/tab",
        "attset: bib1.att",
        "attset: explain.att",
        f"register: {workdir / 'register'}:200M",
        f"lockDir: {workdir}",
        f"keyTmpDir: {workdir}",
        f"setTmpDir: {workdir}",
        # Every record is kept in the register: retrieval does not read the shared files again.
        "storeData: 1",
    ]
    lines += [f"{database.name}.recordType: {database.record_type}" for database in databases]
    (workdir / "zebra.cfg").write_text("\n".join(lines) + "\n")


def _zebraidx(workdir: Path, arguments: list[str]) -> None:
    log = workdir / "zebraidx.log"
    if shutil.which("zebraidx") is None:
        raise ZebraError(not_installed("zebraidx"))
    with log.open("ab") as out:
        done = subprocess.run(
            ["zebraidx", "-c", "zebra.cfg", *arguments],
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            timeout=INDEX_SECONDS,
            check=False,
        )
    if done.returncode != 0:
        raise ZebraError(f"zebraidx {' '.join(arguments[:4])} failed ({done.returncode}):\n{tail(log)}")


def _dom_filter(
    workdir: Path, name: str, indexes: Mapping[str, Sequence[tuple[str, str]]], year: tuple[str, str, int]
) -> str:
    """Write the dom filter's configuration and indexing XSLT for one profile; the ``recordType``
    naming them. ISO2709 in UTF-8 in; the record kept as MARCXML for retrieval."""
    stylesheet = workdir / f"{name}-index.xsl"
    stylesheet.write_text(_index_stylesheet(indexes, year))
    identity = workdir / "identity.xsl"
    identity.write_text(IDENTITY_XSL)
    config = workdir / f"{name}-dom.xml"
    config.write_text(
        "<dom>\n"
        f'  <extract name="index"><xslt stylesheet={quoteattr(str(stylesheet))}/></extract>\n'
        f'  <retrieve name="marcxml"><xslt stylesheet={quoteattr(str(identity))}/></retrieve>\n'
        '  <input syntax="usmarc"><marc inputcharset="utf-8"/></input>\n'
        "</dom>\n"
    )
    return f"dom.{config}"


IDENTITY_XSL = """\
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:template match="node()|@*">
    <xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy>
  </xsl:template>
</xsl:stylesheet>
"""


def _index_stylesheet(indexes: Mapping[str, Sequence[tuple[str, str]]], year: tuple[str, str, int]) -> str:
    rules: list[str] = []
    for index, fields in indexes.items():
        kinds = "w p" if index in PHRASE_INDEXES else "w"
        names = " ".join(f"{index}:{kind}" for kind in kinds.split())
        for tag, codes in fields:
            test = " or ".join(f"@code='{code}'" for code in codes)
            value = "."
            if index in NUMBER_INDEXES:
                value = "translate(substring-before(concat(normalize-space(.), ' '), ' '), '-', '')"
            rules.append(
                f"<xsl:for-each select=\"m:datafield[@tag='{tag}']/m:subfield[{test}]\">"
                f'<z:index name="{escape(names)}"><xsl:value-of select="{value}"/></z:index></xsl:for-each>'
            )
    tag, code, start = year
    field = (
        f"m:controlfield[@tag='{tag}']"
        if not code
        else f"m:datafield[@tag='{tag}']/m:subfield[@code='{code}']"
    )
    rules.append(
        f'<xsl:for-each select="{field}[1]"><xsl:variable name="year" select="substring(., {start}, 4)"/>'
        "<xsl:if test=\"string-length($year) = 4 and translate($year, '0123456789', '') = ''\">"
        '<z:index name="Date-of-publication:w Date-of-publication:y Date-of-publication:n">'
        '<xsl:value-of select="$year"/></z:index></xsl:if></xsl:for-each>'
    )
    rules.append(
        "<xsl:for-each select=\"m:controlfield[@tag='001']\">"
        '<z:index name="Local-number:w"><xsl:value-of select="."/></z:index></xsl:for-each>'
    )
    rules.append(
        '<xsl:for-each select="m:datafield/m:subfield">'
        '<z:index name="Any:w"><xsl:value-of select="."/></z:index></xsl:for-each>'
    )
    body = "\n      ".join(rules)
    return f"""\
<xsl:stylesheet xmlns:xsl="http://www.w3.org/1999/XSL/Transform" version="1.0"
    xmlns:m="http://www.loc.gov/MARC21/slim" xmlns:z="http://indexdata.com/zebra-2.0"
    exclude-result-prefixes="m">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:template match="text()"/>
  <xsl:template match="/m:record">
    <z:record>
      {body}
    </z:record>
  </xsl:template>
</xsl:stylesheet>
"""
