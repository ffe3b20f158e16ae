"""The vocabulary every layer shares: field, facet, sort and period names, the keys of a hit,
how words are found in text and how they are folded. Imports nothing heavy (no Whoosh, no
click), so the CLI, the parser and the renderers can all use it.

A new facet is added here (``FACETS`` and, for a column-backed one, ``FACET_COLUMNS``); the
index schema, the options of the CLI, the config check and the JSON keys follow from it.
"""

from __future__ import annotations

import re

#: Facets with several values per article (joined by SEP in one column).
MULTI_VALUED = ("category", "tag")
#: Facets with one value per article.
SINGLE_VALUED = ("author", "place", "source", "lang")
#: Fields a filter or a ``field:value`` query matches exactly (case-insensitive).
VALUE_FIELDS = MULTI_VALUED + SINGLE_VALUED
#: Facet name -> the column it is counted from (year and month from the local day).
FACET_COLUMNS = {
    "category": "category",
    "tag": "tag",
    "author": "author",
    "place": "place",
    "source": "source",
    "lang": "lang",
    "year": "day",
    "month": "day",
}
FACETS = tuple(FACET_COLUMNS)
#: Separator of several values in one column.
SEP = "\x1f"

SORTS = ("relevance", "date", "-date", "views", "-views")
PERIODS = ("year", "month", "week", "day")

#: The keys of a hit in JSON output, in order.
HIT_KEYS = (
    "id",
    "path",
    "score",
    "title",
    "author",
    "published",
    "place",
    "source",
    "categories",
    "tags",
    "views",
    "language",
    "words",
    "snippets",
    "reprints",  # with search --collapse: how many other members the hit's cluster has
    "reprint_ids",  # ... and their ids
)

#: A word: single letters joined by dots are one word (U.S, e.g), and so are digits joined by
#: dots (3.5, 192.168.0.1, 2.5kg, v1.2); any other dot splits (``Bradley.Еще`` is two words, as
#: scraped text often glues sentences together).
WORD_PATTERN = r"\w+(?:(?<=\b\w)(?:\.\w)+(?!\w)|(?<=\d)(?:\.\d+)+\w*)?"
# (written so that a plain word costs what \w+ costs: the dotted forms are tried only after a
# one-letter word or a digit; 30% faster than three alternatives, measured on 1.4 MB)
WORD_RE = re.compile(WORD_PATTERN)

CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")


def fold(text: str) -> str:
    """How words and values are compared: lower case, Russian ``ё`` as ``е``."""
    return text.lower().replace("ё", "е")


def fold_value(value: str) -> str:
    """A facet value as it is indexed: trimmed and folded."""
    return fold(value.strip())


def words(text: str) -> list[str]:
    """The words of a text as written (see :data:`WORD_PATTERN`)."""
    return WORD_RE.findall(text)
