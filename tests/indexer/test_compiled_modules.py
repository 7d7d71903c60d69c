"""The modules mypyc compiles behave exactly as their Python source, on every record of the shared data.

mypyc keeps Python's semantics for fully typed code, but it also checks the annotations at run time
(a value of the wrong type raises where Python would go on): so the whole indexing path, decoding to
indexed fields, runs once compiled and once from the ``.py`` sources in two processes, and every line
of what they produce must be equal.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.support.shared_data import REPO_ROOT
from unicat.compiled import COMPILED_MODULES, PURE_PYTHON_ENV, compiled_modules, stale_modules


def _index_everything(*flags: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.indexer.index_all_shared_data", *flags],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=240,
    )
    return result.stdout.splitlines()


def test_the_install_compiled_every_hot_module_and_none_is_stale() -> None:
    if os.environ.get(PURE_PYTHON_ENV):
        pytest.skip(f"{PURE_PYTHON_ENV} is set: this install runs the hot modules as Python")
    assert compiled_modules() == dict.fromkeys(COMPILED_MODULES, True)
    assert stale_modules() == []


def test_compiled_and_python_source_index_the_shared_data_alike() -> None:
    compiled = _index_everything()
    pure = _index_everything("--pure")

    # Each run really ran what it says it ran.
    assert json.loads(pure[0]) == ["compiled", dict.fromkeys(COMPILED_MODULES, False)]
    if not os.environ.get(PURE_PYTHON_ENV):
        assert json.loads(compiled[0]) == ["compiled", dict.fromkeys(COMPILED_MODULES, True)]
    kinds = {json.loads(line)[0] for line in compiled[1:]}
    assert {"parsed", "refused", "union", "fields"} <= kinds
    assert len(compiled) == len(pure)
    for compiled_line, pure_line in zip(compiled[1:], pure[1:], strict=True):
        assert compiled_line == pure_line
