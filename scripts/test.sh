#!/usr/bin/env bash
# Install what the tests need and run every quality gate: ruff, import-linter, mypy --strict, pytest.
# Arguments go to pytest (e.g. scripts/test.sh -k harvest).
# Everything installed is cached outside the clone (apt, ~/.cache/pip, ~/.cache/unicat, ~/.m2), so only
# the first run on a machine downloads anything.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"

step() {
    echo "== $* ($SECONDS s)"
}

step "system packages (scripts/install-test-deps.sh)"
bash "$UNICAT_ROOT/scripts/install-test-deps.sh"
step "python packages"
install_unicat test
step "Elasticsearch test node: download once, verify, unpack (tests/support/es_node.py)"
.venv/bin/python -m tests.support.es_node fetch
step "XML schemas of the OAI-PMH tests: fetch once from Debian and npm packages, verify (tests/support/schemas_fetch.py)"
.venv/bin/python -m tests.support.schemas_fetch
step "axe-core for the accessibility audits: fetch once from its npm package, verify (tests/support/axe.py)"
.venv/bin/python -m tests.support.axe

step "ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
step "import-linter (the direction of imports: [tool.importlinter] in pyproject.toml)"
.venv/bin/lint-imports
step "mypy --strict"
.venv/bin/mypy unicat unicat_cli harvester indexer search_app federated bench tests/support setup.py
step "pytest"
.venv/bin/python -m pytest -q "$@"
step "done"
