"""Hostile queries and files: what fuzzing, deep nesting, huge numbers, option-like queries,
slow expansions, YAML bombs, huge header values, terminal escapes and foreign file names do.

Timeouts are tested with a clock that moves a fixed step at each look (no real waiting), so
the outcome is the same on any machine.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.errors import CorpusSearchError, QueryError, QueryTimeout
from corpus_search.query import parse_query


def run(*args, **kw):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"}, **kw)


# --------------------------------------------------------------------------------------------
# Queries

@pytest.mark.parametrize("text", ["(" * 247 + "a" + ")" * 247, "-(" * 197 + "a" + ")" * 197,
                                  "NOT " * 979 + "a", "(" * 247,
                                  "title:(" + "(" * 100 + "a" + ")" * 101],
                         ids=["parens", "minus-parens", "not", "unbalanced", "field-parens"])
def test_deep_nesting_is_a_clear_error(ix, text):
    with pytest.raises(QueryError, match="nested deeper than 64 levels") as err:
        ix.search(text)
    assert len(str(err.value)) < 250  # the query is quoted shortened


def test_nesting_within_the_limit_works(ix):
    assert ix.search("(" * 60 + "sanctions" + ")" * 60).total == ix.search("sanctions").total
    assert ix.search("NOT " * 2 + "sanctions").total == ix.search("sanctions").total


@pytest.mark.parametrize("query,expected", [
    ("words:2147483648", 0), ("words:>2147483647", 0), ("words:[2147483648 TO *]", 0),
    ("words:<99999999999", "all"), ("words:[0 TO 999999999999999]", "all"),
    ("views:>999999999999999", 0), ("views:<999999999999999", "with views"),
])
def test_numbers_past_a_fields_range_are_math_not_damage(ix, sample_records, query, expected):
    want = {"all": len(sample_records),
            "with views": sum(1 for r in sample_records if r["views"] is not None)}.get(expected, expected)
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
    r = ix.search(" ".join(["grian", "sanctoins", "ferri", "pipeline", "xx", "yy", "zz"]),
                  timeout=10_000)
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


@pytest.mark.parametrize("text", ["a" * 5000, '"' + "x " * 3000, "title:" + "(" * 70],
                         ids=["long-word", "long-phrase", "deep-field"])
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


FUZZ_PIECES = ["sanctions", "gas", "ferry", "OR", "AND", "NOT", "-", "+", "!", "(", ")", '"',
               '"open skies"~3', "title:", "author:", "category:Скандал", "views:>", "views:[1 TO",
               "words:2147483648", "published:2021-02-30", "published:[2021 TO 2022]", "*", "a*",
               "?", "~", "~2", "kaliningrad~", "foo:", "\\", "[", "]", "{", "}", ":", "ё", "💩",
               "\x00", "9" * 40, "published:>", "words:<", "&&", "||", "-(", "NOT NOT", "санкции",
               "ucrânia", "U.S.", "3.5", "tag:*", "place:*", "id:wire/*", "\x1b[2J"]


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
