"""Finding the compiled copies an editable install leaves beside the sources (unicat/compiled.py)."""

from __future__ import annotations

import importlib.machinery
from pathlib import Path

from unicat.compiled import COMPILED_MODULES, compiled_copies, module_sources


def test_compiled_copies_are_the_extension_files_beside_a_source(tmp_path: Path) -> None:
    suffix = importlib.machinery.EXTENSION_SUFFIXES[0]
    (tmp_path / "indexer").mkdir()
    (tmp_path / "unicat" / "engines").mkdir(parents=True)
    for name in ("indexer/marc", "unicat/engines/old", "unicat/orphan"):
        (tmp_path / f"{name}{suffix}").write_bytes(b"")
    for name in ("indexer/marc", "unicat/engines/old", "indexer/plain"):
        (tmp_path / f"{name}.py").write_text("")
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / f"other{suffix}").write_bytes(b"")  # not a package of the project

    assert compiled_copies(tmp_path) == {
        tmp_path / f"indexer/marc{suffix}": tmp_path / "indexer/marc.py",
        tmp_path / f"unicat/engines/old{suffix}": tmp_path / "unicat/engines/old.py",
    }


def test_every_listed_module_has_its_source_in_the_tree() -> None:
    root = Path(__file__).resolve().parent.parent.parent
    sources = module_sources(root)
    assert len(sources) == len(COMPILED_MODULES)
    assert all(path.is_file() for path in sources)
