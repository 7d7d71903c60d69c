"""The embedded SQLite engine (the default): one file, FTS5 for text, WAL for concurrent reads."""

from unicat.engines.sqlite.engine import SqliteEngine

__all__ = ["SqliteEngine"]
