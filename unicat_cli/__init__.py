"""The ``unicat`` command: the composition root, above every other package.

It reads the settings, opens the stores and the index the settings name (:mod:`unicat_cli.wiring`), and
hands them to the stages (``harvester``, ``indexer``, ``search_app``), which never import each other or
this package. The demo network and ``unicat migrate`` live here because they wire stages together too.

Why a package of its own, and why this name: the core (``unicat``) must not import the stages, and a
module inside it that did (the CLI used to) made that rule hold only while its imports stayed lazy.
Above everything, the rule is checked by import-linter instead (``[tool.importlinter]`` in
``pyproject.toml``). ``unicat_cli`` says what a newcomer will look for in it: the command users run.
"""
