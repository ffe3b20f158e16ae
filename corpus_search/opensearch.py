"""OpenSearch (or Elasticsearch): the index settings and mapping that mirror our schema, the
translation of our query tree into the Query DSL, and the bulk NDJSON of our cleaned records.

Pure functions, no client and no network: ``corpus-search opensearch mapping`` and
``corpus-search opensearch bulk`` print what they build, for users who load it with their own
tools. The query tree is translated, never re-parsed, so the query language means the same on
a cluster (see the README's "Scaling out" for what differs: scores and stemming details).

Fields (``text`` analysers need the ICU plugin, ``analysis-icu``, bundled with OpenSearch):

* ``title``, ``body``: ICU words, lower case, accents folded (``ucrania`` finds ``Ucrânia``);
  subfields ``.exact`` (lower case, accents kept: a quoted word), ``.en`` (English stemming),
  ``.ru`` (Russian stemming): an unquoted word is matched on the field and its stemmed
  subfields, a title match counting twice, as locally.
* facets as ``keyword`` fields normalised to lower case without accents, with a ``.raw``
  subfield as written, for display: ``category``, ``tag``, ``author``, ``place``, ``source``,
  ``lang``.
* ``published`` (date with the article's offset), ``local_date`` (the day printed on the
  article: filters and timelines), ``views``, ``words``; ``id``, ``path``, ``sha256``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from . import query as q
from .vocab import MULTI_VALUED, VALUE_FIELDS

INDEX_NAME = "corpus-search"
TEXT_FIELDS = ("title", "body")
TITLE_BOOST = 2.0  # a title occurrence counts twice, as the local index weighs it


def settings_and_mapping() -> dict[str, Any]:
    """The body of ``PUT /INDEX``: analysers and the mapping of every record field."""
    text = {
        "type": "text",
        "analyzer": "cs_folded",
        "fields": {
            "exact": {"type": "text", "analyzer": "cs_exact"},
            "en": {"type": "text", "analyzer": "cs_english"},
            "ru": {"type": "text", "analyzer": "cs_russian"},
        },
    }
    value = {"type": "keyword", "normalizer": "cs_value", "fields": {"raw": {"type": "keyword"}}}
    return {
        "settings": {
            "analysis": {
                "filter": {
                    "cs_en_stem": {"type": "stemmer", "language": "english"},
                    "cs_ru_stem": {"type": "stemmer", "language": "russian"},
                },
                "normalizer": {
                    "cs_value": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
                },
                "analyzer": {
                    "cs_folded": {
                        "tokenizer": "icu_tokenizer",
                        "filter": ["lowercase", "icu_folding"],
                    },
                    "cs_exact": {"tokenizer": "icu_tokenizer", "filter": ["lowercase"]},
                    "cs_english": {
                        "tokenizer": "icu_tokenizer",
                        "filter": ["lowercase", "icu_folding", "cs_en_stem"],
                    },
                    "cs_russian": {
                        "tokenizer": "icu_tokenizer",
                        "filter": ["lowercase", "cs_ru_stem"],
                    },
                },
            }
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "id": {"type": "keyword"},
                "path": {"type": "keyword"},
                "title": text,
                "body": text,
                **{name: value for name in VALUE_FIELDS},
                "categories": {"type": "keyword", "index": False},
                "tags": {"type": "keyword", "index": False},
                "language": {"type": "keyword", "index": False},
                "published": {"type": "date", "format": "strict_date_optional_time"},
                "local_date": {"type": "date", "format": "strict_date"},
                "views": {"type": "long"},
                "words": {"type": "integer"},
                "sha256": {"type": "keyword"},
            },
        },
    }


# --------------------------------------------------------------------------------------------
# Documents


def document(record: dict[str, Any]) -> dict[str, Any]:
    """The document of one record (the record's keys plus the facet and local-date fields)."""
    doc = dict(record)
    doc["category"] = list(record.get("categories") or [])
    doc["tag"] = list(record.get("tags") or [])
    doc["lang"] = record.get("language")
    doc["local_date"] = record["published"][:10] if record.get("published") else None
    return doc


def bulk_lines(records: Iterable[dict[str, Any]], index: str = INDEX_NAME) -> Iterator[str]:
    """NDJSON for ``POST /_bulk``: an ``index`` action (the record's id as _id) and the
    document, for each record."""
    for record in records:
        yield json.dumps({"index": {"_index": index, "_id": record["id"]}}, ensure_ascii=False)
        yield json.dumps(document(record), ensure_ascii=False)


# --------------------------------------------------------------------------------------------
# Queries


def _fields(field: str | None) -> tuple[str, ...]:
    return ("title",) if field == "title" else TEXT_FIELDS


def _boosted(name: str, base: str) -> str:
    return f"{name}^{TITLE_BOOST:g}" if base == "title" else name


def translate(node: q.Node) -> dict[str, Any]:
    """Our query tree as a Query DSL object (see the tests for each construct)."""
    if isinstance(node, q.MatchAll):
        return {"match_all": {}}
    if isinstance(node, q.And):
        must = [translate(c) for c in node.children if not isinstance(c, q.Not)]
        must_not = [translate(c.child) for c in node.children if isinstance(c, q.Not)]
        out: dict[str, Any] = {"must": must or [{"match_all": {}}]}
        if must_not:
            out["must_not"] = must_not
        return {"bool": out}
    if isinstance(node, q.Or):
        return {
            "bool": {"should": [translate(c) for c in node.children], "minimum_should_match": 1}
        }
    if isinstance(node, q.Not):
        return {"bool": {"must": [{"match_all": {}}], "must_not": [translate(node.child)]}}
    if isinstance(node, q.Range):
        field = "local_date" if node.field == "published" else node.field
        bounds: dict[str, Any] = {}
        if node.low is not None:
            bounds["gte"] = _day(node.low) if field == "local_date" else node.low
        if node.high is not None:
            bounds["lte"] = _day(node.high) if field == "local_date" else node.high
        if not bounds:
            return {"exists": {"field": field}}
        return {"range": {field: bounds}}
    if isinstance(node, q.Phrase):
        text = " ".join(node.words)
        return _any_field(
            node.field, lambda f: {"match_phrase": {f: {"query": text, "slop": node.slop}}}
        )
    return _term(node)


def _day(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _any_field(field: str | None, make) -> dict[str, Any]:
    clauses = []
    for base in _fields(field):
        clause = make(base)
        if base == "title":
            (kind,) = clause
            (name,) = clause[kind]
            body = clause[kind][name]
            clause = {kind: {name: {**body, "boost": TITLE_BOOST}}}
        clauses.append(clause)
    return (
        clauses[0]
        if len(clauses) == 1
        else {"bool": {"should": clauses, "minimum_should_match": 1}}
    )


def _term(node: q.Term) -> dict[str, Any]:
    if node.field == "id":
        if node.wildcard:
            return {"wildcard": {"id": {"value": node.text}}}
        return {"term": {"id": node.text}}
    if node.field in VALUE_FIELDS:
        if node.wildcard:
            if node.text.strip("*") == "":
                return {"exists": {"field": node.field}}
            return {"wildcard": {node.field: {"value": node.text, "case_insensitive": True}}}
        return {"term": {node.field: node.text.strip()}}  # the normalizer folds case, accents
    if node.wildcard:
        return _any_field(
            node.field,
            lambda f: {
                "wildcard": {f"{f}.exact": {"value": node.text.lower(), "case_insensitive": True}}
            },
        )
    if node.fuzzy:
        return _any_field(
            node.field,
            lambda f: {
                "fuzzy": {
                    f: {
                        "value": node.text.lower(),
                        "fuzziness": node.fuzzy,
                        "prefix_length": 1 if len(node.text) > 3 else 0,
                    }
                }
            },
        )
    if node.exact:
        return _any_field(node.field, lambda f: {"match": {f"{f}.exact": {"query": node.text}}})
    fields = [
        _boosted(f"{base}{sub}", base) for base in _fields(node.field) for sub in ("", ".en", ".ru")
    ]
    return {"multi_match": {"query": node.text, "fields": fields, "type": "most_fields"}}


def filter_clauses(filters: Any) -> list[dict[str, Any]]:
    """Filters (:class:`corpus_search.matching.Filters`) as ``filter`` clauses: they narrow
    without changing scores, as locally."""
    out: list[dict[str, Any]] = []
    for name in VALUE_FIELDS:
        values = getattr(filters, name)
        if values:
            out.append({"terms": {name: [v.strip() for v in values]}})
    if filters.first_day is not None or filters.last_day is not None:
        bounds = {}
        if filters.first_day is not None:
            bounds["gte"] = _day(filters.first_day)
        if filters.last_day is not None:
            bounds["lte"] = _day(filters.last_day)
        out.append({"range": {"local_date": bounds}})
    if filters.min_views is not None:
        out.append({"range": {"views": {"gte": filters.min_views}}})
    return out


def search_body(
    tree: q.Node,
    filters: Any = None,
    *,
    size: int = 10,
    offset: int = 0,
    sort: str = "relevance",
    facets: Iterable[str] = (),
    facet_limit: int = 10,
) -> dict[str, Any]:
    """The body of ``POST /INDEX/_search``: the query, its filters, the page, the sort, exact
    totals, and a ``terms`` aggregation per facet (year and month by date histogram)."""
    clauses = filter_clauses(filters) if filters is not None else []
    query = translate(tree)
    if clauses:
        query = {"bool": {"must": [query], "filter": clauses}}
    body: dict[str, Any] = {"query": query, "size": size, "from": offset, "track_total_hits": True}
    if sort != "relevance":
        field = "published" if sort in ("date", "-date") else "views"
        order = "desc" if sort.startswith("-") else "asc"
        body["sort"] = [
            {field: {"order": order, "missing": "_first" if order == "asc" else "_last"}},
            {"id": "asc"},
        ]
    aggs = {}
    for facet in facets:
        if facet in ("year", "month"):
            aggs[facet] = {
                "date_histogram": {
                    "field": "local_date",
                    "calendar_interval": facet,
                    "min_doc_count": 1,
                    "format": "yyyy" if facet == "year" else "yyyy-MM",
                }
            }
        else:
            aggs[facet] = {
                "terms": {
                    "field": f"{facet}.raw" if facet not in MULTI_VALUED else facet,
                    "size": facet_limit,
                }
            }
        aggs[f"{facet}_missing"] = {
            "missing": {"field": "local_date" if facet in ("year", "month") else facet}
        }
    if aggs:
        body["aggs"] = aggs
    return body


def composite_facet_body(
    tree: q.Node, filters: Any, facet: str, after: dict[str, Any] | None = None, page: int = 1000
) -> dict[str, Any]:
    """One page of a ``composite`` aggregation over every value of a facet (exact counts
    whatever the number of values): repeat with ``after`` = the previous ``after_key``."""
    body = search_body(tree, filters, size=0)
    source = {facet: {"terms": {"field": facet}}}
    composite: dict[str, Any] = {"size": page, "sources": [source]}
    if after:
        composite["after"] = after
    body["aggs"] = {facet: {"composite": composite}}
    return body


def timeline_body(tree: q.Node, filters: Any, by: str) -> dict[str, Any]:
    """Counts per period of the article's local day (``date_histogram``)."""
    body = search_body(tree, filters, size=0)
    fmt = {"year": "yyyy", "month": "yyyy-MM", "week": "YYYY-'W'ww", "day": "yyyy-MM-dd"}[by]
    body["aggs"] = {
        "timeline": {
            "date_histogram": {
                "field": "local_date",
                "calendar_interval": by,
                "format": fmt,
                "min_doc_count": 0,
            }
        },
        "undated": {"missing": {"field": "local_date"}},
    }
    return body
