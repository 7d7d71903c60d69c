# Sourced by the other scripts. `install_unicat [EXTRAS]` makes a virtual environment in .venv and
# installs Unicat into it (editable), with optional extras such as "test".
set -euo pipefail
UNICAT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

install_unicat() {
    local extras="${1:-}" python="${PYTHON:-python3}" spec="."
    cd "$UNICAT_ROOT"
    if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
        echo "Unicat needs Python 3.11 or newer; set PYTHON=/path/to/python3.11 and try again." >&2
        exit 2
    fi
    if [ ! -x .venv/bin/python ]; then
        "$python" -m venv .venv
    fi
    [ -n "$extras" ] && spec=".[$extras]"
    # pip keeps its downloads in ~/.cache/pip, so a second install comes from the cache.
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -e "$spec"
}
