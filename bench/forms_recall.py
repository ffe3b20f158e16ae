#!/usr/bin/env python3
"""Recall and precision of names and places typed in one case form, on real Russian news
(../shared/corpora/meduza-golunov-ru, 100 articles nobody here wrote): for each name, the
articles holding any of its case forms (paradigms written out below, matched as whole words
in the raw text) against the articles a search for each form finds. Not part of the tests.

    python3 bench/forms_recall.py [--before CHECKOUT]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parent.parent / "shared" / "corpora" / "meduza-golunov-ru" / "corpus"

PARADIGMS = {
    "москва": "москва москвы москве москву москвой москвою",
    "петербург": "петербург петербурга петербургу петербургом петербурге",
    "голунов": "голунов голунова голунову голуновым голунове",
    "россия": "россия россии россию россией",
    "собянин": "собянин собянина собянину собяниным собянине",
    "путин": "путин путина путину путиным путине",
    "колокольцев": "колокольцев колокольцева колокольцеву колокольцевым колокольцеве",
    "подмосковье": "подмосковье подмосковья подмосковью подмосковьем",
    "украина": "украина украины украине украину украиной",
    "кремль": "кремль кремля кремлю кремлем кремле",
    "мвд": "мвд",
    "сбербанк": "сбербанк сбербанка сбербанку сбербанком сбербанке",
    "навальный": "навальный навального навальному навальным навальном",
    "чайка": "чайка чайки чайке чайку чайкой",
    "ростов": "ростов ростова ростову ростовом ростове",
    "казань": "казань казани казанью",
    "хованское": "хованское хованского хованскому хованским хованском",
}
WORD = re.compile(r"\w+")


def texts(folder: Path) -> dict[str, set[str]]:
    out = {}
    for p in sorted(folder.iterdir()):
        if p.suffix == ".txt" and p.stat().st_size:
            words = set(WORD.findall(p.read_text("utf-8").lower().replace("ё", "е")))
            out[p.name] = words
    return out


def run(cli_root: Path, index: Path, corpus: Path) -> dict:
    code = (
        "import json,sys; sys.path.insert(0, %r)\n"
        "from corpus_search.indexer import update_index\n"
        "from corpus_search.search import CorpusIndex\n"
        "update_index(%r, [%r])\n"
        "forms = json.loads(sys.stdin.read())\n"
        "out = {}\n"
        "with CorpusIndex(%r) as ix:\n"
        "    for f in forms:\n"
        "        r = ix.search(f, limit=100000, snippets=False)\n"
        "        out[f] = [h.record['id'] for h in r.hits]\n"
        "print(json.dumps(out))\n"
    ) % (str(cli_root), str(index), str(corpus), str(index))
    forms = sorted({f for v in PARADIGMS.values() for f in v.split()})
    res = subprocess.run(
        [sys.executable, "-c", code], input=json.dumps(forms), capture_output=True, text=True
    )
    if res.returncode:
        raise SystemExit(res.stderr)
    return json.loads(res.stdout.strip().splitlines()[-1])


def score(found: dict, words_of: dict) -> tuple[float, float, list]:
    tp = fp = fn = 0
    worst = []
    for paradigm in PARADIGMS.values():
        forms = paradigm.split()
        want = {doc for doc, ws in words_of.items() if ws & set(forms)}
        for f in forms:
            got = set(found[f])
            tp += len(got & want)
            fp += len(got - want)
            fn += len(want - got)
            if want - got or got - want:
                worst.append((f, len(want), len(got & want), len(got - want)))
    return tp / (tp + fn), tp / (tp + fp), worst


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", type=Path)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp())
    corpus = work / "corpus"
    shutil.copytree(CORPUS, corpus)
    words_of = texts(corpus)
    for label, root in (("before", args.before), ("now", HERE.parent)):
        if root is None:
            continue
        found = run(root, work / f"ix-{label}", corpus)
        found = {f: [i for i in ids] for f, ids in found.items()}
        recall, precision, worst = score(found, words_of)
        print(
            f"{label}: recall {recall:.3f}, precision {precision:.3f} over {len(PARADIGMS)} names"
        )
        for f, want, hit, extra in worst[:15]:
            print(f"   {f}: {hit} of {want} found, {extra} others")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
