"""The OAI-PMH 2.0 data provider at ``/oai``: protocol arguments, tokens, responses, and the verbs."""

from search_app.oai.formats import FORMATS, MetadataFormat
from search_app.oai.handler import OaiRepository, add_routes

__all__ = ["FORMATS", "MetadataFormat", "OaiRepository", "add_routes"]
