"""Blocks: the records that share a merge key with each other, directly or through others.

Clustering compares records only when they share a blocking key (:mod:`indexer.dedup`), so records
that share none, directly or through a chain of others, can never end in one cluster. Found here
from the keys' 64-bit hashes alone (:mod:`indexer.record_keys`), in arrays: at 3,000,000 records
most blocks hold one record, which becomes its own union record without being compared to anything,
and only the records of the other blocks are read back and clustered, one block at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int64]


def components(count: int, links: npt.NDArray[np.uint64], bits: int) -> Indices:
    """For each of ``count`` records, the smallest record of its block, given the ``links`` of their
    merge keys (:class:`indexer.record_table.RecordTable`: a key's hash above, its record's number in
    the low ``bits``). ``links`` is sorted in place.

    After the sort, a key's links lie side by side: each ties its record to the next one's. Labels
    then spread along those ties (each record takes the smallest label among the records it is tied
    to), with pointer jumping between rounds; a few rounds settle any real catalogue.
    """
    label = np.arange(count, dtype=np.int64)
    if len(links) < 2:
        return label
    links.sort()
    shift, mask = np.uint64(bits), np.uint64((1 << bits) - 1)
    hashes = links >> shift
    tied = hashes[1:] == hashes[:-1]
    del hashes
    a = (links[:-1][tied] & mask).astype(np.int32)
    b = (links[1:][tied] & mask).astype(np.int32)
    del tied
    apart = a != b
    a, b = a[apart], b[apart]
    while len(a):
        lowest = np.minimum(label[a], label[b])
        before = label.copy()
        np.minimum.at(label, a, lowest)
        np.minimum.at(label, b, lowest)
        _jump(label)
        if np.array_equal(before, label):
            break
    return label


def _jump(label: Indices) -> None:
    """Point every record straight at its label's label, until labels point at themselves."""
    while True:
        further = label[label]
        if np.array_equal(further, label):
            return
        label[:] = further


def multi_record_blocks(label: Indices) -> Iterator[Indices]:
    """The blocks of more than one record, each as its records' numbers in order, in the order of
    their smallest record."""
    sizes = np.bincount(label, minlength=len(label))
    crowded = np.flatnonzero(sizes[label] > 1)
    if not len(crowded):
        return
    crowded = crowded[np.argsort(label[crowded], kind="stable")]
    edges = np.flatnonzero(np.diff(label[crowded])) + 1
    yield from np.split(crowded, edges)
