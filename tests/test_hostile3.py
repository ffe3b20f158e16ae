"""Hostile input, third round: what a fuzzer, a killed rebuild and odd values still broke.
Each case at the shape it was found; faults happen at fixed points, nothing is timed."""

from __future__ import annotations

import json
import os
import pty
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.errors import CorpusSearchError
from corpus_search.indexer import update_index
from corpus_search.search import CorpusIndex

from conftest import REPO, SAMPLE

run = CliRunner().invoke


@pytest.fixture(scope="module")
def long_word_index(tmp_path_factory):
    """One article holding a very long word (a scraped table glued into one token)."""
    base = tmp_path_factory.mktemp("long")
    (base / "c").mkdir()
    (base / "c" / "long.txt").write_text("Long\n\n" + "a" * 200_000 + " tail\n", "utf-8")
    (base / "c" / "plain.txt").write_text("Plain\n\nzebra crossing\n", "utf-8")
    update_index(base / "ix", [base / "c"])
    return base / "ix"


@pytest.mark.parametrize(
    "query,hits",
    [
        ("*********z", 0),  # 10 stars against a 200,000-letter word: was a backtracking regex
        ("*a*a*a*a*a*a*a*z", 0),
        ("*a*a*a*a*a*a*a*a", 1),
        ("ze*ra", 1),
        ("?ebr?", 1),
        ("*****", 2),
    ],
)
def test_stacked_wildcards_cannot_backtrack(long_word_index, query, hits):
    with CorpusIndex(long_word_index) as ix:
        assert ix.search(query, timeout=30).total == hits


def test_the_wildcard_matcher_equals_a_plain_one():
    """Oracle: fnmatch (no brackets in these patterns) on thousands of random words."""
    import fnmatch

    from corpus_search.matching import glob_matcher

    rng = random.Random(25)
    for _ in range(20_000):
        word = "".join(rng.choice("abc") for _ in range(rng.randint(0, 9)))
        pattern = "".join(rng.choice("abc*?") for _ in range(rng.randint(1, 7)))
        assert glob_matcher(pattern)(word) == fnmatch.fnmatchcase(word, pattern), (pattern, word)


@pytest.mark.parametrize(
    "query,message",
    [
        ("oil~" + "9" * 5000, "fuzzy '~99999999999…' takes 1 or 2"),
        ('"a b"~' + "9" * 5000, "proximity ~99999999999… is too large"),
        ("author:caf\udce9", "the query is not valid UTF-8 (byte \\xe9)"),
        ("sanctions\udcff*", "the query is not valid UTF-8 (byte \\xff)"),
        ("-lang:\udcc3", "the query is not valid UTF-8 (byte \\xc3)"),
        ("lang:english", "languages are ISO 639-1 codes ('english' is none): lang:en"),
    ],
)
def test_odd_queries_are_one_line_errors_not_damage(sample_index, query, message):
    r = run(cli, ["search", query, "--json", "--index", str(sample_index)])
    assert r.exit_code == 2 and r.stdout == ""
    assert message in r.stderr and "damaged" not in r.stderr and len(r.stderr.splitlines()) == 1
    r = run(cli, ["facets", "source", "--query", query, "--index", str(sample_index)])
    assert r.exit_code == 2 and "damaged" not in r.stderr


def test_a_filter_value_in_another_encoding(sample_index):
    r = run(cli, ["search", "x", "--author", "caf\udce9", "--index", str(sample_index)])
    assert r.exit_code == 2 and "filter value is not valid UTF-8 (byte \\xe9)" in r.stderr


@pytest.mark.parametrize(
    "value,views,warning",
    [
        ("3.7", None, "views: not a number ('3.7'), left empty"),
        ("3.0", 3, None),
        ("1,234", 1234, None),
        ("12 500", 12500, None),
        ("9" * 5000, None, "views: not a number"),
        ("-5", None, "views: not a number ('-5')"),
    ],
)
def test_view_counts(tmp_path, value, views, warning):
    from corpus_search.articles import parse_bytes

    a = parse_bytes(f"---\ntitle: T\nviews: {value}\n---\n\nBody.\n".encode(), tmp_path / "x.md")
    assert a.views == views
    if warning:
        assert len(a.warnings) == 1 and warning in a.warnings[0]
    else:
        assert a.warnings == []


def test_a_killed_rebuild_leaves_nothing_behind(tmp_path):
    """Each kill -9 during a rebuild left its half-made generation (7 kills: 32 -> 62 MB);
    the next run of any kind removes them, and keeps the one in use and the previous one."""
    shutil.copytree(SAMPLE, tmp_path / "c")
    update_index(tmp_path / "ix", [tmp_path / "c"])
    update_index(tmp_path / "ix", rebuild=True)  # gen 1 is now the previous one
    meta = json.loads((tmp_path / "ix" / "corpus-search.json").read_text())
    for n in range(3):  # what three killed rebuilds leave: a folder with a pool and a TOC
        junk = tmp_path / "ix" / f"gen-00010{n}"
        junk.mkdir()
        (junk / "MAIN.tmp").write_bytes(b"\0" * 1000)
    r = update_index(tmp_path / "ix")
    assert not r.changed
    gens = sorted(p.name for p in (tmp_path / "ix").glob("gen-*"))
    assert gens == sorted({meta["generation"], meta["previous"]})
    with CorpusIndex(tmp_path / "ix") as ix:
        assert ix.doc_count == 42


def test_a_sentinel_date_does_not_blow_up_day_timelines(tmp_path):
    """One 9999-12-31 beside stories of 1987: by day that span is 2.9 million periods."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    for i in range(200):
        day = f"1987-{1 + i % 12:02d}-{1 + i % 28:02d}"
        (corpus / f"s{i}.md").write_text(f"---\ntitle: S{i}\npublished: {day}\n---\n\nWheat.\n")
    (corpus / "sentinel.md").write_text("---\ntitle: X\npublished: 9999-12-31\n---\n\nWheat.\n")
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        tl = ix.timeline("wheat", by="day")
    days = {f"1987-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(200)}
    assert [b["period"] for b in tl.buckets] == sorted(days | {"9999-12-31"})
    assert sum(b["count"] for b in tl.buckets) == 201
    out = tl.to_dict()
    assert out["empty_periods_omitted"] == (
        (__import__("datetime").date(9999, 12, 31) - __import__("datetime").date(1987, 1, 1)).days
        + 1
        - len(tl.buckets)
    )
    r = run(cli, ["timeline", "wheat", "--by", "day", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 0 and "empty periods not shown" in r.stdout
    with CorpusIndex(tmp_path / "ix") as ix:  # 8,013 years: past the bound too
        by_year = ix.timeline("wheat", by="year")
        assert [b["period"] for b in by_year.buckets] == ["1987", "9999"]
        assert by_year.omitted == 9999 - 1987 + 1 - 2
        # without the sentinel, every month of 1987 is there, empty or not
        assert len(ix.timeline("wheat -title:x", by="month").buckets) == 12


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """What a command prints on a terminal (a pseudo-terminal, read to the end)."""
    main, child = pty.openpty()
    env = dict(os.environ, PYTHONPATH=str(REPO), CORPUS_SEARCH_NO_SERVER="1", NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", *args], cwd=cwd, stdout=child, stderr=child, env=env
    )
    os.close(child)
    out = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(60)
    os.close(main)
    return out.decode("utf-8", "replace")


def test_csv_and_json_on_a_terminal_show_escapes_not_obey_them(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    evil = "Clipboard \x1b]52;c;ZXZpbA==\x07 title \x1b]0;pwned\x07 clear \x1b[2J"
    (corpus / "evil.txt").write_text(f"Evil wheat\n\n{evil} \u202e\u009b wheat.\n", "utf-8")
    update_index(tmp_path / "ix", [corpus])
    for args in (
        ["export", "wheat", "--format", "csv"],
        ["kwic", "wheat", "--csv"],
        ["export", "wheat", "--format", "jsonl"],
        ["search", "wheat", "--json"],
        ["kwic", "wheat", "--jsonl"],
    ):
        shown = _on_a_terminal([*args, "--index", "ix"], tmp_path)
        assert "wheat" in shown.lower(), args
        for raw in ("\x1b]52", "\x1b]0", "\x1b[2J", "\u202e", "\u009b"):
            assert raw not in shown, (args, raw)
    # in a pipe the text is kept as it is (JSON escapes its own controls)
    r = run(cli, ["export", "wheat", "--format", "jsonl", "--index", str(tmp_path / "ix")])
    assert "\u202e" in json.loads(r.stdout.splitlines()[0])["body"]


@pytest.mark.parametrize(
    "config,message",
    [
        ("max_file_mb: .nan\n", "key 'max_file_mb' must be a number greater than 0"),
        ("max_file_mb: .inf\n", "key 'max_file_mb' must be a number greater than 0"),
        ("max_file_mb: 0.000000001\n", "must be at least one byte"),
        ("timeout: .nan\n", "key 'timeout' must be a number greater than 0"),
        ("roots: " + "[" * 3000 + "]" * 3000 + "\n", "nested too deeply"),
    ],
)
def test_config_values_that_turned_limits_off(tmp_path, config, message):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config, "utf-8")
    r = run(cli, ["--config", str(cfg), "stats", "--index", str(tmp_path / "none")])
    assert r.exit_code == 2 and message in r.stderr and "internal error" not in r.stderr


@pytest.mark.parametrize("command", ["search", "timeline", "facets", "kwic", "stats", "show"])
def test_columns_zero_still_prints(sample_index, command, monkeypatch):
    monkeypatch.setenv("COLUMNS", "0")
    args = {
        "search": ["search", "sanctions"],
        "timeline": ["timeline", "sanctions"],
        "facets": ["facets", "source"],
        "kwic": ["kwic", "sanctions"],
        "stats": ["stats"],
        "show": ["show", "wire/2023-grain-deal.txt"],
    }[command]
    r = run(cli, [*args, "--index", str(sample_index)])
    assert r.exit_code == 0 and len(r.stdout.strip().splitlines()) >= 2, r.stdout


def test_odd_files_many_keys_control_characters_year_one(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    keys = "".join(f"k{i}: v\n" for i in range(20_000))
    (corpus / "keys.md").write_text(f"---\ntitle: Keys\n{keys}---\n\nWheat.\n", "utf-8")
    (corpus / "ctl.txt").write_text("Control\n\nWheat " + "\x01" * 11 + " here.\n", "utf-8")
    (corpus / "one.md").write_text("---\ntitle: One\npublished: 0001-01-01\n---\n\nWheat.\n")
    r = update_index(tmp_path / "ix", [corpus])
    assert (r.added, r.skipped) == (3, 0)
    assert len([w for w in r.warnings if "keys.md" in w]) == 1
    assert "unknown front-matter keys k0, k1, k2, k3, k4 and 19995 more" in r.warnings[0] or any(
        "and 19995 more" in w for w in r.warnings
    )
    with CorpusIndex(tmp_path / "ix") as ix:
        one = ix.get("one.md")
        assert one["published"] is None  # no date, as every count reads it
        assert ix.timeline("wheat").undated == 3  # none of the three has a date


def test_serve_where_no_socket_can_be(tmp_path):
    """A path too long for a Unix socket, a read-only folder: one line saying what is wrong."""
    shutil.copytree(SAMPLE / "wire", tmp_path / "c")
    deep = tmp_path / ("x" * 60) / ("y" * 60)
    update_index(deep, [tmp_path / "c"])
    r = run(cli, ["serve", "--index", str(deep)])
    assert r.exit_code == 2 and "too long for the server's socket" in r.stderr
    if os.geteuid() != 0:  # root writes anywhere: the read-only case needs another user
        ro = tmp_path / "ro"
        update_index(ro, [tmp_path / "c"])
        ro.chmod(0o555)
        r = run(cli, ["serve", "--index", str(ro)])
        assert r.exit_code == 2 and "cannot create the server's socket" in r.stderr


def test_generated_queries_through_the_server(sample_index, tmp_path):
    """The fuzzed queries, odd ones of this round included, sent to a real server over its
    socket: each an answer (0, 1) or a one-line error (2); none an internal error."""
    from test_hostile import FUZZ_PIECES
    from test_serve import _ask

    from corpus_search.protocol import version

    index = tmp_path / "ix"
    shutil.copytree(sample_index, index)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "serve", "--index", str(index)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        while not proc.stderr.readline().startswith("serving "):
            assert proc.poll() is None
        rng = random.Random(325)
        bad = []
        for _ in range(300):
            text = " ".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, 8)))
            request = {
                "version": version(),
                "argv": ["search", text, "--json", "--index", str(index)],
                "cwd": str(tmp_path),
                "env": {},
                "stdout_tty": False,
                "stderr_tty": False,
                "width": 80,
            }
            out = _ask(index, request)
            if out.get("code") not in (0, 1, 2) or "internal error" in out.get("stderr", ""):
                bad.append((text, out))
            elif out["code"] == 2:
                assert len(out["stderr"].splitlines()) == 1, out
            else:
                json.loads(out["stdout"])  # valid JSON: no lone surrogate
        assert bad == []
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_library_errors_are_ours(sample_index):
    with CorpusIndex(sample_index) as ix:
        for q in ("*" * 50 + "z", "a~" + "1" * 400, "title:\udcff"):
            try:
                ix.search(q)
            except CorpusSearchError:
                pass


def test_a_garbled_posting_block_is_damage(tmp_path):
    """Whoosh's 'Block tag error' (a bare Exception) is named damage, with its cause, not an
    internal error: a posting list's header bytes garbled in every segment."""
    shutil.copytree(SAMPLE / "wire", tmp_path / "c")
    update_index(tmp_path / "ix", [tmp_path / "c"])
    for pst in (tmp_path / "ix").rglob("*.pst"):
        pst.write_bytes(pst.read_bytes().replace(b"W3Bl", b"XXXX"))
    r = run(cli, ["search", "grain", "--index", str(tmp_path / "ix")])
    assert r.exit_code == 2
    assert "is damaged (FileFormatError: Block tag error" in r.stderr
    assert "run 'corpus-search index --rebuild'" in r.stderr


def test_small_fixes_from_the_request_model_issue(tmp_path, sample_index):
    from corpus_search.errors import shorten_words
    from corpus_search.snippets import MatchSpec, find_matches

    spec = MatchSpec()
    spec.folded.add("रूस")  # Russia, not the end of बेलारूस (Belarus)
    assert find_matches("बेलारूस और रूस ने", spec) == [(11, 14, "रूस")]
    message = "Connection refused by the remote host while opening a socket " * 5
    cut = shorten_words(message, 160)
    assert len(cut) <= 160 and cut.endswith("…") and message.startswith(cut[:-1])
    assert message[len(cut) - 1] == " "  # cut at a word's end
    r = run(cli, ["search", "(bad", "--debug", "--index", str(sample_index)])  # after the command
    assert r.exit_code == 2 and "Traceback" in r.stderr
    r = run(cli, ["index", str(tmp_path / "no-such"), "--index", str(tmp_path / "ix")])
    assert r.exit_code == 2 and r.stderr.strip().endswith("no-such does not exist")
    assert not (tmp_path / "ix").exists()  # no index folder, no .lock
    r = run(cli, ["reprints", "aral", "--index", str(sample_index)])
    assert "1 cluster of reprints among" in r.stdout and "(3 articles, 3 sources)" in r.stdout


def test_ctrl_c_on_serve_exits_130_and_sigterm_0(tmp_path):
    shutil.copytree(SAMPLE / "wire", tmp_path / "c")
    update_index(tmp_path / "ix", [tmp_path / "c"])
    env = dict(os.environ, PYTHONPATH=str(REPO))
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 0)):
        proc = subprocess.Popen(
            [sys.executable, "-m", "corpus_search", "serve", "--index", str(tmp_path / "ix")],
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        while not proc.stderr.readline().startswith("serving "):
            assert proc.poll() is None
        proc.send_signal(sig)
        assert proc.wait(30) == code
        assert not (tmp_path / "ix" / "serve.sock").exists()
