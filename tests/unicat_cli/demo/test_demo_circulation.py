"""The demo's example circulation data: every status a reader meets shows in ``unicat demo``, read by
the built-in profiles from what the demo libraries serve, the same on every run."""

from __future__ import annotations

import io
from collections import Counter

import pymarc

from indexer.extract import extract
from indexer.profiles import builtin_profile
from unicat.availability import AVAILABILITY
from unicat.model import Holding
from unicat_cli.demo.network import DemoLibrary, load_network
from unicat_cli.demo.oai_endpoint import build_repository
from unicat_cli.demo.records import Repository


def library(code: str) -> DemoLibrary:
    return next(lib for lib in load_network() if lib.code == code)


def copies(repository: Repository, demo: DemoLibrary, limit: int = 2000) -> list[Holding]:
    """The holdings the built-in profile reads from the first ``limit`` records the library serves."""
    profile = builtin_profile(demo.profile)
    source = demo.source("http://127.0.0.1:9/oai")
    found: list[Holding] = []
    for number in range(1, min(limit, len(repository)) + 1):
        served = repository.get(f"oai:unicat.demo:{demo.code}:{number}")
        if served is None or served.metadata is None:
            continue
        [record] = pymarc.parse_xml_to_array(io.BytesIO(served.metadata))
        found.extend(extract(record, profile, source, str(number)).holdings)
    return found


def test_the_demo_shows_every_status_on_marc21_and_on_unimarc_copies() -> None:
    for code in ("MEDI", "VIRG"):
        demo = library(code)
        statuses = Counter(holding.status for holding in copies(build_repository(demo), demo))
        assert set(AVAILABILITY) <= set(statuses), (code, statuses)
        # Most copies are on the shelf, as in a library.
        assert statuses["available"] == max(count for status, count in statuses.items() if status), code


def test_a_copy_on_loan_has_a_due_date_and_the_data_is_the_same_on_every_run() -> None:
    demo = library("MEDI")
    first, second = copies(build_repository(demo), demo), copies(build_repository(demo), demo)
    assert first == second
    on_loan = [holding for holding in first if holding.status == "on_loan"]
    assert on_loan and all(
        holding.due_date and holding.due_date.startswith("2027-01-") for holding in on_loan
    )
