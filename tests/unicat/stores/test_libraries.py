"""The library directory's store, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from unicat.engines.postgresql.database import PostgresDatabase
from unicat.engines.sqlite.database import SqliteDatabase
from unicat.errors import BadParameter
from unicat.libraries import Library
from unicat.ports.database import Database
from unicat.settings import Settings
from unicat.stores.libraries import SqlLibraryStore

ALDERMAN = Library(
    code="VIRG-ALD",
    name="Alderman Library",
    names={"fr": "Bibliothèque Alderman"},
    source="VIRG",
    branches=("ALDERMAN",),
    street="160 McCormick Road",
    postcode="22903",
    city="Charlottesville",
    country="US",
    latitude=38.0364,
    longitude=-78.5054,
    opening_hours={"monday": "08:00-22:00", "sunday": "closed"},
    email="alderman@example.org",
    phone="+1 434 555 0100",
    website="https://library.example.org/alderman",
    shuttle=True,
    opac_url="https://catalog.example.org/{local_id}?isbn={isbn}",
)
CLEMONS = Library(code="VIRG-CLEM", name="Clemons Library", source="VIRG")


@pytest.fixture(params=["sqlite", "postgresql"])
def libraries(request: pytest.FixtureRequest, tmp_path: Path) -> SqlLibraryStore:
    settings = Settings()
    db: Database
    if request.param == "sqlite":
        db = SqliteDatabase(tmp_path / "libraries.db", settings)
    else:
        db = PostgresDatabase(str(request.getfixturevalue("postgres_database_url")), settings)
    request.addfinalizer(db.close)
    return SqlLibraryStore(db)


def test_a_library_comes_back_with_every_field(libraries: SqlLibraryStore) -> None:
    libraries.add_library(CLEMONS)
    libraries.add_library(ALDERMAN)

    assert libraries.get_library("VIRG-ALD") == ALDERMAN
    assert libraries.list_libraries() == [ALDERMAN, CLEMONS]
    assert libraries.get_library("NONE") is None


def test_add_refuses_a_stored_code_and_update_an_unknown_one(libraries: SqlLibraryStore) -> None:
    libraries.add_library(CLEMONS)

    with pytest.raises(BadParameter, match="library update"):
        libraries.add_library(Library(code="VIRG-CLEM", name="Another"))
    with pytest.raises(BadParameter, match="library add"):
        libraries.update_library(ALDERMAN)
    assert libraries.list_libraries() == [CLEMONS]


def test_update_replaces_the_library(libraries: SqlLibraryStore) -> None:
    libraries.add_library(ALDERMAN)
    moved = Library(code="VIRG-ALD", name="Alderman", source="VIRG", branches=("ALD",), shuttle=False)

    libraries.update_library(moved)

    assert libraries.get_library("VIRG-ALD") == moved


def test_a_branch_claimed_twice_is_refused_and_nothing_written(libraries: SqlLibraryStore) -> None:
    libraries.add_library(ALDERMAN)
    rival = Library(code="VIRG-X", name="Rival", source="VIRG", branches=("ALDERMAN",))
    second_default = Library(code="VIRG-Y", name="Also everything", source="VIRG")

    with pytest.raises(BadParameter, match="claimed by VIRG-ALD"):
        libraries.add_library(rival)
    with pytest.raises(BadParameter, match="both keep every copy"):
        libraries.put_libraries([CLEMONS, second_default])
    assert libraries.list_libraries() == [ALDERMAN]


def test_put_adds_and_replaces_and_remove_forgets(libraries: SqlLibraryStore) -> None:
    libraries.add_library(CLEMONS)
    renamed = Library(code="VIRG-CLEM", name="Clemons", source="VIRG")

    assert libraries.put_libraries([ALDERMAN, renamed]) == 2
    assert libraries.list_libraries() == [ALDERMAN, renamed]
    assert libraries.remove_library("VIRG-CLEM") is True
    assert libraries.remove_library("VIRG-CLEM") is False
    assert libraries.directory().site_of("VIRG", "ALDERMAN") == "VIRG-ALD"
    assert libraries.directory().site_of("VIRG", "IVY") is None
