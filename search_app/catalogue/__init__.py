"""What everyone who searches sees: the search and record pages, the JSON API, and what they share
(running a search or finding a record in the app's thread pool, facets and holdings as shown,
highlighting)."""
