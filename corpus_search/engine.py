"""Query evaluation over Whoosh's postings: the set of matching documents and BM25F scores.

Whoosh's matchers move one posting at a time through several layers of Python objects (about
6 microseconds a posting measured here), and a top-N search cannot give an exact total. This
module reads posting blocks whole (ids and term frequencies as arrays, C-speed) and evaluates
our queries with set algebra: AND is an intersection, OR a union, NOT a difference. Scores
use Whoosh's own BM25F formula (same idf, same field lengths), so rankings agree with Whoosh's.

Only what has no cheap set form goes back to Whoosh: phrases and proximity (positions) and
numeric ranges, evaluated with ``docs_for_query``.
"""

from __future__ import annotations

import itertools
import math
import sys
from typing import Iterable

from . import _whoosh  # noqa: F401  - must precede the first Whoosh import
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.reading import TermNotFound

SCORED_FIELDS = ("text", "title")
K1 = 1.2
B = 0.75

Scores = dict[int, float]


def _byte_to_length_table() -> list[int]:
    from whoosh.util.numeric import byte_to_length

    return [byte_to_length(i) for i in range(256)]


class Evaluator:
    """Evaluates Whoosh query objects against one open searcher; caches per-index data."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.reader = searcher.reader()
        self.leaves = [(leaf, offset) for leaf, offset in
                       (self.reader.leaf_readers() if not self.reader.is_atomic() else [(self.reader, 0)])]
        self.doc_count_all = self.reader.doc_count_all()
        self.doc_count = self.reader.doc_count()
        self._live: set[int] | None = None
        self._deleted: set[int] | None = None
        self._lengths: dict[str, bytes] = {}
        self._avg: dict[str, float] = {}
        self._table = None

    # -- documents ------------------------------------------------------------------------

    @property
    def live(self) -> set[int]:
        if self._live is None:
            self._live = set(range(self.doc_count_all)) - self.deleted
        return self._live

    def _lengths_of(self, field: str) -> bytes:
        """Each document's length in ``field`` as Whoosh's one-byte code (see _table)."""
        raw = self._lengths.get(field)
        if raw is None:
            from whoosh.codec.whoosh3 import LENGTHS_COLUMN

            self._table = self._table or _byte_to_length_table()
            parts = []
            for leaf, _offset in self.leaves:
                col = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                n = leaf.doc_count_all()
                parts.append(_fixed_column_bytes(col, n, 1) if col is not None else bytes(n))
            raw = self._lengths[field] = b"".join(parts)
            self._avg[field] = self.searcher.avg_field_length(field) or 1.0
        return raw

    # -- postings -------------------------------------------------------------------------

    def postings(self, field: str, text: str) -> tuple[list[int], list[float]]:
        """Global doc numbers and term frequencies of a term, deleted documents left out."""
        ids: list[int] = []
        weights: list[float] = []
        for leaf, offset in self.leaves:
            try:
                m = leaf._terms.matcher(field, leaf._text_to_bytes(field, text),
                                        leaf.schema[field].format)
            except (TermNotFound, KeyError):
                continue
            _read_all(m, ids, weights, offset)
        return ids, weights

    @property
    def deleted(self) -> set[int]:
        """Deleted documents (they stay in postings until a merge; taken out at the end)."""
        if self._deleted is None:
            deleted: set[int] = set()
            for leaf, offset in self.leaves:
                if leaf.has_deletions():
                    deleted.update(d + offset for d in leaf.deleted_docs_set)
            self._deleted = deleted
        return self._deleted

    # -- scoring --------------------------------------------------------------------------

    def score(self, docs: set[int], parts: list["Part"]) -> Scores:
        """BM25F scores of ``docs``: the sum over the matched terms, Whoosh's formula (idf,
        k1=1.2, b=0.75, Whoosh's one-byte field lengths). Computed only for the final set."""
        k1p1 = K1 + 1
        norm = K1 * (1 - B)
        scores: Scores = {}
        for part in parts:
            lengths = self._lengths_of(part.field)
            table = self._table
            per = K1 * B / self._avg[part.field]
            idf = part.idf * part.boost * k1p1
            tfs = part.tfs
            if len(tfs) > len(docs) or not docs.issuperset(tfs.keys()):
                tfs = {d: tfs[d] for d in docs & tfs.keys()}
            if not scores:
                scores = {d: idf * tf / (tf + norm + per * table[lengths[d]]) for d, tf in tfs.items()}
                continue
            get = scores.get
            for d, tf in tfs.items():
                scores[d] = get(d, 0.0) + idf * tf / (tf + norm + per * table[lengths[d]])
        if len(scores) < len(docs):  # matched only through unscored clauses
            for d in docs - scores.keys():
                scores[d] = 0.0
        return scores

    # -- evaluation -----------------------------------------------------------------------

    def matches(self, q) -> tuple[set[int], list["Part"] | None]:
        """(live matching doc numbers, the scoring parts or None when the query does not
        score). Pass both to :meth:`score` for the scores of the documents you keep."""
        docs, parts = self.evaluate(q)
        if self.deleted:
            docs -= self.deleted
        return docs, parts

    def evaluate(self, q) -> tuple[set[int], list["Part"] | None]:
        """(matching doc numbers, deleted ones possibly included; scoring parts or None)."""
        if isinstance(q, wq.Every):
            return set(self.live), None
        if isinstance(q, type(wq.NullQuery)):
            return set(), None
        if isinstance(q, wq.Term):
            ids, tfs = self.postings(q.fieldname, q.text)
            if q.fieldname in SCORED_FIELDS:
                tf_of = dict(zip(ids, tfs))
                idf = math.log(self.doc_count_all / (len(ids) + 1)) + 1  # Whoosh's idf
                return set(tf_of), [Part(q.fieldname, idf, q.boost, tf_of)] if ids else []
            return set(ids), None
        if isinstance(q, wq.Not):
            docs, _ = self.evaluate(q.query)
            return self.live - docs, None
        if isinstance(q, wq.Or):
            docs: set[int] = set()
            parts: list[Part] | None = None
            for d, p in (self.evaluate(c) for c in q.subqueries):
                docs |= d
                if p is not None:
                    parts = (parts or []) + p
            return docs, parts
        if isinstance(q, wq.And):
            return self._intersection(q.subqueries)
        if isinstance(q, (wq.Phrase, wq.Sequence)):
            docs = set(self.searcher.docs_for_query(q))
            words = (q.subqueries if isinstance(q, wq.Sequence)
                     else [wq.Term(q.fieldname, w) for w in q.words])
            parts = []
            for w in words:
                parts += self.evaluate(w)[1] or []
            return docs, parts
        return set(self.searcher.docs_for_query(q)), None

    def _intersection(self, children: Iterable):
        negative = [c.query for c in children if isinstance(c, wq.Not)]
        positive = [self.evaluate(c) for c in children if not isinstance(c, wq.Not)]
        if positive:
            positive.sort(key=lambda p: len(p[0]))
            docs = set(positive[0][0])
            for d, _ in positive[1:]:
                docs &= d
                if not docs:
                    break
        else:
            docs = set(self.live)
        for n in negative:
            if not docs:
                break
            docs -= self.evaluate(n)[0]
        scored = [p for _, p in positive if p is not None]
        return docs, ([x for p in scored for x in p] if scored else None)


class Part:
    """One scored term: its field, idf, boost and term frequency per document."""

    __slots__ = ("field", "idf", "boost", "tfs")

    def __init__(self, field: str, idf: float, boost: float, tfs: dict[int, float]):
        self.field, self.idf, self.boost, self.tfs = field, idf, boost, tfs


def _read_all(m, ids: list[int], weights: list[float], offset: int) -> None:
    """Append every posting of a leaf matcher, a whole block at a time."""
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._data is None:
                m._read_data()
            raw_ids, raw_weights = m._data[0], m._data[1]
            n = m._blocklength
            block_ids = raw_ids if m._byteids else itertools.accumulate(raw_ids)
            ids.extend(d + offset for d in block_ids) if offset else ids.extend(block_ids)
            if raw_weights is None:
                weights.extend([1.0] * n)
            elif isinstance(raw_weights, float):
                weights.extend([raw_weights] * n)
            else:
                weights.extend(raw_weights)
            m._next_block()
        return
    while m.is_active():  # any other matcher: one posting at a time
        ids.append(m.id() + offset)
        weights.append(m.weight())
        m.next()


def _fixed_column_bytes(col, doccount: int, width: int) -> bytes:
    """The raw values of a fixed-width column reader in one read (defaults past its end)."""
    try:
        count = min(col._count, doccount)
        raw = col._dbfile.get(col._basepos, count * width)
        if count < doccount:
            raw += col._defaultbytes * (doccount - count)
        return bytes(raw)
    except AttributeError:  # another column layout: read value by value
        return b"".join(col[d] if isinstance(col[d], bytes) else bytes([col[d]]) for d in range(doccount))


def numeric_column(reader, fieldname: str) -> list[int]:
    """All values of a NUMERIC sortable column, one per document, read in bulk per segment."""
    from array import array

    field = reader.schema[fieldname]
    leaves = reader.leaf_readers() if not reader.is_atomic() else [(reader, 0)]
    out: list[int] = []
    # NUMERIC columns hold "sortable" values (signed ones shifted up); plain columns raw ones
    shift = (1 << (field.bits - 1)) if getattr(field, "signed", False) else 0
    default = getattr(field, "default", 0) if hasattr(field, "bits") else field.column_type._default
    for leaf, _offset in leaves:
        n = leaf.doc_count_all()
        if not leaf.has_column(fieldname):
            out.extend([default] * n)
            continue
        col = leaf.column_reader(fieldname, translate=False)
        try:
            width = col._fixedlen
            values = array(col._typecode)
            values.frombytes(_fixed_column_bytes(col, n, width))
            if sys.byteorder == "little":
                values.byteswap()  # stored big-endian
        except AttributeError:
            out.extend(col[d] for d in range(n))
            continue
        out.extend(v - shift for v in values) if shift else out.extend(values)
    return out
