"""Where every record of the shared data goes: union member, merged, quarantined at intake, set aside
by kind, or another index failure, per file, with totals.

``python -m bench.shared_data_census [--data DIR] [--json]``

Each file is taken in on its own, as its own source, into a fresh SQLite catalogue in a temporary
folder, and indexed; then the store and the union index say where its records went. MARC files (ISO
2709 and MARCXML, in ``marc21/``, ``unimarc/``, ``dedup/``, ``malformed/``) go through `unicat import`
and `unicat index`, as a librarian would run them (UNIMARC files with ``--profile unimarc``). The
captured OAI-PMH responses (``oai/``) are what a harvest receives: each ``<record>`` goes through the
harvester's own conversion (MARCXML or Dublin Core, or quarantine), then the same index. A response
that is not XML at all holds no record: it is counted as a file read, with none. The project's own
evaluation files (``bench/data/openlibrary/``, MARC 21) follow, taken in the same way.

The figures say how many records of each kind the shared data holds and where they went;
bench/README.md keeps the last table.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from harvester.namespaces import oai
from harvester.records import convert_record
from indexer import run_index
from unicat.catalogue import Catalogue
from unicat.content_limits import DEFAULT_LIMITS
from unicat.model import QuarantineEntry, Source, SourceRecord
from unicat.settings import Settings
from unicat_cli.cli import EXIT_OK, main
from unicat_cli.wiring import open_catalogue

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO_ROOT.parent / "shared" / "data"
MARC_FOLDERS = ("marc21", "unimarc", "dedup", "malformed")
# The evaluation files the project ships itself (bench/dedup_sets.py), under folders of their own.
EVALUATION_DATA = REPO_ROOT / "bench" / "data"
EVALUATION_FOLDERS = ("openlibrary",)
CODE = "FILE"


@dataclass(slots=True)
class FileCensus:
    """Where the records of one file went. ``members`` counts every source record that is part of a
    union record; ``merged`` those of them that share it with another record of the file."""

    path: str
    members: int = 0
    union_records: int = 0
    merged: int = 0
    deleted: int = 0
    intake_quarantined: int = 0
    set_aside: dict[str, int] = field(default_factory=dict)
    index_failed: int = 0

    @property
    def accounted(self) -> int:
        """Every record the intake met: members, tombstones and quarantine entries."""
        return (
            self.members
            + self.deleted
            + self.intake_quarantined
            + sum(self.set_aside.values())
            + self.index_failed
        )


def shared_files(data: Path) -> Iterator[Path]:
    """The record files of the shared data, in a stable order (licences and indexes left out)."""
    for folder in (*MARC_FOLDERS, "oai"):
        yield from sorted(path for path in (data / folder).rglob("*") if path.suffix in (".mrc", ".xml"))


def evaluation_files(data: Path = EVALUATION_DATA) -> Iterator[Path]:
    """The MARC files of the project's own evaluation sets, in a stable order."""
    for folder in EVALUATION_FOLDERS:
        yield from sorted(path for path in (data / folder).rglob("*") if path.suffix in (".mrc", ".xml"))


def census_of(path: Path, data: Path, work: Path) -> FileCensus:
    """Take ``path`` in as its own source in a fresh catalogue under ``work``, index it, and count."""
    work.mkdir(parents=True)
    settings = Settings(engine_url=f"sqlite:///{work / 'unicat.db'}", data_dir=work)
    folder = path.relative_to(data).parts[0]
    if folder == "oai":
        with open_catalogue(settings) as catalogue:
            _take_in_oai_response(catalogue, path)
            run_index(catalogue.records, catalogue.index)
    else:
        profile = "unimarc" if folder == "unimarc" else "marc21"
        # The commands' own lines are not the census: kept out of its output.
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            for argv in (["import", CODE, str(path), "--profile", profile], ["index"]):
                if (status := main(["--data-dir", str(work), *argv])) != EXIT_OK:
                    raise RuntimeError(f"unicat {argv[0]} of {path} ended with status {status}")
    with open_catalogue(settings) as catalogue:
        return _count(catalogue, str(path.relative_to(data)))


def _take_in_oai_response(catalogue: Catalogue, path: Path) -> None:
    """Store the records of a captured OAI-PMH response as a harvest stores them."""
    catalogue.records.save_source(Source(CODE, path.name))
    try:
        root = etree.fromstring(path.read_bytes())
    except etree.XMLSyntaxError:
        return  # a harvest fails on such a response: nothing of it is stored, and it holds no record
    records: list[SourceRecord] = []
    quarantine: list[QuarantineEntry] = []
    for element in root.iter(oai("record")):
        item = convert_record(CODE, element, limits=DEFAULT_LIMITS)
        if isinstance(item, SourceRecord):
            records.append(item)
        else:
            quarantine.append(item)
    catalogue.records.add_quarantine(quarantine)
    catalogue.records.store_page(CODE, records, None)


def _count(catalogue: Catalogue, name: str) -> FileCensus:
    store = catalogue.records
    census = FileCensus(name)
    for record in catalogue.index.iter_union_records():
        census.union_records += 1
        census.members += len(record.sources)
        if len(record.sources) > 1:
            census.merged += len(record.sources)
    census.deleted = store.source_counts(CODE).deleted
    census.intake_quarantined = sum(
        store.count_quarantine(CODE, stage=stage) for stage in ("harvest", "import")
    )  # fmt: skip
    census.set_aside = {kind: count for (_, kind), count in sorted(store.quarantine_kind_counts().items())}
    census.index_failed = store.count_quarantine(CODE, stage="index") - sum(census.set_aside.values())
    return census


KINDS = ("authority", "holdings", "classification", "community information", "untitled")


def format_table(rows: list[FileCensus]) -> str:
    """A Markdown table: one row per file, then the totals."""
    header = [
        "file", "records", "union records", "members", "of them merged", "deleted", "quarantined at intake",
        *(f"set aside: {kind}" for kind in KINDS), "other index failures",
    ]  # fmt: skip
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" + "---:|" * (len(header) - 1)]

    def cells(row: FileCensus, name: str) -> list[str]:
        figures = [
            row.accounted, row.union_records, row.members, row.merged, row.deleted, row.intake_quarantined,
            *(row.set_aside.get(kind, 0) for kind in KINDS), row.index_failed,
        ]  # fmt: skip
        return [name, *(f"{figure:,}" for figure in figures)]

    for row in rows:
        lines.append("| " + " | ".join(cells(row, f"`{row.path}`")) + " |")
    total = FileCensus("total")
    for row in rows:
        total.members += row.members
        total.union_records += row.union_records
        total.merged += row.merged
        total.deleted += row.deleted
        total.intake_quarantined += row.intake_quarantined
        total.index_failed += row.index_failed
        for kind, count in row.set_aside.items():
            total.set_aside[kind] = total.set_aside.get(kind, 0) + count
    lines.append("| " + " | ".join(f"**{cell}**" for cell in cells(total, "total")) + " |")
    return "\n".join(lines)


def main_census(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    parser.add_argument("--json", action="store_true", help="print one JSON object per file instead")
    args = parser.parse_args(argv)
    data: Path = args.data.resolve()
    if not (data / "INDEX.md").is_file():
        parser.error(f"{data} is not the shared data folder (no INDEX.md there); give it with --data")
    rows = []
    with tempfile.TemporaryDirectory(prefix="unicat-census-") as temporary:
        files = [(data, path) for path in shared_files(data)]
        files += [(EVALUATION_DATA, path) for path in evaluation_files()]
        for number, (root, path) in enumerate(files):
            print(f"{path.relative_to(root)}…", file=sys.stderr)
            rows.append(census_of(path, root, Path(temporary) / str(number)))
    if args.json:
        for row in rows:
            print(json.dumps({**asdict(row), "accounted": row.accounted}, ensure_ascii=False))
    else:
        print(format_table(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main_census())
