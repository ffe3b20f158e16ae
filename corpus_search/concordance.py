"""Concordance (KWIC) and collocates: every occurrence of a query's matches in context, and the
words that keep them company. Both find the matched positions the way snippets do
(:func:`corpus_search.snippets.find_matches`), so what KWIC shows is what a snippet marks.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .snippets import MatchSpec, find_matches
from .vocab import WORD_RE, fold

KWIC_SORTS = ("date", "left", "right", "source")
MEASURES = ("llr", "pmi", "count")

#: Common words, hidden by ``collocates --no-stopwords`` (shown by default: the choice is the
#: researcher's). The languages of the sample corpora.
STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into about than then so
    is are was were be been being has have had do does did not no it its this that these
    those he she they we you i his her their our your him them us me my who which what
    when where while will would can could should may might must also there here up out
    over more most such only other some any all each said says say one two new after before
    и в во не на что с со по как это он она они мы вы я из за то к ко но от а для о об же
    так его ее её их был была было были быть бы ли уже еще ещё или при до после также""".split()
) | frozenset(
    " ".join(
        (
            "the and of to in is that for it was on with as by at from this be are have not but",
            "і в не на що з по як це він та до але від за для й її є ще",
            "der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als",
            "le la les de des et un une du en est que pour dans qui pas sur au par",
            "il di che la e le un per in del è non una della con sono gli da",
            "el la de que y en los del se las por un para con una su al es",
            "o a os as de do da dos das em no na um uma para com por que não se",
            "i w nie na się z do że to jest jak o po przez dla są od oraz",
        )
    ).split()
)


def stopwords_for(languages: Iterable[str]) -> frozenset[str]:
    """The common words of the given languages (and English and Russian, whose words any
    index holds): the stopwords-iso lists (58 languages, maintained), folded as words are
    (lower case, ё as е, and each accented word also without accents), beside
    :data:`STOPWORDS`."""
    import stopwordsiso

    from .vocab import fold, fold_accents

    known = set(stopwordsiso.langs())
    out = set(STOPWORDS)
    for lang in {*languages, "en", "ru"} & known:
        for w in stopwordsiso.stopwords(lang):
            folded = fold(w)
            out.add(folded)
            out.add(fold_accents(folded))
    return frozenset(out)


@dataclass
class KwicLine:
    id: str
    title: str | None
    source: str | None
    published: str | None
    left: str
    match: str
    right: str
    lemma: str | None = None  # with --lemma: the lexeme of the match (its words' lemmas)
    language: str | None = None
    #: Where the match is: ``title`` or ``body``, and which occurrence there (0: the first),
    #: as :meth:`CorpusIndex.marked` numbers them (the page links a line to its mark).
    part: str = "body"
    occurrence: int = 0

    def to_dict(self) -> dict[str, Any]:
        out = {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "published": self.published,
            "left": self.left,
            "match": self.match,
            "right": self.right,
        }
        if self.lemma is not None:
            out["lemma"] = self.lemma
        return out


@dataclass
class Concordance:
    query: str
    articles: int  # matching articles
    total: int  # occurrences in them
    lines: list[KwicLine] = field(default_factory=list)
    sort: str = "date"
    width: int = 40

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "articles": self.articles,
            "total": self.total,
            "sort": self.sort,
            "width": self.width,
            "lines": [line.to_dict() for line in self.lines],
        }


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def occurrences(text: str, spec: MatchSpec) -> list[tuple[int, int]]:
    """Character spans of every match of ``spec`` in ``text``."""
    return [(s, e) for s, e, _ in find_matches(text, spec)] if text else []


def kwic_lines(
    record: dict[str, Any], title_spec: MatchSpec, body_spec: MatchSpec, width: int
) -> Iterator[KwicLine]:
    """One line per occurrence in the title, then in the body, ``width`` characters each side."""
    for part, text, spec in (
        ("title", record.get("title") or "", title_spec),
        ("body", record.get("body") or "", body_spec),
    ):
        for n, (start, end) in enumerate(occurrences(text, spec)):
            left = _flat(text[max(0, start - width * 2) : start])[-width:]
            right = _flat(text[end : end + width * 2])[:width]
            yield KwicLine(
                record["id"],
                record.get("title"),
                record.get("source"),
                record.get("published"),
                left,
                _flat(text[start:end]),
                right,
                language=record.get("language"),
                part=part,
                occurrence=n,
            )


def sort_lines(lines: list[KwicLine], by: str) -> list[KwicLine]:
    """``left``: by the words to the left, nearest first; ``right``: by the words to the
    right (as AntConc does); ``date``: oldest first; ``source``: by site, then date."""
    if by == "left":
        return sorted(lines, key=lambda x: [fold(w) for w in reversed(WORD_RE.findall(x.left))])
    if by == "right":
        return sorted(lines, key=lambda x: [fold(w) for w in WORD_RE.findall(x.right)])
    if by == "source":
        return sorted(lines, key=lambda x: ((x.source or "\uffff").casefold(), x.published or ""))
    return sorted(lines, key=lambda x: (x.published or "\uffff", x.id))


# --------------------------------------------------------------------------------------------
# Collocates


@dataclass
class Collocate:
    word: str
    count: int  # co-occurrences within the window
    frequency: int  # occurrences in the whole index
    score: float
    forms: list[str] | None = None  # with --lemma: the forms counted as this word

    def to_dict(self) -> dict[str, Any]:
        out = {
            "word": self.word,
            "count": self.count,
            "frequency": self.frequency,
            "score": round(self.score, 4),
        }
        if self.forms is not None:
            out["forms"] = self.forms
        return out


@dataclass
class Collocates:
    query: str
    window: int
    measure: str
    articles: int
    occurrences: int
    collocates: list[Collocate] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "window": self.window,
            "measure": self.measure,
            "articles": self.articles,
            "occurrences": self.occurrences,
            "collocates": [c.to_dict() for c in self.collocates],
        }


def window_words(text: str, spec: MatchSpec, window: int) -> tuple[int, Counter]:
    """(matches in ``text``, folded words within ``window`` words of a match, each word
    position counted once even when two matches are near it; the matches themselves left out)."""
    spans = occurrences(text, spec)
    if not spans:
        return 0, Counter()
    tokens = list(WORD_RE.finditer(text))  # folded below only where near a match
    starts = [m.start() for m in tokens]
    import bisect

    matched: set[int] = set()
    centres: list[tuple[int, int]] = []
    for s, e in spans:
        first = bisect.bisect_left(starts, s)
        last = bisect.bisect_left(starts, e) - 1
        if first <= last:
            matched.update(range(first, last + 1))
            centres.append((first, last))
    near: set[int] = set()
    for first, last in centres:
        near.update(range(max(0, first - window), first))
        near.update(range(last + 1, min(len(tokens), last + 1 + window)))
    return len(centres), Counter(fold(tokens[i].group()) for i in near - matched)


def llr(k: int, window_total: int, frequency: int, total: int) -> float:
    """Dunning's log-likelihood (G2) of seeing a word ``k`` times in the windows (of
    ``window_total`` words) given ``frequency`` in a corpus of ``total`` words."""
    o11 = k
    o12 = max(window_total - k, 0)
    o21 = max(frequency - k, 0)
    o22 = max(total - window_total - frequency + k, 0)
    n = o11 + o12 + o21 + o22
    if not n:
        return 0.0
    g = 0.0
    for o, row, col in (
        (o11, o11 + o12, o11 + o21),
        (o12, o11 + o12, o12 + o22),
        (o21, o21 + o22, o11 + o21),
        (o22, o21 + o22, o12 + o22),
    ):
        e = row * col / n
        if o > 0 and e > 0:
            g += o * math.log(o / e)
    g *= 2
    return g if o11 * n >= (o11 + o12) * (o11 + o21) else -g  # negative: less than expected


def pmi(k: int, window_total: int, frequency: int, total: int) -> float:
    if not (k and window_total and frequency and total):
        return 0.0
    return math.log2(k * total / (window_total * frequency))


def rank_collocates(
    counts: Counter, frequency_of, total: int, measure: str, top: int, hide: Iterable[str] = ()
) -> list[Collocate]:
    hidden = set(hide)
    window_total = sum(counts.values())
    out = []
    for word, k in counts.items():
        if word in hidden:
            continue
        freq = max(frequency_of(word), k)
        if measure == "count":
            score = float(k)
        elif measure == "pmi":
            score = pmi(k, window_total, freq, total)
        else:
            score = llr(k, window_total, freq, total)
        out.append(Collocate(word, k, freq, score))
    out.sort(key=lambda c: (-c.score, -c.count, c.word))
    return out[:top]
