"""The security headers on every answer: pages, JSON, XML, files, redirects and errors alike.

The pages load only the app's own stylesheet, icon and script file (suggestions as you type, which
asks the app's own JSON API), so the policy allows exactly that: whatever markup might slip into a
page could neither run inline script nor load anything from elsewhere, send a form to another site
or rewrite the page's base address, and no other site may frame a page (clickjacking). Forms post
only to this site. Adding script to a page means adding it to this policy too (a nonce or a file of
ours), on purpose.

``Strict-Transport-Security`` is sent only on an answer that reaches the client over HTTPS: served
over TLS by the app itself, or behind a proxy named in ``trusted_proxies`` that says so in
``X-Forwarded-Proto`` (:func:`search_app.addresses.served_over_https`). Over plain HTTP it would be
ignored (RFC 6797 §8.1) and would say nothing true.

Every textual answer also names its charset (UTF-8: the app's own files and everything it writes are
UTF-8), so that no browser guesses one: files from ``static/`` and the OpenAPI document come without it.
"""

from __future__ import annotations

from aiohttp import web

from search_app.addresses import served_over_https

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
        "script-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # searches in URLs stay on this site
}
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
"""One year; without includeSubDomains, since the app's host may not speak for the names below it."""


_TEXTUAL = ("text/", "application/json", "application/xml", "image/svg+xml")


def _textual(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind.startswith(_TEXTUAL) or kind.endswith(("+xml", "+json"))


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: add the headers an answer does not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    content_type = response.headers.get("Content-Type", "")
    if content_type and _textual(content_type) and "charset=" not in content_type.lower():
        response.headers["Content-Type"] = f"{content_type}; charset=utf-8"
    if served_over_https(request):
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
