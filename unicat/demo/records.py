"""The records one demo endpoint serves: MARCXML built once at startup, with OAI datestamps."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pymarc
from lxml import etree

from unicat.oai_protocol import MARC_NS

logger = logging.getLogger(__name__)

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


class Repository:
    """The items of one endpoint in a fixed order, so that offsets in resumption tokens stay valid.

    ``touch``, ``delete`` and ``remove`` change items as a library's catalogue would, for tests and
    the demo.
    """

    def __init__(self, name: str, records: Sequence[OAIRecord]) -> None:
        self.name = name
        self._records = list(records)
        self._positions = {record.identifier: index for index, record in enumerate(self._records)}

    def __len__(self) -> int:
        return len(self._records)

    @property
    def earliest_datestamp(self) -> datetime:
        return min((record.datestamp for record in self._records), default=FALLBACK_DATESTAMP)

    def get(self, identifier: str) -> OAIRecord | None:
        position = self._positions.get(identifier)
        return None if position is None else self._records[position]

    def select(self, since: datetime | None, until: datetime | None) -> list[OAIRecord]:
        """Items whose datestamp is within [since, until] (both inclusive, as OAI-PMH says)."""
        return [
            record
            for record in self._records
            if (since is None or record.datestamp >= since) and (until is None or record.datestamp <= until)
        ]

    def touch(self, identifier: str) -> None:
        """Mark an item as changed now."""
        self._update(identifier, metadata=self._require(identifier).metadata)

    def delete(self, identifier: str) -> None:
        """Delete an item; it stays as a tombstone (deletedRecord "persistent")."""
        self._update(identifier, metadata=None)

    def remove(self, identifier: str) -> None:
        """Forget an item without a trace, as a server that keeps no deletions (deletedRecord "no")
        does; only a full harvest can tell it is gone. Offsets in tokens given out before move."""
        self._require(identifier)
        self._records = [record for record in self._records if record.identifier != identifier]
        self._positions = {record.identifier: index for index, record in enumerate(self._records)}

    def _require(self, identifier: str) -> OAIRecord:
        record = self.get(identifier)
        if record is None:
            raise KeyError(identifier)
        return record

    def _update(self, identifier: str, metadata: bytes | None) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        record = replace(self._require(identifier), datestamp=now, metadata=metadata)
        self._records[self._positions[identifier]] = record


def build_records(
    prefix: str, raws: Sequence[bytes], *, profile: str, force_utf8: bool = False
) -> list[OAIRecord]:
    """Items ``{prefix}:1``, ``{prefix}:2``… from ISO 2709 or MARCXML records.

    ISO 2709 is decoded with pymarc: MARC-8 to Unicode, or UTF-8 when ``force_utf8``. A record pymarc
    cannot read is left out with a warning: a demo server has no quarantine.
    """
    records = []
    for number, raw in enumerate(raws, 1):
        identifier = f"{prefix}:{number}"
        try:
            metadata, latest_change = _marcxml(raw, profile, force_utf8)
        except Exception as exc:  # pymarc raises many types for broken records
            logger.warning("demo record skipped id=%s: %s: %s", identifier, type(exc).__name__, exc)
            continue
        records.append(OAIRecord(identifier, _datestamp(latest_change), metadata))
    return records


def _marcxml(raw: bytes, profile: str, force_utf8: bool) -> tuple[bytes, str | None]:
    """The record as namespaced MARCXML, and its 005 if it has one."""
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
