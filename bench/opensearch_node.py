#!/usr/bin/env python3
"""The OpenSearch backend on a real node against the local index, on real corpora
(../shared/corpora: BBC and SemEval): push throughput (documents a second, the node's heap
stated), and the latency of a query mix on both sides. Starts a node with
integration/opensearch-node.sh unless --url names one. Not part of the tests.

    python3 bench/opensearch_node.py [--url URL] [--heap 256m] [--repeats 20]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
CORPORA = HERE.parent.parent / "shared" / "corpora"
MIX = [
    "government",
    "oil",
    "election",
    "film OR music",
    '"prime minister"',
    "trade -oil",
    "econom*",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url")
    ap.add_argument("--heap", default="256m")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--nodes", type=int, default=1, help="nodes to start (3 shards, a replica)")
    args = ap.parse_args()
    from corpus_search.articles import iter_files, read_articles
    from corpus_search.indexer import update_index
    from corpus_search.opensearch import ClusterIndex, push
    from corpus_search.search import CorpusIndex

    work = Path(tempfile.mkdtemp())
    script = HERE.parent / "integration" / "opensearch-node.sh"
    url, port = args.url, None
    if url is None:
        port = 29200
        url = subprocess.run(
            [str(script), "start", "--port", str(port), "--data", str(work / "node"),
             "--heap", args.heap, "--nodes", str(args.nodes)],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    try:
        corpus = work / "c"
        for name in ("bbc-news-2225", "semeval2023-task3-persuasion"):
            shutil.copytree(CORPORA / name, corpus / name)
        records = [
            a.to_dict()
            for p, root in iter_files([corpus])
            for a in read_articles(p, root=root)
            if not isinstance(a, Exception)
        ]
        t = time.perf_counter()
        update_index(work / "ix", [corpus])
        local_build = time.perf_counter() - t
        node = ClusterIndex(url, "bench")
        if args.nodes > 1:  # three shards with a replica each, spread over the nodes
            from corpus_search.opensearch import settings_and_mapping

            body = settings_and_mapping()
            body["settings"].update(number_of_shards=3, number_of_replicas=1)
            node.client.indices.create(index="bench", body=body)
        t = time.perf_counter()
        report = push(node, records, chunk=500)
        node.client.indices.refresh(index="bench")
        push_s = time.perf_counter() - t
        print(
            f"{len(records)} articles: push {push_s:.1f} s ({report.added / push_s:.0f} docs/s, "
            f"{args.nodes} node(s), heap {args.heap} each); local build {local_build:.1f} s"
        )
        with CorpusIndex(work / "ix") as local:
            for label, ix in (("local", local), ("node", node)):
                times = []
                for q in MIX:
                    best = []
                    for _ in range(args.repeats):
                        t = time.perf_counter()
                        ix.search(q, limit=10)
                        best.append(time.perf_counter() - t)
                    times.append(min(best) * 1000)
                print(f"{label}: query mix median {statistics.median(times):.1f} ms "
                      + ", ".join(f"{q!r} {m:.1f}" for q, m in zip(MIX, times)))  # fmt: skip
        node.client.indices.delete(index="bench")
        node.close()
    finally:
        if port is not None:
            subprocess.run([str(script), "stop", "--port", str(port), "--data", str(work / "node")])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
