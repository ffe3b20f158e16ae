"""The query language against the sample corpus, with the exact set of ids each query returns."""

from __future__ import annotations

import pytest

from corpus_search.errors import QueryError
from corpus_search.query import And, MatchAll, Not, Or, Phrase, Range, Term, parse_query
from corpus_search.search import Filters

PN = "politnavigator/"


def ids(ix, q, **kw):
    r = ix.search(q, limit=100, **kw)
    got = {h.record["id"] for h in r.hits}
    assert r.total == len(got)
    return got


@pytest.mark.parametrize(
    "query,expected",
    [
        (
            "sanction",
            {
                PN + "2021/sanctions-ferry.txt",
                "baltic-monitor/2023/sanctions-transit.md",
                PN + "2021/astana-sanctions-forum.txt",
                "baltic-monitor/2021/vilnius-migrants.md",
                PN + "2022/belarus-potash.txt",
            },
        ),
        ("Sanctions Kaliningrad", {"baltic-monitor/2023/sanctions-transit.md"}),
        ("sanctions AND kaliningrad", {"baltic-monitor/2023/sanctions-transit.md"}),
        ("санкций", {PN + "ru/sanktsii-kazakhstan.txt"}),
        ("санкции", {PN + "ru/sanktsii-kazakhstan.txt"}),
        ("еще", {PN + "ru/gaz-moldova.txt"}),  # ё folded: the text says "ещё"
        ("place:кишинев", {PN + "ru/gaz-moldova.txt"}),  # Кишинёв
        ("potash OR ferry", {PN + "2022/belarus-potash.txt", PN + "2021/sanctions-ferry.txt"}),
        (
            "sanctions -category:russia",
            {"baltic-monitor/2021/vilnius-migrants.md", PN + "2021/astana-sanctions-forum.txt"},
        ),
        (
            "sanctions NOT (category:russia OR category:belarus)",
            {PN + "2021/astana-sanctions-forum.txt"},
        ),
        (
            "sanctions -lithuania",
            {PN + "2021/sanctions-ferry.txt", PN + "2021/astana-sanctions-forum.txt"},
        ),
        ("(coal OR potash) prices", {"steppe-herald/2021-11-coal-prices.md"}),
        (
            '"open skies"',
            {PN + "2021/kazakhstan-open-skies.txt", PN + "2021/astana-sanctions-forum.txt"},
        ),
        ('"skies open"', set()),
        ('"skies are open"', set()),
        ('"skies over the steppe are open"', {PN + "2021/kazakhstan-open-skies.txt"}),
        ('"sanction"', {PN + "2021/sanctions-ferry.txt"}),  # quoted: as written, not stemmed
        (
            "governm*",
            {
                PN + "2021/kyiv-gas-transit.txt",
                PN + "2022/dushanbe-water.txt",
                PN + "2023/armenia-railway.txt",
                "baltic-monitor/2022/energy-bills.md",
                "baltic-monitor/2021/riga-russian-schools.md",
                "baltic-monitor/2021/vilnius-migrants.md",
                "steppe-herald/2022-01-protests.md",
                "steppe-herald/2021-11-coal-prices.md",
            },
        ),
        (
            "kaliningr?d",
            {PN + "2022/nato-exercise-baltic.txt", "baltic-monitor/2023/sanctions-transit.md"},
        ),
        (
            "Kalinigrad~",
            {PN + "2022/nato-exercise-baltic.txt", "baltic-monitor/2023/sanctions-transit.md"},
        ),
        (
            "title:sanctions",
            {
                PN + "2021/sanctions-ferry.txt",
                "baltic-monitor/2023/sanctions-transit.md",
                PN + "2021/astana-sanctions-forum.txt",
            },
        ),
        (
            'author:"Peeter Kask"',
            {
                "baltic-monitor/2022/tallinn-monument.md",
                "baltic-monitor/2022/energy-bills.md",
                "baltic-monitor/2023/nato-summit.md",
            },
        ),
        (
            "author:peeter*",
            {
                "baltic-monitor/2022/tallinn-monument.md",
                "baltic-monitor/2022/energy-bills.md",
                "baltic-monitor/2023/nato-summit.md",
            },
        ),
        ("category:Скандал", {PN + "2021/kazakhstan-open-skies.txt", PN + "ru/vybory-gruziya.txt"}),
        ("category:скандал", {PN + "2021/kazakhstan-open-skies.txt", PN + "ru/vybory-gruziya.txt"}),
        ("tag:aviation", {PN + "2021/kazakhstan-open-skies.txt"}),
        ("place:almaty", {PN + "2021/kazakhstan-open-skies.txt", PN + "2023/almaty-metro.txt"}),
        (
            'source:"Steppe Herald" lang:ru',
            {"steppe-herald/2022-09-water-ru.md", "steppe-herald/2023-10-railway-ru.md"},
        ),
        ("published:2021-07", set()),
        ("published:2022-07", {PN + "2022/dushanbe-water.txt"}),
        (
            "published:2022-07-02",
            {PN + "2022/dushanbe-water.txt"},
        ),  # 23:14 Moscow time: its own date
        ("published:2022-07-03", set()),
        (
            "published:[2021-05-01 TO 2021-08-10]",
            {
                "steppe-herald/2021-05-river-pollution.md",
                PN + "2021/kazakhstan-open-skies.txt",
                "baltic-monitor/2021/vilnius-migrants.md",
                PN + "2021/sanctions-ferry.txt",
            },
        ),
        ("published:>2023-10", {PN + "2023/almaty-metro.txt"}),
        (
            "views:>15000",
            {"steppe-herald/2022-01-protests.md", PN + "2022/nato-exercise-baltic.txt"},
        ),
        (
            "views:[15003 TO 25410]",
            {"steppe-herald/2022-01-protests.md", PN + "2022/nato-exercise-baltic.txt"},
        ),
        ("views:{15003 TO 25410]", {"steppe-herald/2022-01-protests.md"}),
        ("words:0", {"wire/2022-ceasefire-brief.txt"}),
        ("id:wire/2023-grain-deal.txt", {"wire/2023-grain-deal.txt"}),
    ],
)
def test_query_language(ix, query, expected):
    assert ids(ix, query) == expected


def test_match_all(ix, sample_records):
    every = {r["id"] for r in sample_records}
    assert ids(ix, "") == every
    assert ids(ix, "*") == every
    assert ids(ix, "NOT kazakhstan") == every - ids(ix, "kazakhstan")


def test_stemming_joins_word_forms(ix):
    assert ids(ix, "governments") == ids(ix, "government") == ids(ix, "governm*")
    assert ids(ix, '"governments"') == {
        PN + "2021/kyiv-gas-transit.txt",  # as written
        PN + "2022/dushanbe-water.txt",
    }
    assert ids(ix, "санкциями") == ids(ix, "санкции")


def test_case_insensitive(ix):
    assert ids(ix, "KALININGRAD") == ids(ix, "kaliningrad")


def test_phrase_slop(ix):
    # "...the skies over the steppe are open...": four words between "skies" and "open"
    assert ids(ix, '"skies open"~3') == set()
    assert ids(ix, '"skies open"~4') == {PN + "2021/kazakhstan-open-skies.txt"}
    assert ids(ix, '"skies steppe"') == set()
    assert ids(ix, '"skies steppe"~2') == {PN + "2021/kazakhstan-open-skies.txt"}
    assert ids(ix, '"steppe skies"~9') == set()  # order matters


def test_title_ranked_above_body(ix):
    r = ix.search("kaliningrad")
    assert r.hits[0].record["id"] == "baltic-monitor/2023/sanctions-transit.md"  # in its title


def test_sorting_and_paging(ix):
    newest = ix.search("*", sort="-date", limit=3)
    assert [h.record["published"][:10] for h in newest.hits] == [
        "2023-12-30",
        "2023-10-03",
        "2023-07-10",
    ]
    oldest = ix.search("published:2021", sort="date", limit=2)
    assert [h.record["id"] for h in oldest.hits] == [
        "steppe-herald/2021-05-river-pollution.md",
        PN + "2021/kazakhstan-open-skies.txt",
    ]
    views = ix.search("views:>0", sort="-views", limit=2)
    assert [h.record["views"] for h in views.hits] == [25410, 15003]
    assert all(h.score is None for h in views.hits)
    pages = [ix.search("*", sort="-date", limit=8, page=p) for p in (1, 2, 3, 4, 5, 6)]
    seen = [h.record["id"] for p in pages for h in p.hits]
    assert len(seen) == len(set(seen)) == pages[0].total == 42
    assert [h.rank for h in pages[1].hits] == list(range(9, 17))
    assert pages[5].hits and len(pages[5].hits) == 2
    assert ix.search("*", limit=10, page=9).hits == []


def test_snippets_mark_stems_and_phrases(ix):
    r = ix.search("sanction kaliningrad")
    hit = next(h for h in r.hits if h.record["id"] == "baltic-monitor/2023/sanctions-transit.md")
    text = hit.to_dict()["snippets"]
    joined = " ".join(text)
    assert "[[sanctions]]" in joined and "[[Kaliningrad]]" in joined
    assert hit.title == [
        ("Sanctions", True),
        (" and transit: what ", False),
        ("Kaliningrad", True),
        (" can still receive", False),
    ]

    r = ix.search('"open skies"')
    hit = next(h for h in r.hits if h.record["id"] == PN + "2021/kazakhstan-open-skies.txt")
    snippets = hit.to_dict("<b>", "</b>")["snippets"]
    joined = " ".join(snippets)
    assert "<b>open skies</b>" in joined
    # the words apart are not marked: "skies over the steppe are open"
    assert "<b>skies</b>" not in joined and "<b>open</b>" not in joined
    assert snippets[0].startswith(
        "Deputies of the Mazhilis have begun to discuss the <b>open skies</b> agreement"
    )


def test_snippet_from_far_into_a_long_article(tmp_path):
    from corpus_search.indexer import update_index
    from corpus_search.search import CorpusIndex

    corpus = tmp_path / "c"
    corpus.mkdir()
    filler = "\n\n".join(
        "Paragraph %d about routine matters of the harbour." % i for i in range(1500)
    )
    (corpus / "long.txt").write_text(
        f"Long report\n\n{filler}\n\nThe zeppelin landed at dawn.\n", "utf-8"
    )
    assert len((corpus / "long.txt").read_bytes()) > 60_000
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        hit = ix.search("zeppelin").hits[0]
    [snippet] = hit.to_dict()["snippets"]
    assert snippet.startswith("…") and snippet.endswith("The [[zeppelin]] landed at dawn.")
    assert len(snippet) < 220


def test_did_you_mean(ix):
    r = ix.search("Kazakstan")
    assert r.total == 0 and r.suggestion == "kazakhstan"
    r = ix.search("sanctions Kaliningrat")
    assert r.total == 0 and r.suggestion == "sanctions kaliningrad"
    assert ix.search("xqzvw").suggestion is None


def test_filters_narrow_without_changing_scores(ix):
    plain = {h.record["id"]: h.score for h in ix.search("sanctions", limit=50).hits}
    narrowed = ix.search("sanctions", filters=Filters(source=["PolitNavigator"]), limit=50)
    assert {h.record["id"] for h in narrowed.hits} == {i for i in plain if i.startswith(PN)}
    for h in narrowed.hits:
        assert h.score == pytest.approx(plain[h.record["id"]])
    assert narrowed.filters == {"source": ["PolitNavigator"]}


@pytest.mark.parametrize(
    "query,message",
    [
        ("title:(foo", "unbalanced '(': no ')' closes it"),
        ('"unclosed phrase', "unbalanced quote"),
        ("a)", "unbalanced ')'"),
        ("foo:bar", "unknown field 'foo:'"),
        ("views:abc", "views needs a whole number, got 'abc'"),
        ("views:>x", "views needs a whole number, got 'x'"),
        ("date:garbage", "needs a date like 2021, 2021-07 or 2021-07-02, got 'garbage'"),
        ("published:2021-13", "is not a real date"),
        ("published:2021-02-29", "February 2021 has 28 days"),
        ("published:[2022 TO 2021]", "is empty"),
        ("views:[1 TO", "unbalanced '['"),
        ("a OR", "OR needs a term on both sides"),
        ("AND a", "AND needs a term on both sides"),
        ("NOT", "'NOT' needs a term after it"),
        ("()", "empty parentheses"),
        ("title:", "needs a value"),
        ("x~3", "fuzzy '~3' takes 1 or 2"),
        ("author:[a TO b]", "ranges work on published, views and words"),
        ("—", "has no letters or digits"),
    ],
)
def test_malformed_queries(ix, query, message):
    with pytest.raises(QueryError) as err:
        ix.search(query)
    assert message in str(err.value)
    assert query in str(err.value) and "\n" not in str(err.value)


def test_tree():
    assert parse_query('a "b c"~2 -d') == And(
        (Term("a", pos=0), Phrase(("b", "c"), None, 2, 2), Not(Term("d", pos=11)))
    )
    assert parse_query("x OR y") == Or((Term("x", pos=0), Term("y", pos=5)))
    assert parse_query("published:2021") == Range("published", 20210101, 20211231, 0)
    assert parse_query("*") == MatchAll()


def test_wildcard_too_broad(tmp_path):
    from corpus_search.indexer import update_index
    from corpus_search.search import CorpusIndex

    corpus = tmp_path / "c"
    corpus.mkdir()
    words = " ".join(f"w{i:05d}" for i in range(3000))
    (corpus / "a.txt").write_text(f"Many words\n\n{words}\n", "utf-8")
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        with pytest.raises(QueryError, match="matches more than 2000 different words"):
            ix.search("w*")
        assert ix.search("w0001*").total == 1


def test_words_glued_by_a_dot_are_two_words(tmp_path):
    """Scraped text often loses the space after a full stop: 'Bradley.Еще' is two words, while
    abbreviations (U.S.) and decimal numbers (3.5) stay one."""
    from corpus_search.indexer import update_index
    from corpus_search.search import CorpusIndex
    from corpus_search.vocab import words

    assert words("Bradley.Еще U.S.-led 3.5% e.g. B.Then 192.168.0.1 2021.Год") == [
        "Bradley",
        "Еще",
        "U.S",
        "led",
        "3.5",
        "e.g",
        "B",
        "Then",
        "192.168.0.1",
        "2021",
        "Год",
    ]
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "Glued\n\nThe talks ended with Bradley.Еще one U.S. envoy left with 3.5 billion.\n", "utf-8"
    )
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        for query in ("bradley", "ещё", "еще", '"U.S."', "3.5", '"bradley еще"'):
            r = ix.search(query)
            assert r.total == 1, query
        assert ix.search("u").total == 0  # an abbreviation is not split into letters
        snippet = ix.search("ещё").hits[0].to_dict()["snippets"][0]
        assert "Bradley.[[Еще]] one" in snippet


def test_word_matches_equal_a_plain_scan_of_every_word():
    """Snippets and concordances find a query's words by their first letters and check the
    rest only there (fast); the reference here reads every word of the text, as the index
    tokenises it, and asks each whether it matches: the same spans on 3,000 random texts of
    words with accents, capitals, combining marks (Devanagari vowel signs), apostrophes and
    digits glued on, for words, accent-free forms and stems."""
    import random

    from corpus_search.languages import stem
    from corpus_search.snippets import MatchSpec, find_matches
    from corpus_search.vocab import WORD_RE, fold, fold_accents

    pieces = ["gov", "Gov", "gòv", "GOV", "govern", "government", "governments", "ogov", "2gov",
              "रूस", "बेलारूस", "रूसी", "киев", "Киеве", "киевский", "o'gov", "gov's", "café",
              "cafe", "CAFÉS", "x", "-", " ", "  ", ", ", ".", "\n", "ё", "елка", "ёлка"]  # fmt: skip
    rng = random.Random(2024)
    specs = []
    for words, folded, stems in (
        ({"govern"}, set(), set()),
        (set(), {"रूस", "cafe"}, set()),
        (set(), set(), {stem("government"), stem("киеве")}),
        ({"gòv"}, {"елка"}, {stem("cafes")}),
    ):
        specs.append(MatchSpec(stems=set(stems), words=set(words), folded=set(folded)))

    def reference(text: str, spec: MatchSpec) -> list[tuple[int, int, str]]:
        out = []
        for m in WORD_RE.finditer(text):
            word = fold(m.group())
            folded = fold_accents(word)
            key = spec.key_of(word, folded, stem(folded) if spec.stems else None)
            if key is not None:
                out.append((m.start(), m.end(), key))
        return out

    for _ in range(3000):
        text = "".join(rng.choice(pieces) + rng.choice(["", " ", " ", ", "]) for _ in range(12))
        for spec in specs:
            assert find_matches(text, spec) == reference(text, spec), (text, spec.to_dict())
