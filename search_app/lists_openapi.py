"""The OpenAPI description of readers' reading lists (search_app/reading_lists.py), kept beside them;
:mod:`search_app.openapi` lists them."""

from __future__ import annotations

from typing import Any

from search_app.account_openapi import FORBIDDEN, SEE_OTHER, SIGNED_IN, TOO_MANY, form, html
from unicat.citations import BIBTEX_MEDIA_TYPE, EXPORT_KINDS, MARCXML_MEDIA_TYPE, RIS_MEDIA_TYPE
from unicat.readers import MAX_LIST_DESCRIPTION, MAX_LIST_NAME

_ERROR = {"$ref": "#/components/schemas/Error"}
_TEXT = {"type": "string"}
_LIST_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "The list's number, as in its permalink `/lists/{id}`.",
    "schema": {"type": "integer", "minimum": 1},
}
_RECORD = {
    "type": "string",
    "maxLength": 200,
    "description": "A union id (one merged away is taken as the record it now lives in).",
}
_LIST_FIELDS = {
    "name": {"type": "string", "minLength": 1, "maxLength": MAX_LIST_NAME},
    "description": {"type": "string", "maxLength": MAX_LIST_DESCRIPTION},
    "public": {"type": "string", "enum": ["1"], "description": "Checked: anyone may read the list."},
}
_NO_LIST = html("There is no list with this number.")
_NOT_YOURS = html("No CSRF token, not signed in, or the list is another reader's.")
_PRIVATE_PAGE = html("The list is private and not the viewer's (the page offers to sign in).")
_LIST_JSON: dict[str, Any] = {
    "type": "object",
    "required": ["list", "entries"],
    "properties": {
        "list": {
            "type": "object",
            "required": ["id", "name", "description", "public", "owner", "created", "updated", "url"],
            "properties": {
                "id": {"type": "integer"},
                "user_id": {"type": "integer"},
                "name": _TEXT,
                "description": _TEXT,
                "public": {"type": "boolean"},
                "owner": {"type": "string", "description": "The owner's display name."},
                "created": _TEXT,
                "updated": _TEXT,
                "url": {"type": "string", "description": "The list's permalink (a path)."},
                "entry_count": {"type": "integer"},
            },
        },
        "entries": {
            "type": "array",
            "description": "Newest additions first; a record merged away shows once, as the record it "
            "now lives in.",
            "items": {
                "type": "object",
                "required": ["record", "added_as", "added", "in_catalogue", "title"],
                "properties": {
                    "record": {"type": "string", "description": "The union id the record lives under now."},
                    "added_as": {"type": "string", "description": "The union id it was added as."},
                    "added": _TEXT,
                    "in_catalogue": {
                        "type": "boolean",
                        "description": "False when the record is no longer in the catalogue.",
                    },
                    "title": {"type": ["string", "null"]},
                    "authors": {"type": "array", "items": _TEXT},
                    "year": {"type": ["integer", "null"]},
                    "libraries": {"type": "array", "items": _TEXT},
                    "url": {"type": ["string", "null"], "description": "The record's page (a path)."},
                },
            },
        },
    },
}
_FILE = {"schema": {"type": "string", "format": "binary"}}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _owner_change(operation_id: str, summary: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": [_LIST_ID],
        "responses": {"303": SEE_OTHER, "403": _NOT_YOURS, "404": _NO_LIST},
    }
    if body is not None:
        operation["requestBody"] = body
        operation["responses"]["400"] = html("A field is invalid; the page says which.")
    return operation


def lists_paths() -> dict[str, Any]:
    return {
        "/lists": {
            "get": {
                "operationId": "readingListsPage",
                "summary": "The signed-in reader's reading lists, and the form to make one (HTML)",
                "security": [{"session": []}],
                "parameters": [
                    {
                        "name": "record",
                        "in": "query",
                        "description": "A union id the new list's form will put on the list.",
                        "schema": _RECORD,
                    }
                ],
                "responses": {"200": html("The page."), "303": html("Not signed in: to the sign-in page.")},
            },
            "post": {
                "operationId": "createReadingList",
                "summary": "Make a reading list (and put `record` on it, if given); 303 to the list",
                "security": SIGNED_IN,
                "requestBody": form(["name"], {**_LIST_FIELDS, "record": _RECORD}),
                "responses": {
                    "303": SEE_OTHER,
                    "400": html("A field is invalid; the form is shown again with what was wrong."),
                    "403": FORBIDDEN,
                    "404": html("There is no record `record` in the catalogue."),
                    "429": TOO_MANY,
                },
            },
        },
        "/lists/entries": {
            "post": {
                "operationId": "addToChosenReadingList",
                "summary": "Put a record on one of one's lists, chosen in the form (the record page's form)",
                "security": SIGNED_IN,
                "requestBody": form(["list", "record"], {"list": {"type": "integer"}, "record": _RECORD}),
                "responses": {
                    "303": SEE_OTHER,
                    "400": html("A field is missing, or the list is full."),
                    "403": _NOT_YOURS,
                    "404": html("No such list, or no such record."),
                },
            }
        },
        "/lists/{id}": {
            "get": {
                "operationId": "readingListPage",
                "summary": "A reading list's permalink: public for anyone, private for its owner (HTML)",
                "parameters": [_LIST_ID],
                "responses": {"200": html("The list."), "403": _PRIVATE_PAGE, "404": _NO_LIST},
            },
            "post": _owner_change(
                "updateReadingList",
                "Rename the list, describe it, make it public or private (owner only)",
                form(["name"], _LIST_FIELDS),
            ),
        },
        "/lists/{id}/delete": {
            "post": _owner_change("deleteReadingList", "Delete the list and its entries (owner only)")
        },
        "/lists/{id}/entries": {
            "post": _owner_change(
                "addToReadingList",
                "Put a record on the list (owner only; at most 5,000 records)",
                form(["record"], {"record": _RECORD}),
            )
        },
        "/lists/{id}/entries/remove": {
            "post": _owner_change(
                "removeFromReadingList",
                "Take a record off the list, under whichever id it was added (owner only)",
                form(["record"], {"record": _RECORD}),
            )
        },
        "/lists/{id}/export": {
            "get": {
                "operationId": "exportReadingList",
                "summary": "The list's records as a file for reference managers (access as the permalink)",
                "parameters": [
                    _LIST_ID,
                    {
                        "name": "format",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string", "enum": list(EXPORT_KINDS)},
                    },
                ],
                "responses": {
                    "200": {
                        "description": "The file, as an attachment: `Content-Disposition: attachment; "
                        'filename="<list-name>.<ris|bib|xml>"`. Records no longer in the catalogue are '
                        "left out.",
                        "content": {
                            RIS_MEDIA_TYPE: _FILE,
                            BIBTEX_MEDIA_TYPE.split(";")[0]: _FILE,
                            MARCXML_MEDIA_TYPE: _FILE,
                        },
                    },
                    "400": html("`format` is missing or not one of the formats."),
                    "403": html("The list is private and not the viewer's."),
                    "404": _NO_LIST,
                },
            }
        },
        "/api/lists/{id}": {
            "get": {
                "operationId": "getReadingList",
                "summary": "A reading list and its entries as JSON (same access as the permalink)",
                "parameters": [_LIST_ID],
                "responses": {
                    "200": _json(_LIST_JSON, "The list."),
                    "403": _json(_ERROR, "The list is private and not the viewer's."),
                    "404": _json(_ERROR, "There is no list with this number."),
                },
            }
        },
    }
