"""A search is stemmed for the reader's interface language as well as the network's: on a network that
stems in English only, a French reader's "chevaux" finds *Le cheval de Troie* (Snowball's French stemmer
takes "chevaux" to "cheval"; the English one leaves it as it is), an English reader's does not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from search_app.app import make_app
from tests.conftest import build_union_record
from tests.search_app.search_app_catalogue import Client, ClientFactory, catalogue_settings
from unicat.catalogue import Catalogue
from unicat.settings import Settings
from unicat.union_generation import write_union_generation
from unicat_cli.wiring import open_catalogue


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return catalogue_settings(tmp_path, network_languages=("en",))


@pytest.fixture
def catalogue(settings: Settings) -> Iterator[Catalogue]:
    with open_catalogue(settings) as opened:
        record = build_union_record("troie", "Le cheval de Troie", language="fre", libraries=["BNF"])
        write_union_generation(opened.records, opened.index, [record], {})
        yield opened


@pytest.fixture
async def client(
    catalogue: Catalogue, settings: Settings, aiohttp_client: ClientFactory
) -> AsyncIterator[Client]:
    yield await aiohttp_client(make_app(catalogue, settings))


async def total(client: Client, path: str, **headers: str) -> int:
    response = await client.get(path, headers=headers)
    assert response.status == 200, await response.text()
    return int((await response.json())["total"])


async def test_the_readers_language_adds_its_stems(client: Client) -> None:
    assert await total(client, "/api/search?q=chevaux&lang=en") == 0
    assert await total(client, "/api/search?q=chevaux&lang=fr") == 1
    assert await total(client, "/api/search?q=chevaux", **{"Accept-Language": "fr-BE,fr;q=0.9"}) == 1
    # The word as written needs no stemmer.
    assert await total(client, "/api/search?q=cheval&lang=en") == 1
