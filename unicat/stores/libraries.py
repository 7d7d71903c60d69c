"""The library directory in SQL (:class:`unicat.ports.libraries.LibraryStore`), on SQLite or PostgreSQL:
one row per library, its names and opening hours as JSON text (small tables read whole)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from unicat.errors import BadParameter
from unicat.libraries import Library, LibraryDirectory
from unicat.ports.database import Connection, Database
from unicat.ports.libraries import LibraryStore

COLUMNS = (
    "code, name, source, branches, names, street, postcode, city, country, latitude, longitude, "
    "opening_hours, email, phone, website, shuttle, opac_url"
)


def _row(library: Library) -> tuple[Any, ...]:
    return (
        library.code, library.name, library.source, json.dumps(list(library.branches)),
        json.dumps(dict(library.names), ensure_ascii=False), library.street, library.postcode, library.city,
        library.country, library.latitude, library.longitude,
        json.dumps(dict(library.opening_hours)), library.email, library.phone, library.website,
        int(library.shuttle), library.opac_url,
    )  # fmt: skip


def _library(row: Sequence[Any]) -> Library:
    (code, name, source, branches, names, street, postcode, city, country, latitude, longitude, hours,
     email, phone, website, shuttle, opac_url) = row  # fmt: skip
    return Library(
        code=code,
        name=name,
        source=source,
        branches=tuple(json.loads(branches)),
        names=json.loads(names),
        street=street,
        postcode=postcode,
        city=city,
        country=country,
        latitude=latitude,
        longitude=longitude,
        opening_hours=json.loads(hours),
        email=email,
        phone=phone,
        website=website,
        shuttle=bool(shuttle),
        opac_url=opac_url,
    )


class SqlLibraryStore(LibraryStore):
    """Table ``libraries``, keyed by code."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def list_libraries(self) -> list[Library]:
        with self.db.read() as conn:
            return _all(conn)

    def get_library(self, code: str) -> Library | None:
        with self.db.read() as conn:
            row = conn.execute(f"SELECT {COLUMNS} FROM libraries WHERE code = ?", (code,)).fetchone()
        return _library(row) if row is not None else None

    def add_library(self, library: Library) -> None:
        with self.db.write() as conn:
            stored = {item.code: item for item in _all(conn)}
            if library.code in stored:
                raise BadParameter(
                    "code", f"library {library.code} exists: change it with `unicat library update`"
                )
            self._write(conn, stored, [library])

    def update_library(self, library: Library) -> None:
        with self.db.write() as conn:
            stored = {item.code: item for item in _all(conn)}
            if library.code not in stored:
                raise BadParameter("code", f"no library {library.code}: add it with `unicat library add`")
            self._write(conn, stored, [library])

    def put_libraries(self, libraries: Sequence[Library]) -> int:
        with self.db.write() as conn:
            self._write(conn, {item.code: item for item in _all(conn)}, libraries)
        return len(libraries)

    def remove_library(self, code: str) -> bool:
        with self.db.write(single=True) as conn:
            return conn.execute("DELETE FROM libraries WHERE code = ?", (code,)).rowcount > 0

    @staticmethod
    def _write(conn: Connection, stored: dict[str, Library], libraries: Sequence[Library]) -> None:
        """Check the directory as it will be (one branch, one library), then write ``libraries``."""
        LibraryDirectory({**stored, **{library.code: library for library in libraries}}.values())
        marks = ", ".join("?" * (COLUMNS.count(",") + 1))
        updates = ", ".join(f"{name} = excluded.{name}" for name in COLUMNS.split(", ")[1:])
        conn.executemany(
            f"INSERT INTO libraries ({COLUMNS}) VALUES ({marks}) ON CONFLICT (code) DO UPDATE SET {updates}",
            [_row(library) for library in libraries],
        )


def _all(conn: Connection) -> list[Library]:
    return [
        _library(row) for row in conn.execute(f"SELECT {COLUMNS} FROM libraries ORDER BY code").fetchall()
    ]
