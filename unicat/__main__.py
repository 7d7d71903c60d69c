"""``python -m unicat`` is the ``unicat`` command.

The one import from the core up to the composition root (:mod:`unicat_cli`), and the one import-linter
is told to ignore (``pyproject.toml`` says why): running the project by its package name is what
users type and what the tests start.
"""

import sys

from unicat_cli.cli import main

# The guard matters: the indexer's worker processes may be spawned, and spawning re-imports the main
# module; without it each worker would run the command again.
if __name__ == "__main__":
    sys.exit(main())
