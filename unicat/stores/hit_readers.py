"""What readers wrote on a page of hits, in one statement: the ratings on the hits' ids and the ids
redirected straight to them (:mod:`search_app.readers.record_aliases`).

Every search shows its hits' stars. Read through the stores' ports, that is two statements on two of
the reader pool's connections (``ratings_for``, ``redirects_to``), each a hand-off to the app's
thread pool and a round trip to the database; read here, one statement on one connection, in the
thread that ran the search. Only a page holding a merged record (a redirect found) reads more.
"""

from __future__ import annotations

from collections.abc import Sequence

from unicat.ports.database import Database
from unicat.readers import Rating

# One IN list per table: a page of hits is far below either database's limit on parameters. The
# columns a branch does not have are NULL (the other branch gives their type on PostgreSQL).
_SELECT = (
    "SELECT record, user_id, stars, at, NULL FROM ratings WHERE record IN ({marks}) "
    "UNION ALL SELECT new_id, NULL, NULL, NULL, old_id FROM redirects WHERE new_id IN ({marks})"
)


def ratings_and_redirects(
    db: Database, union_ids: Sequence[str]
) -> tuple[list[Rating], dict[str, list[str]]]:
    """Every rating of any of ``union_ids`` (as ``ContributionStore.ratings_for``), and for each of them
    that others redirect to, the ids that point straight at it, sorted (as ``UnionLinks.redirects_to``)."""
    wanted = list(dict.fromkeys(union_ids))
    if not wanted:
        return [], {}
    marks = ", ".join("?" * len(wanted))
    with db.read() as conn:
        rows = conn.execute(_SELECT.format(marks=marks), [*wanted, *wanted]).fetchall()
    ratings: list[Rating] = []
    pointing: dict[str, list[str]] = {}
    for record, user_id, stars, at, old_id in rows:
        if old_id is None:
            ratings.append(Rating(str(record), int(user_id), int(stars), at))
        else:
            pointing.setdefault(str(record), []).append(str(old_id))
    return ratings, {new: sorted(olds) for new, olds in pointing.items()}
