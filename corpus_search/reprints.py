"""Reprints: articles that are the same story, republished by another site with another
headline, its own header and footer, changed typography, a paragraph added or cut.

At index time each article's body gets a sketch (:func:`sketch`): the 64 smallest hashes of
its word 5-grams ("shingles"), after folding case and dropping punctuation, so typography does
not matter. Two sketches estimate the Jaccard similarity of the two articles' shingle sets
(bottom-k MinHash: of the 64 smallest hashes of the union, the share found in both). The
sketch is stored in a column, so it is computed once per file and kept up to date as files
arrive, change and go, like every other field.

At query time :func:`cluster` finds the pairs whose estimate reaches the threshold, among the
documents asked about, and joins them into clusters; the earliest published member of a
cluster is its likely origin. Candidate pairs come from an inverted list of sketch values (two
near-duplicates share most of their smallest hashes), so the work is near linear in the number
of documents, not quadratic.
"""

from __future__ import annotations

import zlib
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .vocab import WORD_RE, fold

K = 64  # hashes kept per article
SHINGLE = 5  # words per shingle
MIN_SHINGLES = 16  # shorter bodies are too short to tell a reprint from a coincidence
MAX_SHARED_LIST = 500  # a hash shared by more articles than this is boilerplate, not a story


def sketch(body: str) -> bytes:
    """The bottom-K hashes of the body's word 5-grams, as bytes (empty for a short body)."""
    words = [fold(w) for w in WORD_RE.findall(body)]
    if len(words) - SHINGLE + 1 < MIN_SHINGLES:
        return b""
    hashes = {zlib.crc32(" ".join(words[i : i + SHINGLE]).encode("utf-8"))
              for i in range(len(words) - SHINGLE + 1)}
    return array("I", sorted(hashes)[:K]).tobytes()


def unpack(raw: bytes) -> tuple[int, ...]:
    if not raw:
        return ()
    values = array("I")
    values.frombytes(raw)
    return tuple(values)


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two articles from their sketches."""
    if not a or not b:
        return 0.0
    sa, sb = set(a), set(b)
    union = sorted(sa | sb)[: min(K, len(sa | sb))]
    return sum(1 for h in union if h in sa and h in sb) / len(union)


def similar_pairs(sketches: dict[int, tuple[int, ...]], threshold: float) -> list[tuple[int, int, float]]:
    """Pairs of documents whose estimated similarity is at least ``threshold``."""
    holders: dict[int, list[int]] = defaultdict(list)
    for doc, values in sketches.items():
        for h in values:
            holders[h].append(doc)
    shared: Counter = Counter()
    for docs in holders.values():
        if 1 < len(docs) <= MAX_SHARED_LIST:
            docs.sort()
            for i, a in enumerate(docs):
                for b in docs[i + 1 :]:
                    shared[(a, b)] += 1
    # two sketches of similarity s share about s*K of their values (a little less): a pair
    # sharing under half of that cannot reach the threshold
    need = max(2, int(threshold * K * 0.5))
    out = []
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

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "source": self.source,
                "published": self.published, "similarity": round(self.similarity, 3)}


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
        return {"size": len(self.members), "sources": self.sources,
                "first": {"id": self.first.id, "source": self.first.source,
                          "published": self.first.published},
                "members": [m.to_dict() for m in self.members]}


@dataclass
class Reprints:
    threshold: float
    min_size: int
    articles: int  # documents looked at
    clusters: list[Cluster] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "min_size": self.min_size,
                "articles": self.articles, "total": len(self.clusters),
                "clusters": [c.to_dict() for c in self.clusters]}


def oldest_first(published: str | None, ts: int | None, doc: int) -> tuple:
    """Sort key: dated articles by their instant, undated ones after them."""
    return (0, ts, doc) if published and ts is not None else (1, 0, doc)
