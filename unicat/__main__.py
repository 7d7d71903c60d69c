"""``python -m unicat`` is the ``unicat`` command."""

import sys

from unicat.cli import main

sys.exit(main())
