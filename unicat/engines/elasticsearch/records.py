"""The documents of the record store, harvest runs, sources and quarantine, and their way back.

Raw MARC bytes travel base64-encoded in ``binary`` fields (stored, never indexed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from unicat.model import HarvestRun, QuarantineEntry, Source, SourceRecord

# Elasticsearch refuses document ids longer than 512 bytes.
MAX_ID_BYTES = 512
KEY_SEPARATOR = "\x1f"


def record_doc_id(source: str, local_id: str) -> str:
    """The id of a source record's document: the same (source, local_id) always gives the same id,
    so re-storing a page overwrites instead of duplicating."""
    key = f"{source}{KEY_SEPARATOR}{local_id}"
    if len(key.encode("utf-8")) <= MAX_ID_BYTES:
        return key
    return "sha256:" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def record_doc(record: SourceRecord, run: int | None = None) -> dict[str, Any]:
    """A source record's document; ``run`` is the harvest run storing it (None: outside a harvest)."""
    return {
        "source": record.source,
        "local_id": record.local_id,
        "syntax": record.syntax,
        "datestamp": record.datestamp,
        "deleted": record.deleted,
        "raw": "" if record.deleted else _b64(record.raw),
        "run": run,
    }


def source_record(doc: dict[str, Any]) -> SourceRecord:
    return SourceRecord(
        source=doc["source"],
        local_id=doc["local_id"],
        raw=binascii.a2b_base64(doc.get("raw") or ""),
        syntax=doc["syntax"],
        datestamp=doc.get("datestamp"),
        deleted=bool(doc.get("deleted")),
    )


def run_doc(run: HarvestRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "source": run.source,
        "started": run.started,
        "status": run.status,
        "mode": run.mode,
        "from_": run.from_,
        "until": run.until,
        "finished": run.finished,
        "resumption_token": run.resumption_token,
        "pages": run.pages,
        "records": run.records,
        "deleted": run.deleted,
        "quarantined": run.quarantined,
        "error": run.error,
        "server_time": run.server_time,
    }


def harvest_run(doc: dict[str, Any]) -> HarvestRun:
    return HarvestRun(
        id=int(doc["id"]),
        source=doc["source"],
        started=doc["started"],
        status=doc["status"],
        mode=doc["mode"],
        from_=doc.get("from_"),
        until=doc.get("until"),
        finished=doc.get("finished"),
        resumption_token=doc.get("resumption_token"),
        pages=int(doc.get("pages", 0)),
        records=int(doc.get("records", 0)),
        deleted=int(doc.get("deleted", 0)),
        quarantined=int(doc.get("quarantined") or 0),
        error=doc.get("error"),
        server_time=doc.get("server_time"),
    )


def quarantine_doc_id(entry: QuarantineEntry, seq: int) -> str:
    """A record's quarantine entry is keyed by (source, stage, local_id), so it is kept once; an entry
    without a local id by its sequence number."""
    if entry.local_id is None:
        return str(seq)
    return record_quarantine_id(entry.source, entry.stage, entry.local_id)


def record_quarantine_id(source: str, stage: str, local_id: str) -> str:
    """The id of a record's quarantine entry at one stage: found (and removed) without a search."""
    return "record:" + record_doc_id(f"{stage}{KEY_SEPARATOR}{source}", local_id)


def quarantine_doc(entry: QuarantineEntry, seq: int, now: str) -> dict[str, Any]:
    return {
        "seq": seq,
        "source": entry.source,
        "local_id": entry.local_id,
        "stage": entry.stage,
        "reason": entry.reason,
        "created": entry.created or now,
        "raw": _b64(entry.raw),
    }


def quarantine_entry(doc: dict[str, Any]) -> QuarantineEntry:
    return QuarantineEntry(
        source=doc["source"],
        local_id=doc.get("local_id"),
        stage=doc["stage"],
        reason=doc["reason"],
        raw=binascii.a2b_base64(doc.get("raw") or ""),
        created=doc.get("created"),
    )


def source_from_doc(doc: dict[str, Any]) -> Source:
    return Source.from_json(doc)
