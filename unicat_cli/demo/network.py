"""The demo libraries, read from ``mappings/demo/network.toml``, and the network's library directory,
from ``mappings/demo/libraries.toml`` (data a librarian may edit)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast

from mappings import MAPPINGS_DIR
from unicat.errors import ConfigError, UnicatError
from unicat.holding_codes import CodeName, parse_code_file
from unicat.libraries import Library, parse_library_file
from unicat.live_search import LiveProtocol
from unicat.model import PROFILES, Profile, Source, check_source_code
from unicat.tomlfile import read_toml

DATA_DIR = Path(__file__).resolve().parent / "data"
NETWORK_FILE = MAPPINGS_DIR / "demo" / "network.toml"
DIRECTORY_FILE = MAPPINGS_DIR / "demo" / "libraries.toml"

Selection = Literal["all", "even", "odd", "third"]
_SELECTIONS: tuple[Selection, ...] = ("all", "even", "odd", "third")
_ENCODINGS = ("declared", "utf-8")
_LIVE: tuple[LiveProtocol, ...] = ("sru",)
"""How a demo library can be searched live: over SRU, served by a Unicat of its own."""
_KEYS = {"code", "name", "profile", "files", "select", "encoding", "codes", "mapping", "live"}
_FILE_KEYS = {"file", "select"}


@dataclass(frozen=True, slots=True)
class DemoLibrary:
    """One demo library: whose records it serves and how to read them.

    ``force_utf8`` reads records as UTF-8 whatever they declare (files that mis-declare their charset).
    ``codes`` names the codes of its holdings (``unicat/holding_codes.py``), checked when the network
    is read so that a mistake in the file stops the demo before anything is stored. ``mapping`` is
    the text of the source's profile override (``indexer/overrides.py``), checked the same way.
    """

    code: str
    name: str
    profile: Profile
    files: tuple[Path, ...]
    select: Selection = "all"
    force_utf8: bool = False
    codes: tuple[CodeName, ...] = ()
    mapping: str | None = None
    file_select: tuple[Selection, ...] = ()
    live: LiveProtocol | None = None

    def source(self, oai_url: str) -> Source:
        """The :class:`Source` that harvests this library from its running endpoint."""
        return Source(
            code=self.code, name=self.name, oai_url=oai_url, profile=self.profile, mapping=self.mapping
        )


def load_network(path: Path = NETWORK_FILE, data_dir: Path = DATA_DIR) -> list[DemoLibrary]:
    """The libraries of a network file, checked; file names are relative to ``data_dir``."""
    document = read_toml(path, "demo network")
    entries = document.get("library")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"demo network {path}: expected one or more [[library]] tables")
    libraries = [_library(path, number, entry, data_dir) for number, entry in enumerate(entries, 1)]
    codes = [library.code for library in libraries]
    duplicates = sorted({code for code in codes if codes.count(code) > 1})
    if duplicates:
        raise ConfigError(f"demo network {path}: library codes used twice: {', '.join(duplicates)}")
    return libraries


def _library(path: Path, number: int, entry: Any, data_dir: Path) -> DemoLibrary:
    where = f"demo network {path}, library #{number}"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: must be a table")
    unknown = set(entry) - _KEYS
    if unknown:
        raise ConfigError(
            f"{where}: unknown keys {', '.join(sorted(unknown))}; known: {', '.join(sorted(_KEYS))}"
        )
    for key in ("code", "name", "profile", "files"):
        if key not in entry:
            raise ConfigError(f"{where}: missing {key!r}")
    try:
        code = check_source_code(str(entry["code"]))
    except UnicatError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    where = f"demo network {path}, library {code}"
    profile = _choice(where, "profile", entry["profile"], PROFILES)
    select = _choice(where, "select", entry.get("select", "all"), _SELECTIONS)
    encoding = _choice(where, "encoding", entry.get("encoding", "declared"), _ENCODINGS)
    names, file_select = _files(where, entry["files"])
    files = tuple(data_dir / name for name in names)
    missing = [str(file) for file in files if not file.is_file()]
    if missing:
        raise ConfigError(f"{where}: files not found: {', '.join(missing)}")
    return DemoLibrary(
        code=code,
        name=str(entry["name"]),
        profile=cast(Profile, profile),
        files=files,
        select=cast(Selection, select),
        force_utf8=encoding == "utf-8",
        codes=_codes(where, path.parent, entry.get("codes")),
        mapping=_mapping(where, path.parent, entry.get("mapping"), cast(Profile, profile)),
        file_select=file_select,
        live=cast(LiveProtocol, _choice(where, "live", entry["live"], _LIVE)) if "live" in entry else None,
    )


def _files(where: str, entries: Any) -> tuple[list[str], tuple[Selection, ...]]:
    """The file names of a library's ``files`` and the selection within each: an entry is a file name
    (every record of it) or a table ``{ file = "name.mrc", select = "third" }``."""
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"{where}: 'files' must be a non-empty list of file names")
    names: list[str] = []
    selections: list[Selection] = []
    for entry in entries:
        table = entry if isinstance(entry, dict) else {"file": entry}
        if set(table) - _FILE_KEYS or not isinstance(table.get("file"), str):
            raise ConfigError(
                f"{where}: each of 'files' must be a file name or a table {{ file = NAME, select = ... }}, "
                f"got {entry!r}"
            )
        names.append(table["file"])
        selections.append(cast(Selection, _choice(where, "select", table.get("select", "all"), _SELECTIONS)))
    return names, tuple(selections)


def _mapping(where: str, folder: Path, name: Any, profile: Profile) -> str | None:
    """The checked text of a library's profile override file (none without one)."""
    from indexer.overrides import read_override

    if name is None:
        return None
    if not isinstance(name, str) or not (folder / name).is_file():
        raise ConfigError(f"{where}: mapping must name a file in {folder}, got {name!r}")
    return read_override(folder / name, profile)


def load_directory(sources: list[DemoLibrary], path: Path = DIRECTORY_FILE) -> list[Library]:
    """The network's library directory, checked: each library keeps the copies of a demo source."""
    try:
        libraries = parse_library_file(path.read_text(encoding="utf-8"), str(path))
    except UnicatError as exc:
        raise ConfigError(f"demo library directory: {exc}") from exc
    # A library searched live keeps the copies its own catalogue answers with, under its code.
    codes = {source.code for source in sources}
    for library in libraries:
        if library.source is not None and library.source not in codes:
            raise ConfigError(
                f"demo library directory {path}: {library.code} keeps {library.source}, no demo source"
            )
    return libraries


def _codes(where: str, folder: Path, name: Any) -> tuple[CodeName, ...]:
    """The checked entries of a library's ``codes`` file (none without one)."""
    if name is None:
        return ()
    if not isinstance(name, str) or not (folder / name).is_file():
        raise ConfigError(f"{where}: codes must name a file in {folder}, got {name!r}")
    try:
        return tuple(parse_code_file((folder / name).read_text(encoding="utf-8"), str(folder / name)))
    except UnicatError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _choice(where: str, key: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ConfigError(f"{where}: {key} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def library_records(library: DemoLibrary) -> list[bytes]:
    """The raw ISO 2709 records this library holds: its files in order, each file's selection of its
    records, then the library's selection of them all."""
    selections = library.file_select or tuple("all" for _ in library.files)
    records = [
        record
        for file, selection in zip(library.files, selections, strict=True)
        for record in _selected(list(_iso2709_records(file)), selection)
    ]
    return _selected(records, library.select)


def _selected(records: list[bytes], selection: Selection) -> list[bytes]:
    """Positions counted from 0: even, odd, every third (0, 3, 6…) or all."""
    if selection == "even":
        return records[0::2]
    if selection == "odd":
        return records[1::2]
    if selection == "third":
        return records[0::3]
    return records


def _iso2709_records(file: Path) -> Iterator[bytes]:
    """Cut a well-formed ISO 2709 file by record length (demo files are known to be well formed)."""
    data = file.read_bytes()
    position = 0
    while position < len(data):
        length = data[position : position + 5]
        if not length.isdigit() or int(length) == 0:
            raise ConfigError(f"{file}: byte {position} does not start an ISO 2709 record")
        yield data[position : position + int(length)]
        position += int(length)
