"""Holdings overlap between libraries (:class:`~unicat.overlap.LibraryOverlap`) in SQL.

Every union record has one ``union_libraries`` row per library holding it (what the library facet and
filter read), keyed by (record, library) and indexed by (library, record). So, in one read snapshot:

* a library's total is the count of its rows, read off the (library, record) index;
* a record held by one library alone is a group of one row when the rows are grouped by record,
  which walks the primary key in order;
* the records two libraries share come from a self-join on the record, counted one library at a time:
  its rows seek their record's rows of the libraries after it. Measured at 200,000 records over 40
  libraries (bench/corpus.py): ~200 ms for the 40 queries where one query grouping every pair took
  ~300 ms, its grouping b-tree being the cost.
"""

from __future__ import annotations

from unicat.engines.sqlite import driver
from unicat.overlap import LibraryOverlap

_RECORDS = "SELECT count(*) FROM union_records"
_TOTALS = "SELECT library, count(*) FROM union_libraries GROUP BY library"
_UNIQUE = (
    "SELECT library, count(*) FROM ("
    "SELECT min(library) AS library FROM union_libraries GROUP BY record HAVING count(*) = 1"
    ") GROUP BY library"
)
_SHARED_WITH_LATER = (
    "SELECT b.library, count(*) FROM union_libraries a "
    "JOIN union_libraries b ON b.record = a.record AND b.library > a.library "
    "WHERE a.library = ? GROUP BY b.library"
)


def library_overlap(conn: driver.Connection) -> LibraryOverlap:
    """The overlap of the union index that ``conn``'s read transaction sees."""
    records = int(conn.execute(_RECORDS).fetchone()[0])
    totals = {str(library): int(count) for library, count in conn.execute(_TOTALS)}
    unique = {str(library): int(count) for library, count in conn.execute(_UNIQUE)}
    shared = {
        (first, str(second)): int(count)
        for first in totals
        for second, count in conn.execute(_SHARED_WITH_LATER, (first,))
    }
    return LibraryOverlap(records=records, totals=totals, unique=unique, shared=shared)
