"""The XML Schemas the OAI-PMH (and later SRU) tests validate against, fetched from package registries.

So that setting up the tests needs nothing but package registries, the official schemas are not read
from openarchives.org, dublincore.org, w3.org or loc.gov. Each file below is a copy that a registry package
ships, pinned by the package's version and the file's SHA-256, and checked on every load
(tests/support/oai_schemas.py): a different file is refused, never used. Nothing here is committed to the
project; the files live in ``$UNICAT_CACHE_DIR/schemas`` (default ``~/.cache/unicat/schemas``), beside
the Elasticsearch zip of tests/support/es_node.py, so a second run downloads nothing.

Where each file comes from, and how it differs from the copy at its official address (read from the
files themselves: their version comments, targetNamespace and imports):

- ``OAI-PMH.xsd`` — Debian 12 ``python3-gavo`` (GAVO DaCHS, an OAI-PMH data provider): the official
  schema, ``$Date: 2004/10/12 15:20:29 $``, with ``processContents="strict"`` on ``metadata``,
  ``about`` and ``description``. (pyoai's sdist carries a copy edited to ``processContents="skip"``,
  which would validate no metadata at all: not used.)
- ``oai_dc.xsd`` — the same package: the official schema (Pete Johnston, 2002-12-19 update), except that
  GAVO pointed its ``xs:import`` of the Dublin Core schema at a copy on its own server. The validator
  maps that address, like the official one, to the local file.
- ``simpledc20021212.xsd`` — Debian 12 ``libgupnp-av-1.0-3``: DCMI's Simple DC schema of 2002-12-12 with
  its official import of ``http://www.w3.org/2001/03/xml.xsd`` (GAVO's and OpenSCAP's copies rewrite it).
- ``xml.xsd`` — ``python3-gavo`` again: the W3C schema for the ``xml:`` attributes in its 2001/03
  version, the one ``simpledc20021212.xsd`` imports.
- ``MARC21slim.xsd`` — npm ``node-libxml`` 4.1.2, ``test/xsd/MARC21slim.xsd``: the Library of Congress
  MARCXML schema, version 1.2 (2009-05-21). No Debian, PyPI or Maven Central package was found to ship
  it; this copy is re-indented, its content (types, patterns, documentation) that of version 1.2.

No registry package was found that ships the SRU schemas (``srw-types.xsd``, ``sruResponse.xsd``,
``diagnostic.xsd``), so none is fetched.

Command line: ``python -m tests.support.schemas_fetch`` (fetch what is missing; quick when all is cached),
``python -m tests.support.schemas_fetch check`` (only say what is missing or wrong).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

CACHE_DIR = Path(os.environ.get("UNICAT_CACHE_DIR") or Path.home() / ".cache" / "unicat") / "schemas"
FETCH_COMMAND = ".venv/bin/python -m tests.support.schemas_fetch"
"""What a test that finds a schema missing tells its caller to run (scripts/test.sh runs it)."""
CATALOG = "catalog.xml"
"""An OASIS XML catalog of the cached files, for libxml2's command-line tools (xmllint)."""
PROVENANCE = "PROVENANCE.json"
TIMEOUT = 300


@dataclass(frozen=True)
class Package:
    """A registry package, at a pinned version, that ships one or more of the schemas."""

    registry: str
    """``debian`` (``apt-get download``) or ``npm`` (``npm pack``)."""
    name: str
    version: str
    """The version the pinned files were read from. A Debian package is asked for by name alone: a
    stable release's point update may retire this version, and the files' hashes are the real pin."""

    @property
    def spec(self) -> str:
        return self.name if self.registry == "debian" else f"{self.name}@{self.version}"


@dataclass(frozen=True)
class Schema:
    """One schema file: where it is cached, which namespace it defines, where it officially lives."""

    filename: str
    namespace: str
    package: Package
    member: str
    """The file's path inside the package (a .deb's data tree, an npm tarball)."""
    sha256: str
    urls: tuple[str, ...]
    """The addresses imports and catalogs use for it: the official one first, then known aliases."""


GAVO = Package("debian", "python3-gavo", "2.7+dfsg-2")
GUPNP_AV = Package("debian", "libgupnp-av-1.0-3", "0.14.1-1")
NODE_LIBXML = Package("npm", "node-libxml", "4.1.2")
_GAVO_DIR = "./usr/lib/python3/dist-packages/gavo/resources/schemata"

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
XML_NS = "http://www.w3.org/XML/1998/namespace"
MARC_NS = "http://www.loc.gov/MARC21/slim"

SCHEMAS: tuple[Schema, ...] = (
    Schema(
        "OAI-PMH.xsd",
        OAI_NS,
        GAVO,
        f"{_GAVO_DIR}/OAI-PMH.xsd",
        "59a48358a7b45d9219f161a3059682cf8fc9d542f4cb705cdd52c3afcfa537ed",
        (
            "http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
            "https://www.openarchives.org/OAI/2.0/OAI-PMH.xsd",
        ),
    ),
    Schema(
        "oai_dc.xsd",
        OAI_DC_NS,
        GAVO,
        f"{_GAVO_DIR}/oai_dc.xsd",
        "241e6edbbb0b0ee93cb09c5047d468676e218536737b8f9ecde01eabff2ea987",
        ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "https://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    ),
    Schema(
        "simpledc20021212.xsd",
        DC_NS,
        GUPNP_AV,
        "./usr/share/gupnp-av/simpledc20021212.xsd",
        "7cc6bfbbbae2f989f1271b959dfe88fb3321fabddf1e1d63a6f305ddc33c74cb",
        (
            "http://dublincore.org/schemas/xmls/simpledc20021212.xsd",
            "https://dublincore.org/schemas/xmls/simpledc20021212.xsd",
            # where GAVO's oai_dc.xsd imports it from
            "http://vo.ari.uni-heidelberg.de/docs/schemata/simpledc20021212.xsd",
        ),
    ),
    Schema(
        "xml.xsd",
        XML_NS,
        GAVO,
        f"{_GAVO_DIR}/xml.xsd",
        "0ed94db44402526e7a683424d0bd4b65e5bc50e65d9b9a762b11b30bae06d0c8",
        ("http://www.w3.org/2001/03/xml.xsd", "http://www.w3.org/2001/xml.xsd"),
    ),
    Schema(
        "MARC21slim.xsd",
        MARC_NS,
        NODE_LIBXML,
        "package/test/xsd/MARC21slim.xsd",
        "a71677e126e90a5aa415e6bf863adf6af36489b69f83c47ebf3a498c5f8fe6be",
        (
            "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
            "https://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd",
        ),
    ),
)


class SchemaFetchError(RuntimeError):
    """A registry did not deliver a schema, or delivered a different file; the message says which."""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def problems(cache: Path = CACHE_DIR) -> list[str]:
    """What is missing or wrong in the cache, one line each (empty when every schema is in place)."""
    found = []
    for schema in SCHEMAS:
        path = cache / schema.filename
        if not path.is_file():
            found.append(f"{schema.filename}: not cached in {cache}")
        elif sha256(path) != schema.sha256:
            found.append(f"{schema.filename}: SHA-256 {sha256(path)} is not the pinned {schema.sha256}")
    if not found and not (cache / CATALOG).is_file():
        found.append(f"{CATALOG}: not written in {cache}")
    return found


def fetch(cache: Path = CACHE_DIR, log: bool = True) -> Path:
    """Bring every schema missing (or different) from its package into ``cache``; returns ``cache``.

    Idempotent: with everything in place it only hashes five small files.
    """
    missing = [schema for schema in SCHEMAS if not _in_place(cache / schema.filename, schema)]
    cache.mkdir(parents=True, exist_ok=True)
    for package in dict.fromkeys(schema.package for schema in missing):
        wanted = [schema for schema in missing if schema.package == package]
        if log:
            print(f"fetching {', '.join(s.filename for s in wanted)} from {package.registry} {package.spec}")
        with tempfile.TemporaryDirectory(prefix="unicat-schemas-") as scratch:
            archive = _download(package, Path(scratch))
            members = _extract(archive, package, [schema.member for schema in wanted])
            for schema in wanted:
                data = members[schema.member]
                digest = hashlib.sha256(data).hexdigest()
                if digest != schema.sha256:
                    raise SchemaFetchError(
                        f"{package.registry} {package.spec} {schema.member} has SHA-256 {digest}, "
                        f"not the pinned {schema.sha256}: refusing it"
                    )
                _write(cache / schema.filename, data)
    _write(cache / CATALOG, catalog(cache).encode("utf-8"))
    _write(cache / PROVENANCE, json.dumps(provenance(), indent=2).encode("utf-8"))
    return cache


def catalog(cache: Path) -> str:
    """An XML catalog mapping every known address of each schema to its cached file."""
    lines = ['<?xml version="1.0"?>', '<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">']
    for schema in SCHEMAS:
        target = (cache / schema.filename).as_uri()
        for url in schema.urls:
            lines.append(f'  <uri name="{url}" uri="{target}"/>')
            lines.append(f'  <system systemId="{url}" uri="{target}"/>')
    lines.append("</catalog>")
    return "\n".join(lines) + "\n"


def provenance() -> list[dict[str, str]]:
    """Where each cached file came from, written beside the files for whoever finds them."""
    return [
        {
            "file": schema.filename,
            "namespace": schema.namespace,
            "official_url": schema.urls[0],
            "registry": schema.package.registry,
            "package": schema.package.name,
            "version": schema.package.version,
            "member": schema.member,
            "sha256": schema.sha256,
        }
        for schema in SCHEMAS
    ]


def _in_place(path: Path, schema: Schema) -> bool:
    return path.is_file() and sha256(path) == schema.sha256


def _write(path: Path, data: bytes) -> None:
    """Write atomically, so a test reading the cache never sees half a file."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False, timeout=TIMEOUT)
    except FileNotFoundError as exc:
        raise SchemaFetchError(
            f"{command[0]} is not installed, so the schemas cannot be fetched with it"
        ) from exc


def _download(package: Package, scratch: Path) -> Path:
    """The package's archive, downloaded into ``scratch`` with the registry's own client."""
    if package.registry == "debian":
        command = ["apt-get", "download", "-q", package.spec]
        result = _run(command, scratch)
        if result.returncode != 0 and os.geteuid() == 0:
            # A package index that does not know the version yet (fresh image) needs one update.
            _run(["apt-get", "update", "-q"], scratch)
            result = _run(command, scratch)
        pattern = f"{package.name}_*.deb"
    elif package.registry == "npm":
        result = _run(["npm", "pack", "--silent", "--pack-destination", str(scratch), package.spec], scratch)
        pattern = f"{package.name}-{package.version}.tgz"
    else:  # pragma: no cover - the table above names only these
        raise SchemaFetchError(f"unknown registry {package.registry}")
    archives = sorted(scratch.glob(pattern))
    if result.returncode != 0 or len(archives) != 1:
        hint = " (as root, or after `sudo apt-get update`)" if package.registry == "debian" else ""
        raise SchemaFetchError(
            f"could not download {package.registry} package {package.spec}{hint}:\n"
            f"{result.stdout}{result.stderr}"
        )
    return archives[0]


def _extract(archive: Path, package: Package, members: Iterable[str]) -> dict[str, bytes]:
    """The named files of a .deb (its data tree, read through dpkg-deb) or of an npm tarball."""
    wanted = set(members)
    found: dict[str, bytes] = {}
    if package.registry == "debian":
        if shutil.which("dpkg-deb") is None:
            raise SchemaFetchError("dpkg-deb is not installed, so the .deb packages cannot be read")
        with subprocess.Popen(["dpkg-deb", "--fsys-tarfile", str(archive)], stdout=subprocess.PIPE) as dpkg:
            assert dpkg.stdout is not None
            with tarfile.open(fileobj=dpkg.stdout, mode="r|") as tar:
                found = _read_members(tar, wanted)
            dpkg.stdout.read()
        if dpkg.returncode != 0:
            raise SchemaFetchError(f"dpkg-deb could not read {archive.name}")
    else:
        with tarfile.open(archive, mode="r:gz") as tar:
            found = _read_members(tar, wanted)
    absent = wanted - found.keys()
    if absent:
        raise SchemaFetchError(f"{package.registry} {package.spec} has no {', '.join(sorted(absent))}")
    return found


def _read_members(tar: tarfile.TarFile, wanted: set[str]) -> dict[str, bytes]:
    found = {}
    for info in tar:
        name = info.name if info.name.startswith(("./", "package/")) else f"./{info.name}"
        if name in wanted and info.isfile():
            handle = tar.extractfile(info)
            assert handle is not None
            found[name] = handle.read()
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("action", nargs="?", choices=["fetch", "check"], default="fetch")
    args = parser.parse_args(argv)
    if args.action == "check":
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    try:
        fetch()
    except SchemaFetchError as exc:
        print(f"schemas_fetch: {exc}", file=sys.stderr)
        return 1
    print(f"XML schemas in {CACHE_DIR}: {', '.join(schema.filename for schema in SCHEMAS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
