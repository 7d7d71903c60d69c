"""A catalogue-scale corpus (200,000 union records by default) grown from the real records of shared/data.

The scale benchmarks need far more records than the real test data holds, but synthetic text would lie
about what matters for search speed: how often words, subjects, libraries and decades repeat. So every
value here comes from the real records, parsed by the project's own indexer, and is only recombined:
titles are spliced from two real titles, authors and subjects are drawn from the real pool, formats,
languages and years follow the real distribution (years jittered by a few), and holdings spread over
40 libraries with Zipf-like weights (a few big libraries hold most titles, as in a real network).

Deterministic: the same ``(n, seed)`` always yields the same records, so two runs (or a before/after
comparison) search the same catalogue.

``union_records(n, seed)`` feeds the union index benchmarks directly; ``write_marc(n, seed, path)`` writes the
same records as ISO 2709 MARC21 (one record per union record, one 852 per holding) for end-to-end
MARC → searchable runs.
"""

from __future__ import annotations

import argparse
import bisect
import functools
import itertools
import os
import random
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import pymarc  # noqa: E402

from indexer.decoding import decode_record  # noqa: E402
from indexer.extract import ExtractedRecord, extract  # noqa: E402
from indexer.profiles import builtin_profile  # noqa: E402
from tests.support.shared_data import SHARED_DATA  # noqa: E402
from unicat.errors import RecordError  # noqa: E402
from unicat.model import Holding, Profile, Source, SourceRef, UnionRecord  # noqa: E402

DEFAULT_SIZE = 200_000
DEFAULT_SEED = 1
LIBRARY_COUNT = 40
# Zipf exponent of the libraries' weights: with 1.1 the biggest library holds ~40% of the titles and
# the smallest well under 2%.
ZIPF_EXPONENT = 1.1
# Chance that a record keeps holding one more library (geometric: ~1.8 libraries per title on average).
MORE_LIBRARIES = 0.45
YEAR_JITTER = 4
MAX_YEAR = 2025
# ISO 2709 files of the real data, with the profile that reads them; MARCXML and malformed files add
# nothing to the pool that these lack.
REAL_FILES: tuple[tuple[str, Profile], ...] = (
    ("marc21/uva_001_2000.mrc", "marc21"),
    ("marc21/065001035.mrc", "marc21"),
    ("marc21/zdbtitutf8.mrc", "marc21"),
    ("marc21/brkrtest.mrc", "marc21"),
    ("dedup/pride-and-prejudice-fixed.mrc", "marc21"),
    ("unimarc/periouni.mrc", "unimarc"),
    ("unimarc/cotesX.mrc", "unimarc"),
    ("unimarc/cotesD.mrc", "unimarc"),
)
RECORD_TERMINATOR = b"\x1d"

# Leader/06-07 that the MARC21 profile (mappings/marc21.toml) maps back to each format.
_LEADER_TYPE = {
    "book": "am",
    "serial": "as",
    "manuscript": "tm",
    "music score": "cm",
    "map": "em",
    "sound recording": "jm",
    "video": "gm",
    "computer file": "mm",
    "mixed": "pm",
    "other": "om",
}


@dataclass(frozen=True, slots=True)
class Library:
    code: str
    name: str


LIBRARIES: tuple[Library, ...] = tuple(
    Library(f"L{rank:02d}", f"Member library {rank:02d}") for rank in range(1, LIBRARY_COUNT + 1)
)
_LIBRARY_CUMULATIVE: tuple[float, ...] = tuple(
    itertools.accumulate(1 / rank**ZIPF_EXPONENT for rank in range(1, LIBRARY_COUNT + 1))
)
# Records drawn from one random stream: blocks are independent, so they can be made in parallel and
# any block can be regenerated alone, and the same (n, seed) still yields the same records.
BLOCK = 10_000


@functools.cache
def real_pool() -> tuple[ExtractedRecord, ...]:
    """Every readable record of :data:`REAL_FILES`, extracted by the project's indexer (cached)."""
    pool: list[ExtractedRecord] = []
    for name, profile_name in REAL_FILES:
        profile = builtin_profile(profile_name)
        source = Source(code="REAL", name="real data", profile=profile_name)
        chunks = (SHARED_DATA / name).read_bytes().split(RECORD_TERMINATOR)
        for number, chunk in enumerate(chunks):
            if len(chunk) < 24:
                continue
            try:
                decoded = decode_record(chunk + RECORD_TERMINATOR, "iso2709", profile_name)
            except RecordError:  # an unreadable real record is left out of the pool, not fatal
                continue
            extracted = extract(decoded.record, profile, source, f"{name}:{number}")
            if extracted.title:
                pool.append(extracted)
    return tuple(pool)


def isbn13(serial: int) -> str:
    """A valid ISBN-13 (978 prefix, check digit by the ISBN standard's 1-3 weights), unique per serial.

    Multiplying by a number coprime with 10⁹ maps serials below 10⁹ one-to-one onto 9-digit bodies, so
    no two records of a corpus share an ISBN by accident.
    """
    body = f"978{serial * 7_919 % 1_000_000_000:09d}"
    total = sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def issn(serial: int) -> str:
    """A valid ISSN (``NNNN-NNNC``, check digit by ISO 3297's weights 8…2 modulo 11), unique per serial.

    The real ISSN of the base record would be shared by every edition grown from it, and the indexer
    rightly merges records that share an ISSN: each serial gets its own, as real serials have.
    """
    body = f"{serial * 7_919 % 10_000_000:07d}"
    check = (11 - sum(w * int(d) for w, d in zip(range(8, 1, -1), body, strict=True)) % 11) % 11
    return f"{body[:4]}-{body[4:]}{'X' if check == 10 else check}"


def _spliced_title(rng: random.Random, first: str, second: str) -> str:
    """The head of one real title joined to the tail of another; sometimes a volume number."""
    head, tail = first.split(), second.split()
    if rng.random() < 0.35 or len(head) < 2 or len(tail) < 2:
        words = head
    else:
        words = head[: rng.randint(1, len(head) - 1)] + tail[rng.randint(1, len(tail) - 1) :]
    title = " ".join(words)
    if rng.random() < 0.1:
        title += f", vol. {rng.randint(1, 12)}"
    return title


def _libraries(rng: random.Random) -> list[Library]:
    count = 1
    while count < LIBRARY_COUNT and rng.random() < MORE_LIBRARIES:
        count += 1
    chosen: dict[str, Library] = {}
    while len(chosen) < count:
        library = LIBRARIES[bisect.bisect(_LIBRARY_CUMULATIVE, rng.random() * _LIBRARY_CUMULATIVE[-1])]
        chosen.setdefault(library.code, library)
    return list(chosen.values())


def _year(rng: random.Random, year: int | None) -> int | None:
    if year is None:
        return None
    return min(MAX_YEAR, year + rng.randint(-YEAR_JITTER, YEAR_JITTER))


def _pick(rng: random.Random, pool: Sequence[ExtractedRecord], own: list[str], name: str) -> list[str]:
    """A record's own values of a list field, often mixed with those of another real record."""
    if rng.random() < 0.5:
        return list(own)
    other: list[str] = getattr(rng.choice(pool), name)
    return list(dict.fromkeys([*own[:1], *other]))


def union_records(n: int = DEFAULT_SIZE, seed: int = DEFAULT_SEED) -> Iterator[UnionRecord]:
    """``n`` union records varied from the real pool, the same ones for the same ``seed``."""
    for start in range(0, n, BLOCK):
        yield from _block(start, min(n, start + BLOCK), seed)


def _block(start: int, stop: int, seed: int) -> Iterator[UnionRecord]:
    """Records ``start`` (a multiple of :data:`BLOCK`) to ``stop``, from the block's own random stream."""
    pool = real_pool()
    rng = random.Random(f"{seed}/{start}")
    for serial in range(start, stop):
        yield _record(rng, pool, serial, seed)


def _record(rng: random.Random, pool: Sequence[ExtractedRecord], serial: int, seed: int) -> UnionRecord:
    base = rng.choice(pool)
    union_id = f"b{seed}-{serial:07d}"
    libraries = _libraries(rng)
    return UnionRecord(
        id=union_id,
        title=_spliced_title(rng, base.title, rng.choice(pool).title),
        responsibility=base.responsibility,
        authors=_pick(rng, pool, base.authors, "authors"),
        subjects=_pick(rng, pool, base.subjects, "subjects"),
        isbns=[isbn13(serial)] if base.format == "book" and rng.random() < 0.6 else [],
        issns=[issn(serial)] if base.issns else [],
        year=_year(rng, base.year),
        language=base.language,
        publisher=base.publisher,
        place=base.place,
        edition=base.edition,
        format=base.format,
        series=list(base.series),
        physical=base.physical,
        notes=list(base.notes[:2]),
        holdings=[
            Holding(
                library=library.code,
                library_name=library.name,
                call_number=f"{library.code}-{serial}",
            )
            for library in libraries
        ],
        sources=[SourceRef(library.code, f"{library.code.lower()}-{serial}") for library in libraries],
    )


def _field(
    tag: str, pairs: Sequence[tuple[str, str]], indicators: tuple[str, str] = (" ", " ")
) -> pymarc.Field:
    return pymarc.Field(
        tag=tag,
        indicators=pymarc.Indicators(*indicators),
        subfields=[pymarc.Subfield(code, value) for code, value in pairs],
    )


def marc_record(record: UnionRecord) -> pymarc.Record:
    """One MARC21 (UTF-8) bibliographic record carrying ``record``'s fields and one 852 per holding."""
    year = f"{record.year:04d}" if record.year is not None else "    "
    fields = [
        pymarc.Field(tag="001", data=record.id),
        pymarc.Field(tag="008", data=f"000000s{year}    xx            000 0 {record.language or '   '} d"),
        *(_field("020", [("a", isbn)]) for isbn in record.isbns),
        *(_field("022", [("a", issn)]) for issn in record.issns),
        *(_field("100", [("a", author)], ("1", " ")) for author in record.authors[:1]),
    ]
    title = [("a", record.title)] + ([("c", record.responsibility)] if record.responsibility else [])
    fields.append(_field("245", title, ("1", "0")))
    imprint = [(code, value) for code, value in (("a", record.place), ("b", record.publisher)) if value]
    if record.year is not None:
        imprint.append(("c", str(record.year)))
    if imprint:
        fields.append(_field("260", imprint))
    fields.extend(_field("500", [("a", note)]) for note in record.notes)
    for subject in record.subjects:
        main, *subdivisions = subject.split(" -- ")
        fields.append(_field("650", [("a", main), *(("x", part) for part in subdivisions)], (" ", "0")))
    fields.extend(_field("700", [("a", author)], ("1", " ")) for author in record.authors[1:])
    fields.extend(_field("490", [("a", series)], ("0", " ")) for series in record.series)
    fields.extend(
        _field("852", [("a", holding.library), ("h", holding.call_number or "")])
        for holding in record.holdings
    )
    leader = f"00000n{_LEADER_TYPE.get(record.format, 'om')} a22000007a 4500"
    return pymarc.Record(force_utf8=True, leader=leader, fields=fields)


def _marc_block(start: int, stop: int, seed: int) -> bytes:
    return b"".join(marc_record(record).as_marc() for record in _block(start, stop, seed))


def write_marc(n: int, seed: int, path: Path, workers: int | None = None) -> int:
    """Write :func:`union_records` ``(n, seed)`` as ISO 2709 MARC21 to ``path``; returns the count.

    Blocks are built on ``workers`` processes (default: every core) and written in order, so the file
    is the same whatever the number of workers.
    """
    starts = range(0, n, BLOCK)
    with path.open("wb") as out, ProcessPoolExecutor(workers or os.cpu_count() or 1) as pool:
        for chunk in pool.map(_marc_block, starts, [min(n, s + BLOCK) for s in starts], [seed] * len(starts)):
            out.write(chunk)
    return n


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="MARC21 ISO 2709 file to write")
    parser.add_argument("-n", type=int, default=DEFAULT_SIZE, help="records (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    count = write_marc(args.n, args.seed, args.out)
    print(f"wrote {count} records to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
