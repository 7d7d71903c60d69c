"""An answer's body, decompressed and counted as it arrives, into a spool that cannot outgrow a cap.

A few kilobytes of gzip can expand to gigabytes, so the size that matters is the decompressed one,
and it must be counted while decompressing, never after: the body is read raw, in chunks, and each
chunk is inflated at most :data:`CHUNK` bytes at a time (zlib's ``max_length``), so neither memory
nor the spool ever holds more than the cap plus one chunk. The compressed bytes count too: a stream
that inflates to nothing (endless empty blocks) is as endless as any other.
"""

from __future__ import annotations

import tempfile
import zlib
from collections.abc import Iterable, Iterator
from typing import BinaryIO, cast

# Bytes of an answer kept in memory before the rest goes to a temporary file: a page of 10,000 records
# costs disk, not memory.
SPOOL_IN_MEMORY = 4 * 1024 * 1024
CHUNK = 256 * 1024

# The content codings the harvester asks for (Accept-Encoding) and can read.
ACCEPTED_ENCODINGS = "gzip, deflate"


class TooLarge(Exception):
    """The answer grew past its cap; ``size`` is how much of it was read when it did."""

    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


class UnreadableEncoding(Exception):
    """The answer's Content-Encoding is not one the harvester asked for, or its data does not decode."""


class _Inflater:
    """gzip (several members too) or deflate, zlib-wrapped or raw as some servers send it."""

    def __init__(self, coding: str) -> None:
        self._wbits = zlib.MAX_WBITS | 16 if coding == "gzip" else zlib.MAX_WBITS
        self._raw_fallback = coding == "deflate"
        self._zlib = zlib.decompressobj(self._wbits)
        self._started = False

    def inflate(self, data: bytes) -> Iterator[bytes]:
        while data:
            try:
                out = self._zlib.decompress(data, CHUNK)
            except zlib.error as exc:
                if self._raw_fallback and not self._started:
                    self._raw_fallback = False
                    self._wbits = -zlib.MAX_WBITS
                    self._zlib = zlib.decompressobj(self._wbits)
                    continue
                raise UnreadableEncoding(f"the compressed answer does not decompress ({exc})") from exc
            self._started = True
            if out:
                yield out
            if self._zlib.eof:  # a gzip member ended: another may follow
                data = self._zlib.unused_data
                self._zlib = zlib.decompressobj(self._wbits)
            else:
                data = self._zlib.unconsumed_tail

    def end(self) -> Iterator[bytes]:
        tail = self._zlib.flush(CHUNK)
        if tail:
            yield tail


def _decoded(raw: Iterable[bytes], encoding: str) -> Iterator[bytes]:
    codings = [part.strip().lower() for part in encoding.split(",") if part.strip()]
    codings = ["gzip" if coding == "x-gzip" else coding for coding in codings if coding != "identity"]
    if not codings:
        yield from raw
        return
    if len(codings) > 1 or codings[0] not in ("gzip", "deflate"):
        raise UnreadableEncoding(
            f"the answer is encoded as {encoding!r}, but only {ACCEPTED_ENCODINGS} was asked for"
        )
    inflater = _Inflater(codings[0])
    for chunk in raw:
        yield from inflater.inflate(chunk)
    yield from inflater.end()


def spool(raw: Iterable[bytes], encoding: str, cap: int) -> BinaryIO:
    """The decoded body of ``raw`` (chunks as sent, under the Content-Encoding ``encoding``) in a
    spool positioned at its end; raises :class:`TooLarge` as soon as more than ``cap`` bytes come,
    decoded or not, and :class:`UnreadableEncoding`."""
    received = 0

    def counted() -> Iterator[bytes]:
        nonlocal received
        for chunk in raw:
            received += len(chunk)
            if received > cap:
                raise TooLarge(received)
            yield chunk

    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115 (returned open)
    try:
        size = 0
        for piece in _decoded(counted(), encoding):
            size += len(piece)
            if size > cap:
                raise TooLarge(size)
            body.write(piece)
    except BaseException:
        body.close()
        raise
    return cast(BinaryIO, body)
