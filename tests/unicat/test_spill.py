"""Temporary files for what an index run cannot hold in memory: blobs by number, rows read back sorted."""

from __future__ import annotations

import os
import random

from unicat.spill import SortedRows, Spill


def test_a_spill_gives_back_each_blob_by_its_number_and_leaves_nothing_behind() -> None:
    blobs = [b"", b"one", bytes(range(256)) * 50, b"last"]
    with Spill() as spill:
        numbers = [spill.append(blob) for blob in blobs]
        assert numbers == [0, 1, 2, 3]
        assert [spill.read(number) for number in reversed(numbers)] == blobs[::-1]
        assert len(spill) == 4 and spill.size == sum(map(len, blobs))
        # Appended after reads (the file mapped at a smaller size): read as well as the first.
        later = [spill.append(b"x" * size) for size in (1, 70_000)]
        assert [spill.read(number) for number in later] == [b"x", b"x" * 70_000]
        assert spill.read(0) == b"" and spill.read(3) == b"last"
        path = spill.path
        assert os.path.exists(path)
    assert not os.path.exists(path)


def test_rows_come_back_sorted_whether_they_stayed_in_memory_or_were_spilled() -> None:
    rng = random.Random(3)
    rows = [(f"id{rng.randrange(10_000):05d}", n) for n in range(2_500)]
    expected = sorted(rows, key=lambda row: row[0])  # stable: equal keys keep the order they came in
    for run in (10_000, 300, 7):
        gathered: SortedRows[tuple[str, int]] = SortedRows(lambda row: row[0], run=run, chunk=50)
        for row in rows:
            gathered.add(row)
        assert len(gathered) == len(rows)
        assert list(gathered) == expected
        assert list(gathered) == expected  # read twice: the same
        gathered.close()


def test_rows_of_dropped_tags_are_left_out() -> None:
    gathered: SortedRows[tuple[str, str]] = SortedRows(lambda row: row[1], lambda row: row[0], run=3)
    for row in [("u1", "b"), ("u2", "a"), ("u1", "c"), ("u3", "d"), ("u2", "e")]:
        gathered.add(row)
    gathered.dropped.update({"u2"})
    assert list(gathered) == [("u1", "b"), ("u1", "c"), ("u3", "d")]
    gathered.close()
