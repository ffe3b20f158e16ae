"""Every form of a word in its article's language, and only those.

The paradigms below are written out by hand (English and Portuguese forms that share a
Snowball stem, Russian and Ukrainian names and places in their cases, an adjective that is
another word); the expected hits are computed here from the texts the test writes, never from
corpus-search's own output. The corpus has the shape of real use: thousands of articles in
five languages, default settings (two writer processes, several segments), and an update.
"""

from __future__ import annotations

import json
import random
import re
import shutil
from pathlib import Path

import pytest

from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

EN_LEXEMES = {
    "trade": ["trade", "trades", "traded", "trading"],
    "ship": ["ship", "ships", "shipped", "shipping"],
    "make": ["make", "makes", "making"],
    "close": ["close", "closes", "closed", "closing"],
    "cut": ["cut", "cuts", "cutting"],
    "hope": ["hope", "hopes", "hoped", "hoping"],
    "barbados": ["barbados"],
    "barbara": ["barbara"],
    "high": ["high"],
    "higher": ["higher"],
    "seller": ["seller"],
}
PT_LEXEMES = {
    "ataque": ["ataque", "ataques"],
    "governo": ["governo", "governos"],
    "barbara": ["barbara"],  # Portuguese Snowball gives barbara and barbados one stem
    "barbados": ["barbados"],
    "higher": ["higher"],  # an English word in Portuguese text: pt stems it to 'high'
}
RU_LEXEMES = {
    "киев": ["киев", "киева", "киеву", "киевом", "киеве"],
    "харьков": ["харьков", "харькова", "харькову", "харьковом", "харькове"],
    "песков": ["песков", "пескова", "пескову", "песковым", "пескове"],
    "ростов": ["ростов", "ростова", "ростову", "ростовом", "ростове"],
    "лавров": ["лавров", "лаврова", "лаврову", "лавровым", "лаврове"],
    "медведев": ["медведев", "медведева", "медведеву", "медведевым", "медведеве"],
    "зенит": ["зенит", "зенита", "зениту", "зенитом", "зените"],
    "киевский": ["киевский", "киевского", "киевскому", "киевским", "киевском"],
    "санкция": ["санкция", "санкции", "санкций", "санкциям", "санкциями", "санкциях"],
}
UK_LEXEMES = {
    "київ": ["київ", "києва", "києву", "києвом", "києві"],
    "харків": ["харків", "харкова", "харкову", "харковом", "харкові"],
    "львів": ["львів", "львова", "львову", "львовом", "львові"],
}
FILLER = {
    "en": "the officials said on monday that new report from minister about region was "
    "published after meeting with partners".split(),
    "pt": "o governo disse na segunda que novo relatório do ministro sobre região foi "
    "publicado depois da reunião com parceiros".split(),
    "ru": "в понедельник министр заявил что новый доклад о регионе был опубликован после "
    "встречи с партнерами".split(),
    "uk": "у понеділок міністр заявив що нова доповідь про регіон була оприлюднена після "
    "зустрічі з партнерами".split(),
    "bg": "в понеделник министърът заяви че новият доклад за региона беше публикуван след "
    "срещата с партньорите".split(),
}
LEXEMES = {"en": EN_LEXEMES, "pt": PT_LEXEMES, "ru": RU_LEXEMES, "uk": UK_LEXEMES, "bg": {}}


def make_articles(counts: dict[str, int], seed: int = 30) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for lang, n in counts.items():
        lexemes = LEXEMES[lang]
        for i in range(n):
            words = []
            for _ in range(rng.randint(25, 60)):
                if lexemes and rng.random() < 0.12:
                    words.append(rng.choice(rng.choice(list(lexemes.values()))))
                else:
                    words.append(rng.choice(FILLER[lang]))
            if lang == "bg" and rng.random() < 0.3:
                words.append(rng.choice(["киев", "киева", "санкции", "санкциите"]))  # bg forms
            out.append(
                {
                    "id": f"{lang}-{i:05d}",
                    "lang": lang,
                    "title": " ".join(words[:6]).capitalize(),
                    "body": " ".join(words[6:]).capitalize() + ".",
                }
            )
    return out


def write(folder: Path, articles: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for a in articles:
        (folder / f"{a['id']}.md").write_text(
            f"---\ntitle: {json.dumps(a['title'], ensure_ascii=False)}\nlanguage: {a['lang']}"
            f"\n---\n\n{a['body']}\n",
            "utf-8",
        )


WORD = re.compile(r"\w+")


def having(articles: list[dict], forms: list[str], lang: str | None = None) -> set[str]:
    """The oracle: articles (of ``lang``) whose text holds any of ``forms`` as a word."""
    wanted = set(forms)
    return {
        a["id"]
        for a in articles
        if (lang is None or a["lang"] == lang)
        and wanted & set(WORD.findall(f"{a['title']} {a['body']}".lower()))
    }


def ids(ix: CorpusIndex, query: str) -> set[str]:
    r = ix.search(query, limit=100_000, snippets=False)
    return {h.record["id"].removesuffix(".md") for h in r.hits}


COUNTS = {"en": 1500, "pt": 400, "ru": 700, "uk": 300, "bg": 200}


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    """The same English (and Russian) articles alone, and beside articles in other languages;
    the mixed index built in two runs (an update adds the Ukrainian and Bulgarian ones)."""
    base = tmp_path_factory.mktemp("forms")
    articles = make_articles(COUNTS)
    alone = [a for a in articles if a["lang"] in ("en", "ru")]
    write(base / "alone", alone)
    write(base / "mixed", [a for a in articles if a["lang"] not in ("uk", "bg")])
    update_index(base / "ix-alone", [base / "alone"])
    update_index(base / "ix-mixed", [base / "mixed"])
    write(base / "mixed", [a for a in articles if a["lang"] in ("uk", "bg")])
    r = update_index(base / "ix-mixed")
    assert r.added == COUNTS["uk"] + COUNTS["bg"]
    return articles, base


def test_the_index_has_several_segments(corpora):
    from corpus_search.postings import Snapshot
    from corpus_search.store import IndexFolder

    _, base = corpora
    folder = IndexFolder(base / "ix-mixed")
    snap = Snapshot(folder.open(), folder.path)
    try:
        assert len(snap.leaves) >= 3
    finally:
        snap.close()


@pytest.mark.parametrize("lexeme", ["trade", "ship", "make", "close", "cut", "hope"])
def test_english_forms_of_one_stem_find_the_same_articles(corpora, lexeme):
    articles, base = corpora
    forms = EN_LEXEMES[lexeme]
    want = having(articles, forms, "en")
    assert want
    with CorpusIndex(base / "ix-mixed") as ix:
        for form in forms:
            got = {i for i in ids(ix, form) if i.startswith("en-")}
            assert got == want, form


@pytest.mark.parametrize("lexeme", ["ataque", "governo"])
def test_portuguese_forms_still_meet_in_portuguese_articles(corpora, lexeme):
    articles, base = corpora
    forms = PT_LEXEMES[lexeme]
    with CorpusIndex(base / "ix-mixed") as ix:
        for form in forms:
            assert ids(ix, form) == having(articles, forms, "pt") != set(), form


def test_other_languages_stems_do_not_leak_into_english_articles(corpora):
    """Metamorphic: every English word finds exactly the same English articles with and
    without the Portuguese, Ukrainian and Bulgarian articles beside them."""
    articles, base = corpora
    vocabulary = sorted(
        {w for a in articles if a["lang"] == "en" for w in WORD.findall(a["body"].lower())}
    )
    assert len(vocabulary) > 30
    with CorpusIndex(base / "ix-alone") as alone, CorpusIndex(base / "ix-mixed") as mixed:
        for word in vocabulary:
            a = {i for i in ids(alone, word) if i.startswith("en-")}
            m = {i for i in ids(mixed, word) if i.startswith("en-")}
            assert a == m, word


def test_a_word_finds_only_what_says_it_in_english(corpora):
    """barbados and barbara share a Portuguese stem: in English articles each finds itself;
    higher is not a form of high in English (the Portuguese stemmer says otherwise)."""
    articles, base = corpora
    with CorpusIndex(base / "ix-mixed") as ix:
        for word in ("barbados", "barbara", "high", "higher", "seller"):
            got = {i for i in ids(ix, word) if i.startswith("en-")}
            assert got == having(articles, [word], "en") != set(), word
        # in Portuguese articles the Portuguese rule holds
        pt = {i for i in ids(ix, "barbados") if i.startswith("pt-")}
        assert pt == having(articles, ["barbados", "barbara"], "pt")


@pytest.mark.parametrize("lexeme", sorted(RU_LEXEMES))
def test_russian_names_and_places_in_every_case(corpora, lexeme):
    """Whichever case is typed, a name finds every article with any of its cases (recall and
    precision 1.0 on these paradigms); an adjective from the name is another word."""
    articles, base = corpora
    forms = RU_LEXEMES[lexeme]
    want = having(articles, forms, "ru")
    assert want
    with CorpusIndex(base / "ix-mixed") as ix:
        for form in forms:
            got = {i for i in ids(ix, form) if i.startswith("ru-")}
            assert got == want, form
    if lexeme == "киев":
        adjective = having(articles, RU_LEXEMES["киевский"], "ru") - want
        assert adjective  # articles with киевский only: not found by киев


@pytest.mark.parametrize("lexeme", sorted(UK_LEXEMES))
def test_ukrainian_names_in_every_case_by_ukrainian_rules(corpora, lexeme):
    articles, base = corpora
    forms = UK_LEXEMES[lexeme]
    with CorpusIndex(base / "ix-mixed") as ix:
        for form in forms:
            assert ids(ix, form) == having(articles, forms, "uk") != set(), form


def test_russian_rules_do_not_apply_in_bulgarian_articles(corpora):
    """A Cyrillic word in a Bulgarian article is read by Bulgarian rules, not Russian ones:
    киев finds the Bulgarian articles that say киев, not those that say only киева."""
    articles, base = corpora
    with CorpusIndex(base / "ix-mixed") as ix:
        got = {i for i in ids(ix, "киев") if i.startswith("bg-")}
        assert got == having(articles, ["киев"], "bg")
        ru = {i for i in ids(ix, "киев") if i.startswith("ru-")}
        assert ru == having(articles, RU_LEXEMES["киев"], "ru")


def test_quoted_words_and_wildcards_stay_on_the_form_typed(corpora):
    articles, base = corpora
    with CorpusIndex(base / "ix-mixed") as ix:
        assert ids(ix, '"киева"') == having(articles, ["киева"])
        assert ids(ix, '"trading"') == having(articles, ["trading"])
        assert ids(ix, "tradin*") == having(articles, ["trading"])


def test_phrases_use_each_articles_language(corpora, tmp_path):
    corpus = tmp_path / "c"
    arts = [
        {"id": "en-1", "lang": "en", "title": "Trading ships", "body": "Shipping trade grew."},
        {"id": "en-2", "lang": "en", "title": "Ship trades", "body": "Nothing else."},
        {
            "id": "ru-1",
            "lang": "ru",
            "title": "Песков о Киеве",
            "body": "Пескова спросили о санкциях.",
        },
        {"id": "ru-2", "lang": "ru", "title": "Другое", "body": "Санкции против Пескова."},
    ]
    write(corpus, arts)
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        assert ids(ix, '"ship trade"') == {"en-1", "en-2"}  # shipping trade, ship trades
        assert ids(ix, '"trade ship"') == {"en-1"}  # trading ships
        assert ids(ix, '"санкция против песков"') == {"ru-2"}
        assert ids(ix, '"песков о киев"') == {"ru-1"}


def test_articles_of_unknown_language_follow_the_words_script(tmp_path):
    """An article whose language is not known is read by English rules for Latin words and
    Russian rules for Cyrillic ones (documented); a path rule can give it a language."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "short.txt").write_text("Trading\n\nKiev shipping 12 34 56\n", "utf-8")
    (corpus / "ru.txt").write_text("Киева\n\n12 34\n", "utf-8")
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        assert {h.record["language"] for h in ix.search("*").hits} == {None}
        assert ids(ix, "trade") == {"short.txt"} and ids(ix, "ship") == {"short.txt"}
        assert ids(ix, "киев") == {"ru.txt"}


def test_tables_are_written_per_segment_and_cleaned_with_them(tmp_path):
    from corpus_search.store import IndexFolder

    articles = make_articles({"en": 60, "ru": 30})
    write(tmp_path / "c", articles)
    update_index(tmp_path / "ix", [tmp_path / "c"])
    gen = IndexFolder(tmp_path / "ix").generation_path(IndexFolder(tmp_path / "ix").require_meta())
    tables = sorted(p.name.split(".", 1)[1] for p in gen.glob("*.forms-*"))
    assert tables == ["forms-en", "forms-ru"]
    first = {p.name for p in gen.glob("*.forms-*")}
    # a rebuild makes a new generation; an update with a merge leaves no table without segment
    for i in range(12):  # twelve small commits: the small segments merge
        (tmp_path / "c" / f"extra-{i}.md").write_text(f"Extra {i}\n\ntrading ships\n", "utf-8")
        update_index(tmp_path / "ix")
    segments = {p.name.split(".")[0] for p in gen.iterdir() if p.name.endswith(".trm")}
    tables = {p.name.split(".")[0] for p in gen.glob("*.forms-*")}
    update_index(tmp_path / "ix")  # the next run removes what the merges left
    tables = {p.name.split(".")[0] for p in gen.glob("*.forms-*")}
    segments = {p.name.split(".")[0] for p in gen.iterdir() if p.name.endswith(".trm")}
    assert tables == segments and first  # every segment has its tables, no stray ones
    with CorpusIndex(tmp_path / "ix") as ix:
        assert len(ids(ix, "trade")) == 12 + len(having(articles, EN_LEXEMES["trade"], "en"))


def test_the_library_and_the_cli_agree(corpora):
    from click.testing import CliRunner

    from corpus_search.cli import cli

    articles, base = corpora
    r = CliRunner().invoke(cli, ["search", "харкова", "--count", "--index", str(base / "ix-mixed")])
    # Ukrainian articles by Ukrainian rules; харкова is no Russian form of харьков
    want = having(articles, UK_LEXEMES["харків"], "uk") | having(articles, ["харкова"])
    assert r.exit_code == 0 and int(r.stdout) == len(want) > 0


def test_copying_an_index_keeps_its_tables(corpora, tmp_path):
    _, base = corpora
    shutil.copytree(base / "ix-mixed", tmp_path / "copy")
    with CorpusIndex(tmp_path / "copy") as a, CorpusIndex(base / "ix-mixed") as b:
        assert ids(a, "пескову") == ids(b, "пескову") != set()


@pytest.mark.parametrize(
    "lang,word,function_words",
    [
        ("pt", "kiev", {"a", "à", "de", "da", "do", "o", "os", "e", "em", "pela", "para", "que"}),
        ("bg", "украйна", {"на", "да", "е", "и", "за", "от", "че", "се", "това", "в", "с"}),
        ("hi", "यूक्रेन", {"के", "है", "और", "में", "ने", "से", "की", "का", "को"}),
    ],
)
def test_collocates_leave_out_every_languages_function_words(tmp_path, lang, word, function_words):
    """collocates --no-stopwords: no function word of the article's language in the top 15
    (the lists written here by hand; the words around the match come from the real texts)."""
    from conftest import REPO

    corpus = tmp_path / "c"
    corpus.mkdir()
    for p in (REPO / "tests" / "data" / "languages").glob(f"{lang}-*.txt"):
        shutil.copy(p, corpus / p.name)
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        plain = ix.collocates(word, top=15, measure="count")
        kept = {c.word for c in plain.collocates}
        assert kept & function_words  # they are there without the option
        cleaned = ix.collocates(word, top=15, measure="count", stopwords=False)
        words = [c.word for c in cleaned.collocates]
    assert words and not set(words) & function_words, words


def test_lower_case_operators_and_language_names_get_a_hint(tmp_path):
    from click.testing import CliRunner

    from corpus_search.cli import cli

    write(tmp_path / "c", make_articles({"en": 20}))
    update_index(tmp_path / "ix", [tmp_path / "c"])
    run = CliRunner().invoke
    r = run(cli, ["search", "trade or barbados", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 1 and "did you mean: trade OR barbados" in r.stderr
    r = run(cli, ["search", "lang:english", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 2
    assert "languages are ISO 639-1 codes ('english' is none): lang:en" in r.stderr
    r = run(cli, ["search", "x", "--lang", "Russian", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 2 and "--lang: languages are ISO 639-1 codes" in r.stderr
    assert "--lang ru" in r.stderr
    r = run(cli, ["search", "lang:EN", "--count", "--index", str(tmp_path / "ix")])
    assert (r.exit_code, r.stdout) == (0, "20\n")


def test_kwic_and_collocates_group_a_lexemes_forms(corpora):
    """--lemma: the forms of a word count as one (oracle: the paradigm written above), in
    each article's language."""
    articles, base = corpora
    with CorpusIndex(base / "ix-mixed") as ix:
        conc = ix.kwic("санкция", lemma=True, limit=None)
        assert conc.lines and {line.lemma for line in conc.lines} == {"санкция"}
        forms = set(RU_LEXEMES["санкция"]) | {"санкциите"}  # Bulgarian: the definite form
        assert {line.match.lower() for line in conc.lines} <= forms
        # collocates of a name: the forms of another name nearby add up to one collocate
        col = ix.collocates("лавров", lemma=True, top=200, measure="count", window=3)
        by_word = {c.word: c for c in col.collocates}
        assert "киев" in by_word and set(by_word["киев"].forms) <= set(RU_LEXEMES["киев"])
        plain = ix.collocates("лавров", top=200, measure="count", window=3)
        separate = sum(c.count for c in plain.collocates if c.word in RU_LEXEMES["киев"])
        assert by_word["киев"].count == separate  # the same occurrences, counted as one word
        assert len(by_word["киев"].forms) > 1


def test_a_default_language_in_the_config_for_articles_of_unknown_language(tmp_path):
    """default_language: the rule a user sets for articles whose language is neither given
    nor detected (short items): here Portuguese, so barbados meets barbara in them."""
    from click.testing import CliRunner

    from corpus_search.cli import cli

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Barbara\n\n12 34 56\n", "utf-8")
    (corpus / "b.txt").write_text("Barbados\n\n78 90\n", "utf-8")
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text("default_language: PT\n", "utf-8")
    run = CliRunner().invoke
    r = run(cli, ["--config", str(cfg), "index", str(corpus), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 0, r.stderr
    r = run(cli, ["search", "barbados", "-l", "--index", str(tmp_path / "ix")])
    assert sorted(p.rsplit("/", 1)[-1] for p in r.stdout.split()) == ["a.txt", "b.txt"]
    r = run(cli, ["facets", "lang", "--json", "--index", str(tmp_path / "ix")])
    assert json.loads(r.stdout)["values"] == [{"value": "pt", "count": 2}]
    cfg.write_text("default_language: portuguese\n", "utf-8")
    r = run(cli, ["--config", str(cfg), "index", str(corpus), "--index", str(tmp_path / "ix2")])
    assert r.exit_code == 2 and "default_language: languages are ISO 639-1 codes" in r.stderr
    assert "('portuguese' is none): pt" in r.stderr


@pytest.mark.parametrize("lemma", [False, True], ids=["words", "lemmas"])
def test_collocates_counted_with_a_forked_helper_are_those_counted_alone(
    corpora, lemma, monkeypatch
):
    """Large sets of articles are shared with a forked helper: the same collocates, counts,
    forms and the language each lexeme is named in as counting them all here."""
    from corpus_search import parallel

    articles, base = corpora
    with CorpusIndex(base / "ix-mixed") as ix:
        monkeypatch.setattr(parallel, "FROM", 10**9)
        alone = ix.collocates("лавров", lemma=lemma, top=200, measure="llr", window=3)
        monkeypatch.setattr(parallel, "FROM", 1)
        helped = ix.collocates("лавров", lemma=lemma, top=200, measure="llr", window=3)
    assert alone.collocates and helped.to_dict() == alone.to_dict()
