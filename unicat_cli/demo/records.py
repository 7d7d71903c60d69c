"""The records one demo library serves, as a feed the OAI-PMH provider reads (``unicat/oai_feed.py``):
MARCXML built once at startup, with OAI datestamps."""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pymarc
from lxml import etree

from unicat.clock import TIME_FORMAT, format_time
from unicat.oai_items import OaiItem, OaiSelection
from unicat.oai_protocol import MARC_NS
from unicat_cli.demo.circulation import add_example_circulation

logger = logging.getLogger(__name__)

DEFAULT_REPOSITORY = "unicat.demo"
"""The repository identifier of the demo libraries' OAI identifiers (``oai:unicat.demo:CODE:N``)."""

# Records without a usable 005 (date of latest transaction) get this datestamp: an old, fixed date
# keeps incremental harvests of an unchanged demo library empty.
FALLBACK_DATESTAMP = datetime(2000, 1, 1, tzinfo=UTC)
# Characters XML 1.0 forbids; a few real records carry them (stray control bytes).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class OAIRecord:
    """One item of a repository; ``metadata`` is a MARCXML ``<record>`` (UTF-8), None once deleted."""

    identifier: str
    datestamp: datetime
    metadata: bytes | None

    @property
    def deleted(self) -> bool:
        return self.metadata is None


@dataclass(frozen=True, slots=True)
class Entry:
    """An item of the feed and, when asked for and live, its MARCXML."""

    item: OaiItem
    record: bytes | None = None


def _split(identifier: str) -> tuple[str, str]:
    """``oai:REPOSITORY:LOCAL`` → (REPOSITORY, LOCAL), the OAI identifier scheme."""
    scheme, _, rest = identifier.partition(":")
    repository, _, local = rest.partition(":")
    if scheme != "oai" or not repository or not local:
        raise ValueError(f"{identifier!r} is not an OAI identifier (oai:REPOSITORY:LOCAL)")
    return repository, local


class Repository:
    """The items of one demo library, and the feed the provider serves them from.

    Each distinct datestamp is a generation of the feed (numbered in datestamp order, never
    renumbered), so the provider's lists, tokens and ``from``/``until`` work on a library exactly as
    on the union catalogue. The feed's ids are the local parts of the OAI identifiers
    (``oai:REPOSITORY:LOCAL``), all of one repository. ``touch``, ``delete`` and ``remove`` change
    items as a library's catalogue would, for tests and the demo, while the provider reads the feed
    from its threads.
    """

    def __init__(self, name: str, records: Sequence[OAIRecord]) -> None:
        self.name = name
        split = [_split(record.identifier) for record in records]
        repositories = sorted({repository for repository, _ in split})
        if len(repositories) > 1:
            raise ValueError(f"a repository's records have one repository identifier, not {repositories}")
        self.repository_identifier = repositories[0] if repositories else DEFAULT_REPOSITORY
        self._lock = threading.Lock()
        self._records = {local: record for (_, local), record in zip(split, records, strict=True)}
        self._datestamps = sorted({format_time(record.datestamp) for record in records})
        number = {stamp: generation for generation, stamp in enumerate(self._datestamps, 1)}
        self._generation = {local: number[format_time(r.datestamp)] for local, r in self._records.items()}
        self._keys: list[tuple[int, str]] | None = None

    def __len__(self) -> int:
        return len(self._records)

    @property
    def sample_id(self) -> str:
        """An id of the feed, for Identify's sample identifier."""
        return next(iter(self._records), "1")

    def get(self, identifier: str) -> OAIRecord | None:
        local = self._local(identifier)
        return None if local is None else self._records.get(local)

    def select(self, since: datetime | None, until: datetime | None) -> list[OAIRecord]:
        """Items whose datestamp is within [since, until] (both inclusive, as OAI-PMH says)."""
        with self._lock:
            return [
                record
                for record in self._records.values()
                if (since is None or record.datestamp >= since)
                and (until is None or record.datestamp <= until)
            ]

    def touch(self, identifier: str) -> None:
        """Mark an item as changed now."""
        self._update(identifier, metadata=self._require(identifier).metadata)

    def delete(self, identifier: str) -> None:
        """Delete an item; it stays as a tombstone (deletedRecord "persistent")."""
        self._update(identifier, metadata=None)

    def remove(self, identifier: str) -> None:
        """Forget an item without a trace, as a server that keeps no deletions (deletedRecord "no")
        does; only a full harvest can tell it is gone."""
        local = self._require_local(identifier)
        with self._lock:
            del self._records[local], self._generation[local]
            self._keys = None

    def _local(self, identifier: str) -> str | None:
        try:
            repository, local = _split(identifier)
        except ValueError:
            return None
        return local if repository == self.repository_identifier else None

    def _require_local(self, identifier: str) -> str:
        local = self._local(identifier)
        if local is None or local not in self._records:
            raise KeyError(identifier)
        return local

    def _require(self, identifier: str) -> OAIRecord:
        return self._records[self._require_local(identifier)]

    def _update(self, identifier: str, metadata: bytes | None) -> None:
        local = self._require_local(identifier)
        with self._lock:
            # Now, to the second, and never before the newest generation: datestamps do not decrease.
            moment = datetime.now(UTC).replace(microsecond=0)
            if self._datestamps:
                moment = max(moment, datetime.strptime(self._datestamps[-1], TIME_FORMAT).replace(tzinfo=UTC))
            stamp = format_time(moment)
            if not self._datestamps or self._datestamps[-1] != stamp:
                self._datestamps.append(stamp)
            self._records[local] = replace(self._records[local], datestamp=moment, metadata=metadata)
            self._generation[local] = len(self._datestamps)
            self._keys = None

    # -- the feed (unicat/oai_feed.py) ---------------------------------------------------------------
    def oai_generations(self) -> list[tuple[int, str]]:
        with self._lock:
            return list(enumerate(self._datestamps, 1))

    def oai_list(
        self, selection: OaiSelection, after: tuple[int, str] | None, limit: int, with_records: bool
    ) -> list[Entry]:
        with self._lock:
            keys = self._sorted_keys()
            start, end = self._span(keys, selection)
            if after is not None:
                start = max(start, bisect.bisect_right(keys, after))
            return [self._entry(local, with_records) for _, local in keys[start : min(end, start + limit)]]

    def oai_count(self, selection: OaiSelection) -> int:
        with self._lock:
            start, end = self._span(self._sorted_keys(), selection)
            return max(0, end - start)

    def oai_entry(self, union_id: str, with_record: bool) -> Entry | None:
        with self._lock:
            return self._entry(union_id, with_record) if union_id in self._records else None

    def oai_sets(self) -> dict[str, str]:
        return {}  # a demo library has no sets

    def _sorted_keys(self) -> list[tuple[int, str]]:
        """Every item's (generation, id), in the feed's order; kept until an item changes."""
        if self._keys is None:
            self._keys = sorted((generation, local) for local, generation in self._generation.items())
        return self._keys

    @staticmethod
    def _span(keys: list[tuple[int, str]], selection: OaiSelection) -> tuple[int, int]:
        """Where the items of the selection's generations are in ``keys`` ("" sorts before any id)."""
        return bisect.bisect_left(keys, (selection.low, "")), bisect.bisect_left(
            keys, (selection.high + 1, "")
        )

    def _entry(self, local: str, with_record: bool) -> Entry:
        record = self._records[local]
        # Fingerprints tell the union catalogue's rebuilds what changed; a library's feed needs none.
        item = OaiItem(local, self._generation[local], record.deleted, (), "")
        return Entry(item, record.metadata if with_record else None)


def build_records(
    prefix: str,
    raws: Sequence[bytes],
    *,
    profile: str,
    force_utf8: bool = False,
    circulation: bool = False,
) -> list[OAIRecord]:
    """Items ``{prefix}:1``, ``{prefix}:2``… from ISO 2709 or MARCXML records.

    ISO 2709 is decoded with pymarc: MARC-8 to Unicode, or UTF-8 when ``force_utf8``. A record pymarc
    cannot read is left out with a warning: a demo server has no quarantine. With ``circulation``, the
    copies of ISO 2709 records get the demo's example circulation data (``circulation.py``).
    """
    records = []
    for number, raw in enumerate(raws, 1):
        identifier = f"{prefix}:{number}"
        try:
            metadata, latest_change = _marcxml(raw, profile, force_utf8, number if circulation else None)
        except Exception as exc:  # pymarc raises many types for broken records
            logger.warning("demo record skipped id=%s: %s: %s", identifier, type(exc).__name__, exc)
            continue
        records.append(OAIRecord(identifier, _datestamp(latest_change), metadata))
    return records


def _marcxml(
    raw: bytes, profile: str, force_utf8: bool, circulation: int | None = None
) -> tuple[bytes, str | None]:
    """The record as namespaced MARCXML, and its 005 if it has one; with ``circulation`` (the record's
    number), its copies carry the demo's example circulation data."""
    if raw.lstrip().startswith(b"<"):
        element = etree.fromstring(raw)
        if etree.QName(element).namespace != MARC_NS:
            raise ValueError("MARCXML record is not in the MARC 21 slim namespace")
        latest = element.find(f"{{{MARC_NS}}}controlfield[@tag='005']")
        return etree.tostring(element, encoding="utf-8"), latest.text if latest is not None else None
    record = pymarc.Record(data=raw, to_unicode=True, force_utf8=force_utf8)
    if profile == "marc21":
        # MARCXML is Unicode: a MARC 21 leader must now say so (leader/09 'a'), as LC's converter does.
        leader = str(record.leader)
        record.leader = pymarc.Leader(leader[:9] + "a" + leader[10:])
    if circulation is not None:
        add_example_circulation(record, profile, circulation)
    text = pymarc.record_to_xml(record, namespace=True).decode("utf-8")  # type: ignore[no-untyped-call]
    latest_field = record.get("005")
    return _NOT_XML.sub("", text).encode("utf-8"), latest_field.data if latest_field is not None else None


def _datestamp(latest_change: str | None) -> datetime:
    """A 005 (yyyymmddhhmmss.f) as a UTC instant, never in the future; else the fallback date."""
    if not latest_change:
        return FALLBACK_DATESTAMP
    try:
        stamp = datetime.strptime(latest_change.strip()[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return FALLBACK_DATESTAMP
    return min(stamp, datetime.now(UTC).replace(microsecond=0))
