#!/usr/bin/env bash
# Install what the tests need and run every quality gate: ruff, mypy --strict, pytest.
# Arguments go to pytest (e.g. scripts/test.sh -k harvest).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
install_unicat test

echo "== ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "== mypy --strict"
.venv/bin/mypy unicat harvester indexer search_app bench
echo "== pytest"
.venv/bin/python -m pytest -q "$@"
