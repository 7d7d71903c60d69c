"""What librarians (and admins) see under ``/librarians``: the harvests' health, the quarantine, merge
explanations and decisions with a re-index on demand, the moderation desk, and the overlap between
libraries."""
