"""Passage reuse on data built by rules from real articles (the BBC stories): a paragraph of
an earlier story lifted, with a light edit, into an unrelated later one; decoys that share
only a stock phrase or a short quote. The expected passages come from the rules that made
them; precision, recall and the earlier source must each be at least 0.95."""

from __future__ import annotations

import json
import random
import re

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

from conftest import CORPORA

BBC = CORPORA / "bbc-news-2225"
WORD = re.compile(r"\w+")
STOCK = "The government said in a statement on its website on Monday"


def stories(folder: str) -> list[tuple[str, list[str]]]:
    out = []
    for p in sorted((BBC / folder).glob("*.txt")):
        text = p.read_bytes().decode("utf-8", "replace").replace("\r", "")
        title, _, rest = text.strip().partition("\n")
        paras = [" ".join(x.split()) for x in rest.split("\n\n") if x.strip()]
        if paras:
            out.append((title.strip(), paras))
    return out


def eights(paras: list[str]) -> set[tuple[str, ...]]:
    ws = WORD.findall(" ".join(paras).lower())
    return {tuple(ws[i : i + 8]) for i in range(len(ws) - 7)}


def edit(para: str, rule: int) -> str:
    """The light edits a copy undergoes."""
    if rule == 0:  # typography
        return para.replace('"', "«").replace("'", "’").replace(" - ", " — ")
    if rule == 1:  # a word changed
        ws = para.split()
        ws[len(ws) // 2] = "reportedly"
        return " ".join(ws)
    if rule == 2:  # a sentence dropped
        sentences = re.split(r"(?<=\.) ", para)
        if len(sentences) >= 3:
            return " ".join(s for k, s in enumerate(sentences) if k != 1)
        return para
    return para


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    rng = random.Random(2026)
    sources = [s for s in stories("business") + stories("politics")]
    receivers = [s for s in stories("sport") + stories("entertainment")]
    decoys = stories("tech")
    rng.shuffle(sources)
    rng.shuffle(receivers)
    # stories that already share text with another (the BBC corpus has some) are left out:
    # an 8-word sequence in common, checked with plain sets
    chosen, seen = [], set()
    for story in sources + receivers + decoys:
        grams = eights(story[1])
        if grams & seen:
            continue
        seen |= grams
        chosen.append(story)
    pool = {id(x): x for x in chosen}
    src = [s for s in sources if id(s) in pool and any(len(p.split()) >= 40 for p in s[1])][:80]
    rec = [s for s in receivers if id(s) in pool][:80]
    dec = [s for s in decoys if id(s) in pool][:60]
    base = tmp_path_factory.mktemp("reuse")
    corpus = base / "c"
    corpus.mkdir()
    truth = []  # (source id, receiver id, the lifted text as placed in the receiver)

    def put(name, title, paras, date, source):
        (corpus / f"{name}.md").write_text(
            f"---\ntitle: {json.dumps(title)}\npublished: {date}\nsource: {source}\n"
            f"language: en\n---\n\n" + "\n\n".join(paras) + "\n",
            "utf-8",
        )

    for k, ((t1, p1), (t2, p2)) in enumerate(zip(src, rec)):
        lifted = next(p for p in p1 if len(p.split()) >= 40)
        copy = edit(lifted, k % 4)
        at = rng.randrange(len(p2) + 1)
        body = p2[:at] + [copy] + p2[at:]
        put(f"src-{k:03d}", t1, p1, f"2021-03-{1 + k % 28:02d}", "Wire A")
        put(f"rec-{k:03d}", t2, body, f"2022-05-{1 + k % 28:02d}", "Paper B")
        truth.append((f"src-{k:03d}.md", f"rec-{k:03d}.md", copy, lifted))
    for k, (t3, p3) in enumerate(dec):  # a stock phrase in each, a short quote in pairs
        quote = f'"{" ".join(p3[0].split()[:7])}"'
        paras = [*p3, STOCK + ".", f"As the minister put it, {quote}."]
        put(f"dec-{k:03d}", t3, paras, f"2022-06-{1 + k % 28:02d}", "Blog C")
        if k % 2:
            put(
                f"dec-{k:03d}-q",
                "Quoted",
                [f"He said {quote} and left."] * 1,
                "2022-07-01",
                "Blog D",
            )
    update_index(base / "ix", [corpus])
    return base, truth


def _covers(side: dict, body: str, planted: str) -> bool:
    """The passage found lies on the planted text (where the rules put it in the body): it
    covers at least 60% of it and runs at most a word or two past it (the next paragraph
    may begin with the same word in both articles: "The")."""
    at = body.find(planted)
    assert at >= 0
    start, end = side["start"], side["end"]
    overlap = min(end, at + len(planted)) - max(start, at)
    outside = (end - start) - max(0, overlap)
    return overlap >= 0.6 * len(planted) and outside <= 12


def test_passages_found_with_their_source_and_offsets(planted):
    base, truth = planted
    with CorpusIndex(base / "ix") as ix:
        result = ix.reuse(timeout=300)
        bodies = {}

        def body(doc_id):
            if doc_id not in bodies:
                bodies[doc_id] = ix.get(doc_id)["body"]
            return bodies[doc_id]

        found = result["passages"]
        expected = {(s, r): (copy, lifted) for s, r, copy, lifted in truth}
        right, wrong, direction = set(), [], 0
        for p in found:
            pair = (p["earlier"]["id"], p["later"]["id"])
            back = (p["later"]["id"], p["earlier"]["id"])
            if back in expected:
                wrong.append(p)  # the later one named as the source
                continue
            if pair not in expected:
                wrong.append(p)
                continue
            copy, lifted = expected[pair]
            if _covers(p["later"], body(pair[1]), copy) and _covers(
                p["earlier"], body(pair[0]), lifted
            ):
                right.add(pair)
                direction += 1
            else:
                wrong.append(p)
    precision = len(right) / max(1, len(right) + len(wrong))
    recall = len(right) / len(expected)
    assert precision >= 0.95, wrong[:3]
    assert recall >= 0.95, sorted(set(expected) - right)[:5]
    assert direction / max(1, len(right)) >= 0.95
    assert len(expected) >= 60


def test_reuse_json_on_the_command_line(planted):
    base, truth = planted
    r = CliRunner().invoke(
        cli, ["reuse", 'source:"Paper B" OR source:"Wire A"', "--json", "--index", str(base / "ix")]
    )
    assert r.exit_code == 0, r.stderr
    out = json.loads(r.stdout)
    assert set(out) == {"query", "articles", "passages"}
    p = out["passages"][0]
    assert set(p) == {"earlier", "later", "similarity", "words"}
    assert set(p["earlier"]) == {"id", "title", "source", "published", "start", "end"}
    assert 0 < p["similarity"] <= 1 and p["words"] >= 20


def test_show_reuse_marks_the_passages_of_an_article_with_their_sources(planted):
    base, truth = planted
    src, rec, copy, _lifted = truth[5]
    with CorpusIndex(base / "ix") as ix:
        passages = ix.reused_from(rec)
        assert [p["earlier"]["id"] for p in passages] == [src]
        body = ix.get(rec)["body"]
        p = passages[0]
        assert _covers(p["later"], body, copy)
        assert ix.reused_from(src) == []  # the source found nothing earlier
    r = CliRunner().invoke(cli, ["show", rec, "--reuse", "--index", str(base / "ix")])
    assert r.exit_code == 0 and "1 passage found in earlier articles" in r.stdout
    assert f"{src} (similarity" in r.stdout and "[[" in r.stdout
    r = CliRunner().invoke(cli, ["show", rec, "--reuse", "--json", "--index", str(base / "ix")])
    assert json.loads(r.stdout)["reused_from"][0]["earlier"]["id"] == src
