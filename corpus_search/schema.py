"""The Whoosh schema and analyzers, and the mapping of an :class:`Article` to a document.

Fields, by use:

* full text, stemmed (ranking, words, phrases): ``title``, ``body``. The stemmer is chosen per
  word by its script: Russian Snowball for Cyrillic, Porter for Latin, so one field serves mixed
  corpora and a query stems the same way the text did. ``ё`` is folded to ``е``.
* full text, unstemmed (wildcards, fuzzy terms, "did you mean"): ``title_exact``, ``body_exact``.
* facets, exact match (case-insensitive; the column keeps the text as written, for display):
  ``category``, ``tag`` (several values, joined by U+001F), ``author``, ``place``, ``source``,
  ``lang``.
* dates: ``day`` is the article's own calendar date as the number YYYYMMDD (filters, facets,
  timelines: the date printed on the article); ``ts`` is the instant in UTC seconds (sorting).
* numbers: ``views``, ``words``; bookkeeping: ``id`` (unique), ``sha256``, ``fsize``, ``mtime``.

Numbers are signed on purpose: in Whoosh 2.7, range queries on ``NUMERIC(signed=False)``
fields match every document (checked: ``NumericRange("v", 5, 100)`` returned all of them).

Whoosh pickles the schema into the index, so any change to a field or analyzer here must bump
:data:`SCHEMA_VERSION`; an index of another version is refused with a message to rebuild.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from whoosh import fields
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer

from .articles import Article

SCHEMA_VERSION = 1
SEP = "\x1f"
WORD_PATTERN = r"\w+(?:\.?\w+)*"
MULTI_VALUED = ("category", "tag")
SINGLE_VALUED = ("author", "place", "source", "lang")
FACET_FIELDS = MULTI_VALUED + SINGLE_VALUED


_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_stemmers: dict[str, Any] = {}


def _stem_word(word: str) -> str:
    if _CYRILLIC.match(word):
        stem = _stemmers.get("ru")
        if stem is None:
            from whoosh.lang import stemmer_for_language

            stem = _stemmers["ru"] = stemmer_for_language("ru")
        return stem(word)
    if word.isascii() and word.isalpha():
        stem = _stemmers.get("en")
        if stem is None:
            from whoosh.lang.porter import stem

            _stemmers["en"] = stem
        return stem(word)
    return word


class YoFilter(Filter):
    """Folds Russian ``ё`` to ``е`` (texts and readers use both)."""

    def __call__(self, tokens):
        for t in tokens:
            if "ё" in t.text:
                t.text = t.text.replace("ё", "е")
            yield t


class ScriptStemFilter(Filter):
    """Stems each word with the stemmer for its script, caching results (picklable)."""

    def __init__(self, cachesize: int = 100_000):
        self.cachesize = cachesize
        self._cache: dict[str, str] = {}

    def __getstate__(self):
        return {"cachesize": self.cachesize}

    def __setstate__(self, state):
        self.cachesize = state["cachesize"]
        self._cache = {}

    def __eq__(self, other):
        return type(self) is type(other)

    def __call__(self, tokens):
        cache = self._cache
        for t in tokens:
            if not t.stopped:
                text = t.text
                stem = cache.get(text)
                if stem is None:
                    if len(cache) >= self.cachesize:
                        cache.clear()
                    stem = cache[text] = _stem_word(text)
                t.text = stem
            yield t


class StripFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = t.text.strip()
            if t.text:
                yield t


def text_analyzer():
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | YoFilter() | ScriptStemFilter()


def exact_analyzer():
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | YoFilter()


def facet_analyzer():
    return RegexTokenizer(r"[^\x1f]+") | StripFilter() | LowercaseFilter() | YoFilter()


class FacetField(fields.KEYWORD):
    """Exact values matched case-insensitively; the column keeps them as written."""

    def __init__(self):
        super().__init__(stored=False, lowercase=True, scorable=False, sortable=True)
        self.analyzer = facet_analyzer()

    def to_column_value(self, value):
        return value.encode("utf-8") if isinstance(value, str) else b""

    def from_column_value(self, value):
        return value.decode("utf-8")


def build_schema() -> fields.Schema:
    text = text_analyzer()
    exact = exact_analyzer()
    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        path=fields.STORED(),
        root=fields.ID(stored=True, sortable=True),
        title=fields.TEXT(analyzer=text, stored=True, phrase=True),
        body=fields.TEXT(analyzer=text, stored=True, phrase=True),
        title_exact=fields.TEXT(analyzer=exact, phrase=False),
        body_exact=fields.TEXT(analyzer=exact, phrase=False),
        category=FacetField(),
        tag=FacetField(),
        author=FacetField(),
        place=FacetField(),
        source=FacetField(),
        lang=FacetField(),
        categories=fields.STORED(),
        tags=fields.STORED(),
        author_s=fields.STORED(),
        place_s=fields.STORED(),
        source_s=fields.STORED(),
        language=fields.STORED(),
        published=fields.STORED(),
        day=fields.NUMERIC(numtype=int, bits=32, sortable=True, default=0),
        ts=fields.NUMERIC(numtype=int, bits=64, sortable=True, default=0),
        views=fields.NUMERIC(numtype=int, bits=64, stored=True, sortable=True, default=0),
        words=fields.NUMERIC(numtype=int, bits=32, stored=True, sortable=True, default=0),
        sha256=fields.ID(stored=True, sortable=True),
        fsize=fields.NUMERIC(numtype=int, bits=64, sortable=True, default=0),
        mtime=fields.NUMERIC(numtype=int, bits=64, sortable=True, default=0),
    )


def valid_day(value) -> int | None:
    """A ``day`` column value, or None for a document without a date (the column's default)."""
    return value if isinstance(value, int) and 10000101 <= value <= 99991231 else None


def day_number(published: str | None) -> int | None:
    """YYYYMMDD of the article's own (local) date."""
    if not published:
        return None
    try:
        d = dt.date.fromisoformat(published[:10])
    except ValueError:
        return None
    return d.year * 10000 + d.month * 100 + d.day


def utc_seconds(published: str | None) -> int | None:
    """Seconds since the epoch; a date with no offset is read as UTC (for ordering only)."""
    if not published:
        return None
    try:
        when = dt.datetime.fromisoformat(published)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return int(when.timestamp())


def article_document(article: Article, fsize: int = 0, mtime_ns: int = 0) -> dict[str, Any]:
    """The Whoosh document for an article (keys are schema fields; None values left out)."""
    doc: dict[str, Any] = {
        "id": article.id,
        "path": article.path,
        "title": article.title or "",
        "body": article.body,
        "title_exact": article.title or "",
        "body_exact": article.body,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "author_s": article.author,
        "place_s": article.place,
        "source_s": article.source,
        "language": article.language,
        "published": article.published,
        "words": article.words,
        "sha256": article.sha256,
        "fsize": fsize,
        "mtime": mtime_ns,
    }
    if article.categories:
        doc["category"] = SEP.join(article.categories)
    if article.tags:
        doc["tag"] = SEP.join(article.tags)
    for name, value in (("author", article.author), ("place", article.place),
                        ("source", article.source), ("lang", article.language)):
        if value:
            doc[name] = value
    if article.views is not None:
        doc["views"] = article.views
    day = day_number(article.published)
    if day is not None:
        doc["day"] = day
        doc["ts"] = utc_seconds(article.published)
    return doc


def stored_to_record(stored: dict[str, Any]) -> dict[str, Any]:
    """A document's stored fields back as the record's keys (what a hit or ``show`` prints)."""
    return {
        "id": stored.get("id"),
        "path": stored.get("path"),
        "source": stored.get("source_s"),
        "title": stored.get("title") or None,
        "author": stored.get("author_s"),
        "published": stored.get("published"),
        "place": stored.get("place_s"),
        "views": stored.get("views"),
        "categories": list(stored.get("categories") or []),
        "tags": list(stored.get("tags") or []),
        "language": stored.get("language"),
        "body": stored.get("body") or "",
        "words": stored.get("words") or 0,
        "sha256": stored.get("sha256"),
    }
