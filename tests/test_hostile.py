"""Hostile queries and files: what fuzzing, deep nesting, huge numbers, option-like queries,
slow expansions, YAML bombs, huge header values, terminal escapes and foreign file names do.

Timeouts are tested with a clock that moves a fixed step at each look (no real waiting), so
the outcome is the same on any machine.
"""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.errors import CorpusSearchError, QueryError, QueryTimeout
from corpus_search.query import parse_query


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"}, **kw)


# --------------------------------------------------------------------------------------------
# Queries


@pytest.mark.parametrize(
    "text",
    [
        "(" * 247 + "a" + ")" * 247,
        "-(" * 197 + "a" + ")" * 197,
        "NOT " * 979 + "a",
        "(" * 247,
        "title:(" + "(" * 100 + "a" + ")" * 101,
    ],
    ids=["parens", "minus-parens", "not", "unbalanced", "field-parens"],
)
def test_deep_nesting_is_a_clear_error(ix, text):
    with pytest.raises(QueryError, match="nested deeper than 64 levels") as err:
        ix.search(text)
    assert len(str(err.value)) < 250  # the query is quoted shortened


def test_nesting_within_the_limit_works(ix):
    assert ix.search("(" * 60 + "sanctions" + ")" * 60).total == ix.search("sanctions").total
    assert ix.search("NOT " * 2 + "sanctions").total == ix.search("sanctions").total


@pytest.mark.parametrize(
    "query,expected",
    [
        ("words:2147483648", 0),
        ("words:>2147483647", 0),
        ("words:[2147483648 TO *]", 0),
        ("words:<99999999999", "all"),
        ("words:[0 TO 999999999999999]", "all"),
        ("views:>999999999999999", 0),
        ("views:<999999999999999", "with views"),
    ],
)
def test_numbers_past_a_fields_range_are_math_not_damage(ix, sample_records, query, expected):
    want = {
        "all": len(sample_records),
        "with views": sum(1 for r in sample_records if r["views"] is not None),
    }.get(expected, expected)
    assert ix.search(query).total == want


def test_a_query_may_start_with_a_minus(sample_index, sample_records):
    everything = len(sample_records)
    r = run("search", "-nuclear", "--index", sample_index, "--count")
    assert (r.exit_code, r.stdout) == (0, f"{everything}\n")
    r = run("search", "-russia", "gas", "-n", "2", "--index", sample_index, "--json")
    assert r.exit_code == 0 and len(json.loads(r.stdout)["hits"]) == 2
    r = run("search", "-n5", "-nuclear", "--index", sample_index, "--count")
    assert r.stdout == f"{everything}\n"
    r = run("timeline", "-sanctions", "--by", "year", "--index", sample_index, "--json")
    without = int(run("search", "-sanctions", "--count", "--index", sample_index).stdout)
    with_it = int(run("search", "sanctions", "--count", "--index", sample_index).stdout)
    assert json.loads(r.stdout)["total"] == without == everything - with_it
    r = run("search", "--no-such-option", "gas", "--index", sample_index)
    assert r.exit_code == 2 and "No such option '--no-such-option'" in r.stderr


class StepClock:
    """A clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float):
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.fixture
def step_clock(monkeypatch):
    import corpus_search.search as search

    clock = StepClock(0.001)
    monkeypatch.setattr(search.time, "perf_counter", clock)
    return clock


def test_a_long_or_stops_at_its_deadline(ix, step_clock):
    many = " OR ".join(f"word{i}" for i in range(1000))
    with pytest.raises(QueryTimeout, match=r"took longer than 0.5s"):
        ix.search(many, timeout=0.5)
    assert step_clock.now < 2  # it stopped soon after the deadline, not after all 1,000 words


def test_expanding_words_honours_the_deadline(ix, step_clock):
    with pytest.raises(QueryTimeout):
        ix.search(" OR ".join(f"s*{i}" for i in range(300)), timeout=0.05)


def test_suggestions_are_short_and_bounded(ix, step_clock):
    misspelt = " ".join(f"sanctoins{i % 7}x" for i in range(1000))
    r = ix.search(misspelt, timeout=10_000)
    assert r.total == 0
    assert r.suggestion is None or len(r.suggestion) < 200
    r = ix.search("sanctoins", timeout=10_000)
    assert r.suggestion == "sanctions"
    r = ix.search(
        " ".join(["grian", "sanctoins", "ferri", "pipeline", "xx", "yy", "zz"]), timeout=10_000
    )
    assert r.suggestion is None or r.suggestion.count("->") <= 3


def test_suggestions_past_the_deadline_are_dropped_not_errors(ix, monkeypatch):
    import corpus_search.search as search

    clock = StepClock(0.2)
    monkeypatch.setattr(search.time, "perf_counter", clock)
    r = ix.search("sanctoins", timeout=1.1)  # the search itself fits; suggestions do not
    assert r.total == 0 and r.suggestion is None


def test_the_cli_never_echoes_a_huge_query(sample_index):
    many = " OR ".join(f"zzword{i}" for i in range(1000))
    r = run("search", many, "--index", sample_index)
    assert r.exit_code == 1
    assert len(r.stderr) < 300


@pytest.mark.parametrize(
    "text",
    ["a" * 5000, '"' + "x " * 3000, "title:" + "(" * 70],
    ids=["long-word", "long-phrase", "deep-field"],
)
def test_errors_quote_queries_shortened(ix, text):
    try:
        ix.search(text)
    except CorpusSearchError as exc:
        assert len(str(exc)) < 300


def test_parse_tree_of_a_fuzzed_mix_never_recurses_too_deep():
    import random

    rng = random.Random(11)
    pieces = ["(", ")", "NOT", "-", "a", "OR", "AND", '"b c"', "title:(", "d~", "e*"]
    for _ in range(2000):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 400)))
        try:
            parse_query(text)
        except QueryError:
            pass


FUZZ_PIECES = [
    "sanctions",
    "gas",
    "ferry",
    "OR",
    "AND",
    "NOT",
    "-",
    "+",
    "!",
    "(",
    ")",
    '"',
    '"open skies"~3',
    "title:",
    "author:",
    "category:Скандал",
    "views:>",
    "views:[1 TO",
    "words:2147483648",
    "published:2021-02-30",
    "published:[2021 TO 2022]",
    "*",
    "a*",
    "?",
    "~",
    "~2",
    "kaliningrad~",
    "foo:",
    "\\",
    "[",
    "]",
    "{",
    "}",
    ":",
    "ё",
    "💩",
    "\x00",
    "9" * 40,
    "published:>",
    "words:<",
    "&&",
    "||",
    "-(",
    "NOT NOT",
    "санкции",
    "ucrânia",
    "U.S.",
    "3.5",
    "tag:*",
    "place:*",
    "id:wire/*",
    "\x1b[2J",
    # found by the third round: stacked wildcards, huge numbers, bytes of other encodings
    "*********z",
    "*a*a*a*a*a*a*a*z",
    "?*?*?*?*?*",
    "oil~" + "9" * 5000,
    '"a b"~' + "9" * 5000,
    "views:>" + "9" * 5000,
    "author:caf\udce9",
    "sanctions\udcff*",
    "-lang:\udcc3",
    "\ud800",
]


def test_ten_thousand_fuzzed_queries_give_results_or_one_line_errors(ix):
    """Generated queries, fixed seed: each ends with a result or a one-line CorpusSearchError;
    any other exception is an internal error and fails the test."""
    import random

    rng = random.Random(2026)
    internal = []
    for n in range(10_000):
        if n % 4 == 0:
            text = "".join(chr(rng.randint(1, 0x4FF)) for _ in range(rng.randint(0, 30)))
        else:
            text = " ".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 14)))
            if n % 50 == 0:
                text = rng.choice(["(", "-(", "NOT "]) * rng.randint(60, 300) + text
        try:
            ix.search(text, snippets=n % 10 == 0, limit=3, timeout=30)
        except CorpusSearchError as exc:
            assert "\n" not in str(exc)
        except Exception as exc:  # noqa: BLE001 - an internal error
            internal.append((text, repr(exc)))
    assert internal == []


# --------------------------------------------------------------------------------------------
# A full disk


def _enospc(*a, **kw):
    import errno

    raise OSError(errno.ENOSPC, "No space left on device")


def _gen(index):
    return index / json.loads((index / "corpus-search.json").read_text())["generation"]


DISK_FULL = "could not write the index at {}: the disk is full; the index is unchanged since its last commit\n"


@pytest.fixture
def small_index(tmp_path):
    from corpus_search.indexer import update_index

    from corpora import write_corpus

    corpus = tmp_path / "c"
    write_corpus(corpus, plain=40, front=10, scraped=10)
    index = tmp_path / "ix"
    update_index(index, [corpus])
    return corpus, index


def _more_files(corpus, n):
    from corpora import write_corpus

    write_corpus(corpus / "more", plain=n, front=0, scraped=0, seed=3, prefix="m")


@pytest.mark.parametrize("procs", ["1", "2"])
def test_a_failed_commit_leaves_no_partial_files(small_index, monkeypatch, procs):
    """The disk fills while the table of contents is written: the segment files of the failed
    commit are removed (they would keep the disk full), the last commit is intact."""
    from whoosh.index import TOC

    from corpus_search.postings import segment_files_in_use

    corpus, index = small_index
    before = sorted(p.name for p in _gen(index).iterdir())
    _more_files(corpus, 30)
    monkeypatch.setattr(TOC, "write", _enospc)
    r = run("index", "--index", index, "--procs", procs)
    assert (r.exit_code, r.stderr) == (2, "corpus-search: " + DISK_FULL.format(index))
    assert sorted(p.name for p in _gen(index).iterdir()) == before
    assert segment_files_in_use(_gen(index)) == set(before) - {"MAIN_WRITELOCK"}
    monkeypatch.undo()
    assert run("index", "--index", index).exit_code == 0
    assert run("search", "*", "--count", "--index", index).stdout == "90\n"


@pytest.mark.parametrize("procs", ["1", "2"])
def test_a_disk_that_is_still_full(small_index, monkeypatch, procs):
    """Every file creation fails (a retry while the disk is still full), with one and with
    two writer processes: the documented one line, nothing from the children."""
    from whoosh.filedb.filestore import FileStorage

    corpus, index = small_index
    _more_files(corpus, 30)
    monkeypatch.setattr(FileStorage, "create_file", _enospc)
    r = run("index", "--index", index, "--procs", procs)
    assert (r.exit_code, r.stderr) == (2, "corpus-search: " + DISK_FULL.format(index))
    monkeypatch.undo()
    assert run("search", "*", "--count", "--index", index).stdout == "60\n"


def test_a_rebuild_on_a_full_disk_leaves_nothing_behind(small_index, monkeypatch):
    from whoosh.filedb.filestore import FileStorage

    corpus, index = small_index
    real = FileStorage.create_file
    calls = {"n": 0}

    def fill_up(self, name, **kw):
        calls["n"] += 1
        if calls["n"] > 6:
            _enospc()
        return real(self, name, **kw)

    monkeypatch.setattr(FileStorage, "create_file", fill_up)
    r = run("index", "--rebuild", "--index", index)
    assert (r.exit_code, r.stderr) == (2, "corpus-search: " + DISK_FULL.format(index))
    assert [p.name for p in index.glob("gen-*")] == [_gen(index).name]
    monkeypatch.undo()
    assert run("search", "*", "--count", "--index", index).stdout == "60\n"


# --------------------------------------------------------------------------------------------
# Hostile files


def _files_with_bad_names(corpus, n_plain):
    from corpora import write_corpus

    write_corpus(corpus, plain=n_plain, front=0, scraped=0)
    bad = os.fsencode(str(corpus / "plain")) + b"/bad\xff name.txt"
    with open(bad, "wb") as fh:
        fh.write(b"Latin-1 name\n\nA file whose name is not UTF-8, about kumquat.\n")
    bad2 = os.fsencode(str(corpus)) + b"/\xe9t\xe9.txt"
    with open(bad2, "wb") as fh:
        fh.write(b"Another\n\nAlso kumquat.\n")


@pytest.mark.parametrize("n_plain", [20, 1100], ids=["one-writer", "two-writers"])
def test_file_names_that_are_not_utf8(tmp_path, n_plain):
    from corpus_search.indexer import update_index
    from corpus_search.search import CorpusIndex

    corpus = tmp_path / "c"
    _files_with_bad_names(corpus, n_plain)
    index = tmp_path / "ix"
    report = update_index(index, [corpus])
    assert (report.added, report.skipped) == (n_plain + 2, 0)
    with CorpusIndex(index) as ix:
        assert ix.doc_count == report.added  # what the run says it added is what is there
        ids = sorted(
            h.record["id"] for h in ix.search("kumquat", limit=100).hits if "\\x" in h.record["id"]
        )
        assert ids == ["\\xe9t\\xe9.txt", "plain/bad\\xff name.txt"]
        assert ix.get("plain/bad\\xff name.txt")["title"] == "Latin-1 name"
    again = update_index(index)  # and every later run
    assert (again.added, again.unchanged, again.skipped) == (0, n_plain + 2, 0)
    r = run("search", "kumquat", "--index", index, "--json")
    assert r.exit_code == 0 and "bad\\\\xff name.txt" in r.stdout


@pytest.mark.parametrize("where", ["views", "published", "title"])
def test_yaml_alias_bombs_are_refused(tmp_path, where):
    from corpus_search.articles import parse_bytes
    from corpus_search.errors import ArticleError

    bomb = (
        "---\na: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        f"{where}: [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n---\n\nBody.\n"
    )
    with pytest.raises(ArticleError, match="front matter uses YAML aliases"):
        parse_bytes(bomb.encode(), tmp_path / "bomb.md")


def test_header_values_are_bounded(tmp_path):
    from corpus_search.articles import MAX_LIST_VALUES, MAX_VALUE_CHARS, parse_bytes

    tags = ", ".join(f"t{i}" for i in range(20_000))
    text = (
        f"---\ntitle: {'T' * 50_000}\nviews: 99999999999999999999999\npublished: 2021-02-30\n"
        f"tags: [{tags}]\nauthor: {'A' * 10_000}\n---\n\nBody.\n"
    )
    article = parse_bytes(text.encode(), tmp_path / "big.md")
    assert len(article.title) == MAX_VALUE_CHARS and len(article.author) == MAX_VALUE_CHARS
    assert article.views is None and article.published is None
    assert article.tags == [f"t{i}" for i in range(MAX_LIST_VALUES)]
    assert all(len(w) < 300 for w in article.warnings), [len(w) for w in article.warnings]
    assert any("too large to be a view count" in w for w in article.warnings)
    assert any("published: not a date ('2021-02-30')" in w for w in article.warnings)


def test_huge_front_matter_is_refused(tmp_path):
    from corpus_search.articles import parse_bytes
    from corpus_search.errors import ArticleError

    tags = ", ".join(f"t{i}" for i in range(200_000))
    with pytest.raises(ArticleError, match="front matter is larger than 256 KB"):
        parse_bytes(f"---\ntitle: x\ntags: [{tags}]\n---\n\nBody.\n".encode(), tmp_path / "t.md")


def test_a_tag_line_of_200000_tags(tmp_path):
    from corpus_search.articles import MAX_LIST_VALUES, parse_bytes

    from conftest import SAMPLE

    text = (SAMPLE / "politnavigator/2021/sanctions-ferry.txt").read_text("utf-8")
    tags = ", ".join(f"t{i}" for i in range(200_000))
    text = text.replace("\nShipping agents", f"\nTags: {tags}\n\nShipping agents")
    article = parse_bytes(text.encode(), tmp_path / "a.txt")
    assert len(article.tags) == MAX_LIST_VALUES


def test_huge_views_in_the_scraped_layout(tmp_path):
    from corpus_search.articles import parse_bytes

    from conftest import SAMPLE

    text = (SAMPLE / "politnavigator/2021/sanctions-ferry.txt").read_text("utf-8")
    article = parse_bytes(
        text.replace("Views: 2875", "Views: 99999999999999999999999").encode(), tmp_path / "a.txt"
    )
    assert article.views is None and article.title
    assert any("too large to be a view count" in w for w in article.warnings)


def test_a_run_over_huge_values_is_not_aborted(tmp_path):
    from corpus_search.indexer import update_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "views.md").write_text(
        "---\ntitle: Big\nviews: 99999999999999999999999\n---\n\nBody one.\n"
    )
    (corpus / "date.md").write_text(
        "---\ntitle: Bad date\npublished: 2021-02-30\n---\n\nBody two.\n"
    )
    (corpus / "ok.md").write_text("---\ntitle: Fine\nviews: 12\n---\n\nBody three.\n")
    report = update_index(tmp_path / "ix", [corpus])
    assert (report.added, report.skipped) == (3, 0)
    assert len(report.warnings) == 2


ESCAPES = "\x1b]0;pwned\x07\x1b[2J\x9b31m\u202e"


def test_terminal_escapes_are_shown_not_obeyed(tmp_path):
    from corpus_search.indexer import update_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / f"evil{chr(27)}[2J.txt").write_text(
        f"Title {ESCAPES} grain\n\nBody {ESCAPES} grain and more grain.\n", "utf-8"
    )
    index = tmp_path / "ix"
    update_index(index, [corpus])
    for args in (
        ["search", "grain"],
        ["show", f"evil{chr(27)}[2J.txt"],
        ["search", "grain", "--facet", "author"],
    ):
        r = run(*args, "--index", index)
        assert r.exit_code == 0, r.stderr
        assert not any(c in r.stdout for c in "\x1b\x07\x9b\u202e"), repr(r.stdout)
        assert "␛]0;pwned␇␛[2J<U+009B>31m<U+202E>" in r.stdout
    r = run("search", "grain", "--json", "--index", index)  # JSON keeps the text, escaped
    assert "\\u001b]0;pwned" in r.stdout
    r = run("show", "no\x1b[2Jsuch", "--index", index)
    assert r.exit_code == 2 and "\x1b" not in r.stderr and "no\\x1b[2Jsuch" in r.stderr


def test_a_one_line_article_keeps_all_its_text(tmp_path):
    """A file that is one long line (as in the Meduza corpus) is text, not a 2,000-character
    title: nothing of it is cut."""
    from corpus_search.articles import parse_bytes

    line = " ".join(f"слово{i}" for i in range(2000))
    article = parse_bytes(line.encode(), tmp_path / "one-line.txt")
    assert article.title is None and article.body == line and article.words == 2000
    short = parse_bytes(b"A normal title\n\nBody.", tmp_path / "ok.txt")
    assert short.title == "A normal title"
