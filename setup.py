"""Build hook: compiles the indexer's hot modules (``unicat/compiled.py`` lists them) with mypyc, and
the interface's message catalogues (``search_app/locale/*/LC_MESSAGES/messages.po``) to ``.mo``.

Everything else about the package is in ``pyproject.toml``. Compiling is an optimisation, never a
requirement: with ``UNICAT_PURE_PYTHON=1``, or where the C compiler fails, the same modules are
installed as plain Python and work the same, only slower.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path
from typing import Any

from setuptools import setup

ROOT = Path(__file__).resolve().parent
_COMPILED = runpy.run_path(str(ROOT / "unicat" / "compiled.py"))


def remove_compiled_copies() -> None:
    """Delete what an earlier editable install compiled beside the sources, before building anew.

    Python loads those files before the ``.py`` beside them, so a module no longer compiled, or an
    install that now fails to compile, would otherwise run old code; the build puts back what it
    compiles now.
    """
    for compiled in _COMPILED["compiled_copies"](ROOT):
        compiled.unlink()
    for shared in ROOT.glob("*__mypyc.*"):
        shared.unlink()


def compiled_extensions() -> list[Any]:
    remove_compiled_copies()
    if os.environ.get(_COMPILED["PURE_PYTHON_ENV"], "") not in ("", "0"):
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # a build without mypy (e.g. --no-build-isolation in a bare environment)
        return []
    sources = [str(path.relative_to(ROOT)) for path in _COMPILED["module_sources"](ROOT)]
    try:
        # The build environment holds setuptools and mypy, not Unicat's dependencies: without their
        # stubs, what the modules take from pymarc or lxml is typed Any, which compiles the same.
        extensions: list[Any] = mypycify(["--ignore-missing-imports", *sources], opt_level="3")
    except (Exception, SystemExit) as exc:  # mypyc exits on a type error it cannot compile past
        print(f"Unicat: the hot modules were not compiled ({exc!r}); they run as Python", file=sys.stderr)
        return []
    for extension in extensions:
        # A failed compile leaves the module as Python instead of failing the install.
        extension.optional = True
    return extensions


def compile_catalogues() -> None:
    """Compile every ``.po`` beside itself, for editable and regular installs alike (the package data
    takes the ``.mo``). Unlike the hot modules, these are required: the app refuses to start without
    them (search_app/i18n.py), so a build that cannot compile them says so."""
    try:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po
    except ImportError:  # a build without its requirements (--no-build-isolation in a bare environment)
        print("Unicat: Babel is missing, the message catalogues were not compiled", file=sys.stderr)
        return
    for source in sorted((ROOT / "search_app" / "locale").glob("*/LC_MESSAGES/*.po")):
        with source.open("rb") as file:
            catalogue = read_po(file)
        with source.with_suffix(".mo").open("wb") as file:
            write_mo(file, catalogue)


compile_catalogues()
setup(ext_modules=compiled_extensions())
