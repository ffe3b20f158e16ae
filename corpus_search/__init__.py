"""corpus-search: search collections of scraped news articles from the shell.

The library API, usable without the CLI::

    from corpus_search import parse_article, update_index, CorpusIndex, Filters

    article = parse_article("sample_corpus/wire/2023-grain-deal.txt")
    report = update_index("index", ["sample_corpus"])
    with CorpusIndex("index") as ix:
        result = ix.search('sanctions "open skies"', facets=["category"])

Every function and class here returns corpus-search's own objects (records, reports, results),
never Whoosh ones. Names are imported lazily, so importing the package does not load Whoosh.
"""

from __future__ import annotations

__version__ = "0.2.0"

_EXPORTS = {
    "Article": "articles",
    "parse_article": "articles",
    "parse_bytes": "articles",
    "decode_text": "articles",
    "iter_files": "articles",
    "load_profiles": "profiles",
    "Config": "config",
    "load_config": "config",
    "update_index": "indexer",
    "index_stats": "indexer",
    "IndexReport": "indexer",
    "list_roots": "indexer",
    "forget_roots": "indexer",
    "CorpusIndex": "search",
    "SearchResult": "search",
    "Hit": "search",
    "Filters": "matching",
    "FacetCount": "facets",
    "Timeline": "facets",
    "parse_query": "query",
    "CorpusSearchError": "errors",
    "ArticleError": "errors",
    "QueryError": "errors",
    "QueryTimeout": "errors",
    "ConfigError": "errors",
    "IndexDamagedError": "errors",
    "IndexLockedError": "errors",
    "NoIndexError": "errors",
    "Request": "request",
    "from_query": "request",
    "Context": "commands",
    "execute": "commands",
}

__all__ = sorted(_EXPORTS) + ["__version__"]

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

    # what type checkers see; at run time the names load on first use
    from .articles import Article, decode_text, iter_files, parse_article, parse_bytes
    from .commands import Context, execute
    from .config import Config, load_config
    from .errors import (
        ArticleError,
        ConfigError,
        CorpusSearchError,
        IndexDamagedError,
        IndexLockedError,
        NoIndexError,
        QueryError,
        QueryTimeout,
    )
    from .facets import FacetCount, Timeline
    from .indexer import IndexReport, forget_roots, index_stats, list_roots, update_index
    from .matching import Filters
    from .profiles import load_profiles
    from .query import parse_query
    from .request import Request, from_query
    from .search import CorpusIndex, Hit, SearchResult


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corpus_search' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
