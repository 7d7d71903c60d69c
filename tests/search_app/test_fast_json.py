"""JSON answers written by orjson (search_app/fast_json.py): the same JSON values as the standard
library's, the same content type, and what orjson refuses still answered."""

from __future__ import annotations

import json

from search_app.fast_json import dumps, json_response

BODY = {"total": 2, "hits": [{"id": "u1", "title": "Élisabeth, reine d’Angleterre", "year": 1953}], "x": None}


def test_the_json_read_back_is_the_body() -> None:
    assert json.loads(dumps(BODY)) == BODY


def test_a_lone_surrogate_orjson_refuses_is_written_as_the_standard_library_writes_it() -> None:
    body = {"notices": ["odd \ud800 text"]}
    assert dumps(body) == b'{"notices": ["odd \\ud800 text"]}'


def test_the_response_says_json_in_utf_8() -> None:
    response = json_response(BODY, status=201)
    assert response.status == 201
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert response.body is not None and json.loads(bytes(response.body)) == BODY  # type: ignore[arg-type]
