"""The migration benchmark: ``unicat migrate`` of the 200,000-edition scale catalogue from SQLite alone
into PostgreSQL + Elasticsearch, timed as a user runs it, with everything counted and checksummed on
both sides.

Run from the repository root::

    .venv/bin/python bench/migrate.py [--records 200000] [--readers 2000] [--es-url URL] [--pg-url URL]

1. **Source.** The scale corpus (``bench/scale.py``'s per-library files, cached) imported as 40 sources
   and indexed into a fresh SQLite catalogue; then ``--readers`` accounts, each with a comment, a rating,
   a tag and a reading list entry (none of this timed).
2. **Migration.** ``unicat --index SQLITE migrate --to ES --to-store PG`` in a process of its own, as a
   user runs it: its wall time and peak memory (``ru_maxrss`` of the child).
3. **Check.** Both catalogues are read back in full: counts per kind (sources, source records live and
   deleted, harvest runs, quarantine, union records, redirects, OAI-PMH items and generations, accounts and
   each kind of readers' item) and a SHA-256 over each kind's items in a fixed order (source records with
   their raw bytes; union records as their JSON). Any difference fails the benchmark (exit 1).

Elasticsearch comes from ``--es-url`` or a node of the project's own; PostgreSQL from ``--pg-url`` (an
empty database) or a throwaway cluster of the project's own.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.scale import DEFAULT_RECORDS, build, library_files  # noqa: E402
from bench.scale import EngineRun as ScaleRun  # noqa: E402
from bench.served import elasticsearch, postgresql  # noqa: E402
from unicat.accounts import User  # noqa: E402
from unicat.catalogue import Catalogue  # noqa: E402
from unicat.readers import Comment, ListEntry, Rating, ReadingList, Tag  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

DEFAULT_SEED = 1
DEFAULT_READERS = 2_000
HASH = "scrypt$131072$8$1$MDEyMzQ1Njc4OWFiY2RlZg==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def add_readers(catalogue: Catalogue, count: int) -> None:
    """``count`` accounts, each with a comment, a rating, a tag and a list holding one record."""
    ids = [record.id for _, record in zip(range(count), catalogue.index.iter_union_records(), strict=False)]
    for number, record in enumerate(ids):
        user = catalogue.accounts.create_user(
            User(f"reader{number:05d}@bench.unicat.local", f"R{number}", HASH)
        )
        assert user.id is not None
        store = catalogue.contributions
        store.add_comment(Comment(record, user.id, f"Comment {number} on {record}."))
        store.set_rating(Rating(record, user.id, 1 + number % 5))
        store.add_tag(Tag(record, user.id, f"tag{number % 50}"))
        listed = store.add_list(ReadingList(user.id, f"List {number}"))
        assert listed.id is not None
        store.add_list_entry(ListEntry(listed.id, record))


def _digest(items: Iterable[Any]) -> tuple[int, str]:
    """How many items, and the SHA-256 of their canonical JSON in the order given."""
    digest, count = hashlib.sha256(), 0
    for item in items:
        digest.update(json.dumps(item, sort_keys=True, default=repr).encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()


def fingerprint(catalogue: Catalogue) -> dict[str, tuple[int, str]]:
    """Every kind of item the catalogue holds, counted and checksummed in a fixed order."""
    records, store = catalogue.records, catalogue.contributions
    codes = [source.code for source in records.list_sources()]
    return {
        "sources": _digest(source.to_json() for source in records.list_sources()),
        "source records": _digest(
            (r.source, r.local_id, r.raw.hex(), r.syntax, r.datestamp, r.deleted)
            for code in codes
            for r in records.iter_source_records(code, include_deleted=True)
        ),
        "harvest runs": _digest(sorted(repr(run) for run in records.harvest_history(limit=1_000_000))),
        "quarantine": _digest(
            sorted(
                (q.source, q.local_id, q.stage, q.reason, q.raw.hex())
                for q in records.list_quarantine(limit=10**7)
            )
        ),
        "union records": _digest(record.to_json() for record in catalogue.index.iter_union_records()),
        "redirects": _digest(records.iter_redirects()),
        "OAI-PMH items": _digest(repr(item) for item in records.iter_oai_items()),
        "OAI-PMH generations": _digest(records.oai_generations()),
        "accounts": _digest(user.to_json() for user in catalogue.accounts.list_users()),
        "comments": _digest(repr(item) for item in store.iter_comments()),
        "ratings": _digest(repr(item) for item in store.iter_ratings()),
        "tags": _digest(repr(item) for item in store.iter_tags()),
        "lists": _digest(repr(item) for item in store.iter_lists()),
        "list entries": _digest(repr(item) for item in store.iter_list_entries()),
    }


def run_migration(source: str, index: str, store: str) -> tuple[float, float, str]:
    """``unicat migrate`` in a child process: (wall seconds, the child's own peak RSS in MiB, its output)."""
    command = [sys.executable, "-m", "unicat", "-q", "--index", source, "migrate", "--to", index]
    command += ["--to-store", store]
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, text=True, cwd=REPO_ROOT)
        # wait4: this child's own resource use, not that of every child the benchmark ever had.
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        said, complaint = out.read().strip(), err.read().strip()
    if child.returncode != 0:
        raise SystemExit(f"unicat migrate failed ({child.returncode}): {complaint[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, said


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=DEFAULT_RECORDS, help="editions (200,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--readers", type=int, default=DEFAULT_READERS, help="accounts with their items")
    parser.add_argument("--es-url", help="an Elasticsearch node to use instead of starting one")
    parser.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of starting a cluster")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unicat")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    args = parser.parse_args(argv)
    quiet_logging()
    described = machine()
    print(f"Machine: {described.line()}", flush=True)
    files = library_files(args.records, args.seed, args.cache)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="unicat-bench-migrate-")))
        es_url = stack.enter_context(elasticsearch(args.es_url))
        pg_url = stack.enter_context(postgresql(args.pg_url))
        source = f"sqlite:///{work / 'source.db'}"
        index = f"{es_url}/bench-migrate-{uuid.uuid4().hex[:8]}"
        log(f"building the source catalogue: {len(files)} libraries, {args.records:,} editions…")
        with open_catalogue(Settings(data_dir=work, engine_url=source)) as catalogue:
            build(catalogue, files, ScaleRun("sqlite"), 1)
            add_readers(catalogue, args.readers)
        log("migrating…")
        seconds, peak_mib, said = run_migration(source, index, pg_url)
        log("reading both catalogues back…")
        with open_catalogue(Settings(data_dir=work, engine_url=source)) as old:
            before = fingerprint(old)
        target = Settings(data_dir=work, engine_url=index, store_url=pg_url)
        with open_catalogue(target) as new:
            after = fingerprint(new)
            new.index.delete_catalogue()  # type: ignore[attr-defined]
    print(f"\nunicat migrate SQLite → Elasticsearch + PostgreSQL: {seconds:.1f} s, peak {peak_mib:,.0f} MiB")
    print(f"  it said: {said}")
    differ = [kind for kind in before if before[kind] != after[kind]]
    width = max(len(kind) for kind in before)
    for kind, (count, digest) in before.items():
        same = (
            "same" if after[kind] == (count, digest) else f"DIFFERS: {after[kind][0]:,} {after[kind][1][:12]}"
        )
        print(f"  {kind:<{width}} {count:>10,}  sha256 {digest[:12]}  {same}")
    records = before["source records"][0]
    print(f"  {records / seconds:,.0f} source records/s through the whole copy")
    if args.json:
        figures = {
            "machine": described.line(),
            "seconds": seconds,
            "peak_mib": peak_mib,
            "before": before,
            "after": after,
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    if differ:
        print(f"\nNOT THE SAME: {', '.join(differ)}", flush=True)
        return 1
    print("  everything arrived: every count and checksum equal", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
