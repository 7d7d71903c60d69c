"""Engine implementations and the factory that picks one from the engine URL."""

from __future__ import annotations

from pathlib import Path

from unicat.engine import Engine
from unicat.errors import ConfigError
from unicat.settings import Settings


def sqlite_path(url: str) -> Path:
    """The database file of a ``sqlite:///path`` URL (relative paths stay relative to the cwd)."""
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ConfigError(f"engine URL {url!r}: use sqlite:///path/to/unicat.db")
    return Path(url[len(prefix) :])


def open_engine(settings: Settings) -> Engine:
    """Open the engine named by ``settings.engine_url``; creates or migrates its schema."""
    url = settings.engine_url
    if url.startswith("sqlite:"):
        from unicat.engines.sqlite import SqliteEngine

        return SqliteEngine(sqlite_path(url), settings)
    if url.startswith(("http://", "https://")):
        from unicat.engines.elasticsearch import ElasticsearchEngine

        return ElasticsearchEngine(url, settings)
    raise ConfigError(f"engine URL {url!r}: expected sqlite:///path or http://host:port[/index-prefix]")
