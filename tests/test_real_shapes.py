"""Every command on indexes of the shape real users have, counts checked against the parsed
records (never against the code under test).

The corpus: 2,000 generated files (1,200 plain files with no metadata at all, 500 with front
matter where whole batches lack an author or a place, 300 in the scraped header layout),
indexed with the default settings: two writer processes, several segments, segments where a
column has no value at all. Then files are added, changed and removed over two more runs.
"""

from __future__ import annotations

import json
import shutil

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index

from conftest import run_cli
from corpora import oracle_counts, oracle_phrase, oracle_word, parsed_records, write_corpus

FACETS = ("category", "tag", "author", "place", "source", "lang", "year", "month")


def assert_facet_is_the_records(got: dict, records, facet: str) -> None:
    """A facet's JSON (values, missing) against the counts made from the parsed records."""
    expected, missing = oracle_counts(records, facet)
    assert {v["value"].casefold(): v["count"] for v in got["values"]} == expected
    assert got["missing"] == missing


def run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"})
    assert "Traceback" not in (r.stderr or ""), r.stderr
    assert "internal error" not in (r.stderr or ""), r.stderr
    return r


@pytest.fixture(scope="module")
def shaped(tmp_path_factory):
    """(corpus, index) after three runs: build, then add/change/remove, then more of it."""
    base = tmp_path_factory.mktemp("shaped")
    corpus = base / "corpus"
    write_corpus(corpus)
    index = base / "index"
    first = update_index(index, [corpus])
    assert (first.added, first.skipped) == (2000, 0), first.errors
    # run 2: 1,100 new plain files (two writer processes again), 40 changed, 30 removed
    write_corpus(corpus / "later", plain=1100, front=0, scraped=0, seed=8, prefix="l")
    for p in sorted((corpus / "plain").iterdir())[:40]:
        p.write_text(p.read_text("utf-8") + "\nconvoy addendum\n", "utf-8")
    for p in sorted((corpus / "politnavigator").iterdir())[:30]:
        p.unlink()
    second = update_index(index)
    assert (second.added, second.updated, second.removed) == (1100, 40, 30)
    # run 3: a whole folder goes, a few front-matter files change
    shutil.rmtree(corpus / "steppe" / "2021")
    for p in sorted((corpus / "baltic" / "2022").iterdir())[:5]:
        p.write_text(p.read_text("utf-8").replace("---\n\n", "---\n\nsummit appendix "), "utf-8")
    third = update_index(index)
    assert third.updated == 5 and third.removed > 0 and third.added == 0
    return corpus, index


@pytest.fixture(scope="module")
def records(shaped):
    return parsed_records(shaped[0])


def test_the_index_has_the_shape_of_real_use(shaped):
    from corpus_search.postings import Snapshot
    from corpus_search.store import IndexFolder

    folder = IndexFolder(shaped[1])
    snap = Snapshot(folder.open(), folder.path)
    try:
        assert len(snap.leaves) >= 3  # several segments
        assert snap.deleted  # deletions not yet merged away
        # some segment has no author column at all (plain files only)
        assert not all(snap.segments_with_column("author"))
    finally:
        snap.close()


@pytest.mark.parametrize("facet", FACETS)
def test_facet_counts_match_the_records(shaped, records, facet):
    r = run("facets", facet, "--index", shaped[1], "--json")
    assert r.exit_code == (0 if oracle_counts(records, facet)[0] else 1)
    assert_facet_is_the_records(json.loads(r.stdout), records, facet)


def test_search_facets_match_the_records(shaped, records):
    r = run(
        "search",
        "*",
        "--index",
        shaped[1],
        "--json",
        "--facet",
        "author",
        "--facet",
        "month",
        "--facet-limit",
        "1000",
    )
    out = json.loads(r.stdout)
    assert out["total"] == len(records)
    for facet in ("author", "month"):
        assert_facet_is_the_records(out["facets"][facet], records, facet)


@pytest.mark.parametrize("word", ["convoy", "summit", "refinery", "appendix", "addendum"])
def test_word_counts_match_the_records(shaped, records, word):
    r = run("search", f'"{word}"', "--index", shaped[1], "--count")
    assert int(r.stdout) == oracle_word(records, word)


def quick(*args):
    """The command as a user's shell runs it: a fresh process, the quick path for a plain
    search."""
    r = run_cli(args)
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr, r.stderr
    return r


@pytest.mark.parametrize(
    "phrase,slop",
    [("gas oil", 0), ("convoy summit", 0), ("treaty convoy refinery", 0), ("drought vaccine", 2)],
)
def test_phrase_counts_match_the_records(shaped, records, phrase, slop):
    expected = oracle_phrase(records, phrase.split(), slop)
    assert expected > 0  # the case is not a miss
    query = f'"{phrase}"' + (f"~{slop}" if slop else "")
    r = quick("search", query, "--count", "--index", shaped[1])
    assert (r.returncode, int(r.stdout)) == (0, expected)


def test_a_fresh_process_search_matches_the_records(shaped, records):
    """Through the quick path (no click): facets with whole batches of missing authors and
    places, a filter, paging past the first page."""
    r = quick(
        "search", "*", "--json", "--facet", "author", "--facet", "place",
        "--facet-limit", "1000", "--index", shaped[1],
    )  # fmt: skip
    out = json.loads(r.stdout)
    assert out["total"] == len(records)
    for facet in ("author", "place"):
        assert_facet_is_the_records(out["facets"][facet], records, facet)
    author = next(a for a in (r["author"] for r in records) if a)
    r = quick("search", "*", "--author", author, "--count", "--index", shaped[1])
    assert int(r.stdout) == sum(1 for rec in records if rec["author"] == author)
    r = quick("search", "convoy", "-n", "7", "--page", "3", "--json", "--index", shaped[1])
    page = json.loads(r.stdout)
    assert page["total"] == oracle_word(records, "convoy") and len(page["hits"]) == 7


def test_timeline_matches_the_records(shaped, records):
    r = run("timeline", "--by", "month", "--index", shaped[1], "--json")
    out = json.loads(r.stdout)
    expected, missing = oracle_counts(records, "month")
    assert {b["period"]: b["count"] for b in out["buckets"] if b["count"]} == expected
    assert out["undated"] == missing
    assert out["total"] == len(records)


def test_stats_match_the_records(shaped, records):
    out = json.loads(run("stats", "--index", shaped[1], "--json").stdout)
    assert out["documents"] == len(records)
    sources, no_source = oracle_counts(records, "source")
    assert {k.casefold(): v for k, v in out["sources"].items() if k != "(none)"} == sources
    assert out["sources"].get("(none)", 0) == no_source
    days = sorted(r["published"][:10] for r in records if r["published"])
    assert out["date_range"] == {"first": days[0], "last": days[-1]}


def test_show_every_kind_of_record(shaped, records):
    by_id = {r["id"]: r for r in records}
    for doc_id in (
        "plain/p00000.txt",
        "later/plain/lp00001.txt",
        "baltic/2022/f00005.md",
        "politnavigator/s00040.txt",
    ):
        r = run("show", doc_id, "--index", shaped[1], "--json")
        assert r.exit_code == 0, r.stderr
        assert json.loads(r.stdout) == by_id[doc_id]
    r = run("show", "politnavigator/s00000.txt", "--index", shaped[1])  # removed in run 2
    assert r.exit_code == 2 and "no article with id" in r.stderr


def test_filters_match_the_records(shaped, records):
    r = run(
        "search",
        "*",
        "--index",
        shaped[1],
        "--count",
        "--author",
        "john smith",
        "--since",
        "2021-03",
        "--until",
        "2021-12",
    )
    expected = sum(
        1
        for x in records
        if (x["author"] or "").casefold() == "john smith"
        and x["published"]
        and "2021-03" <= x["published"][:7] <= "2021-12"
    )
    assert int(r.stdout) == expected > 0


def test_plain_files_beside_the_sample_corpus(tmp_path):
    """The issue's own reproduction: 1,200 plain files beside sample_corpus/."""
    from conftest import SAMPLE

    corpus = tmp_path / "c"
    shutil.copytree(SAMPLE, corpus / "sample")
    write_corpus(corpus / "extra", plain=1200, front=0, scraped=0)
    index = tmp_path / "ix"
    assert run("index", corpus, "--index", index, "-q").exit_code == 0
    records = parsed_records(corpus)
    for facet in ("category", "author", "place", "source"):
        out = json.loads(run("facets", facet, "--index", index, "--json").stdout)
        assert_facet_is_the_records(out, records, facet)
    out = json.loads(run("stats", "--index", index, "--json").stdout)
    assert out["documents"] == len(records) == 1200 + 42


# --------------------------------------------------------------------------------------------
# An empty index


@pytest.fixture
def empty_index(tmp_path):
    (tmp_path / "empty").mkdir()
    index = tmp_path / "ix"
    r = run("index", tmp_path / "empty", "--index", index)
    assert r.exit_code == 0, r.stderr
    return index


@pytest.mark.parametrize(
    "args,code",
    [
        (["search", "sanctions"], 1),
        (["search", "*"], 1),
        (["search", "sanctoins"], 1),
        (["search", "gas*", "--json"], 1),
        (["search", '"open skies"', "--facet", "author"], 1),
        (["facets", "author"], 1),
        (["facets", "month", "--json"], 1),
        (["timeline", "sanctions"], 1),
        (["timeline", "--json"], 1),
        (["stats"], 0),
    ],
)
def test_an_empty_index_answers_with_nothing(empty_index, args, code):
    r = run(*args, "--index", empty_index)
    assert (r.exit_code, r.stderr) == (code, "")
    if "--json" in args and args[0] == "search":
        assert json.loads(r.stdout)["total"] == 0
    if args[0] == "stats":
        assert "documents      0" in r.stdout


def test_an_index_interrupted_before_its_first_commit(tmp_path, monkeypatch):
    """Ctrl-C before the first commit leaves an index with no segment: it answers 'no hits'."""
    import corpus_search.indexer as indexer

    corpus = tmp_path / "c"
    write_corpus(corpus, plain=30, front=0, scraped=0)
    calls = {"n": 0}
    real = indexer.parse_bytes

    def interrupt(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 10:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(indexer, "parse_bytes", interrupt)
    r = CliRunner().invoke(cli, ["index", str(corpus), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 130
    monkeypatch.undo()
    r = run("search", "grain", "--index", tmp_path / "ix")
    assert (r.exit_code, r.stderr) == (1, "")
    assert run("index", "--index", tmp_path / "ix").exit_code == 0
    assert run("search", "*", "--count", "--index", tmp_path / "ix").stdout == "30\n"
