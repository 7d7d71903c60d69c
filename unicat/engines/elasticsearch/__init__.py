"""The Elasticsearch engine: the same interface as the embedded one, for catalogues that outgrow it."""

from unicat.engines.elasticsearch.engine import ElasticsearchEngine

__all__ = ["ElasticsearchEngine"]
