"""The SRU 1.2 and 2.0 server at ``/sru``: its CQL parser (:mod:`search_app.sru.cql`), CQL as the query
model (:mod:`search_app.sru.cql_search`), requests, explain, responses, and the endpoint."""

from search_app.sru.handler import add_routes

__all__ = ["add_routes"]
