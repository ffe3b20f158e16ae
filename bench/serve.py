#!/usr/bin/env python3
"""The resident server under load: requests per second and latency at 1, 4 and 16 clients,
a search beside two long analyses, and an export's memory and first line. Not a test.

Usage::

    python3 bench/serve.py --corpus ../shared/corpora/bbc-news-2225   # a real corpus
    python3 bench/serve.py --docs 20000                               # synthetic wire stories
    python3 bench/serve.py --index bench/out/serve/index              # an index already built

Clients are threads speaking HTTP to ``serve --http`` (one connection a request, as curl or
a notebook does); each figure is over every request of its round. The analyses are
``collocates`` of a frequent word with ``--timeout`` high enough to finish.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

QUERIES = ["government", "oil OR gas", '"prime minister"', "minister -election", "bank*", "year"]


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


class Served:
    """A ``corpus-search serve --http 0`` process."""

    def __init__(self, index: Path, checkout: Path = HERE.parent):
        env = dict(os.environ, PYTHONPATH=str(checkout))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "corpus_search", "serve", "--index", str(index), "--http", "0"],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=checkout,  # python -m puts the folder first on the path
        )
        first = self.proc.stderr.readline()
        m = re.match(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", first)
        if not m:
            raise SystemExit(f"the server did not start: {first}{self.proc.stderr.read()}")
        self.port, self.token = int(m.group(1)), m.group(2)
        self.proc.stderr.readline()  # serving ...

    def get(self, path: str) -> tuple[float, int, int]:
        """(ms, status, bytes) of one GET."""
        sep = "&" if "?" in path else "?"
        t0 = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request(
            "GET", f"{path}{sep}token={self.token}", headers={"Host": f"127.0.0.1:{self.port}"}
        )
        r = conn.getresponse()
        size = len(r.read())
        conn.close()
        return (time.perf_counter() - t0) * 1000, r.status, size

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(60)


def search_path(i: int) -> str:
    return f"/search?q={quote(QUERIES[i % len(QUERIES)])}&limit=10"


def round_of(server: Served, clients: int, per_client: int) -> dict:
    """``clients`` threads, each sending ``per_client`` searches one after another."""
    times: list[float] = []
    errors = 0
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)

    def client(n: int) -> None:
        nonlocal errors
        start.wait()
        for i in range(per_client):
            ms, status, _ = server.get(search_path(n + i))
            with lock:
                times.append(ms)
                errors += status != 200

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    start.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {
        "clients": clients,
        "requests": len(times),
        "errors": errors,
        "rps": round(len(times) / wall, 1),
        "p50_ms": round(pct(times, 50), 1),
        "p99_ms": round(pct(times, 99), 1),
    }


def beside_analyses(server: Served, word: str, searches: int) -> dict:
    """Search latency alone, then while two collocates requests run the whole time."""
    idle = [server.get(search_path(i))[0] for i in range(searches)]
    stop = threading.Event()
    analysis_ms: list[float] = []

    def analyse() -> None:
        while not stop.is_set():
            ms, status, _ = server.get(f"/collocates?q={quote(word)}&timeout=600")
            assert status == 200, status
            analysis_ms.append(ms)

    threads = [threading.Thread(target=analyse) for _ in range(2)]
    for t in threads:
        t.start()
    time.sleep(0.5)  # both analyses under way (a benchmark, not a test: timing is its job)
    busy = [server.get(search_path(i))[0] for i in range(searches)]
    stop.set()
    for t in threads:
        t.join()
    return {
        "idle_search_p50_ms": round(statistics.median(idle), 1),
        "search_beside_two_analyses_p50_ms": round(statistics.median(busy), 1),
        "ratio": round(statistics.median(busy) / statistics.median(idle), 2),
        "analysis_median_ms": round(statistics.median(analysis_ms), 1) if analysis_ms else None,
    }


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def export_figures(server: Served, index: Path) -> dict:
    """An export of the whole index through HTTP (the bytes, the server's and its worker's
    memory, sampled), and ``export '*' | head -1`` through the socket and in-process."""
    peak = {"server": rss_kb(server.proc.pid), "worker": 0}
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak["server"] = max(peak["server"], rss_kb(server.proc.pid))
            for child in children(server.proc.pid):
                peak["worker"] = max(peak["worker"], rss_kb(child))
            time.sleep(0.02)

    before = rss_kb(server.proc.pid)
    sampler = threading.Thread(target=sample)
    sampler.start()
    ms, status, size = server.get("/export?q=*")
    done.set()
    sampler.join()
    if status != 200:  # a server without the endpoint (--checkout of an older one)
        return {}
    env = dict(os.environ, PYTHONPATH=str(HERE.parent))
    head = {}
    for label, extra in (("served", {}), ("in_process", {"CORPUS_SEARCH_NO_SERVER": "1"})):
        runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            subprocess.run(
                f"{sys.executable} -m corpus_search export '*' --index {index} | head -1 > /dev/null",
                shell=True,
                env={**env, **extra},
                check=True,
            )
            runs.append((time.perf_counter() - t0) * 1000)
        head[f"export_head_1_{label}_ms"] = round(statistics.median(runs), 1)
    return {
        "export_mb": round(size / 1e6, 1),
        "export_ms": round(ms, 1),
        "server_rss_mb_before": round(before / 1024, 1),
        "server_rss_mb_peak": round(peak["server"] / 1024, 1),
        "worker_rss_mb_peak": round(peak["worker"] / 1024, 1),
        **head,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index", type=Path, help="an index already built")
    ap.add_argument("--corpus", type=Path, help="index this folder first")
    ap.add_argument("--docs", type=int, default=20000, help="synthetic wire stories otherwise")
    ap.add_argument("--work", type=Path, default=HERE / "out" / "serve")
    ap.add_argument("--per-client", type=int, default=60, help="searches each client sends")
    ap.add_argument("--word", default="government", help="the analyses' word")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    ap.add_argument(
        "--checkout", type=Path, default=HERE.parent, help="serve with this checkout's package"
    )
    args = ap.parse_args()

    from corpus_search.indexer import update_index

    index = args.index
    if index is None:
        corpus = args.corpus
        if corpus is None:
            from bench import generate  # type: ignore[attr-defined]

            corpus = args.work / f"wire-{args.docs}"
            if not corpus.exists():
                generate(corpus, args.docs, wire=True)
        index = args.work / f"index-{corpus.name}"
        if not index.exists():
            t0 = time.perf_counter()
            update_index(index, [corpus])
            print(f"built {index} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    from corpus_search.search import CorpusIndex

    with CorpusIndex(index) as ix:
        docs = ix.doc_count
    server = Served(index.resolve(), args.checkout.resolve())
    try:
        server.get(search_path(0))
        figures = {
            "index": str(index),
            "documents": docs,
            "cpus": os.cpu_count(),
            "rounds": [round_of(server, n, args.per_client) for n in (1, 4, 16)],
            **beside_analyses(server, args.word, 40),
            **export_figures(server, index),
        }
    finally:
        server.stop()
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
