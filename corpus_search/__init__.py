"""corpus-search: search collections of scraped news articles from the shell.

The library API, usable without the CLI::

    from corpus_search import parse_article, update_index, CorpusIndex, Filters

    article = parse_article("sample_corpus/wire/2023-grain-deal.txt")
    report = update_index("index", ["sample_corpus"])
    with CorpusIndex("index") as ix:
        result = ix.search('sanctions "open skies"', facets=["category"])

Names are imported lazily, so importing the package does not load Whoosh.
"""

from __future__ import annotations

__version__ = "0.1.0"

_EXPORTS = {
    "Article": "articles", "parse_article": "articles", "parse_bytes": "articles",
    "decode_text": "articles", "iter_files": "articles",
    "load_profiles": "profiles",
    "Config": "config", "load_config": "config",
    "update_index": "indexer", "index_stats": "indexer", "IndexReport": "indexer",
    "open_index": "indexer",
    "CorpusIndex": "search", "Filters": "search", "SearchResult": "search", "Hit": "search",
    "parse_query": "query",
    "CorpusSearchError": "errors", "ArticleError": "errors", "QueryError": "errors",
    "ConfigError": "errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corpus_search' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value
