"""The query language: text -> a small validated tree of our own. Pure; no Whoosh here.

Whoosh's own parser never reports an error (it drops or rewrites what it does not understand),
so corpus-search parses queries itself. The tree (terms, phrases, field clauses, ranges and
boolean nodes) is validated here, with one-line errors that quote the offending part, and then
translated to Whoosh by :mod:`corpus_search.search`; the same tree could be translated to
another engine's query DSL.

Grammar::

    query   := or_expr?
    or_expr := and_expr ("OR" and_expr)*
    and_expr:= unary (["AND"] unary)*          # juxtaposition means AND
    unary   := ("NOT" | "-") unary | "+"? primary
    primary := "(" or_expr ")" | FIELD ":" value | phrase | word
    value   := word | phrase | "(" or_expr ")" | "[" LOW "TO" HIGH "]" | (">"|">="|"<"|"<=") VALUE
    phrase  := '"' words '"' ("~" N)?
    word    := letters with optional "*"/"?" wildcards or a "~"/"~N" fuzzy suffix
"""

from __future__ import annotations

import calendar
import re

from . import vocab
from .errors import CorpusSearchError, QueryError, shorten
from .records import FrozenRecord, Record

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

#: Field names users may write, mapped to their canonical name.
FIELD_ALIASES = {
    "title": "title",
    "author": "author",
    "category": "category",
    "categories": "category",
    "cat": "category",
    "tag": "tag",
    "tags": "tag",
    "place": "place",
    "source": "source",
    "site": "site",
    "domain": "site",
    "host": "site",
    "url": "url",
    "link": "url",
    "lang": "lang",
    "language": "lang",
    "published": "published",
    "date": "published",
    "views": "views",
    "words": "words",
    "id": "id",
}
NUMBER_FIELDS = ("views", "words")
DATE_FIELDS = ("published",)
MAX_CLAUSES = 1024
MAX_DEPTH = 64  # parentheses and NOT/- nested in one another
MAX_FUZZY = 2
FIELD_LIST = (
    "title, author, category, tag, place, source, site, url, lang, published, views, words, id"
)


class Term(FrozenRecord):
    FIELDS = ("text", "field", "wildcard", "fuzzy", "exact", "pos")
    text: str
    field: str | None  # None: title and body
    wildcard: bool
    fuzzy: int  # edit distance, 0 = not fuzzy
    exact: bool  # a quoted single word: match it as written, unstemmed
    pos: int

    def __init__(
        self,
        text: str,
        field: str | None = None,
        wildcard: bool = False,
        fuzzy: int = 0,
        exact: bool = False,
        pos: int = 0,
    ):
        self._set(text=text, field=field, wildcard=wildcard, fuzzy=fuzzy, exact=exact, pos=pos)


class Phrase(FrozenRecord):
    FIELDS = ("words", "field", "slop", "pos")
    words: tuple[str, ...]
    field: str | None
    slop: int  # words allowed between consecutive words
    pos: int

    def __init__(
        self, words: tuple[str, ...], field: str | None = None, slop: int = 0, pos: int = 0
    ):
        self._set(words=words, field=field, slop=slop, pos=pos)


class Range(FrozenRecord):
    """An inclusive range over a number field or a date field (dates as YYYYMMDD numbers)."""

    FIELDS = ("field", "low", "high", "pos")
    field: str
    low: int | None
    high: int | None
    pos: int

    def __init__(self, field: str, low: int | None, high: int | None, pos: int = 0):
        self._set(field=field, low=low, high=high, pos=pos)


class And(FrozenRecord):
    FIELDS = ("children",)
    children: tuple[Node, ...]

    def __init__(self, children: tuple[Node, ...]):
        self._set(children=children)


class Or(FrozenRecord):
    FIELDS = ("children",)
    children: tuple[Node, ...]

    def __init__(self, children: tuple[Node, ...]):
        self._set(children=children)


class Not(FrozenRecord):
    FIELDS = ("child",)
    child: Node

    def __init__(self, child: Node):
        self._set(child=child)


class MatchAll(FrozenRecord):
    pass


Node = Term | Phrase | Range | And | Or | Not | MatchAll


# --------------------------------------------------------------------------------------------
# Tokens


class _Tok(Record):
    FIELDS = ("kind", "text", "pos", "extra")

    def __init__(self, kind: str, text: str, pos: int, extra: Any = None):
        self.kind = kind  # WORD PHRASE LPAREN RPAREN AND OR NOT MINUS PLUS FIELD RANGE CMP
        self.text = text
        self.pos = pos
        self.extra = extra


_SPECIAL = set('()"')
_FIELD_RE = re.compile(r"([A-Za-z_]+):")


def _tokenize(q: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(q)
    while i < n:
        c = q[i]
        if c.isspace():
            i += 1
            continue
        if c == "(":
            toks.append(_Tok("LPAREN", c, i))
            i += 1
            continue
        if c == ")":
            toks.append(_Tok("RPAREN", c, i))
            i += 1
            continue
        if c == '"':
            i = _read_phrase(q, i, toks)
            continue
        if c in "-+!" and i + 1 < n and not q[i + 1].isspace() and (not toks or _boundary(q, i)):
            toks.append(_Tok("MINUS" if c in "-!" else "PLUS", c, i))
            i += 1
            continue
        m = _FIELD_RE.match(q, i)
        if m and (i == 0 or _boundary(q, i)) and m.group(1) == "_exists_":
            # _exists_:place (Elasticsearch's spelling) is place:* : has a value
            f = re.compile(r"([A-Za-z_]+)").match(q, m.end())
            canonical = FIELD_ALIASES.get(f.group(1).lower()) if f else None
            if f is None or canonical is None or canonical in ("title", "id"):
                raise QueryError(q, "_exists_: takes a metadata field, as in _exists_:place", i)
            toks.append(_Tok("FIELD", canonical, i, f.group(1)))
            toks.append(_Tok("WORD", "*", m.end()))
            i = f.end()
            continue
        if m and (i == 0 or _boundary(q, i)):
            name = m.group(1)
            canonical = FIELD_ALIASES.get(name.lower())
            if canonical is None:
                raise QueryError(
                    q,
                    f"unknown field '{name}:' (fields: {FIELD_LIST}); "
                    "put the word in quotes to search for it as text",
                    i,
                )
            toks.append(_Tok("FIELD", canonical, i, name))
            i = m.end()
            if i >= n or q[i].isspace() or q[i] == ")":
                raise QueryError(q, f"field '{name}:' needs a value after the colon", i - 1)
            if q[i] in "[{":
                i = _read_range(q, i, toks)
            elif q[i] in "<>":
                j = i + (2 if q[i + 1 : i + 2] == "=" else 1)
                k = j
                while k < n and not q[k].isspace() and q[k] not in _SPECIAL:
                    k += 1
                if k == j:
                    raise QueryError(q, f"'{q[i:j]}' after '{name}:' needs a value", i)
                toks.append(_Tok("CMP", q[j:k], i, q[i:j]))
                i = k
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in _SPECIAL:
            j += 1
        word = q[i:j]
        if len(word) > 2 and word.startswith("/") and word.endswith("/"):
            raise QueryError(
                q,
                f"regular expressions ({word}) are not supported; use wildcards "
                "instead, as in sanc* or organi?ation",
                i,
            )
        boost = re.search(r"\^\d+(?:\.\d+)?$", word)
        if boost and boost.start() > 0:
            raise QueryError(
                q,
                f"boosts ({boost.group()}) are not supported: words are weighted "
                "by how rare they are, and title matches count double",
                i + boost.start(),
            )
        kind = {"AND": "AND", "OR": "OR", "NOT": "NOT", "&&": "AND", "||": "OR"}.get(word, "WORD")
        toks.append(_Tok(kind, word, i))
        i = j
    return toks


def _boundary(q: str, i: int) -> bool:
    if i == 0 or q[i - 1].isspace() or q[i - 1] in "()":
        return True
    # right after a leading -, + or ! (as in -category:x)
    return q[i - 1] in "-+!" and (i == 1 or q[i - 2].isspace() or q[i - 2] in "()")


def _read_phrase(q: str, i: int, toks: list[_Tok]) -> int:
    end = q.find('"', i + 1)
    if end < 0:
        raise QueryError(q, 'unbalanced quote: the phrase that starts here has no closing "', i)
    text = q[i + 1 : end]
    j = end + 1
    slop = None
    if j < len(q) and q[j] == "~":
        m = re.compile(r"~(\d*)").match(q, j)
        assert m is not None  # "~" then digits or none: always matches
        digits = m.group(1)
        k = m.end()
        if k < len(q) and not q[k].isspace() and q[k] not in "()":
            raise QueryError(
                q, "'~' after a phrase takes a whole number of words, as in \"a b\"~3", j
            )
        slop = int(digits) if digits and len(digits) <= 6 else (1 if not digits else 10**6)
        if slop > 100:  # (a number of thousands of digits is not even read: Python refuses)
            raise QueryError(
                q, f"proximity ~{shorten(digits, 12)} is too large (at most 100 words)", j
            )
        j = k
    toks.append(_Tok("PHRASE", text, i, slop))
    return j


def _read_range(q: str, i: int, toks: list[_Tok]) -> int:
    """``[LOW TO HIGH]`` inclusive, ``{LOW TO HIGH}`` exclusive; the two ends may differ."""
    ends = [k for k in (q.find("]", i + 1), q.find("}", i + 1)) if k >= 0]
    if not ends:
        raise QueryError(
            q,
            f"unbalanced '{q[i]}': a range needs a closing ']' or '}}', as in [2021-01 TO 2021-06]",
            i,
        )
    end = min(ends)
    inner = q[i + 1 : end].strip()
    parts = re.split(r"\s+TO\s+|\s+to\s+", inner)
    if len(parts) != 2 or not all(p.strip() for p in parts):
        raise QueryError(q, f"a range is written [LOW TO HIGH], got '{q[i : end + 1]}'", i)
    low, high = (p.strip() for p in parts)
    toks.append(_Tok("RANGE", q[i : end + 1], i, (low, high, q[i] == "[", q[end] == "]")))
    return end + 1


# --------------------------------------------------------------------------------------------
# Parser


class _Parser:
    def __init__(self, q: str):
        self.q = q
        self.toks = _tokenize(q)
        self.i = 0
        self.clauses = 0
        self.depth = 0

    def deeper(self, tok: _Tok) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(
                f"the query is nested deeper than {MAX_DEPTH} levels (parentheses, NOT or -)",
                tok.pos,
            )

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def error(self, message: str, pos: int | None) -> QueryError:
        return QueryError(self.q, message, pos)

    def parse(self) -> Node:
        if not self.toks:
            return MatchAll()
        node = self.or_expr(None)
        tok = self.peek()
        if tok is not None:
            if tok.kind == "RPAREN":
                raise self.error("unbalanced ')': there is no '(' before it", tok.pos)
            raise self.error(f"unexpected '{tok.text}'", tok.pos)
        return node

    def or_expr(self, field) -> Node:
        children = [self.and_expr(field)]
        while (tok := self.peek()) is not None and tok.kind == "OR":
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("RPAREN", "OR", "AND"):
                raise self.error("OR needs a term on both sides", tok.pos)
            children.append(self.and_expr(field))
        return children[0] if len(children) == 1 else Or(tuple(children))

    def and_expr(self, field) -> Node:
        children = [self.unary(field)]
        while (tok := self.peek()) is not None and tok.kind not in ("OR", "RPAREN"):
            if tok.kind == "AND":
                self.take()
                nxt = self.peek()
                if nxt is None or nxt.kind in ("RPAREN", "OR", "AND"):
                    raise self.error("AND needs a term on both sides", tok.pos)
            children.append(self.unary(field))
        return children[0] if len(children) == 1 else And(tuple(children))

    def unary(self, field) -> Node:
        tok = self.peek()
        if tok is None:
            raise self.error("the query ends where a term was expected", len(self.q))
        if tok.kind in ("NOT", "MINUS"):
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind in ("RPAREN", "OR", "AND"):
                raise self.error(f"'{tok.text}' needs a term after it", tok.pos)
            self.deeper(tok)
            node = Not(self.unary(field))
            self.depth -= 1
            return node
        if tok.kind == "PLUS":
            self.take()
        return self.primary(field)

    def primary(self, field) -> Node:
        tok = self.take()
        self.clauses += 1
        if self.clauses > MAX_CLAUSES:
            raise self.error(f"the query has more than {MAX_CLAUSES} terms", tok.pos)
        if tok.kind == "LPAREN":
            nxt = self.peek()
            if nxt is None:
                raise self.error("unbalanced '(': no ')' closes it", tok.pos)
            if nxt.kind == "RPAREN":
                raise self.error("empty parentheses '()'", tok.pos)
            self.deeper(tok)
            node = self.or_expr(field)
            self.depth -= 1
            close = self.peek()
            if close is None or close.kind != "RPAREN":
                raise self.error("unbalanced '(': no ')' closes it", tok.pos)
            self.take()
            return node
        if tok.kind == "RPAREN":
            raise self.error("unbalanced ')': there is no '(' before it", tok.pos)
        if tok.kind in ("AND", "OR"):
            raise self.error(f"{tok.text} needs a term on both sides", tok.pos)
        if tok.kind == "FIELD":
            if field is not None:
                raise self.error(
                    f"a field ('{tok.extra}:') cannot be used inside another field's parentheses",
                    tok.pos,
                )
            return self.field_value(tok)
        if tok.kind == "PHRASE":
            return self.phrase(tok, field)
        if tok.kind in ("RANGE", "CMP"):
            raise self.error(f"'{tok.text}' needs a field before it, as in views:>1000", tok.pos)
        return self.word(tok, field)

    def field_value(self, ftok: _Tok) -> Node:
        name = ftok.text
        tok = self.peek()
        if tok is None:
            raise self.error(f"field '{ftok.extra}:' needs a value after the colon", ftok.pos)
        if tok.kind == "RANGE":
            self.take()
            low, high, _, _ = tok.extra
            return self.range(name, ftok, low, high, tok)
        if tok.kind == "CMP":
            self.take()
            return self.compare(name, ftok, tok)
        if (
            (name in NUMBER_FIELDS or name in DATE_FIELDS)
            and tok.kind == "WORD"
            and tok.text == "*"
        ):
            self.take()
            return Range(name, None, None, ftok.pos)  # has a value
        if name in NUMBER_FIELDS or name in DATE_FIELDS:
            if tok.kind != "WORD":
                raise self.error(f"{name} takes a single value, a comparison or a range", tok.pos)
            self.take()
            if name in DATE_FIELDS:
                low, high = parse_date_bounds(tok.text, self.q, tok.pos, name)
                return Range(name, low, high, ftok.pos)
            value = _number(tok.text, self.q, tok.pos, name)
            return Range(name, value, value, ftok.pos)
        if tok.kind == "LPAREN":
            return self.primary(name)
        if tok.kind == "PHRASE":
            self.take()
            return self.phrase(tok, name)
        if tok.kind in ("WORD", "AND", "OR", "NOT"):
            self.take()
            return self.word(tok, name)
        raise self.error(f"field '{ftok.extra}:' needs a value after the colon", ftok.pos)

    def range(self, name, ftok, low_text, high_text, tok) -> Node:
        if name in DATE_FIELDS:
            low = (
                None
                if low_text in ("*", "")
                else parse_date_bounds(low_text, self.q, tok.pos, name)[0]
            )
            high = (
                None
                if high_text in ("*", "")
                else parse_date_bounds(high_text, self.q, tok.pos, name)[1]
            )
        elif name in NUMBER_FIELDS:
            low = None if low_text in ("*", "") else _number(low_text, self.q, tok.pos, name)
            high = None if high_text in ("*", "") else _number(high_text, self.q, tok.pos, name)
            if not tok.extra[2] and low is not None:  # {a ...: exclusive start
                low += 1
            if not tok.extra[3] and high is not None:  # ... b}: exclusive end
                high -= 1
        else:
            raise self.error(
                f"ranges work on published, views and words, not on {ftok.extra}:", ftok.pos
            )
        if low is not None and high is not None and low > high:
            raise self.error(f"the range {tok.text} is empty (its start is after its end)", tok.pos)
        return Range(name, low, high, ftok.pos)

    def compare(self, name, ftok, tok) -> Node:
        op = tok.extra
        if name in DATE_FIELDS:
            first, last = parse_date_bounds(tok.text, self.q, tok.pos, name)
            bounds: dict[str, tuple[int | None, int | None]] = {
                ">": (last + 1, None),
                ">=": (first, None),
                "<": (None, first - 1),
                "<=": (None, last),
            }
        elif name in NUMBER_FIELDS:
            v = _number(tok.text, self.q, tok.pos, name)
            bounds = {">": (v + 1, None), ">=": (v, None), "<": (None, v - 1), "<=": (None, v)}
        else:
            raise self.error(
                f"comparisons work on published, views and words, not on {ftok.extra}:", ftok.pos
            )
        start, end = bounds[op]
        if name in DATE_FIELDS and start is not None:
            start = _next_valid_day(start)
        return Range(name, start, end, ftok.pos)

    def phrase(self, tok: _Tok, field) -> Node:
        slop = tok.extra if tok.extra is not None else 0
        text = tok.text.strip()
        if field in NUMBER_FIELDS or field in DATE_FIELDS:
            raise self.error(f"{field} takes a number or date, not a phrase", tok.pos)
        if field in vocab.QUERY_VALUE_FIELDS or field == "id":
            if not text:
                raise self.error('empty phrase ""', tok.pos)
            return Term(text, field, pos=tok.pos)
        words = tuple(vocab.words(text))
        if not words:
            raise self.error(f'the phrase "{text}" has no words to search for', tok.pos)
        if len(words) == 1:
            return Term(words[0], field, exact=True, pos=tok.pos)
        return Phrase(words, field, slop, tok.pos)

    def word(self, tok: _Tok, field) -> Node:
        text = tok.text
        if field in NUMBER_FIELDS or field in DATE_FIELDS:
            raise self.error(f"{field} takes a number or date", tok.pos)
        if text == "*" and field is None:
            return MatchAll()
        fuzzy = 0
        m = re.fullmatch(r"(.+?)~(\d*)", text)
        if m:
            text = m.group(1)
            digits = m.group(2)
            fuzzy = (int(digits) if len(digits) <= 6 else MAX_FUZZY + 1) if digits else 1
            if fuzzy < 1 or fuzzy > MAX_FUZZY:
                raise self.error(
                    f"fuzzy '~{shorten(digits, 12)}' takes 1 or 2 (edits allowed)", tok.pos
                )
            if "*" in text or "?" in text:
                raise self.error(
                    f"'{tok.text}' mixes a wildcard and '~'; use one or the other", tok.pos
                )
        wildcard = "*" in text or "?" in text
        if wildcard:
            if text.strip("*?") == "":
                if field is not None:
                    return _has_field(field)
                return MatchAll()
            literal = text.replace("*", "").replace("?", "")
            if not re.search(r"\w", literal):
                raise self.error(f"'{tok.text}' has no letters to match", tok.pos)
        elif field not in vocab.QUERY_VALUE_FIELDS and field != "id" and not re.search(r"\w", text):
            raise self.error(f"'{text}' has no letters or digits to search for", tok.pos)
        if field == "lang" and not wildcard:
            check_language_code(text, lambda msg: self.error(msg, tok.pos))
        return Term(text, field, wildcard=wildcard, fuzzy=fuzzy, pos=tok.pos)


#: Language names people type where a code is wanted (lang:english).
LANGUAGE_NAMES = {
    "english": "en", "russian": "ru", "ukrainian": "uk", "german": "de", "french": "fr",
    "spanish": "es", "portuguese": "pt", "italian": "it", "polish": "pl", "bulgarian": "bg",
    "arabic": "ar", "hindi": "hi", "greek": "el", "chinese": "zh", "turkish": "tr",
    "kazakh": "kk", "belarusian": "be", "georgian": "ka", "armenian": "hy", "romanian": "ro",
    "русский": "ru", "английский": "en", "украинский": "uk", "українська": "uk",
}  # fmt: skip


def check_language_code(value: str, fail, spelled: str = "lang:") -> None:
    """A language is its ISO 639-1 code (en, ru, uk): anything else matches nothing, so it is
    refused with the code to use (``fail(message)`` returns the error to raise)."""
    v = value.strip().lower()
    if re.fullmatch(r"[a-z]{2}", v):
        return
    code = LANGUAGE_NAMES.get(v)
    hint = f": {spelled}{code}" if code else " such as en, ru or uk"
    raise fail(f"languages are ISO 639-1 codes ('{value}' is none){hint}")


def _has_field(field: str) -> Node:
    return Term("*", field, wildcard=True)


def _number(text: str, q: str, pos: int, name: str) -> int:
    cleaned = text.replace("_", "").replace(",", "")
    if not re.fullmatch(r"\d{1,15}", cleaned):
        raise QueryError(q, f"{name} needs a whole number, got '{text}'", pos)
    return int(cleaned)


def _next_valid_day(day: int) -> int:
    """The first real date at or after a YYYYMMDD number that may overflow its month."""
    y, m, d = day // 10000, day // 100 % 100, day % 100
    if m > 12:
        return (y + 1) * 10000 + 101
    last = calendar.monthrange(y, m)[1] if 1 <= m <= 12 else 31
    if d > last:
        m += 1
        if m > 12:
            return (y + 1) * 10000 + 101
        return y * 10000 + m * 100 + 1
    return day


_DATE_RE = re.compile(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?|(\d{4})(\d{2})(\d{2})")


def parse_date_bounds(
    text: str, q: str | None = None, pos: int | None = 0, name: str = "published"
) -> tuple[int, int]:
    """``2021`` / ``2021-07`` / ``2021-07-02`` (or ``20210702``) -> first and last day, YYYYMMDD.

    Inside a query (``q`` given) a bad date is a :class:`QueryError`; for an option such as
    ``--since`` it is a plain :class:`CorpusSearchError` naming the option.
    """

    def fail(message: str):
        if q:
            return QueryError(q, message, pos)
        return CorpusSearchError(message)

    m = _DATE_RE.fullmatch(text.strip())
    if m is None:
        raise fail(f"{name} needs a date like 2021, 2021-07 or 2021-07-02, got {text!r}")
    mo: int | None
    d: int | None
    if m.group(4):
        y, mo, d = int(m.group(4)), int(m.group(5)), int(m.group(6))
    else:
        y = int(m.group(1))
        mo = int(m.group(2)) if m.group(2) else None
        d = int(m.group(3)) if m.group(3) else None
    if y < 1 or (mo is not None and not 1 <= mo <= 12):
        raise fail(f"{name}: {text!r} is not a real date (month 1-12)")
    if mo is None:
        return y * 10000 + 101, y * 10000 + 1231
    last = calendar.monthrange(y, mo)[1]
    if d is None:
        return y * 10000 + mo * 100 + 1, y * 10000 + mo * 100 + last
    if not 1 <= d <= last:
        raise fail(
            f"{name}: {text!r} is not a real date ({calendar.month_name[mo]} {y} has {last} days)"
        )
    day = y * 10000 + mo * 100 + d
    return day, day


def parse_query(text: str) -> Node:
    """Parse a query string into a validated tree; raises :class:`QueryError`."""
    check_text(text, "query")
    return _Parser(text).parse()


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def check_text(text: str, what: str) -> None:
    """A query or a value from a terminal or script in another encoding than UTF-8 arrives
    with its bytes as lone surrogates (Python's way with undecodable arguments): no index
    word can hold them, so it is an error naming the byte, not a search for nothing (nor, as
    once, a 'damaged index' when the word was encoded)."""
    m = _SURROGATE.search(text)
    if m is None:
        return
    code = ord(m.group())
    byte = f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"U+{code:04X}"
    raise QueryError(
        text,
        f"the {what} is not valid UTF-8 (byte {byte}); set the terminal or script to UTF-8",
        m.start(),
    )


def positive_nodes(node: Node):
    """Leaves not under a NOT: what a hit matched, for highlighting and suggestions."""
    if isinstance(node, (And, Or)):
        for child in node.children:
            yield from positive_nodes(child)
    elif isinstance(node, Not):
        return
    else:
        yield node
