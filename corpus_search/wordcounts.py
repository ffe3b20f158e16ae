"""Counting words and word sequences over sets of articles: n-grams (AntConc's clusters) and
keyness (what is unusually frequent in one subcorpus against another).

Pure: texts in, counts out. Words are the index's words (:data:`vocab.WORD_PATTERN`), folded
as they are compared (lower case, ``ё`` as ``е``; accents kept). A sequence never runs across
the title and the body, nor across paragraphs (a blank line).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from .records import Record
from .vocab import WORD_RE, fold


def paragraphs_of(record: dict[str, Any]) -> list[str]:
    """The title and each paragraph of the body: the stretches a sequence stays within."""
    out = [record.get("title") or ""]
    out += (record.get("body") or "").split("\n\n")
    return [p for p in out if p]


def words_of(text: str) -> list[str]:
    """The text's words, folded: the whole text folded once, then split (the same words as
    splitting and folding each, found ~3 times faster), unless it holds a letter whose lower
    case depends on its neighbours or changes the split: İ (two characters), Σ (final σ or ς
    by what follows), the Kelvin sign (an ASCII k)."""
    if _FOLDS_APART.search(text):
        return [fold(w) for w in WORD_RE.findall(text)]
    return WORD_RE.findall(fold(text))


_FOLDS_APART = re.compile("[\u0130\u03a3\u212a]")


# --------------------------------------------------------------------------------------------
# N-grams


class NGram(Record):
    FIELDS = ("ngram", "count", "documents", "groups")

    def __init__(self, ngram: str, count: int, documents: int, groups: dict[str, int] | None):
        self.ngram, self.count, self.documents, self.groups = ngram, count, documents, groups

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "ngram": self.ngram,
            "count": self.count,
            "documents": self.documents,
        }
        if self.groups is not None:
            out["groups"] = self.groups
        return out


def count_ngrams(
    articles: Iterable[tuple[dict[str, Any], str | None]],
    sizes: tuple[int, int] = (2, 2),
    around: str | None = None,
    skip: frozenset[str] | set[str] = frozenset(),
) -> tuple[Counter, Counter, dict[str, Counter]]:
    """(occurrences, articles, occurrences per group) of every sequence of ``sizes[0]`` to
    ``sizes[1]`` words in the articles (``(record, group)`` pairs); with ``around``, only the
    sequences holding that word; sequences that begin or end with a word of ``skip`` are
    left out (a stopword at an edge: "of the")."""
    low, high = sizes
    counts: Counter = Counter()
    docs: Counter = Counter()
    by_group: dict[str, Counter] = {}
    target = fold(around) if around else None
    for record, group in articles:
        seen: set[str] = set()
        for para in paragraphs_of(record):
            ws = words_of(para)
            for n in range(low, high + 1):
                # the sequences as tuples of n words (zip of the list and its shifts), joined
                # and counted by C code: a loop in Python over every position took 4 times
                # as long
                grams: Iterable[tuple[str, ...]] = zip(*(ws[i:] for i in range(n)))
                if target is not None:
                    grams = (g for g in grams if target in g)
                if skip:
                    grams = (g for g in grams if g[0] not in skip and g[-1] not in skip)
                keys = list(map(" ".join, grams))
                counts.update(keys)
                seen.update(keys)
                if group is not None:
                    for key in keys:
                        by_group.setdefault(key, Counter())[group] += 1
        docs.update(seen)
    return counts, docs, by_group


def rank_ngrams(
    counts: Counter, docs: Counter, by_group: dict[str, Counter], min_freq: int, top: int | None
) -> list[NGram]:
    """The most frequent first (then by the articles that have them, then alphabetically)."""
    kept = [g for g, c in counts.items() if c >= min_freq]
    kept.sort(key=lambda g: (-counts[g], -docs[g], g))
    if top:
        kept = kept[:top]
    grouped = bool(by_group)
    return [
        NGram(
            g,
            counts[g],
            docs[g],
            dict(sorted(by_group.get(g, Counter()).items(), key=lambda kv: (-kv[1], kv[0])))
            if grouped
            else None,
        )
        for g in kept
    ]


# --------------------------------------------------------------------------------------------
# Keyness


class Keyword(Record):
    FIELDS = ("word", "ll", "log_ratio", "target", "target_docs", "reference", "reference_docs")

    def __init__(
        self,
        word: str,
        ll: float,
        log_ratio: float,
        target: int,
        target_docs: int,
        reference: int,
        reference_docs: int,
    ):
        self.word, self.ll, self.log_ratio = word, ll, log_ratio
        self.target, self.target_docs = target, target_docs
        self.reference, self.reference_docs = reference, reference_docs

    def to_dict(self) -> dict[str, Any]:
        return {
            "word": self.word,
            "ll": round(self.ll, 4),
            "log_ratio": round(self.log_ratio, 4),
            "target": {"count": self.target, "documents": self.target_docs},
            "reference": {"count": self.reference, "documents": self.reference_docs},
        }


def word_counts(records: Iterable[dict[str, Any]]) -> tuple[Counter, Counter, int, int]:
    """(occurrences, articles holding each word, all words, articles) of a set of articles,
    title and body."""
    counts: Counter = Counter()
    docs: Counter = Counter()
    total = n = 0
    for record in records:
        ws = words_of(f"{record.get('title') or ''}\n{record.get('body') or ''}")
        counts.update(ws)
        docs.update(set(ws))
        total += len(ws)
        n += 1
    return counts, docs, total, n


def merge_word_counts(
    a: tuple[Counter, Counter, int, int], b: tuple[Counter, Counter, int, int]
) -> tuple[Counter, Counter, int, int]:
    """The word counts of two sets of articles as one (see :func:`word_counts`)."""
    a[0].update(b[0])
    a[1].update(b[1])
    return a[0], a[1], a[2] + b[2], a[3] + b[3]


def log_likelihood(a: int, b: int, c: int, d: int) -> float:
    """Dunning's log-likelihood as Rayson and Garside compute keyness: a word seen ``a``
    times in ``c`` words of the target and ``b`` times in ``d`` words of the reference."""
    e1 = c * (a + b) / (c + d)
    e2 = d * (a + b) / (c + d)
    ll = 0.0
    if a:
        ll += a * math.log(a / e1)
    if b:
        ll += b * math.log(b / e2)
    return 2 * ll


def log_ratio(a: int, b: int, c: int, d: int) -> float:
    """Hardie's Log Ratio: the binary log of the ratio of relative frequencies (a count of 0
    taken as 0.5, so a word absent on one side has a finite effect size)."""
    return math.log2(((a or 0.5) / c) / ((b or 0.5) / d))


def rank_keywords(
    target: tuple[Counter, Counter, int, int],
    reference: tuple[Counter, Counter, int, int],
    *,
    min_freq: int = 3,
    top: int | None = 50,
    negative: bool = False,
    skip: frozenset[str] | set[str] = frozenset(),
) -> list[Keyword]:
    """Words more frequent in the target than in the reference (``negative``: less), by
    log-likelihood, with at least ``min_freq`` occurrences on their side."""
    t_counts, t_docs, c, _ = target
    r_counts, r_docs, d, _ = reference
    if not c or not d:
        return []
    words = r_counts.keys() if negative else t_counts.keys()
    out = []
    for w in words:
        if w in skip:
            continue
        a, b = t_counts.get(w, 0), r_counts.get(w, 0)
        if (b if negative else a) < min_freq:
            continue
        more = a / c > b / d
        if more == negative:
            continue
        out.append(
            Keyword(
                w, log_likelihood(a, b, c, d), log_ratio(a, b, c, d), a, t_docs[w], b, r_docs[w]
            )
        )
    out.sort(key=lambda k: (-k.ll, k.word))
    return out[:top] if top else out


# --------------------------------------------------------------------------------------------
# Dispersion


def gries_dp(occurrences: list[int], sizes: list[int]) -> tuple[float, float]:
    """Gries' DP (deviation of proportions) of a word over parts (here: articles): half the
    sum of |share of the word's occurrences in a part - share of the words in it|; 0 is
    spread as evenly as the parts' sizes, near 1 all in one small part. Also DP normalised
    (Lijffijt and Gries 2012): DP / (1 - the smallest part's share)."""
    total_occ, total_words = sum(occurrences), sum(sizes)
    if not total_occ or not total_words:
        return 0.0, 0.0
    dp = 0.5 * sum(abs(o / total_occ - s / total_words) for o, s in zip(occurrences, sizes))
    smallest = min(sizes) / total_words
    return dp, (dp / (1 - smallest) if smallest < 1 else 0.0)


def strip_plot(positions: list[int], parts: int, width: int) -> str:
    """A line of ``width`` characters over ``parts`` parts in order: ``|`` where a part in
    that stretch holds the word, ``·`` elsewhere (AntConc's concordance plot)."""
    if parts <= 0 or width <= 0:
        return ""
    cells = ["·"] * min(width, parts)
    n = len(cells)
    for p in positions:
        cells[min(n - 1, p * n // parts)] = "|"
    return "".join(cells)
