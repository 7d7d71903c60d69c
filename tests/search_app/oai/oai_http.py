"""Plain HTTP requests to an OAI-PMH provider, and reading its answers with lxml: the protocol tests'
view of the provider, below any harvester's interpretation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lxml import etree

from tests.support.oai_clients import fetch_raw
from unicat.oai_protocol import DC_NS, MARC_NS, OAI_DC_NS, OAI_NS

NS = {"oai": OAI_NS, "marc": MARC_NS, "dc": DC_NS, "oai_dc": OAI_DC_NS}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def root(self) -> etree._Element:
        return etree.fromstring(self.body)

    def error(self) -> str | None:
        """The error code of the answer, if it is an error."""
        found = self.root.find("oai:error", NS)
        return None if found is None else found.get("code")

    def xpath(self, path: str) -> list[str]:
        return [str(value) for value in self.root.xpath(path, namespaces=NS)]


def request(
    url: str, pairs: list[tuple[str, str]], *, post: bool = False, headers: dict[str, str] | None = None
) -> Answer:
    """One request with these arguments (repeats kept, in order), as GET or as a form POST
    (tests/support/oai_clients.py's ``fetch_raw``); header names are lower case."""
    raw = fetch_raw(url, pairs, method="POST" if post else "GET", timeout=60, headers=headers)
    return Answer(raw.status, dict(raw.headers), raw.body)


def oai(url: str, **arguments: str) -> Answer:
    """``oai(url, verb="ListSets")``; ``from_`` stands for ``from``."""
    return request(url, [(name.rstrip("_"), value) for name, value in arguments.items()])


def pages(url: str, **arguments: str) -> Iterator[Answer]:
    """Every page of a list, following resumption tokens until the empty one."""
    answer = oai(url, **arguments)
    while True:
        yield answer
        tokens = answer.xpath("//oai:resumptionToken/text()")
        if answer.error() is not None or not tokens or not tokens[0]:
            return
        answer = oai(url, verb=arguments["verb"], resumptionToken=tokens[0])
