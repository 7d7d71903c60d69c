#!/usr/bin/env bash
# Install Unicat and run the demo network on the embedded engine: demo libraries served over OAI-PMH
# on loopback, harvested, indexed and served at http://127.0.0.1:8080/ (arguments go to `unicat demo`).
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh"
install_unicat
exec .venv/bin/unicat demo "$@"
