"""The store of live targets (:class:`unicat.live_search.LiveTarget`): the catalogues the network searches
at query time, configured like sources. Implemented once in SQL over either database
(``unicat/stores/live_targets.py``); the values are checked before they come here
(:func:`unicat.live_targets.check_target`)."""

from __future__ import annotations

import abc

from unicat.live_search import LiveTarget


class LiveTargetStore(abc.ABC):
    """Every method is synchronous and safe to call from several threads."""

    @abc.abstractmethod
    def save_target(self, target: LiveTarget) -> LiveTarget:
        """Add the target, or replace the one of its code; returns it as stored. ``created`` is kept
        from the stored target (now for a new one) unless the target brings its own, ``updated`` is
        now unless it brings its own (a copied catalogue's targets keep their times)."""

    @abc.abstractmethod
    def get_target(self, code: str) -> LiveTarget | None: ...

    @abc.abstractmethod
    def list_targets(self) -> list[LiveTarget]:
        """Every target, by code."""

    @abc.abstractmethod
    def remove_target(self, code: str) -> bool:
        """Forget a target; ``False`` when there was none of that code."""
