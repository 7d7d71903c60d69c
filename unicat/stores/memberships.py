"""Memberships and redirects in SQL: which union record each source record belonged to in the last
generation of the union index (so that re-indexing keeps ids stable), and where the ids that vanished
in a merge went (part of :class:`unicat.ports.records.RecordStore`), on SQLite or PostgreSQL.

The writers take the connection of a transaction that the caller holds: a new generation replaces the
memberships in the same transaction as the OAI-PMH feed (``records.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence

from unicat.ports.database import Connection, Database, delete_in, fetch_in, iter_keyset

# Rows per keyset read: a bulk read never holds a whole table in one statement.
BATCH = 1_000
# Whether a union id is a record of the last generation: the feed's items say so, live or deleted.
LIVE_ITEM = "SELECT 1 FROM oai_items WHERE id = ? AND deleted = 0"
# Members per lookup statement (two parameters each).
MEMBER_LOOKUP = 400
# Redirect chains longer than this are treated as a cycle.
MAX_REDIRECT_HOPS = 16


def replace_memberships(db: Database, conn: Connection, memberships: Iterable[Sequence[str]]) -> int:
    """Within ``conn``'s transaction: ``memberships`` (source, local_id, union id) in place of every
    stored one; returns how many were written."""
    conn.execute("DELETE FROM memberships")
    return db.insert_rows(conn, "memberships", "source, local_id, union_id", memberships)


def replace_memberships_of(
    conn: Connection,
    union_ids: Sequence[str],
    memberships: Sequence[tuple[str, str, str]],
    removed: Sequence[tuple[str, str]],
) -> None:
    """Within ``conn``'s transaction (a partial generation's): every membership of ``union_ids`` and of
    the members of ``memberships`` and ``removed`` dropped, then ``memberships`` stored. A source record
    that moved to another union record, or left one, keeps no stale row."""
    delete_in(conn, "memberships", "union_id", union_ids)
    members = list(dict.fromkeys([(source, local_id) for source, local_id, _ in memberships] + list(removed)))
    for start in range(0, len(members), MEMBER_LOOKUP):
        part = members[start : start + MEMBER_LOOKUP]
        pairs = ", ".join("(?, ?)" for _ in part)
        conn.execute(
            f"DELETE FROM memberships WHERE (source, local_id) IN (VALUES {pairs})",
            [value for member in part for value in member],
        )
    conn.executemany("INSERT INTO memberships (source, local_id, union_id) VALUES (?, ?, ?)", memberships)


def add_redirects(db: Database, conn: Connection, redirects: Iterable[tuple[str, str]]) -> None:
    """Within ``conn``'s transaction: each (old id, new id) stored, in place of where ``old`` pointed."""
    given = dict(redirects)
    delete_in(conn, "redirects", "old_id", given)
    db.insert_rows(conn, "redirects", "old_id, new_id", given.items())


def drop_redirects_of_members(conn: Connection) -> None:
    """Within ``conn``'s transaction, after the memberships were replaced: forget where the ids of the
    generation's union records pointed. An id that lives again (a split undone) must not keep
    redirecting elsewhere."""
    conn.execute("DELETE FROM redirects WHERE old_id IN (SELECT union_id FROM memberships)")


def drop_redirects_of(conn: Connection, union_ids: Iterable[str]) -> None:
    """Within ``conn``'s transaction (a partial generation's): forget where these ids, live again,
    pointed."""
    delete_in(conn, "redirects", "old_id", union_ids)


def new_redirects(redirects: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """The redirects of a generation worth storing: an id merged into itself is not one."""
    return ((old, new) for old, new in redirects.items() if old != new)


class SqlMemberships:
    """Tables ``memberships`` (by (source, local_id), and by union id) and ``redirects`` (by old id,
    and by new id for "what points here")."""

    db: Database

    def memberships(self) -> dict[tuple[str, str], str]:
        return {(source, local_id): union_id for source, local_id, union_id in self.iter_memberships()}

    def iter_memberships(self) -> Iterator[tuple[str, str, str]]:
        rows = iter_keyset(self.db, "memberships", "source, local_id, union_id", "source, local_id", BATCH)
        return ((str(source), str(local_id), str(union_id)) for source, local_id, union_id in rows)

    def members_of(self, union_ids: Sequence[str]) -> dict[str, list[tuple[str, str]]]:
        found: dict[str, list[tuple[str, str]]] = {}
        select = "SELECT union_id, source, local_id FROM memberships"
        for union_id, source, local_id in fetch_in(self.db, select, "union_id", union_ids):
            found.setdefault(str(union_id), []).append((str(source), str(local_id)))
        return {union_id: sorted(members) for union_id, members in found.items()}

    def union_ids_of(self, members: Sequence[tuple[str, str]]) -> dict[tuple[str, str], str]:
        wanted = list(dict.fromkeys(members))
        found: dict[tuple[str, str], str] = {}
        with self.db.read() as conn:
            for start in range(0, len(wanted), MEMBER_LOOKUP):
                part = wanted[start : start + MEMBER_LOOKUP]
                pairs = ", ".join("(?, ?)" for _ in part)
                for source, local_id, union_id in conn.execute(
                    "SELECT source, local_id, union_id FROM memberships "
                    f"WHERE (source, local_id) IN (VALUES {pairs})",
                    [value for member in part for value in member],
                ).fetchall():
                    found[(str(source), str(local_id))] = str(union_id)
        return found

    def redirects_from(self, union_ids: Sequence[str]) -> dict[str, str]:
        rows = fetch_in(self.db, "SELECT old_id, new_id FROM redirects", "old_id", union_ids)
        return {str(old): str(new) for old, new in rows}

    def redirects_to(self, union_ids: Sequence[str]) -> dict[str, list[str]]:
        pointing: dict[str, list[str]] = {}
        for new, old in fetch_in(self.db, "SELECT new_id, old_id FROM redirects", "new_id", union_ids):
            pointing.setdefault(str(new), []).append(str(old))
        return {new: sorted(olds) for new, olds in pointing.items()}

    def iter_redirects(self) -> Iterator[tuple[str, str]]:
        for old, new in iter_keyset(self.db, "redirects", "old_id, new_id", "old_id", BATCH):
            yield str(old), str(new)

    def resolve_redirect(self, union_id: str) -> str | None:
        with self.db.read() as conn:
            seen = {union_id}
            current = union_id
            while True:
                row = conn.execute("SELECT new_id FROM redirects WHERE old_id = ?", (current,)).fetchone()
                if row is None:
                    break
                current = str(row[0])
                if current in seen or len(seen) > MAX_REDIRECT_HOPS:
                    return None  # a cycle (or a chain too long to be anything else) leads nowhere
                seen.add(current)
            if current == union_id:
                return None  # no redirect at all
            live = conn.execute(LIVE_ITEM, (current,)).fetchone()
        return current if live is not None else None

    def live_union_id(self, union_id: str) -> str | None:
        with self.db.read() as conn:
            live = conn.execute(LIVE_ITEM, (union_id,)).fetchone()
        return union_id if live is not None else self.resolve_redirect(union_id)

    def restore_memberships(
        self, memberships: Iterable[tuple[str, str, str]], redirects: Iterable[tuple[str, str]]
    ) -> int:
        with self.db.write(bulk=True) as conn:
            written = replace_memberships(self.db, conn, memberships)
            conn.execute("DELETE FROM redirects")
            add_redirects(self.db, conn, redirects)
        return written
