"""Every record of the shared data through the indexer's compiled modules, printed as JSON lines.

``python -m tests.indexer.index_all_shared_data [--pure]`` prints one line per step and record: which
modules ran compiled, each record's parse outcome (its mapped fields, or the reason it was refused),
then the clusters, union records and indexed fields built from all of them. MARC files come from the
MARC folders, Dublin Core records from the captured OAI-PMH responses. With ``--pure`` the
project's own modules are imported from their ``.py`` sources even where a compiled copy sits beside
them, so the two outputs compare the compiled code with the source it was compiled from.
"""

from __future__ import annotations

import importlib.machinery
import json
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any

from unicat.oai_protocol import OAI_DC_NS

REPO_ROOT = Path(__file__).resolve().parent.parent.parent


def use_python_sources(root: Path) -> None:
    """From now on, modules under ``root`` load from ``.py`` files only (compiled copies ignored)."""
    prefix = str(root)

    def source_only(path: str) -> importlib.machinery.FileFinder:
        if not path.startswith(prefix) or ".venv" in Path(path).parts:
            raise ImportError(path)  # another entry's finder handles it (third-party packages)
        return importlib.machinery.FileFinder(
            path, (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
        )

    sys.path_hooks.insert(0, source_only)
    sys.path_importer_cache.clear()


def plain(value: Any) -> Any:
    """A JSON-ready copy of a result, compiled class or not (``asdict`` needs a real dataclass)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {item.name: plain(getattr(value, item.name)) for item in fields(value)}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    return value


def oai_dc_pieces(path: Path) -> list[bytes]:
    """The ``<oai_dc:dc>`` elements of an OAI-PMH response, serialised; the whole file if it is not XML."""
    from lxml import etree

    data = path.read_bytes()
    try:
        root = etree.fromstring(data)
    except etree.XMLSyntaxError:
        return [data]
    return [etree.tostring(dc, encoding="utf-8") for dc in root.iter(f"{{{OAI_DC_NS}}}dc")]


# Every record gets the same datestamp: the output must depend on the data only.
STAMP = "2026-01-01T00:00:00Z"


def main() -> None:
    if "--pure" in sys.argv[1:]:
        use_python_sources(REPO_ROOT)
    from harvester.splitting import RawRecord, sniff, split_iso2709, split_marcxml
    from indexer.dedup import cluster_records
    from indexer.ids import assign_ids
    from indexer.parsing import ParseFailure, parse_outcome
    from indexer.union import build_union_record
    from tests.support.shared_data import SHARED_DATA
    from unicat.compiled import compiled_modules
    from unicat.documents import index_fields
    from unicat.model import Source, SourceRecord

    def emit(kind: str, value: Any) -> None:
        print(json.dumps([kind, value], ensure_ascii=False, sort_keys=True))

    emit("compiled", compiled_modules())
    sources: dict[str, Source] = {}
    extracted = []

    def judge(path: Path, number: int, record: SourceRecord) -> None:
        """Parse one record as the indexer does and print what became of it."""
        _, outcome = parse_outcome(record, sources)
        if isinstance(outcome, ParseFailure):
            emit("refused", [path.name, number, outcome.reason])
        else:
            emit("parsed", [path.name, number, plain(outcome)])
            extracted.append(outcome)

    for folder in ("marc21", "unimarc", "dedup", "malformed"):
        for path in sorted((SHARED_DATA / folder).iterdir()):
            if path.suffix not in (".mrc", ".xml"):
                continue
            code = f"{folder}-{path.stem}"[:32].replace(" ", "_")
            source = Source(code=code, name=path.name, profile="unimarc" if folder == "unimarc" else "marc21")
            sources[code] = source
            try:
                kind = sniff(path)
            except Exception as exc:
                emit("refused file", [path.name, str(exc)])
                continue
            pieces = split_iso2709(path.read_bytes()) if kind == "iso2709" else split_marcxml(path)
            for number, piece in enumerate(pieces):
                if not isinstance(piece, RawRecord):
                    emit("garbage", [path.name, number, piece.reason])
                    continue
                judge(path, number, SourceRecord(code, f"{number:05d}", piece.raw, piece.syntax, STAMP))
    # Dublin Core: each <oai_dc:dc> of the captured OAI-PMH responses, as the harvester stores it; a
    # response that is not XML at all goes in whole, as a record the indexer must refuse.
    for path in sorted((SHARED_DATA / "oai").rglob("*.xml")):
        code = f"oai-{path.stem}"[:32].replace(" ", "_")
        sources[code] = Source(code=code, name=path.name)
        for number, raw in enumerate(oai_dc_pieces(path)):
            judge(path, number, SourceRecord(code, f"{number:05d}", raw, "oai_dc", STAMP))
    clusters = cluster_records(extracted)
    assignment = assign_ids(clusters, {})
    for union_id, cluster in zip(assignment.ids, clusters, strict=True):
        union = build_union_record(union_id, cluster)
        emit("union", union.to_json())
        emit("fields", plain(index_fields(union)))


if __name__ == "__main__":
    main()
