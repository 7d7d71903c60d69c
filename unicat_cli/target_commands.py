"""``unicat target``: the live targets (catalogues searched at query time over SRU or Z39.50, see
docs/live-search.md) from the command line — add or update, list, show, remove, and test one: a search
sent to it as the web app sends one, its records read and merged with the union's as the search page
would show them.

A target is configured like a source: ``add`` of a stored code changes only the options given, as
``unicat source add`` keeps a source's mapping, and every value is checked by
:func:`unicat.live_targets.check_target` before anything is stored.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import time
from typing import Any

from federated.query_translation import check_cql_index, pqf_attributes
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter
from unicat.live_search import (
    DEFAULT_MAX_RECORDS,
    DEFAULT_TIMEOUT,
    MAX_RECORDS,
    MAX_TIMEOUT,
    QUERY_MAP_FIELDS,
    LiveProtocol,
    LiveTarget,
    LiveTargetError,
    MergedHit,
)
from unicat.live_targets import (
    MIN_TIMEOUT,
    RECORD_SYNTAXES,
    check_target,
    default_record_syntax,
    target_to_json,
)
from unicat.model import PROFILES
from unicat.query import parse_search_params
from unicat.settings import Settings
from unicat_cli.live import open_live_parts
from unicat_cli.steps import echo

EXIT_OK = 0
EXIT_TARGET_FAILED = 1
DEFAULT_TEST_QUERY = "the"
"""A word nearly every catalogue holds in some title, so that a test shows records."""
TEST_TITLES_SHOWN = 10


def add_target_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    target = commands.add_parser(
        "target", help="live targets: catalogues searched at query time over SRU or Z39.50"
    )
    actions = target.add_subparsers(dest="target_command", required=True, metavar="ACTION")
    add = actions.add_parser(
        "add",
        help="add a live target, or update one: options not given keep their values",
        description="Add a live target, or update the one of CODE: the options not given keep the values "
        "it has (as `unicat source add` keeps a source's mapping).",
    )
    add.add_argument("code", metavar="CODE", help="short code, as a source's (not a harvested source's code)")
    add.add_argument("--name", help="the catalogue's name as patrons know it (needed for a new target)")
    address = add.add_mutually_exclusive_group()
    address.add_argument("--sru", metavar="URL", help="the SRU server's base URL, http(s)://host[:port]/path")
    address.add_argument("--z3950", metavar="HOST:PORT/DB", help="the Z39.50 server and its database")
    syntaxes = sorted({syntax for values in RECORD_SYNTAXES.values() for syntax in values})
    add.add_argument(
        "--syntax",
        metavar="SYNTAX",
        help=f"the record syntax to ask for ({', '.join(syntaxes)}): over SRU marcxml; over Z39.50 by "
        "default usmarc, or unimarc for a UNIMARC target",
    )
    add.add_argument("--profile", choices=PROFILES, help="MARC flavour of its records (marc21)")
    add.add_argument(
        "--charset",
        metavar="CHARSET",
        help="the records' character set when the server does not say it (marc8, iso-8859-1…); "
        "'' reads them as harvested records are read",
    )
    add.add_argument(
        "--map",
        action="append",
        metavar="FIELD=INDEX",
        help=f"search FIELD ({', '.join(QUERY_MAP_FIELDS)}) with INDEX: a CQL index over SRU "
        "(title=dc.title), Bib-1 attributes over Z39.50 (title='@attr 1=4'); repeat for several; "
        "FIELD= forgets one",
    )
    add.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"how long a search waits for its answer ({MIN_TIMEOUT:g} to {MAX_TIMEOUT:g} seconds; "
        f"default {DEFAULT_TIMEOUT:g})",
    )
    libraries = add.add_mutually_exclusive_group()
    libraries.add_argument(
        "--library",
        action="append",
        metavar="CODE",
        help="a library of the network whose holdings the target's hits count as; repeat for several "
        "(replaces the list the target had)",
    )
    libraries.add_argument("--no-library", action="store_true", help="stand for no library (update)")
    add.add_argument(
        "--max-records",
        type=int,
        metavar="N",
        help=f"records fetched per search (1 to {MAX_RECORDS}; default {DEFAULT_MAX_RECORDS})",
    )
    enabled = add.add_mutually_exclusive_group()
    enabled.add_argument(
        "--enable", dest="enabled", action="store_const", const=True, help="search it (the default)"
    )
    enabled.add_argument(
        "--disable", dest="enabled", action="store_const", const=False, help="keep it, but do not search it"
    )
    listing = actions.add_parser("list", help="every live target, by code")
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = actions.add_parser("show", help="one live target, every value")
    show.add_argument("code", metavar="CODE")
    show.add_argument("--json", action="store_true", help="print JSON")
    remove = actions.add_parser("remove", help="forget a live target")
    remove.add_argument("code", metavar="CODE")
    test = actions.add_parser(
        "test",
        help="search one target now (enabled or not) and say what it answered",
        description="Send a search to the target as the search page does, read its records as harvested "
        "ones are read and merge them with the union's hits of the same search; exit status 1 when the "
        "target failed or timed out.",
    )
    test.add_argument("code", metavar="CODE")
    test.add_argument(
        "--query",
        default=DEFAULT_TEST_QUERY,
        metavar="TEXT",
        help=f"what to search, as typed in the search box (default {DEFAULT_TEST_QUERY!r})",
    )
    test.add_argument("--json", action="store_true", help="print JSON")


def _query_map(kept: dict[str, str], entries: list[str]) -> dict[str, str]:
    """The map the target had, with each ``FIELD=INDEX`` set and each ``FIELD=`` forgotten."""
    query_map = dict(kept)
    for entry in entries:
        name, sep, index = entry.partition("=")
        if not sep:
            raise BadParameter("--map", f"{entry[:50]!r}: write FIELD=INDEX, e.g. title=dc.title")
        if index.strip():
            query_map[name.strip()] = index
        else:
            query_map.pop(name.strip(), None)
    return query_map


def _address(args: argparse.Namespace, stored: LiveTarget | None) -> tuple[LiveProtocol, str]:
    if args.sru is not None:
        return "sru", args.sru
    if args.z3950 is not None:
        return "z3950", args.z3950
    if stored is None:
        raise BadParameter("--sru", "a new target needs its address: --sru URL or --z3950 HOST:PORT/DB")
    return stored.protocol, stored.address


def _configured(args: argparse.Namespace, stored: LiveTarget | None) -> LiveTarget:
    """The target the options describe: the stored one with the options given applied, or a new one."""
    code = args.code.strip()
    protocol, address = _address(args, stored)
    name = args.name if args.name is not None else (stored.name if stored else None)
    if name is None:
        raise BadParameter("--name", "a new target needs a name: --name NAME")
    base = stored or LiveTarget(code, name, protocol, address)
    profile = args.profile or base.profile
    # A syntax never chosen follows the protocol and profile; one chosen stays while the protocol does.
    if args.syntax is not None:
        syntax = args.syntax
    elif (
        stored is not None
        and stored.protocol == protocol
        and stored.record_syntax != default_record_syntax(stored.protocol, stored.profile)
    ):
        syntax = stored.record_syntax
    else:
        syntax = default_record_syntax(protocol, profile)
    changes: dict[str, Any] = {
        "name": name,
        "protocol": protocol,
        "address": address,
        "record_syntax": syntax,
        "profile": profile,
        "query_map": _query_map(dict(base.query_map), args.map or []),
        "updated": None,  # stored now
    }
    if args.charset is not None:
        changes["charset"] = args.charset
    if args.library is not None:
        changes["libraries"] = tuple(args.library)
    elif args.no_library:
        changes["libraries"] = ()
    for option in ("timeout", "max_records", "enabled"):
        if getattr(args, option) is not None:
            changes[option] = getattr(args, option)
    return dataclasses.replace(base, **changes)


def _libraries(target: LiveTarget) -> str:
    return ", ".join(target.libraries) or "none"


def _describe(target: LiveTarget) -> str:
    lines = [
        f"{target.code}  {target.name}",
        f"  protocol: {target.protocol}",
        f"  address: {target.address}",
        f"  record syntax: {target.record_syntax}",
        f"  profile: {target.profile}",
        f"  charset: {target.charset or 'as harvested records (UTF-8 or MARC-8 by the leader)'}",
    ]
    lines += [f"  map {name}: {index}" for name, index in target.query_map.items()]
    lines += [
        f"  timeout: {target.timeout:g} s",
        f"  libraries: {_libraries(target)}",
        f"  max records: {target.max_records}",
        f"  enabled: {'yes' if target.enabled else 'no'}",
        f"  created: {target.created}, updated: {target.updated}",
    ]
    return "\n".join(lines)


def cmd_target(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    store = catalogue.targets
    command = args.target_command
    if command == "list":
        targets = store.list_targets()
        if args.json:
            echo(json.dumps([target_to_json(target) for target in targets], ensure_ascii=False, indent=2))
        elif not targets:
            echo("no live targets yet: add one with `unicat target add`")
        for target in [] if args.json else targets:
            enabled = "enabled" if target.enabled else "disabled"
            echo(
                f"{target.code:<12} {target.protocol:<6} {target.address:<44} {target.profile:<8} "
                f"{_libraries(target):<20} {enabled}"
            )
        return EXIT_OK
    code = args.code.strip()
    stored = store.get_target(code)
    if command == "add":
        target = check_target(
            _configured(args, stored),
            # A file-fed source of a stored target's code holds the records librarians imported
            # from its live searches (docs/live-search.md): it is the target's, not another's.
            sources={
                source.code for source in catalogue.records.list_sources() if source.oai_url or stored is None
            },
            libraries={library.code for library in catalogue.libraries.list_libraries()},
        )
        check_query_map_indexes(target)
        saved = store.save_target(target)
        verb = "updated" if stored is not None else "added"
        echo(
            f"{verb} live target {saved.code} ({saved.protocol} {saved.address}, {saved.record_syntax}, "
            f"{saved.profile}; libraries: {_libraries(saved)}{'' if saved.enabled else '; disabled'})"
        )
        if stored is not None and stored.protocol != saved.protocol and saved.query_map and not args.map:
            # A CQL index means nothing to a Z39.50 server, Bib-1 attributes nothing to an SRU one.
            echo(
                f"note: its query map is kept as it was for {stored.protocol}: "
                "change it with --map FIELD=INDEX"
            )
        return EXIT_OK
    if stored is None:
        raise BadParameter("CODE", f"no live target {code!r}: `unicat target list` lists them")
    if command == "test":
        return asyncio.run(_test(stored, args, settings, catalogue))
    if command == "show":
        echo(
            json.dumps(target_to_json(stored), ensure_ascii=False, indent=2)
            if args.json
            else _describe(stored)
        )
    else:
        store.remove_target(code)
        echo(f"removed live target {code}")
    return EXIT_OK


def check_query_map_indexes(target: LiveTarget) -> None:
    """Refuse a query map the target's protocol cannot send: a CQL index name over SRU, Bib-1
    attributes over Z39.50 (each query is written with them, so a wrong one fails every search)."""
    check = check_cql_index if target.protocol == "sru" else pqf_attributes
    for value in target.query_map.values():
        check(value)


async def _test(
    target: LiveTarget, args: argparse.Namespace, settings: Settings, catalogue: Catalogue
) -> int:
    """Search ``target`` for ``--query``'s first page and print what came back and how it merges."""
    query = parse_search_params({"q": [args.query]}, settings)
    live = open_live_parts(catalogue)
    started = time.monotonic()
    try:
        answer = await live.service.ask(target, query)
    except LiveTargetError as error:
        seconds = time.monotonic() - started
        _print_test(
            args,
            {
                "code": target.code,
                "state": "failed",
                "error": error.kind,
                "message": error.message,
                "seconds": round(seconds, 3),
            },
        )
        return EXIT_TARGET_FAILED
    finally:
        await live.service.close()
    seconds = time.monotonic() - started
    batch = live.reader.read(target, answer.records)
    union = catalogue.index.search(query).hits
    merged = live.merger.merge(union, batch.records)
    shown = [_test_line(hit) for hit in merged if target.code in hit.found_by]
    report = {
        "code": target.code,
        "state": "done",
        "query": args.query,
        "hits": answer.total,
        "seconds": round(seconds, 3),
        "records": len(answer.records),
        "skipped": answer.skipped,
        "rejected": [{"position": item.position, "reason": item.reason} for item in batch.rejected],
        "titles": shown[:TEST_TITLES_SHOWN],
        "in_union": sum(1 for line in shown if line["in_union"]),
    }
    _print_test(args, report)
    return EXIT_OK


def _test_line(hit: MergedHit) -> dict[str, Any]:
    """One line the target's records make on the page: its title, and the union record it joined."""
    return {
        "title": hit.record.title,
        "year": hit.record.year,
        "in_union": hit.in_union,
        "union_id": hit.record.id if hit.in_union else None,
    }


def _print_test(args: argparse.Namespace, report: dict[str, Any]) -> None:
    if args.json:
        echo(json.dumps(report, ensure_ascii=False, indent=2))
        return
    if report["state"] != "done":
        echo(
            f"{report['code']}: failed after {report['seconds']:g} s ({report['error']}): {report['message']}"
        )
        return
    echo(
        f"{report['code']}: {report['hits']:,} hits for {report['query']!r} in {report['seconds']:g} s; "
        f"{report['records']} records received, {len(report['rejected'])} set aside"
        + (f", {report['skipped']} sent as diagnostics" if report["skipped"] else "")
    )
    for rejected in report["rejected"]:
        echo(f"  set aside #{rejected['position']}: {rejected['reason']}")
    for line in report["titles"]:
        where = f"in the union as {line['union_id']}" if line["in_union"] else "not in the union"
        year = f" ({line['year']})" if line["year"] else ""
        echo(f"  {line['title']}{year} — {where}")
