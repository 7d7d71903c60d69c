"""Deduplication benchmark: pairwise precision and recall on three ground truths, and time at scale.

```
.venv/bin/python bench/dedup.py                  # from the repository root; about a minute
.venv/bin/python bench/dedup.py --sizes 20000,100000,200000 --json dedup.json
```

Quality: every record of an evaluation set (:mod:`bench.dedup_sets`) goes through the product's own
path, decoded and mapped by the indexer (``indexer.decoding``, ``indexer.extract``) and clustered by
``indexer.dedup.cluster_records``; each pair of records put in one cluster is a true positive when the
ground truth says they are one edition, else a false positive; each pair the truth joins and the
clusters do not is a false negative. Precision = TP / (TP + FP), recall = TP / (TP + FN). The
records that a wrong merge joined and the pairs a missed merge left apart are listed with --explain.

Time: the parsed varied-copies set is replicated until it holds 20k, 100k and 200k records (each
replica with its own identifiers and titles, so the merges per record stay those of the real set),
and ``cluster_records`` is timed on each, best of ``--runs``, with the cycle collector paused as
``unicat index`` pauses it. Near-linear growth shows as a steady
time per record.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.dedup_sets import (  # noqa: E402
    LabelledRecord,
    open_library,
    pairwise,
    pride_and_prejudice,
    varied_copies,
)
from bench.foundation import machine  # noqa: E402
from indexer.decoding import decode_record  # noqa: E402
from indexer.dedup import Cluster, cluster_records  # noqa: E402
from indexer.extract import ExtractedRecord, extract  # noqa: E402
from indexer.profiles import builtin_profile  # noqa: E402
from unicat.collector import collector_paused  # noqa: E402
from unicat.errors import RecordError  # noqa: E402
from unicat.model import Source  # noqa: E402

DEFAULT_SIZES = (20_000, 100_000, 200_000)
TARGET_PRECISION, TARGET_RECALL = 0.995, 0.95


@dataclass(frozen=True, slots=True)
class Quality:
    name: str
    records: int
    editions: int
    true_positive: int
    false_positive: int
    false_negative: int
    refused: int = 0  # records the decoder refused: quarantined by ``unicat index``, merged with nothing

    @property
    def precision(self) -> float:
        found = self.true_positive + self.false_positive
        return self.true_positive / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0


@dataclass(frozen=True, slots=True)
class Timing:
    records: int
    seconds: float

    @property
    def microseconds_per_record(self) -> float:
        return self.seconds / self.records * 1e6


def parse(labelled: Sequence[LabelledRecord]) -> list[ExtractedRecord]:
    """Each record decoded and mapped as ``unicat index`` does (its own source per library). A record
    the decoder refuses is left out, as ``unicat index`` quarantines it: its true pairs count as missed."""
    parsed = []
    for record in labelled:
        profile = builtin_profile(record.profile)
        source = Source(code=record.source, name=record.source, profile=record.profile)
        try:
            decoded = decode_record(record.raw, record.syntax, record.profile)
        except RecordError:
            continue
        parsed.append(extract(decoded.record, profile, source, record.local_id))
    return parsed


def quality(
    name: str, labelled: Sequence[LabelledRecord], parsed: Sequence[ExtractedRecord]
) -> tuple[Quality, list[Cluster]]:
    """Score the clusters of ``parsed`` (what :func:`parse` gave for ``labelled``)."""
    truth = {(record.source, record.local_id): record.edition for record in labelled}
    clusters = cluster_records(parsed)
    tp, fp, fn = pairwise([[member.key for member in cluster.members] for cluster in clusters], truth)
    refused = len(labelled) - len(parsed)
    return Quality(name, len(labelled), len(set(truth.values())), tp, fp, fn, refused), clusters


def explain(labelled: Sequence[LabelledRecord], clusters: Sequence[Cluster]) -> list[str]:
    """The records the decoder refused, the wrong merges (clusters mixing editions) and the missed ones
    (editions over clusters)."""
    truth = {(record.source, record.local_id): record.edition for record in labelled}
    clustered = {member.key for cluster in clusters for member in cluster.members}
    lines = [
        f"  refused by the decoder: {record.edition} {record.source}/{record.local_id}"
        for record in labelled
        if (record.source, record.local_id) not in clustered
    ]
    where: dict[str, set[int]] = {}
    for number, cluster in enumerate(clusters):
        editions = {truth[member.key] for member in cluster.members}
        for edition in editions:
            where.setdefault(edition, set()).add(number)
        if len(editions) > 1:
            rules = ", ".join(f"{rule.rule}={rule.key}" for rule in cluster.rules)
            lines.append(f"  wrong merge by {rules}:")
            lines.extend(
                f"    {truth[m.key]} {m.source}/{m.local_id}: {_described(m)}" for m in cluster.members
            )
    for edition, numbers in sorted(where.items()):
        if len(numbers) > 1:
            lines.append(f"  missed: {edition} in {len(numbers)} clusters:")
            for number in sorted(numbers):
                lines.extend(
                    f"    {m.source}/{m.local_id}: {_described(m)} | {m.isbns} | {m.physical}"
                    for m in clusters[number].members
                    if truth[m.key] == edition
                )
    return lines


def _described(record: ExtractedRecord) -> str:
    return f"{record.title} | {record.edition} | {record.year} | {record.publisher}"


def replicated(records: Sequence[ExtractedRecord], size: int) -> list[ExtractedRecord]:
    """``size`` records: copies of ``records`` whose identifiers and titles carry the replica's number,
    so replicas never merge with each other and each keeps the real set's merges."""
    out: list[ExtractedRecord] = []
    replica = 0
    while len(out) < size:
        tag = f"r{replica}"
        for record in records[: size - len(out)]:
            out.append(
                dataclasses.replace(
                    record,
                    source=f"{record.source}{tag}",
                    title=f"{record.title} {tag}",
                    title_proper=f"{record.title_proper or record.title} {tag}",
                    isbns=[f"{isbn}{tag}" for isbn in record.isbns],
                    eans=[f"{ean}{tag}" for ean in record.eans],
                    issns=[f"{issn}{tag}" for issn in record.issns],
                    system_numbers=[f"{number}{tag}" for number in record.system_numbers],
                    lccns=[f"{lccn}{tag}" for lccn in record.lccns],
                )
            )
        replica += 1
    return out


def timings(records: Sequence[ExtractedRecord], sizes: Sequence[int], runs: int) -> list[Timing]:
    result = []
    for size in sizes:
        corpus = replicated(records, size)
        best = float("inf")
        for _ in range(runs):
            gc.collect()
            # As in ``unicat index`` (indexer.pipeline): the cycle collector is paused while it runs.
            with collector_paused():
                started = time.perf_counter()
                cluster_records(corpus)
                best = min(best, time.perf_counter() - started)
        result.append(Timing(size, best))
    return result


def report(qualities: Sequence[Quality], times: Sequence[Timing]) -> list[str]:
    lines = [str(machine()), "", "Pairwise precision and recall (targets: P >= 0.99, R >= 0.95)"]
    lines.append(
        f"  {'set':<22} {'records':>8} {'editions':>8} {'refused':>7} {'TP':>6} {'FP':>5} {'FN':>5} "
        f"{'P':>7} {'R':>7}"
    )
    for q in qualities:
        verdict = "ok" if q.precision >= TARGET_PRECISION and q.recall >= TARGET_RECALL else "BELOW TARGET"
        lines.append(
            f"  {q.name:<22} {q.records:>8,} {q.editions:>8,} {q.refused:>7} {q.true_positive:>6} "
            f"{q.false_positive:>5} "
            f"{q.false_negative:>5} {q.precision:>7.4f} {q.recall:>7.4f}  {verdict}"
        )
    if times:
        lines += ["", "cluster_records time (best of runs)"]
        base = times[0]
        for t in times:
            time_ratio, size_ratio = t.seconds / base.seconds, t.records / base.records
            per_record = t.microseconds_per_record
            lines.append(
                f"  {t.records:>9,} records  {t.seconds:>7.3f} s  {per_record:>6.2f} µs/record  "
                f"x{time_ratio:>5.2f} the time for x{size_ratio:>5.1f} the records"
            )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="comma-separated record counts"
    )
    parser.add_argument("--runs", type=int, default=3, help="timed runs per size (best is shown)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the varied-copies set")
    parser.add_argument("--explain", action="store_true", help="list wrong and missed merges")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size]
    pride = pride_and_prejudice()
    varied = varied_copies(args.seed)
    varied_parsed = parse(varied)
    pride_quality, pride_clusters = quality("pride-and-prejudice", pride, parse(pride))
    varied_quality, varied_clusters = quality(f"varied copies (seed {args.seed})", varied, varied_parsed)
    library = open_library()
    library_quality, library_clusters = quality("open-library", library, parse(library))
    times = timings(varied_parsed, sizes, args.runs) if sizes else []
    print("\n".join(report([pride_quality, varied_quality, library_quality], times)))
    if args.explain:
        print("\npride-and-prejudice:\n" + "\n".join(explain(pride, pride_clusters)))
        print("\nvaried copies:\n" + "\n".join(explain(varied, varied_clusters)))
        print("\nopen-library:\n" + "\n".join(explain(library, library_clusters)))
    if args.json:
        figures = {
            "quality": [
                {**dataclasses.asdict(q), "precision": q.precision, "recall": q.recall}
                for q in (pride_quality, varied_quality, library_quality)
            ],
            "timings": [dataclasses.asdict(t) for t in times],
        }
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
