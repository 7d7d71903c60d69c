"""The security headers on every answer: pages, JSON, XML, files, redirects and errors alike.

The pages run no script and load only the app's own stylesheet and icon, so the policy allows exactly
that: whatever markup might slip into a page could neither run script nor load anything from
elsewhere, send a form to another site or rewrite the page's base address, and no other site may
frame a page (clickjacking). Forms post only to this site. Adding script to a page means adding it
to this policy too (a nonce or a file of ours), on purpose.

``Strict-Transport-Security`` is sent only on an answer the app served over HTTPS itself: over plain
HTTP it would be ignored (RFC 6797 §8.1) and would say nothing true. Behind a reverse proxy that ends
TLS, the proxy sends it.
"""

from __future__ import annotations

from aiohttp import web

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "style-src 'self'",
        "img-src 'self'",
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


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """``on_response_prepare``: add the headers an answer does not set itself."""
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.secure:
        response.headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
