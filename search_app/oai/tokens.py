"""Resumption tokens that are stateless keysets: everything the next page needs is in the token.

A token holds the verb and metadataPrefix it continues, the set, the generation range of the list
(``from``/``until`` resolved, and capped at the generation that was newest when the list began: the
snapshot), the keyset position (generation and id of the last item given), the cursor, the
``completeListSize`` counted when the list began, when it expires, and the datestamp of the feed's
first generation (a token of another catalogue, or of this one rebuilt from nothing, is refused).
Nothing is kept on the server, so a token survives a restart and any number of servers can answer it.

It travels as URL-safe base64 of compact JSON with a checksum: a token cut short or altered in
transit is a ``badResumptionToken``, not a wrong page. The checksum protects against damage, not
forgery; a forged token can only ask for what a harvester could ask with arguments anyway.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from unicat.oai_protocol import OaiError

VERSION = 1
_CHECK_BYTES = 6


@dataclass(frozen=True, slots=True)
class ListToken:
    verb: str
    prefix: str
    set_spec: str | None
    low: int
    high: int
    after: tuple[int, str]
    cursor: int
    total: int
    expires: int
    origin: str


def _check(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=_CHECK_BYTES, person=b"unicat-oai").digest()


def encode(token: ListToken) -> str:
    fields: list[Any] = [
        VERSION,
        token.verb,
        token.prefix,
        token.set_spec,
        token.low,
        token.high,
        token.after[0],
        token.after[1],
        token.cursor,
        token.total,
        token.expires,
        token.origin,
    ]
    payload = json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(_check(payload) + payload).rstrip(b"=").decode("ascii")


def _plausible(token: ListToken) -> bool:
    """Whether every field could have been issued here: the check is a checksum, not a signature,
    so a token can be forged, and its fields go into the store's queries, which take neither a NUL
    in text nor a number beyond 64 bits."""
    numbers = (token.low, token.high, token.after[0], token.cursor, token.total, token.expires)
    texts = (token.verb, token.prefix, token.set_spec or "", token.after[1], token.origin)
    return all(-(2**63) <= number < 2**63 for number in numbers) and not any("\x00" in text for text in texts)


def decode(text: str, verb: str, now: int) -> ListToken:
    """The token a harvester sent with ``verb``, checked whole, unexpired and of that verb."""
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise OaiError(
            "badResumptionToken", "the resumption token is not one this repository issued"
        ) from None
    check, payload = raw[:_CHECK_BYTES], raw[_CHECK_BYTES:]
    if len(check) != _CHECK_BYTES or check != _check(payload):
        raise OaiError(
            "badResumptionToken", "the resumption token is damaged or not one this repository issued"
        )
    try:
        fields = json.loads(payload)
        (
            version,
            token_verb,
            prefix,
            set_spec,
            low,
            high,
            generation,
            after_id,
            cursor,
            total,
            expires,
            origin,
        ) = fields
        token = ListToken(
            str(token_verb),
            str(prefix),
            None if set_spec is None else str(set_spec),
            int(low),
            int(high),
            (int(generation), str(after_id)),
            int(cursor),
            int(total),
            int(expires),
            str(origin),
        )
    except (ValueError, TypeError):
        raise OaiError(
            "badResumptionToken", "the resumption token is not one this repository issued"
        ) from None
    if not _plausible(token):
        raise OaiError("badResumptionToken", "the resumption token is not one this repository issued")
    if version != VERSION:
        raise OaiError(
            "badResumptionToken", "the resumption token is from another version of this repository"
        )
    if token.verb != verb:
        raise OaiError(
            "badResumptionToken", f"this resumption token continues a {token.verb} list, not {verb}"
        )
    if token.expires < now:
        raise OaiError("badResumptionToken", "the resumption token has expired: start the list again")
    return token
