"""PostgreSQL, for networks that outgrow one machine: the stores' database (psycopg 3, psycopg-pool)."""

from unicat.engines.postgresql.database import PostgresDatabase

__all__ = ["PostgresDatabase"]
