"""The stores written once in SQL, run over either database through the execution core
(:class:`unicat.ports.database.Database`): SQLite embedded or PostgreSQL."""
