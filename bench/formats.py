#!/usr/bin/env python3
"""corpus-search benchmark of the input formats: the same news-wire stories as text files with
YAML front matter, as JSON lines, as CSV and as HTML pages, each built into a fresh index with
the default settings (a child process each, for its own peak memory), beside SQLite FTS5 fed
the same stories' text; then the real corpora in ../shared/corpora as text files and as JSON
lines. Not part of the test suite. Usage::

    python3 bench/formats.py                  # 20,000 stories, 2,000 of them as pages
    python3 bench/formats.py --docs 5000 --pages 500
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
from bench import Generator  # noqa: E402 - the main bench's vocabulary

CORPORA = HERE.parent.parent / "shared" / "corpora"
SOURCES = ["Reuters", "Caspian Daily", "Steppe Herald", "Baltic Monitor"]


def stories(n: int, seed: int = 20211) -> list[dict]:
    gen = Generator(seed, wire=True)
    rng = random.Random(seed)
    out = []
    for i in range(n):
        ru = rng.random() < 0.2
        source = SOURCES[i % len(SOURCES)]
        month, day = rng.randint(1, 12), rng.randint(1, 28)
        out.append(
            {
                "id": f"w{i:06d}",
                "title": " ".join(gen.words(rng.randint(6, 12), ru)).capitalize(),
                "body": [gen.paragraph(ru) for _ in range(rng.randint(2, 6))],
                "published": f"2022-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:15:00+00:00",
                "source": source,
                "url": f"https://www.{source.lower().replace(' ', '-')}.example/2022/{i}",
                "author": rng.choice(gen.authors) if rng.random() < 0.7 else None,
                "categories": rng.sample(gen.categories, 2),
            }
        )
    return out


def write_text(folder: Path, items: list[dict]) -> None:
    for s in items:
        p = folder / s["id"][:4] / f"{s['id']}.md"
        p.parent.mkdir(parents=True, exist_ok=True)
        head = [
            "---",
            f"title: {json.dumps(s['title'], ensure_ascii=False)}",
            f"published: {s['published']}",
            f"source: {s['source']}",
            f"url: {s['url']}",
            f"categories: [{', '.join(s['categories'])}]",
        ]
        if s["author"]:
            head.append(f"author: {s['author']}")
        p.write_text("\n".join([*head, "---", "", "\n\n".join(s["body"]), ""]), "utf-8")


def record(s: dict) -> dict:
    return {
        "id": s["id"],
        "title": s["title"],
        "text": "\n".join(s["body"]),
        "date": s["published"],
        "source": s["source"],
        "url": s["url"],
        "author": s["author"],
        "categories": s["categories"],
    }


def write_jsonl(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for s in items:
            fh.write(json.dumps(record(s), ensure_ascii=False) + "\n")


def write_csv(path: Path, items: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "title", "text", "date", "source", "url", "author"])
        for s in items:
            r = record(s)
            w.writerow(
                [
                    r["id"],
                    r["title"],
                    r["text"],
                    r["date"],
                    r["source"],
                    r["url"],
                    r["author"] or "",
                ]
            )


def write_pages(folder: Path, items: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for s in items:
        paras = "".join(f"<p>{p}</p>" for p in s["body"])
        (folder / f"{s['id']}.html").write_text(
            f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{s["title"]}'
            f' | {s["source"]}</title><link rel="canonical" href="{s["url"]}">'
            f'<meta property="article:published_time" content="{s["published"]}">'
            f'<meta property="og:site_name" content="{s["source"]}"></head><body>'
            '<nav><a href="/">Home</a> <a href="/world">World</a> <a href="/markets">Markets</a>'
            '</nav><div class="ad">Advertisement: trade with us, zero fees</div>'
            f"<article><h1>{s['title']}</h1>{paras}</article>"
            '<aside><h3>Related</h3><ul><li><a href="/1">Oil rises</a></li>'
            '<li><a href="/2">Markets close lower</a></li></ul></aside>'
            "<footer>© 2022 All rights reserved.</footer></body></html>",
            "utf-8",
        )


def build(folder: Path, index: Path, root: Path | None = None) -> dict:
    """A full build in a child process: wall time, CPU time of it and its writer processes,
    peak memory."""
    shutil.rmtree(index, ignore_errors=True)
    code = (
        "import json,sys; sys.path.insert(0, %r)\n"
        "from corpus_search.indexer import update_index\n"
        "r = update_index(%r, [%r])\n"
        "import resource\n"
        "peak = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,"
        " resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(json.dumps(r.to_dict() | {'bytes_indexed': r.bytes_indexed, 'peak_kb': peak}))\n"
    ) % (str(root or HERE.parent), str(index), str(folder))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rep = json.loads(out.stdout.strip().splitlines()[-1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {
        "docs": rep["added"],
        "skipped": rep["skipped"],
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "docs_per_s": round(rep["added"] / wall, 1),
        "docs_per_cpu_s": round(rep["added"] / cpu, 1),
        "peak_rss_mb": round(rep["peak_kb"] / 1024, 1),  # the largest process of the build
        "mb": round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6, 2),
    }


def fts5_raw(folder: Path, work: Path) -> float:
    """SQLite FTS5 fed the text files as they are (read from disk, no parsing), as the main
    bench's 'FTS5 raw'."""
    db = work / "fts.sqlite"
    db.unlink(missing_ok=True)
    t = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute("CREATE VIRTUAL TABLE a USING fts5(body, tokenize='porter unicode61')")
    con.executemany(
        "INSERT INTO a VALUES (?)",
        ((p.read_text("utf-8"),) for p in sorted(folder.rglob("*.md"))),
    )
    con.commit()
    con.close()
    return time.perf_counter() - t


def real_corpora(work: Path) -> dict:
    """Each real corpus as its files, and the same articles as one JSON lines file."""
    sys.path.insert(0, str(HERE.parent))
    from corpus_search.articles import iter_files, read_articles

    out = {}
    for name in ("bbc-news-2225", "semeval2023-task3-persuasion", "meduza-golunov-ru"):
        src = CORPORA / name
        if not src.is_dir():
            continue
        files = work / f"real-{name}"
        shutil.rmtree(files, ignore_errors=True)
        shutil.copytree(src, files)
        recs = []
        for p, root in iter_files([files]):
            for a in read_articles(p, root=root):
                if not isinstance(a, Exception):
                    d = a.to_dict()
                    recs.append({"id": d["id"], "title": d["title"], "text": d["body"]})
        jsonl = work / f"real-{name}-jsonl" / "all.jsonl"
        shutil.rmtree(jsonl.parent, ignore_errors=True)
        jsonl.parent.mkdir(parents=True)
        jsonl.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), "utf-8")
        out[name] = {
            "files": build(files, work / "ix-real"),
            "jsonl": build(jsonl.parent, work / "ix-real"),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--docs", type=int, default=20000)
    ap.add_argument("--pages", type=int, default=2000, help="how many of them as HTML pages")
    ap.add_argument("--work", type=Path, default=HERE / "out" / "formats")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--before", type=Path, help="a checkout of corpus-search to compare with")
    args = ap.parse_args()
    work = args.work
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    items = stories(args.docs)
    write_text(work / "text", items)
    write_jsonl(work / "jsonl" / "stories.jsonl", items)
    write_csv(work / "csv" / "stories.csv", items)
    write_pages(work / "html", items[: args.pages])
    result: dict = {"docs": args.docs, "pages": args.pages}
    for name in ("text", "jsonl", "csv", "html"):
        result[name] = build(work / name, work / f"ix-{name}")
        print(name, result[name], file=sys.stderr)
    result["fts5_raw_s"] = round(fts5_raw(work / "text", work), 2)
    if args.before:  # the same text build by another checkout (a "before" to compare)
        result["text_before"] = build(work / "text", work / "ix-before", root=args.before)
        print("text, before:", result["text_before"], file=sys.stderr)
    pages = result["html"]
    result["html_ms_per_page_cpu"] = round(1000 * pages["cpu_s"] / max(1, pages["docs"]), 2)
    if not args.skip_real:
        result["real"] = real_corpora(work)
    print(json.dumps(result, indent=2))
    print()
    print(
        f"{'layout':<12}{'docs':>8}{'MB':>8}{'wall s':>9}{'docs/s':>9}{'docs/cpu-s':>12}{'peak MB':>9}{'x FTS5':>8}"
    )
    for name in ("text", "jsonl", "csv", "html"):
        r = result[name]
        ratio = r["wall_s"] / result["fts5_raw_s"] * (args.docs / max(1, r["docs"]))
        print(
            f"{name:<12}{r['docs']:>8}{r['mb']:>8}{r['wall_s']:>9}{r['docs_per_s']:>9}"
            f"{r['docs_per_cpu_s']:>12}{r['peak_rss_mb']:>9}{ratio:>8.1f}"
        )
    print(f"FTS5 raw, the same {args.docs} stories (the text files): {result['fts5_raw_s']} s")
    if "text_before" in result:
        b = result["text_before"]
        print(
            f"text, before: {b['wall_s']} s, {b['docs_per_s']} docs/s, {b['wall_s'] / result['fts5_raw_s']:.1f}x FTS5"
        )
    for name, r in (result.get("real") or {}).items():
        for kind in ("files", "jsonl"):
            x = r[kind]
            print(
                f"{name} as {kind}: {x['docs']} docs, {x['wall_s']} s, {x['docs_per_s']} docs/s, peak {x['peak_rss_mb']} MB"
            )


if __name__ == "__main__":
    main()
