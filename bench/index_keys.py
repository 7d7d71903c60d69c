"""What keeping the blocking keys and the lookup indexes costs a full index run, and how fast a partial
update writes, on the SQLite catalogue of the scale corpus.

Run from the repository root::

    .venv/bin/python bench/index_keys.py [--records 20000] [--rounds 5] [--update 1000]

The scale corpus of ``--records`` editions (``bench/scale.py``, cached) is imported into a fresh SQLite
catalogue and indexed once (``run_index``, untimed but reported), which leaves every parsed record's
keys in the store. Then, ``--rounds`` times, interleaved so that the machine's load falls alike on each:

* ``keep keys``: the full run's added work on its keys, as it runs: every record's keys appended to
  the temporary file (:class:`indexer.kept_keys.KeptKeys`) and written whole into ``record_keys`` and
  ``record_works`` (``restore_record_keys``: the statements of a generation's transaction);
* ``memberships with/without by-union-id index``: the generation's memberships written whole, with the
  index ``memberships_by_union_id`` and with it dropped (created again after);
* ``rebuild with/without facet-values-by-record index``: ``replace_union_records`` of every union
  record, with ``union_facet_values_by_record`` and with it dropped;
* ``partial update``: ``update_union_records`` of ``--update`` records (each written again with a
  changed title), and as many removed then written back.

Times are medians over the rounds, with min and max.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.foundation import machine, quiet_logging  # noqa: E402
from bench.scale import CORPUS_VERSION, DEFAULT_SEED, library_files  # noqa: E402
from harvester.importer import import_files  # noqa: E402
from indexer import run_index  # noqa: E402
from indexer.kept_keys import KeptKeys  # noqa: E402
from unicat.engines.sqlite.engine import SqliteEngine  # noqa: E402
from unicat.model import Source  # noqa: E402
from unicat.settings import Settings  # noqa: E402
from unicat_cli.wiring import open_catalogue  # noqa: E402

MEMBERSHIPS_INDEX = "CREATE INDEX memberships_by_union_id ON memberships (union_id)"
FACET_VALUES_INDEX = "CREATE INDEX union_facet_values_by_record ON union_facet_values (record)"


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=20_000, help="editions (20,000)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--update", type=int, default=1_000, help="records of a partial update (1,000)")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "unicat")
    args = parser.parse_args(argv)
    quiet_logging()
    print(machine(), file=sys.stderr)
    files = library_files(args.records, DEFAULT_SEED, args.cache)
    print(f"corpus v{CORPUS_VERSION}: {args.records:,} editions, {len(files)} library files", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="unicat-index-keys-") as folder:
        catalogue = open_catalogue(Settings(engine_url=f"sqlite:///{Path(folder) / 'unicat.db'}"))
        try:
            store, index = catalogue.records, catalogue.index
            assert isinstance(index, SqliteEngine)
            for path in files:
                source = Source(code=path.stem, name=f"Member library {path.stem}", profile="marc21")
                store.save_source(source)
                import_files(store, source, [path])
            report = run_index(store, index)
            keys = list(store.iter_record_keys())
            memberships = list(store.iter_memberships())
            redirects = list(store.iter_redirects())
            records = sorted(index.iter_union_records(), key=lambda record: record.id)
            pairs = sum(len(record.keys) for record in keys)
            print(
                f"index: {report.read:,} source records → {report.union_records:,} union records in "
                f"{report.total_seconds:.1f} s (parse {report.seconds['parse']:.1f}, write "
                f"{report.seconds['write']:.1f}); {len(keys):,} records' keys, {pairs:,} merge keys",
                file=sys.stderr,
            )

            def schema(statement: str) -> None:
                with index.database.pool.write() as conn:
                    conn.execute(statement)

            def keep_keys() -> None:
                with KeptKeys() as kept:
                    for record in keys:
                        kept.add(record.source, record.local_id, record.keys, record.work)
                    store.restore_record_keys(kept)

            def memberships_without() -> None:
                schema("DROP INDEX memberships_by_union_id")
                try:
                    store.restore_memberships(memberships, redirects)
                finally:
                    schema(MEMBERSHIPS_INDEX)

            def rebuild_without() -> None:
                schema("DROP INDEX union_facet_values_by_record")
                try:
                    index.replace_union_records(records)
                finally:
                    schema(FACET_VALUES_INDEX)

            changed = [
                replace(record, title=f"{record.title} (revised)") for record in records[: args.update]
            ]
            removed = [record.id for record in records[args.update : 2 * args.update]]
            back = records[args.update : 2 * args.update]
            cases: dict[str, Callable[[], object]] = {
                "keep keys (spill + write whole)": keep_keys,
                "memberships, with by-union-id index": lambda: store.restore_memberships(
                    memberships, redirects
                ),
                "memberships, without it": memberships_without,
                "rebuild, with facet-values-by-record index": lambda: index.replace_union_records(records),
                "rebuild, without it": rebuild_without,
                f"partial update: {len(changed):,} written, {len(removed):,} removed": lambda: (
                    index.update_union_records(changed, removed)
                ),
                f"partial update: {len(back):,} written back": lambda: index.update_union_records(back),
            }
            seconds: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, action in cases.items():
                    seconds[name].append(timed(action))
        finally:
            catalogue.close()
    print(f"{'case':58} {'median s':>9} {'min':>7} {'max':>7}")
    for name, values in seconds.items():
        print(f"{name:58} {statistics.median(values):9.3f} {min(values):7.3f} {max(values):7.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
