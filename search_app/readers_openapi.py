"""The OpenAPI description of readers' comments, ratings and tags, and of the moderation desk (kept
beside them; :mod:`search_app.openapi` lists them)."""

from __future__ import annotations

from typing import Any

from search_app.account_openapi import FORBIDDEN, SEE_OTHER, SIGNED_IN, TOO_MANY, form, html
from unicat.readers import MAX_COMMENT, MAX_REASON, MODERATION_VERBS

_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "A union record id.",
    "schema": {"type": "string"},
}
_COMMENT = {
    "name": "comment",
    "in": "path",
    "required": True,
    "description": "A comment's number.",
    "schema": {"type": "integer"},
}
_BODY = {"type": "string", "minLength": 1, "maxLength": MAX_COMMENT}
_NOT_FOUND = html("No such record or comment.")
_BAD = html("A field is invalid; the page says which.")


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _change(
    operation: str,
    summary: str,
    body: dict[str, Any] | None,
    parameters: list[dict[str, Any]],
    **responses: Any,
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "operationId": operation,
        "summary": summary,
        "security": SIGNED_IN,
        "parameters": parameters,
        "responses": {"303": SEE_OTHER, "400": _BAD, "403": FORBIDDEN, "404": _NOT_FOUND, **responses},
    }
    if body is not None:
        change["requestBody"] = body
    return change


COMMENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "record", "user_id", "author", "body", "created", "hidden"],
    "properties": {
        "id": {"type": "integer"},
        "record": {
            "type": "string",
            "description": "The union id it was written on (a merged record's comments keep theirs).",
        },
        "user_id": {"type": "integer"},
        "author": {"type": "string", "description": "The author's display name."},
        "body": {"type": "string", "description": "Plain text."},
        "created": {"type": "string", "format": "date-time"},
        "edited": {"type": ["string", "null"], "format": "date-time"},
        "hidden": {
            "type": "boolean",
            "description": "Hidden by a librarian (only its author and librarians see it).",
        },
        "hidden_reason": {"type": ["string", "null"]},
    },
}
_RATING = {
    "oneOf": [
        {"type": "null"},
        {"type": "object", "properties": {"count": {"type": "integer"}, "average": {"type": "number"}}},
    ]
}


def reader_paths() -> dict[str, Any]:
    return {
        "/record/{id}/comments": {
            "post": _change(
                "postComment",
                "Comment on a record (form); 303 to the comment",
                form(["body"], {"body": _BODY}),
                [_ID],
                **{"429": TOO_MANY},
            )
        },
        "/record/{id}/rating": {
            "post": _change(
                "rateRecord",
                "Rate a record 1–5 stars, or take one's rating back (stars empty)",
                form(["stars"], {"stars": {"type": "string", "enum": ["1", "2", "3", "4", "5", ""]}}),
                [_ID],
            )
        },
        "/record/{id}/tags": {
            "post": _change(
                "tagRecord",
                "Tag a record (several tags separated by commas)",
                form(["tags"], {"tags": {"type": "string"}}),
                [_ID],
            )
        },
        "/record/{id}/tags/remove": {
            "post": _change(
                "untagRecord",
                "Remove one of one's tags from a record",
                form(["tag"], {"tag": {"type": "string", "maxLength": 40}}),
                [_ID],
            )
        },
        "/comments/{comment}/edit": {
            "post": _change(
                "editComment", "Change one's own comment", form(["body"], {"body": _BODY}), [_COMMENT]
            )
        },
        "/comments/{comment}/delete": {
            "post": _change("deleteComment", "Delete one's own comment", None, [_COMMENT])
        },
        "/comments/{comment}/report": {
            "post": _change(
                "reportComment",
                "Report someone else's comment to the librarians",
                form([], {"reason": {"type": "string", "maxLength": MAX_REASON}}),
                [_COMMENT],
                **{"429": TOO_MANY},
            )
        },
        "/api/records/{id}/comments": {
            "get": {
                "operationId": "getRecordReaders",
                "summary": "A record's comments (newest first, as the caller may see them), rating and tags",
                "parameters": [_ID],
                "responses": {
                    "200": _json(
                        {
                            "type": "object",
                            "properties": {
                                "record": {"type": "string"},
                                "comments": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Comment"},
                                },
                                "rating": _RATING,
                                "my_rating": {"type": ["integer", "null"]},
                                "tags": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "tag": {"type": "string"},
                                            "readers": {"type": "integer"},
                                        },
                                    },
                                },
                                "my_tags": {"type": "array", "items": {"type": "string"}},
                            },
                        },
                        "What readers added to the record and to the records merged into it.",
                    ),
                    "301": {
                        "description": "The record was merged into another; `Location` gives its address."
                    },
                    "404": _json({"$ref": "#/components/schemas/Error"}, "No such record."),
                },
            },
            "post": {
                "operationId": "postCommentJson",
                "summary": "Comment on a record",
                "security": SIGNED_IN,
                "parameters": [_ID],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"type": "object", "required": ["body"], "properties": {"body": _BODY}}
                        }
                    },
                },
                "responses": {
                    "201": _json(
                        {"$ref": "#/components/schemas/Comment"},
                        "The stored comment; `Location` is its place on the record page.",
                    ),
                    "400": _json(
                        {"$ref": "#/components/schemas/Error"}, "The body is missing, empty or too long."
                    ),
                    "403": _json({"$ref": "#/components/schemas/Error"}, "Not signed in, or no CSRF token."),
                    "404": _json({"$ref": "#/components/schemas/Error"}, "No such record."),
                    "429": _json(
                        {"$ref": "#/components/schemas/Error"}, "Too many comments; `Retry-After` says when."
                    ),
                },
            },
        },
        "/tags": {
            "get": {
                "operationId": "tagsPage",
                "summary": "Every tag readers use (HTML)",
                "responses": {"200": html("The page.")},
            }
        },
        "/api/tags": {
            "get": {
                "operationId": "listTags",
                "summary": "The tags readers use, most used first, with how many records carry each",
                "responses": {
                    "200": _json(
                        {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "properties": {"tag": {"type": "string"}, "records": {"type": "integer"}},
                            },
                        },
                        "The tags.",
                    )
                },
            }
        },
        "/librarians/moderation": {
            "get": {
                "operationId": "moderationPage",
                "summary": "Librarians' page: reported comments, hidden ones and the moderation log (HTML)",
                "security": [{"session": []}],
                "responses": {"200": html("The page."), "303": SEE_OTHER, "403": FORBIDDEN},
            },
            "post": {
                "operationId": "moderateComment",
                "summary": "Hide a comment, restore it, or dismiss its reports (logged; closes its reports)",
                "security": SIGNED_IN,
                "requestBody": form(
                    ["comment", "verb"],
                    {
                        "comment": {"type": "integer"},
                        "verb": {"enum": list(MODERATION_VERBS)},
                        "reason": {
                            "type": "string",
                            "maxLength": MAX_REASON,
                            "description": "Required to hide or restore.",
                        },
                    },
                ),
                "responses": {"303": SEE_OTHER, "400": _BAD, "403": FORBIDDEN, "404": _NOT_FOUND},
            },
        },
        "/api/moderation": {
            "get": {
                "operationId": "getModeration",
                "summary": "The moderation queue, hidden comments and log (librarians only)",
                "security": [{"session": []}],
                "responses": {
                    "200": _json({"type": "object"}, "`queue`, `hidden`, `log`."),
                    "403": _json({"$ref": "#/components/schemas/Error"}, "Not a librarian."),
                },
            }
        },
    }
