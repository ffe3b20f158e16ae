"""The vocabulary every layer shares: field, facet, sort and period names, the keys of a hit,
how words are found in text and how they are folded. Imports nothing heavy (no Whoosh, no
click), so the CLI, the parser and the renderers can all use it.

A new facet is added here (``FACETS`` and, for a column-backed one, ``FACET_COLUMNS``); the
index schema, the options of the CLI, the config check and the JSON keys follow from it.
"""

from __future__ import annotations

import functools
import re

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

#: Facets with several values per article (joined by SEP in one column).
MULTI_VALUED = ("category", "tag")
#: Facets with one value per article.
SINGLE_VALUED = ("author", "place", "source", "site", "lang")
#: Fields a filter or a ``field:value`` query matches exactly (case-insensitive).
VALUE_FIELDS = MULTI_VALUED + SINGLE_VALUED
#: Fields a ``field:value`` query matches exactly: the facets, and the address (``url:``, with
#: wildcards: ``url:*/2023/*``), which is no facet or filter.
QUERY_VALUE_FIELDS = (*VALUE_FIELDS, "url")
#: Facet name -> the column it is counted from (year and month from the local day).
FACET_COLUMNS = {
    "category": "category",
    "tag": "tag",
    "author": "author",
    "place": "place",
    "source": "source",
    "site": "site",
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
    "url",
    "site",
    "categories",
    "tags",
    "views",
    "language",
    "words",
    "snippets",
    "reprints",  # with search --collapse: how many other members the hit's cluster has
    "reprint_ids",  # ... and their ids
)

#: Combining marks (Unicode categories Mn, Mc, Me, as of Unicode 14) and the zero-width
#: (non-)joiner: in Devanagari, Bengali, Thai, Arabic with diacritics... they are part of a
#: word, but Python's \w leaves them out. Generated once from unicodedata (299 ranges).
MARKS = "\U00000300-\U0000036f\U00000483-\U00000489\U00000591-\U000005bd\U000005bf\U000005c1-\U000005c2\U000005c4-\U000005c5\U000005c7\U00000610-\U0000061a\U0000064b-\U0000065f\U00000670\U000006d6-\U000006dc\U000006df-\U000006e4\U000006e7-\U000006e8\U000006ea-\U000006ed\U00000711\U00000730-\U0000074a\U000007a6-\U000007b0\U000007eb-\U000007f3\U000007fd\U00000816-\U00000819\U0000081b-\U00000823\U00000825-\U00000827\U00000829-\U0000082d\U00000859-\U0000085b\U00000898-\U0000089f\U000008ca-\U000008e1\U000008e3-\U00000903\U0000093a-\U0000093c\U0000093e-\U0000094f\U00000951-\U00000957\U00000962-\U00000963\U00000981-\U00000983\U000009bc\U000009be-\U000009c4\U000009c7-\U000009c8\U000009cb-\U000009cd\U000009d7\U000009e2-\U000009e3\U000009fe\U00000a01-\U00000a03\U00000a3c\U00000a3e-\U00000a42\U00000a47-\U00000a48\U00000a4b-\U00000a4d\U00000a51\U00000a70-\U00000a71\U00000a75\U00000a81-\U00000a83\U00000abc\U00000abe-\U00000ac5\U00000ac7-\U00000ac9\U00000acb-\U00000acd\U00000ae2-\U00000ae3\U00000afa-\U00000aff\U00000b01-\U00000b03\U00000b3c\U00000b3e-\U00000b44\U00000b47-\U00000b48\U00000b4b-\U00000b4d\U00000b55-\U00000b57\U00000b62-\U00000b63\U00000b82\U00000bbe-\U00000bc2\U00000bc6-\U00000bc8\U00000bca-\U00000bcd\U00000bd7\U00000c00-\U00000c04\U00000c3c\U00000c3e-\U00000c44\U00000c46-\U00000c48\U00000c4a-\U00000c4d\U00000c55-\U00000c56\U00000c62-\U00000c63\U00000c81-\U00000c83\U00000cbc\U00000cbe-\U00000cc4\U00000cc6-\U00000cc8\U00000cca-\U00000ccd\U00000cd5-\U00000cd6\U00000ce2-\U00000ce3\U00000d00-\U00000d03\U00000d3b-\U00000d3c\U00000d3e-\U00000d44\U00000d46-\U00000d48\U00000d4a-\U00000d4d\U00000d57\U00000d62-\U00000d63\U00000d81-\U00000d83\U00000dca\U00000dcf-\U00000dd4\U00000dd6\U00000dd8-\U00000ddf\U00000df2-\U00000df3\U00000e31\U00000e34-\U00000e3a\U00000e47-\U00000e4e\U00000eb1\U00000eb4-\U00000ebc\U00000ec8-\U00000ecd\U00000f18-\U00000f19\U00000f35\U00000f37\U00000f39\U00000f3e-\U00000f3f\U00000f71-\U00000f84\U00000f86-\U00000f87\U00000f8d-\U00000f97\U00000f99-\U00000fbc\U00000fc6\U0000102b-\U0000103e\U00001056-\U00001059\U0000105e-\U00001060\U00001062-\U00001064\U00001067-\U0000106d\U00001071-\U00001074\U00001082-\U0000108d\U0000108f\U0000109a-\U0000109d\U0000135d-\U0000135f\U00001712-\U00001715\U00001732-\U00001734\U00001752-\U00001753\U00001772-\U00001773\U000017b4-\U000017d3\U000017dd\U0000180b-\U0000180d\U0000180f\U00001885-\U00001886\U000018a9\U00001920-\U0000192b\U00001930-\U0000193b\U00001a17-\U00001a1b\U00001a55-\U00001a5e\U00001a60-\U00001a7c\U00001a7f\U00001ab0-\U00001ace\U00001b00-\U00001b04\U00001b34-\U00001b44\U00001b6b-\U00001b73\U00001b80-\U00001b82\U00001ba1-\U00001bad\U00001be6-\U00001bf3\U00001c24-\U00001c37\U00001cd0-\U00001cd2\U00001cd4-\U00001ce8\U00001ced\U00001cf4\U00001cf7-\U00001cf9\U00001dc0-\U00001dff\U000020d0-\U000020f0\U00002cef-\U00002cf1\U00002d7f\U00002de0-\U00002dff\U0000302a-\U0000302f\U00003099-\U0000309a\U0000a66f-\U0000a672\U0000a674-\U0000a67d\U0000a69e-\U0000a69f\U0000a6f0-\U0000a6f1\U0000a802\U0000a806\U0000a80b\U0000a823-\U0000a827\U0000a82c\U0000a880-\U0000a881\U0000a8b4-\U0000a8c5\U0000a8e0-\U0000a8f1\U0000a8ff\U0000a926-\U0000a92d\U0000a947-\U0000a953\U0000a980-\U0000a983\U0000a9b3-\U0000a9c0\U0000a9e5\U0000aa29-\U0000aa36\U0000aa43\U0000aa4c-\U0000aa4d\U0000aa7b-\U0000aa7d\U0000aab0\U0000aab2-\U0000aab4\U0000aab7-\U0000aab8\U0000aabe-\U0000aabf\U0000aac1\U0000aaeb-\U0000aaef\U0000aaf5-\U0000aaf6\U0000abe3-\U0000abea\U0000abec-\U0000abed\U0000fb1e\U0000fe00-\U0000fe0f\U0000fe20-\U0000fe2f\U000101fd\U000102e0\U00010376-\U0001037a\U00010a01-\U00010a03\U00010a05-\U00010a06\U00010a0c-\U00010a0f\U00010a38-\U00010a3a\U00010a3f\U00010ae5-\U00010ae6\U00010d24-\U00010d27\U00010eab-\U00010eac\U00010f46-\U00010f50\U00010f82-\U00010f85\U00011000-\U00011002\U00011038-\U00011046\U00011070\U00011073-\U00011074\U0001107f-\U00011082\U000110b0-\U000110ba\U000110c2\U00011100-\U00011102\U00011127-\U00011134\U00011145-\U00011146\U00011173\U00011180-\U00011182\U000111b3-\U000111c0\U000111c9-\U000111cc\U000111ce-\U000111cf\U0001122c-\U00011237\U0001123e\U000112df-\U000112ea\U00011300-\U00011303\U0001133b-\U0001133c\U0001133e-\U00011344\U00011347-\U00011348\U0001134b-\U0001134d\U00011357\U00011362-\U00011363\U00011366-\U0001136c\U00011370-\U00011374\U00011435-\U00011446\U0001145e\U000114b0-\U000114c3\U000115af-\U000115b5\U000115b8-\U000115c0\U000115dc-\U000115dd\U00011630-\U00011640\U000116ab-\U000116b7\U0001171d-\U0001172b\U0001182c-\U0001183a\U00011930-\U00011935\U00011937-\U00011938\U0001193b-\U0001193e\U00011940\U00011942-\U00011943\U000119d1-\U000119d7\U000119da-\U000119e0\U000119e4\U00011a01-\U00011a0a\U00011a33-\U00011a39\U00011a3b-\U00011a3e\U00011a47\U00011a51-\U00011a5b\U00011a8a-\U00011a99\U00011c2f-\U00011c36\U00011c38-\U00011c3f\U00011c92-\U00011ca7\U00011ca9-\U00011cb6\U00011d31-\U00011d36\U00011d3a\U00011d3c-\U00011d3d\U00011d3f-\U00011d45\U00011d47\U00011d8a-\U00011d8e\U00011d90-\U00011d91\U00011d93-\U00011d97\U00011ef3-\U00011ef6\U00016af0-\U00016af4\U00016b30-\U00016b36\U00016f4f\U00016f51-\U00016f87\U00016f8f-\U00016f92\U00016fe4\U00016ff0-\U00016ff1\U0001bc9d-\U0001bc9e\U0001cf00-\U0001cf2d\U0001cf30-\U0001cf46\U0001d165-\U0001d169\U0001d16d-\U0001d172\U0001d17b-\U0001d182\U0001d185-\U0001d18b\U0001d1aa-\U0001d1ad\U0001d242-\U0001d244\U0001da00-\U0001da36\U0001da3b-\U0001da6c\U0001da75\U0001da84\U0001da9b-\U0001da9f\U0001daa1-\U0001daaf\U0001e000-\U0001e006\U0001e008-\U0001e018\U0001e01b-\U0001e021\U0001e023-\U0001e024\U0001e026-\U0001e02a\U0001e130-\U0001e136\U0001e2ae\U0001e2ec-\U0001e2ef\U0001e8d0-\U0001e8d6\U0001e944-\U0001e94a\U000e0100-\U000e01ef\u200c\u200d"

#: A word: letters and digits, with the combining marks that follow a non-ASCII letter (so
#: रूस is one word, not र and स); single letters joined by dots are one word (U.S, e.g), and so
#: are digits joined by dots (3.5, 192.168.0.1, 2.5kg, v1.2); any other dot splits
#: (``Bradley.Еще`` is two words, as scraped text often glues sentences together). Written so
#: that a plain ASCII word costs about what \w+ costs.
WORD_PATTERN = (
    r"\w+(?:(?<=[^\x00-\x7f])[" + MARKS + r"]+\w*)*"
    r"(?:(?<=\b\w)(?:\.\w)+(?!\w)|(?<=\d)(?:\.\d+)+\w*)?"
)


class _LazyPattern:
    """A compiled pattern made on first use (the marks make it a 3 ms compile, which a
    command that never looks at words should not pay)."""

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._compiled: re.Pattern[str] | None = None

    def __getattr__(self, name: str):
        if self._compiled is None:
            self._compiled = re.compile(self.pattern)
        return getattr(self._compiled, name)


WORD_RE: Any = _LazyPattern(WORD_PATTERN)

CYRILLIC_RE = re.compile(r"[\u0400-\u04ff]")


def counted(n: int, noun: str) -> str:
    """``1 cluster``, ``2 clusters``: a count with its noun (a regular English plural)."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def fold(text: str) -> str:
    """How words and values are compared: lower case, Russian ``ё`` as ``е``."""
    return text.lower().replace("ё", "е")


#: Letters folded as wholes (no decomposition gives their base letter).
_LETTERS = str.maketrans(
    {
        "ß": "ss",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ł": "l",
        "đ": "d",
        "ı": "i",
        "þ": "th",
        "ð": "d",
        "ŀ": "l",
        "ς": "σ",
    }
)
#: Latin and Greek letters with diacritics (the scripts whose accents users leave out).
_ACCENTED = re.compile(r"[\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff]")


@functools.lru_cache(maxsize=65536)
def fold_accents(word: str) -> str:
    """A (lower-case) word without the accents of Latin and Greek letters: ucrânia -> ucrania,
    são -> sao, όχι -> οχι. Other scripts are left alone (a Devanagari vowel sign is a letter
    of the word, not an accent; Cyrillic й stays)."""
    if word.isascii() or not _ACCENTED.search(word):
        return word
    import unicodedata

    out = []
    for ch in word:
        if _ACCENTED.match(ch):
            base = unicodedata.normalize("NFD", ch.translate(_LETTERS))
            out.append("".join(c for c in base if not unicodedata.combining(c)))
        else:
            out.append(ch)
    return "".join(out)


def fold_value(value: str) -> str:
    """A facet value as it is indexed: trimmed and folded."""
    return fold(value.strip())


def words(text: str) -> list[str]:
    """The words of a text as written (see :data:`WORD_PATTERN`)."""
    return WORD_RE.findall(text)
