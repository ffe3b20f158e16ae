#!/usr/bin/env python3
"""corpus-search benchmark: indexing throughput, updates, query latency, facets, CLI start-up,
and the same query mix on the same corpus with ripgrep and SQLite FTS5.

Not part of the test suite. Usage::

    python3 bench/bench.py                      # 20,000 synthetic articles in bench/out/
    python3 bench/bench.py --docs 100000
    python3 bench/bench.py --corpus ~/my/corpus --queries 'word1' 'word2'
    python3 bench/bench.py --skip-peers --json bench/out/result.json

The synthetic corpus is in the seed's layout (header, boilerplate, calendar widget), with a
fixed random seed, Zipf-distributed vocabulary, some Russian articles, 60 authors, 90
categories, 40 places and dates over five years.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

# ------------------------------------------------------------------------------------------
# Synthetic corpus

SYLLABLES = (
    "ka ra to mi sa ne lo vi da re pa ku ti mo na li be sho zu ga fe ro den tal mar "
    "ven ost ist ung ter pro con dis ment tion al ic ous ive ate ure"
).split()
RU_SYLLABLES = (
    "ка ра то ми са не ло ви да ре па ку ти мо на ли бе шо зу га ве ст ни ов ой ая ие".split()
)
COMMON = (
    "the of and to in a is that for on was with as by at from it this be are have has "
    "said not but which its after were had been their more will would about than also "
    "who they or an new one two over"
).split()
DOMAIN = (
    "year people government country minister sanctions years sanction governments ministry "
    "election elections pipeline gas "
    "border security military troops president parliament opposition protest protests "
    "economy inflation bank banks export exports grain wheat energy oil nuclear treaty "
    "alliance summit ambassador embassy diplomat diplomats referendum region regional"
).split()
RU_COMMON = "и в не на что с по как это он из за то к но от а для о же так его".split()
RU_DOMAIN = "санкции санкций правительство министр выборы граница газ нефть экономика банк".split()


def _vocab(rng: random.Random, n: int, syllables) -> list[str]:
    words = set()
    while len(words) < n:
        words.add("".join(rng.choice(syllables) for _ in range(rng.choice((2, 2, 3, 3, 4)))))
    return sorted(words)


class Generator:
    """Articles in the seed's layout. ``wire=True`` makes short news-wire stories (~1 KB: the
    header and two to six short paragraphs, no site boilerplate), the shape of the real
    news-wire corpus issue 15 was measured on."""

    def __init__(self, seed: int = 20211, wire: bool = False):
        self.rng = random.Random(seed)
        self.wire = wire
        rng = self.rng
        self.en = _vocab(rng, 30000, SYLLABLES)
        self.ru = _vocab(rng, 12000, RU_SYLLABLES)
        self.en_cum = list(itertools.accumulate(1 / (i + 1) ** 1.05 for i in range(len(self.en))))
        self.ru_cum = list(itertools.accumulate(1 / (i + 1) ** 1.05 for i in range(len(self.ru))))
        self.domain_cum = {
            name: list(itertools.accumulate(1 / (i + 1) for i in range(len(words))))
            for name, words in (("en", DOMAIN), ("ru", RU_DOMAIN))
        }
        self.authors = [
            f"{rng.choice(['Ainur', 'Oleg', 'Dmitry', 'Marat', 'Dana', 'Inga', 'Peeter', 'Olga', 'Ivan', 'Aigul'])} "
            f"{rng.choice(self.en).capitalize()}ov"
            for _ in range(60)
        ]
        self.categories = [w.capitalize() for w in rng.sample(self.en[:3000], 80)] + [
            "Скандал",
            "Политика",
            "Экономика",
            "Россия",
            "Украина",
            "Казахстан",
            "Общество",
            "Армия",
            "Выборы",
            "Санкции",
        ]
        self.places = [w.capitalize() for w in rng.sample(self.en[:5000], 40)]

    def words(self, n: int, ru: bool) -> list[str]:
        rng = self.rng
        vocab, cum = (self.ru, self.ru_cum) if ru else (self.en, self.en_cum)
        common, domain = (RU_COMMON, RU_DOMAIN) if ru else (COMMON, DOMAIN)
        out = rng.choices(vocab, cum_weights=cum, k=n)
        for i in range(0, n, 3):
            out[i] = rng.choice(common)
        dcum = self.domain_cum["ru" if ru else "en"]
        picks = rng.choices(domain, cum_weights=dcum, k=len(range(1, n, 11)))
        for i, w in zip(range(1, n, 11), picks):
            out[i] = w
        return out

    def paragraph(self, ru: bool) -> str:
        n = self.rng.randint(12, 30) if self.wire else self.rng.randint(25, 90)
        w = self.words(n, ru)
        if not ru and self.rng.random() < 0.04:
            k = self.rng.randrange(0, n - 2)
            w[k : k + 2] = ["open", "skies"]
        text = " ".join(w)
        return text[0].upper() + text[1:] + "."

    def article(self, i: int) -> tuple[str, bytes]:
        rng = self.rng
        ru = rng.random() < 0.2
        title = " ".join(self.words(rng.randint(6, 14), ru)).capitalize()
        paras = [
            self.paragraph(ru) for _ in range(rng.randint(*((2, 6) if self.wire else (4, 14))))
        ]
        year = rng.randint(2019, 2024)
        date = f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.{year} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
        cats = ", ".join(rng.sample(self.categories, rng.randint(2, 7)))
        nb = "\u00a0"
        lines = [
            title,
            "",
            f"{rng.choice(self.authors)}.{nb} {nb} ",
            date,
            f"{nb} {nb} (Moscow time), {rng.choice(self.places)}",
        ]
        if rng.random() < 0.9:
            lines.append(f"Views: {int(rng.paretovariate(1.2) * 300)}")
        lines += [nb, cats, "", ""]
        if self.wire:
            body = "\n\n".join(paras)
            name = f"{year}/{i // 1000:03d}/{i:06d}.txt"
            return name, "\n".join(lines).encode("utf-8") + body.encode("utf-8")
        body = []
        teaser_at = rng.randint(1, 3) if rng.random() < 0.7 else None
        for k, p in enumerate(paras):
            body += [p, ""]
            if k == teaser_at:
                body += [paras[0][: len(paras[0]) // 2].rsplit(" ", 1)[0] + "...", ""]
            if k == 2:
                body += [
                    "Subscribe to PolitNavigator news at ThereThere, Yandex Zen, Telegram.",
                    "",
                    "",
                ]
        body += [
            "If you find an error, please select a piece of text and press Ctrl + Enter.",
            "",
            "Tags: , ,",
            "",
            "",
            "",
            "Dear Readers, At the request of Roskomnadzor, the rules for publishing comments are being tightened.",
            "",
            "Placing links to third-party resources prohibited!",
            "",
            "",
            "  • May 2024",
            "    Mon Tues Wed Thurs Fri Sat Total",
            "    12345",
            "    6789101112",
            "  • Subscribe to Politnavigator news",
            "",
            "  • Thank you!",
            "",
            "    Now the editors are aware.",
        ]
        name = f"{year}/{i // 1000:03d}/{i:06d}.txt"
        return name, "\n".join(lines + body).encode("utf-8")


def generate(folder: Path, n: int, seed: int = 20211, wire: bool = False) -> None:
    gen = Generator(seed, wire)
    for i in range(n):
        name, data = gen.article(i)
        p = folder / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)


# ------------------------------------------------------------------------------------------
# Helpers


def timed(fn, *a, **kw):
    t = time.perf_counter()
    out = fn(*a, **kw)
    return time.perf_counter() - t, out


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def pct(values, q):
    values = sorted(values)
    k = min(len(values) - 1, max(0, round(q / 100 * (len(values) - 1))))
    return values[k]


def build_in_child(index: Path, corpus: Path) -> dict:
    """A full build in a child process, so its peak RSS can be measured on its own."""
    code = (
        "import json,sys; sys.path.insert(0, %r)\n"
        "from corpus_search.indexer import update_index\n"
        "r = update_index(%r, [%r])\n"
        "print(json.dumps(r.to_dict() | {'bytes_indexed': r.bytes_indexed}))\n"
    ) % (str(HERE.parent), str(index), str(corpus))
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    elapsed = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    report = json.loads(out.stdout.strip().splitlines()[-1])
    report["wall_s"] = elapsed
    report["peak_rss_mb"] = max(rss, before) / 1024
    return report


# Query mix: (label, corpus-search query, words for rg/fts)
def query_mix(custom: list[str] | None):
    if custom:
        return [(q, q, q.replace('"', "").split()) for q in custom]
    return [
        ("common word", "government", ["government"]),
        ("rare word", "zuvenost", ["zuvenost"]),
        ("AND of 2", "sanctions border", ["sanctions", "border"]),
        ("AND of 3", "minister gas pipeline", ["minister", "gas", "pipeline"]),
        ("OR", "nuclear OR treaty", None),
        ("NOT", "election -opposition", None),
        ("phrase", '"open skies"', ["open skies"]),
        ("field", "category:Скандал", None),
        ("wildcard", "governm*", None),
        ("russian", "санкций", ["санкций"]),
    ]


# ------------------------------------------------------------------------------------------
# corpus-search


def bench_corpus_search(
    corpus: Path, work: Path, mix, repeats: int, wire: bool = False, cli: str | None = None
) -> dict:
    from corpus_search.indexer import update_index

    res: dict = {}
    index = work / "index"
    shutil.rmtree(index, ignore_errors=True)
    corpus_size = folder_bytes(corpus)
    files = sorted(p for p in corpus.rglob("*") if p.is_file())
    print(f"corpus: {len(files)} files, {corpus_size / 1e6:.1f} MB", file=sys.stderr)
    # The build is timed first; ripgrep and FTS5 read the files after it, from the page cache.
    # Read them once before, so that every tool reads from memory (a cold cache added 8 s to
    # a 28 s build of the 5 KB corpus here).
    for p in files:
        p.read_bytes()

    b = build_in_child(index, corpus)
    res["build_s"] = b["wall_s"]
    res["build_docs"] = b["added"]
    res["build_text_mb_per_s"] = b["bytes_indexed"] / 1e6 / b["wall_s"]
    res["build_file_mb_per_s"] = corpus_size / 1e6 / b["wall_s"]
    res["build_docs_per_s"] = b["added"] / b["wall_s"]
    res["build_peak_rss_mb"] = b["peak_rss_mb"]
    res["index_mb"] = folder_bytes(index) / 1e6
    res["index_to_corpus"] = res["index_mb"] * 1e6 / corpus_size
    print(f"build: {b['wall_s']:.1f}s", file=sys.stderr)

    res["noop_update_s"], r = timed(update_index, index)
    assert not r.changed

    extra = work / "extra"
    shutil.rmtree(extra, ignore_errors=True)
    gen = Generator(seed=99, wire=wire)
    added = []
    for i in range(100):
        name, data = gen.article(900000 + i)
        p = corpus / "_bench_added" / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        added.append(p)
    res["add_100_s"], r = timed(update_index, index)
    assert r.added == 100, r.to_dict()

    for p in files[:100]:
        p.write_bytes(p.read_bytes() + b"\n\nA paragraph added by the benchmark.")
    res["change_100_s"], r = timed(update_index, index)
    assert r.updated == 100, r.to_dict()

    for p in added:
        p.unlink()
    res["remove_100_s"], r = timed(update_index, index)
    assert r.removed == 100, r.to_dict()
    shutil.rmtree(corpus / "_bench_added", ignore_errors=True)
    for p in files[:100]:  # restore for the peers
        data = p.read_bytes()
        p.write_bytes(data[: -len(b"\n\nA paragraph added by the benchmark.")])
    update_index(index)

    from corpus_search.search import CorpusIndex

    with CorpusIndex(index) as ix:  # each query once on a freshly opened index: no caches
        first = [timed(ix.search, q, limit=10)[0] * 1000 for _label, q, _ in mix]
    res["query_first_run_median_ms"] = statistics.median(first)

    with CorpusIndex(index) as ix:
        per_query = {}
        all_times = []
        for label, q, _ in mix:
            ix.search(q)  # warm
            times = []
            for _ in range(repeats):
                t, r = timed(ix.search, q, limit=10)
                times.append(t * 1000)
            per_query[label] = {"query": q, "hits": r.total, "median_ms": statistics.median(times)}
            all_times.extend(times)
        res["query_median_ms"] = statistics.median(all_times)
        res["query_p95_ms"] = pct(all_times, 95)
        res["queries"] = per_query

        half = "the"  # matches about half the articles (English ones)
        ix.search(half, facets=["category", "author", "month"])
        ft = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            r = ix.search(half, facets=["category", "author", "month"], limit=10)
            ft.append((time.perf_counter() - t0) * 1000)
        base = [timed(ix.search, half, limit=10)[0] * 1000 for _ in range(repeats)]
        res["facet_query_hits"] = r.total
        res["facet_query_median_ms"] = statistics.median(ft)
        res["facet_only_median_ms"] = statistics.median(ft) - statistics.median(base)

        res.update(bench_research(ix, index, corpus, repeats))

    # The whole command as a fresh process.
    word = "zuvenost"
    cmd = [cli_command(cli), "search", word, "--json", "--index", str(index)]
    env = dict(os.environ, CORPUS_SEARCH_NO_SERVER="1")
    rg = shutil.which("rg")
    rg_cmd = [rg, "-l", "-i", "-w", word, str(corpus)] if rg else None
    subprocess.run(cmd, capture_output=True, env=env)
    if rg_cmd:
        subprocess.run(rg_cmd, capture_output=True)
    cli_times, rg_times = [], []
    for _ in range(max(11, repeats // 2)):  # alternated: machine drift hits both alike
        t0 = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=False, env=env)
        cli_times.append((time.perf_counter() - t0) * 1000)
        if rg_cmd:
            t0 = time.perf_counter()
            subprocess.run(rg_cmd, capture_output=True, check=False)
            rg_times.append((time.perf_counter() - t0) * 1000)
    res["cli_search_median_ms"] = statistics.median(cli_times)
    res["rg_side_by_side_ms"] = statistics.median(rg_times) if rg_times else float("nan")
    res.update(bench_server(index, word, repeats, cli))
    res.update(import_budget())
    empty = [timed(subprocess.run, [sys.executable, "-c", "pass"])[0] * 1000 for _ in range(5)]
    res["python_startup_ms"] = statistics.median(empty)
    return res


# ------------------------------------------------------------------------------------------
# Peers


def cli_command(cli: str | None) -> str:
    """The console script to time: --cli, else the one installed beside this Python (a version
    manager's shim on PATH would add its own start-up to every run)."""
    if cli:
        return cli
    beside = Path(sys.executable).with_name("corpus-search")
    if beside.exists():
        return str(beside)
    sys.exit("bench: no corpus-search beside this Python; install it (pip install .) or give --cli")


def bench_server(index: Path, word: str, repeats: int, cli: str | None = None) -> dict:
    """The same one-word search --json as a fresh process, answered by corpus-search serve."""
    env = dict(os.environ)
    env.pop("CORPUS_SEARCH_NO_SERVER", None)
    server = subprocess.Popen(
        [cli_command(cli), "serve", "--index", str(index)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        while not server.stderr.readline().startswith("serving "):
            if server.poll() is not None:
                return {"server_search_median_ms": float("nan")}
        cmd = [cli_command(cli), "search", word, "--json", "--index", str(index)]
        subprocess.run(cmd, capture_output=True, env=env)
        times = []
        for _ in range(max(5, repeats // 4)):
            t0 = time.perf_counter()
            subprocess.run(cmd, capture_output=True, env=env)
            times.append((time.perf_counter() - t0) * 1000)
        return {"server_search_median_ms": statistics.median(times)}
    finally:
        server.terminate()
        server.wait(30)


def import_budget() -> dict:
    """What a plain search imports before it runs (python -X importtime), by who owns it, in
    ms: the quick path (no click) and what the search and its JSON output need."""
    code = (
        "import corpus_search.client, corpus_search.quick, corpus_search.commands, "
        "corpus_search.config, corpus_search.search, corpus_search.render"
    )
    out = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        env=dict(os.environ, CORPUS_SEARCH_NO_SERVER="1"),
    ).stderr
    owners = {"corpus_search": 0, "click": 0, "whoosh": 0, "rich": 0, "yaml": 0, "other": 0}
    for line in out.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        try:
            self_us = int(line.split(":", 1)[1].split("|")[0])
        except ValueError:
            continue
        name = line.rsplit("|", 1)[1].strip()
        top = name.split(".")[0]
        owners[top if top in owners else "other"] += self_us
    return {f"import_{k}_ms": v / 1000 for k, v in owners.items()}


def bench_research(ix, index: Path, corpus: Path, repeats: int) -> dict:
    """The analyses: kwic over a word in about 5% of articles, collocates of it, counting 50
    queries by month, reprints over the whole index; and what reprint sketches cost."""
    from corpus_search.articles import iter_files, parse_article
    from corpus_search.reprints import sketch

    res: dict = {}
    n = ix.doc_count
    candidates = [w for w in DOMAIN + RU_DOMAIN][:80]
    counts = {w: ix.search(w, count_only=True).total for w in candidates}
    word = min(counts, key=lambda w: abs(counts[w] - 0.05 * n))
    res["research_word"], res["research_word_hits"] = word, counts[word]
    few = max(3, repeats // 8)
    # timed without the commands' 10 s default --timeout: at 100,000 long articles collocates
    # and reprints over the whole index take longer
    long = 3600.0
    kw = [timed(ix.kwic, word, limit=100, timeout=long)[0] * 1000 for _ in range(few)]
    res["kwic_ms"] = statistics.median(kw)
    res["kwic_lines"] = ix.kwic(word, limit=1, timeout=long).total
    co = [timed(ix.collocates, word, timeout=long)[0] * 1000 for _ in range(few)]
    res["collocates_ms"] = statistics.median(co)
    queries = [
        f"{a} OR {b}" if i % 3 == 0 else a
        for i, (a, b) in enumerate(zip(candidates[:50], candidates[25:] + candidates[:25]))
    ]
    cq = [timed(ix.count_queries, queries, by="month", timeout=long)[0] * 1000 for _ in range(few)]
    res["count_50_queries_ms"] = statistics.median(cq)
    rp = [timed(ix.reprints, timeout=long)[0] * 1000 for _ in range(few)]
    res["reprints_ms"] = statistics.median(rp)
    res["reprint_clusters"] = len(ix.reprints(timeout=long).clusters)
    # what the sketches cost: their share of the index, and computing them for every body
    sketch_bytes = sum(f.stat().st_size for f in index.rglob("*sketch*.col"))
    res["sketch_mb"] = sketch_bytes / 1e6
    bodies = [parse_article(p, root=r).body for p, r in iter_files([corpus])][:5000]
    t, _ = timed(lambda: [sketch(b) for b in bodies])
    res["sketch_ms_per_1000_docs"] = t * 1000 / len(bodies) * 1000
    return res


def bench_ripgrep(corpus: Path, mix, repeats: int) -> dict | None:
    rg = shutil.which("rg")
    if not rg:
        return None
    res: dict = {"queries": {}}
    all_times = []
    for label, _q, words in mix:
        if not words:
            continue
        times = []
        for _ in range(max(3, repeats // 4)):
            t0 = time.perf_counter()
            # files containing all the words: chain rg -l over the previous file list
            out = subprocess.run(
                [rg, "-l", "-i", "-w", "-F", words[0], str(corpus)], capture_output=True, text=True
            ).stdout.split("\n")
            for w in words[1:]:
                files = [f for f in out if f]
                if not files:
                    break
                out = []
                for k in range(0, len(files), 2000):  # stay under the argument-list limit
                    out += subprocess.run(
                        [rg, "-l", "-i", "-w", "-F", w, *files[k : k + 2000]],
                        capture_output=True,
                        text=True,
                    ).stdout.split("\n")
            times.append((time.perf_counter() - t0) * 1000)
        res["queries"][label] = {
            "median_ms": statistics.median(times),
            "hits": len([f for f in out if f]),
        }
        all_times.extend(times)
    res["query_median_ms"] = statistics.median(all_times)
    word = "zuvenost"
    t = [
        timed(subprocess.run, [rg, "-l", "-i", "-w", word, str(corpus)], capture_output=True)[0]
        * 1000
        for _ in range(5)
    ]
    res["single_word_ms"] = statistics.median(t)
    return res


def bench_fts5(corpus: Path, work: Path, mix, repeats: int) -> dict:
    import sqlite3

    from corpus_search.articles import iter_files, parse_bytes, read_bytes

    db_path = work / "fts.sqlite"
    if db_path.exists():
        db_path.unlink()
    files = [p for p, _ in iter_files([corpus])]
    res: dict = {}
    # Raw FTS5 build on the file text (no parsing): the engine's own speed.
    t0 = time.perf_counter()
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61')")
    with db:
        for p in files:
            text = p.read_text("utf-8", errors="replace")
            title, _, body = text.partition("\n")
            db.execute("INSERT INTO docs(title, body) VALUES (?, ?)", (title, body))
    res["build_raw_s"] = time.perf_counter() - t0
    db.close()
    # The same with our parsing and cleaning in front, to compare like with like.
    db_path.unlink()
    db = sqlite3.connect(db_path)
    db.execute("CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61')")
    t0 = time.perf_counter()
    with db:
        for p in files:
            a = parse_bytes(read_bytes(p), p, root=corpus)
            db.execute("INSERT INTO docs(title, body) VALUES (?, ?)", (a.title or "", a.body))
    res["build_parsed_s"] = time.perf_counter() - t0

    def fts_query(words, label):
        if label == "OR":
            return "nuclear OR treaty"
        if label == "NOT":
            return "election NOT opposition"
        if label == "wildcard":
            return "governm*"
        if label == "field":
            return None
        return " ".join(f'"{w}"' for w in words)

    per = {}
    all_times = []
    for label, _q, words in mix:
        fq = fts_query(words or [], label)
        if not fq:
            continue
        sql = (
            "SELECT rowid, title, snippet(docs, 1, '[[', ']]', '…', 24) FROM docs "
            "WHERE docs MATCH ? ORDER BY bm25(docs, 2.0, 1.0) LIMIT 10"
        )
        count_sql = "SELECT count(*) FROM docs WHERE docs MATCH ?"
        db.execute(sql, (fq,)).fetchall()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            db.execute(sql, (fq,)).fetchall()
            n = db.execute(count_sql, (fq,)).fetchone()[0]
            times.append((time.perf_counter() - t0) * 1000)
        per[label] = {"query": fq, "hits": n, "median_ms": statistics.median(times)}
        all_times.extend(times)
    res["queries"] = per
    res["query_median_ms"] = statistics.median(all_times)
    res["query_p95_ms"] = pct(all_times, 95)
    db.close()
    return res


# ------------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=20000, help="synthetic articles to generate")
    ap.add_argument("--corpus", type=Path, help="use this folder instead of a synthetic corpus")
    ap.add_argument("--work", type=Path, default=HERE / "out", help="scratch folder")
    ap.add_argument("--seed", type=int, default=20211)
    ap.add_argument("--repeats", type=int, default=40, help="runs per query")
    ap.add_argument("--queries", nargs="*", help="a custom query mix")
    ap.add_argument("--skip-peers", action="store_true")
    ap.add_argument(
        "--wire", action="store_true", help="short news-wire stories (~1 KB) instead of ~5 KB"
    )
    ap.add_argument(
        "--cli",
        help="the corpus-search executable to time (default: the one beside this Python); "
        "time a regular install (pip install .), which is what users have",
    )
    ap.add_argument(
        "--json", type=Path, help="write the figures here (default: WORK/result-N.json)"
    )
    args = ap.parse_args()

    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    if args.corpus:
        src = args.corpus
        corpus = work / "corpus-copy"
        shutil.rmtree(corpus, ignore_errors=True)
        shutil.copytree(src, corpus)  # the benchmark changes files; never touch the original
    else:
        kind = "wire" if args.wire else "v2"
        corpus = work / f"synthetic-{kind}-{args.docs}-{args.seed}"
        if not corpus.exists():
            t, _ = timed(generate, corpus, args.docs, args.seed, args.wire)
            print(f"generated {args.docs} articles in {t:.1f}s", file=sys.stderr)
    mix = query_mix(args.queries)

    result = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "processor": platform.machine(),
        },
        "corpus": {
            "path": str(corpus),
            "files": sum(1 for p in corpus.rglob("*") if p.is_file()),
            "mb": folder_bytes(corpus) / 1e6,
        },
        "corpus_search": bench_corpus_search(corpus, work, mix, args.repeats, args.wire, args.cli),
    }
    out = args.json or work / f"result-{result['corpus']['files']}.json"
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))  # kept if a peer fails
    if not args.skip_peers:
        result["ripgrep"] = bench_ripgrep(corpus, mix, args.repeats)
        result["fts5"] = bench_fts5(corpus, work, mix, args.repeats)

    cs = result["corpus_search"]
    rows = [
        ("full build (s)", cs["build_s"]),
        ("  article text MB/s", cs["build_text_mb_per_s"]),
        ("  file MB/s", cs["build_file_mb_per_s"]),
        ("  docs/s", cs["build_docs_per_s"]),
        ("  peak RSS (MB)", cs["build_peak_rss_mb"]),
        ("index size (MB)", cs["index_mb"]),
        ("  index / corpus", cs["index_to_corpus"]),
        ("no-change update (s)", cs["noop_update_s"]),
        ("add 100 files (s)", cs["add_100_s"]),
        ("change 100 files (s)", cs["change_100_s"]),
        ("remove 100 files (s)", cs["remove_100_s"]),
        ("query mix median (ms)", cs["query_median_ms"]),
        ("  each query's first run on a fresh open (ms)", cs["query_first_run_median_ms"]),
        ("query mix p95 (ms)", cs["query_p95_ms"]),
        (
            f"facets cat+author+month, {cs['facet_query_hits']} hits (ms)",
            cs["facet_query_median_ms"],
        ),
        ("  of which facet counting (ms)", cs["facet_only_median_ms"]),
        (
            f"kwic {cs['research_word']!r} ({cs['research_word_hits']} articles, "
            f"{cs['kwic_lines']} lines) (ms)",
            cs["kwic_ms"],
        ),
        (f"collocates {cs['research_word']!r} (ms)", cs["collocates_ms"]),
        ("count 50 queries by month (ms)", cs["count_50_queries_ms"]),
        (f"reprints over the index, {cs['reprint_clusters']} clusters (ms)", cs["reprints_ms"]),
        ("reprint sketches in the index (MB)", cs["sketch_mb"]),
        ("  sketching 1,000 bodies (ms)", cs["sketch_ms_per_1000_docs"]),
        ("CLI search WORD --json, fresh process (ms)", cs["cli_search_median_ms"]),
        ("  rg -l -i -w WORD, runs alternated with it (ms)", cs["rg_side_by_side_ms"]),
        (
            "  ratio corpus-search / rg",
            cs["cli_search_median_ms"] / cs["rg_side_by_side_ms"],
        ),
        ("  empty python start (ms)", cs["python_startup_ms"]),
        ("CLI search WORD --json through the server (ms)", cs["server_search_median_ms"]),
        ("imports of a search: corpus_search (ms)", cs["import_corpus_search_ms"]),
        ("  click (budget: 0) (ms)", cs["import_click_ms"]),
        ("  whoosh (ms)", cs["import_whoosh_ms"]),
        ("  rich and yaml (budget: 0) (ms)", cs["import_rich_ms"] + cs["import_yaml_ms"]),
        ("  the standard library and others (ms)", cs["import_other_ms"]),
    ]
    print()
    print(f"{'corpus-search':<50}{'value':>12}")
    for name, v in rows:
        print(f"{name:<50}{v:>12.3f}")
    print()
    print(
        f"{'per query (ms)':<24}{'corpus-search':>14}{'fts5':>10}{'rg':>10}{'cs/fts5':>10}{'hits cs/fts5/rg':>20}"
    )
    for label, _q, _w in mix:
        c = cs["queries"][label]
        f = (result.get("fts5") or {}).get("queries", {}).get(label)
        g = ((result.get("ripgrep") or {}).get("queries") or {}).get(label)
        print(
            f"{label:<24}{c['median_ms']:>14.2f}{(f['median_ms'] if f else float('nan')):>10.2f}"
            f"{(g['median_ms'] if g else float('nan')):>10.2f}"
            f"{(c['median_ms'] / f['median_ms'] if f else float('nan')):>10.1f}"
            f"{c['hits']:>8}/{(f['hits'] if f else '-')}/{(g['hits'] if g else '-')}"
        )
    if not args.skip_peers:
        fts = result["fts5"]
        print()
        print(f"{'ratios':<50}{'value':>12}")
        ratios = {
            "query median corpus-search / FTS5": cs["query_median_ms"] / fts["query_median_ms"],
            "build corpus-search / FTS5 raw": cs["build_s"] / fts["build_raw_s"],
            "build corpus-search / FTS5 with our parsing": cs["build_s"] / fts["build_parsed_s"],
        }
        ratios["CLI search / rg -l -i -w WORD (alternated)"] = (
            cs["cli_search_median_ms"] / cs["rg_side_by_side_ms"]
        )
        result["ratios"] = ratios
        for k, v in ratios.items():
            print(f"{k:<50}{v:>12.2f}")
        print(f"{'FTS5 build raw (s)':<50}{fts['build_raw_s']:>12.2f}")
        print(f"{'FTS5 build with parsing (s)':<50}{fts['build_parsed_s']:>12.2f}")
        print(
            f"{'FTS5 query median / p95 (ms)':<50}{fts['query_median_ms']:>6.2f} / {fts['query_p95_ms']:.2f}"
        )
        if result.get("ripgrep"):
            print(f"{'rg -l -i -w WORD (ms)':<50}{result['ripgrep']['single_word_ms']:>12.1f}")
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"\nwritten {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
