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

import math
from typing import Callable, Iterable

from . import _whoosh  # noqa: F401  - must precede the first Whoosh import
from whoosh import query as wq

from .postings import Snapshot, length_table

SCORED_FIELDS = ("text", "title")
K1 = 1.2
B = 0.75

Scores = dict[int, float]


class Evaluator:
    """Evaluates Whoosh query objects against one snapshot; ``deadline`` is called between
    steps and raises when the query has run out of time."""

    def __init__(self, snapshot: Snapshot, deadline: Callable[[], None] | None = None):
        self.snapshot = snapshot
        self.check = deadline or (lambda: None)

    @property
    def deleted(self) -> set[int]:
        return self.snapshot.deleted

    @property
    def live(self) -> set[int]:
        return self.snapshot.live()

    # -- scoring --------------------------------------------------------------------------

    def score(self, docs: set[int], parts: list["Part"]) -> Scores:
        """BM25F scores of ``docs``: the sum over the matched terms, Whoosh's formula (idf,
        k1=1.2, b=0.75, Whoosh's one-byte field lengths). Computed only for the final set."""
        k1p1 = K1 + 1
        norm = K1 * (1 - B)
        scores: Scores = {}
        for part in parts:
            lengths = self.snapshot.lengths(part.field)
            table = length_table()
            per = K1 * B / self.snapshot.avg_length(part.field)
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
        if not self.snapshot.doc_count_all:  # an empty index: nothing matches
            return set(), None
        if isinstance(q, wq.Every):
            return set(self.live), None
        if isinstance(q, type(wq.NullQuery)):
            return set(), None
        if isinstance(q, wq.Term):
            self.check()
            ids, tfs = self.snapshot.postings(q.fieldname, q.text)
            if q.fieldname in SCORED_FIELDS:
                tf_of = dict(zip(ids, tfs))
                idf = math.log(self.snapshot.doc_count_all / (len(ids) + 1)) + 1  # Whoosh's idf
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
            self.check()
            docs = self.snapshot.docs_for_query(q)
            words = (q.subqueries if isinstance(q, wq.Sequence)
                     else [wq.Term(q.fieldname, w) for w in q.words])
            parts = []
            for w in words:
                parts += self.evaluate(w)[1] or []
            return docs, parts
        self.check()
        return self.snapshot.docs_for_query(q), None

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
