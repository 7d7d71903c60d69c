"""Stable union ids: reuse, uniqueness, determinism and redirects."""

from __future__ import annotations

import base64
import hashlib

from indexer.dedup import Cluster
from indexer.extract import ExtractedRecord
from indexer.ids import assign_ids, derived_id


def _cluster(*keys: tuple[str, str]) -> Cluster:
    return Cluster(
        [ExtractedRecord(source=s, local_id=i, datestamp=None, title="t", format="book") for s, i in keys]
    )


def test_new_ids_are_deterministic_and_shaped() -> None:
    first = assign_ids([_cluster(("A", "1")), _cluster(("B", "2"))], {})
    again = assign_ids([_cluster(("A", "1")), _cluster(("B", "2"))], {})
    assert first.ids == again.ids
    assert first.ids[0] == derived_id("A", "1")
    assert first.ids[0].startswith("u") and len(first.ids[0]) == 13
    assert first.redirects == {}


def test_cluster_reuses_majority_id_and_ids_are_never_shared() -> None:
    previous = {("A", "1"): "u-old1", ("B", "1"): "u-old1", ("C", "1"): "u-old1", ("D", "1"): "u-old2"}
    # The old cluster of three split into {A, B} and {C}; D joined C.
    result = assign_ids([_cluster(("A", "1"), ("B", "1")), _cluster(("C", "1"), ("D", "1"))], previous)
    assert result.ids[0] == "u-old1"
    assert result.ids[1] == "u-old2"  # u-old1 is taken: its second choice is free
    assert len(set(result.ids)) == 2


def test_merge_keeps_the_first_members_id_on_a_tie_and_redirects_the_other() -> None:
    # A tie of votes goes to the id of the cluster's first member (by source, local id): the id the
    # cluster would be given if it were new, and the one it had before a split that is undone.
    previous = {("A", "1"): "u-bbb", ("B", "1"): "u-aaa"}
    result = assign_ids([_cluster(("A", "1"), ("B", "1"))], previous)
    assert result.ids == ["u-bbb"]
    assert result.redirects == {"u-aaa": "u-bbb"}


def test_a_tie_between_ids_the_first_member_did_not_have_goes_to_the_smaller() -> None:
    previous = {("B", "1"): "u-bbb", ("C", "1"): "u-aaa"}
    result = assign_ids([_cluster(("A", "1"), ("B", "1"), ("C", "1"))], previous)
    assert result.ids == ["u-aaa"]
    assert result.redirects == {"u-bbb": "u-aaa"}


def test_split_loser_gets_a_new_id_not_a_retired_one() -> None:
    previous = {("A", "1"): "u-one", ("B", "1"): "u-one"}
    result = assign_ids([_cluster(("A", "1")), _cluster(("B", "1"))], previous)
    assert result.ids[0] == "u-one"
    assert result.ids[1] == derived_id("B", "1")
    assert result.redirects == {}


def test_derived_ids_are_the_rfc_4648_base32_of_the_sha1_digest() -> None:
    # Ids already handed out (permalinks, OAI identifiers) must not change with the encoder's code.
    for source, local_id in [("A", "1"), ("L01", "l01-b1-0000001"), ("bib", "ÉTÉ/2024#3"), ("s", "")]:
        digest = hashlib.sha1(f"{source}/{local_id}".encode()).digest()
        assert derived_id(source, local_id) == "u" + base64.b32encode(digest).decode("ascii")[:12].lower()
    salted = hashlib.sha1(b"A/1#2").digest()
    assert derived_id("A", "1", 2) == "u" + base64.b32encode(salted).decode("ascii")[:12].lower()
