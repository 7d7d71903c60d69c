"""Four third-party OAI-PMH harvesters, each run through a complete harvest, with one normalised result.

A provider test can then require what every independent client saw to agree: the same headers in the
same order, the same deleted flags and sets, the same number of records carrying metadata. The clients
are the real packages, used through their public interfaces:

- **sickle** (PyPI, in-process, HTTP GET by default): ``Sickle(url).ListRecords(ignore_deleted=False)``;
  its requests are counted with a ``requests`` response hook;
- **pyoai** (PyPI ``pyoai``, module ``oaipmh.client``, in-process, HTTP **POST** by default): a
  ``MetadataRegistry`` with its own ``oai_dc_reader`` for ``oai_dc`` and a reader that keeps the
  ``<metadata>`` element as it is for every other prefix; a subclass counts its requests;
- **Catmandu** (Debian ``libcatmandu-oai-perl``): the ``catmandu convert OAI … --handler raw to JSON``
  command line, one JSON object a line; it does not tell how many requests it made;
- **HTTP::OAI** (Debian ``libhttp-oai-perl``): ``HTTP::OAI::Harvester`` from the small Perl program
  below (``resume => 0``, following the resumption tokens itself so it can count the pages), one JSON
  line a header.

A client's failure is never swallowed: an exception or a non-zero exit becomes :class:`HarvestError`
carrying the client's own message (stderr, the exception's text). ``noRecordsMatch`` is no failure but an
empty list, as OAI-PMH defines it; every client reports it as such (Catmandu and HTTP::OAI call it a
success themselves).

Each client's quirks, read from its source and seen against real providers, are in :data:`QUIRKS`.

:func:`fetch_raw` fetches one response as bytes with its HTTP status and headers (GET or POST), for
tests of error codes and of the envelope itself (tests/support/oai_schemas.py validates it).
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

from lxml import etree

from unicat.oai_protocol import OAI_NS

TIMEOUT = 120.0
"""Seconds one whole harvest by a subprocess client may take."""
Verb = Literal["ListRecords", "ListIdentifiers"]

QUIRKS: Mapping[str, str] = {
    "sickle": (
        "parses with lxml recover=True, so it does not notice malformed XML; finds the resumptionToken "
        "with './/', anywhere in the page; a record without <metadata> that is not deleted raises "
        "AttributeError; an empty resumptionToken ends the list; GET unless http_method='POST'."
    ),
    "pyoai": (
        "POSTs every request (force_http_get=True for GET); from/until must be naive datetimes, sent at "
        "seconds granularity unless the client is set to day granularity; datestamps come back as "
        "datetimes, so a day datestamp '2024-05-01' reads as 2024-05-01T00:00:00Z; ListIdentifiers "
        "requires metadataPrefix even with a resumptionToken it builds itself; only the first OAI "
        "error of a response is raised."
    ),
    "catmandu": (
        "drops every OAI-PMH error: exit 0, no output, no message (its _retry throws only when the "
        "response is not an HTTP::OAI::Response, and with HTTP::OAI 4.x it always is; only HTTP errors "
        "fail it), so an empty harvest is checked here against the provider's own answer, and an error "
        "on a later page shows only as a short harvest (the clients then disagree); ListIdentifiers "
        "output has no setSpec (only _id, _datestamp, _status); the request count is not exposed; "
        "HTTP GET only."
    ),
    "http-oai": (
        "GET only; noRecordsMatch and noSetHierarchy are 'success' (is_success) with the error in "
        "errors(), so the program below checks errors() itself; control characters in a page are "
        "rewritten to '\\0001'-style text before parsing; an empty page is retried after 5 s up to "
        "10 times; 503 Retry-After waits the delay plus 10 s; compact datestamps (YYYYMMDD...) are "
        "rewritten to ISO form."
    ),
}


@dataclass(frozen=True)
class HarvestRequest:
    """What to harvest: a list verb and its arguments (``from``/``until`` as OAI-PMH datestamps)."""

    verb: Verb = "ListRecords"
    metadata_prefix: str = "oai_dc"
    set_spec: str | None = None
    from_: str | None = None
    until: str | None = None

    def arguments(self) -> dict[str, str]:
        """The OAI-PMH arguments of the first request, as sent on the wire."""
        arguments = {"verb": self.verb, "metadataPrefix": self.metadata_prefix}
        for name, value in (("set", self.set_spec), ("from", self.from_), ("until", self.until)):
            if value is not None:
                arguments[name] = value
        return arguments


@dataclass(frozen=True)
class Header:
    """One record's header as a client reported it."""

    identifier: str
    datestamp: str
    deleted: bool
    set_specs: tuple[str, ...] | None
    """None where the client does not report sets (Catmandu's ListIdentifiers)."""


@dataclass(frozen=True)
class HarvestResult:
    """A complete harvest by one client, normalised."""

    client: str
    request: HarvestRequest
    headers: tuple[Header, ...]
    """In the order received."""
    with_metadata: int
    """How many records carried a ``<metadata>`` element (0 for ListIdentifiers)."""
    requests: int | None
    """HTTP requests (pages) the harvest took, where the client lets that be counted."""
    empty_reason: str | None = None
    """``noRecordsMatch`` when the provider answered that error (an empty list)."""

    @property
    def count(self) -> int:
        return len(self.headers)

    @property
    def identifiers(self) -> list[str]:
        return [header.identifier for header in self.headers]

    @property
    def deleted(self) -> int:
        return sum(header.deleted for header in self.headers)


class HarvestError(RuntimeError):
    """A client failed; the message is the client's own (its exception or its stderr)."""

    def __init__(self, client: str, message: str) -> None:
        super().__init__(f"{client}: {message}")
        self.client = client
        self.message = message


class ClientMissing(HarvestError):
    """A client is not installed; the message says which package installs it."""


# -- sickle ----------------------------------------------------------------------------------------


def harvest_sickle(base_url: str, request: HarvestRequest, *, http_method: str = "GET") -> HarvestResult:
    """Harvest with sickle (``ignore_deleted=False``), counting its HTTP requests with a response hook."""
    try:
        from sickle import Sickle
        from sickle.oaiexceptions import NoRecordsMatch
    except ImportError as exc:
        raise ClientMissing("sickle", "not installed: `.venv/bin/pip install -e .[test]`") from exc
    pages = 0

    def count(response: Any, *args: Any, **kwargs: Any) -> None:
        nonlocal pages
        pages += 1

    client = Sickle(base_url, http_method=http_method, timeout=TIMEOUT, hooks={"response": count})
    arguments = request.arguments()
    del arguments["verb"]
    headers: list[Header] = []
    with_metadata = 0
    try:
        if request.verb == "ListRecords":
            for record in client.ListRecords(ignore_deleted=False, **arguments):
                headers.append(_sickle_header(record.header))
                with_metadata += record.xml.find(f"{{{OAI_NS}}}metadata") is not None
        else:
            for header in client.ListIdentifiers(ignore_deleted=False, **arguments):
                headers.append(_sickle_header(header))
    except NoRecordsMatch:
        return HarvestResult("sickle", request, (), 0, pages, "noRecordsMatch")
    except Exception as exc:
        raise HarvestError("sickle", f"{type(exc).__name__}: {exc}") from exc
    return HarvestResult("sickle", request, tuple(headers), with_metadata, pages)


def _sickle_header(header: Any) -> Header:
    return Header(str(header.identifier), str(header.datestamp), bool(header.deleted), tuple(header.setSpecs))


# -- pyoai -----------------------------------------------------------------------------------------


class _XPathEvaluator:
    """An lxml XPath evaluator with the ``evaluate`` method lxml 6 removed (pyoai 2.5.0 calls it)."""

    def __init__(self, evaluator: Any) -> None:
        self._evaluator = evaluator

    def evaluate(self, expression: str, **variables: Any) -> Any:
        return self._evaluator(expression, **variables)

    __call__ = evaluate


class _EtreeForPyoai:
    """``lxml.etree`` as pyoai 2.5.0 (2017, the latest release) was written for.

    pyoai reads every response with ``etree.XPathEvaluator(node, namespaces=…).evaluate(xpath)``;
    lxml 6 dropped ``evaluate`` (calling the evaluator does the same), so unadapted pyoai fails on the
    first page with AttributeError. This stands in for the ``etree`` name of pyoai's own modules only:
    ``XPathEvaluator`` results get the old method back, everything else is lxml's. pyoai's requests,
    XPath expressions, resumption and errors stay pyoai's.
    """

    def __getattr__(self, name: str) -> Any:
        return getattr(etree, name)

    @staticmethod
    def XPathEvaluator(node: Any, **options: Any) -> _XPathEvaluator:  # lxml's name
        return _XPathEvaluator(etree.XPathEvaluator(node, **options))


def _adapt_pyoai(*modules: Any) -> None:
    """Give pyoai's modules the adapted ``etree`` when lxml lacks ``evaluate`` (lxml >= 6)."""
    if hasattr(etree.XPathElementEvaluator, "evaluate"):
        return
    for module in modules:
        module.etree = _EtreeForPyoai()


def harvest_pyoai(base_url: str, request: HarvestRequest, *, post: bool = True) -> HarvestResult:
    """Harvest with pyoai (POST unless ``post=False``), with a metadata registry for the prefix."""
    # pyoai has no type hints: imported as modules typed Any (no per-line ignores to go stale).
    try:
        pyoai_client: Any = importlib.import_module("oaipmh.client")
        pyoai_metadata: Any = importlib.import_module("oaipmh.metadata")
        oai_error: Any = importlib.import_module("oaipmh.error")
    except ImportError as exc:
        raise ClientMissing("pyoai", "not installed: `.venv/bin/pip install -e .[test]`") from exc
    _adapt_pyoai(pyoai_client, pyoai_metadata)
    Client: Any = pyoai_client.Client

    class CountingClient(Client):  # type: ignore[misc]
        """pyoai's own client; only counts the requests it makes."""

        requests = 0

        def makeRequest(self, **arguments: Any) -> Any:  # pyoai's name for one HTTP request
            self.requests += 1
            return super().makeRequest(**arguments)

    registry = pyoai_metadata.MetadataRegistry()
    if request.metadata_prefix == "oai_dc":
        registry.registerReader("oai_dc", pyoai_metadata.oai_dc_reader)
    else:
        registry.registerReader(request.metadata_prefix, lambda element: element)
    client = CountingClient(base_url, registry, force_http_get=not post)
    arguments: dict[str, Any] = {"metadataPrefix": request.metadata_prefix}
    if request.set_spec is not None:
        arguments["set"] = request.set_spec
    for name, value in (("from_", request.from_), ("until", request.until)):
        if value is not None:
            arguments[name] = _pyoai_datetime(value)
            # pyoai renders datetimes at seconds granularity unless told the day is wanted.
            client._day_granularity = "T" not in value
    headers: list[Header] = []
    with_metadata = 0
    try:
        if request.verb == "ListRecords":
            for header, metadata, _about in client.listRecords(**arguments):
                headers.append(_pyoai_header(header))
                with_metadata += metadata is not None
        else:
            for header in client.listIdentifiers(**arguments):
                headers.append(_pyoai_header(header))
    except oai_error.NoRecordsMatchError:
        return HarvestResult("pyoai", request, (), 0, client.requests, "noRecordsMatch")
    except urllib.error.HTTPError as exc:
        body = exc.read().decode("utf-8", errors="replace")
        raise HarvestError("pyoai", f"HTTP {exc.code} {exc.reason}: {body[:2000]}") from exc
    except Exception as exc:
        raise HarvestError("pyoai", f"{type(exc).__name__}: {exc}") from exc
    return HarvestResult("pyoai", request, tuple(headers), with_metadata, client.requests)


def _pyoai_datetime(datestamp: str) -> datetime:
    """An OAI-PMH datestamp as the naive UTC datetime pyoai takes."""
    if "T" in datestamp:
        return datetime.strptime(datestamp, "%Y-%m-%dT%H:%M:%SZ")
    return datetime.strptime(datestamp, "%Y-%m-%d")


def _pyoai_header(header: Any) -> Header:
    datestamp: datetime = header.datestamp()
    return Header(
        str(header.identifier()),
        datestamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        bool(header.isDeleted()),
        tuple(header.setSpec()),
    )


# -- Perl clients ----------------------------------------------------------------------------------

CATMANDU_MODULES = ("Catmandu", "Catmandu::Importer::OAI", "Catmandu::Exporter::JSON")
HTTP_OAI_MODULES = ("HTTP::OAI", "HTTP::OAI::Harvester", "JSON::PP")
_INSTALL = "run `sudo bash scripts/install-test-deps.sh`, which installs Debian's {package}"

HTTP_OAI_HARVEST_PL = r"""
use strict;
use warnings;
use HTTP::OAI;
use JSON::PP ();

# tests/support/oai_clients.py: a complete ListRecords / ListIdentifiers harvest with HTTP::OAI::Harvester,
# one JSON line per header and a last line with the number of pages. resume => 0: this loop follows
# the resumption tokens itself, to count the pages.
my ($url, $verb, @pairs) = @ARGV;
my %args = @pairs;
my $json = JSON::PP->new->utf8->canonical;
my $harvester = HTTP::OAI::Harvester->new(baseURL => $url, resume => 0);
my ($pages, $token, $empty) = (0, undef, undef);
while (1) {
    my %request = defined $token ? (resumptionToken => $token) : %args;
    my $response = $harvester->$verb(%request, onRecord => sub {
        my ($item) = @_;
        my $header = $item->isa('HTTP::OAI::Record') ? $item->header : $item;
        my $metadata = $item->isa('HTTP::OAI::Record') && defined $item->metadata ? 1 : 0;
        print $json->encode({
            identifier => $header->identifier,
            datestamp  => $header->datestamp,
            deleted    => $header->is_deleted ? 1 : 0,
            sets       => [$header->setSpec],
            metadata   => $metadata,
        }), "\n";
    });
    $pages++;
    die "HTTP::OAI: " . $response->code . " " . $response->message . "\n" if $response->is_error;
    # noRecordsMatch and noSetHierarchy are is_success for HTTP::OAI; only the first is an empty list.
    my @errors = $response->errors;
    if (@errors) {
        my @other = grep { $_->code ne 'noRecordsMatch' } @errors;
        die "HTTP::OAI: " . join('; ', map { $_->code . ': ' . ($_->message // '') } @other) . "\n" if @other;
        $empty = 'noRecordsMatch';
        last;
    }
    my $resumption = $response->resumptionToken;
    last unless defined $resumption && length($resumption->resumptionToken // '');
    $token = $resumption->resumptionToken;
}
print $json->encode({pages => $pages, empty => $empty}), "\n";
"""


def check_perl_client(client: str, modules: Sequence[str], package: str, command: str | None = None) -> None:
    """Load each Perl module (and find the command) a client needs; a missing one fails with its name
    and the package that installs it."""
    script = 'for my $m (@ARGV) { eval "require $m; 1" or print "$m: $@" }'
    install = _INSTALL.format(package=package)
    try:
        result = subprocess.run(
            ["perl", "-e", script, *modules], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError as exc:
        raise ClientMissing(client, f"perl is not installed: {install}") from exc
    if result.returncode != 0 or result.stdout.strip():
        raise ClientMissing(client, f"cannot be loaded ({install}):\n{result.stdout}{result.stderr}")
    if command is not None and shutil.which(command) is None:
        raise ClientMissing(client, f"the `{command}` command is not on PATH ({install})")


def _run(client: str, command: list[str]) -> str:
    """Run a client to completion; its stdout, or HarvestError with its exit status and stderr."""
    try:
        result = subprocess.run(command, capture_output=True, check=False, timeout=TIMEOUT)
    except subprocess.TimeoutExpired as exc:
        raise HarvestError(client, f"did not finish within {TIMEOUT:.0f} s: {exc.stderr!r}") from exc
    stderr = result.stderr.decode("utf-8", errors="replace")
    if result.returncode != 0:
        raise HarvestError(client, f"exited with status {result.returncode}:\n{stderr}")
    return result.stdout.decode("utf-8")


def harvest_catmandu(base_url: str, request: HarvestRequest) -> HarvestResult:
    """Harvest with ``catmandu convert OAI … --handler raw to JSON --line_delimited 1``."""
    check_perl_client("catmandu", CATMANDU_MODULES, "libcatmandu-oai-perl", "catmandu")
    command = ["catmandu", "convert", "OAI", "--url", base_url, "--metadataPrefix", request.metadata_prefix]
    for option, value in (("--set", request.set_spec), ("--from", request.from_), ("--until", request.until)):
        if value is not None:
            command += [option, value]
    if request.verb == "ListIdentifiers":
        command += ["--listIdentifiers", "1"]
    command += ["--handler", "raw", "to", "JSON", "--line_delimited", "1"]
    headers: list[Header] = []
    with_metadata = 0
    for line in _run("catmandu", command).splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        sets = item.get("_setSpec")
        headers.append(
            Header(
                str(item["_id"]),
                str(item.get("_datestamp") or ""),
                item.get("_status") == "deleted",
                None if sets is None else tuple(str(spec) for spec in sets),
            )
        )
        with_metadata += "_metadata" in item
    if not headers:
        _raise_swallowed_error(base_url, request)
    return HarvestResult("catmandu", request, tuple(headers), with_metadata, None)


def _raise_swallowed_error(base_url: str, request: HarvestRequest) -> None:
    """Catmandu says nothing of an OAI-PMH error (see QUIRKS): after an empty harvest, ask the provider
    the first request once more, and raise its error as Catmandu's failure (noRecordsMatch excepted)."""
    response = fetch_raw(base_url, request.arguments())
    try:
        errors = [(code, text) for code, text in response.oai_errors() if code != "noRecordsMatch"]
    except etree.XMLSyntaxError as exc:
        raise HarvestError(
            "catmandu",
            f"exited 0 with no records; the provider's answer (HTTP {response.status}) is not XML: {exc}",
        ) from exc
    if errors:
        listed = "; ".join(f"{code}: {text}" for code, text in errors)
        raise HarvestError(
            "catmandu",
            f"exited 0 with no records and no message, but the provider answered OAI-PMH error {listed} "
            "(Catmandu::Importer::OAI 0.19 drops OAI-PMH errors with HTTP::OAI 4.x)",
        )


def harvest_http_oai(base_url: str, request: HarvestRequest) -> HarvestResult:
    """Harvest with HTTP::OAI::Harvester through :data:`HTTP_OAI_HARVEST_PL`."""
    check_perl_client("http-oai", HTTP_OAI_MODULES, "libhttp-oai-perl")
    arguments = request.arguments()
    verb = arguments.pop("verb")
    pairs = [part for pair in arguments.items() for part in pair]
    output = _run("http-oai", ["perl", "-e", HTTP_OAI_HARVEST_PL, base_url, verb, *pairs])
    headers: list[Header] = []
    with_metadata = 0
    summary: dict[str, Any] | None = None
    for line in output.splitlines():
        item = json.loads(line)
        if "pages" in item:
            summary = item
            continue
        headers.append(
            Header(
                str(item["identifier"]), str(item["datestamp"]), bool(item["deleted"]), tuple(item["sets"])
            )
        )
        with_metadata += int(item["metadata"])
    if summary is None:
        raise HarvestError("http-oai", f"ended without its summary line:\n{output[-2000:]}")
    return HarvestResult(
        "http-oai", request, tuple(headers), with_metadata, int(summary["pages"]), summary.get("empty")
    )


# -- all of them -----------------------------------------------------------------------------------

Harvester = Callable[[str, HarvestRequest], HarvestResult]
CLIENTS: Mapping[str, Harvester] = {
    "sickle": harvest_sickle,
    "pyoai": harvest_pyoai,
    "catmandu": harvest_catmandu,
    "http-oai": harvest_http_oai,
}


def harvest_all(
    base_url: str, request: HarvestRequest, clients: Iterable[str] = tuple(CLIENTS)
) -> dict[str, HarvestResult]:
    """The same harvest by each client, one after the other (a failure raises at once)."""
    return {name: CLIENTS[name](base_url, request) for name in clients}


def disagreements(results: Mapping[str, HarvestResult]) -> list[str]:
    """How the clients' results differ, one line each (empty when they agree).

    Compared: the count, identifiers in order, datestamps, deleted flags, sets (where the client
    reports them), the number with metadata, and the empty reason (where the client can tell).
    """
    if not results:
        return []
    names = list(results)
    first = results[names[0]]
    lines = []
    for name in names[1:]:
        other = results[name]
        label = f"{names[0]} vs {name}"
        if other.count != first.count:
            lines.append(f"{label}: {first.count} vs {other.count} headers")
        if other.with_metadata != first.with_metadata:
            lines.append(f"{label}: {first.with_metadata} vs {other.with_metadata} with metadata")
        for index, (mine, theirs) in enumerate(zip(first.headers, other.headers, strict=False)):
            if mine.set_specs is None or theirs.set_specs is None:  # a client that cannot tell
                mine, theirs = replace(mine, set_specs=None), replace(theirs, set_specs=None)
            if mine != theirs:
                lines.append(f"{label}: header {index}: {mine} vs {theirs}")
                break
    return lines


def assert_agree(results: Mapping[str, HarvestResult]) -> None:
    """AssertionError listing every disagreement between the clients' results."""
    lines = disagreements(results)
    if lines:
        counts = ", ".join(f"{name}={result.count}" for name, result in results.items())
        raise AssertionError(f"the OAI-PMH clients disagree ({counts}):\n" + "\n".join(lines))


# -- one raw response ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawResponse:
    """One HTTP exchange with a provider, as it came: status, headers and body bytes."""

    method: str
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def xml(self) -> etree._Element:
        """The body parsed (no network, no entities), for tests reading error codes."""
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        return etree.fromstring(self.body, parser)

    def oai_errors(self) -> list[tuple[str, str]]:
        """(code, message) of each OAI-PMH ``<error>`` in the body."""
        return [
            (str(error.get("code")), error.text or "") for error in self.xml().iterfind(f"{{{OAI_NS}}}error")
        ]


def fetch_raw(
    base_url: str,
    arguments: Mapping[str, str] | Sequence[tuple[str, str]],
    *,
    method: Literal["GET", "POST"] = "GET",
    timeout: float = 30.0,
    headers: Mapping[str, str] | None = None,
) -> RawResponse:
    """One request, GET (arguments in the query) or POST (``application/x-www-form-urlencoded``
    body, as OAI-PMH 2.0 section 3.1.1.2 defines). A sequence of pairs may repeat an argument, for
    badArgument tests; ``headers`` are added last (``Accept-Encoding``, another ``Content-Type``).
    HTTP error statuses are returned, not raised."""
    query = urllib.parse.urlencode(list(arguments.items()) if isinstance(arguments, Mapping) else arguments)
    if method == "GET":
        url = f"{base_url}?{query}" if query else base_url
        http_request = urllib.request.Request(url, method="GET")
    else:
        url = base_url
        http_request = urllib.request.Request(url, data=query.encode("ascii"), method="POST")
        http_request.add_header("Content-Type", "application/x-www-form-urlencoded")
    for name, value in (headers or {}).items():
        http_request.add_header(name, value)
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            return RawResponse(method, url, response.status, _headers(response.headers), response.read())
    except urllib.error.HTTPError as exc:
        return RawResponse(method, url, exc.code, _headers(exc.headers), exc.read())


def _headers(message: Any) -> dict[str, str]:
    return {str(name).lower(): str(value) for name, value in message.items()}


__all__ = [
    "CLIENTS",
    "QUIRKS",
    "ClientMissing",
    "HarvestError",
    "HarvestRequest",
    "HarvestResult",
    "Header",
    "RawResponse",
    "Verb",
    "assert_agree",
    "check_perl_client",
    "disagreements",
    "fetch_raw",
    "harvest_all",
    "harvest_catmandu",
    "harvest_http_oai",
    "harvest_pyoai",
    "harvest_sickle",
]
