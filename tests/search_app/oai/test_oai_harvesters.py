"""Independent harvesters and the official schemas judge the provider, on every engine.

Four third-party OAI-PMH harvesters (sickle and pyoai from PyPI, Catmandu and HTTP::OAI from Debian,
tests/support/oai_clients.py) harvest /oai and must agree with each other, header by header, and with the
catalogue; every page the provider serves, errors included, must be valid against the OAI-PMH,
oai_dc and MARC21 slim schemas (tests/support/oai_schemas.py; official copies fetched from packages).
"""

from __future__ import annotations

import pytest

from tests.search_app.oai.conftest import Catalogue
from tests.search_app.oai.oai_http import oai, pages, request
from tests.search_app.oai.test_oai_protocol import BAD_REQUESTS
from tests.support.oai_clients import HarvestRequest, assert_agree, harvest_all
from tests.support.oai_schemas import OAI_IDENTIFIER_NS, validate_oai_response, xmllint_validate

pytestmark = pytest.mark.peers


def _identifiers(catalogue: Catalogue) -> list[str]:
    """The identifiers a harvest must give, in the provider's order: every union record's, by id
    (the catalogue was indexed once, so every record has the same generation)."""
    return sorted(catalogue.identifier(record.id) for record in catalogue.index.iter_union_records())


@pytest.mark.parametrize(
    "harvest",
    [
        HarvestRequest("ListRecords", "marcxml"),
        HarvestRequest("ListRecords", "oai_dc"),
        HarvestRequest("ListIdentifiers", "oai_dc"),
    ],
    ids=lambda harvest: f"{harvest.verb}-{harvest.metadata_prefix}",
)
def test_four_harvesters_get_the_whole_catalogue_alike(catalogue: Catalogue, harvest: HarvestRequest) -> None:
    results = harvest_all(catalogue.oai, harvest)
    assert_agree(results)
    expected = _identifiers(catalogue)
    for name, result in results.items():
        assert result.identifiers == expected, name
        assert result.deleted == 0
        assert result.with_metadata == (len(expected) if harvest.verb == "ListRecords" else 0), name


def test_four_harvesters_agree_on_a_selective_harvest(catalogue: Catalogue) -> None:
    [datestamp] = set(
        oai(catalogue.oai, verb="ListIdentifiers", metadataPrefix="oai_dc").xpath("//oai:datestamp/text()")
    )
    mel = HarvestRequest("ListRecords", "marcxml", set_spec="library:mel", from_=datestamp, until=datestamp)
    results = harvest_all(catalogue.oai, mel)
    assert_agree(results)
    expected = [
        catalogue.identifier(record.id)
        for record in catalogue.index.iter_union_records()
        if "mel" in record.libraries
    ]
    assert results["sickle"].identifiers == sorted(expected)
    empty = harvest_all(catalogue.oai, HarvestRequest("ListIdentifiers", "oai_dc", until="1999-12-31"))
    assert_agree(empty)
    assert all(result.count == 0 for result in empty.values())


def test_every_response_is_valid_against_the_schemas(catalogue: Catalogue) -> None:
    identify = oai(catalogue.oai, verb="Identify")
    # The oai-identifier description's own schema is in no package this project can fetch: the
    # envelope around it is validated, and the validator reports what it let through.
    assert validate_oai_response(identify.body, "Identify", unvalidated=[OAI_IDENTIFIER_NS]).unvalidated
    validate_oai_response(oai(catalogue.oai, verb="ListSets").body, "ListSets")
    validate_oai_response(oai(catalogue.oai, verb="ListMetadataFormats").body, "ListMetadataFormats")
    checked = {"oai_dc": 0, "marcxml": 0}
    for prefix in checked:
        for number, answer in enumerate(pages(catalogue.oai, verb="ListRecords", metadataPrefix=prefix)):
            result = validate_oai_response(answer.body, f"ListRecords {prefix} page {number}")
            checked[prefix] += sum(result.metadata.values())
        [first] = answer.xpath("//oai:header/oai:identifier/text()")[:1]
        validate_oai_response(
            oai(catalogue.oai, verb="GetRecord", identifier=first, metadataPrefix=prefix).body
        )
        validate_oai_response(oai(catalogue.oai, verb="ListMetadataFormats", identifier=first).body)
    total = len(_identifiers(catalogue))
    assert checked == {"oai_dc": total, "marcxml": total}
    for answer in pages(catalogue.oai, verb="ListIdentifiers", metadataPrefix="marcxml", set="library:uva"):
        validate_oai_response(answer.body, "ListIdentifiers")
    for pairs, code in BAD_REQUESTS:
        assert validate_oai_response(request(catalogue.oai, pairs).body, str(pairs)).errors == (code,)
    # libxml2's own validator gives the same verdict on a page of MARC records.
    page = oai(catalogue.oai, verb="ListRecords", metadataPrefix="marcxml", set="library:mel")
    verdict = xmllint_validate(page.body)
    assert verdict.valid, verdict
