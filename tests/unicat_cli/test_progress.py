"""The live progress display: drawn in place on a terminal, silent anywhere else."""

from __future__ import annotations

import io

from unicat_cli.progress import ProgressBoard, bar


def test_a_bar_shows_the_share_done_only_when_the_total_is_known() -> None:
    assert bar(50, 200, width=8) == "[##......]  25%"
    assert bar(300, 200, width=4) == "[####] 100%"
    assert bar(5, None) == "" and bar(5, 0) == ""


def test_the_board_redraws_its_lines_in_place() -> None:
    stream = io.StringIO()
    board = ProgressBoard(stream, enabled=True)
    board.update("ONE", "ONE 10 records", force=True)
    board.update("TWO", "TWO 5 records", force=True)
    board.update("ONE", "ONE 20 records", force=True)
    board.done()
    out = stream.getvalue()
    # Each redraw moves up over the lines drawn before (CSI n F) and clears each line (CSI 2 K).
    assert out.count("\x1b[1F") == 1 and out.count("\x1b[2F") == 2
    last = out.rsplit("\x1b[2F", 1)[1]
    assert last == "\x1b[2KONE 20 records\n\x1b[2KTWO 5 records\n"


def test_nothing_is_drawn_off_a_terminal() -> None:
    stream = io.StringIO()  # not a tty
    board = ProgressBoard(stream)
    board.update("ONE", "ONE 10 records", force=True)
    board.done()
    assert stream.getvalue() == ""
