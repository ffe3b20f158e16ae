"""Passage reuse: which passages of one article were lifted into another, with light edits.

Reprints (:mod:`corpus_search.reprints`) find whole stories republished; this finds passages,
a paragraph lifted into an otherwise different article. Seed and extend, as text-reuse tools
do (passim's method on a small scale):

1. Words are folded and punctuation dropped (typography does not matter); every run of five
   words (a shingle) is hashed. A sample of the hashes (one in :data:`SAMPLE`, by value, so
   the same in every article) is indexed; a sampled shingle found in more than
   :data:`MAX_SHARED` articles is a stock phrase and left out. Two articles sharing at least
   :data:`MIN_SEEDS` sampled shingles are a candidate pair: the work is near linear in the
   articles, not quadratic.
2. For each candidate pair every shingle of one is looked up in the other; the matches are
   chained along their diagonal, allowing gaps (a word changed breaks five shingles) and a
   shift of the diagonal (a sentence dropped or added in one copy). A chain of at least
   :data:`MIN_MATCHES` shingles spanning :data:`MIN_WORDS` words is a passage, with its
   character offsets in both bodies and its similarity (the share of its shingles matched).
3. The earlier article (by its own date; undated ones last, then by id) is the source.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from .vocab import WORD_RE, fold

SHINGLE = 5
SAMPLE = 4  # one shingle in four is indexed for candidates (by hash value)
MAX_SHARED = 40  # a sampled shingle in more articles than this is a stock phrase
MIN_SEEDS = 2  # sampled shingles two articles share to be compared
MIN_MATCHES = 8  # shingles a passage has, at least
MIN_WORDS = 20  # words a passage spans, at least
GAP = 45  # words a chain may skip in either article (a changed word, a dropped sentence)
SHIFT = 50  # words the diagonal may move within a chain (a sentence added or dropped)


class Text:
    """An article's body as words with their character spans, and its shingle hashes."""

    __slots__ = ("spans", "hashes")

    def __init__(self, body: str):
        words = []
        self.spans = []
        for m in WORD_RE.finditer(body):
            words.append(fold(m.group()).encode("utf-8"))
            self.spans.append((m.start(), m.end()))
        crc, join = zlib.crc32, b" ".join
        self.hashes = [crc(join(words[i : i + SHINGLE])) for i in range(len(words) - SHINGLE + 1)]


def candidate_pairs(
    texts: dict[Any, Text], check: Callable[[], None] | None = None
) -> list[tuple[Any, Any]]:
    """Pairs of articles that share at least :data:`MIN_SEEDS` sampled shingles, none of
    them a stock phrase."""
    posting: dict[int, list] = defaultdict(list)
    for n, (doc, text) in enumerate(texts.items()):
        if check is not None and n % 500 == 0:
            check()
        for h in set(text.hashes):
            if h % SAMPLE == 0:
                posting[h].append(doc)
    shared: Counter = Counter()
    for n, docs in enumerate(posting.values()):
        if check is not None and n % 50_000 == 0:
            check()
        if len(docs) < 2 or len(docs) > MAX_SHARED:
            continue
        for i, a in enumerate(docs):
            for b in docs[i + 1 :]:
                shared[(a, b)] += 1
    return sorted(pair for pair, k in shared.items() if k >= MIN_SEEDS)


def passages(a: Text, b: Text) -> list[tuple[int, int, int, int, float]]:
    """The passages of ``a`` found in ``b``: (first shingle in a, last in a, first in b, last
    in b, similarity), chains of matched shingles along their diagonal."""
    where: dict[int, list[int]] = defaultdict(list)
    for j, h in enumerate(b.hashes):
        where[h].append(j)
    matches = sorted((i, j) for i, h in enumerate(a.hashes) for j in where.get(h, ())[:20])
    chains: list[list[int]] = []  # open chains: [i0, j0, i_last, j_last, matched]
    out: list[tuple[int, int, int, int, float]] = []
    for i, j in matches:
        still = []
        for c in chains:  # a chain that has not grown for GAP words is finished
            if i - c[2] > GAP:
                _emit(c, out)
            else:
                still.append(c)
        chains = still
        for c in chains:
            di, dj = i - c[2], j - c[3]
            if di > 0 and 0 < dj <= GAP + SHIFT and abs(dj - di) <= SHIFT:
                c[2], c[3], c[4] = i, j, c[4] + 1
                break
        else:
            chains.append([i, j, i, j, 1])
    for c in chains:
        _emit(c, out)
    return out


def _emit(chain: list[int], out: list) -> None:
    """Keep a finished chain that is long enough to be a passage."""
    i0, j0, i1, j1, matched = chain
    if matched >= MIN_MATCHES and i1 - i0 + SHINGLE >= MIN_WORDS:
        out.append((i0, i1, j0, j1, matched / (i1 - i0 + 1)))


def find_reuse(
    articles: dict[Any, dict[str, Any]],
    check: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """The reused passages among ``articles`` (key -> record with ``id``, ``published``,
    ``body``): ``{"earlier": {"id", "published", "start", "end"}, "later": {...},
    "similarity", "words"}`` each, longest first; offsets into each ``body``."""
    texts = {k: Text(r.get("body") or "") for k, r in articles.items()}
    texts = {k: t for k, t in texts.items() if len(t.hashes) >= MIN_MATCHES}

    def order(k) -> tuple:
        r = articles[k]
        return (r.get("published") is None, r.get("published") or "", r.get("id") or "")

    found: list[dict[str, Any]] = []
    for n, (x, y) in enumerate(candidate_pairs(texts, check)):
        if check is not None and n % 200 == 0:
            check()
        earlier, later = (x, y) if order(x) <= order(y) else (y, x)
        a, b = texts[earlier], texts[later]
        for i0, i1, j0, j1, sim in passages(a, b):
            ra, rb = articles[earlier], articles[later]
            found.append(
                {
                    "earlier": _side(ra, a, i0, i1),
                    "later": _side(rb, b, j0, j1),
                    "similarity": round(sim, 3),
                    "words": i1 - i0 + SHINGLE,
                }
            )
    found.sort(key=_passage_order)
    return found


def _passage_order(p: dict[str, Any]) -> tuple:
    return (-p["words"], p["earlier"]["id"] or "", p["later"]["id"] or "", p["earlier"]["start"])


def _side(record: dict[str, Any], text: Text, first: int, last: int) -> dict[str, Any]:
    start = text.spans[first][0]
    end = text.spans[min(last + SHINGLE - 1, len(text.spans) - 1)][1]
    return {
        "id": record.get("id"),
        "title": record.get("title"),
        "source": record.get("source"),
        "published": record.get("published"),
        "start": start,
        "end": end,
    }


def reused_in(
    target: dict[str, Any],
    others: Iterable[dict[str, Any]],
    check: Callable[[], None] | None = None,
) -> list[dict[str, Any]]:
    """The passages of ``target`` found in earlier articles among ``others`` (its sources),
    as :func:`find_reuse` gives them: one article against the rest, no index of all pairs."""
    t = Text(target.get("body") or "")
    seeds = {h for h in t.hashes if h % SAMPLE == 0}
    if len(t.hashes) < MIN_MATCHES or not seeds:
        return []

    def order(r: dict[str, Any]) -> tuple:
        return (r.get("published") is None, r.get("published") or "", r.get("id") or "")

    found: list[dict[str, Any]] = []
    for n, other in enumerate(others):
        if check is not None and n % 500 == 0:
            check()
        if other.get("id") == target.get("id") or order(other) > order(target):
            continue
        o = Text(other.get("body") or "")
        if len({h for h in o.hashes if h % SAMPLE == 0} & seeds) < MIN_SEEDS:
            continue
        for i0, i1, j0, j1, sim in passages(o, t):
            found.append(
                {
                    "earlier": _side(other, o, i0, i1),
                    "later": _side(target, t, j0, j1),
                    "similarity": round(sim, 3),
                    "words": i1 - i0 + SHINGLE,
                }
            )
    found.sort(key=lambda p: (p["later"]["start"], p["earlier"]["id"] or ""))
    return found
