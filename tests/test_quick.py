"""The quick path: a plain search run without click prints exactly what the click command
prints (stdout, stderr, exit code), hands everything it does not know to click, and imports
none of what it does not need."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from corpus_search.indexer import update_index
from corpus_search.quick import parse

from conftest import SAMPLE, cli_env, run_cli, untimed


def run(args, cwd, quick=True):
    return run_cli(args, cwd, quick=quick)


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    base = tmp_path_factory.mktemp("quick")
    shutil.copytree(SAMPLE, base / "corpus")
    update_index(base / "index", [base / "corpus"])
    (base / "empty").mkdir()
    update_index(base / "empty-index", [base / "empty"])
    return base


SEARCHES = [
    ["search", "sanctions"],
    ["search", "sanctions", "--json"],
    ["search", "sanctions", "--jsonl"],
    ["search", "sanctions", "--count"],
    ["search", "grain", "-l"],
    ["search", "grain", "--files-with-matches", "--page", "2", "-n", "1"],
    ["search", '"open skies"', "--json", "--facet", "category", "--facet", "author"],
    ["search", "gas", "OR", "oil", "--sort", "-date", "-n", "3", "--json"],
    ["search", "sanctions", "--limit=2", "--page=2", "--json"],
    ["search", "sanctions", "--page", "99"],
    ["search", "*", "--collapse", "--jsonl"],
    ["search", "sanctions", "--category", "Politics", "--category", "Скандал", "--json"],
    ["search", "*", "--since", "2021", "--until", "2022-06", "--count"],
    ["search", "*", "--min-views", "1000", "--lang", "ru", "--json"],
    ["search", "sanctions", "--fields", "id,title", "--jsonl"],
    ["search", "sanctions", "--mark", "<b>,</b>", "--json"],
    ["search", "--", "-nothing"],
    ["search", "zzqx"],
    ["search", "sanctoins"],
    ["search", "(unbalanced"],
    ["search", "title:"],
    ["search", "*", "--since", "2023", "--until", "2021"],
    ["search", "*", "--since", "yesterday"],
    ["search", "a", "--fields", "nope"],
    ["search", "a", "--mark", "only-one"],
    ["search", "sanctions", "--facet-limit", "2", "--facet", "place", "--json"],
    ["--index", "index", "search", "grain", "--count"],
    ["search", "grain", "--index", "empty-index", "--json"],
    ["search", "grain", "--index", "no-such-index"],
    ["search", "gas", "--timeout", "3", "--count"],
]


@pytest.mark.parametrize("args", SEARCHES, ids=[" ".join(a) for a in SEARCHES])
def test_the_same_output_with_and_without_click(base, args):
    assert parse(args) is not None, "the quick path should take this one"
    quick = run(args, base)
    full = run(args, base, quick=False)
    assert (quick.returncode, untimed(quick.stdout), quick.stderr) == (
        full.returncode,
        untimed(full.stdout),
        full.stderr,
    )
    assert quick.stdout or quick.stderr  # every case prints something


@pytest.mark.parametrize(
    "args",
    [
        ["search", "-russia", "gas"],  # a query word that looks like an option
        ["search", "gas", "--help"],
        ["search", "gas", "--debug"],
        ["--debug", "search", "gas"],
        ["search", "gas", "-n5"],
        ["search", "gas", "--limit", "abc"],
        ["search", "gas", "--limit", "-1"],
        ["search", "gas", "--page", "0"],
        ["search", "gas", "--sort", "sideways"],
        ["search", "gas", "--facet", "colour"],
        ["search", "gas", "--json=yes"],
        ["search", "gas", "--limit"],
        ["--config", "x.yaml", "search", "gas"],
        ["facets", "author"],
        [],
    ],
)
def test_what_the_quick_path_leaves_to_click(args):
    assert parse(args) is None


def test_left_to_click_the_output_is_clicks(base):
    """An option value the quick path does not judge: click's own message and exit code."""
    r = run(["search", "gas", "--limit", "abc"], base)
    assert r.returncode == 2 and "Invalid value for '-n' / '--limit'" in r.stderr
    r = run(["search", "-russia", "gas", "--count"], base)
    assert r.returncode in (0, 1) and r.stdout.strip().isdigit()


def test_a_config_file_sends_the_search_to_click(base, tmp_path):
    """A corpus-search.yaml may name the index or default facets: the full CLI reads it."""
    (tmp_path / "corpus-search.yaml").write_text(
        f"index: {base / 'index'}\nfacets: [category]\n", "utf-8"
    )
    r = run(["search", "sanctions", "--json"], tmp_path)
    assert r.returncode == 0 and '"category"' in r.stdout and '"facets"' in r.stdout


def test_a_quick_search_imports_only_what_it_uses(base):
    code = (
        "import io, sys, contextlib\n"
        "from corpus_search.client import main\n"
        "sys.argv = ['corpus-search', 'search', 'sanctions', '--json', '--index', 'index']\n"
        "out = io.StringIO()\n"
        "with contextlib.redirect_stdout(out):\n"
        "    code = main()\n"
        "assert code == 0 and '\"total\"' in out.getvalue(), code\n"
        "print(sorted(m for m in ('click', 'dataclasses', 'inspect', 'rich', 'yaml', "
        "'whoosh.query', 'whoosh.searching', 'urllib.request', 'corpus_search.cli') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=base, env=cli_env(), capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("quick", [True, False])
def test_a_reader_that_stops_early_is_not_an_error(base, quick):
    """``corpus-search search ... | head -1``: the reader closes the pipe after one line; the
    command ends with 0 like grep, and prints no traceback or "Exception ignored" line (the
    quick path ends with os._exit after its flush, the click path exits normally)."""
    env = cli_env(quick=quick)
    for args in (["search", "*", "-l"], ["search", "*", "--jsonl", "-n", "1000"]):
        proc = subprocess.Popen(
            [sys.executable, "-m", "corpus_search", *args, "--index", "index"],
            cwd=base,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stderr is not None
        first = proc.stdout.readline()
        proc.stdout.close()  # what head does after its line
        err = proc.stderr.read().decode()
        code = proc.wait(60)
        assert first.strip() and code == 0 and err == "", (args, code, err)
