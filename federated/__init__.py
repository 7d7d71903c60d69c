"""Federated search: catalogues that cannot be harvested, asked live at query time.

Z39.50 targets are reached through YAZ's ZOOM C library (the library Pazpar2 and the field's tools use),
SRU targets over HTTP; the web query is translated per target (PQF or CQL), every selected target is
asked at once, each under its own deadline. The records are handed to a reader and a merger from the
core's ports (:mod:`unicat.live_search`), which the composition root takes from the indexer.
"""
