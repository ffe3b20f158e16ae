"""Languages: which stemmer a word gets. Stemming is done at query time (see
:mod:`corpus_search.matching`): Porter for Latin-script words, Snowball for Cyrillic ones, the
word itself otherwise. Whoosh's stemmers (pure functions, no index) are imported on first use.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from .vocab import CYRILLIC_RE

LATIN_RE = re.compile(r"[a-z\u00c0-\u024f\u1e00-\u1eff]")
ARABIC_RE = re.compile(r"[\u0600-\u06ff]")

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


#: Languages with a Snowball stemmer in Whoosh, by script (English uses Porter).
LATIN_STEMMED = ("en", "da", "nl", "fi", "fr", "de", "hu", "it", "no", "pt", "ro", "es", "sv", "tr")
STEMMED = LATIN_STEMMED + ("ru", "ar")
_BY_LANGUAGE: dict[tuple[str, str], str] = {}


def stem_in(language: str, word: str) -> str:
    """The stem of a (lower-case) word by one language's stemmer, cached."""
    key = (language, word)
    found = _BY_LANGUAGE.get(key)
    if found is None:
        if len(_BY_LANGUAGE) > 500_000:
            _BY_LANGUAGE.clear()
        found = _BY_LANGUAGE[key] = _stemmer(language)(word)
    return found


def stemmers_for(word: str, languages: set[str] | frozenset[str]) -> list[str]:
    """The languages whose stemmer applies to ``word``: by its script, the default one (Porter
    for Latin script, Russian for Cyrillic) and those of ``languages`` (the index's) that have
    a stemmer for that script. Words of other scripts get none: they match as written."""
    if word.isascii() or LATIN_RE.match(word):
        return ["en", *sorted(lang for lang in languages if lang in LATIN_STEMMED and lang != "en")]
    if CYRILLIC_RE.match(word):
        return ["ru"]
    if ARABIC_RE.match(word) and "ar" in languages:
        return ["ar"]
    return []


def _stem_word(word: str) -> str:
    if CYRILLIC_RE.match(word):
        return _stemmer("ru")(word)
    if word.isascii() and word.isalpha():
        return _stemmer("en")(word)
    return word
