"""The Whoosh schema and analyzers, and the mapping of an :class:`Article` to a document.

Fields, by use:

* full text: ``text`` holds the title twice and then the body, and ``title`` the title alone,
  both indexed with positions **as written** (Unicode words, lower case, ``ё`` folded to ``е``).
  Repeating the title is BM25F's weighting done at index time: a title occurrence counts twice
  in the term frequency, so one field (one posting list per word) ranks title matches higher;
  a gap of positions between the parts keeps phrases from matching across them. Stemming happens at query time instead of index time: a query
  word is stemmed (Porter for Latin script, Russian Snowball for Cyrillic) and expanded to the
  indexed words with the same stem (``sanctions`` -> sanction, sanctions, sanctioned...). One
  field thus serves stemmed search, exact words, phrases, wildcards and fuzzy terms, which
  halves the analysis work and the index compared with a stemmed plus an unstemmed copy.
* the body is stored (``body``) for snippets and ``show``; Whoosh compresses each document's
  stored fields (zlib), so the body is not compressed before (it was, once: twice the work).
* facets, exact match (case-insensitive; the column keeps the text as written, for display):
  ``category``, ``tag`` (several values, joined by U+001F), ``author``, ``place``, ``source``,
  ``site`` (the host of the address), ``lang``; ``url`` (the address, matched like a value:
  ``url:*/2023/*``) is indexed the same way but is no facet.
* dates: ``day`` is the article's own calendar date as the number YYYYMMDD (filters, facets,
  timelines: the date printed on the article); ``ts`` is the instant in UTC seconds (sorting).
* numbers: ``views``, ``words`` (like ``day``, in columns only: ranges read the column, so
  they have no index terms); bookkeeping: ``id`` (unique); column-only values (no index
  terms): ``ts``, ``root``, ``sha`` (the sha256), ``fsize``, ``mtime``, read back in bulk to
  sort and to decide what changed; ``file``: for a record of a many-article file (JSON lines,
  CSV, WARC...), the id of that file (empty for a one-article file).

Numbers are signed on purpose: in Whoosh 2.7, range queries on ``NUMERIC(signed=False)``
fields match every document (checked: ``NumericRange("v", 5, 100)`` returned all of them).

Whoosh pickles the schema into the index, so any change to a field or analyzer here must bump
:data:`SCHEMA_VERSION`; an index of another version is refused with a message to rebuild.
"""

from __future__ import annotations

import datetime as dt

from . import _whoosh  # noqa: F401  - must precede the first Whoosh import

# isort: split

import struct
import sys
from array import array

from whoosh import columns, fields, formats
from whoosh.analysis import Filter, LowercaseFilter, RegexTokenizer

from .facets import valid_day  # noqa: F401 - the day column's reading
from .languages import stem  # noqa: F401 - kept importable from here
from .postings import IndexCodec  # noqa: F401 - pickled in segments under this name
from .vocab import MULTI_VALUED, SEP, WORD_PATTERN, WORD_RE, fold_accents  # noqa: F401

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

    from .articles import Article

SCHEMA_VERSION = 11  # 11: url, site and the file of a record; 6: dots split glued words; 7: reprint sketches; 8: marks, accents;
# 9: positions packed per block, as arrays; 10: numbers in columns only (no trie terms),
# facets without lengths, the body stored as text


class YoFilter(Filter):
    """Folds Russian ``ё`` to ``е`` (texts and readers use both)."""

    def __call__(self, tokens):
        for t in tokens:
            if "ё" in t.text:
                t.text = t.text.replace("ё", "е")
            yield t


class AccentFilter(Filter):
    """Indexes an accented Latin or Greek word a second time without its accents, at the same
    position (ucrânia and ucrania): an unquoted query word, folded, finds both spellings, a
    quoted one only its own; phrases match either way."""

    def __call__(self, tokens):
        for t in tokens:
            text = t.text
            yield t  # read by the writer before the generator resumes
            folded = fold_accents(text)
            if folded != text:
                t.text = folded
                yield t


class StripFilter(Filter):
    def __call__(self, tokens):
        for t in tokens:
            t.text = t.text.strip()
            if t.text:
                yield t


SECTION = "\u2029"  # separates the parts of the text field (title, title, body)
SECTION_GAP = 100


class SectionTokenizer(RegexTokenizer):
    """Tokenises each part between SECTION marks, leaving a gap of positions between parts."""

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        if SECTION not in value:
            yield from super().__call__(
                value,
                positions,
                chars,
                keeporiginal,
                removestops,
                start_pos,
                start_char,
                tokenize,
                mode,
                **kwargs,
            )
            return
        pos, char = start_pos, start_char
        for part in value.split(SECTION):
            last = None
            for t in super().__call__(
                part,
                positions,
                chars,
                keeporiginal,
                removestops,
                pos,
                char,
                tokenize,
                mode,
                **kwargs,
            ):
                last = t.pos if positions else None
                yield t
            if positions and last is not None:
                pos = last + SECTION_GAP
            char += len(part) + 1


class PackedPositions(formats.Positions):
    """Positions as an array (``H``: uint16, or ``I``: uint32, little-endian) after a
    one-byte type code, instead of Whoosh's pickled list of deltas: a phrase reads a
    document's positions with one ``frombytes`` (4x faster than unpickling), and a word's
    frequency is a length."""

    def encode(self, poslist):
        packed = array("H" if poslist[-1] < 0x10000 else "I", poslist)
        if sys.byteorder == "big":  # pragma: no cover
            packed.byteswap()
        return packed.typecode.encode() + packed.tobytes()

    def word_values(self, value, analyzer, **kwargs):
        """(word, frequency, weight, encoded positions) for each word of ``value``. For the
        analyzers of this schema (a word tokenizer, lower case, ё as е, accent twins), the
        tokens are made here in one loop, without Whoosh's token objects and filter chain
        (the same output, checked by tests/test_languages.py; 4x faster); any other
        analyzer goes through Whoosh."""
        tokenizer = _word_tokenizer(analyzer) if isinstance(value, str) else None
        if tokenizer is None:
            yield from super().word_values(value, analyzer, **kwargs)
            return
        boost = self.field_boost
        encode = self.encode
        for word, positions in word_positions(value, tokenizer).items():
            yield word, len(positions), len(positions) * boost, encode(positions)

    @staticmethod
    def decode_array(valuestring) -> array:
        """The positions as an array (what phrase matching reads)."""
        packed = array(chr(valuestring[0]))
        packed.frombytes(valuestring[1:])
        if sys.byteorder == "big":  # pragma: no cover
            packed.byteswap()
        return packed

    def decode_positions(self, valuestring):
        return list(self.decode_array(valuestring))

    def decode_frequency(self, valuestring):
        return (len(valuestring) - 1) // (2 if valuestring[0] == 72 else 4)  # 72: "H"

    def decode_weight(self, valuestring):
        return self.decode_frequency(valuestring) * self.field_boost


def word_positions(value: str, tokenizer: type) -> dict[str, list[int]]:
    """Each word of ``value`` and its positions, as this schema's word analyzers make them
    (``tokenizer``: their tokenizer class, from :func:`_word_tokenizer`)."""
    sections = tokenizer is SectionTokenizer and SECTION in value
    poses: dict[str, list[int]] = {}
    get = poses.get
    pos = 0
    finditer, findall = WORD_RE.finditer, WORD_RE.findall
    for part in value.split(SECTION) if sections else (value,):
        start = pos
        if part.isascii():  # lower case first: the same words (ASCII letters stay letters)
            for word in findall(part.lower()):
                at = get(word)
                if at is None:
                    poses[word] = [pos]
                else:
                    at.append(pos)
                pos += 1
        else:  # word by word: lower() may change a letter's length or class (İ)
            for match in finditer(part):
                word = match.group().lower()
                if "ё" in word:
                    word = word.replace("ё", "е")
                at = get(word)
                if at is None:
                    poses[word] = [pos]
                else:
                    at.append(pos)
                if not word.isascii():  # only non-ASCII words have accents to fold
                    folded = fold_accents(word)
                    if folded != word:
                        at = get(folded)
                        if at is None:
                            poses[folded] = [pos]
                        else:
                            at.append(pos)
                pos += 1
        if pos > start:  # the next part starts SECTION_GAP after this one's last word
            pos += SECTION_GAP - 1
    return poses


class PositionalText(fields.TEXT):
    """A text field with positions, packed (see :class:`PackedPositions`), whose postings
    for this schema's word analyzers are made in one loop: ``index`` is what the writer
    calls per document, and Whoosh's goes through two generators and an encoder call per
    word (the same output, tests/test_languages.py)."""

    def index(self, value, **kwargs):
        tokenizer = _word_tokenizer(self.analyzer) if isinstance(value, str) else None
        if tokenizer is None:
            return super().index(value, **kwargs)
        fmt = self.format
        boost, encode = fmt.field_boost, fmt.encode
        return [
            (word.encode("utf-8"), len(at), len(at) * boost, encode(at))
            for word, at in word_positions(value, tokenizer).items()
        ]


def positional(analyzer, stored: bool = False) -> fields.TEXT:
    """A text field with positions, packed (see :class:`PackedPositions`)."""
    field = PositionalText(analyzer=analyzer, stored=stored, phrase=True)
    field.format = PackedPositions(field_boost=field.format.field_boost)
    return field


def _word_tokenizer(analyzer) -> type | None:
    """The tokenizer class of this schema's word analyzers (text_analyzer, exact_analyzer),
    whose tokens PackedPositions.word_values makes itself; None for any other analyzer."""
    items: list = list(getattr(analyzer, "items", ()))
    if (
        len(items) == 4
        and type(items[0]) in (SectionTokenizer, RegexTokenizer)
        and items[0].expression.pattern == WORD_PATTERN
        and not items[0].gaps
        and [type(f) for f in items[1:]] == [LowercaseFilter, YoFilter, AccentFilter]
    ):
        return type(items[0])
    return None


def text_analyzer():
    return SectionTokenizer(WORD_PATTERN) | LowercaseFilter() | YoFilter() | AccentFilter()


def exact_analyzer():
    return RegexTokenizer(WORD_PATTERN) | LowercaseFilter() | YoFilter() | AccentFilter()


FACET_PATTERN = r"[^\x1f]+"  # a value between separators


def facet_analyzer():
    return (
        RegexTokenizer(FACET_PATTERN)
        | StripFilter()
        | LowercaseFilter()
        | YoFilter()
        | AccentFilter()
    )


def _is_facet_analyzer(analyzer) -> bool:
    items: list = list(getattr(analyzer, "items", ()))
    return (
        len(items) == 5
        and type(items[0]) is RegexTokenizer
        and items[0].expression.pattern == FACET_PATTERN
        and not items[0].gaps
        and [type(f) for f in items[1:]] == [StripFilter, LowercaseFilter, YoFilter, AccentFilter]
    )


_pack_uint = struct.Struct("!I").pack  # Whoosh's Frequency value: the frequency


class FacetField(fields.KEYWORD):
    """Exact values matched case-insensitively; the column keeps them as written. Not
    scorable: no lengths column (only ``text`` and ``title`` are scored). Whoosh's writer
    once read lengths back per posting and stat'ed a missing lengths column each time; the
    grouped writer (postings.py) reads none."""

    def __init__(self):
        super().__init__(stored=False, lowercase=True, scorable=False, sortable=True)
        self.analyzer = facet_analyzer()

    def index(self, value, **kwargs):
        """The postings of a value (several joined by U+001F), made as the facet analyzer and
        Whoosh's Frequency format make them (split, strip, lower case, ё as е, accent twins;
        tests/test_languages.py), without a token chain per value."""
        if not isinstance(value, str) or not _is_facet_analyzer(self.analyzer):
            return super().index(value, **kwargs)
        freqs: dict[str, int] = {}
        for part in value.split(SEP):
            word = part.strip().lower()
            if not word:
                continue
            if "ё" in word:
                word = word.replace("ё", "е")
            freqs[word] = freqs.get(word, 0) + 1
            folded = fold_accents(word)
            if folded != word:
                freqs[folded] = freqs.get(folded, 0) + 1
        boost = self.format.field_boost
        return [(w.encode("utf-8"), n, n * 1.0 * boost, _pack_uint(n)) for w, n in freqs.items()]

    def to_column_value(self, value):
        return value.encode("utf-8") if isinstance(value, str) else b""

    def from_column_value(self, value):
        return value.decode("utf-8")


class NumberColumn(fields.NUMERIC):
    """A number kept in a per-document column (and stored when asked), with no index terms.

    Whoosh's NUMERIC indexes a value as ``bits / 4`` trie terms (8 for a 32-bit day, 16 for
    64-bit views) for its own range queries; corpus-search reads ranges, facets and sorting
    from the column (``matching.Matcher._range``), so those terms were 32 of a short story's
    ~120 postings written for nothing. The column is NUMERIC's: signed values shifted up,
    0 for a document without a value (``postings.Snapshot.numeric``)."""

    indexed = False


class TextColumn(fields.COLUMN):
    """A text value kept only in a per-document column (read in bulk, never searched)."""

    def __init__(self):
        super().__init__(columns.VarBytesColumn())

    def to_column_value(self, value):
        return value.encode("utf-8") if value else b""

    def from_column_value(self, value):
        return value.decode("utf-8")


class BytesColumn(fields.COLUMN):
    """Bytes kept only in a per-document column (a reprint sketch)."""

    def __init__(self):
        super().__init__(columns.VarBytesColumn())

    def to_column_value(self, value):
        return bytes(value or b"")

    def from_column_value(self, value):
        return value


class IntColumn(fields.COLUMN):
    """An integer kept only in a per-document column: sorting and bookkeeping, no index terms
    (a 64-bit NUMERIC field indexes four terms per value)."""

    def __init__(self):
        super().__init__(columns.NumericColumn("q", default=0))

    def to_column_value(self, value):
        return int(value or 0)

    def from_column_value(self, value):
        return value


def build_schema() -> fields.Schema:
    words = exact_analyzer()
    text = text_analyzer()
    return fields.Schema(
        id=fields.ID(unique=True, stored=True, sortable=True),
        path=fields.STORED(),
        root=TextColumn(),
        text=positional(text),
        title=positional(words, stored=True),
        body=fields.STORED(),
        category=FacetField(),
        tag=FacetField(),
        author=FacetField(),
        place=FacetField(),
        source=FacetField(),
        site=FacetField(),
        url=FacetField(),
        lang=FacetField(),
        categories=fields.STORED(),
        tags=fields.STORED(),
        author_s=fields.STORED(),
        place_s=fields.STORED(),
        source_s=fields.STORED(),
        url_s=fields.STORED(),
        site_s=fields.STORED(),
        file=TextColumn(),
        language=fields.STORED(),
        published=fields.STORED(),
        day=NumberColumn(numtype=int, bits=32, sortable=True, default=0),
        ts=IntColumn(),
        views=NumberColumn(numtype=int, bits=64, stored=True, sortable=True, default=0),
        words=NumberColumn(numtype=int, bits=32, stored=True, sortable=True, default=0),
        sha256=fields.STORED(),
        sha=TextColumn(),
        fsize=IntColumn(),
        mtime=IntColumn(),
        sketch=BytesColumn(),
    )


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
        when = when.replace(tzinfo=dt.UTC)
    return int(when.timestamp())


def article_document(article: Article, fsize: int = 0, mtime_ns: int = 0) -> dict[str, Any]:
    """The Whoosh document for an article (keys are schema fields; None values left out)."""
    doc: dict[str, Any] = {
        "id": article.id,
        "path": article.path,
        "title": article.title or "",
        "text": SECTION.join((article.title or "", article.title or "", article.body)),
        "body": article.body,
        "categories": list(article.categories),
        "tags": list(article.tags),
        "author_s": article.author,
        "place_s": article.place,
        "source_s": article.source,
        "url_s": article.url,
        "site_s": article.site,
        "language": article.language,
        "published": article.published,
        "words": article.words,
        "sha256": article.sha256,
        "sha": article.sha256,
        "fsize": fsize,
        "mtime": mtime_ns,
        "sketch": _sketch(article.body),
    }
    if article.categories:
        doc["category"] = SEP.join(article.categories)
    if article.tags:
        doc["tag"] = SEP.join(article.tags)
    for name, value in (
        ("author", article.author),
        ("place", article.place),
        ("source", article.source),
        ("site", article.site),
        ("url", article.url),
        ("lang", article.language),
    ):
        if value:
            doc[name] = value
    if article.views is not None:
        doc["views"] = article.views
    day = day_number(article.published)
    if day is not None:
        doc["day"] = day
        doc["ts"] = utc_seconds(article.published)
    return doc


def _sketch(body: str) -> bytes:
    from .reprints import sketch  # only indexing needs it: a search does not pay the import

    return sketch(body)


def body_text(stored: dict[str, Any]) -> str:
    return stored.get("body") or ""


def stored_to_record(stored: dict[str, Any]) -> dict[str, Any]:
    """A document's stored fields back as the record's keys (what a hit or ``show`` prints)."""
    return {
        "id": stored.get("id"),
        "path": stored.get("path"),
        "source": stored.get("source_s"),
        "url": stored.get("url_s"),
        "site": stored.get("site_s"),
        "title": stored.get("title") or None,
        "author": stored.get("author_s"),
        "published": stored.get("published"),
        "place": stored.get("place_s"),
        "views": stored.get("views"),
        "categories": list(stored.get("categories") or []),
        "tags": list(stored.get("tags") or []),
        "language": stored.get("language"),
        "body": body_text(stored),
        "words": stored.get("words") or 0,
        "sha256": stored.get("sha256"),
    }
