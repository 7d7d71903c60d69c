"""The catalogue a command or the web app works on: the ports it is made of, opened together.

The union index is the search engine's (SQLite FTS5 or Elasticsearch) and can always be rebuilt; the
stores hold everything that must not be lost (source records, harvest state, quarantine, decisions, the
OAI-PMH feed's history, accounts, what readers add, inter-library requests, the e-mail outbox, the
library directory, readers' search history and saved searches, the live targets) in the database:
SQLite embedded, or PostgreSQL. With the embedded default one SQLite file holds everything and the index
and the stores share its connections.
"""

from __future__ import annotations

from dataclasses import dataclass

from unicat.closing import ClosedOnExit
from unicat.ports.accounts import AccountStore
from unicat.ports.contributions import ContributionStore
from unicat.ports.database import Database
from unicat.ports.libraries import LibraryStore
from unicat.ports.live_targets import LiveTargetStore
from unicat.ports.outbox import OutboxStore
from unicat.ports.records import RecordStore
from unicat.ports.saved_searches import SavedSearchStore
from unicat.ports.shuttle import ShuttleStore
from unicat.ports.union_index import UnionIndex
from unicat.union_generation import UnionFeed


@dataclass(frozen=True, slots=True)
class Catalogue(ClosedOnExit):
    """The ports of one catalogue; closing it closes what it opened."""

    index: UnionIndex
    records: RecordStore
    accounts: AccountStore
    contributions: ContributionStore
    shuttle: ShuttleStore
    database: Database
    outbox: OutboxStore
    libraries: LibraryStore
    searches: SavedSearchStore
    targets: LiveTargetStore

    @property
    def store_url(self) -> str:
        return self.database.url

    @property
    def feed(self) -> UnionFeed:
        """The union catalogue as an OAI-PMH feed."""
        return UnionFeed(self.records, self.index)

    def close(self) -> None:
        """Close the index, then the database (which the SQLite index may have been running on)."""
        try:
            self.index.close()
        finally:
            self.database.close()
