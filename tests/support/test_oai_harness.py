"""The OAI-PMH test harness proved on a provider someone else wrote, before it judges Unicat's own.

tests/support/oai_clients.py (four third-party harvesters) and tests/support/oai_schemas.py (the official
schemas) will judge Unicat's ``/oai``; here they judge Dancer::Plugin::Catmandu::OAI
(tests/support/catmandu_oai.py) serving the 40 MARC 21 records of ``marc21/065001035.mrc``, two of them
deleted, 7 a page. The four clients must agree with each other and with the file; every page must be valid,
metadata included; lxml and xmllint must give one verdict; and the validator's verdicts on the shared sample
responses are pinned, so a validator that stopped seeing errors (or started inventing them) fails here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from pymarc import MARCReader

from tests.support.catmandu_oai import IDENTIFIER_PREFIX, CatmanduOAIError, CatmanduProvider, running_provider
from tests.support.oai_clients import (
    CLIENTS,
    HarvestError,
    HarvestRequest,
    HarvestResult,
    Verb,
    assert_agree,
    fetch_raw,
    harvest_all,
)
from tests.support.oai_schemas import OAI_IDENTIFIER_NS, validate_oai_response, xmllint_validate
from tests.support.schemas_fetch import MARC_NS
from tests.support.shared_data import SHARED_DATA

pytestmark = pytest.mark.peers

DATA_FILE = SHARED_DATA / "marc21/065001035.mrc"
RECORDS = 40
PAGE_SIZE = 7
PAGES = math.ceil(RECORDS / PAGE_SIZE)
DELETED_AT = (3, 17)
"""Positions in the file of the records the fixture marks deleted."""


@dataclass(frozen=True)
class Served:
    """The running provider and what the fixture did to it."""

    provider: CatmanduProvider
    deleted_ids: tuple[str, ...]
    deleted_since: str
    """The datestamp of the first deletion: a ``from`` that selects only the deleted records."""


@pytest.fixture(scope="module")
def served(elasticsearch_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The provider, with two records marked deleted (persistent deletes, new datestamps)."""
    with DATA_FILE.open("rb") as handle:
        numbers = [str(record["001"].data) for record in MARCReader(handle) if record is not None]
    failure = None
    try:
        with running_provider(
            elasticsearch_url, DATA_FILE, tmp_path_factory.mktemp("catmandu-oai"), page_size=PAGE_SIZE
        ) as provider:
            stamps = [provider.mark_deleted(numbers[index]) for index in DELETED_AT]
            ids = tuple(f"{IDENTIFIER_PREFIX}{numbers[index]}" for index in DELETED_AT)
            yield Served(provider, ids, min(stamps))
    except CatmanduOAIError as exc:
        failure = str(exc)
    if failure is not None:
        pytest.fail(failure, pytrace=False)


def _harvest(served: Served, request: HarvestRequest) -> dict[str, HarvestResult]:
    results = harvest_all(served.provider.oai_url, request)
    assert_agree(results)
    return results


@pytest.mark.parametrize("verb", ["ListRecords", "ListIdentifiers"])
def test_full_harvest_is_the_same_for_all_four_clients(served: Served, verb: Verb) -> None:
    request = HarvestRequest(verb=verb, metadata_prefix="marcxml")
    results = _harvest(served, request)

    assert set(results) == set(CLIENTS)
    for name, result in results.items():
        assert result.count == RECORDS, name
        assert len(set(result.identifiers)) == RECORDS, name
        assert {h.identifier for h in result.headers if h.deleted} == set(served.deleted_ids), name
        # persistent deletes: a deleted record keeps its header and loses its metadata
        assert result.with_metadata == (RECORDS - len(DELETED_AT) if verb == "ListRecords" else 0), name
        assert result.requests in (None, PAGES), name


def test_from_and_until_select_alike_in_all_four_clients(served: Served) -> None:
    since = _harvest(served, HarvestRequest(metadata_prefix="marcxml", from_=served.deleted_since))
    before = _harvest(served, HarvestRequest(metadata_prefix="marcxml", until="2025-01-01T00:00:00Z"))

    for name in CLIENTS:
        assert sorted(since[name].identifiers) == sorted(served.deleted_ids), name
        assert since[name].deleted == len(DELETED_AT) and since[name].with_metadata == 0, name
        assert before[name].count == RECORDS - len(DELETED_AT) and before[name].deleted == 0, name


def test_no_records_match_is_an_empty_harvest_for_every_client(served: Served) -> None:
    results = _harvest(served, HarvestRequest(metadata_prefix="marcxml", until="1971-01-01T00:00:00Z"))

    assert all(result.count == 0 for result in results.values())
    # Catmandu cannot tell an empty list from noRecordsMatch; the other three say which it was.
    assert {name: result.empty_reason for name, result in results.items()} == {
        "sickle": "noRecordsMatch",
        "pyoai": "noRecordsMatch",
        "catmandu": None,
        "http-oai": "noRecordsMatch",
    }


@pytest.mark.parametrize("client", list(CLIENTS))
def test_a_client_error_surfaces_with_the_clients_own_message(served: Served, client: str) -> None:
    with pytest.raises(HarvestError) as caught:
        CLIENTS[client](served.provider.oai_url, HarvestRequest(metadata_prefix="nosuchformat"))

    assert caught.value.client == client
    assert "cannotdisseminateformat" in caught.value.message.lower(), caught.value.message


def test_every_page_of_the_provider_is_valid_metadata_included(served: Served) -> None:
    url = served.provider.oai_url
    marc_records = 0
    arguments = {"verb": "ListRecords", "metadataPrefix": "marcxml"}
    for page in range(1, PAGES + 2):
        assert page <= PAGES, "more pages than records allow"
        response = fetch_raw(url, arguments)
        assert response.status == 200 and "xml" in response.content_type
        validated = validate_oai_response(response.body, f"ListRecords page {page}")
        marc_records += validated.metadata.get(MARC_NS, 0)
        if validated.resumption_token is None:
            break
        arguments = {"verb": "ListRecords", "resumptionToken": validated.resumption_token}
    assert marc_records == RECORDS - len(DELETED_AT)

    identify = validate_oai_response(
        fetch_raw(url, {"verb": "Identify"}).body, "Identify", unvalidated=[OAI_IDENTIFIER_NS]
    )
    assert identify.verb == "Identify" and len(identify.unvalidated) == 1
    assert validate_oai_response(fetch_raw(url, {"verb": "ListMetadataFormats"}).body).verb == (
        "ListMetadataFormats"
    )
    assert validate_oai_response(fetch_raw(url, {"verb": "Nonsense"}).body).errors == ("badVerb",)


def test_post_is_answered_as_get(served: Served) -> None:
    arguments = {"verb": "ListIdentifiers", "metadataPrefix": "marcxml"}
    get = fetch_raw(served.provider.oai_url, arguments)
    post = fetch_raw(served.provider.oai_url, arguments, method="POST")

    def comparable(body: bytes) -> list[bytes]:
        # The plugin's tokens encode a Perl hash, whose key order changes from request to request.
        lines = [line for line in body.splitlines() if b"<responseDate>" not in line]
        return [re.sub(rb">[^<]*</resumptionToken>", b"></resumptionToken>", line) for line in lines]

    assert (get.status, post.status) == (200, 200)
    assert comparable(get.body) == comparable(post.body)


def test_lxml_and_xmllint_agree_on_a_provider_page_and_a_broken_sample(served: Served) -> None:
    page = fetch_raw(served.provider.oai_url, {"verb": "ListRecords", "metadataPrefix": "marcxml"}).body
    broken = (SHARED_DATA / "oai/sickle-samples/ListRecords4.xml").read_bytes()

    validate_oai_response(page)
    assert xmllint_validate(page).valid
    with pytest.raises(AssertionError, match="Missing child element"):
        validate_oai_response(broken)
    verdict = xmllint_validate(broken)
    assert not verdict.valid and "Missing child element" in verdict.output


# -- the validator's verdicts on the shared captured responses ----------------------------------------

SAMPLES = SHARED_DATA / "oai"
INVALID_SAMPLES = {
    # the oai-identifier description's schema is in no registry package (see tests/support/schemas_fetch.py)
    "sickle-samples/Identify.xml": "No matching global element declaration",
    # stray text "(?s)" after dc:source
    "sickle-samples/ListRecords.xml": "Character content other than whitespace",
    "sickle-samples/ListRecords2.xml": "Character content other than whitespace",
    "sickle-samples/ListRecords3.xml": "Character content other than whitespace",
    # a header without identifier
    "sickle-samples/ListRecords4.xml": "Missing child element(s). Expected is ( {http://www.openarchives",
    "sickle-samples/ListRecordsBroken.xml": "not well-formed",
    # until="2002-06-01T03:020:00Z" in <request>
    "sickle-samples/badArgument.xml": "is not a valid value of the union type",
    "sickle-samples/undefinedError.xml": "The value 'undefinedError' is not an element of the set",
}
SAMPLE_FILES = sorted(str(path.relative_to(SAMPLES)) for path in SAMPLES.rglob("*.xml"))


@pytest.mark.parametrize("name", SAMPLE_FILES)
def test_shared_sample_verdicts_are_pinned_and_xmllint_agrees(name: str) -> None:
    """Valid samples validate; each invalid one fails for its known defect, never by accident."""
    body = (SAMPLES / name).read_bytes()
    expected = INVALID_SAMPLES.get(name)
    error = None
    try:
        validate_oai_response(body, name)
    except AssertionError as exc:
        error = str(exc)
    if expected is None:
        assert error is None
    else:
        assert error is not None and expected in error, error
    assert xmllint_validate(body).valid == (expected is None)
