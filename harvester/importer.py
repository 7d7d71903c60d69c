"""Import MARC dump files (ISO 2709 or MARCXML, sniffed from content) into a source's record store."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harvester.splitting import Garbage, RawRecord, sniff, split_iso2709, split_marcxml
from unicat.engine import Engine
from unicat.model import HarvestCheckpoint, QuarantineEntry, Source, SourceRecord

logger = logging.getLogger(__name__)

PAGE_SIZE = 500

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
    engine: Engine,
    source: Source,
    paths: Sequence[Path],
    *,
    on_progress: ImportProgress | None = None,
) -> ImportReport:
    """Store every record of ``paths`` under ``source``, in pages, within one "import" run.

    Every file is sniffed before anything is stored, so an unknown format fails fast with a
    :class:`~unicat.errors.UnicatError`. Bytes that cannot be cut into a record are quarantined
    (stage "import") and the import goes on.
    """
    started = time.monotonic()
    formats = [sniff(path) for path in paths]
    run = engine.start_harvest(source.code, "import")
    pages = records = quarantined = fallbacks = 0
    used_ids: set[str] = set()
    page: list[SourceRecord] = []

    def flush() -> None:
        nonlocal pages, records
        pages += 1
        records += len(page)
        engine.store_page(source.code, list(page), HarvestCheckpoint(run.id, None, pages, records, 0))
        page.clear()
        if on_progress is not None:
            on_progress(records)

    for path, file_format in zip(paths, formats, strict=True):
        for index, item in enumerate(_split(path, file_format)):
            if isinstance(item, Garbage):
                quarantined += 1
                entry = QuarantineEntry(source.code, f"{path.name}:{index}", "import", item.reason, item.raw)
                engine.add_quarantine([entry])
                logger.warning("import quarantined source=%s file=%s: %s", source.code, path, item.reason)
                continue
            local_id = item.control_number
            if local_id is None or local_id in used_ids:
                local_id = f"{path.name}:{index}"
                fallbacks += 1
            used_ids.add(local_id)
            page.append(SourceRecord(source.code, local_id, item.raw, item.syntax))
            if len(page) >= PAGE_SIZE:
                flush()
    if page:
        flush()
    engine.finish_harvest(run.id, "ok")
    report = ImportReport(
        source.code, len(paths), pages, records, quarantined, fallbacks, time.monotonic() - started
    )
    logger.info("import ok %s", report.to_json())
    return report


def _split(path: Path, file_format: str) -> Iterator[RawRecord | Garbage]:
    if file_format == "iso2709":
        return split_iso2709(path.read_bytes())
    return split_marcxml(path)
