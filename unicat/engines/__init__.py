"""The adapters: SQLite, PostgreSQL and Elasticsearch implementations of the ports.

Nothing in the core picks one; the composition root does, from the settings' URLs
(:mod:`unicat_cli.wiring`).
"""
