"""Test harnesses: the real servers and tools the tests run against (a PostgreSQL cluster, …), started
by the tests themselves, so that a test never needs a mock of a part it talks to."""
