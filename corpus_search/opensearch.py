"""OpenSearch (or Elasticsearch): the index settings and mapping that mirror our schema, the
translation of our query tree into the Query DSL, and the bulk NDJSON of our cleaned records.

Pure functions, no client and no network: ``corpus-search opensearch mapping`` and
``corpus-search opensearch bulk`` print what they build, for users who load it with their own
tools. The query tree is translated, never re-parsed, so the query language means the same on
a cluster (see the README's "Scaling out" for what differs: scores and stemming details).

Fields (analysers of OpenSearch's analysis-common only: no ICU plugin is needed):

* ``title``, ``body`` and ``text`` (the title twice and the body, as the local index's text
  field): Unicode words, lower case, accents folded (``ucrania`` finds ``Ucrânia``); subfield
  ``.exact`` (lower case, accents kept: a quoted word); and ``title_LANG``, ``text_LANG``: a
  copy for the article's own language, stemmed by that language's stemmer (see
  :data:`CLUSTER_STEMMERS`): an unquoted word is matched as written and in its article's
  language's copy, as locally.
* facets as ``keyword`` fields normalised to lower case without accents, with a ``.raw``
  subfield as written, for display: ``category``, ``tag``, ``author``, ``place``, ``source``,
  ``lang``.
* ``published`` (date with the article's offset), ``local_date`` (the day printed on the
  article: filters and timelines), ``views``, ``words``; ``id``, ``path``, ``sha256``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from . import query as q
from .errors import CorpusSearchError, shorten_words
from .vocab import MULTI_VALUED, QUERY_VALUE_FIELDS, VALUE_FIELDS

INDEX_NAME = "corpus-search"


#: The languages whose articles the cluster reads with a stemmer, and the stemmer (the
#: ``stemmer`` filter of OpenSearch's analysis-common): Snowball's where it has one, as the
#: local index uses (see :mod:`corpus_search.wordforms`). An article's title and body are
#: copied into ``title_LANG`` and ``body_LANG`` for its own language only (an article of
#: unknown language into English's and Russian's, the rules of its words' scripts), so a word
#: meets its forms by its article's language, as locally. Ukrainian has no stemmer there:
#: its articles match words as written on a cluster (locally, pymorphy3's lemmas).
CLUSTER_STEMMERS = {
    "en": "porter2",
    "ru": "russian",
    "pt": "portuguese",
    "es": "spanish",
    "fr": "french",
    "de": "german",
    "it": "italian",
    "nl": "dutch",
    "da": "danish",
    "no": "norwegian",
    "sv": "swedish",
    "fi": "finnish",
    "hu": "hungarian",
    "ro": "romanian",
    "tr": "turkish",
    "bg": "bulgarian",
    "el": "greek",
    "ar": "arabic",
    "hi": "hindi",
    "cs": "czech",
    "ca": "catalan",
    "lt": "lithuanian",
    "lv": "latvian",
    "id": "indonesian",
    "hy": "armenian",
    "eu": "basque",
    "ga": "irish",
    "gl": "galician",
}
UNKNOWN_LANGUAGES = ("en", "ru")
RESULT_WINDOW = 10_000  # OpenSearch's index.max_result_window: from + size beyond is refused
MAX_FUZZY_EXPANSIONS = 2000  # words a fuzzy word may stand for, as locally (50 by default)  # the stemmed copies an article of unknown language gets


def settings_and_mapping() -> dict[str, Any]:
    """The body of ``PUT /INDEX``: analysers and the mapping of every record field. Words are
    Unicode words (the standard tokenizer, UAX #29), lower case, ``ё`` as ``е``, accents of
    Latin letters folded (``ucrania`` finds ``Ucrânia``): no plugin beyond analysis-common."""
    text = {
        "type": "text",
        "analyzer": "cs_folded",
        "fields": {"exact": {"type": "text", "analyzer": "cs_exact"}},
    }
    stemmed = {
        lang: {
            "tokenizer": "standard",
            "char_filter": ["cs_yo"],
            "filter": ["lowercase", "asciifolding", f"cs_stem_{lang}"],
        }
        for lang in CLUSTER_STEMMERS
    }
    value = {"type": "keyword", "normalizer": "cs_value", "fields": {"raw": {"type": "keyword"}}}
    return {
        "settings": {
            "analysis": {
                "char_filter": {"cs_yo": {"type": "mapping", "mappings": ["ё => е", "Ё => Е"]}},
                "filter": {
                    f"cs_stem_{lang}": {"type": "stemmer", "language": name}
                    for lang, name in CLUSTER_STEMMERS.items()
                },
                "normalizer": {
                    "cs_value": {"type": "custom", "filter": ["lowercase", "asciifolding"]},
                },
                "analyzer": {
                    "cs_folded": {
                        "tokenizer": "standard",
                        "char_filter": ["cs_yo"],
                        "filter": ["lowercase", "asciifolding"],
                    },
                    "cs_exact": {
                        "tokenizer": "standard",
                        "char_filter": ["cs_yo"],
                        "filter": ["lowercase"],
                    },
                    **{f"cs_{lang}": a for lang, a in stemmed.items()},
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
                "text": text,
                **{
                    f"{base}_{lang}": {"type": "text", "analyzer": f"cs_{lang}"}
                    for base in ("title", "text")
                    for lang in CLUSTER_STEMMERS
                },
                **{name: value for name in QUERY_VALUE_FIELDS},
                "stem": {"type": "keyword"},
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
    # title twice and the body, one field, as the local index's text field (BM25F's weighting
    # before saturation); the parts are values of an array, so a phrase cannot run across
    # them (OpenSearch leaves a gap of 100 positions between values)
    title = record.get("title") or ""
    doc["text"] = [title, title, record.get("body") or ""]
    language = record.get("language")
    stems = [
        lang
        for lang in ((language,) if language else UNKNOWN_LANGUAGES)
        if lang in CLUSTER_STEMMERS
    ]
    for lang in stems:
        doc[f"title_{lang}"] = title
        doc[f"text_{lang}"] = doc["text"]
    if stems:
        doc["stem"] = stems  # which stemmed copies it has (none: words match as written)
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
    """The field a text clause searches: the title, or ``text`` (title twice and body)."""
    return ("title",) if field == "title" else ("text",)


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
        if node.slop:  # in order, at most slop words between: intervals (match_phrase's slop
            # would let the words swap places); with three or more words the gaps are
            # counted together there, each pair apart locally
            gaps = node.slop * (len(node.words) - 1)
            return _by_language(
                node.field,
                lambda f: {
                    "intervals": {f: {"match": {"query": text, "max_gaps": gaps, "ordered": True}}}
                },
            )
        return _by_language(
            node.field,
            lambda f: {"match_phrase": {f: {"query": text, "slop": 0}}},
        )
    return _term(node)


def _by_language(field: str | None, make) -> dict[str, Any]:
    """A word or phrase in ``text`` (title twice and body, as locally) or in the title: in
    the stemmed copy of its article's language (whose term is the word's stem: a word and its
    forms are one term of the score, as locally), or as written in an article with no
    stemmed copy (a language the cluster cannot stem)."""
    base = "title" if field == "title" else "text"
    stemmed = {"dis_max": {"queries": [make(f"{base}_{lang}") for lang in CLUSTER_STEMMERS]}}
    written = {"bool": {"must": [make(base)], "must_not": [{"exists": {"field": "stem"}}]}}
    return {"bool": {"should": [stemmed, written], "minimum_should_match": 1}}


def _day(day: int) -> str:
    return f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


def _any_field(field: str | None, make) -> dict[str, Any]:
    (base,) = _fields(field)
    return make(base)


def _term(node: q.Term) -> dict[str, Any]:
    if node.field == "id":
        if node.wildcard:
            return {"wildcard": {"id": {"value": node.text}}}
        return {"term": {"id": node.text}}
    if node.field in QUERY_VALUE_FIELDS:
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
                        "max_expansions": MAX_FUZZY_EXPANSIONS,
                        "transpositions": False,  # Levenshtein, as locally: a swap is 2 edits
                    }
                }
            },
        )
    if node.exact:
        return _any_field(node.field, lambda f: {"match": {f"{f}.exact": {"query": node.text}}})
    from .vocab import words

    parts = words(node.text)
    if len(parts) > 1:  # covid-19, U.S.-led: the words in a row, as locally (not an OR)
        return _by_language(
            node.field, lambda f: {"match_phrase": {f: {"query": " ".join(parts), "slop": 0}}}
        )
    return _by_language(node.field, lambda f: {"match": {f: {"query": node.text}}})


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
    else:  # equal scores in the order of their ids, as locally (not the shards' order)
        body["sort"] = [{"_score": {"order": "desc"}}, {"id": "asc"}]
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
    # a week's key is its first day (OpenSearch's weeks start on Monday, as ISO's): its ISO
    # label is made here (Java's week pattern depends on the JVM's locale)
    fmt = {"year": "yyyy", "month": "yyyy-MM", "week": "yyyy-MM-dd", "day": "yyyy-MM-dd"}[by]
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


def _period(key: str, by: str) -> str:
    """A bucket's label as the local index writes it (ISO weeks: 2021-W27)."""
    if by != "week":
        return key
    import datetime as dt

    year, week, _ = dt.date.fromisoformat(key).isocalendar()
    return f"{year}-W{week:02d}"


# --------------------------------------------------------------------------------------------
# The cluster as a backend: the same result objects as the local index


class ClusterError(CorpusSearchError):
    """A cluster that cannot be reached or that refuses a request (reported in one line)."""


def _facet_counts(
    field: str, raw: dict[str, int], missing: int, limit: int | None, sort: str = "count"
):
    """A FacetCount from value -> count, case variants merged as locally."""
    from .facets import merged_counts

    return merged_counts(field, raw, missing, limit, sort)


class ClusterIndex:
    """A corpus on an OpenSearch cluster, answering as :class:`corpus_search.search.CorpusIndex`
    does (search, facet, timeline, get, count_queries): the CLI's output is the same."""

    def __init__(
        self,
        url: str,
        index: str = INDEX_NAME,
        *,
        client: Any = None,
        verify_certs: bool = True,
        timeout: float = 30.0,
    ):
        import os

        self.url, self.index = url, index
        if client is None:
            try:
                from opensearchpy import OpenSearch
            except ImportError:
                raise ClusterError(
                    "the OpenSearch backend needs its client: "
                    "pip install 'corpus-search[opensearch]'"
                ) from None
            user = os.environ.get("CORPUS_SEARCH_OPENSEARCH_USER")
            password = os.environ.get("CORPUS_SEARCH_OPENSEARCH_PASSWORD")
            client = OpenSearch(
                url,
                http_auth=(user, password) if user else None,
                verify_certs=verify_certs,
                timeout=timeout,
                max_retries=2,
                retry_on_timeout=True,
            )
        self.client = client

    def __enter__(self) -> ClusterIndex:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        import contextlib

        with contextlib.suppress(Exception):
            self.client.close()

    def _call(self, fn, *args: Any, **kwargs: Any) -> Any:
        """One request; what the client raises becomes a one-line ClusterError."""
        try:
            return fn(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - the client's errors, reported in one line
            raise self.error(exc) from exc

    def _deep_page(self, body: dict[str, Any], offset: int, size: int) -> dict[str, Any]:
        """Hits past the cluster's result window (10,000: ``from`` + ``size`` beyond it is
        refused, as ``search -l`` over many hits asked), read page after page: the first
        answer (its total and aggregations) with those hits."""
        paged = dict(body, size=min(1000, offset + size))
        paged.pop("from", None)
        first: dict[str, Any] | None = None
        hits: list[dict[str, Any]] = []
        pages = self._pages(paged)
        try:
            for answer in pages:
                first = first or answer
                hits.extend(answer["hits"]["hits"])
                if len(hits) >= offset + size:
                    break
        finally:
            pages.close()  # the point in time is let go at once
        assert first is not None
        first["hits"]["hits"] = hits[offset : offset + size]
        return first

    def _timed_out(self) -> ClusterError:
        return ClusterError(
            f"the OpenSearch cluster at {self.url} timed out on this query and would have "
            "answered in part; raise --timeout or narrow the query"
        )

    def _search(self, body: dict[str, Any]) -> dict[str, Any]:
        """One search; an answer the cluster says is partial (it timed out, or shards
        failed) is an error, never results that look whole."""
        answer = self._call(self.client.search, index=self.index, body=body)
        shards = answer.get("_shards") or {}
        if answer.get("timed_out"):
            raise self._timed_out()
        if shards.get("failed"):
            raise ClusterError(
                f"the OpenSearch cluster at {self.url} answered from {shards.get('successful')} "
                f"of {shards.get('total')} shards; the rest failed: not a whole answer"
            )
        return answer

    def error(self, exc: BaseException) -> ClusterError:
        status = getattr(exc, "status_code", None)
        name = type(exc).__name__
        if status in (401, 403):
            why = "refused the credentials (set CORPUS_SEARCH_OPENSEARCH_USER and _PASSWORD)"
        elif status == 404:
            why = f"has no index {self.index!r} (load one with 'corpus-search opensearch push')"
        elif name in ("ConnectionError", "ConnectionTimeout") or status in (None, "N/A"):
            first = str(exc).splitlines()[0] if str(exc) else name
            why = f"cannot be reached ({shorten_words(first, 160)})"
        else:
            first = str(exc).splitlines()[0] if str(exc) else name
            why = f"answered {status}: {shorten_words(first, 200)}"
        return ClusterError(f"the OpenSearch cluster at {self.url} {why}")

    @property
    def doc_count(self) -> int:
        return int(self._call(self.client.count, index=self.index)["count"])

    # -- search ---------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        filters: Any = None,
        sort: str = "relevance",
        limit: int = 10,
        page: int = 1,
        facets: Iterable[str] = (),
        facet_limit: int = 10,
        snippets: bool = True,
        count_only: bool = False,
        timeout: float = 10.0,
        collapse: bool = False,
    ):
        import time

        from .matching import Filters
        from .results import SearchResult
        from .schema import stored_to_record  # noqa: F401 - the record's shape, for reference

        if collapse:
            raise ClusterError("--collapse is not available with the OpenSearch backend yet")
        started = time.perf_counter()
        tree = q.parse_query(text)
        filters = filters or Filters()
        facets = list(facets)
        size = 0 if count_only else limit
        body = search_body(
            tree,
            filters,
            size=size,
            offset=(page - 1) * limit,
            sort=sort,
            facets=[f for f in facets if f in ("year", "month")],
        )
        body["timeout"] = f"{int(timeout * 1000)}ms"
        if size and (page - 1) * limit + size > RESULT_WINDOW:
            answer = self._deep_page(body, (page - 1) * limit, size)
        else:
            answer = self._search(body)
        total = int(answer["hits"]["total"]["value"])
        result = SearchResult(
            query=text,
            total=total,
            took_ms=0.0,
            page=page,
            limit=limit,
            sort=sort,
            filters=filters.to_dict(),
        )
        for name in facets:
            result.facets[name] = self._facet(name, tree, filters, answer, facet_limit)
        from .results import Hit

        specs = spec_of(tree)
        for rank, hit in enumerate(answer["hits"]["hits"], start=(page - 1) * limit + 1):
            score = hit.get("_score") if sort == "relevance" else None
            result.hits.append(Hit.of(rank, score, _record(hit["_source"]), specs, snippets))
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _facet(
        self,
        name: str,
        tree: q.Node,
        filters: Any,
        answer: dict[str, Any] | None,
        limit: int | None,
        sort: str = "count",
    ):
        if name in ("year", "month"):
            if answer is None or name not in answer.get("aggregations", {}):
                body = search_body(tree, filters, size=0, facets=[name])
                answer = self._search(body)
            aggs = answer["aggregations"]
            periods = {
                b["key_as_string"]: b["doc_count"] for b in aggs[name]["buckets"] if b["doc_count"]
            }
            return _facet_counts(name, periods, aggs[f"{name}_missing"]["doc_count"], limit, sort)
        raw: dict[str, int] = {}
        after = None
        while True:  # composite pages: every value counted exactly
            body = composite_facet_body(tree, filters, f"{name}.raw", after)
            body["aggs"]["missing"] = {"missing": {"field": name}}
            page = self._search(body)
            agg = page["aggregations"][f"{name}.raw"]
            for bucket in agg["buckets"]:
                value = bucket["key"][f"{name}.raw"]
                raw[value] = raw.get(value, 0) + bucket["doc_count"]
            missing = page["aggregations"]["missing"]["doc_count"]
            after = agg.get("after_key")
            if not agg["buckets"] or not after:
                break
        return _facet_counts(name, raw, missing, limit, sort)

    def facet(
        self,
        name: str,
        text: str = "",
        filters: Any = None,
        *,
        limit: int | None = None,
        sort: str = "count",
        timeout: float = 10.0,
    ):
        from .matching import Filters

        return self._facet(name, q.parse_query(text), filters or Filters(), None, limit, sort)

    def timeline(
        self,
        text: str = "",
        filters: Any = None,
        *,
        by: str | None = None,
        split: str | None = None,
        timeout: float = 10.0,
    ):
        from .facets import Timeline
        from .matching import Filters

        if split:
            raise ClusterError("--split is not available with the OpenSearch backend yet")
        tree = q.parse_query(text)
        filters = filters or Filters()
        if by is None:  # chosen from the span of the results, as locally
            from .facets import choose_period

            span = search_body(tree, filters, size=0)
            span["aggs"] = {
                "first": {"min": {"field": "local_date", "format": "yyyyMMdd"}},
                "last": {"max": {"field": "local_date", "format": "yyyyMMdd"}},
            }
            edges = self._search(span)["aggregations"]
            first = edges["first"].get("value_as_string")
            last = edges["last"].get("value_as_string")
            by = choose_period(int(first), int(last)) if first and last else "month"
        body = timeline_body(tree, filters, by)
        answer = self._search(body)
        buckets = [
            {"period": _period(b["key_as_string"], by), "count": b["doc_count"]}
            for b in answer["aggregations"]["timeline"]["buckets"]
        ]
        total = int(answer["hits"]["total"]["value"])
        return Timeline(by, total, answer["aggregations"]["undated"]["doc_count"], buckets)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        def fetch() -> dict[str, Any]:
            try:
                return self.client.get(index=self.index, id=doc_id)
            except Exception as exc:  # noqa: BLE001 - a missing document is not an error
                if getattr(exc, "status_code", None) == 404 and "index_not_found" not in str(exc):
                    return {"found": False}
                raise

        answer = self._call(fetch)
        return _record(answer["_source"]) if answer.get("found") else None

    def _not_yet(self, what: str) -> ClusterError:
        return ClusterError(
            f"{what} is not available with the OpenSearch backend yet; run it on a local index"
        )

    def kwic(self, *a: Any, **kw: Any) -> Any:
        raise self._not_yet("kwic")

    def collocates(self, *a: Any, **kw: Any) -> Any:
        raise self._not_yet("collocates")

    def reprints(self, *a: Any, **kw: Any) -> Any:
        raise self._not_yet("reprints")

    def records(
        self,
        text: str = "",
        filters: Any = None,
        *,
        sort: str = "relevance",
        timeout: float = 10.0,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, body included, in the search order (export): read with
        search_after in a point in time, a thousand at a time (memory stays flat)."""
        from .matching import Filters

        body = search_body(q.parse_query(text), filters or Filters(), size=1000, sort=sort)
        body["timeout"] = f"{int(timeout * 1000)}ms"
        body.pop("from", None)
        for hit in self._scan(body):
            yield _record(hit["_source"])

    def _scan(self, body: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every hit of a search body, in its order."""
        for answer in self._pages(body):
            yield from answer["hits"]["hits"]

    def _pages(self, body: dict[str, Any]) -> Generator[dict[str, Any], None, None]:
        """The answers of a search body page after page (the first one always, for its
        total): ``search_after`` on the sort, which ends with the id so that it is total, in
        a point in time, so that the pages come from one view of the index."""
        pit = self._call(self.client.create_pit, index=self.index, params={"keep_alive": "2m"})[
            "pit_id"
        ]
        try:
            after = None
            while True:
                page = dict(body)
                page["pit"] = {"id": pit, "keep_alive": "2m"}
                if after is not None:
                    page["search_after"] = after
                answer = self._call(self.client.search, body=page)
                if answer.get("timed_out"):
                    raise self._timed_out()
                hits = answer["hits"]["hits"]
                if hits or after is None:
                    yield answer
                if not hits:
                    return
                after = hits[-1]["sort"]
        finally:
            self._call(self.client.delete_pit, body={"pit_id": [pit]})

    def stats(self) -> dict[str, Any]:
        """What the index on the cluster holds, in the shape of the local ``stats``."""
        body: dict[str, Any] = {
            "size": 0,
            "track_total_hits": True,
            "aggs": {
                "sources": {"terms": {"field": "source.raw", "size": 10_000}},
                "no_source": {"missing": {"field": "source"}},
                "languages": {"terms": {"field": "lang.raw", "size": 1000}},
                "no_language": {"missing": {"field": "lang"}},
                "first": {"min": {"field": "local_date", "format": "yyyy-MM-dd"}},
                "last": {"max": {"field": "local_date", "format": "yyyy-MM-dd"}},
            },
        }
        answer = self._search(body)
        aggs = answer["aggregations"]
        size = self._call(self.client.indices.stats, index=self.index, metric="store")
        store = size["indices"][self.index]["primaries"]["store"]["size_in_bytes"]

        def counted(name: str, missing: str) -> dict[str, int]:
            out = {b["key"]: b["doc_count"] for b in aggs[name]["buckets"]}
            if aggs[missing]["doc_count"]:
                out["(none)"] = aggs[missing]["doc_count"]
            return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

        return {
            "index": f"{self.url}/{self.index}",
            "documents": int(answer["hits"]["total"]["value"]),
            "size_bytes": int(store),
            "schema_version": None,
            "generation": None,
            "created": None,
            "updated": None,
            "roots": [],
            "sources": counted("sources", "no_source"),
            "languages": counted("languages", "no_language"),
            "date_range": {
                "first": aggs["first"].get("value_as_string"),
                "last": aggs["last"].get("value_as_string"),
            },
        }

    def count_queries(
        self, queries: list[str], filters: Any = None, *, by: str = "month", timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        trees = [q.parse_query(t) for t in queries]
        out = []
        for text, _tree in zip(queries, trees):
            tl = self.timeline(text, filters, by=by, timeout=timeout)
            out.append(
                {
                    "query": text,
                    "total": tl.total,
                    "undated": tl.undated,
                    "buckets": [b for b in tl.buckets if b["count"]],
                }
            )
        return out


def _record(source: dict[str, Any]) -> dict[str, Any]:
    from .articles import RECORD_FIELDS

    return {
        k: source.get(k) if k not in ("categories", "tags") else list(source.get(k) or [])
        for k in RECORD_FIELDS
    }


def spec_of(tree: q.Node):
    """What to highlight, from the query tree alone (the cluster did the matching)."""
    from .languages import stem
    from .snippets import MatchSpec
    from .vocab import fold, fold_accents, words

    title, body = MatchSpec(), MatchSpec()
    for node in q.positive_nodes(tree):
        specs = (title,) if getattr(node, "field", None) == "title" else (title, body)
        if isinstance(node, q.Phrase):
            key = tuple(stem(fold_accents(fold(w))) for w in node.words)
            for s in specs:
                s.phrases.append((key, node.slop))
        elif isinstance(node, q.Term) and node.field in (None, "title") and not node.wildcard:
            for w in words(node.text):
                for s in specs:
                    if node.exact:
                        s.words.add(fold(w))
                    else:
                        s.stems.add(stem(fold_accents(fold(w))))
    return title, body


# --------------------------------------------------------------------------------------------
# Loading a cluster: push


@dataclass
class PushReport:
    index: str
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: dict[str, int] = field(default_factory=dict)  # reason -> documents
    retries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "added": self.added,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "deleted": self.deleted,
            "failed": self.failed,
            "retries": self.retries,
        }


RETRIED = (429, 502, 503, 504)


def existing_hashes(cluster: ClusterIndex, page: int = 1000) -> dict[str, str]:
    """id -> sha256 of every document on the cluster (search_after over the ids)."""
    out: dict[str, str] = {}
    after = None
    while True:
        body: dict[str, Any] = {
            "size": page,
            "sort": [{"id": "asc"}],
            "_source": ["sha256"],
            "query": {"match_all": {}},
        }
        if after is not None:
            body["search_after"] = after
        hits = cluster._call(cluster.client.search, index=cluster.index, body=body)["hits"]["hits"]
        for hit in hits:
            out[hit["_id"]] = (hit.get("_source") or {}).get("sha256") or ""
        if len(hits) < page:
            return out
        after = hits[-1]["sort"]


def push(
    cluster: ClusterIndex,
    records: Iterable[dict[str, Any]],
    *,
    chunk: int = 500,
    prune: bool = False,
    max_retries: int = 6,
    backoff: float = 0.5,
    sleep: Callable[[float], None] | None = None,
    progress: Callable[[int], None] | None = None,
    keep: set[str] | None = None,
) -> PushReport:
    """Send the records that are new or changed (by content hash) in bulk requests of ``chunk``
    documents; retry what the cluster refuses for now (429, 502-504) with exponential
    backoff; count the rest of the failures by reason. A document counts as added or updated
    once the cluster has taken it. With ``prune``, documents of the cluster that are not among
    the records are deleted, except those of ``keep``: the ids of files this run could not
    read (filled while the records are read; an id there keeps its records ``ID#...`` too),
    which must not vanish from the cluster because a file failed once. Creates the index with
    our mapping if needed."""
    import time

    sleep = sleep or time.sleep
    report = PushReport(cluster.index)
    exists = cluster._call(cluster.client.indices.exists, index=cluster.index)
    if not exists:
        cluster._call(
            cluster.client.indices.create, index=cluster.index, body=settings_and_mapping()
        )
    if exists:  # what the last push sent may not be searchable yet: it must be seen
        cluster._call(cluster.client.indices.refresh, index=cluster.index)
    known = existing_hashes(cluster) if exists else {}
    seen: set[str] = set()
    batch: list[tuple[dict[str, Any], dict[str, Any] | None, str]] = []

    def send(actions: list[tuple[dict[str, Any], dict[str, Any] | None, str]]) -> None:
        """Bulk requests of (action, document or None, what it counts as once taken)."""
        pending = actions
        for attempt in range(max_retries + 1):
            lines = []
            for action, doc, _ in pending:
                lines.append(json.dumps(action, ensure_ascii=False))
                if doc is not None:
                    lines.append(json.dumps(doc, ensure_ascii=False))
            try:
                answer = cluster.client.bulk(body="\n".join(lines) + "\n")
            except Exception as exc:  # noqa: BLE001 - a refused request: retry or report
                if getattr(exc, "status_code", None) in RETRIED and attempt < max_retries:
                    report.retries += 1
                    sleep(backoff * 2**attempt)
                    continue
                raise cluster.error(exc) from exc
            again = []
            for (action, doc, counted), item in zip(pending, answer.get("items", [])):
                ((kind, result),) = item.items()
                status = result.get("status", 200)
                if status < 300 or (kind == "delete" and status == 404):
                    setattr(report, counted, getattr(report, counted) + 1)
                    continue
                if status in RETRIED and attempt < max_retries:
                    again.append((action, doc, counted))
                else:
                    reason = (result.get("error") or {}).get("type") or f"status {status}"
                    report.failed[reason] = report.failed.get(reason, 0) + 1
            if not again:
                return
            report.retries += 1
            sleep(backoff * 2**attempt)
            pending = again
        for _ in pending:
            report.failed["too many retries"] = report.failed.get("too many retries", 0) + 1

    def flush() -> None:
        if batch:
            send(list(batch))
            if progress:
                progress(len(batch))
            batch.clear()

    for record in records:
        doc_id = record["id"]
        seen.add(doc_id)
        old = known.get(doc_id)
        if old is not None and old == record.get("sha256"):
            report.unchanged += 1
            continue
        counted = "added" if old is None else "updated"
        action = {"index": {"_index": cluster.index, "_id": doc_id}}
        batch.append((action, document(record), counted))
        if len(batch) >= chunk:
            flush()
    flush()
    if prune:
        kept = keep or set()

        def unread(doc_id: str) -> bool:
            return doc_id in kept or doc_id.rsplit("#", 1)[0] in kept

        gone = [i for i in known if i not in seen and not unread(i)]
        for start in range(0, len(gone), chunk):
            send(
                [
                    ({"delete": {"_index": cluster.index, "_id": i}}, None, "deleted")
                    for i in gone[start : start + chunk]
                ]
            )
    return report
