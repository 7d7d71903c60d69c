"""What a page of hits may carry from the stores, known without asking them on every search.

Every search reads the stores for its hits: the readers' ratings on their ids, the ids redirected to
them, and (when the speller may be asked) the union index's latest OAI-PMH generation. On a selective
search that read, a hand-off to a thread and a round trip to the database, costs about as much as the
whole rest of the app's work. Most hits carry nothing: a database that can tell each process at
commit what was written (PostgreSQL's ``NOTIFY``) lets the process keep the ids that may carry
something and the latest generation, and a search whose hits are all unmarked skips the read.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable

Generation = tuple[int, str]


class HitMarks(abc.ABC):
    """The ids readers' data may be attached to, kept fresh by the database's notices.

    The marks only ever grow while they are live (a rating removed leaves its id marked: a marked id
    is read, as before), and they are not live while the notices may have been missed (before the
    first load, after a lost connection, until loaded again): then every search reads the stores.
    """

    @abc.abstractmethod
    def unmarked(self, union_ids: Iterable[str]) -> bool:
        """True when the marks are live and no id of ``union_ids`` has a rating or a redirect to it:
        the stores' read would find nothing on them."""

    @abc.abstractmethod
    def latest_generation(self) -> tuple[bool, Generation | None]:
        """(live, the latest OAI-PMH generation of the union index): as
        :meth:`~unicat.ports.records.FeedHistory.oai_generations`'s last, when live."""

    @abc.abstractmethod
    def close(self) -> None:
        """Stop listening; the marks are no longer live."""
