"""The OpenAPI 3.1 description of the HTTP interface, so API users can generate clients and check calls.

The document is data, ``search_app/openapi.yaml``, read once. Two of its values depend on the server's
settings (the page sizes it accepts); they are filled in here so the document always says what this
server accepts.
"""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path
from typing import Any

import yaml

from unicat.settings import Settings

DOCUMENT_FILE = Path(__file__).resolve().parent / "openapi.yaml"


@functools.cache
def _written_document() -> dict[str, Any]:
    """The document as written in the package, parsed on first use; callers fill a copy of it."""
    document = yaml.safe_load(DOCUMENT_FILE.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or "paths" not in document:
        raise ValueError(f"{DOCUMENT_FILE} is not an OpenAPI document: reinstall Unicat")
    return document


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every route of the app, with this server's page sizes."""
    document = copy.deepcopy(_written_document())
    parameters = document["components"]["parameters"]
    page_size = parameters["search.page_size"]["schema"]
    page_size["maximum"] = settings.max_page_size
    page_size["default"] = settings.page_size
    records = parameters["sru.maximumRecords"]
    records["description"] = records["description"].format(max_page_size=settings.max_page_size)
    records["schema"]["default"] = settings.page_size
    return document


@functools.lru_cache(maxsize=8)
def openapi_json(settings: Settings) -> bytes:
    """:func:`openapi_document` as served, encoded once per settings (a server has one)."""
    return json.dumps(openapi_document(settings), ensure_ascii=False).encode()
