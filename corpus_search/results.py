"""What a search answers, whichever engine ran it (the local index in search.py, an
OpenSearch cluster in opensearch.py): the hits with their snippets, and the page of them with
totals and facet counts."""

from __future__ import annotations

from .records import Record

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

    from .facets import FacetCount
    from .snippets import Snippet

__all__ = ["Hit", "SearchResult"]


class Hit(Record):
    FIELDS = ("rank", "score", "record", "snippets", "title", "reprints")

    @classmethod
    def of(
        cls,
        rank: int,
        score: float | None,
        record: dict[str, Any],
        specs: tuple[Any, Any],
        snippets: bool = True,
    ) -> Hit:
        """A hit from a stored record (body included: it is taken out) and what to mark in
        its title and body (``specs``: snippets.MatchSpec each, from the local matcher or
        from the query tree for a cluster): the one place both engines make hits."""
        from .snippets import find_matches, make_snippets, mark_text

        title_spec, body_spec = specs
        body = record.pop("body")
        title = record["title"] or ""
        return cls(
            rank=rank,
            score=score,
            record=record,
            snippets=make_snippets(body, body_spec) if snippets else [],
            title=mark_text(title, find_matches(title, title_spec)),
        )

    def __init__(
        self,
        rank: int,
        score: float | None,
        record: dict[str, Any],
        snippets: list[Snippet],
        title: Snippet,
        reprints: list[str] | None = None,
    ):
        self.rank = rank
        self.score = score
        self.record = record  # the record's keys, without body
        self.snippets = snippets
        self.title = title
        self.reprints = reprints  # with collapse: the ids of the cluster's other members

    def to_dict(self, open_mark: str = "[[", close_mark: str = "]]") -> dict[str, Any]:
        from .snippets import snippet_to_string

        r = self.record
        return {
            "id": r["id"],
            "path": r["path"],
            "score": round(self.score, 4) if self.score is not None else None,
            "title": r["title"],
            "author": r["author"],
            "published": r["published"],
            "place": r["place"],
            "source": r["source"],
            "url": r.get("url"),
            "site": r.get("site"),
            "categories": r["categories"],
            "tags": r["tags"],
            "views": r["views"],
            "language": r["language"],
            "words": r["words"],
            "snippets": [snippet_to_string(s, open_mark, close_mark) for s in self.snippets],
        } | (
            {}
            if self.reprints is None
            else {"reprints": len(self.reprints), "reprint_ids": self.reprints}
        )


class SearchResult(Record):
    FIELDS = (
        "query",
        "total",
        "took_ms",
        "page",
        "limit",
        "sort",
        "hits",
        "facets",
        "filters",
        "suggestion",
    )

    def __init__(
        self,
        query: str,
        total: int,
        took_ms: float,
        page: int,
        limit: int,
        sort: str,
        hits: list[Hit] | None = None,
        facets: dict[str, FacetCount] | None = None,
        filters: dict[str, Any] | None = None,
        suggestion: str | None = None,
    ):
        self.query = query
        self.total = total
        self.took_ms = took_ms
        self.page = page
        self.limit = limit
        self.sort = sort
        self.hits: list[Hit] = [] if hits is None else hits
        self.facets: dict[str, FacetCount] = {} if facets is None else facets
        self.filters: dict[str, Any] = {} if filters is None else filters
        self.suggestion = suggestion

    @property
    def pages(self) -> int:
        return (self.total + self.limit - 1) // self.limit if self.limit else 0
