"""Union records built from every record of the shared real data, as the indexer builds them: MARC21,
UNIMARC, the duplicates and the malformed files (each record the indexer accepts), so that what is
written from them meets the damage real catalogues hold."""

from __future__ import annotations

import functools

from harvester.splitting import RawRecord, sniff, split_iso2709, split_marcxml
from indexer.dedup import cluster_records
from indexer.ids import assign_ids
from indexer.parsing import ParseFailure, parse_outcome
from indexer.union import build_union_record
from tests.support.shared_data import SHARED_DATA
from unicat.model import Source, SourceRecord, UnionRecord

FOLDERS = ("marc21", "unimarc", "dedup", "malformed")


@functools.cache
def shared_union_records() -> tuple[UnionRecord, ...]:
    sources: dict[str, Source] = {}
    extracted = []
    for folder in FOLDERS:
        for path in sorted((SHARED_DATA / folder).iterdir()):
            if path.suffix not in (".mrc", ".xml"):
                continue
            code = f"{folder}-{path.stem}"[:32].replace(" ", "_")
            sources[code] = Source(
                code=code, name=path.name, profile="unimarc" if folder == "unimarc" else "marc21"
            )
            try:
                kind = sniff(path)
            except Exception:  # a file no reader recognises: the harvester refuses it too
                continue
            pieces = split_iso2709(path.read_bytes()) if kind == "iso2709" else split_marcxml(path)
            for number, piece in enumerate(pieces):
                if isinstance(piece, RawRecord):
                    record = SourceRecord(
                        code, f"{number:05d}", piece.raw, piece.syntax, "2026-01-01T00:00:00Z"
                    )
                    outcome = parse_outcome(record, sources)[1]
                    if not isinstance(outcome, ParseFailure):
                        extracted.append(outcome)
    clusters = cluster_records(extracted)
    assignment = assign_ids(clusters, {})
    return tuple(
        build_union_record(union_id, cluster)
        for union_id, cluster in zip(assignment.ids, clusters, strict=True)
    )


def malformed_sources(records: tuple[UnionRecord, ...]) -> set[str]:
    """The files of ``malformed/`` that gave at least one record."""
    return {ref.source for record in records for ref in record.sources if ref.source.startswith("malformed-")}
