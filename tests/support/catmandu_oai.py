"""A real third-party OAI-PMH provider for harvester tests: Dancer::Plugin::Catmandu::OAI (Debian's
``libdancer-plugin-catmandu-oai-perl``) over a Catmandu::Store::ElasticSearch store on the test node.

Unicat's own demo endpoints were written by the same people as its harvester, so they share its reading
of the protocol. This provider was not: its verbs, errors, resumption tokens, datestamps and deleted
records are the plugin's, and its MARCXML is Catmandu::MARC's. The helper only writes the plugin's
configuration, loads real MARC records into the store, and starts and stops the server on 127.0.0.1.

What the plugin asks of its store (read in ``Dancer/Plugin/Catmandu/OAI.pm`` 0.0508): a Catmandu bag
that is CQL-searchable — ``search(cql_query, start, limit, sru_sortkeys)`` returning hits with
``total``/``start``/``limit``/``more``/``hits``, with CQL ``>=``/``<=`` on the datestamp index (``from``,
``until``), ``exact`` on the id (GetRecord), ``and``, and a sort on the datestamp (Identify's
``earliestDatestamp``) — plus ``get`` (ListMetadataFormats with an identifier) and ``id_key``.

The store is Elasticsearch, the node the test suite already runs: Debian 12 has Catmandu stores for
MongoDB and Solr too, but no MongoDB server, and Solr only as library jars on Maven Central. Debian's
Catmandu::Store::ElasticSearch 1.0202 was written for the Elasticsearch 6 API, so a small subclass
(``UnicatTest::ElasticSearch9``, below) adapts what Elasticsearch 7-9 changed, and nothing else:

- it sends the mapping type ``type`` on bulk and get requests, which Elasticsearch 8+ and its own
  Search::Elasticsearch 8.00 client refuse: the subclass sends the same requests without it;
- it reads ``hits.total`` as a number, while Elasticsearch 7+ answers ``{"value": N, "relation": "eq"}``:
  unadapted, the plugin compares against a reference's address, so every page gets a resumption token
  and ``completeListSize`` reads ``HASH(0x…)``. The subclass turns it into the number;
- it creates its index with a typed mapping (refused since 8.0): this helper creates the index itself,
  with the mapping below, before Catmandu sees it.

The CQL translation (Catmandu::Store::ElasticSearch::CQL), the Elasticsearch queries and paging and the
whole of OAI-PMH stay the third-party code's. One setting works around a bug of that CQL translation:
``cql.allRecords`` becomes an empty query ``{}``, which Elasticsearch 9 refuses ("query malformed, empty
clause found"), and the plugin sends it for every ListRecords without ``from``/``until``/set (a full
harvest) and for Identify. ``cql_filter`` — set in the plugin's own documented sample configuration —
replaces it with a datestamp range that every record matches.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tests.support.loopback import free_port
from unicat.oai_protocol import MARC_NS, MARC_SCHEMA

PERL_MODULES = ("Dancer::Plugin::Catmandu::OAI", "Catmandu::MARC", "Catmandu::Store::ElasticSearch")
REPOSITORY_IDENTIFIER = "unicat.test"
IDENTIFIER_PREFIX = f"oai:{REPOSITORY_IDENTIFIER}:"
"""An OAI identifier is this prefix and the store id, which the loader takes from the record's 001."""
EPOCH = "1970-01-01T00:00:00Z"
"""The datestamp of a record without a usable 005, and the lower bound of ``cql_filter``."""
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 5.0

# The index mapping, created by the helper (see the module docstring): only what the plugin queries is
# indexed; the Catmandu MARC record (``record``, a list of [tag, ind1, ind2, code, value, ...]) is kept
# in _source only, so no dynamic mapping guesses at MARC data.
_INDEX_MAPPING = {
    "dynamic": False,
    "properties": {
        "datestamp": {"type": "date", "format": "strict_date_time_no_millis"},
        "deleted": {"type": "boolean"},
    },
}

# Which CQL indexes and relations the plugin may use, and the Elasticsearch fields behind them. Flags
# are 1, not JSON true: Catmandu reads an `op` or `sort` that is a reference (as a decoded JSON boolean
# is) as a hash of further options, and fails.
_CQL_MAPPING = {
    "indexes": {
        "_id": {"op": {"exact": 1, "=": 1}, "field": "_id"},
        "datestamp": {
            "op": {"=": 1, "<": 1, "<=": 1, ">": 1, ">=": 1, "exact": 1},
            "field": "datestamp",
            "sort": 1,
        },
    }
}

_STORE_PM = """\
package UnicatTest::ElasticSearch9;
# Catmandu::Store::ElasticSearch as it is, with a bag class that speaks to Elasticsearch 8 and 9
# (Catmandu::Store finds the bag class by appending ::Bag to the store's class).
use Catmandu::Sane;
use Moo;
use UnicatTest::ElasticSearch9::Bag;
extends 'Catmandu::Store::ElasticSearch';
1;
"""

_BAG_PM = """\
package UnicatTest::ElasticSearch9::Bag;
# Only what Elasticsearch 7-9 changed since the API that Catmandu::Store::ElasticSearch 1.0202 speaks;
# see tests/support/catmandu_oai.py. Searching, CQL and paging are the parent's.
use Catmandu::Sane;
use Catmandu::Util qw(is_hash_ref);
use Moo;
extends 'Catmandu::Store::ElasticSearch::Bag';

# Mapping types are gone: bulk requests without `type`.
sub _build__bulk {
    my ($self) = @_;
    $self->store->es->bulk_helper(
        index     => $self->index,
        max_count => $self->buffer_size,
        on_error  => $self->_coerce_on_error($self->on_error),
    );
}

# The same for get (the client itself refuses `type`).
sub get {
    my ($self, $id) = @_;
    try {
        my $data = $self->store->es->get_source(index => $self->index, id => $id);
        $data->{$self->id_key} = $id;
        $data;
    }
    catch_case ['Search::Elasticsearch::Error::Missing' => sub {undef}];
}

# hits.total is {value, relation} since Elasticsearch 7; Catmandu::Hits and the plugin want a number.
around search => sub {
    my ($orig, $self, @args) = @_;
    my $hits = $self->$orig(@args);
    $hits->{total} = $hits->{total}{value} if is_hash_ref($hits->{total});
    $hits;
};

1;
"""

_LOAD_PL = """\
#!/usr/bin/env perl
# Load a MARC file into the store with Catmandu's own importer; the datestamp is the record's 005.
use FindBin;
use lib "$FindBin::Bin/lib";
use Catmandu::Sane;
use Catmandu;

my ($file, $type) = @ARGV;
Catmandu->load($FindBin::Bin);
my $bag = Catmandu->store('oai')->bag('data');
my $loaded = 0;
Catmandu->importer('MARC', type => $type, file => $file)->each(sub {
    my ($record) = @_;
    my ($latest) = grep { $_->[0] eq '005' } @{$record->{record}};
    my $value = $latest ? $latest->[-1] : '';
    $record->{datestamp} = $value =~ /^(\\d{4})(\\d\\d)(\\d\\d)(\\d\\d)(\\d\\d)(\\d\\d)/
        ? "$1-$2-$3T$4:$5:$6Z" : '@EPOCH@';
    $bag->add($record);
    $loaded++;
});
$bag->commit;
print "$loaded\\n";
"""

_APP_PL = """\
#!/usr/bin/env perl
# The provider: the plugin's documented app (SYNOPSIS), with its options read from provider.json and
# each request's query written to requests.log, so tests can see what the harvester asked.
use FindBin;
use lib "$FindBin::Bin/lib";
use Dancer;
use Catmandu;
use Dancer::Plugin::Catmandu::OAI;
use JSON::PP ();

my ($port) = @ARGV;
Catmandu->load($FindBin::Bin);
my $options = do {
    open my $fh, '<:raw', "$FindBin::Bin/provider.json" or die "provider.json: $!";
    local $/;
    JSON::PP->new->decode(<$fh>);
};

# charset as in the plugin's sample config.yml: without it Dancer sends the characters as Latin-1
# bytes (each record here has a U+00A0) under a UTF-8 declaration, and a Content-Length too large.
set charset      => 'UTF-8';
set port         => $port;
set server       => '127.0.0.1';
set logger       => 'console';
set log          => 'warning';
set startup_info => 0;

hook before => sub {
    open my $log, '>>', "$FindBin::Bin/requests.log" or die "requests.log: $!";
    print $log JSON::PP->new->canonical->encode({method => request->method, params => {params()}}), "\\n";
    close $log;
};

# Deleted records keep their datestamp and header; the plugin leaves out their metadata.
oai_provider '/oai', %$options, deleted => sub { $_[0]->{deleted} ? 1 : 0 };

dance;
"""

_MARCXML_TT = "[% record %]\n"
"""The metadata template: the format's fix ``marc_xml(record)`` has already made the record MARCXML."""


class CatmanduOAIError(RuntimeError):
    """The provider cannot be installed, loaded or started; the message says what to do."""


def check_perl_modules() -> None:
    """Load each Perl module the provider needs, so a missing or broken one fails with its name."""
    script = 'for my $m (@ARGV) { eval "require $m; 1" or print "$m: $@" }'
    try:
        result = subprocess.run(
            ["perl", "-e", script, *PERL_MODULES], capture_output=True, text=True, check=False, timeout=60
        )
    except FileNotFoundError as exc:
        raise CatmanduOAIError("perl is not installed: run `sudo bash scripts/install-test-deps.sh`") from exc
    if result.returncode != 0 or result.stdout.strip():
        raise CatmanduOAIError(
            "the Catmandu OAI-PMH provider cannot be loaded (run `sudo bash scripts/install-test-deps.sh`, "
            f"which installs Debian's packages for it):\n{result.stdout}{result.stderr}"
        )


@dataclass
class CatmanduProvider:
    """A running provider: its OAI-PMH base URL, and ways to change its store as a library would."""

    oai_url: str
    es_url: str
    index: str
    workdir: Path
    loaded: int
    """How many records Catmandu's importer loaded from the file."""
    process: subprocess.Popen[bytes] = field(repr=False)

    def requests(self) -> list[dict[str, str]]:
        """The query of every request the provider answered, oldest first (``verb``, ``from``, …),
        starting with this helper's own Identify requests while it waited for the server."""
        log = self.workdir / "requests.log"
        if not log.exists():
            return []
        lines = log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line)["params"] for line in lines if line]

    def revise(self, record_id: str, title: str) -> str:
        """Give a record a new 245 $a and the current second as datestamp, as a cataloguer's edit would;
        returns that datestamp."""
        source = self._source(record_id)
        field_245 = next(field for field in source["record"] if field[0] == "245")
        codes = field_245[3::2]
        field_245[3 + 2 * codes.index("a") + 1] = title
        return self._put(record_id, source)

    def mark_deleted(self, record_id: str) -> str:
        """Mark a record deleted now (the plugin keeps it, with status="deleted"); returns the datestamp."""
        source = self._source(record_id)
        source["deleted"] = True
        return self._put(record_id, source)

    def log_tail(self, lines: int = 30) -> str:
        """The end of the server's output, for failure messages."""
        path = self.workdir / "provider.log"
        text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _source(self, record_id: str) -> dict[str, Any]:
        quoted = urllib.parse.quote(record_id, safe="")
        found: dict[str, Any] = _es_request("GET", f"{self.es_url}/{self.index}/_source/{quoted}")
        return found

    def _put(self, record_id: str, source: dict[str, Any]) -> str:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        source["datestamp"] = now
        quoted = urllib.parse.quote(record_id, safe="")
        _es_request("PUT", f"{self.es_url}/{self.index}/_doc/{quoted}?refresh=true", source)
        return now


@contextlib.contextmanager
def running_provider(
    es_url: str, records: Path, workdir: Path, *, page_size: int = 7
) -> Iterator[CatmanduProvider]:
    """Load ``records`` (ISO 2709 ``.mrc`` or MARCXML ``.xml``) into a fresh index of the node at
    ``es_url`` and serve them as ``marcxml``, ``page_size`` records a page; stop and clean up after.

    A small page size makes even a few dozen records take several resumption tokens.
    """
    check_perl_modules()
    es_url = es_url.rstrip("/")
    index = f"catmandu-oai-{uuid.uuid4().hex[:12]}"
    workdir.mkdir(parents=True, exist_ok=True)
    _es_request("PUT", f"{es_url}/{index}", {"mappings": _INDEX_MAPPING})
    process: subprocess.Popen[bytes] | None = None
    try:
        _write_app(workdir, es_url, index, page_size)
        loaded = _load(workdir, records)
        port = free_port()
        with (workdir / "provider.log").open("wb") as log:
            # setpriv: the server gets SIGTERM if the test process dies, even by SIGKILL.
            process = subprocess.Popen(
                ["setpriv", "--pdeathsig", "TERM", "perl", str(workdir / "app.pl"), str(port)],
                cwd=workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        provider = CatmanduProvider(f"http://127.0.0.1:{port}/oai", es_url, index, workdir, loaded, process)
        _wait_identify(provider)
        yield provider
    finally:
        if process is not None:
            _stop(process)
        with contextlib.suppress(OSError):
            _es_request("DELETE", f"{es_url}/{index}")


def _write_app(workdir: Path, es_url: str, index: str, page_size: int) -> None:
    """The Catmandu store configuration, the plugin's options, the template and the Perl files."""
    (workdir / "lib" / "UnicatTest" / "ElasticSearch9").mkdir(parents=True, exist_ok=True)
    (workdir / "lib" / "UnicatTest" / "ElasticSearch9.pm").write_text(_STORE_PM)
    (workdir / "lib" / "UnicatTest" / "ElasticSearch9" / "Bag.pm").write_text(_BAG_PM)
    (workdir / "load.pl").write_text(_LOAD_PL.replace("@EPOCH@", EPOCH))
    (workdir / "app.pl").write_text(_APP_PL)
    (workdir / "marcxml.tt").write_text(_MARCXML_TT)
    catmandu = {
        "store": {
            "oai": {
                "package": "+UnicatTest::ElasticSearch9",
                "options": {
                    "nodes": [urllib.parse.urlsplit(es_url).netloc],
                    # The core-only node answers 405 to the client's `HEAD /` ping; don't ping.
                    "cxn_pool": "Static::NoPing",
                    "bags": {"data": {"index": index, "cql_mapping": _CQL_MAPPING}},
                },
            }
        }
    }
    (workdir / "catmandu.json").write_text(json.dumps(catmandu, indent=2))
    options = {
        "store": "oai",
        "bag": "data",
        "datestamp_field": "datestamp",
        "repositoryName": "Unicat test library (Dancer::Plugin::Catmandu::OAI)",
        "adminEmail": "nobody@example.org",
        "deletedRecord": "persistent",
        "repositoryIdentifier": REPOSITORY_IDENTIFIER,
        "delimiter": ":",
        "sampleIdentifier": f"{IDENTIFIER_PREFIX}1",
        "limit": page_size,
        "cql_filter": f'datestamp >= "{EPOCH}"',
        "metadata_formats": [
            {
                "metadataPrefix": "marcxml",
                "schema": MARC_SCHEMA,
                "metadataNamespace": MARC_NS,
                "template": str(workdir / "marcxml.tt"),
                "fix": ["marc_xml(record)"],
            }
        ],
    }
    (workdir / "provider.json").write_text(json.dumps(options, indent=2))


def _load(workdir: Path, records: Path) -> int:
    """Import the file with Catmandu's MARC importer into the store; returns how many it loaded."""
    kind = "XML" if records.suffix.lower() == ".xml" else "ISO"
    result = subprocess.run(
        ["perl", str(workdir / "load.pl"), str(records), kind],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if result.returncode != 0:
        raise CatmanduOAIError(f"loading {records} into the Catmandu store failed:\n{result.stderr}")
    return int(result.stdout.split()[-1])


def _wait_identify(provider: CatmanduProvider) -> None:
    """Wait until the provider answers Identify; raise with its output if it dies or is late."""
    deadline = time.monotonic() + READY_TIMEOUT
    url = f"{provider.oai_url}?verb=Identify"
    while True:
        if provider.process.poll() is not None:
            raise CatmanduOAIError(
                f"the Catmandu OAI-PMH provider exited ({provider.process.returncode}) while starting:\n"
                f"{provider.log_tail()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if b"<Identify>" in response.read():
                    return
        except urllib.error.HTTPError as exc:  # listening, but broken: no point in waiting
            answer = f"HTTP {exc.code}"
            raise CatmanduOAIError(
                f"the Catmandu OAI-PMH provider answers Identify with {answer}:\n{provider.log_tail()}"
            ) from exc
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise CatmanduOAIError(
                f"the Catmandu OAI-PMH provider did not answer Identify at {url} within "
                f"{READY_TIMEOUT:.0f} s:\n{provider.log_tail()}"
            )
        time.sleep(0.1)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the server is still there after a few seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(STOP_TIMEOUT)


def _es_request(method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    """One Elasticsearch REST call with the standard library; raises OSError with the answer if refused."""
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.load(response)
    except urllib.error.HTTPError as exc:
        raise OSError(f"{method} {url} → {exc.code}: {exc.read().decode(errors='replace')}") from exc


__all__ = [
    "IDENTIFIER_PREFIX",
    "CatmanduOAIError",
    "CatmanduProvider",
    "check_perl_modules",
    "running_provider",
]

if __name__ == "__main__":  # pragma: no cover - manual use: serve a file until Ctrl-C
    import sys
    import tempfile

    with (
        tempfile.TemporaryDirectory() as directory,
        running_provider(os.environ["UNICAT_TEST_ES_URL"], Path(sys.argv[1]), Path(directory)) as served,
    ):
        print(f"{served.loaded} records at {served.oai_url}?verb=Identify (Ctrl-C to stop)")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
