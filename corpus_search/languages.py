"""A word's stem by its script, for what must work without knowing the article's language:
marking a phrase's words in snippets and the OpenSearch backend's highlighting (Porter for
Latin script, Snowball for Cyrillic, the word itself otherwise; Whoosh's stemmers, imported
on first use). Which words match is decided per language by :mod:`corpus_search.wordforms`.
"""

from __future__ import annotations

from collections.abc import Callable

from .vocab import CYRILLIC_RE

_stemmers: dict[str, Callable[[str], str]] = {}


def stem(word: str) -> str:
    """The stem of a (lower-case) word, cached."""
    s = _STEM_CACHE.get(word)
    if s is None:
        if len(_STEM_CACHE) > 500_000:
            _STEM_CACHE.clear()
        s = _STEM_CACHE[word] = _stem_word(word)
    return s


_STEM_CACHE: dict[str, str] = {}


def _stemmer(language: str) -> Callable[[str], str]:
    cached = _stemmers.get(language)
    if cached is not None:
        return cached
    if language == "en":
        from whoosh.lang.porter import stem as porter

        made: Callable[[str], str] = porter
    else:
        from whoosh.lang import stemmer_for_language

        made = stemmer_for_language(language)
    _stemmers[language] = made
    return made


def _stem_word(word: str) -> str:
    if CYRILLIC_RE.match(word):
        return _stemmer("ru")(word)
    if word.isascii() and word.isalpha():
        return _stemmer("en")(word)
    return word
