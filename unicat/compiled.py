"""The modules that the install compiles to C with mypyc, and whether this process runs them compiled.

Indexing a catalogue spends its time in a few pure, fully typed modules: decoding ISO 2709, mapping
fields, clustering, building union records and their analysed text. ``setup.py`` compiles exactly
these with mypyc (the source stays the one implementation: the same ``.py`` files, type-checked by
``mypy --strict``, run as they are where no C compiler is found or ``UNICAT_PURE_PYTHON=1`` is set).
Measured on the 200,000-edition scale corpus: decoding 53 → 29 µs a record, mapping 81 → 55 µs.

This module imports nothing of Unicat's, so ``setup.py`` can read the list before anything is
installed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from pathlib import Path

COMPILED_MODULES: tuple[str, ...] = (
    "indexer.marc",
    "indexer.flavour",
    "indexer.decoding",
    "indexer.extract",
    "indexer.matching",
    "indexer.dedup",
    "indexer.ids",
    "indexer.union",
    "unicat.identifiers",
    "unicat.analysis",
    "unicat.documents",
)
"""Compiled by ``setup.py`` in this order; every one of them is typed throughout (``mypy --strict``)."""

PURE_PYTHON_ENV = "UNICAT_PURE_PYTHON"
"""Set to ``1`` at install time to skip compiling (the modules then run as plain Python)."""


def module_sources(root: Path) -> list[Path]:
    """The ``.py`` file of each compiled module under a source tree ``root`` (for ``setup.py``)."""
    return [root.joinpath(*name.split(".")).with_suffix(".py") for name in COMPILED_MODULES]


def is_extension(path: str | None) -> bool:
    """Whether ``path`` is a compiled extension module (``.so``/``.pyd``), not Python source."""
    return path is not None and path.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


def compiled_modules() -> dict[str, bool]:
    """Each compiled module's name → whether this interpreter loads it compiled (imports nothing)."""
    found: dict[str, bool] = {}
    for name in COMPILED_MODULES:
        spec = importlib.util.find_spec(name)
        found[name] = spec is not None and is_extension(spec.origin)
    return found


PACKAGES: tuple[str, ...] = ("unicat", "unicat_cli", "harvester", "indexer", "search_app", "mappings")
"""The project's packages, where an editable install leaves compiled files beside the sources."""


def compiled_copies(root: Path) -> dict[Path, Path]:
    """Every compiled file beside a ``.py`` source of the packages under ``root`` → that source
    (the ``.so`` files an editable install built, whether their module is still compiled or not)."""
    found: dict[Path, Path] = {}
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)
    for package in PACKAGES:
        for compiled in (root / package).rglob("*"):
            if compiled.name.endswith(suffixes):
                source = compiled.parent / (compiled.name.split(".", 1)[0] + ".py")
                if source.is_file():
                    found[compiled] = source
    return found


def stale_modules() -> list[str]:
    """Compiled modules that do not run what their ``.py`` source says.

    In an editable install the compiled file sits beside its source and Python loads it first, so an
    edit to the source does nothing until the install is run again, and a module taken off
    :data:`COMPILED_MODULES` still runs its old compiled copy until that file is deleted (``setup.py``
    deletes such copies). This names the modules compiled before their source last changed, and the
    compiled copies of modules that are no longer meant to be compiled.
    """
    root = Path(__file__).resolve().parent.parent
    listed = {path.resolve() for path in module_sources(root)}
    stale = [
        ".".join(source.relative_to(root).with_suffix("").parts)
        for compiled, source in compiled_copies(root).items()
        if source.resolve() not in listed or source.stat().st_mtime > compiled.stat().st_mtime
    ]
    return sorted(stale)


def describe() -> str:
    """One line for reports and benchmarks: which hot modules run compiled."""
    found = compiled_modules()
    count = sum(found.values())
    if count == len(found):
        return f"hot modules compiled by mypyc ({count})"
    if not count:
        return "hot modules pure Python (not compiled at install)"
    missing = ", ".join(name for name, done in found.items() if not done)
    return f"hot modules partly compiled ({count}/{len(found)}; pure Python: {missing})"
