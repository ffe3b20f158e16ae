#!/usr/bin/env python3
"""Top-10 agreement of corpus-search's ranking with a BM25 computed independently from the
raw text of a real corpus (../shared/corpora/bbc-news-2225, 2,225 BBC stories nobody here
wrote): Snowball English stems (one term per stem), the title counted twice, k1 = 1.2,
b = 0.75, exact lengths. For each of the words below, the share of the independent top 10
that corpus-search's top 10 holds; ties broken by id on both sides. Not part of the tests.

    python3 bench/ranking_agreement.py [--before CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "bbc-news-2225"
WORDS = (
    "oil gas trade trading market markets shares bank banks election elections minister "
    "government film music game games player players court police tax taxes economy growth "
    "prices price profit profits sales company companies deal deals record records win wins "
    "winning labour tory blair brown chelsea arsenal mobile phone phones internet software "
    "china japan europe dollar euro strike strikes drug drugs"
).split()
WORD = re.compile(r"\w+")


def independent(folder: Path) -> dict[str, list[str]]:
    import Stemmer

    stem = Stemmer.Stemmer("english").stemWord
    docs = []
    for p in sorted(folder.rglob("*.txt")):
        text = p.read_bytes().decode("utf-8", "replace")
        lines = text.strip().split("\n", 1)
        title, body = lines[0], lines[1] if len(lines) > 1 else ""
        tokens = [stem(w) for w in WORD.findall(f"{title} {title} {body}".lower())]
        docs.append((p.relative_to(folder).as_posix(), Counter(tokens), len(tokens)))
    n = len(docs)
    avg = sum(d[2] for d in docs) / n
    out = {}
    for w in WORDS:
        s = stem(w)
        df = sum(1 for _, c, _ in docs if c[s])
        idf = math.log(n / (df + 1)) + 1
        scores = {
            i: idf * 2.2 * c[s] / (c[s] + 1.2 * (0.25 + 0.75 * length / avg))
            for i, c, length in docs
            if c[s]
        }
        out[w] = sorted(scores, key=lambda d: (-round(scores[d], 9), d))[:10]
    return out


def engine(root: Path, corpus: Path, index: Path) -> dict[str, list[str]]:
    code = (
        "import json,sys; sys.path.insert(0, %r)\n"
        "from corpus_search.indexer import update_index\n"
        "from corpus_search.search import CorpusIndex\n"
        "update_index(%r, [%r])\n"
        "out = {}\n"
        "with CorpusIndex(%r) as ix:\n"
        "    for w in %r:\n"
        "        out[w] = [h.record['id'] for h in ix.search(w, limit=10, snippets=False).hits]\n"
        "print(json.dumps(out))\n"
    ) % (str(root), str(index), str(corpus), str(index), WORDS)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def cluster(url: str, corpus: Path) -> dict[str, list[str]]:
    """The same stories pushed to an OpenSearch node (integration/opensearch-node.sh), the
    words' top 10 there."""
    sys.path.insert(0, str(HERE.parent))
    from corpus_search.articles import iter_files, read_articles
    from corpus_search.opensearch import ClusterIndex, push

    records = [
        a.to_dict()
        for p, root in iter_files([corpus])
        for a in read_articles(p, root=root)
        if not isinstance(a, Exception)
    ]
    name = "ranking-agreement"
    node = ClusterIndex(url, name)
    try:
        push(node, records)
        node.client.indices.refresh(index=name)
        return {w: [h.record["id"] for h in node.search(w, limit=10).hits] for w in WORDS}
    finally:
        node.client.indices.delete(index=name)
        node.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path)
    ap.add_argument("--opensearch", metavar="URL", help="also compare with a node's top 10")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    corpus = work / "bbc"
    shutil.copytree(CORPUS, corpus)
    want = independent(corpus)
    for label, root in (("before", args.before), ("now", HERE.parent)):
        if root is None:
            continue
        got = engine(root, corpus, work / f"ix-{label}")
        overlaps = {w: len(set(got[w]) & set(want[w])) / max(1, len(want[w])) for w in WORDS}
        mean = sum(overlaps.values()) / len(overlaps)
        exact = sum(1 for w in WORDS if got[w] == want[w])
        low = sorted(overlaps.items(), key=lambda kv: kv[1])[:6]
        print(
            f"{label}: mean top-10 overlap {mean:.2f} over {len(WORDS)} words; "
            f"identical order for {exact}; lowest: {low}"
        )
    if args.opensearch:
        sys.path.insert(0, str(HERE.parent))
        from corpus_search.search import CorpusIndex

        there = cluster(args.opensearch, corpus)
        with CorpusIndex(work / "ix-now") as ix:
            here = {w: [h.record["id"] for h in ix.search(w, limit=10).hits] for w in WORDS}
        node_vs_local = [len(set(there[w]) & set(here[w])) / max(1, len(here[w])) for w in WORDS]
        node_vs_oracle = [len(set(there[w]) & set(want[w])) / max(1, len(want[w])) for w in WORDS]
        print(
            f"node: mean top-10 overlap with corpus-search {sum(node_vs_local) / len(WORDS):.2f}"
            f", with the independent BM25 {sum(node_vs_oracle) / len(WORDS):.2f}"
        )
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
