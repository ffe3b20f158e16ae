"""The command line: output, JSON shapes, exit codes and messages, through CliRunner and subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli

from conftest import REPO, SAMPLE


def run(*args, env=None):
    runner = CliRunner()
    return runner.invoke(
        cli, [str(a) for a in args], env=env or {"NO_COLOR": "1"}, catch_exceptions=False
    )


@pytest.fixture(scope="module")
def idx(tmp_path_factory):
    index = tmp_path_factory.mktemp("cli") / "index"
    r = run("index", SAMPLE, "--index", index, "--json")
    assert r.exit_code == 0, r.stderr
    return index


def test_index_json_summary(tmp_path):
    index = tmp_path / "ix"
    r = run("index", SAMPLE, "--index", index, "--json")
    assert r.exit_code == 0
    summary = json.loads(r.stdout)
    assert summary["added"] == 42 and summary["skipped"] == 0 and summary["errors"] == []
    assert {"added", "updated", "removed", "unchanged", "skipped", "errors", "documents"} <= set(
        summary
    )
    assert "georgia-elections.txt: views: not a number" in r.stderr
    r = run("index", "--index", index)
    assert r.exit_code == 0 and r.stdout.startswith("up to date: 42 documents")


def test_search_terminal_output(idx):
    r = run("search", "--index", idx, "sanctions", "kaliningrad")
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert lines[0].startswith("1 hit (showing 1-1) for 'sanctions kaliningrad' in ")
    assert "  1. [[Sanctions]] and transit: what [[Kaliningrad]] can still receive" in r.stdout
    assert "     2023-02-14 10:00 · Inga Ozola · Baltic Monitor · Vilnius · 6610 views" in r.stdout
    assert "     baltic-monitor/2023/sanctions-transit.md" in r.stdout
    assert "European guidance on [[sanctions]]" in r.stdout
    assert "\x1b[" not in r.stdout  # no colour codes when not a terminal
    assert r.stderr == ""


def test_search_json_shape(idx):
    r = run(
        "search", "--index", idx, '"open skies"', "--json", "--facet", "category", "--since", "2021"
    )
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert list(out) == [
        "query",
        "total",
        "took_ms",
        "page",
        "limit",
        "sort",
        "filters",
        "hits",
        "facets",
    ]
    assert (
        out["query"] == '"open skies"' and out["total"] == 2 and out["filters"] == {"since": "2021"}
    )
    hit = out["hits"][0]
    assert list(hit) == [
        "id",
        "path",
        "score",
        "title",
        "author",
        "published",
        "place",
        "source",
        "url",
        "site",
        "categories",
        "tags",
        "views",
        "language",
        "words",
        "snippets",
    ]
    assert hit["id"] == "politnavigator/2021/kazakhstan-open-skies.txt"
    assert hit["published"] == "2021-06-14T10:05:00+03:00" and hit["views"] == 4210
    assert "[[open skies]]" in hit["snippets"][0]
    assert out["facets"]["category"]["values"][:2] == [
        {"value": "Author column", "count": 2},
        {"value": "Kazakhstan", "count": 2},
    ]
    assert out["facets"]["category"]["other"] == 0


def test_jsonl_fields_mark(idx):
    r = run(
        "search",
        "--index",
        idx,
        "sanctions",
        "--jsonl",
        "--fields",
        "id,snippets",
        "--mark",
        "<em>,</em>",
    )
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 5 and all(list(row) == ["id", "snippets"] for row in rows)
    assert any("<em>sanctions</em>" in s for row in rows for s in row["snippets"])
    r = run("search", "--index", idx, "sanctions", "--json", "--fields", "id,title")
    assert list(json.loads(r.stdout)["hits"][0]) == ["id", "title"]
    r = run("search", "--index", idx, "x", "--fields", "id,colour")
    assert r.exit_code == 2 and "--fields: unknown key 'colour'" in r.stderr


def test_count_and_files(idx):
    r = run("search", "--index", idx, "sanctions", "--count")
    assert (r.exit_code, r.stdout) == (0, "5\n")
    r = run("search", "--index", idx, "*", "-l", "--limit", "3")
    paths = r.stdout.splitlines()
    assert len(paths) == len(set(paths)) == 38 and all(
        os.path.isfile(p) for p in paths
    )  # 42 articles in 38 files: a record file is named once
    r = run("search", "--index", idx, "zzqxv", "--count")
    assert (r.exit_code, r.stdout) == (1, "0\n")


def test_no_hits_exit_1_with_suggestion(idx):
    r = run("search", "--index", idx, "Kaliningrat")
    assert r.exit_code == 1
    assert r.stdout.startswith("0 hits for 'Kaliningrat'")
    assert r.stderr == "corpus-search: no hits; did you mean: kaliningrad\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (
            ["search", "title:(foo"],
            "corpus-search: bad query 'title:(foo' at column 7: unbalanced '(': no ')' closes it\n",
        ),
        (["search", "colour:red"], "unknown field 'colour:'"),
        (
            ["search", "x", "--since", "yesterday"],
            "--since needs a date like 2021, 2021-07 or 2021-07-02, got 'yesterday'",
        ),
        (
            ["search", "x", "--facet", "colour"],
            "Invalid value for '--facet': 'colour' is not one of 'category', 'tag'",
        ),
        (["search", "x", "--mark", "<<"], "--mark takes OPEN,CLOSE"),
        (["show", "nope.txt"], "no article with id 'nope.txt'"),
        (["timeline", "x", "--by", "decade"], "Invalid value for '--by'"),
    ],
)
def test_errors_are_one_line_exit_2(idx, args, message):
    r = run(*args, "--index", idx)
    assert r.exit_code == 2
    assert message in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_no_index(tmp_path):
    r = run("search", "x", "--index", tmp_path / "none")
    assert r.exit_code == 2
    assert (
        r.stderr
        == f"corpus-search: no index at {tmp_path / 'none'}; build it with 'corpus-search index PATH'\n"
    )


def test_index_location_precedence(tmp_path, idx):
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text(f"index: {idx}\nfacets: [lang]\n", "utf-8")
    r = run("--config", cfg, "search", "sanctions", "--json")
    assert json.loads(r.stdout)["facets"]["lang"]["values"] == [{"value": "en", "count": 5}]
    r = run("--config", cfg, "search", "x", env={"CORPUS_SEARCH_INDEX": str(tmp_path / "env")})
    assert "no index at " + str(tmp_path / "env") in r.stderr
    r = run(
        "--config",
        cfg,
        "search",
        "x",
        "--index",
        tmp_path / "flag",
        env={"CORPUS_SEARCH_INDEX": str(tmp_path / "env")},
    )
    assert "no index at " + str(tmp_path / "flag") in r.stderr


@pytest.mark.parametrize(
    "text,message",
    [
        ("index: [1, 2]\n", "key 'index' must be text"),
        ("colour: red\n", "unknown key 'colour'"),
        ("facets: [colour]\n", "unknown facet 'colour'"),
        ("index: [unclosed\n", "not valid YAML"),
        ("max_file_mb: -1\n", "must be a number greater than 0"),
    ],
)
def test_bad_config(tmp_path, text, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text, "utf-8")
    r = run("--config", cfg, "stats")
    assert r.exit_code == 2 and message in r.stderr and str(cfg) in r.stderr


def test_show(idx):
    r = run("show", "politnavigator/ru/gaz-moldova.txt", "--index", idx, "--json")
    rec = json.loads(r.stdout)
    assert (
        rec["title"] == "Молдавия получила газ в долг до весны" and rec["body"].count("\n\n") == 2
    )
    r = run("show", "politnavigator/ru/gaz-moldova.txt", "--index", idx)
    assert "Молдавия договорилась об отсрочке платежа" in r.stdout and "Олег Вершинин" in r.stdout


def test_parse_json_and_explain(tmp_path):
    bad = tmp_path / "empty.txt"
    bad.write_bytes(b"")
    good = SAMPLE / "wire" / "2023-grain-deal.txt"
    r = run("parse", good, bad, "--json")
    assert r.exit_code == 2
    assert r.stderr == f"corpus-search: {bad}: is empty\n"
    [rec] = json.loads(r.stdout)
    assert (
        rec["title"] == "Grain deal extended for another 60 days"
        and rec["id"] == "2023-grain-deal.txt"
    )
    r = run("parse", "--explain", SAMPLE / "politnavigator/2021/kazakhstan-open-skies.txt")
    assert r.exit_code == 0
    assert "[teaser (truncated repeat of a paragraph)] Deputies of the Mazhilis" in r.stdout
    assert "[subscribe prompt] Subscribe to PolitNavigator news" in r.stdout
    assert "[calendar widget] • June 2021" in r.stdout


def test_facets_and_timeline_commands(idx):
    r = run("facets", "source", "--index", idx, "--json")
    out = json.loads(r.stdout)
    assert out["field"] == "source"
    assert out["values"] == [
        {"value": "PolitNavigator", "count": 17},
        {"value": "Baltic Monitor", "count": 7},
        {"value": "Steppe Herald", "count": 7},
        {"value": "Central Asia Wire", "count": 3},
        {"value": "РИА Пример", "count": 3},
        {"value": "Caspian Daily", "count": 2},
    ]
    assert out["missing"] == 3
    r = run("timeline", "sanctions", "--by", "year", "--index", idx, "--json")
    assert json.loads(r.stdout) == {
        "by": "year",
        "total": 5,
        "undated": 0,
        "buckets": [
            {"period": "2021", "count": 3},
            {"period": "2022", "count": 1},
            {"period": "2023", "count": 1},
        ],
    }
    r = run("timeline", "sanctions", "--by", "year", "--split", "source", "--csv", "--index", idx)
    rows = list(csv.reader(io.StringIO(r.stdout)))
    assert rows[0] == ["period", "value", "count"]
    assert ["2021", "PolitNavigator", "2"] in rows and ["2023", "Baltic Monitor", "1"] in rows
    r = run("timeline", "sanctions", "--index", idx)
    assert r.stdout.startswith("5 articles by month") and "2021-08" in r.stdout
    r = run("stats", "--index", idx, "--json")
    assert json.loads(r.stdout)["documents"] == 42


def test_readme_commands_and_startup(tmp_path):
    """The README's first command, as a user runs it, and a --help that does not load Whoosh."""
    env = dict(os.environ, NO_COLOR="1")
    index = tmp_path / "index"
    cmd = [sys.executable, "-m", "corpus_search", "--index", str(index)]
    p = subprocess.run(cmd + ["index", str(SAMPLE)], capture_output=True, text=True, env=env)
    assert p.returncode == 0 and "42 added" in p.stdout
    p = subprocess.run(
        cmd + ["search", 'sanctions OR "open skies"', "--facet", "category", "--facet", "year"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert p.returncode == 0 and p.stdout.startswith("6 hits")
    p = subprocess.run(cmd + ["search", "zzzzqq"], capture_output=True, text=True, env=env)
    assert p.returncode == 1
    check = (
        "import sys, corpus_search.cli as c; sys.argv=['corpus-search','--help'];\n"
        "try: c.main()\nexcept SystemExit: pass\n"
        "print('whoosh' in sys.modules, 'rich' in sys.modules, file=sys.stderr)"
    )
    p = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, env=env)
    assert p.stderr.strip() == "False False" and "Usage: corpus-search" in p.stdout
    readme = (REPO / "README.md").read_text("utf-8")
    blocks = [b.split("```", 1)[0].strip() for b in readme.split("```sh\n")[1:3]]
    assert "corpus-search index sample_corpus" in blocks[0] and "search" in blocks[0]
    ci = (REPO / ".ci" / "run").read_text("utf-8")
    assert blocks[1] in ci


def test_every_command_has_help():
    for name, command in cli.commands.items():
        assert command.help or command.short_help, name
        r = run(name, "--help")
        assert r.exit_code == 0 and "Usage: " in r.stdout
        assert f"corpus-search {name}" in (REPO / "README.md").read_text("utf-8"), name


def test_config_roots_and_profiles(tmp_path):
    """`index` with no paths walks the config's roots; a profile from the config is used."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "MYSITE\nHeadline\nBy Jane Roe\n\nText about grain.\n\nBuy our app\n", "utf-8"
    )
    prof = tmp_path / "mysite.yaml"
    prof.write_text(
        "name: mysite\nsource: My Site\ndetect:\n  any: ['(?m)^MYSITE$']\n"
        "header:\n  - slot: marker\n    pattern: 'MYSITE'\n  - slot: title\n    pattern: '(?P<title>.+)'\n"
        "  - slot: author\n    pattern: 'By (?P<author>.+)'\n"
        "rules:\n  - name: promo\n    match: '^Buy our app'\n",
        "utf-8",
    )
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text("index: ix\nroots: [corpus]\nprofiles: [mysite.yaml]\n", "utf-8")
    r = run("--config", cfg, "index", "--json")
    assert r.exit_code == 0, r.stderr
    assert json.loads(r.stdout)["added"] == 1
    rec = json.loads(run("--config", cfg, "show", "a.txt", "--json").stdout)
    assert (rec["source"], rec["author"], rec["body"]) == (
        "My Site",
        "Jane Roe",
        "Text about grain.",
    )


def test_config_ignore_list_applies_to_parse_and_index(tmp_path):
    """`ignore: []` means no file is passed over, for parse as for index."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / ".draft.txt").write_text("Hidden draft\n\nStill an article.\n", "utf-8")
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ignore: []\n", "utf-8")
    parsed = json.loads(run("--config", cfg, "parse", corpus, "--json").stdout)
    assert [r["title"] for r in parsed] == ["Hidden draft"]
    r = run("--config", cfg, "index", corpus, "--index", tmp_path / "ix", "--json")
    assert json.loads(r.stdout)["added"] == 1
    assert json.loads(run("parse", corpus, "--json").stdout) == []  # the default ignores it
