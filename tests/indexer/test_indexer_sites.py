"""Each copy resolved to the directory's library that keeps it, as ``run_index`` builds union records."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import run_index
from tests.indexer.indexer_testdata import iso2709_records
from unicat.libraries import Library, LibraryDirectory
from unicat.model import Source, SourceRecord
from unicat.settings import Settings
from unicat_cli.wiring import open_catalogue

# Every 995 of cotes8.mrc carries $b 751072303 (the branch code of the holdings); brkrtest.mrc's
# records carry no holdings field, so each has one implicit holding without a branch.
SCIENCES_PO = Library("SCPO-STG", "Bibliothèque de Sciences Po", source="MEDI", branches=("751072303",))
OTHER_BRANCH = Library("MEDI-X", "Another branch", source="MEDI", branches=("000000000",))
BRK_MAIN = Library("BRK-MAIN", "Test library", source="BRK")


@pytest.mark.parametrize("workers", [1, 2])
def test_holdings_get_the_site_of_their_source_and_branch(tmp_path: Path, workers: int) -> None:
    with open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}")) as catalogue:
        for source, path in (
            (Source("MEDI", "Médiathèque", profile="unimarc"), "unimarc/cotes8.mrc"),
            (Source("BRK", "Test library"), "marc21/brkrtest.mrc"),
            (Source("NONE", "Not in the directory"), "marc21/brkrtest.mrc"),
        ):
            catalogue.records.save_source(source)
            records = [
                SourceRecord(source.code, f"{source.code}{n}", raw, "iso2709", "2024-01-01T00:00:00Z")
                for n, raw in enumerate(iso2709_records(path))
            ]
            catalogue.records.store_page(source.code, records, None)
        catalogue.libraries.put_libraries([SCIENCES_PO, OTHER_BRANCH, BRK_MAIN])

        run_index(
            catalogue.records,
            catalogue.index,
            workers=workers,
            parallel_from=1,
            directory=catalogue.libraries.directory(),
        )

        sites: dict[str, set[str | None]] = {}
        for record in catalogue.index.iter_union_records():
            for holding in record.holdings:
                sites.setdefault(holding.library, set()).add(holding.site)
        assert sites == {"MEDI": {"SCPO-STG"}, "BRK": {"BRK-MAIN"}, "NONE": {None}}


def test_without_a_directory_no_holding_has_a_site(tmp_path: Path) -> None:
    with open_catalogue(Settings(engine_url=f"sqlite:///{tmp_path / 'unicat.db'}")) as catalogue:
        catalogue.records.save_source(Source("MEDI", "Médiathèque", profile="unimarc"))
        raw = iso2709_records("unimarc/cotes8.mrc")[0]
        catalogue.records.store_page("MEDI", [SourceRecord("MEDI", "m0", raw, "iso2709", "2024-01-01")], None)

        run_index(catalogue.records, catalogue.index, workers=1, directory=LibraryDirectory())

        [record] = catalogue.index.iter_union_records()
        assert [holding.site for holding in record.holdings] == [None] * len(record.holdings)
        assert record.holdings
