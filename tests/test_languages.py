"""Every language a news researcher meets: detection, whole words in every script, accents,
stemming per language. Counts are checked against an oracle written here, independent of the
code under test: words found with the regex module's \\p{L}\\p{M} classes, accents removed with
unicodedata, stems by the Snowball stemmer of the article's language."""

from __future__ import annotations

import json
import shutil
import unicodedata
from pathlib import Path

import pytest
import regex
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

DATA = Path(__file__).parent / "data" / "languages"
LABEL = {
    p.name: ("en" if p.name.startswith("en-") else p.name.split("-")[0]) for p in DATA.glob("*.txt")
}
DETECTED = {**{n: lang for n, lang in LABEL.items()}, "en-table.txt": None}  # a table: unknown

WORD = regex.compile(r"[\p{L}\p{M}\p{N}]+")


def plain(word: str) -> str:
    """Lower case without the accents of Latin and Greek letters (the oracle's own folding)."""
    out = []
    for ch in word.lower():
        if ch.isascii() or not ("\u00c0" <= ch <= "\u03ff" or "\u1e00" <= ch <= "\u1fff"):
            out.append(ch)
            continue
        out.append(
            "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
        )
    return "".join(out)


@pytest.fixture(scope="module")
def multi(tmp_path_factory):
    base = tmp_path_factory.mktemp("languages")
    corpus = base / "corpus"
    shutil.copytree(DATA, corpus)
    index = base / "index"
    report = update_index(index, [corpus])
    assert report.added == len(LABEL)
    with CorpusIndex(index) as ix:
        records = {rid: ix.get(rid) for rid in LABEL}
    return index, records


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"})
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return r


def test_detection_per_language(multi):
    _, records = multi
    assert {rid: rec["language"] for rid, rec in records.items()} == DETECTED


@pytest.mark.parametrize("lang", ["pt", "es", "bg", "uk", "hi", "ar", "el"])
def test_language_filter_and_facet(multi, lang):
    index, _ = multi
    expected = sorted(n for n, lang_ in DETECTED.items() if lang_ == lang)
    out = json.loads(
        run("search", "*", "--lang", lang, "--json", "-n", "50", "--index", index).stdout
    )
    assert sorted(h["id"] for h in out["hits"]) == expected
    facet = json.loads(run("facets", "lang", "--json", "--index", index).stdout)
    assert {v["value"]: v["count"] for v in facet["values"]}[lang] == len(expected)


def oracle(records, words: set[str]) -> set[str]:
    """Articles holding any of ``words`` (compared without accents) as a whole word."""
    wanted = {plain(w) for w in words}
    return {
        rid
        for rid, rec in records.items()
        if wanted & {plain(w) for w in WORD.findall(f"{rec['title']} {rec['body']}")}
    }


@pytest.mark.parametrize(
    "query,forms",
    [
        ("ucrania", {"ucrânia", "ucrania"}),  # pt and es, typed without accents
        ("ucrânia", {"ucrânia", "ucrania"}),  # unquoted: accents do not matter
        ("sao", {"são"}),
        ("ουκρανια", {"ουκρανία", "ουκρανίας"}),  # Greek accents
        ("ataque", {"ataque", "ataques"}),  # Portuguese stemming
        ("sequia", {"sequía"}),  # Spanish
        ("рус", set()),  # Russian stem of nothing here
        ("रूस", {"रूस"}),  # Hindi: whole words only
        ("जलवायु", {"जलवायु"}),
        ("الطاقة", {"الطاقة", "للطاقة"}),  # Arabic: Snowball takes off the prefixes (for the)
        ("Украйна", {"украйна"}),  # Bulgarian: no stemmer, exact word
    ],
)
def test_counts_match_a_whole_word_oracle(multi, query, forms):
    index, records = multi
    out = json.loads(run("search", query, "--json", "-n", "50", "--index", index).stdout)
    assert {h["id"] for h in out["hits"]} == oracle(records, forms), query


def test_quoted_words_keep_their_accents(multi):
    """A quoted word with accents requires them; quoted without accents it is the unstemmed
    word, accents or not (a folded twin of every accented word is indexed)."""
    index, records = multi
    ids = {
        h["id"]
        for h in json.loads(run("search", '"ucrânia"', "--json", "--index", index).stdout)["hits"]
    }
    assert ids == {rid for rid, rec in records.items() if "ucrânia" in rec["body"].lower()} != set()
    plain_ids = {
        h["id"]
        for h in json.loads(run("search", '"ucrania"', "--json", "--index", index).stdout)["hits"]
    }
    assert plain_ids == oracle(records, {"ucrania"}) and ids < plain_ids


def test_phrases_ignore_accents(multi):
    index, _ = multi
    out = json.loads(run("search", '"sao paulo"', "--json", "--index", index).stdout)
    assert [h["id"] for h in out["hits"]] == ["pt-2.txt"]
    assert "[[São Paulo]]" in " ".join(
        out["hits"][0]["snippets"]
    ) or "[[São]] [[Paulo]]" in " ".join(out["hits"][0]["snippets"])


def test_highlights_cover_whole_words(multi):
    index, _ = multi
    out = json.loads(run("search", "रूस", "--json", "--index", index).stdout)
    text = " ".join(s for h in out["hits"] for s in h["snippets"])
    assert "[[रूस]]" in text
    assert not regex.search(r"\[\[[^\]]*\]\][\p{M}\p{L}]", text)  # no match ends mid-word
    out = json.loads(run("search", "ucrania", "--json", "--index", index).stdout)
    assert "[[Ucrânia]]" in " ".join(s for h in out["hits"] for s in h["snippets"])


def test_hindi_words_are_not_split_at_vowel_signs():
    from corpus_search.vocab import words

    assert words("शुक्रवार से पहले रूस जलवायु") == ["शुक्रवार", "से", "पहले", "रूस", "जलवायु"]
    assert words("مُحَمَّد Ελλάδα") == ["مُحَمَّد", "Ελλάδα"]


# --------------------------------------------------------------------------------------------
# Metadata from file and folder names


def _config(tmp_path, text):
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text(text, "utf-8")
    return cfg


def test_title_date_language_and_site_from_the_path(tmp_path):
    corpus = tmp_path / "c"
    (corpus / "meduza").mkdir(parents=True)
    (corpus / "baltic").mkdir()
    body = "Журналиста задержали в Москве. Полиция утверждает, что нашла у него вещества. " * 3
    (corpus / "meduza" / "2019-06-07-Дело Голунова.txt").write_text(body, "utf-8")
    (corpus / "meduza" / "notes.txt").write_text("Заметки\n\nне статья по шаблону\n", "utf-8")
    (corpus / "baltic" / "riga.md").write_text(
        "---\ntitle: Riga schools\nsource: Own\n---\n\nText.\n", "utf-8"
    )
    cfg = _config(
        tmp_path,
        """paths:
  - pattern: "meduza/{published:%Y-%m-%d}-{title}.txt"
    set: {language: ru, source: Meduza}
  - pattern: "{source}/..."
""",
    )
    r = CliRunner().invoke(
        cli, ["--config", str(cfg), "index", str(corpus), "--index", str(tmp_path / "ix"), "--json"]
    )
    assert json.loads(r.stdout)["added"] == 3
    assert (
        "meduza/notes.txt: the path does not fit 'meduza/{published:%Y-%m-%d}-{title}.txt'"
        in r.stderr
    )  # a warning, not a skip
    with CorpusIndex(tmp_path / "ix") as ix:
        golunov = ix.get("meduza/2019-06-07-Дело Голунова.txt")
        assert (golunov["title"], golunov["published"], golunov["source"], golunov["language"]) == (
            "Дело Голунова",
            "2019-06-07",
            "Meduza",
            "ru",
        )
        assert golunov["body"].startswith("Журналиста задержали")  # the whole text kept
        riga = ix.get("baltic/riga.md")
        assert (riga["title"], riga["source"]) == ("Riga schools", "Own")  # front matter wins
        notes = ix.get("meduza/notes.txt")
        assert notes["title"] == "Заметки" and notes["source"] == "meduza"  # the next rule
    out = CliRunner().invoke(
        cli, ["--config", str(cfg), "parse", "--explain", "--json", str(corpus)]
    )
    by_id = {rec["id"]: rec for rec in json.loads(out.stdout)}
    assert by_id["meduza/2019-06-07-Дело Голунова.txt"]["from_path"] == {
        "language": "ru",
        "source": "Meduza",
        "published": "2019-06-07",
        "title": "Дело Голунова",
    }


@pytest.mark.parametrize(
    "entry,message",
    [
        ('{pattern: "{nope}/..."}', "unknown field {nope}"),
        ('{pattern: "x", set: {colour: red}}', "set: takes fields among"),
        ('{when: "x"}', "needs a pattern"),
    ],
)
def test_bad_path_rules_are_config_errors(tmp_path, entry, message):
    cfg = _config(tmp_path, f"paths:\n  - {entry}\n")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "stats", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 2 and message in r.stderr and str(cfg) in r.stderr


def test_the_written_out_accent_classes_are_what_unicodedata_gives():
    """Snippets find accented forms of a query word through a table written out in the
    source (computing it costs a cold search ~3 ms); it must stay what unicodedata says."""
    from corpus_search.snippets import ACCENT_CLASSES, accent_classes

    assert ACCENT_CLASSES == accent_classes()
    assert "ã" in ACCENT_CLASSES["a"] and "ё" in ACCENT_CLASSES["е"]


def test_the_fast_word_positions_are_whooshs():
    """PackedPositions makes the tokens of the word analyzers itself (4x faster than Whoosh's
    token chain); for every sample text in every script, and for the hard cases, the words,
    frequencies, weights and positions are exactly what Whoosh's own path gives."""
    from whoosh import fields, formats

    from corpus_search.schema import SECTION, build_schema

    from conftest import SAMPLE

    schema = build_schema()
    from corpus_search.articles import decode_text

    files = sorted(DATA.iterdir()) + sorted(SAMPLE.rglob("*.txt"))
    texts = [decode_text(p.read_bytes())[0] for p in files]  # some are not UTF-8
    texts += [
        "",
        " ",
        SECTION,
        SECTION.join(["", "Ёлка ёж", "", "São Paulo, Ucrânia, ucrania"]),
        SECTION.join(["Title", "Title", "Body. U.S. e.g. 3.5kg 192.168.0.1 Bradley.Еще"]),
        "रूस और भारत; Ελλάδα όχι ΌΧΙ; straße STRASSE; ǅ ǆ; naïve NAÏVE",
        "y " + "x " * 70000 + "y",  # a gap of over 65,535 positions: uint32 deltas
    ]
    for name in ("text", "title"):
        field = schema[name]
        fmt, analyzer = field.format, field.analyzer
        for text in texts:
            fast = sorted(fmt.word_values(text, analyzer))
            slow = sorted(formats.Positions.word_values(fmt, text, analyzer))
            assert fast == slow, (name, text[:80])
            for _w, freq, _weight, encoded in fast:
                assert fmt.decode_frequency(encoded) == freq == len(fmt.decode_positions(encoded))
            # what the writer calls: the field's index(), against Whoosh's FieldType.index
            assert sorted(field.index(text)) == sorted(fields.FieldType.index(field, text))


def test_the_fast_facet_postings_are_whooshs():
    """Facet values (several joined by U+001F) are split, stripped, lower-cased, ё-folded and
    twinned without accents by FacetField.index itself; the postings are exactly those of
    Whoosh's analyzer chain and Frequency format."""
    from whoosh import fields

    from corpus_search.articles import iter_files, read_articles
    from corpus_search.schema import build_schema
    from corpus_search.vocab import SEP

    from conftest import SAMPLE

    schema = build_schema()
    values = [
        "Politics",
        SEP.join(["Скандал", "Ёлка", " Spaced  out ", "", "São Paulo", "SÃO PAULO", "ǅemal"]),
        SEP.join(["a", "A", "a", " ", "Ελλάδα", "ΌΧΙ", "straße"]),
        SEP,
        " ",
        "",
    ]
    for path, _ in iter_files([SAMPLE]):
        for a in read_articles(path, root=SAMPLE):
            assert not isinstance(a, Exception)
            values += [SEP.join(a.categories), SEP.join(a.tags), a.author or "", a.place or ""]
            values += [a.source or "", a.site or "", a.url or "", a.language or ""]
    assert len(values) > 30
    for name in ("category", "tag", "author", "place", "source", "site", "url", "lang"):
        field = schema[name]
        for value in values:
            fast = sorted(field.index(value))
            slow = sorted(fields.FieldType.index(field, value))
            assert fast == slow, (name, value)


def test_the_index_languages_come_from_the_metadata_of_their_commit(tmp_path, monkeypatch):
    """An indexing run writes the languages of the index and the commit they describe; a
    search at that commit uses them instead of merging every segment's terms, and a search
    at any other commit (a run killed before its metadata was written) reads the terms."""
    from corpus_search.articles import iter_files, read_articles
    from corpus_search.postings import Snapshot
    from corpus_search.store import IndexFolder

    from conftest import SAMPLE

    shutil.copytree(SAMPLE, tmp_path / "corpus")
    update_index(tmp_path / "ix", [tmp_path / "corpus"])
    expected = sorted(
        {
            a.language
            for p, _ in iter_files([tmp_path / "corpus"])
            for a in read_articles(p)
            if not isinstance(a, Exception)
        }
        - {None}
    )
    meta = IndexFolder(tmp_path / "ix").require_meta()
    assert meta["languages"]["codes"] == expected and len(expected) >= 2

    real_terms = Snapshot.terms
    asked: list[str] = []

    def terms(self, field, prefix=""):
        asked.append(field)
        return real_terms(self, field, prefix)

    monkeypatch.setattr(Snapshot, "terms", terms)
    with CorpusIndex(tmp_path / "ix") as ix:
        assert ix._languages() == frozenset(expected)
    assert "lang" not in asked

    folder = IndexFolder(tmp_path / "ix")
    stale = dict(meta, languages={"commit": -5, "codes": ["xx"]})
    folder.write_meta(stale)
    with CorpusIndex(tmp_path / "ix") as ix:
        assert ix._languages() == frozenset(expected)
    assert "lang" in asked
