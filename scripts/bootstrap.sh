# Sourced by the other scripts: a virtual environment in .venv with Unicat installed (editable).
# Usage: source scripts/bootstrap.sh [EXTRAS]   e.g. "test"
set -euo pipefail
UNICAT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$UNICAT_ROOT"

PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "Unicat needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and try again." >&2
    exit 2
fi
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
extras="${1:-}"
spec="."
[ -n "$extras" ] && spec=".[$extras]"
# pip caches its downloads under ~/.cache/pip, so a second run installs from the cache.
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
