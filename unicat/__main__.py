"""``python -m unicat`` is the ``unicat`` command."""

import sys

from unicat_cli.cli import main

# The guard matters: the indexer's worker processes may be spawned, and spawning re-imports the main
# module; without it each worker would run the command again.
if __name__ == "__main__":
    sys.exit(main())
