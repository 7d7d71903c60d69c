"""``unicat library``: the network's library directory (unicat/libraries.py) from the command line —
add, update, list, show, remove, and import or export the TOML file of docs/cli.md#libraries."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.libraries import LANGUAGES, WEEKDAYS, Library, format_library_file, parse_library_file
from unicat.settings import Settings
from unicat_cli.files import check_readable, output_file
from unicat_cli.steps import echo

EXIT_OK = 0
SITES_NOTE = "copies are resolved to libraries when records are indexed: run `unicat index` to apply it"

# Options that set one field of a library, by the field's name.
_TEXT_OPTIONS = ("source", "street", "postcode", "city", "country", "email", "phone", "website", "opac_url")


def add_library_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    library = commands.add_parser(
        "library", help="the library directory: each library's address, hours, contact, shuttle, OPAC link"
    )
    actions = library.add_subparsers(dest="library_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add a library to the directory")
    update = actions.add_parser("update", help="change a library (only the options given)")
    for action in (add, update):
        action.add_argument(
            "code", metavar="CODE", help="the library's code (letters, digits, '_', '.', '-')"
        )
        action.add_argument(
            "--name", required=action is add, help="the name shown when none is in the reader's language"
        )
        for language in LANGUAGES:
            action.add_argument(f"--name-{language}", metavar="NAME", help=f"the name in {language}")
        action.add_argument("--source", metavar="SOURCE", help="the harvested source whose holdings it keeps")
        branches = action.add_mutually_exclusive_group()
        branches.add_argument(
            "--branch",
            action="append",
            metavar="CODE",
            help="a branch code of the source's holdings (852 $a, 952 $a, 995 $b) that means this library; "
            "repeat for several (none: every copy of the source no other library claims)",
        )
        branches.add_argument("--no-branch", action="store_true", help="claim no branch code (update)")
        action.add_argument("--street")
        action.add_argument("--postcode")
        action.add_argument("--city")
        action.add_argument("--country")
        action.add_argument("--latitude", type=float, metavar="DEGREES")
        action.add_argument("--longitude", type=float, metavar="DEGREES")
        action.add_argument(
            "--hours",
            action="append",
            metavar="DAY=HOURS",
            help='opening hours of a weekday, e.g. monday="09:00-12:30, 14:00-18:00" or sunday=closed '
            "(repeat per day; an empty value forgets the day)",
        )
        action.add_argument("--email")
        action.add_argument("--phone")
        action.add_argument("--website", metavar="URL")
        action.add_argument(
            "--shuttle", action=argparse.BooleanOptionalAction, help="takes part in the inter-library shuttle"
        )
        action.add_argument(
            "--opac-url",
            metavar="TEMPLATE",
            help="link to a record in the library's catalogue: an http(s) URL with {local_id}, {isbn}, "
            "{issn}, {title} or {union_id}",
        )
    listing = actions.add_parser("list", help="every library, by code")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="one library, every field")
    show.add_argument("code", metavar="CODE")
    show.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", help="forget a library")
    remove.add_argument("code", metavar="CODE")
    imp = actions.add_parser(
        "import", help="add or replace the libraries of a TOML file ([[library]] tables)"
    )
    imp.add_argument("file", type=Path, metavar="FILE")
    export = actions.add_parser("export", help="every library as a TOML file that `library import` reads")
    export.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)")


def _hours(entries: list[str]) -> dict[str, str]:
    hours = {}
    for entry in entries:
        day, sep, text = entry.partition("=")
        day = day.strip().lower()
        if not sep or day not in WEEKDAYS:
            raise BadParameter(
                "--hours", f"{entry[:50]!r}: write DAY=HOURS with a day among {', '.join(WEEKDAYS)}"
            )
        hours[day] = text
    return hours


def _changes(args: argparse.Namespace) -> dict[str, Any]:
    """The fields the options set (those given only)."""
    changes: dict[str, Any] = {
        name: getattr(args, name) for name in _TEXT_OPTIONS if getattr(args, name) is not None
    }
    if args.name is not None:
        changes["name"] = args.name
    for name in ("latitude", "longitude", "shuttle"):
        if getattr(args, name) is not None:
            changes[name] = getattr(args, name)
    if args.branch is not None:
        changes["branches"] = tuple(args.branch)
    elif args.no_branch:
        changes["branches"] = ()
    return changes


def _updated(library: Library, args: argparse.Namespace) -> Library:
    names = dict(library.names)
    for language in LANGUAGES:
        given = getattr(args, f"name_{language}")
        if given is not None:
            names[language] = given
    hours = {**library.opening_hours, **_hours(args.hours or [])}
    # An empty text forgets a field ("--email ''"), as the library's checks read it.
    return dataclasses.replace(library, names=names, opening_hours=hours, **_changes(args))


def _describe(library: Library) -> str:
    lines = [f"{library.code}  {library.name}"]
    lines += [f"  name ({language}): {name}" for language, name in library.names.items()]
    if library.source:
        branches = ", ".join(library.branches) or "every copy no other library claims"
        lines.append(f"  keeps: {library.source} ({branches})")
    address = ", ".join(
        part for part in (library.street, library.postcode, library.city, library.country) if part
    )
    if address:
        lines.append(f"  address: {address}")
    if library.located:
        lines.append(f"  coordinates: {library.latitude}, {library.longitude}")
    lines += [f"  {day}: {hours}" for day, hours in library.opening_hours.items()]
    for name in ("email", "phone", "website", "opac_url"):
        if getattr(library, name):
            lines.append(f"  {name}: {getattr(library, name)}")
    lines.append(f"  shuttle: {'yes' if library.shuttle else 'no'}")
    return "\n".join(lines)


def cmd_library(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    store = catalogue.libraries
    command = args.library_command
    if command == "list":
        libraries = store.list_libraries()
        if args.json:
            echo(json.dumps([library.to_json() for library in libraries], ensure_ascii=False, indent=2))
        else:
            for library in libraries:
                where = f"{library.source}{' ' + ','.join(library.branches) if library.branches else ''}"
                shuttle = "shuttle" if library.shuttle else ""
                echo(f"{library.code:<12} {library.name:<44} {library.city or '':<20} {where:<20} {shuttle}")
            echo(f"{len(libraries):,} libraries")
        return EXIT_OK
    if command == "export":
        text = format_library_file(store.list_libraries())
        if args.out is None:
            echo(text.rstrip("\n"))
        else:
            with output_file("--out", args.out) as out:
                out.write(text.encode("utf-8"))
        return EXIT_OK
    if command == "import":
        check_readable("FILE", args.file)
        try:
            text = args.file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadParameter("FILE", f"{args.file} is not UTF-8 text") from exc
        count = store.put_libraries(parse_library_file(text, str(args.file)))
        echo(f"imported {count:,} libraries; {SITES_NOTE}")
        return EXIT_OK
    code = args.code.strip()
    if command == "add":
        library = _updated(Library(code=code, name=args.name), args)
        store.add_library(library)
        echo(f"added library {library.code}; {SITES_NOTE}")
        return EXIT_OK
    stored = store.get_library(code)
    if stored is None:
        raise BadParameter("CODE", f"no library {code!r}: `unicat library list` lists them")
    if command == "show":
        echo(json.dumps(stored.to_json(), ensure_ascii=False, indent=2) if args.json else _describe(stored))
    elif command == "update":
        store.update_library(_updated(stored, args))
        echo(f"updated library {code}; {SITES_NOTE}")
    else:
        store.remove_library(code)
        echo(f"removed library {code}; {SITES_NOTE}")
    return EXIT_OK
