"""The one place that builds the app's URLs of records and reading lists, and the links of the results
page: the current search with one filter added or removed, or another page.

Every results link is built from the *validated* query, so following any link on the page never
produces a 400, and filters survive paging and re-sorting.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from unicat.query import EXCLUDE_PREFIX, FACET_MORE, FILTER_FIELDS, PARAM_FILTERS, SearchQuery
from unicat.readers import ReadingList


def record_url(record_id: str, anchor: str = "") -> str:
    """The record page of a union id (ids are quoted: they may hold characters unsafe in a path), at
    the element ``anchor`` if given."""
    return "/record/" + quote(record_id, safe="") + (f"#{anchor}" if anchor else "")


def record_export_url(record_id: str, kind: str) -> str:
    """The download of one record in the export format ``kind`` (``ris``, ``bibtex``, ``marcxml``)."""
    return "/record/" + quote(record_id, safe="") + "/export?" + urlencode({"format": kind})


def api_record_url(record_id: str) -> str:
    """The JSON of a union id (its sub-resources, such as ``/comments``, are below it)."""
    return "/api/records/" + quote(record_id, safe="")


def merge_desk_url(record_id: str) -> str:
    """The librarians' merge desk of a union id: its members, the rules that merged them, the decisions."""
    return "/librarians/merges/" + quote(record_id, safe="")


def list_url(reading_list: ReadingList | int, suffix: str = "") -> str:
    """A reading list's permalink (of a stored list, or of its id); ``suffix`` is a sub-path or a query
    string (``?done=created``)."""
    list_id = reading_list if isinstance(reading_list, int) else reading_list.id
    return f"/lists/{list_id}{suffix}"


def api_list_url(list_id: int) -> str:
    """The JSON of a reading list."""
    return f"/api/lists/{list_id}"


def year_param(query: SearchQuery) -> str | None:
    """The ``year`` parameter that asks for the same year bounds as ``query``."""
    low, high = query.year_from, query.year_to
    if low is None and high is None:
        return None
    if low == high:
        return str(low)
    return f"{'' if low is None else low}-{'' if high is None else high}"


@dataclass(frozen=True, slots=True)
class SearchLinks:
    """URLs derived from one search."""

    query: SearchQuery
    default_page_size: int
    path: str = "/search"
    lang: str = ""
    """The ``lang`` the page was opened with: its links carry it, so a shared link keeps its language."""
    extra: tuple[tuple[str, str], ...] = ()
    """Parameters of the page itself that every link keeps (the new titles' period, ``days``)."""
    default_sort: str = "relevance"
    """The order the page gives without a ``sort`` parameter: links name another one only."""

    def _pairs(
        self,
        filters: dict[str, tuple[str, ...]] | None = None,
        year: str | None = "",
        sort: str | None = None,
        page: int = 1,
        exclusions: dict[str, tuple[str, ...]] | None = None,
        more: tuple[str, ...] | None = None,
    ) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        if self.query.text:
            pairs.append(("q", self.query.text))
        current = dict(self.query.filters) if filters is None else filters
        for name in PARAM_FILTERS:
            pairs.extend((name, value) for value in current.get(name, ()))
        excluded = dict(self.query.exclusions) if exclusions is None else exclusions
        for name in FILTER_FIELDS:
            pairs.extend((f"{EXCLUDE_PREFIX}{name}", value) for value in excluded.get(name, ()))
        expanded = tuple(self.query.facet_sizes) if more is None else more
        pairs.extend((FACET_MORE, name) for name in expanded)
        year_value = year_param(self.query) if year == "" else year
        if year_value:
            pairs.append(("year", year_value))
        sort_value = sort or self.query.sort
        if sort_value != self.default_sort:
            pairs.append(("sort", sort_value))
        if self.query.page_size != self.default_page_size:
            pairs.append(("page_size", str(self.query.page_size)))
        if page != 1:
            pairs.append(("page", str(page)))
        pairs.extend(self.extra)
        if self.lang:
            pairs.append(("lang", self.lang))
        return pairs

    def _url(self, pairs: list[tuple[str, str]]) -> str:
        return f"{self.path}?{urlencode(pairs)}" if pairs else self.path

    def page(self, number: int) -> str:
        return self._url(self._pairs(page=number))

    def is_selected(self, name: str, value: str) -> bool:
        return value in self.query.filters.get(name, ())

    def toggle(self, name: str, value: str) -> str:
        """The search with ``name=value`` added, or removed if it is already there; back to page 1."""
        filters = dict(self.query.filters)
        values = filters.get(name, ())
        if value in values:
            filters[name] = tuple(v for v in values if v != value)
        else:
            filters[name] = (*values, value)
        return self._url(self._pairs(filters=filters))

    def is_excluded(self, name: str, value: str) -> bool:
        return value in self.query.exclusions.get(name, ())

    def toggle_exclusion(self, name: str, value: str) -> str:
        """The search without the records having ``name=value`` (no longer choosing it), or with them
        again if they are already left out; back to page 1."""
        exclusions = dict(self.query.exclusions)
        values = exclusions.get(name, ())
        if value in values:
            exclusions[name] = tuple(v for v in values if v != value)
            return self._url(self._pairs(exclusions=exclusions))
        exclusions[name] = (*values, value)
        filters = {
            key: tuple(v for v in chosen if key != name or v != value)
            for key, chosen in self.query.filters.items()
        }
        return self._url(self._pairs(filters=filters, exclusions=exclusions))

    def with_more(self, facet: str, more: bool) -> str:
        """The same search and page, listing more values of ``facet`` (``facet_more``), or the first ones."""
        expanded = tuple(name for name in self.query.facet_sizes if name != facet)
        return self._url(self._pairs(more=(*expanded, facet) if more else expanded, page=self.query.page))

    def with_year(self, value: str | None) -> str:
        """The search limited to the years ``value`` (``1990-1999``), or without a year limit."""
        return self._url(self._pairs(year=value))

    def without_text(self) -> str:
        """The same filters over the whole catalogue."""
        pairs = [pair for pair in self._pairs() if pair[0] != "q"]
        return self._url(pairs)

    def with_text(self, text: str) -> str:
        """The same filters and order with ``text`` searched instead ("Did you mean"); back to page 1."""
        pairs = [("q", text), *(pair for pair in self._pairs() if pair[0] != "q")]
        return self._url(pairs)

    def without_filters(self) -> str:
        """The same words, with no filter."""
        pairs = [("q", self.query.text)] if self.query.text else []
        return self._url(pairs + list(self.extra) + ([("lang", self.lang)] if self.lang else []))

    def hidden_fields(self) -> list[tuple[str, str]]:
        """Parameters a form must carry to keep this search when it changes only the sort."""
        return [pair for pair in self._pairs() if pair[0] not in ("sort", "page")]


def page_numbers(current: int, last: int, around: int = 2) -> list[int | None]:
    """Page numbers to offer: the first, the last, and a window around the current; ``None`` is a gap."""
    wanted = {1, last, *range(current - around, current + around + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    shown: list[int | None] = []
    for number in numbers:
        if shown and shown[-1] is not None and number - shown[-1] > 1:
            shown.append(None)
        shown.append(number)
    return shown
