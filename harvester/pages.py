"""ListRecords as a sequence of pages, each with the resumption token of the page after it.

Kept apart from transport (like sickle's iterator): this module knows page boundaries and tokens,
:class:`~harvester.transport.OAIClient` knows HTTP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from lxml import etree

from harvester.namespaces import oai
from harvester.transport import OAIClient
from unicat.errors import HarvestError, OAIProtocolError


@dataclass(frozen=True, slots=True)
class Page:
    """The ``<record>`` elements of one response and the token asking for the next (None: last)."""

    records: list[etree._Element]
    next_token: str | None


def next_token(root: etree._Element) -> str | None:
    """The resumption token of a response; an empty ``<resumptionToken/>`` marks the last page."""
    element = root.find(f"{oai('ListRecords')}/{oai('resumptionToken')}")
    if element is None or not (element.text or "").strip():
        return None
    return (element.text or "").strip()


def iter_pages(
    client: OAIClient, arguments: Mapping[str, str], resume_token: str | None = None
) -> Iterator[Page]:
    """Pages of a ListRecords request (``arguments`` without the verb), or of its rest from a token.

    ``noRecordsMatch`` ends the list without error. A token the server already sent would loop
    forever, so it stops the harvest with :class:`HarvestError` before its page is used.
    """
    seen: set[str] = set()
    if resume_token is not None:
        seen.add(resume_token)
        request: dict[str, str] = {"verb": "ListRecords", "resumptionToken": resume_token}
    else:
        request = {"verb": "ListRecords", **arguments}
    while True:
        try:
            root = client.request(**request)
        except OAIProtocolError as exc:
            if exc.code == "noRecordsMatch":
                return
            raise
        token = next_token(root)
        if token is not None and token in seen:
            raise HarvestError(
                f"{client.base_url} sent the resumption token {token!r} twice; "
                "stopping so the harvest does not loop forever"
            )
        records = root.findall(f"{oai('ListRecords')}/{oai('record')}")
        yield Page(records, token)
        if token is None:
            return
        seen.add(token)
        request = {"verb": "ListRecords", "resumptionToken": token}
