"""Librarians' merge decisions in SQL (part of :class:`unicat.ports.records.RecordStore`), on SQLite or
PostgreSQL: a split or forced merge of two source records, the pair in its fixed order so that a second
decision on it replaces the first. Making or forgetting one counts as a change of its two records
(``record_changes.mark_changed``): the next incremental index pass clusters them again."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from unicat.clock import utc_now
from unicat.model import MergeDecision, SourceRef
from unicat.ports.database import Database, insert_numbered
from unicat.stores.record_changes import mark_changed

DECISION_COLUMNS = "id, kind, first_source, first_local_id, second_source, second_local_id, reason, by_, at"


def _decision(row: Sequence[Any]) -> MergeDecision:
    decision_id, kind, first_source, first_local, second_source, second_local, reason, by, at = row
    return MergeDecision(
        kind=kind,
        first=SourceRef(first_source, first_local),
        second=SourceRef(second_source, second_local),
        reason=reason,
        by=by,
        at=at,
        id=int(decision_id),
    )


class SqlMergeDecisions:
    """Table ``merge_decisions``, unique per pair, numbered in the order decisions were made."""

    db: Database

    def save_merge_decision(self, decision: MergeDecision) -> MergeDecision:
        (first_source, first_local), (second_source, second_local) = decision.pair
        at = decision.at or utc_now()
        with self.db.write() as conn:
            mark_changed(conn, [(first_source, first_local), (second_source, second_local)])
            # Deleted and inserted rather than updated: the later decision is numbered (ordered) as new.
            conn.execute(
                "DELETE FROM merge_decisions WHERE first_source = ? AND first_local_id = ? "
                "AND second_source = ? AND second_local_id = ?",
                (first_source, first_local, second_source, second_local),
            )
            decision_id = insert_numbered(
                self.db,
                conn,
                "merge_decisions",
                DECISION_COLUMNS,
                None,
                (decision.kind, first_source, first_local, second_source, second_local, decision.reason,
                 decision.by, at),
            )  # fmt: skip
        first, second = SourceRef(first_source, first_local), SourceRef(second_source, second_local)
        return dataclasses.replace(decision, first=first, second=second, id=decision_id, at=at)

    def merge_decisions(self) -> list[MergeDecision]:
        with self.db.read() as conn:
            rows = conn.execute(f"SELECT {DECISION_COLUMNS} FROM merge_decisions ORDER BY id").fetchall()
        return [_decision(row) for row in rows]

    def remove_merge_decision(self, decision_id: int) -> bool:
        with self.db.write() as conn:
            row = conn.execute(
                "SELECT first_source, first_local_id, second_source, second_local_id FROM merge_decisions "
                "WHERE id = ?",
                (decision_id,),
            ).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM merge_decisions WHERE id = ?", (decision_id,))
            mark_changed(conn, [(str(row[0]), str(row[1])), (str(row[2]), str(row[3]))])
            return True
