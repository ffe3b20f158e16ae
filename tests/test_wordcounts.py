"""N-grams and keyness against oracles written out here from the texts the test makes: word
sequences counted with a plain loop, log-likelihood and Log Ratio from their formulas. The
corpus has the real shape: 2,400 articles of two sources, several segments."""

from __future__ import annotations

import json
import math
import random
import re
from collections import Counter

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

COMMON = "the a of to in and on for with said that was by from at".split()
CONTENT = (
    "sanctions grain harbour tariff pipeline border election minister wheat ferry drought "
    "refinery customs cotton bridge"
).split()
WORD = re.compile(r"\w+")


def make(n: int, seed: int = 26) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        source = "RT" if i % 3 == 0 else "Reuters"
        paras = []
        for _ in range(rng.randint(1, 4)):
            words = [rng.choice(COMMON + CONTENT) for _ in range(rng.randint(8, 30))]
            if source == "RT" and rng.random() < 0.5:
                words.insert(rng.randrange(len(words)), rng.choice(["nato", "aggression"]))
            if source == "Reuters" and rng.random() < 0.3:
                k = rng.randrange(len(words))
                words[k:k] = ["wheat", "futures"]
            paras.append(" ".join(words).capitalize() + ".")
        title = " ".join(rng.choice(CONTENT) for _ in range(rng.randint(3, 6))).capitalize()
        year = 2021 + i % 2
        out.append(
            {"id": f"a{i:05d}", "title": title, "body": "\n\n".join(paras), "source": source,
             "published": f"{year}-0{1 + i % 9}-1{i % 9}"}
        )  # fmt: skip
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    base = tmp_path_factory.mktemp("wc")
    arts = make(2400)
    (base / "c").mkdir()
    for a in arts:
        (base / "c" / f"{a['id']}.md").write_text(
            f"---\ntitle: {a['title']}\nsource: {a['source']}\npublished: {a['published']}\n"
            f"language: en\n---\n\n{a['body']}\n",
            "utf-8",
        )
    update_index(base / "ix", [base / "c"])
    return arts, base


def stretches(a: dict) -> list[list[str]]:
    return [WORD.findall(p.lower()) for p in [a["title"], *a["body"].split("\n\n")] if p]


def oracle_ngrams(arts, n, around=None):
    counts, docs = Counter(), Counter()
    for a in arts:
        seen = set()
        for ws in stretches(a):
            for i in range(len(ws) - n + 1):
                gram = ws[i : i + n]
                if around and around not in gram:
                    continue
                counts[" ".join(gram)] += 1
                seen.add(" ".join(gram))
        docs.update(seen)
    return counts, docs


def test_ngrams_as_a_plain_loop_counts_them(corpus):
    arts, base = corpus
    counts, docs = oracle_ngrams(arts, 2)
    want = sorted((g for g in counts if counts[g] >= 2), key=lambda g: (-counts[g], -docs[g], g))
    with CorpusIndex(base / "ix") as ix:
        got = ix.ngrams("", sizes=(2, 2), top=None, timeout=60)["ngrams"]
    assert [g["ngram"] for g in got] == want
    assert all((g["count"], g["documents"]) == (counts[g["ngram"]], docs[g["ngram"]]) for g in got)


def test_ngrams_of_a_query_around_a_word_by_source(corpus):
    arts, base = corpus
    matching = [a for a in arts if "wheat" in WORD.findall(f"{a['title']} {a['body']}".lower())]
    counts, docs = oracle_ngrams(matching, 3, around="futures")
    by = {}
    for a in matching:
        for ws in stretches(a):
            for i in range(len(ws) - 2):
                if "futures" in ws[i : i + 3]:
                    by.setdefault(" ".join(ws[i : i + 3]), Counter())[a["source"]] += 1
    with CorpusIndex(base / "ix") as ix:
        got = ix.ngrams('"wheat"', sizes=(3, 3), around="futures", by="source", top=20, timeout=60)
    assert got["articles"] == len(matching)
    for g in got["ngrams"]:
        assert (g["count"], g["documents"]) == (counts[g["ngram"]], docs[g["ngram"]])
        assert g["groups"] == dict(by[g["ngram"]])
    top = max(counts.values())
    assert got["ngrams"][0]["count"] == top


def oracle_keyness(target, reference):
    def count(arts):
        c = Counter()
        for a in arts:
            c.update(WORD.findall(f"{a['title']}\n{a['body']}".lower()))
        return c

    t, r = count(target), count(reference)
    c, d = sum(t.values()), sum(r.values())
    out = {}
    for w in set(t) | set(r):
        a, b = t[w], r[w]
        e1, e2 = c * (a + b) / (c + d), d * (a + b) / (c + d)
        ll = 2 * ((a * math.log(a / e1) if a else 0) + (b * math.log(b / e2) if b else 0))
        lr = math.log2(((a or 0.5) / c) / ((b or 0.5) / d))
        out[w] = (ll, lr, a, b)
    return out


@pytest.mark.parametrize("helper", [False, True], ids=["alone", "with-a-forked-helper"])
def test_keywords_of_one_source_against_the_other(corpus, helper, monkeypatch):
    """Keyness against the log-likelihood written out here; counted here alone, and with
    half the articles counted by a forked helper (what large sets get)."""
    from corpus_search import parallel

    monkeypatch.setattr(parallel, "FROM", 1 if helper else 10**9)
    arts, base = corpus
    rt = [a for a in arts if a["source"] == "RT"]
    reuters = [a for a in arts if a["source"] == "Reuters"]
    want = oracle_keyness(rt, reuters)
    with CorpusIndex(base / "ix") as ix:
        got = ix.keywords("source:RT", reference="source:Reuters", top=None, timeout=60)
        neg = ix.keywords("source:RT", reference="source:Reuters", negative=True, timeout=60)
        rest = ix.keywords("source:RT", top=None, timeout=60)  # the rest of the index
    words = [k["word"] for k in got["keywords"]]
    assert words[:2] == sorted(["nato", "aggression"], key=lambda w: -want[w][0])
    for k in got["keywords"]:
        ll, lr, a, b = want[k["word"]]
        assert k["ll"] == pytest.approx(ll, abs=1e-3) and k["log_ratio"] == pytest.approx(
            lr, abs=1e-3
        )
        assert (k["target"]["count"], k["reference"]["count"]) == (a, b)
        assert a >= 3  # --min-freq, on the target side
    assert not set(words) & {"the", "of", "and", "said"}  # stopwords out
    assert neg["keywords"][0]["word"] in ("wheat", "futures")
    assert rest["keywords"] == got["keywords"]  # the rest of the index is Reuters here


def test_the_cli_keywords_and_ngrams(corpus, tmp_path):
    arts, base = corpus
    r = CliRunner().invoke(
        cli,
        [
            "keywords",
            "source:RT",
            "--reference",
            "source:Reuters",
            "--json",
            "--index",
            str(base / "ix"),
        ],
    )
    assert r.exit_code == 0 and json.loads(r.stdout)["keywords"][0]["word"] in (
        "nato",
        "aggression",
    )
    r = CliRunner().invoke(
        cli, ["ngrams", "-n", "2..3", "--no-stopwords", "--csv", "--index", str(base / "ix")]
    )
    assert r.exit_code == 0 and r.stdout.startswith("ngram,count,documents\n")
    rows = r.stdout.splitlines()[1:]
    common = set("the a of to in and on for with said that was by from at".split())
    assert rows and all(
        row.split(",")[0].split()[0] not in common and row.split(",")[0].split()[-1] not in common
        for row in rows
    )
    r = CliRunner().invoke(cli, ["ngrams", "-n", "9", "--index", str(base / "ix")])
    assert r.exit_code == 2 and "-n takes sizes from 1 to 8" in r.stderr
    # another index as the reference: the Reuters stories alone
    (tmp_path / "ref").mkdir()
    for a in arts:
        if a["source"] == "Reuters":
            (tmp_path / "ref" / f"{a['id']}.md").write_text(
                f"---\ntitle: {a['title']}\nlanguage: en\n---\n\n{a['body']}\n", "utf-8"
            )
    update_index(tmp_path / "refix", [tmp_path / "ref"])
    r = CliRunner().invoke(
        cli,
        [
            "keywords",
            "source:RT",
            "--reference-index",
            str(tmp_path / "refix"),
            "--json",
            "--index",
            str(base / "ix"),
        ],  # fmt: skip
    )
    with CorpusIndex(base / "ix") as ix:
        same = ix.keywords("source:RT", reference="source:Reuters")
    assert json.loads(r.stdout)["keywords"] == same["keywords"]


def test_dispersion_against_gries_formula(corpus):
    """DP written out from its definition over the articles in time order (ties by id),
    counts per source and year from the raw texts."""
    arts, base = corpus
    ordered = sorted(arts, key=lambda a: (a["published"], "a" + a["id"]))
    sizes, occ = [], []
    for a in ordered:
        ws = WORD.findall(f"{a['title']}\n{a['body']}".lower())
        sizes.append(len(ws))
        occ.append(sum(1 for w in ws if w in ("aggression",)))
    total_o, total_w = sum(occ), sum(sizes)
    dp = 0.5 * sum(abs(o / total_o - s / total_w) for o, s in zip(occ, sizes))
    with CorpusIndex(base / "ix") as ix:
        got = ix.dispersion("aggression", timeout=60)
    assert got["occurrences"] == total_o and got["words"] == total_w
    assert got["dp"] == pytest.approx(dp, abs=1e-6)
    assert got["dp_norm"] == pytest.approx(dp / (1 - min(sizes) / total_w), abs=1e-6)
    rt = next(r for r in got["by_source"] if r["value"] == "RT")
    assert rt["occurrences"] == total_o  # only RT says it
    assert next(r for r in got["by_source"] if r["value"] == "Reuters")["occurrences"] == 0
    years = {r["value"]: r["occurrences"] for r in got["by_year"]}
    assert sum(years.values()) == total_o and set(years) == {"2021", "2022"}
    assert len(got["positions"]) == sum(1 for o in occ if o)
    r = CliRunner().invoke(cli, ["dispersion", "aggression", "--index", str(base / "ix")])
    assert r.exit_code == 0 and "Gries' DP" in r.stdout and "|" in r.stdout.splitlines()[1]
    r = CliRunner().invoke(cli, ["dispersion", "zzzzq", "--index", str(base / "ix")])
    assert r.exit_code == 1


def test_watched_queries_name_their_new_matches(tmp_path):
    """A saved query's new matches over three indexing runs (files and records added,
    changed), counted against the texts; --new lists them once."""
    run = CliRunner().invoke
    corpus = tmp_path / "c"
    corpus.mkdir()
    arts = make(300, seed=7)

    def put(batch):
        for a in batch:
            (corpus / f"{a['id']}.md").write_text(
                f"---\ntitle: {a['title']}\nsource: {a['source']}\nlanguage: en\n---\n\n"
                f"{a['body']}\n",
                "utf-8",
            )

    def says(a, word):
        return word in WORD.findall(f"{a['title']} {a['body']}".lower())

    put(arts[:100])
    ix = str(tmp_path / "ix")
    assert run(cli, ["index", str(corpus), "--index", ix]).exit_code == 0
    r = run(cli, ["watch", "add", "nato", "nato", "--index", ix])
    assert r.exit_code == 0
    assert run(cli, ["watch", "add", "bad", "(nato", "--index", ix]).exit_code == 2
    put(arts[100:200])
    out = json.loads(run(cli, ["index", "--index", ix, "--json"]).stdout)
    first = {a["id"] for a in arts[100:200] if says(a, "nato")}
    assert out["watch"] == {"nato": len(first)} and first
    changed = dict(arts[0], body=arts[0]["body"] + "\n\nNato again.")  # an old one changes
    put([changed, *arts[200:300]])
    out = json.loads(run(cli, ["index", "--index", ix, "--json"]).stdout)
    second = {a["id"] for a in arts[200:300] if says(a, "nato")} | {arts[0]["id"]}
    assert out["watch"] == {"nato": len(second)}
    r = run(cli, ["watch", "show", "nato", "--new", "-n", "0", "--json", "--index", ix])
    shown = {h["id"].removesuffix(".md") for h in json.loads(r.stdout)["hits"]}
    assert shown == first | second
    r = run(cli, ["watch", "show", "nato", "--new", "--index", ix])
    assert r.exit_code == 1 and r.stdout.startswith("0 new matches")
    r = run(cli, ["watch", "show", "nope", "--index", ix])
    assert r.exit_code == 2 and "no watch named 'nope' (watches: nato)" in r.stderr
    assert run(cli, ["watch", "remove", "nato", "--index", ix]).exit_code == 0
    assert json.loads(run(cli, ["watch", "list", "--json", "--index", ix]).stdout) == {}
    out = json.loads(run(cli, ["index", "--index", ix, "--json"]).stdout)
    assert out["watch"] == {}


def test_words_of_a_whole_text_equal_each_word_folded():
    """Folding a whole text before splitting it gives the words that splitting it and
    folding each word gives, on 5,000 random texts holding the letters that fold apart
    (İ, Σ, the Kelvin sign), ё, accents, combining marks, abbreviations and numbers."""
    import random

    from corpus_search.vocab import WORD_RE, fold
    from corpus_search.wordcounts import words_of

    pieces = ["İstanbul", "ΟΔΟΣ", "ΣΟΦΙΑ", "Σ", "\u212aelvin", "k\u0301", "Ёлка", "ёж", "café",
              "U.S.", "3.14", "बेलारूस", "रूसी", "Straße", "ǅungla", "'", "-", " ", ", ", ".", "\n",
              "ΑΣ'Α", "word", "WORD", "e\u0301", "ﬁne"]  # fmt: skip
    rng = random.Random(26)
    for _ in range(5000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", " "]) for _ in range(10))
        assert words_of(text) == [fold(w) for w in WORD_RE.findall(text)], text


def test_a_helpers_error_is_raised_here_and_its_process_ends():
    """An error in the forked helper (a timeout, a bug) is raised in the caller with its
    message; the helper leaves no process behind."""
    import os

    from corpus_search import parallel
    from corpus_search.errors import CorpusSearchError, QueryTimeout

    def work(part):
        if part[0] >= 5000:  # the helper's half
            raise QueryTimeout("grain", 1.5)
        return sum(part)

    def children() -> set[str]:
        me = os.getpid()
        return set(open(f"/proc/{me}/task/{me}/children").read().split())

    before = children()
    with pytest.raises(CorpusSearchError, match="took longer than 1.5s"):
        parallel.split_work(list(range(10000)), work, lambda a, b: a + b)
    assert parallel.split_work(list(range(10000)), sum, lambda a, b: a + b) == sum(range(10000))
    assert children() == before  # no helper left, not even a zombie


def test_no_helper_when_asked_for_none(monkeypatch):
    """CORPUS_SEARCH_NO_FORK=1: the whole work here, no process forked (its pid is ours)."""
    import os

    from corpus_search import parallel

    monkeypatch.setattr(parallel, "FROM", 1)
    monkeypatch.setenv("CORPUS_SEARCH_NO_FORK", "1")
    pids = parallel.split_work(list(range(10)), lambda part: {os.getpid()}, set.union)
    assert pids == {os.getpid()}
    monkeypatch.delenv("CORPUS_SEARCH_NO_FORK")
    assert len(parallel.split_work(list(range(10)), lambda part: {os.getpid()}, set.union)) == 2
