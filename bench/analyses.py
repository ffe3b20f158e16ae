#!/usr/bin/env python3
"""The research analyses at scale: kwic and collocates of a word in about 16% of the
articles, keywords of about a tenth of them (a span of dates) against the rest, n-grams
around the word. Not a test.

Usage::

    python3 bench/analyses.py --docs 100000          # synthetic wire stories (built once)
    python3 bench/analyses.py --index DIR            # an index already built
    python3 bench/analyses.py --index DIR --checkout /path/to/older/checkout   # compare

Each figure is the median of ``--repeats`` runs in one process (the index open and warm).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

MEASURE = r"""
import json, statistics, sys, time
from corpus_search.search import CorpusIndex

index, repeats = sys.argv[1], int(sys.argv[2])
ix = CorpusIndex(index)
n = ix.doc_count
words = "minister pipeline election protest bank security border government economy".split()
share = {w: ix.search(w, count_only=True).total / n for w in words}
word = min(share, key=lambda w: abs(share[w] - 0.16))
days = sorted(d for d in (r.get("published") for r in ix.records("*", timeout=3600)) if d)
target_end = days[len(days) // 10][:10]
target = f"published:[{days[0][:10]} TO {target_end}]"
target_share = ix.search(target, count_only=True).total / n

def median(fn):
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return round(statistics.median(times), 2)

print(json.dumps({
    "documents": n,
    "word": word,
    "word_share": round(share[word], 3),
    "keywords_target_share": round(target_share, 3),
    "kwic_s": median(lambda: ix.kwic(word, limit=100, timeout=3600)),
    "collocates_s": median(lambda: ix.collocates(word, timeout=3600)),
    "keywords_s": median(lambda: ix.keywords(target, timeout=3600)),
    "ngrams_s": median(lambda: ix.ngrams(word, sizes=(2, 3), timeout=3600)),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path)
    ap.add_argument("--docs", type=int, default=100000)
    ap.add_argument("--work", type=Path, default=HERE / "out" / "serve")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--checkout", type=Path, default=HERE.parent, help="measure this checkout")
    args = ap.parse_args()
    index = args.index
    if index is None:
        sys.path.insert(0, str(HERE.parent))
        sys.path.insert(0, str(HERE))
        from bench import generate  # type: ignore[attr-defined]
        from corpus_search.indexer import update_index

        corpus = args.work / f"wire-{args.docs}"
        if not corpus.exists():
            generate(corpus, args.docs, wire=True)
        index = args.work / f"index-wire-{args.docs}"
        if not index.exists():
            update_index(index, [corpus])
    checkout = args.checkout.resolve()
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(index.resolve()), str(args.repeats)],
        cwd=checkout,  # python -c puts the folder first on the path
        env=dict(os.environ, PYTHONPATH=str(checkout)),
        capture_output=True,
        text=True,
        check=True,
    )
    figures = json.loads(out.stdout)
    figures["checkout"] = str(checkout)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
