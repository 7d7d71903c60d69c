"""The catalogue a command or the web app works on: the ports it is made of, opened together.

The engine holds the source records, harvest state and the union index; the stores hold accounts and
what readers add, in the database (SQLite embedded, or PostgreSQL), never in the search engine. With
the embedded default one SQLite file holds everything and the engine and the stores share its
connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.closing import ClosedOnExit
from unicat.engine import Engine
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.ports.database import Database


@dataclass(frozen=True, slots=True)
class Catalogue(ClosedOnExit):
    """The ports of one catalogue; closing it closes what it opened."""

    engine: Engine
    accounts: AccountStore
    contributions: ContributionStore
    database: Database

    @property
    def store_url(self) -> str:
        return self.database.url

    def close(self) -> None:
        """Close the engine, then the database (which the SQLite engine may have been running on)."""
        try:
            self.engine.close()
        finally:
            self.database.close()
