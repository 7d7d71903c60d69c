"""The ``unicat`` command: the composition root.

It builds the settings and the catalogue once and hands them to the stages (``harvester``,
``indexer``, ``search_app``). Stages are imported inside the commands that use them, so that each
command loads only what it needs (``unicat status`` never loads the web application).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import logging
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from unicat import __version__
from unicat.accounts import User
from unicat.catalogue import Catalogue
from unicat.errors import BadParameter, SourceNotFound, UnicatError, UserExists, UserNotFound
from unicat.holding_codes import CODE_KINDS
from unicat.model import PROFILES, QUARANTINE_STAGES, Source, SourceRef, check_source_code
from unicat.ports.accounts import AccountStore
from unicat.ports.records import RecordStore
from unicat.quarantine import DEFAULT_PAGE_SIZE
from unicat.settings import Settings, settings_from_environment
from unicat.status import DEFAULT_HISTORY, MAX_HISTORY, catalogue_status, format_status, printable
from unicat_cli.alerts_commands import add_alerts_parser, cmd_alerts
from unicat_cli.files import check_readable, output_file
from unicat_cli.libraries import add_library_parser, cmd_library
from unicat_cli.log_repeats import RepeatLimiter
from unicat_cli.mail_commands import add_mail_parser, cmd_mail
from unicat_cli.progress import ProgressLine
from unicat_cli.steps import echo, harvest_step, index_step, serve_forever
from unicat_cli.target_commands import add_target_parser, cmd_target
from unicat_cli.wiring import open_catalogue

log = logging.getLogger("unicat")

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2

CODES_SHOWN_NOTE = (
    "names are applied when holdings are shown: no re-index is needed, and a running `unicat serve` "
    "shows them within 30 seconds"
)


def _history_length(text: str) -> int:
    """``status --runs N``: a whole number from 0 to MAX_HISTORY (anything else is a usage error)."""
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_HISTORY:
        raise argparse.ArgumentTypeError(f"expected a whole number from 0 to {MAX_HISTORY}, got {text!r}")
    return int(text)


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="unicat",
        description="Unicat: a union library catalogue (OAI-PMH harvester, MARC indexer, search app).",
    )
    parser.add_argument("--version", action="version", version=f"unicat {__version__}")
    parser.add_argument(
        "--store",
        metavar="URL",
        help="the database of accounts and readers' data: sqlite:///path/to/unicat.db (default: the "
        "index's SQLite file, else ./unicat-data/unicat.db) or postgresql://user@host:port/db "
        "(env UNICAT_STORE)",
    )
    parser.add_argument(
        "--index",
        dest="index_url",
        metavar="URL",
        help="the union index with the records: sqlite:///path/to/unicat.db (default "
        "./unicat-data/unicat.db) or http://host:port[/prefix] for Elasticsearch (env UNICAT_INDEX)",
    )
    parser.add_argument(
        "--engine", metavar="URL", help="the name of --index in earlier releases (env UNICAT_ENGINE)"
    )
    parser.add_argument("--config", type=Path, metavar="FILE", help="a unicat.toml settings file")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="where the embedded engine lives")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="log what each stage does (-vv: debug details)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="log errors only")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="run the demo network: harvest, index and serve it")
    demo.add_argument("--host", default=None, help="address to serve on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, default=None, help="port to serve on (default 8080; 0 = any)")
    demo.add_argument("--no-serve", action="store_true", help="stop after indexing (for scripts)")

    source = commands.add_parser("source", help="register and list sources (libraries)")
    source_commands = source.add_subparsers(dest="source_command", required=True, metavar="ACTION")
    add = source_commands.add_parser("add", help="add or update a source")
    add.add_argument("code", help="short code of the source, e.g. NAMUR")
    add.add_argument("--name", required=True, help="the library's name as patrons know it")
    add.add_argument("--oai-url", help="OAI-PMH base URL (omit for a source fed by `unicat import`)")
    add.add_argument("--metadata-prefix", default="marcxml", help="OAI-PMH metadataPrefix (marcxml)")
    add.add_argument("--set", dest="set_spec", help="OAI-PMH set to harvest")
    add.add_argument("--profile", choices=PROFILES, default="marc21", help="MARC flavour (marc21)")
    add.add_argument(
        "--interval",
        metavar="DURATION",
        help="harvest it on its own this often while `unicat serve` runs: 90m, 6h, 1d or seconds",
    )
    mapping = add.add_mutually_exclusive_group()
    mapping.add_argument(
        "--mapping",
        type=Path,
        metavar="FILE",
        help="a TOML profile override for this source (holdings tags, call numbers, library names…); "
        "kept when the source is updated without it",
    )
    mapping.add_argument("--no-mapping", action="store_true", help="drop the source's profile override")
    listing = source_commands.add_parser("list", help="list the sources")
    listing.add_argument("--json", action="store_true", help="print JSON")

    imp = commands.add_parser("import", help="load ISO2709 or MARCXML dump files as a source")
    imp.add_argument("code", help="source code (created if absent)")
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    imp.add_argument("--name", help="name for a new source (default: the code)")
    imp.add_argument("--profile", choices=PROFILES, help="MARC flavour for a new source (marc21)")

    harvest = commands.add_parser("harvest", help="harvest sources over OAI-PMH (incremental)")
    harvest.add_argument("codes", nargs="*", metavar="CODE", help="sources to harvest (default: all)")
    harvest.add_argument(
        "--full",
        action="store_true",
        help="harvest everything again, then mark deleted what the source no longer has",
    )
    harvest.add_argument(
        "--from",
        dest="from_",
        metavar="DATE",
        help="only records changed since DATE (YYYY-MM-DD[Thh:mm:ssZ])",
    )
    harvest.add_argument("--until", metavar="DATE", help="only records changed up to DATE")

    index = commands.add_parser("index", help="build the union catalogue from the stored records")
    index.add_argument(
        "--rebuild",
        action="store_true",
        help="rebuild the union index whole from the record store (atomically: searches see the old "
        "index until the new one is whole); without it, only what changed since the last index is "
        "written when that is possible",
    )

    serve = commands.add_parser("serve", help="serve the search app")
    serve.add_argument("--host", default=None, help="address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8080)")

    status = commands.add_parser(
        "status", help="show each source's health, counts, harvests and the latest quarantined records"
    )
    status.add_argument("codes", nargs="*", metavar="CODE", help="only these sources, with their history")
    status.add_argument("--json", action="store_true", help="print JSON (always with each history)")
    status.add_argument("--history", action="store_true", help="print every source's latest runs too")
    status.add_argument(
        "--runs",
        type=_history_length,
        default=DEFAULT_HISTORY,
        metavar="N",
        help=f"how many runs each history holds (default {DEFAULT_HISTORY}, at most {MAX_HISTORY})",
    )

    export = commands.add_parser("export", help="write the union records to a file or stdout")
    export.add_argument("--format", choices=("jsonl", "marcxml"), required=True)
    export.add_argument("--out", type=Path, help="output file (default: standard output)")
    migrate = commands.add_parser(
        "migrate",
        help="copy the whole catalogue into another index and store (SQLite → Elasticsearch + PostgreSQL)",
    )
    migrate.add_argument("--to", required=True, metavar="URL", help="the target index's URL")
    migrate.add_argument(
        "--to-store",
        metavar="URL",
        help="the target store's URL (default: the --to file when it is SQLite, else the source's store, "
        "which is then kept as it is)",
    )
    migrate.add_argument("--force", action="store_true", help="copy even if the target is not empty")
    _add_quarantine_parser(commands)
    _add_merge_parser(commands)
    _add_codes_parser(commands)
    _add_users_parser(commands)
    add_mail_parser(commands)
    add_alerts_parser(commands)
    add_library_parser(commands)
    add_target_parser(commands)
    return parser


def _add_users_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    users = commands.add_parser("users", help="accounts: add the first librarians, list them, change roles")
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="make an account (the password is asked, or read from stdin)")
    add.add_argument("email", metavar="EMAIL")
    add.add_argument("--name", required=True, help="the name shown beside the account's comments")
    add.add_argument("--role", default="patron", help="patron (default), librarian or admin")
    add.add_argument("--library", metavar="CODE", help="the library a librarian works at")
    listing = actions.add_parser("list", help="every account, oldest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    role = actions.add_parser("set-role", help="change an account's role (and its library)")
    role.add_argument("email", metavar="EMAIL")
    role.add_argument("role", metavar="ROLE", help="patron, librarian or admin")
    where = role.add_mutually_exclusive_group()
    where.add_argument("--library", metavar="CODE", help="the library a librarian works at")
    where.add_argument("--no-library", action="store_true", help="attach the account to no library")
    password = actions.add_parser("set-password", help="give an account a new password (signs it out)")
    password.add_argument("email", metavar="EMAIL")
    for action in (add, password):
        action.add_argument(
            "--password-stdin", action="store_true", help="read the password from standard input (scripts)"
        )


def _add_merge_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    merge = commands.add_parser(
        "merge", help="see why records were merged; split a wrong merge or force a missed one"
    )
    actions = merge.add_subparsers(dest="merge_command", required=True, metavar="ACTION")
    show = actions.add_parser("show", help="a union record's members, the rules that merged them, decisions")
    show.add_argument("union_id", metavar="UNION_ID")
    show.add_argument("--json", action="store_true", help="print JSON")
    split = actions.add_parser("split", help="keep one member apart from the rest of a union record")
    split.add_argument("union_id", metavar="UNION_ID")
    split.add_argument("member", metavar="SOURCE:LOCAL_ID", help="the member to take out")
    force = actions.add_parser("force", help="make two union records one edition")
    force.add_argument("union_id", metavar="UNION_ID")
    force.add_argument("other_id", metavar="OTHER_UNION_ID")
    for action in (split, force):
        action.add_argument("--reason", default="", help="why (shown to other librarians)")
        action.add_argument("--by", default="", help="who decided (a name or login)")
        action.add_argument("--index", action="store_true", help="re-index at once to apply it")
    listing = actions.add_parser("list", help="every stored decision, oldest first")
    listing.add_argument("--json", action="store_true", help="print JSON")
    undo = actions.add_parser("undo", help="forget a decision (the rules decide again)")
    undo.add_argument("decision_id", metavar="ID", type=int)
    undo.add_argument("--index", action="store_true", help="re-index at once")


def _add_codes_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    codes = commands.add_parser(
        "codes", help="name the codes of a source's holdings (branches, locations, document types…)"
    )
    actions = codes.add_subparsers(dest="codes_command", required=True, metavar="ACTION")
    kinds = ", ".join(CODE_KINDS)
    set_ = actions.add_parser("set", help="give one code a name (replacing the name it had)")
    set_.add_argument("source", metavar="SOURCE")
    set_.add_argument("kind", metavar="KIND", help=f"one of {kinds}")
    set_.add_argument("code", metavar="CODE", help="the code as the holdings carry it, e.g. CN")
    set_.add_argument("name", metavar="NAME", help="the name patrons read")
    listing = actions.add_parser("list", help="a source's tables, by kind then code")
    listing.add_argument("source", metavar="SOURCE")
    listing.add_argument("--json", action="store_true", help="print JSON")
    imp = actions.add_parser(
        "import", help='set many names from a .toml ([KIND] CODE = "NAME") or .csv (kind,code,name) file'
    )
    imp.add_argument("source", metavar="SOURCE")
    imp.add_argument("file", type=Path, metavar="FILE")
    remove = actions.add_parser("remove", help="forget codes (all of a kind, or every table of the source)")
    remove.add_argument("source", metavar="SOURCE")
    remove.add_argument("kind", nargs="?", metavar="KIND", help=f"one of {kinds} (default: every kind)")
    remove.add_argument("codes", nargs="*", metavar="CODE", help="the codes to forget (default: all of KIND)")


def _add_quarantine_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    quarantine = commands.add_parser(
        "quarantine", help="list, show and drop the records that could not be taken in"
    )
    actions = quarantine.add_subparsers(dest="quarantine_command", required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="the quarantined records, newest first, with counts")
    listing.add_argument("--source", metavar="CODE", help="only this source's records")
    listing.add_argument("--stage", metavar="STAGE", help="only this stage's: harvest, import or index")
    listing.add_argument(
        "--kind", metavar="KIND", help="only records set aside as this kind: authority, holdings, untitled…"
    )
    listing.add_argument("--page", default="1", metavar="N", help="which page (default 1)")
    listing.add_argument(
        "--page-size",
        default=str(DEFAULT_PAGE_SIZE),
        metavar="N",
        help=f"entries per page (default {DEFAULT_PAGE_SIZE})",
    )
    listing.add_argument("--json", action="store_true", help="print JSON (the /api/quarantine shape)")
    show = actions.add_parser("show", help="write a quarantined record's raw bytes, to fix it")
    show.add_argument("source", metavar="CODE")
    show.add_argument("local_id", metavar="LOCAL_ID")
    show.add_argument("--stage", metavar="STAGE", help="which entry when it has several (default: newest)")
    show.add_argument("--out", type=Path, metavar="FILE", help="write to FILE (default: standard output)")
    drop = actions.add_parser("drop", help="forget quarantined records a librarian has dealt with")
    drop.add_argument("source", metavar="CODE")
    drop.add_argument("local_ids", nargs="+", metavar="LOCAL_ID")
    drop.add_argument("--stage", metavar="STAGE", help="only this stage's entries (default: every stage)")


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_OAI_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?$")


def parse_duration(text: str) -> float:
    """``90m``, ``6h``, ``1d``, ``45s`` or plain seconds → seconds (at least one minute)."""
    match = _DURATION.match(text)
    if match is None:
        raise BadParameter(
            "--interval", f"{text!r} is not a duration: write 90m, 6h, 1d or a number of seconds"
        )
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if seconds < 60:
        raise BadParameter(
            "--interval", f"{text!r} is shorter than a minute; libraries' servers deserve more"
        )
    return seconds


def check_oai_date(option: str, text: str) -> str:
    """An OAI-PMH date (``YYYY-MM-DD``) or UTC datetime (``YYYY-MM-DDThh:mm:ssZ``), checked."""
    if _OAI_DATE.match(text):
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00"))
            return text
        except ValueError:
            pass
    raise BadParameter(option, f"{text!r} is not an OAI-PMH date: write YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def _configure_logging(args: argparse.Namespace, settings: Settings) -> None:
    if args.quiet:
        level: int | str = logging.ERROR
    elif args.verbose:
        level = logging.DEBUG if args.verbose > 1 else logging.INFO
    else:
        level = settings.log_level
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # A failure repeated by thousands of clients (or of records) is logged a few times, then counted.
    handler.addFilter(RepeatLimiter(handler))
    logging.basicConfig(level=level, handlers=[handler])


# -- commands ------------------------------------------------------------------------------------


def _source_mapping(args: argparse.Namespace, store: RecordStore, code: str) -> str | None:
    """The override the saved source gets: the file given (checked now, against the source's
    profile), none with ``--no-mapping``, else the one the source already had."""
    from indexer.overrides import read_override, source_profile

    if args.mapping is not None:
        check_readable("--mapping", args.mapping)
        return read_override(args.mapping, args.profile)
    if args.no_mapping:
        return None
    try:
        kept = store.get_source(code).mapping
    except SourceNotFound:
        return None
    # The profile may have changed: the kept override must still hold for the new one.
    source_profile(Source(code=code, name=args.name, profile=args.profile, mapping=kept))
    return kept


def cmd_source(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    store = catalogue.records
    if args.source_command == "add":
        code = check_source_code(args.code)
        source = Source(
            code=code,
            name=args.name,
            oai_url=args.oai_url,
            metadata_prefix=args.metadata_prefix,
            set_spec=args.set_spec,
            profile=args.profile,
            harvest_interval=parse_duration(args.interval) if args.interval else None,
            mapping=_source_mapping(args, store, code),
        )
        store.save_source(source)
        override = f", profile override from {args.mapping}" if args.mapping else ""
        echo(f"source {source.code} saved ({source.profile}, {source.oai_url or 'file imports'}{override})")
        return EXIT_OK
    sources = store.list_sources()
    if args.json:
        echo(json.dumps([source.to_json() for source in sources], ensure_ascii=False, indent=2))
    elif not sources:
        echo("no sources yet: add one with `unicat source add` or `unicat import`")
    for source in [] if args.json else sources:
        where = source.oai_url or "file imports"
        override = " (profile override)" if source.mapping else ""
        echo(f"{source.code:<10} {source.profile:<8} {source.name} — {where}{override}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from harvester.importer import import_files

    store = catalogue.records
    code = check_source_code(args.code)
    try:
        source = store.get_source(code)
    except SourceNotFound:
        source = Source(code=code, name=args.name or code, profile=args.profile or "marc21")
        store.save_source(source)
        echo(f"new source {code} ({source.profile})")
    for path in args.files:
        check_readable("FILE", path)
    progress = ProgressLine()
    try:
        report = import_files(
            store,
            source,
            args.files,
            on_progress=lambda count: progress.update(f"importing {code}: {count:,} records"),
            limits=settings.content_limits,
        )
    except OSError as exc:  # a file that became unreadable, or a disk error while reading it
        raise BadParameter("FILE", f"cannot read {exc.filename}: {exc.strerror}") from exc
    finally:
        progress.done()
    echo(
        f"imported {report.records:,} records into {code} "
        f"({report.quarantined:,} quarantined) in {report.seconds:.1f}s"
    )
    return EXIT_OK


def cmd_harvest(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    store = catalogue.records
    if args.codes:
        sources = [store.get_source(code) for code in args.codes]
    else:
        sources = [source for source in store.list_sources() if source.oai_url]
    not_oai = [source.code for source in sources if not source.oai_url]
    if not_oai:
        raise BadParameter("CODE", f"{', '.join(not_oai)} has no OAI-PMH URL (it is fed by `unicat import`)")
    if not sources:
        echo("no OAI-PMH sources to harvest: add one with `unicat source add CODE --oai-url URL`")
        return EXIT_OK
    from_ = check_oai_date("--from", args.from_) if args.from_ else None
    until = check_oai_date("--until", args.until) if args.until else None
    if from_ and until and len(from_) != len(until):
        raise BadParameter(
            "--until", "--from and --until must have the same granularity (both days or both seconds)"
        )
    failed = harvest_step(store, settings, sources, full=args.full, from_=from_, until=until)
    return EXIT_PARTIAL if failed else EXIT_OK


def cmd_index(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    index_step(catalogue, rebuild=args.rebuild)
    return EXIT_OK


def cmd_status(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    status = catalogue_status(catalogue, args.codes, history=args.runs)
    if args.json:
        echo(json.dumps(status.to_json(), ensure_ascii=False, indent=2))
    else:
        echo(format_status(status, history=args.history or bool(args.codes)))
    return EXIT_OK


def cmd_quarantine(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat.quarantine import (
        MAX_PAGE,
        MAX_PAGE_SIZE,
        QuarantineFilter,
        check_kind,
        check_source,
        check_stage,
        check_whole_number,
        format_quarantine,
        quarantine_page,
    )

    store = catalogue.records
    stage = check_stage("--stage", args.stage) if args.stage else None
    if args.quarantine_command == "list":
        wanted = QuarantineFilter(
            source=check_source("--source", args.source) if args.source else None,
            stage=stage,
            kind=check_kind("--kind", args.kind) if args.kind else None,
            page=check_whole_number("--page", args.page, 1, MAX_PAGE),
            page_size=check_whole_number("--page-size", args.page_size, 1, MAX_PAGE_SIZE),
        )
        page = quarantine_page(store, wanted)
        if args.json:
            echo(json.dumps(page.to_json(), ensure_ascii=False, indent=2))
        else:
            echo(format_quarantine(page))
        return EXIT_OK
    code = check_source("CODE", args.source)
    if args.quarantine_command == "drop":
        stages = (stage,) if stage else QUARANTINE_STAGES
        found = [e for i in args.local_ids for e in store.get_quarantined(code, i) if e.stage in stages]
        store.remove_quarantine(code, args.local_ids, stages)
        echo(f"dropped {len(found):,} quarantine entries of {code}")
        return EXIT_OK
    entries = [e for e in store.get_quarantined(code, args.local_id) if stage is None or e.stage == stage]
    if not entries:
        raise UnicatError(
            f"{code} has no quarantined record {args.local_id!r}"
            + (f" at stage {stage}" if stage else "")
            + ": `unicat quarantine list --source CODE` lists them"
        )
    entry = entries[0]
    if args.out:
        with output_file("--out", args.out) as out:
            out.write(entry.raw)
    else:
        sys.stdout.buffer.write(entry.raw)
        sys.stdout.buffer.flush()
    echo(
        f"{len(entry.raw):,} bytes of {code} {args.local_id} [{entry.stage}]: {printable(entry.reason)}",
        sys.stderr,
    )
    return EXIT_OK


def cmd_codes(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat.holding_codes import check_code, check_kind, code_name, parse_code_file

    store = catalogue.records
    code = check_source_code(args.source)
    try:
        store.get_source(code)
    except SourceNotFound as exc:
        raise BadParameter("SOURCE", f"no source {code!r}: `unicat source list` lists them") from exc
    if args.codes_command == "list":
        entries = store.holding_codes(code).get(code, [])
        if args.json:
            echo(json.dumps([entry.to_json() for entry in entries], ensure_ascii=False, indent=2))
        else:
            for entry in entries:
                echo(f"{entry.kind:<10} {entry.code:<16} {entry.name}")
            echo(f"{len(entries):,} named codes for {code}")
        return EXIT_OK
    if args.codes_command == "remove":
        kind = check_kind(args.kind) if args.kind is not None else None
        removed = store.remove_holding_codes(code, kind, [check_code(c) for c in args.codes])
        echo(f"forgot {removed:,} named codes of {code}; {CODES_SHOWN_NOTE}")
        return EXIT_OK
    if args.codes_command == "set":
        entries = [code_name(args.kind, args.code, args.name)]
    else:
        check_readable("FILE", args.file)
        try:
            text = args.file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise BadParameter("FILE", f"{args.file} is not UTF-8 text") from exc
        entries = parse_code_file(text, str(args.file))
    store.set_holding_codes(code, entries)
    echo(f"named {len(entries):,} codes of {code}; {CODES_SHOWN_NOTE}")
    return EXIT_OK


def cmd_merge(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat import merges

    if args.merge_command == "show":
        explanation = merges.explain(catalogue, merges.union_record(catalogue, args.union_id, "UNION_ID"))
        if args.json:
            echo(json.dumps(explanation.to_json(), ensure_ascii=False, indent=2))
        else:
            echo(merges.format_explanation(explanation))
        return EXIT_OK
    if args.merge_command == "list":
        decisions = catalogue.records.merge_decisions()
        if args.json:
            echo(json.dumps([d.to_json() for d in decisions], ensure_ascii=False, indent=2))
        else:
            echo(merges.format_decisions(decisions))
        return EXIT_OK
    if args.merge_command == "split":
        member = SourceRef.parse(args.member, "SOURCE:LOCAL_ID")
        saved = merges.split_member(catalogue, args.union_id, member, reason=args.reason, by=args.by)
        echo("\n".join(merges.format_decision(decision) for decision in saved))
    elif args.merge_command == "force":
        saved_one = merges.force_merge(
            catalogue, args.union_id, args.other_id, reason=args.reason, by=args.by
        )
        echo(merges.format_decision(saved_one))
    elif not catalogue.records.remove_merge_decision(args.decision_id):
        raise BadParameter("ID", f"no merge decision #{args.decision_id}; `unicat merge list` lists them")
    else:
        echo(f"forgot decision #{args.decision_id}")
    if args.index:
        index_step(catalogue)
        return EXIT_OK
    echo(merges.APPLY_NOTE)
    return EXIT_OK


def _read_password(args: argparse.Namespace, email: str, name: str) -> str:
    """The new password of the account ``email`` named ``name``: one line of stdin with
    ``--password-stdin``, else asked twice at the terminal (never an argument: other users of the
    machine could read it in the process list)."""
    from unicat import accounts

    def checked(password: str) -> str:
        return accounts.check_password(password, email=email, display_name=name)

    if args.password_stdin:
        return checked(sys.stdin.readline().rstrip("\r\n"))
    if not sys.stdin.isatty():
        raise BadParameter("--password-stdin", "no terminal to ask the password at: give it on stdin")
    import getpass

    first = checked(getpass.getpass("Password: "))
    if getpass.getpass("Again: ") != first:
        raise BadParameter("password", "the two passwords differ")
    return first


def _account(accounts_store: AccountStore, raw_email: str) -> User:
    from unicat import accounts

    email = accounts.normalise_email(raw_email, "EMAIL")
    user = accounts_store.find_user(email)
    if user is None:
        raise UserNotFound(repr(email))
    return user


def _library_code(raw: str | None) -> str | None:
    if raw is None:
        return None
    code = raw.strip()
    if not code or len(code) > 40 or not code.isprintable():
        raise BadParameter("--library", f"{raw[:50]!r} is not a library code")
    return code


def cmd_users(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat import accounts

    store = catalogue.accounts

    if args.users_command == "list":
        users = store.list_users()
        if args.json:
            echo(json.dumps([user.to_json() for user in users], ensure_ascii=False, indent=2))
        else:
            for user in users:
                library = f" at {user.library}" if user.library else ""
                echo(f"#{user.id}  {user.email}  {user.display_name}  {user.role}{library}  ({user.created})")
            echo(f"{len(users):,} accounts")
        return EXIT_OK
    if args.users_command == "add":
        email = accounts.normalise_email(args.email, "EMAIL")
        name = accounts.check_display_name(args.name, "--name")
        role = accounts.check_role(args.role, "--role")
        attached = _library_code(args.library)
        if store.find_user(email) is not None:
            raise UserExists(email)
        password = _read_password(args, email, name)
        user = store.create_user(User(email, name, accounts.hash_password(password), role, attached))
        echo(f"made account #{user.id} {user.email} ({user.role})")
        return EXIT_OK
    user = _account(store, args.email)
    if args.users_command == "set-role":
        works_at = None if args.no_library else (_library_code(args.library) or user.library)
        store.update_user(user.with_changes(role=accounts.check_role(args.role, "ROLE"), library=works_at))
        echo(f"{user.email} is now {args.role}" + (f" at {works_at}" if works_at else ""))
        return EXIT_OK
    password = _read_password(args, user.email, user.display_name)
    store.update_user(user.with_changes(password_hash=accounts.hash_password(password)))
    signed_out = store.delete_sessions(user_id=user.id)
    echo(f"new password for {user.email}; {signed_out} session(s) signed out")
    return EXIT_OK


def cmd_export(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat.export import write_jsonl, write_marcxml
    from unicat.holding_codes import named_records, tables_by_source

    # The operator's whole copy of the catalogue, barcodes included (the public feeds leave them out),
    # holdings named by the sources' code tables as the pages and feeds show them.
    tables = tables_by_source(catalogue.records.holding_codes())
    records = named_records(catalogue.index.iter_union_records(), tables)
    if args.format == "jsonl":
        if args.out:
            with output_file("--out", args.out) as out:
                text_out = io.TextIOWrapper(out, encoding="utf-8")
                count = write_jsonl(records, text_out)
                text_out.detach()  # writes out what it holds, inside output_file, which closes the file
        else:
            count = write_jsonl(records, sys.stdout)
    elif args.out:
        with output_file("--out", args.out) as binary_out:
            count = write_marcxml(records, binary_out, barcodes=True)
    else:
        count = write_marcxml(records, sys.stdout.buffer, barcodes=True)
    echo(f"exported {count:,} union records", sys.stderr)
    return EXIT_OK


def cmd_serve(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    asyncio.run(serve_forever(catalogue, settings, host, port))
    return EXIT_OK


def cmd_demo(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat_cli.demo.run import run_demo

    host = args.host or settings.host
    port = settings.port if args.port is None else args.port
    return asyncio.run(run_demo(catalogue, settings, host=host, port=port, serve=not args.no_serve))


def cmd_migrate(args: argparse.Namespace, settings: Settings, catalogue: Catalogue) -> int:
    from unicat_cli.migrate import migrate

    # An embedded target holds everything in its one file; an Elasticsearch target keeps the source's
    # store unless told otherwise (a new index beside the same database).
    kept_store = args.to if args.to.startswith("sqlite:") else settings.resolved_store_url
    target_settings = settings.replace(engine_url=args.to, store_url=args.to_store or kept_store)
    if target_settings.engine_url == settings.engine_url:
        raise BadParameter("--to", "the target is the catalogue being copied")
    progress = ProgressLine()
    with open_catalogue(target_settings) as target:
        report = migrate(
            catalogue, target, force=args.force, on_progress=lambda what, n: progress.update(f"{what}: {n:,}")
        )
    progress.done()
    echo(
        f"copied {report.sources:,} sources, {report.source_records:,} source records, "
        f"{report.harvest_runs:,} harvest runs, {report.quarantined:,} quarantined records, "
        f"{report.merge_decisions:,} merge decisions, {report.holding_codes:,} named holdings codes, "
        f"{report.union_records:,} union records, "
        f"{report.redirects:,} redirects, {report.oai_items:,} OAI-PMH items, {report.users:,} accounts, "
        f"{report.comments:,} comments, {report.ratings:,} ratings, {report.tags:,} tags, "
        f"{report.reports:,} reports, {report.moderation_actions:,} moderation actions, "
        f"{report.lists:,} reading lists, {report.list_entries:,} list entries, "
        f"{report.shuttle_requests:,} inter-library requests, {report.shuttle_events:,} request events, "
        f"{report.saved_searches:,} saved searches, {report.history_entries:,} search history entries, "
        f"{report.mail_messages:,} mail messages, {report.libraries:,} libraries of the directory and "
        f"{report.live_targets:,} live targets to "
        f"{target_settings.engine_url} (store {target.store_url})"
        + ("" if report.stores_copied else "; the store is shared, so everything but the union index stays")
    )
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Catalogue], int]] = {
    "demo": cmd_demo,
    "source": cmd_source,
    "import": cmd_import,
    "harvest": cmd_harvest,
    "index": cmd_index,
    "serve": cmd_serve,
    "status": cmd_status,
    "export": cmd_export,
    "migrate": cmd_migrate,
    "quarantine": cmd_quarantine,
    "merge": cmd_merge,
    "codes": cmd_codes,
    "users": cmd_users,
    "mail": cmd_mail,
    "alerts": cmd_alerts,
    "library": cmd_library,
    "target": cmd_target,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; errors Unicat expects are printed as one clear line, not a traceback."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        if args.config is not None:
            check_readable("--config", args.config)
        settings = settings_from_environment(
            args.config,
            engine_url=args.engine,
            index_url=args.index_url,
            store_url=args.store,
            data_dir=args.data_dir,
        )
        _configure_logging(args, settings)
        with open_catalogue(settings) as catalogue:
            return COMMANDS[args.command](args, settings, catalogue)
    except BadParameter as exc:
        echo(f"unicat: error: {exc}", sys.stderr)
        return EXIT_USAGE
    except UnicatError as exc:
        echo(f"unicat: error: {exc}", sys.stderr)
        return EXIT_PARTIAL
    except KeyboardInterrupt:
        echo("unicat: stopped", sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
