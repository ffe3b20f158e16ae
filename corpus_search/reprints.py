"""Reprints: articles that are the same story, republished by another site with another
headline, its own header and footer, changed typography, a paragraph added or cut.

At index time each article's body gets a sketch (:func:`sketch`): how many distinct word
5-grams ("shingles") it has, and the 128 smallest of their hashes, after folding case and
dropping punctuation, so typography does not matter. Headlines are left out: reprints change
them. Two sketches estimate the Jaccard index J of the two shingle sets (bottom-k MinHash: of
the 128 smallest hashes of the union, the share found in both), hence the shared shingles
|A∩B| = J(|A|+|B|)/(1+J), and the similarity reported is the overlap coefficient
|A∩B| / min(|A|,|B|): how much of the shorter article is found in the longer one. A short
article republished whole inside a longer one counts as a reprint too.

The sketch is stored in a column, so it is computed once per file and kept up to date as files
arrive, change and go, like every other field. At query time :func:`similar_pairs` finds the
pairs at or above a threshold among the documents asked about (candidates from an inverted list
of sketch values: near-duplicates share many of their smallest hashes, so the work is near
linear in the number of documents), and :func:`groups` joins them into clusters.
"""

from __future__ import annotations

import heapq
import itertools
import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .vocab import WORD_RE, fold

K = 128  # hashes kept per article
SHINGLE = 5  # words per shingle
MIN_SHINGLES = 16  # shorter bodies are too short to tell a reprint from a coincidence
MAX_SHARED_LIST = 500  # a hash shared by more articles than this is boilerplate, not a story
CHECK_EVERY = 200_000  # pairs counted between two calls of similar_pairs' check


def sketch(body: str) -> bytes:
    """The number of distinct shingles, then the bottom-K hashes of the body's word 5-grams, as
    bytes (empty for a short body)."""
    words = WORD_RE.findall(fold(body))
    n = len(words) - SHINGLE + 1
    if n < MIN_SHINGLES:
        return b""
    encoded = [w.encode("utf-8") for w in words]
    crc, join = zlib.crc32, b" ".join
    hashes = {crc(join(encoded[i : i + SHINGLE])) for i in range(n)}
    return array("I", [len(hashes), *heapq.nsmallest(K, hashes)]).tobytes()


def unpack(raw: bytes) -> tuple[int, ...]:
    """(number of shingles, hash, hash, ...), or () for no sketch."""
    if not raw:
        return ()
    values = array("I")
    values.frombytes(raw)
    return tuple(values)


def jaccard(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard index of two articles' shingle sets, from their sketches."""
    if not a or not b:
        return 0.0
    sa, sb = set(a[1:]), set(b[1:])
    union = sorted(sa | sb)[:K]
    return sum(1 for h in union if h in sa and h in sb) / len(union)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated overlap coefficient |A∩B| / min(|A|,|B|) of two articles' shingle sets."""
    j = jaccard(a, b)
    if not j:
        return 0.0
    shared = j * (a[0] + b[0]) / (1 + j)
    return min(1.0, shared / min(a[0], b[0]))


def similar_pairs(
    sketches: dict[int, tuple[int, ...]],
    threshold: float,
    check: Callable[[], None] | None = None,
) -> list[tuple[int, int, float]]:
    """Pairs of documents whose estimated similarity is at least ``threshold``. ``check`` is
    called between steps of the work (a deadline's check: it raises to stop it).

    Most sketch values belong to one document only (12.8 million values, 100,000 long
    articles): they are counted in C first, and only the shared ones are listed per value
    (the lists were built for every value: 18 of 19 s there)."""
    check = check or (lambda: None)
    counts = Counter(itertools.chain.from_iterable(v[1:] for v in sketches.values()))
    check()
    wanted = {h for h, n in counts.items() if 1 < n <= MAX_SHARED_LIST}
    del counts
    check()
    holders: dict[int, list[int]] = defaultdict(list)
    for doc, values in sketches.items():
        common = wanted.intersection(values[1:])
        if common:  # in the sketch's order, as before: the same pairs in the same order
            for h in values[1:]:
                if h in common:
                    holders[h].append(doc)
    check()
    shared: Counter = Counter()
    steps = 0
    for docs in holders.values():
        docs.sort()
        for i, a in enumerate(docs):
            for b in docs[i + 1 :]:
                shared[(a, b)] += 1
        steps += len(docs) * (len(docs) - 1) // 2
        if steps >= CHECK_EVERY:
            check()
            steps = 0
    # two sketches with Jaccard index j share about j*K of their values: a pair sharing under
    # a pair whose sketches share few values has a small Jaccard index; the overlap can still
    # be high when one article is much longer, so the bar for looking closer is low
    need = max(3, K // 16)
    out = []
    check()
    for (a, b), n in shared.items():
        if n >= need:
            s = similarity(sketches[a], sketches[b])
            if s >= threshold:
                out.append((a, b, s))
    return out


def groups(pairs: Iterable[tuple[int, int, float]]) -> list[set[int]]:
    """Connected documents (union-find over the similar pairs)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, _ in pairs:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    out: dict[int, set[int]] = defaultdict(set)
    for x in parent:
        out[find(x)].add(x)
    return list(out.values())


@dataclass
class Member:
    id: str
    title: str | None
    source: str | None
    published: str | None
    similarity: float  # to the cluster's first member
    site: str | None = None  # the host of the member's address

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "source": self.source,
            "site": self.site,
            "published": self.published,
            "similarity": round(self.similarity, 3),
        }


@dataclass
class Cluster:
    members: list[Member]  # oldest first

    @property
    def first(self) -> Member:
        return self.members[0]

    @property
    def sources(self) -> list[str]:
        seen: dict[str, None] = {}
        for m in self.members:
            if m.source:
                seen.setdefault(m.source, None)
        return list(seen)

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": len(self.members),
            "sources": self.sources,
            "first": {
                "id": self.first.id,
                "source": self.first.source,
                "site": self.first.site,
                "published": self.first.published,
            },
            "members": [m.to_dict() for m in self.members],
        }


@dataclass
class Reprints:
    threshold: float
    min_size: int
    articles: int  # documents looked at
    clusters: list[Cluster] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "min_size": self.min_size,
            "articles": self.articles,
            "total": len(self.clusters),
            "clusters": [c.to_dict() for c in self.clusters],
        }


def oldest_first(published: str | None, ts: int | None, doc: int) -> tuple:
    """Sort key: dated articles by their instant, undated ones after them."""
    return (0, ts, doc) if published and ts is not None else (1, 0, doc)
