"""Word forms: which indexed words are forms of one word, in one language.

The index keeps words as written; a query word meets its forms at query time. In an article
of language L a word matches the indexed words that L's analyzer gives the same key (a lemma
or a stem), and the word as typed; nothing more. The analyzers, by language:

* Russian and Ukrainian: lemmas from pymorphy3's dictionaries, with its guesser for words
  they lack (names and places decline: ``киев`` and ``киева`` share the lemma ``киев``). A
  word with several readings has several lemmas and meets the forms of each (``песков``:
  Песков and песок).
* Languages with a Snowball stemmer (PyStemmer, the Snowball project's own C code: English,
  Portuguese, German, French, Spanish, Italian, Dutch, the Nordic languages, Greek, Hindi,
  Arabic, Turkish, Polish, Czech...): the Snowball stem (``trading`` and ``trade``: ``trade``).
* Other languages simplemma knows (Bulgarian, Croatian, Slovak, Slovene, Macedonian...): its
  lemma.
* Any other language (Chinese, Japanese...): none; words match as written.

A word is analyzed only in its language's script (an English word in a Russian article has no
Russian forms). Articles whose language is unknown (short items, tables) are matched by the
analyzer of the word's script: English for Latin letters, Russian for Cyrillic; set their
language with a path rule (``set: {language: bg}``) to choose another.

Each segment of the index gets a table per language, written beside it after each commit
(``<segment>.forms-<lang>``): sorted lines ``k<TAB>key<TAB>word`` (the words of a key) and
``w<TAB>word<TAB>key`` (the keys of a word), looked up by binary search without loading the
file, so a fresh search pays a few reads, not the analyzer. Segment files never change; a
table goes with its segment (it is one of the segment's files for the clean-up). A query word
that is not in the index is analyzed at query time (loading pymorphy3 costs ~70 ms, once).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from .vocab import CYRILLIC_RE

LATIN_RE = re.compile(r"^[a-z0-9\u00c0-\u024f\u1e00-\u1eff]*[a-z\u00c0-\u024f\u1e00-\u1eff]")
GREEK_RE = re.compile(r"^[\u0370-\u03ff\u1f00-\u1fff]")
ARABIC_RE = re.compile(r"^[\u0600-\u06ff\u0750-\u077f]")
DEVANAGARI_RE = re.compile(r"^[\u0900-\u097f]")
ARMENIAN_RE = re.compile(r"^[\u0530-\u058f]")
TAMIL_RE = re.compile(r"^[\u0b80-\u0bff]")
HEBREW_RE = re.compile(r"^[\u0590-\u05ff]")
_CYR = re.compile(r"^[\u0400-\u04ff]")

#: ISO 639-1 -> PyStemmer's algorithm name.
SNOWBALL = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
MORPH = ("ru", "uk")  # pymorphy3's dictionaries
#: Languages simplemma lemmatizes that have no Snowball stemmer here.
SIMPLEMMA = ("bg", "hr", "sk", "sl", "mk", "lv", "is", "gl", "cy", "ms", "sw", "tl", "la", "nn")
#: The script each language's words are written in (a word of another script is not its).
_SCRIPT: dict[str, re.Pattern[str]] = {
    **{lang: LATIN_RE for lang in SNOWBALL},
    **{lang: LATIN_RE for lang in SIMPLEMMA},
    "ru": _CYR,
    "uk": _CYR,
    "bg": _CYR,
    "mk": _CYR,
    "sr": _CYR,  # Serbian in Cyrillic too: the Snowball stemmer reads both
    "el": GREEK_RE,
    "ar": ARABIC_RE,
    "fa": ARABIC_RE,
    "hi": DEVANAGARI_RE,
    "ne": DEVANAGARI_RE,
    "hy": ARMENIAN_RE,
    "ta": TAMIL_RE,
    "yi": HEBREW_RE,
}
#: The analyzer of a word in an article whose language is unknown, by the word's script.
UNKNOWN = ""


def has_analyzer(language: str) -> bool:
    return language in MORPH or language in SNOWBALL or language in SIMPLEMMA


def default_language(word: str) -> str | None:
    """The language whose analyzer an article of unknown language gets for ``word``."""
    if LATIN_RE.match(word):
        return "en"
    if CYRILLIC_RE.match(word):
        return "ru"
    return None


def applies(language: str, word: str) -> bool:
    """Whether ``language``'s analyzer reads ``word`` (a word of its script)."""
    script = _SCRIPT.get(language)
    return bool(script and script.match(word))


_analyzers: dict[str, Callable[[str], tuple[str, ...]]] = {}


def analyzer(language: str) -> Callable[[str], tuple[str, ...]]:
    """word -> its keys (lemmas or a stem) in ``language``; () when the language has none."""
    made = _analyzers.get(language)
    if made is not None:
        return made
    if language in MORPH:
        import pymorphy3

        morph = pymorphy3.MorphAnalyzer(lang=language)
        cache: dict[str, tuple[str, ...]] = {}

        def lemmas(word: str) -> tuple[str, ...]:
            found = cache.get(word)
            if found is None:
                if len(cache) > 200_000:
                    cache.clear()
                forms = {p.normal_form.replace("ё", "е") for p in morph.parse(word)}
                found = cache[word] = tuple(sorted(forms)) or (word,)
            return found

        made = lemmas
    elif language in SNOWBALL:
        import Stemmer

        stemmer = Stemmer.Stemmer(SNOWBALL[language])
        stem_word = stemmer.stemWord

        def stemmed(word: str) -> tuple[str, ...]:
            return (stem_word(word),)

        made = stemmed
    elif language in SIMPLEMMA:
        import simplemma

        def lemma(word: str) -> tuple[str, ...]:
            return (simplemma.lemmatize(word, lang=language).lower(),)

        made = lemma
    else:

        def nothing(word: str) -> tuple[str, ...]:
            return ()

        made = nothing
    _analyzers[language] = made
    return made


def keys_of(language: str, word: str) -> tuple[str, ...]:
    """The keys of ``word`` in ``language`` (its lemmas or its stem), () when the language
    does not read that word."""
    if not applies(language, word):
        return ()
    return analyzer(language)(word)


# --------------------------------------------------------------------------------------------
# Tables


def table_name(segment_id: str, language: str) -> str:
    return f"{segment_id}.forms-{language}"


def build_table(words: Iterable[str], language: str) -> bytes:
    """The table of one segment's words in one language (see the module's docstring)."""
    if not has_analyzer(language):
        return b""
    analyze = analyzer(language)
    script = _SCRIPT.get(language)
    lines: list[str] = []
    for word in words:
        if "\t" in word or "\n" in word or not (script and script.match(word)):
            continue
        for key in analyze(word):
            lines.append(f"k\t{key}\t{word}\n")
            lines.append(f"w\t{word}\t{key}\n")
    lines.sort()
    return "".join(lines).encode("utf-8")


def write_table(folder: Path, segment_id: str, language: str, words: Iterable[str]) -> None:
    """Write one table atomically (a temporary name, then renamed)."""
    data = build_table(words, language)
    path = folder / table_name(segment_id, language)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


class Table:
    """One table, read by binary search over its sorted lines: mapped, not read (a lookup
    touches a few pages of a table of megabytes)."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data  # bytes, or an mmap of the file

    @classmethod
    def read(cls, path: Path) -> Table | None:
        import mmap

        try:
            with open(path, "rb") as fh:
                if os.fstat(fh.fileno()).st_size == 0:
                    return cls(b"")
                return cls(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
        except FileNotFoundError:
            return None

    def _lookup(self, prefix: bytes) -> list[str]:
        data = self.data
        lo, hi = 0, len(data)
        while lo < hi:  # the first line >= prefix: search over line starts
            mid = (lo + hi) // 2
            start = data.rfind(b"\n", 0, mid) + 1
            end = data.find(b"\n", start)
            if end < 0:
                end = len(data)
            if data[start:end] < prefix:
                lo = end + 1
            else:
                hi = start
        out = []
        pos = lo
        n = len(prefix)
        while pos < len(data) and data[pos : pos + n] == prefix:
            end = data.find(b"\n", pos)
            out.append(data[pos + n : end].decode("utf-8"))
            pos = end + 1
        return out

    def words_of(self, key: str) -> list[str]:
        return self._lookup(f"k\t{key}\t".encode())

    def keys_of(self, word: str) -> list[str]:
        return self._lookup(f"w\t{word}\t".encode())


# --------------------------------------------------------------------------------------------
# Writing the tables of an index, finding forms in them


def table_languages(languages: Iterable[str]) -> list[str]:
    """The languages that get tables: the index's that have an analyzer, and English and
    Russian (the analyzers of articles of unknown language)."""
    return sorted({lang for lang in {*languages, "en", "ru"} if has_analyzer(lang)})


def ensure_tables(snapshot, languages: Iterable[str]) -> int:
    """Write the tables each segment of ``snapshot`` lacks; returns how many were written."""
    folder = snapshot.folder
    wanted = table_languages(languages)
    written = 0
    for i, segment in enumerate(snapshot.segment_ids()):
        missing = [lang for lang in wanted if not (folder / table_name(segment, lang)).exists()]
        if not missing:
            continue
        words = snapshot.segment_terms(i, "text")
        for lang in missing:
            write_table(folder, segment, lang, words)
            written += 1
    return written


class FormFinder:
    """The forms of words in one snapshot, from its segments' tables (a table not written
    yet, as between an indexing run's commit and its tables, is made in memory)."""

    def __init__(self, snapshot):
        self.snap = snapshot
        self.folder = snapshot.folder
        self.segments = snapshot.segment_ids()
        self.tables: dict[tuple[int, str], Table] = {}

    def table(self, index: int, language: str) -> Table:
        found = self.tables.get((index, language))
        if found is None:
            found = Table.read(self.folder / table_name(self.segments[index], language))
            if found is None:
                found = Table(build_table(self.snap.segment_terms(index, "text"), language))
            self.tables[(index, language)] = found
        return found

    def keys(self, language: str, word: str) -> set[str]:
        """The word's keys: read from the tables when the word is indexed, else analyzed."""
        found: set[str] = set()
        for i in range(len(self.segments)):
            found.update(self.table(i, language).keys_of(word))
        return found or set(keys_of(language, word))

    def lemma(self, language: str | None, word: str) -> str:
        """One name for the lexeme of ``word`` in an article of ``language`` (None: unknown,
        the word's script decides), to group its forms: the lemma of a lemmatizing language
        (the word itself when it is one of its lemmas); for a stemming language the key
        (a stem), which :func:`display` turns into a form for people."""
        lang = language if language and has_analyzer(language) else default_language(word)
        if not lang or not applies(lang, word):
            return word
        keys = self.keys(lang, word)
        if not keys:
            return word
        return word if word in keys else min(keys)

    def forms(self, language: str, word: str) -> list[str]:
        """The indexed words that are forms of ``word`` in ``language``, the word included."""
        if not applies(language, word):
            return [word]
        out = {word}
        for key in self.keys(language, word):
            for i in range(len(self.segments)):
                out.update(self.table(i, language).words_of(key))
        return sorted(out)
