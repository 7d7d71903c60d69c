"""The demo OAI-PMH data provider, spoken to over real HTTP (aiohttp's test server on loopback)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pymarc
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from lxml import etree

from tests.support.oai_schemas import validate_oai_response
from unicat.oai_protocol import MARC_NS, OAI_IDENTIFIER_NS, OAI_NS
from unicat_cli.demo.network import load_network
from unicat_cli.demo.oai_endpoint import build_repository, make_app
from unicat_cli.demo.records import FALLBACK_DATESTAMP, Repository

OAI = f"{{{OAI_NS}}}"
MARC = f"{{{MARC_NS}}}"
Client = TestClient[web.Request, web.Application]
ClientFactory = Callable[[web.Application], Awaitable[Client]]


@pytest.fixture(scope="module")
def medi() -> Repository:
    return build_repository(next(lib for lib in load_network() if lib.code == "MEDI"))


def _medi_datestamps() -> list[datetime]:
    """Each MEDI record's 005, read with pymarc straight from the shipped files."""
    library = next(lib for lib in load_network() if lib.code == "MEDI")
    stamps = []
    for file in library.files:
        with file.open("rb") as handle:
            for record in pymarc.MARCReader(handle, force_utf8=True):
                latest = record.get("005")
                assert latest is not None
                stamps.append(datetime.strptime(latest.data[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC))
    return stamps


async def _get(client: Client, **params: str) -> etree._Element:
    response = await client.get("/oai", params=params)
    assert response.status == 200
    assert response.content_type == "text/xml"
    return etree.fromstring(await response.read())


def _error(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else error.get("code")


async def test_identify(aiohttp_client: ClientFactory, medi: Repository) -> None:
    client = await aiohttp_client(make_app(medi))
    identify = (await _get(client, verb="Identify")).find(f"{OAI}Identify")
    assert identify is not None
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}repositoryName") == "Médiathèque des Cotes"
    earliest = min(_medi_datestamps()).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert identify.findtext(f"{OAI}earliestDatestamp") == earliest


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({}, "badVerb"),
        ({"verb": "Harvest"}, "badVerb"),
        ({"verb": "ListRecords"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "oai_dc"}, "cannotDisseminateFormat"),
        ({"verb": "ListRecords", "metadataPrefix": "marcxml", "colour": "red"}, "badArgument"),
        ({"verb": "ListRecords", "metadataPrefix": "marcxml", "from": "yesterday"}, "badArgument"),
        (
            {"verb": "ListRecords", "metadataPrefix": "marcxml", "from": "2014-01-01", "until": "2013-01-01"},
            "badArgument",
        ),
        (
            {
                "verb": "ListRecords",
                "metadataPrefix": "marcxml",
                "from": "2014-01-01",
                "until": "2015-01-01T00:00:00Z",
            },
            "badArgument",
        ),
        ({"verb": "ListRecords", "metadataPrefix": "marcxml", "from": "2999-01-01"}, "noRecordsMatch"),
        ({"verb": "ListRecords", "metadataPrefix": "marcxml", "set": "x"}, "noSetHierarchy"),
        ({"verb": "ListRecords", "resumptionToken": "nonsense"}, "badResumptionToken"),
        ({"verb": "ListRecords", "resumptionToken": "100000!marcxml!!"}, "badResumptionToken"),
        (
            {"verb": "ListRecords", "resumptionToken": "1!marcxml!!", "metadataPrefix": "marcxml"},
            "badArgument",
        ),
        ({"verb": "ListSets"}, "noSetHierarchy"),
        ({"verb": "GetRecord", "metadataPrefix": "marcxml", "identifier": "oai:nowhere:1"}, "idDoesNotExist"),
        ({"verb": "ListMetadataFormats", "identifier": "oai:nowhere:1"}, "idDoesNotExist"),
    ],
)
async def test_protocol_errors(
    aiohttp_client: ClientFactory, medi: Repository, params: dict[str, str], code: str
) -> None:
    client = await aiohttp_client(make_app(medi))
    root = await _get(client, **params)
    assert _error(root) == code
    request = root.find(f"{OAI}request")
    assert request is not None
    assert (dict(request.attrib) == {}) == (code in ("badVerb", "badArgument"))


async def test_a_library_speaks_through_the_union_catalogues_provider(aiohttp_client: ClientFactory) -> None:
    """search_app/oai/ serves the library: its Identify describes the identifiers (and its sample is a
    real item), and its pages are valid against the official OAI-PMH and MARC 21 slim schemas (a MARC 21
    library: UNIMARC leaders do not fit MARC 21 slim's leader pattern)."""
    repository = build_repository(next(lib for lib in load_network() if lib.code == "AUSB"))
    client = await aiohttp_client(make_app(repository, page_size=20))
    response = await client.get("/oai", params={"verb": "Identify"})
    body = await response.read()
    validate_oai_response(body, "Identify", unvalidated=[OAI_IDENTIFIER_NS])
    described = {"i": OAI_IDENTIFIER_NS}
    root = etree.fromstring(body)
    assert root.xpath("//i:repositoryIdentifier/text()", namespaces=described) == ["unicat.demo"]
    [sample] = root.xpath("//i:sampleIdentifier/text()", namespaces=described)
    assert _error(await _get(client, verb="GetRecord", metadataPrefix="marcxml", identifier=sample)) is None
    response = await client.get("/oai", params={"verb": "ListRecords", "metadataPrefix": "marcxml"})
    page = validate_oai_response(await response.read(), "ListRecords")
    assert (page.records, page.metadata) == (20, {MARC_NS: 20})
    assert page.resumption_token is not None


async def test_repeated_argument_is_bad(aiohttp_client: ClientFactory, medi: Repository) -> None:
    client = await aiohttp_client(make_app(medi))
    response = await client.get("/oai?verb=Identify&verb=Identify")
    assert _error(etree.fromstring(await response.read())) == "badVerb"
    response = await client.get("/oai?verb=ListRecords&metadataPrefix=marcxml&metadataPrefix=marcxml")
    assert _error(etree.fromstring(await response.read())) == "badArgument"


async def test_list_records_pages_with_tokens(aiohttp_client: ClientFactory, medi: Repository) -> None:
    client = await aiohttp_client(make_app(medi, page_size=50))
    total = len(_medi_datestamps())
    seen: list[str] = []
    params = {"verb": "ListRecords", "metadataPrefix": "marcxml"}
    cursors = []
    while True:
        root = await _get(client, **params)
        seen += [el.text or "" for el in root.iter(f"{OAI}identifier")]
        assert all(meta[0].tag == f"{MARC}record" for meta in root.iter(f"{OAI}metadata"))
        token = root.find(f"{OAI}ListRecords/{OAI}resumptionToken")
        assert token is not None and token.get("completeListSize") == str(total)
        cursors.append(int(token.get("cursor", "-1")))
        if not token.text:
            break
        params = {"verb": "ListRecords", "resumptionToken": token.text}
    assert len(seen) == len(set(seen)) == total
    assert cursors == list(range(0, total, 50))


async def test_from_until_filter(aiohttp_client: ClientFactory, medi: Repository) -> None:
    client = await aiohttp_client(make_app(medi, page_size=1000))
    stamps = _medi_datestamps()
    middle = sorted(stamps)[len(stamps) // 2]
    since = middle.strftime("%Y-%m-%dT%H:%M:%SZ")
    root = await _get(client, verb="ListIdentifiers", metadataPrefix="marcxml", **{"from": since})
    assert len(root.findall(f"{OAI}ListIdentifiers/{OAI}header")) == sum(1 for s in stamps if s >= middle)
    day = middle.strftime("%Y-%m-%d")
    root = await _get(client, verb="ListIdentifiers", metadataPrefix="marcxml", until=day)
    expected = sum(1 for s in stamps if s.strftime("%Y-%m-%d") <= day)
    assert len(root.findall(f"{OAI}ListIdentifiers/{OAI}header")) == expected


async def test_get_record_post_and_deleted(aiohttp_client: ClientFactory) -> None:
    repository = build_repository(next(lib for lib in load_network() if lib.code == "AUSB"))
    client = await aiohttp_client(make_app(repository))
    identifier = "oai:unicat.demo:AUSB:1"
    response = await client.post(
        "/oai", data={"verb": "GetRecord", "metadataPrefix": "marcxml", "identifier": identifier}
    )
    root = etree.fromstring(await response.read())
    control = root.find(f".//{MARC}controlfield[@tag='001']")
    assert control is not None and control.text == "196003"
    repository.delete(identifier)
    root = await _get(client, verb="GetRecord", metadataPrefix="marcxml", identifier=identifier)
    header = root.find(f"{OAI}GetRecord/{OAI}record/{OAI}header")
    assert header is not None and header.get("status") == "deleted"
    assert root.find(f".//{OAI}metadata") is None
    formats = await _get(client, verb="ListMetadataFormats", identifier=identifier)
    assert formats.findtext(f".//{OAI}metadataPrefix") == "marcxml"


def test_records_without_005_get_the_fallback_datestamp() -> None:
    repository = build_repository(next(lib for lib in load_network() if lib.code == "VIRG"))
    first = repository.get("oai:unicat.demo:VIRG:1")
    assert first is not None and first.metadata is not None
    has_005 = b'tag="005"' in first.metadata
    assert (first.datestamp == FALLBACK_DATESTAMP) == (not has_005)
