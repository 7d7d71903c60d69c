"""The blocking keys of each source record, as the last index run computed them.

An index run packs each parsed record's merge keys and work key as 64-bit hashes
(``indexer/record_keys.py`` ``key_hash``): two records sharing a merge key may be one edition, two
sharing a work key editions of one work. A full run has them all in memory and throws them away; the
record store keeps them (``record_keys`` and ``record_works``, written with each generation) so that
an incremental pass, given the records that changed, can find the records they may now merge with
or part from (those carrying any of their old or new keys) without parsing the catalogue again.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MemberKeys:
    """One parsed source record's keys: its merge keys' hashes (each once, in any order) and its work
    key's hash (0 when it has none)."""

    source: str
    local_id: str
    keys: tuple[int, ...]
    work: int = 0

    @property
    def member(self) -> tuple[str, str]:
        return self.source, self.local_id
