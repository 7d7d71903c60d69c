"""The live peers the federated search's tests talk to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.yaz_ztest import ZtestServer, running_ztest
from tests.support.zebra import ZebraServer, running_zebra


@pytest.fixture(scope="module")
def ztest(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZtestServer]:
    """yaz-ztest on a free loopback port, for the tests of one module."""
    with running_ztest(Path(tmp_path_factory.mktemp("ztest"))) as server:
        yield server


@pytest.fixture(scope="module")
def zebra(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ZebraServer]:
    """Zebra loaded with the shared MARC 21 and UNIMARC records (tests/support/zebra.py), for one module."""
    with running_zebra(Path(tmp_path_factory.mktemp("zebra"))) as server:
        yield server
