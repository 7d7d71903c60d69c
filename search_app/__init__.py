"""The search web app: HTML pages, the JSON API and its OpenAPI document, over one engine."""
