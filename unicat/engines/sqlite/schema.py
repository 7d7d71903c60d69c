"""The SQLite schema as an ordered list of migrations, each applied in its own transaction.

``schema_version`` holds the number of migrations applied. A new release appends migrations and never
edits old ones, so any older database can be brought up to date; a database written by a newer
Unicat is refused rather than misread.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from unicat.documents import index_fields
from unicat.engines.sqlite import accounts, driver, oai, readers
from unicat.errors import SchemaError
from unicat.model import UnionRecord

# A migration step: one SQL statement, or a function for what SQL alone cannot do (analysing text).
Step = str | Callable[[driver.Connection], None]

# The FTS5 ``ascii`` tokenizer treats every non-ASCII character as part of a token and splits only on
# ASCII punctuation and spaces. Text arrives already analysed (unicat.analysis: folded tokens of
# letters and digits joined by spaces), so it splits exactly on those spaces and changes nothing else,
# whatever Unicode version SQLite's own tables know.
_V1 = (
    """CREATE TABLE sources (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        oai_url TEXT,
        metadata_prefix TEXT NOT NULL,
        set_spec TEXT,
        profile TEXT NOT NULL
    )""",
    """CREATE TABLE source_records (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        syntax TEXT NOT NULL,
        datestamp TEXT,
        deleted INTEGER NOT NULL DEFAULT 0,
        raw BLOB NOT NULL,
        PRIMARY KEY (source, local_id)
    )""",
    """CREATE TABLE harvests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        mode TEXT NOT NULL,
        from_ TEXT,
        until TEXT,
        started TEXT NOT NULL,
        finished TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        resumption_token TEXT,
        pages INTEGER NOT NULL DEFAULT 0,
        records INTEGER NOT NULL DEFAULT 0,
        deleted INTEGER NOT NULL DEFAULT 0,
        error TEXT
    )""",
    "CREATE INDEX harvests_by_source ON harvests (source, status, id)",
    """CREATE TABLE quarantine (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        local_id TEXT,
        stage TEXT NOT NULL,
        reason TEXT NOT NULL,
        created TEXT NOT NULL,
        raw BLOB NOT NULL
    )""",
    "CREATE INDEX quarantine_by_source ON quarantine (source, stage)",
    # An explicit INTEGER PRIMARY KEY: the FTS rows point at it, and VACUUM may renumber an implicit
    # rowid. Facet and sort columns come before the long ``doc`` so that reading them stays on the
    # row's first page (measured: this matters for facets over large match sets).
    """CREATE TABLE union_records (
        rid INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        format TEXT NOT NULL,
        language TEXT,
        year INTEGER,
        decade TEXT,
        title_sort TEXT NOT NULL,
        doc TEXT NOT NULL
    )""",
    "CREATE INDEX union_records_by_title ON union_records (title_sort, id)",
    "CREATE INDEX union_records_by_year ON union_records (year, title_sort, id)",
    """CREATE TABLE union_libraries (
        record INTEGER NOT NULL REFERENCES union_records (rid) ON DELETE CASCADE,
        library TEXT NOT NULL,
        PRIMARY KEY (record, library)
    ) WITHOUT ROWID""",
    "CREATE INDEX union_libraries_by_library ON union_libraries (library, record)",
    """CREATE TABLE memberships (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        union_id TEXT NOT NULL,
        PRIMARY KEY (source, local_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE redirects (
        old_id TEXT PRIMARY KEY,
        new_id TEXT NOT NULL
    ) WITHOUT ROWID""",
    """CREATE VIRTUAL TABLE union_fts USING fts5 (
        title, author, subject, ident, publisher, series, any,
        content = '', tokenize = 'ascii'
    )""",
)

# The subject facet: each record's main subject headings (unicat.query.subject_facet_values), one row
# each, like union_libraries. Records indexed before this migration get theirs from their stored
# document here, so an upgraded database answers the facet at once, without a re-index: the SQL
# mirrors subject_facet_values (the part before " -- ", trimmed, at most 300 characters, once).
_SUBJECT_MAIN = (
    "substr(trim(CASE WHEN instr(j.value, ' -- ') > 0 THEN substr(j.value, 1, instr(j.value, ' -- ') - 1) "
    "ELSE j.value END, ' ' || char(9, 10, 11, 12, 13)), 1, 300)"
)
_V2 = (
    """CREATE TABLE union_subjects (
        record INTEGER NOT NULL REFERENCES union_records (rid) ON DELETE CASCADE,
        subject TEXT NOT NULL,
        PRIMARY KEY (record, subject)
    ) WITHOUT ROWID""",
    "CREATE INDEX union_subjects_by_subject ON union_subjects (subject, record)",
    f"""INSERT OR IGNORE INTO union_subjects (record, subject)
        SELECT u.rid, {_SUBJECT_MAIN} AS main FROM union_records u, json_each(u.doc, '$.subjects') j
        WHERE j.type = 'text' AND main != ''""",
    # Raised by every rebuild: a copy of the index kept outside SQLite (the facet columns, see
    # facets.py) is valid for one generation only.
    "CREATE TABLE union_state (generation INTEGER NOT NULL)",
    # Every union_records column but the long ``doc``: ranking and filtering a broad match set seeks
    # one entry per match, and a narrow entry keeps those seeks in a few cached pages.
    "CREATE INDEX union_records_narrow ON union_records "
    "(rid, title_sort, id, format, language, year, decade)",
    "INSERT INTO union_state (generation) VALUES (0)",
)

# The text index without its ``any`` column, a second copy of every other column (and the only home of
# the notes): an ``any`` clause now matches in any column, a phrase inside one (search.py), and the
# index holds each word once. Contentless, so the text is analysed again from the stored documents.
# The columns are frozen here as migration 3 made them: a later change of TEXT_FIELDS needs a migration
# of its own, and a test checks that the two still agree.
V3_TEXT_COLUMNS = ("title", "author", "subject", "ident", "publisher", "series", "notes")
REFILL_BATCH = 1_000


def _create_text_index(columns: tuple[str, ...]) -> str:
    return (
        f"CREATE VIRTUAL TABLE union_fts USING fts5 ({', '.join(columns)}, content = '', tokenize = 'ascii')"
    )


def _insert_text(columns: tuple[str, ...]) -> str:
    return f"INSERT INTO union_fts (rowid, {', '.join(columns)}) VALUES (?{', ?' * len(columns)})"


def _refill_text_index(columns: tuple[str, ...]) -> Step:
    """A step that indexes every stored union record's text again into ``columns``, as a rebuild would
    (unicat.documents)."""

    def refill(conn: driver.Connection) -> None:
        insert = _insert_text(columns)
        rows = conn.execute("SELECT rid, doc FROM union_records ORDER BY rid")
        while batch := rows.fetchmany(REFILL_BATCH):
            texts = [
                (rid, index_fields(UnionRecord.from_json(json.loads(doc))).text_fields())
                for rid, doc in batch
            ]
            conn.executemany(insert, [(rid, *(text[column] for column in columns)) for rid, text in texts])

    return refill


_V3: tuple[Step, ...] = (
    "DROP TABLE union_fts",
    _create_text_index(V3_TEXT_COLUMNS),
    _refill_text_index(V3_TEXT_COLUMNS),
)

# Harvesting many sources unattended (issue 5): a source's own schedule; which run last stored each
# record (a full harvest marks what it no longer saw as deleted); per run the server's own clock at
# its start (the next ``from``) and its quarantined count; and quarantine entries found by record, so
# a record quarantined again replaces its entry instead of adding a second one.
_V4 = (
    "ALTER TABLE sources ADD COLUMN harvest_interval REAL",
    "ALTER TABLE source_records ADD COLUMN run INTEGER",
    "ALTER TABLE harvests ADD COLUMN quarantined INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE harvests ADD COLUMN server_time TEXT",
    "CREATE INDEX quarantine_by_record ON quarantine (source, stage, local_id)",
)

# Records librarians trust (issue 6): a source's own profile override, the TOML text as given to
# `unicat source add --mapping` (NULL: the built-in profile).
_V5 = ("ALTER TABLE sources ADD COLUMN mapping TEXT",)

# Librarians' merge decisions (issue 6): a split or forced merge of two source records, the pair in
# a fixed order so that a second decision on it replaces the first.
_V6 = (
    """CREATE TABLE merge_decisions (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        kind TEXT NOT NULL,
        first_source TEXT NOT NULL,
        first_local_id TEXT NOT NULL,
        second_source TEXT NOT NULL,
        second_local_id TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        by_ TEXT NOT NULL DEFAULT '',
        at TEXT NOT NULL,
        UNIQUE (first_source, first_local_id, second_source, second_local_id)
    )""",
)

# The union catalogue as an OAI-PMH feed (issue 7): one item per union id that ever existed, with the
# generation that last changed it, its sets, and the datestamp of each generation (engines/sqlite/oai.py).
# A catalogue indexed before gets its items now, all of its current generation.
_V7: tuple[Step, ...] = (*oai.SCHEMA, oai.backfill)

# Readers and librarians (issue 8): accounts, and the sessions of signed-in browsers (their tokens'
# SHA-256 only; engines/sqlite/accounts.py).
_V8: tuple[Step, ...] = accounts.SCHEMA

# What readers add (issue 8): comments, ratings, tags, reports of comments, the moderation log and
# reading lists, kept apart from the union index (engines/sqlite/readers.py); and the redirects found
# by their target, to gather what was written on the ids merged into a record.
_V9: tuple[Step, ...] = readers.SCHEMA

# The field registry (unicat/fields.py): a facet without a column or table of its own keeps its values
# here, one row per (facet, record, value), found by record (counting, filtering a text match) or by
# value (filtering everything), so that a facet added to the registry needs no migration. Empty until
# the next rebuild fills it: the values come from the records, not from the stored documents.
_V10 = (
    """CREATE TABLE union_facet_values (
        facet TEXT NOT NULL,
        record INTEGER NOT NULL REFERENCES union_records (rid) ON DELETE CASCADE,
        value TEXT NOT NULL,
        PRIMARY KEY (facet, record, value)
    ) WITHOUT ROWID""",
    "CREATE INDEX union_facet_values_by_value ON union_facet_values (facet, value, record)",
)

# Registrations waiting for their address to be confirmed by e-mail (engines/sqlite/accounts.py).
_V11: tuple[Step, ...] = accounts.REGISTRATIONS

# Records set aside at index time as no book: the kind of each (authority, holdings,
# untitled…), counted and filtered on by `unicat status` and the quarantine page; '' for other entries.
_V12 = ("ALTER TABLE quarantine ADD COLUMN kind TEXT NOT NULL DEFAULT ''",)

# Holdings codes a patron can read: each source's tables of code → name by kind of code
# (unicat/holding_codes.py), kept by `unicat codes`.
_V13 = (
    """CREATE TABLE holding_codes (
        source TEXT NOT NULL,
        kind TEXT NOT NULL,
        code TEXT NOT NULL,
        name TEXT NOT NULL,
        PRIMARY KEY (source, kind, code)
    ) WITHOUT ROWID""",
)

# The catalogue's own words and headings (unicat/vocabulary.py), written with each generation of the
# union index: the speller's vocabulary, and the titles, authors and subjects offered as a reader
# types, found by their analysed form's prefix. Empty until the next rebuild fills them.
_V14 = (
    "CREATE TABLE union_words (word TEXT PRIMARY KEY, count INTEGER NOT NULL) WITHOUT ROWID",
    """CREATE TABLE union_suggestions (
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (key, kind)
    ) WITHOUT ROWID""",
    # The most used headings of each one- and two-letter prefix, ranked at rebuild: such a prefix starts
    # too many headings (a twentieth of them for "p") to rank them at every keystroke.
    """CREATE TABLE union_suggestion_heads (
        prefix TEXT NOT NULL,
        rank INTEGER NOT NULL,
        key TEXT NOT NULL,
        kind TEXT NOT NULL,
        count INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (prefix, rank)
    ) WITHOUT ROWID""",
)

# Stemming (unicat/stemming.py): the Snowball stems of titles and subjects, in columns of their own
# after the exact ones (unicat.fields.STEMMED_FIELDS). Contentless, so the columns cannot be added: the
# text index is made again and filled from the stored documents, as migration 3 did, in the same
# transaction; searches never see an index without its stems. Frozen here like V3_TEXT_COLUMNS.
V15_TEXT_COLUMNS = (*V3_TEXT_COLUMNS, "title_stems", "subject_stems")
_V15: tuple[Step, ...] = (
    "DROP TABLE union_fts",
    _create_text_index(V15_TEXT_COLUMNS),
    _refill_text_index(V15_TEXT_COLUMNS),
)

# The network's library directory (unicat/libraries.py): each library with the source and branch codes
# whose copies it keeps, its names and opening hours as JSON text.
_V16 = (
    """CREATE TABLE libraries (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        source TEXT,
        branches TEXT NOT NULL DEFAULT '[]',
        names TEXT NOT NULL DEFAULT '{}',
        street TEXT,
        postcode TEXT,
        city TEXT,
        country TEXT,
        latitude REAL,
        longitude REAL,
        opening_hours TEXT NOT NULL DEFAULT '{}',
        email TEXT,
        phone TEXT,
        website TEXT,
        shuttle INTEGER NOT NULL DEFAULT 0,
        opac_url TEXT
    )""",
)

# Inter-library requests and the audit entry of every change (unicat/stores/shuttle.py). AUTOINCREMENT,
# as readers' items: a copied request keeps its id and later ones are numbered after it. ``language``:
# the patron's interface language when placing it, that of every e-mail about it ('': the site's).
_V17: tuple[Step, ...] = (
    """CREATE TABLE shuttle_requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        patron_id INTEGER NOT NULL,
        record TEXT NOT NULL,
        title TEXT NOT NULL,
        pickup TEXT NOT NULL,
        holder TEXT NOT NULL,
        reason TEXT NOT NULL,
        candidates TEXT NOT NULL,
        state TEXT NOT NULL,
        message TEXT,
        version INTEGER NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL,
        language TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX shuttle_requests_by_patron ON shuttle_requests (patron_id, state)",
    "CREATE INDEX shuttle_requests_by_holder ON shuttle_requests (holder, state)",
    "CREATE INDEX shuttle_requests_by_pickup ON shuttle_requests (pickup, state)",
    """CREATE TABLE shuttle_events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        request_id INTEGER NOT NULL,
        user_id INTEGER NOT NULL,
        action TEXT NOT NULL,
        from_state TEXT,
        to_state TEXT NOT NULL,
        library TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE INDEX shuttle_events_by_request ON shuttle_events (request_id, id)",
)

INSERT_TEXT = _insert_text(V15_TEXT_COLUMNS)
"""Adds a record's row to the text index: its rid, then its analysed text in INDEXED_FIELDS order."""

# The e-mail outbox (unicat/stores/outbox.py): the sender looks for due queued messages, and for
# messages whose lease ran out.
_V18: tuple[Step, ...] = (
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        recipient TEXT NOT NULL,
        language TEXT NOT NULL,
        subject TEXT NOT NULL,
        text_body TEXT NOT NULL,
        html_body TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        created TEXT NOT NULL,
        next_attempt TEXT NOT NULL,
        lease_until TEXT,
        claim TEXT,
        sent TEXT,
        error TEXT
    )""",
    "CREATE INDEX outbox_due ON outbox (state, next_attempt, id)",
)

# What counts as new (unicat/first_seen.py): in the record store, when each source record first entered
# the catalogue and when each library first held it; in the union index, each record's first_seen (a
# column, for the new_since filter and the newest sort) and its held_since per library (rows, for
# new_at). The members of the last generation get their first_seen from the store's best evidence
# (docs/new-titles.md): the earliest of the start of their source's first harvest and the datestamp of
# the OAI-PMH generation that last changed their union record; with neither, this migration's instant.
# Their libraries are not known here (they are in the raw records): a row for the site '' stands for
# "every library it was held at", which the next generation resolves to that date. The union index's
# columns stay empty until that generation writes them.
_FIRST_EVIDENCE = (
    "(SELECT min(h.started) FROM harvests h WHERE h.source = m.source)",
    "(SELECT g.datestamp FROM oai_items i JOIN oai_generations g ON g.generation = i.generation "
    "WHERE i.id = m.union_id)",
)
_V19: tuple[Step, ...] = (
    """CREATE TABLE first_seen (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (source, local_id)
    ) WITHOUT ROWID""",
    """CREATE TABLE first_held (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        site TEXT NOT NULL,
        first_held TEXT NOT NULL,
        PRIMARY KEY (source, local_id, site)
    ) WITHOUT ROWID""",
    f"""INSERT INTO first_seen (source, local_id, first_seen)
        SELECT m.source, m.local_id, coalesce(
            min(coalesce({_FIRST_EVIDENCE[0]}, {_FIRST_EVIDENCE[1]}),
                coalesce({_FIRST_EVIDENCE[1]}, {_FIRST_EVIDENCE[0]})),
            strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
        FROM memberships m""",
    "INSERT INTO first_held (source, local_id, site, first_held) "
    "SELECT source, local_id, '', first_seen FROM first_seen",
    "ALTER TABLE union_records ADD COLUMN first_seen TEXT",
    "CREATE INDEX union_records_by_first_seen ON union_records (first_seen, id)",
    """CREATE TABLE union_held_since (
        record INTEGER NOT NULL REFERENCES union_records (rid) ON DELETE CASCADE,
        library TEXT NOT NULL,
        since TEXT NOT NULL,
        PRIMARY KEY (record, library)
    ) WITHOUT ROWID""",
    "CREATE INDEX union_held_since_by_library ON union_held_since (library, since, record)",
)

# Readers' kept searches (unicat/stores/saved_searches.py): the search history of accounts and of
# browsers (``owner``: user:ID or visitor:SHA-256 of the cookie's token; ``at`` indexed for the purge of
# expired entries), and the searches saved under a name, unique per reader. Alerts add their columns
# or tables in a later migration.
_V20: tuple[Step, ...] = (
    """CREATE TABLE search_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        owner TEXT NOT NULL,
        query TEXT NOT NULL,
        total INTEGER NOT NULL,
        at TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX search_history_by_owner ON search_history (owner, query)",
    "CREATE INDEX search_history_by_owner_time ON search_history (owner, at, id)",
    "CREATE INDEX search_history_by_time ON search_history (at)",
    """CREATE TABLE saved_searches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL,
        name TEXT NOT NULL,
        query TEXT NOT NULL,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
    "CREATE UNIQUE INDEX saved_searches_by_name ON saved_searches (user_id, name)",
)

# An outbox message's extra headers (List-Unsubscribe, …): a JSON list of [name, value], NULL for
# none, as every message stored before.
_V21: tuple[Step, ...] = ("ALTER TABLE outbox ADD COLUMN headers TEXT",)

# Alerts of saved searches (unicat/alerts.py, unicat/stores/alerts.py): the digest's frequency and
# language, the key its unsubscribe links are signed with (hex), its progress and last period, and the
# private feed's token (unique; NULL while the feed is off). The first dates get an index on the date,
# so that a digest run finds the members new in its window without reading every row.
_V22: tuple[Step, ...] = (
    "ALTER TABLE saved_searches ADD COLUMN alert TEXT NOT NULL DEFAULT 'off'",
    "ALTER TABLE saved_searches ADD COLUMN alert_language TEXT NOT NULL DEFAULT 'en'",
    "ALTER TABLE saved_searches ADD COLUMN alert_key TEXT",
    "ALTER TABLE saved_searches ADD COLUMN alert_since TEXT",
    "ALTER TABLE saved_searches ADD COLUMN alert_period TEXT",
    "ALTER TABLE saved_searches ADD COLUMN feed_token TEXT",
    "CREATE UNIQUE INDEX saved_searches_by_feed ON saved_searches (feed_token)",
    "CREATE INDEX saved_searches_by_alert ON saved_searches (alert, id)",
    "CREATE INDEX first_seen_by_date ON first_seen (first_seen)",
    "CREATE INDEX first_held_by_date ON first_held (first_held)",
)

# Live targets (unicat/stores/live_targets.py): the catalogues searched at query time over SRU or Z39.50,
# configured like sources; the query map (field -> index) and the libraries they stand for as JSON text.
_V23: tuple[Step, ...] = (
    """CREATE TABLE live_targets (
        code TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        protocol TEXT NOT NULL,
        address TEXT NOT NULL,
        record_syntax TEXT NOT NULL,
        profile TEXT NOT NULL,
        charset TEXT,
        query_map TEXT NOT NULL DEFAULT '{}',
        timeout REAL NOT NULL,
        libraries TEXT NOT NULL DEFAULT '[]',
        max_records INTEGER NOT NULL,
        enabled INTEGER NOT NULL DEFAULT 1,
        created TEXT NOT NULL,
        updated TEXT NOT NULL
    )""",
)

# Which source records changed since the union index was built (unicat/stores/record_changes.py): each
# source record carries the number of the store's last write that inserted it, changed its content or
# deleted it, found by that number; ``store_marks`` holds the last number given ('changed') and the one
# the last generation of the union index was built up to ('indexed'). The records stored before get
# the number 1 (as if one write had stored them all) and the catalogue's index counts as built up to
# none: the first index after the upgrade reads everything, as every index did before. The column's
# constant default makes adding it cheap; every write gives the number itself.
_V24: tuple[Step, ...] = (
    "ALTER TABLE source_records ADD COLUMN change_seq INTEGER NOT NULL DEFAULT 1",
    "CREATE INDEX source_records_by_change ON source_records (change_seq)",
    "CREATE TABLE store_marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID",
    "INSERT INTO store_marks (name, value) "
    "SELECT 'changed', CASE WHEN EXISTS (SELECT 1 FROM source_records) THEN 1 ELSE 0 END",
    "INSERT INTO store_marks (name, value) VALUES ('indexed', 0)",
)

# The blocking keys of each source record as the last index run computed them (unicat/member_keys.py,
# unicat/stores/record_keys.py): one row per record and merge key's hash, found by record and by key;
# one row per parsed record with its work key's hash, found by record and by work. And the members of
# a union record found by its id. Empty until the next index run fills them.
_V25: tuple[Step, ...] = (
    """CREATE TABLE record_keys (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        key INTEGER NOT NULL,
        PRIMARY KEY (source, local_id, key)
    ) WITHOUT ROWID""",
    "CREATE INDEX record_keys_by_key ON record_keys (key)",
    """CREATE TABLE record_works (
        source TEXT NOT NULL,
        local_id TEXT NOT NULL,
        work INTEGER NOT NULL,
        PRIMARY KEY (source, local_id)
    ) WITHOUT ROWID""",
    "CREATE INDEX record_works_by_work ON record_works (work)",
    "CREATE INDEX memberships_by_union_id ON memberships (union_id)",
)

# Partial updates of the union index (engines/sqlite/union_update.py): the shared facet values found by
# record, so that removing one record's rows (and the cascade of deleting its union_records row) seeks
# them instead of walking the table.
_V26: tuple[Step, ...] = ("CREATE INDEX union_facet_values_by_record ON union_facet_values (record)",)

# The source records counted per source, live and deleted, from an index alone: counting them in the
# table reads every record's bytes (gigabytes at millions of records), past a read's time limit.
_V27: tuple[Step, ...] = ("CREATE INDEX source_records_by_deleted ON source_records (source, deleted)",)

MIGRATIONS: tuple[tuple[Step, ...], ...] = (
    _V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V13, _V14, _V15, _V16, _V17, _V18,
    _V19, _V20, _V21, _V22, _V23, _V24, _V25, _V26, _V27,
)  # fmt: skip
"""Migration ``n`` (1-based) brings a database from version ``n - 1`` to ``n``. Append only."""

SCHEMA_VERSION = len(MIGRATIONS)


def stored_version(conn: driver.Connection) -> int:
    """The schema version of the database, 0 for an empty one."""
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def migrate(conn: driver.Connection, migrations: tuple[tuple[Step, ...], ...] = MIGRATIONS) -> int:
    """Apply the missing migrations in order, each in one transaction; returns the resulting version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises :class:`SchemaError` for a
    database newer than ``migrations``.
    """
    version = stored_version(conn)
    if version > len(migrations):
        raise SchemaError(
            f"the database has schema version {version} but this Unicat knows only up to "
            f"{len(migrations)}; upgrade Unicat (or point --engine at another database)"
        )
    for number in range(version + 1, len(migrations) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # Another process may have migrated since we looked: check again under the write lock.
            if stored_version(conn) < number:
                for step in migrations[number - 1]:
                    if isinstance(step, str):
                        conn.execute(step)
                    else:
                        step(conn)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        except driver.Error as exc:
            conn.execute("ROLLBACK")
            raise SchemaError(f"schema migration {number} failed: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
    return len(migrations)
