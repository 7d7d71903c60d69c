"""Reading the TOML files librarians edit (settings, field maps, facets, the demo network)."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from unicat.errors import ConfigError


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """The parsed document, or a :class:`ConfigError` that names ``what`` the file is and the problem."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{what} {path} is not valid TOML: {exc}") from exc
