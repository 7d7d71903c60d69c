"""A record quarantined at harvest leaves the quarantine once a later harvest delivers it readable.

The provider (tests/support/oai_faults.py) serves the AUSA demo library over real HTTP; `unicat harvest` runs
in a process of its own. The quarantine entries stand for an earlier harvest that could not read two
records: one the provider serves (its identifier comes from ``expected_ids``, which counts the data
file with pymarc), one it has never had.
"""

from __future__ import annotations

from tests.harvester.processes import unicat_process
from tests.support.oai_faults import FaultyProvider
from unicat.model import QuarantineEntry, Source
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

CONFIG = "harvest_politeness_delay = 0\nhttp_backoff = 0.01\n"


def test_a_record_delivered_readable_leaves_the_harvest_quarantine(
    provider: FaultyProvider, settings: Settings, expected_ids: set[str]
) -> None:
    served = sorted(expected_ids)[0]
    gone = "oai:unicat.demo:AUSA:999999"
    assert gone not in expected_ids
    with open_catalogue(settings) as catalogue:
        catalogue.records.save_source(Source(code="AUSA", name="Austen", oai_url=provider.url))
        catalogue.records.add_quarantine(
            [
                QuarantineEntry("AUSA", served, "harvest", "OAI record has no metadata", b"<record/>"),
                QuarantineEntry("AUSA", gone, "harvest", "OAI record has no metadata", b"<record/>"),
                QuarantineEntry(
                    "AUSA", served, "index", "an index-stage entry: left to `unicat index`", b"x"
                ),
            ]
        )
    process = unicat_process(settings, CONFIG, "-q", "harvest", "AUSA")
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, stderr.decode()
    with open_catalogue(settings) as catalogue:
        assert {record.local_id for record in catalogue.records.iter_source_records("AUSA")} == expected_ids
        left = {(entry.local_id, entry.stage) for entry in catalogue.records.list_quarantine("AUSA")}
        assert left == {(gone, "harvest"), (served, "index")}
