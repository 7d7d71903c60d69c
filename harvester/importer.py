"""Import MARC dump files (ISO 2709 or MARCXML, sniffed from content) into a source's record store."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.splitting import Garbage, RawRecord, sniff, split_iso2709, split_marcxml
from unicat.content_limits import DEFAULT_LIMITS, ContentLimits
from unicat.model import INTAKE_STAGES, HarvestCheckpoint, Source, SourceRecord
from unicat.ports.records import RecordStore

logger = logging.getLogger(__name__)

PAGE_SIZE = 500
# Quarantine entries read per request when looking for those an earlier import of a file left.
LISTING_BATCH = 500

ImportProgress = Callable[[int], None]
"""Called after each stored page with the number of records stored so far."""


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import stored and what it had to quarantine.

    ``fallback_ids`` counts records keyed ``file:index`` because their 001 was missing, unreadable
    or already used by an earlier record of the same import.
    """

    source: str
    files: int
    pages: int
    records: int
    quarantined: int
    fallback_ids: int
    seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "files": self.files,
            "pages": self.pages,
            "records": self.records,
            "quarantined": self.quarantined,
            "fallback_ids": self.fallback_ids,
            "seconds": round(self.seconds, 3),
        }


def import_files(
    store: RecordStore,
    source: Source,
    paths: Sequence[Path],
    *,
    on_progress: ImportProgress | None = None,
    limits: ContentLimits = DEFAULT_LIMITS,
) -> ImportReport:
    """Store every record of ``paths`` under ``source``, in pages, within one "import" run.

    Every file is sniffed before anything is stored, so an unknown format fails fast with a
    :class:`~unicat.errors.UnicatError`. Bytes that cannot be cut into a record, and records over the
    content ``limits``, are quarantined (stage "import", bounded by the limits) and the import goes on.

    Importing is also how a librarian brings back a record they fixed: a record stored readable
    leaves the quarantine of the intake stages (an earlier import or harvest of it), and entries an
    earlier import of a file of the same name left under ``file:index`` go once that file no longer
    has them. Entries of the index stage stay until ``unicat index`` reads the record again.
    """
    started = time.monotonic()
    formats = [sniff(path) for path in paths]
    run = store.start_harvest(source.code, "import")
    # Releasing costs a delete per stored record and stage: only worth it when there is anything to release.
    releasing = any(
        stage in INTAKE_STAGES for code, stage in store.quarantine_counts() if code == source.code
    )
    pages = records = quarantined = fallbacks = 0
    used_ids: set[str] = set()
    page: list[SourceRecord] = []

    def flush() -> None:
        nonlocal pages, records
        pages += 1
        records += len(page)
        store.store_page(source.code, list(page), HarvestCheckpoint(run.id, None, pages, records, 0))
        if releasing:
            store.remove_quarantine(source.code, [record.local_id for record in page], INTAKE_STAGES)
        page.clear()
        if on_progress is not None:
            on_progress(records)

    for path, file_format in zip(paths, formats, strict=True):
        earlier = _positional_entries(store, source.code, path.name) if releasing else set()
        for index, item in enumerate(_split(path, file_format, limits)):
            local_id = item.control_number
            if local_id is None or local_id in used_ids:
                local_id = f"{path.name}:{index}"
                fallbacks += isinstance(item, RawRecord)
            used_ids.add(local_id)
            if isinstance(item, Garbage):
                quarantined += 1
                store.add_quarantine(
                    [limits.quarantine(source.code, local_id, "import", item.reason, item.raw)]
                )
                logger.warning("import quarantined source=%s file=%s: %s", source.code, path, item.reason)
                continue
            page.append(SourceRecord(source.code, local_id, item.raw, item.syntax))
            if len(page) >= PAGE_SIZE:
                flush()
        # What an earlier import of this file quarantined by position and this one did not is gone
        # from the file (fixed, or cut differently now that it is readable).
        if earlier - used_ids:
            store.remove_quarantine(source.code, sorted(earlier - used_ids), ("import",))
    if page:
        flush()
    store.finish_harvest(run.id, "ok")
    report = ImportReport(
        source.code, len(paths), pages, records, quarantined, fallbacks, time.monotonic() - started
    )
    logger.info("import ok %s", report.to_json())
    return report


def _positional_entries(store: RecordStore, source: str, file_name: str) -> set[str]:
    """The import-stage entries of ``source`` named ``file_name:index`` (bytes of that file that
    had no usable 001)."""
    pattern = re.compile(re.escape(file_name) + r":\d+")
    found: set[str] = set()
    offset = 0
    while batch := store.list_quarantine(source, LISTING_BATCH, stage="import", offset=offset):
        found.update(e.local_id for e in batch if e.local_id is not None and pattern.fullmatch(e.local_id))
        offset += len(batch)
    return found


def _split(path: Path, file_format: str, limits: ContentLimits) -> Iterator[RawRecord | Garbage]:
    if file_format == "marcxml":
        yield from split_marcxml(path, limits=limits)
        return
    for item in split_iso2709(path.read_bytes()):
        reason = limits.check_iso2709(item.raw) if isinstance(item, RawRecord) else None
        yield item if reason is None else Garbage(item.raw, reason, item.control_number)
