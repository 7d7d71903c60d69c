"""The Elasticsearch union index: the same port as the embedded SQLite one, for catalogues that outgrow it."""

from unicat.engines.elasticsearch.engine import ElasticsearchEngine

__all__ = ["ElasticsearchEngine"]
