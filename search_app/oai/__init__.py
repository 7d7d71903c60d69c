"""The OAI-PMH 2.0 data provider at ``/oai``: protocol arguments, tokens, responses, and the verbs."""

from search_app.oai.handler import add_routes

__all__ = ["add_routes"]
