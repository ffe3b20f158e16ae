"""Ranked hits a researcher can trust: BM25 written out here, computed from the raw text the
test writes, is the oracle for single words, their forms, phrases and ANDs; ties come in the
order of their ids, the same after a rebuild.

The formula (the README's): a query word and its forms are one term, its term frequency the
occurrences of all of them in the title (counted twice) and the body, its document frequency
the articles with any of them; idf = ln(N / (df + 1)) + 1, k1 = 1.2, b = 0.75, an article's
length its number of words (title twice and body), stored as Whoosh's one-byte length code;
a phrase's term frequency is its occurrences, its idf the sum of its words'.
"""

from __future__ import annotations

import math
import random
import re
import shutil

import pytest

from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

FORMS = {
    "trade": ["trade", "trades", "traded", "trading"],
    "deficit": ["deficit", "deficits"],
    "gas": ["gas"],
    "ga": ["ga"],  # "Ga." for Georgia: another word, a rare one
    "oil": ["oil", "oils"],
    "grain": ["grain", "grains"],
}
FILLER = (
    "the officials said on monday that a new report from the minister about the region "
    "was published after a long meeting with partners in the capital"
).split()
WORD = re.compile(r"\w+")
K1, B = 1.2, 0.75


def make_corpus(n: int, seed: int = 31) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        words = [rng.choice(FILLER) for _ in range(rng.randint(20, 120))]
        for lexeme, forms in FORMS.items():
            p = {"ga": 0.01, "gas": 0.2}.get(lexeme, 0.15)
            for _ in range(rng.choice([0, 0, 1, 1, 2, 4]) if rng.random() < p else 0):
                words.insert(rng.randrange(len(words)), rng.choice(forms))
        if rng.random() < 0.05:  # the phrase, sometimes
            k = rng.randrange(len(words))
            words[k:k] = ["trade", "deficit"]
        title_words = [rng.choice(FILLER) for _ in range(rng.randint(3, 8))]
        if rng.random() < 0.1:
            title_words.insert(0, rng.choice(FORMS["trade"] + FORMS["gas"]))
        if i % 50 == 0:  # headline-only flashes, body-less: they tie
            words = []
        out.append({"id": f"a{i:05d}", "title": " ".join(title_words), "body": " ".join(words)})
    return out


def write(folder, articles):
    folder.mkdir(parents=True, exist_ok=True)
    for a in articles:
        text = f"---\ntitle: {a['title']}\nlanguage: en\n---\n\n{a['body']}\n"
        (folder / f"{a['id']}.md").write_text(text, "utf-8")


def quantized(length: int) -> int:
    from whoosh.util.numeric import byte_to_length, length_to_byte

    return byte_to_length(length_to_byte(length))


class Oracle:
    def __init__(self, articles):
        self.docs = []
        for a in articles:
            title = WORD.findall(a["title"].lower())
            body = WORD.findall(a["body"].lower())
            self.docs.append((a["id"], [title, title, body]))
        self.n = len(self.docs)
        lengths = [sum(len(s) for s in sections) for _, sections in self.docs]
        self.avg = sum(lengths) / self.n
        self.norm = [quantized(x) for x in lengths]

    def tf(self, sections, forms) -> int:
        return sum(1 for s in sections for w in s if w in forms)

    def phrase_tf(self, sections, first, second) -> int:
        return sum(1 for s in sections for a, b in zip(s, s[1:]) if a in first and b in second)

    def idf(self, df: int) -> float:
        return math.log(self.n / (df + 1)) + 1

    def bm25(self, tf: float, i: int, idf: float) -> float:
        return idf * (K1 + 1) * tf / (tf + K1 * (1 - B + B * self.norm[i] / self.avg))

    def word(self, lexeme) -> dict[str, float]:
        forms = set(FORMS[lexeme])
        tfs = [self.tf(sections, forms) for _, sections in self.docs]
        idf = self.idf(sum(1 for t in tfs if t))
        return {self.docs[i][0]: self.bm25(t, i, idf) for i, t in enumerate(tfs) if t}

    def phrase(self, first, second) -> dict[str, float]:
        a, b = set(FORMS[first]), set(FORMS[second])
        idf = sum(self.idf(sum(1 for _, s in self.docs if self.tf(s, f))) for f in (a, b))
        out = {}
        for i, (doc_id, sections) in enumerate(self.docs):
            t = self.phrase_tf(sections, a, b)
            if t:
                out[doc_id] = self.bm25(t, i, idf)
        return out

    @staticmethod
    def ranked(scores: dict[str, float], n: int = 20) -> list[str]:
        return sorted(scores, key=lambda d: (-round(scores[d], 9), d))[:n]


@pytest.fixture(scope="module")
def ranked(tmp_path_factory):
    base = tmp_path_factory.mktemp("rank")
    articles = make_corpus(2500)
    write(base / "c", articles)
    update_index(base / "ix", [base / "c"])  # two writer processes: several segments
    return articles, base, Oracle(articles)


def top(ix, query, n=20):
    r = ix.search(query, limit=n, snippets=False)
    return [h.record["id"].removesuffix(".md") for h in r.hits], {
        h.record["id"].removesuffix(".md"): h.score for h in r.hits
    }


@pytest.mark.parametrize("lexeme", ["trade", "deficit", "gas", "oil", "grain", "ga"])
def test_single_words_rank_as_the_oracle_does(ranked, lexeme):
    _, base, oracle = ranked
    want = oracle.word(lexeme)
    with CorpusIndex(base / "ix") as ix:
        for form in FORMS[lexeme]:  # which form is typed never changes the order
            got, scores = top(ix, form)
            assert got == Oracle.ranked(want), form
            for d in got:
                assert scores[d] == pytest.approx(want[d], rel=1e-4), (form, d)


def test_a_rare_word_gets_no_weight_of_its_own(ranked):
    """gas and ga are different words (as they should be): gas's top ten are about gas."""
    articles, base, oracle = ranked
    with CorpusIndex(base / "ix") as ix:
        got, _ = top(ix, "gas", 10)
    texts = {a["id"]: f"{a['title']} {a['body']}".split() for a in articles}
    assert all("gas" in texts[d] for d in got)


def test_phrases_score_their_occurrences(ranked):
    _, base, oracle = ranked
    want = oracle.phrase("trade", "deficit")
    assert len(want) > 20
    with CorpusIndex(base / "ix") as ix:
        got, scores = top(ix, '"trade deficit"')
        assert got == Oracle.ranked(want)
        assert all(scores[d] == pytest.approx(want[d], rel=1e-4) for d in got)
        assert top(ix, '"trading deficits"')[0] == got  # forms of the words: the same


def test_and_adds_the_words_scores(ranked):
    _, base, oracle = ranked
    a, b = oracle.word("oil"), oracle.word("grain")
    want = {d: a[d] + b[d] for d in a.keys() & b.keys()}
    with CorpusIndex(base / "ix") as ix:
        got, scores = top(ix, "oil grain")
        assert got == Oracle.ranked(want)
        got_or, _ = top(ix, "oils OR grains", 20)
    either = {d: a.get(d, 0) + b.get(d, 0) for d in a.keys() | b.keys()}
    assert got_or == Oracle.ranked(either)


def test_ties_come_in_id_order_across_a_rebuild(ranked, tmp_path):
    """Body-less flashes with the same headline tie; they come in the order of their ids,
    before and after the index is rebuilt in another order of segments."""
    articles, base, _ = ranked
    corpus = tmp_path / "c"
    shutil.copytree(base / "c", corpus)
    for i in range(30):  # identical flashes, written in reverse order
        (corpus / f"z-flash-{29 - i:02d}.md").write_text(
            "---\ntitle: Wheat corn flash\nlanguage: en\n---\n", "utf-8"
        )
    update_index(tmp_path / "ix", [corpus], batch_size=700)
    with CorpusIndex(tmp_path / "ix") as ix:
        first = [h.record["id"] for h in ix.search("wheat OR corn", limit=12).hits]
        page2 = [h.record["id"] for h in ix.search("wheat OR corn", limit=12, page=2).hits]
    assert first + page2 == [f"z-flash-{i:02d}.md" for i in range(24)]
    update_index(tmp_path / "ix", rebuild=True, batch_size=300)
    with CorpusIndex(tmp_path / "ix") as ix:
        again = [h.record["id"] for h in ix.search("wheat OR corn", limit=24).hits]
    assert again == first + page2


def test_explain_shows_how_each_score_was_made(ranked):
    """explain: the hits of a search, each score taken apart term by term (the oracle's
    numbers), the parts adding up to the score; the forms each word stood for."""
    _, base, oracle = ranked
    with CorpusIndex(base / "ix") as ix:
        out = ix.explain('trading "trade deficit"', hits=5)
        got, scores = top(ix, 'trading "trade deficit"', 5)
    assert [h["id"].removesuffix(".md") for h in out["hits"]] == got
    word = oracle.word("trade")
    phrase = oracle.phrase("trade", "deficit")
    for hit in out["hits"]:
        doc = hit["id"].removesuffix(".md")
        terms = {t["term"]: t for t in hit["terms"]}
        assert set(terms) == {"trading", '"trade deficit"'}
        assert terms["trading"]["score"] == pytest.approx(word[doc], rel=1e-4)
        assert terms['"trade deficit"']["score"] == pytest.approx(phrase[doc], rel=1e-4)
        assert sum(t["score"] for t in hit["terms"]) == pytest.approx(hit["score"], rel=1e-6)
        assert hit["score"] == pytest.approx(scores[doc], rel=1e-6)
    (trading,) = [w for w in out["words"] if w["word"] == "trading"]
    (en,) = trading["languages"]
    assert en["language"] == "en" and {f["form"] for f in en["forms"]} == set(FORMS["trade"])
