"""The OpenAPI description of the account pages and ``/api/me`` (kept beside them;
:mod:`search_app.openapi` lists them), and the security schemes every change refers to."""

from __future__ import annotations

from typing import Any

from search_app.auth import CSRF_FIELD, CSRF_HEADER, SESSION_COOKIE

SECURITY_SCHEMES: dict[str, Any] = {
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": SESSION_COOKIE,
        "description": "The session a sign-in (`POST /signin`) sets: HttpOnly, Secure, SameSite=Lax.",
    },
    "csrf": {
        "type": "apiKey",
        "in": "header",
        "name": CSRF_HEADER,
        "description": f"Every POST needs the page's CSRF token, as this header or the form field "
        f"`{CSRF_FIELD}`: `GET /api/me` gives it. Without it (or with a wrong one) the answer is 403.",
    },
}
SIGNED_IN: list[dict[str, list[str]]] = [{"session": [], "csrf": []}]
CHANGE: list[dict[str, list[str]]] = [{"csrf": []}]


def html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def form(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """A form body; every form also carries ``csrf`` (the security requirement says so)."""
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": schema}}}


SEE_OTHER = {"description": "Done: `Location` is the page to go to next."}
FORBIDDEN = html("No CSRF token (or a wrong one), or the account may not do this.")
TOO_MANY = html("Too many attempts from this account or address; `Retry-After` says when to try again.")
_TEXT = {"type": "string"}
_PASSWORD = {"type": "string", "format": "password", "minLength": 10, "maxLength": 256}


def account_paths() -> dict[str, Any]:
    return {
        "/register": {
            "get": {
                "operationId": "registerPage",
                "summary": "Registration form (HTML)",
                "responses": {"200": html("The form.")},
            },
            "post": {
                "operationId": "register",
                "summary": "Create a reader's account and sign in",
                "security": CHANGE,
                "requestBody": form(
                    ["email", "display_name", "password", "password_again"],
                    {
                        "email": {"type": "string", "format": "email"},
                        "display_name": {"type": "string", "maxLength": 80},
                        "password": _PASSWORD,
                        "password_again": _PASSWORD,
                        "next": _TEXT,
                    },
                ),
                "responses": {
                    "303": SEE_OTHER,
                    "400": html("A field is invalid; the form says which."),
                    "403": FORBIDDEN,
                    "429": TOO_MANY,
                },
            },
        },
        "/signin": {
            "get": {
                "operationId": "signInPage",
                "summary": "Sign-in form (HTML)",
                "parameters": [
                    {
                        "name": "next",
                        "in": "query",
                        "description": "Path of this site to go to afterwards.",
                        "schema": _TEXT,
                    }
                ],
                "responses": {"200": html("The form.")},
            },
            "post": {
                "operationId": "signIn",
                "summary": "Sign in: sets the session cookie",
                "security": CHANGE,
                "requestBody": form(
                    ["email", "password"], {"email": _TEXT, "password": _TEXT, "next": _TEXT}
                ),
                "responses": {
                    "303": SEE_OTHER,
                    "400": html("Wrong address or password."),
                    "403": FORBIDDEN,
                    "429": TOO_MANY,
                },
            },
        },
        "/signout": {
            "post": {
                "operationId": "signOut",
                "summary": "Sign out: forgets this session",
                "security": SIGNED_IN,
                "responses": {"303": SEE_OTHER, "403": FORBIDDEN},
            }
        },
        "/account": {
            "get": {
                "operationId": "accountPage",
                "summary": "One's own account, with the forms to change it (HTML)",
                "security": [{"session": []}],
                "responses": {"200": html("The page."), "303": SEE_OTHER},
            }
        },
        "/account/password": {
            "post": {
                "operationId": "changePassword",
                "summary": "Change one's password; signs out every other session",
                "security": SIGNED_IN,
                "requestBody": form(
                    ["current", "password", "password_again"],
                    {"current": _TEXT, "password": _PASSWORD, "password_again": _PASSWORD},
                ),
                "responses": {
                    "303": SEE_OTHER,
                    "400": html("A field is invalid."),
                    "403": FORBIDDEN,
                    "429": TOO_MANY,
                },
            }
        },
        "/account/name": {
            "post": {
                "operationId": "changeDisplayName",
                "summary": "Change the name shown beside one's comments",
                "security": SIGNED_IN,
                "requestBody": form(["display_name"], {"display_name": {"type": "string", "maxLength": 80}}),
                "responses": {"303": SEE_OTHER, "400": html("The name is invalid."), "403": FORBIDDEN},
            }
        },
        "/api/me": {
            "get": {
                "operationId": "whoAmI",
                "summary": "The signed-in account (null if none) and the CSRF token changes must send",
                "responses": {
                    "200": {
                        "description": "`user` and `csrf`.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["user", "csrf"],
                                    "properties": {
                                        "user": {
                                            "oneOf": [
                                                {"type": "null"},
                                                {"$ref": "#/components/schemas/Account"},
                                            ]
                                        },
                                        "csrf": _TEXT,
                                    },
                                }
                            }
                        },
                    }
                },
            }
        },
    }


ACCOUNT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "email", "display_name", "role"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"enum": ["patron", "librarian", "admin"]},
        "library": {"type": ["string", "null"]},
        "created": {"type": ["string", "null"]},
    },
}
