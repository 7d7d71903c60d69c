"""Atom feeds of union records (RFC 4287): the document (:mod:`.atom`) and how it is served (:mod:`.http`)."""
