"""Corpora generated in tests, at the shape real users have.

Thousands of small files in mixed layouts (plain text with no metadata at all, YAML front
matter from two sites, the scraped header layout), fields missing in whole batches, so that
the default settings give several segments written by two writer processes. Everything is
generated from a seed: the same files on every run.

The oracle is computed from the files' parsed records (``read_articles``), never from the
index: :func:`oracle_counts` counts facets, months and words the way a user would by hand.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from pathlib import Path
from typing import Any

from corpus_search.articles import iter_files, read_articles

WORDS = (
    "sanctions gas oil grain ferry border ministry election protest court pipeline "
    "tariff harbour strike drought vaccine summit treaty convoy refinery"
).split()
AUTHORS = ["Ainur Kurmanov", "Maria Ivanova", "John Smith", "Li Wei", "Olga Petrova"]
CATEGORIES = ["Politics", "Economy", "Скандал", "Energy", "World", "Culture"]
PLACES = ["Almaty", "Riga", "Moscow", "Kyiv", "Vilnius"]

PN_TEMPLATE = """{title}
{author}
{day:02d}.{month:02d}.{year} 12:{minute:02d}
(Moscow time), {place}
Views: {views}
{categories}
{body}
Subscribe to our channel!
"""


def _body(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


def write_corpus(
    root: Path,
    plain: int = 1200,
    front: int = 500,
    scraped: int = 300,
    seed: int = 7,
    prefix: str = "",
) -> list[Path]:
    """Write the files; return their paths. ``plain`` files have only a title and a body."""
    rng = random.Random(seed)
    paths = []
    (root / "plain").mkdir(parents=True, exist_ok=True)
    for i in range(plain):
        p = root / "plain" / f"{prefix}p{i:05d}.txt"
        p.write_text(f"Plain {prefix}{i} {rng.choice(WORDS)}\n\n{_body(rng, 40)}\n", "utf-8")
        paths.append(p)
    for i in range(front):
        site = "baltic" if i % 2 else "steppe"
        folder = root / site / str(2020 + i % 3)
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"{prefix}f{i:05d}.md"
        cats = rng.sample(CATEGORIES, rng.randint(1, 3))
        meta = [
            f"title: Front {prefix}{i} {rng.choice(WORDS)}",
            f"published: {2020 + i % 3}-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+03:00",
            f"source: {site}",
            f"categories: [{', '.join(cats)}]",
        ]
        if i % 5:  # whole batches without an author or a place
            meta.append(f"author: {rng.choice(AUTHORS)}")
        if i % 3 == 0:
            meta.append(f"place: {rng.choice(PLACES)}")
        p.write_text("---\n" + "\n".join(meta) + "\n---\n\n" + _body(rng, 60) + "\n", "utf-8")
        paths.append(p)
    (root / "politnavigator").mkdir(parents=True, exist_ok=True)
    for i in range(scraped):
        p = root / "politnavigator" / f"{prefix}s{i:05d}.txt"
        p.write_text(
            PN_TEMPLATE.format(
                title=f"Scraped {prefix}{i} {rng.choice(WORDS)}",
                author=rng.choice(AUTHORS),
                day=1 + i % 28,
                month=1 + i % 12,
                year=2021 + i % 2,
                minute=i % 60,
                place=rng.choice(PLACES),
                views=rng.randint(0, 9999),
                categories=", ".join(rng.sample(CATEGORIES, 2)),
                body=_body(rng, 50) + "\n\n" + _body(rng, 30),
            ),
            "utf-8",
        )
        paths.append(p)
    return paths


def parsed_records(root: Path) -> list[dict[str, Any]]:
    return [
        a.to_dict()
        for p, r in iter_files([root])
        for a in read_articles(p, root=r)
        if not isinstance(a, Exception)
    ]


def month_of(record: dict[str, Any]) -> str | None:
    return record["published"][:7] if record["published"] else None


def oracle_counts(records: list[dict[str, Any]], field: str) -> tuple[dict[str, int], int]:
    """(value -> count, missing) for a facet, counted from parsed records."""
    counts: Counter = Counter()
    missing = 0
    for r in records:
        if field == "category":
            values = r["categories"]
        elif field == "tag":
            values = r["tags"]
        elif field == "lang":
            values = [r["language"]] if r["language"] else []
        elif field == "year":
            values = [r["published"][:4]] if r["published"] else []
        elif field == "month":
            values = [month_of(r)] if r["published"] else []
        else:
            values = [r[field]] if r[field] else []
        if not values:
            missing += 1
        # values differing in case are one value
        for v in {v.casefold(): v for v in values}.values():
            counts[v.casefold()] += 1
    return dict(counts), missing


def oracle_phrase(records: list[dict[str, Any]], words: list[str], slop: int = 0) -> int:
    """Articles whose title or body holds ``words`` in order, at most ``slop`` other words
    between each two, any case (the title and the body are not read across)."""
    gap = rf"\W+(?:\w+\W+){{0,{slop}}}"
    rx = re.compile(r"(?<!\w)" + gap.join(re.escape(w) for w in words) + r"(?!\w)", re.IGNORECASE)
    return sum(1 for r in records if rx.search(r["title"] or "") or rx.search(r["body"]))


def oracle_word(records: list[dict[str, Any]], word: str) -> int:
    """Articles whose title or body holds ``word`` as a whole word, any case."""
    rx = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)", re.IGNORECASE)
    return sum(1 for r in records if rx.search(r["title"] or "") or rx.search(r["body"]))
