"""The ports: small typed interfaces, one per kind of data, that the stages are written against.

Adapters implement them (``unicat/stores`` over a SQL database, ``unicat/engines`` for the search
engines); the composition root picks the adapters from the settings and hands them to the stages.
Each port has one conformance suite run over every implementation (``tests/unicat/stores``).
"""
