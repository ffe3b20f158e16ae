"""Faults, hostile input and concurrent use: nothing committed is lost, nothing shows a traceback."""

from __future__ import annotations

import codecs
import errno
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_search.cli import cli
from corpus_search.errors import CorpusSearchError
from corpus_search.indexer import IndexFolder, update_index
from corpus_search.search import CorpusIndex

from conftest import REPO, SAMPLE

GOOD_SEED_LAYOUT = (SAMPLE / "politnavigator/2021/sanctions-ferry.txt").read_text("utf-8")


def run(*args):
    return CliRunner().invoke(
        cli, [str(a) for a in args], env={"NO_COLOR": "1"}, catch_exceptions=False
    )


def indexed_ids(index) -> list[str]:
    ix = IndexFolder(index).open()
    with ix.searcher() as s:
        return [d["id"] for d in s.all_stored_fields()]


# --------------------------------------------------------------------------------------------
# A hostile corpus


def make_hostile(root: Path) -> tuple[set[str], dict[str, str]]:
    """Write the hostile corpus; return (ids that must be indexed, {id: reason fragment} skipped)."""
    good: set[str] = set()
    bad: dict[str, str] = {}

    def w(name: str, data: bytes, ok: bool = True, reason: str = "") -> None:
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        (good.add(name) if ok else bad.__setitem__(name, reason))

    w("empty.txt", b"", False, "is empty")
    w("spaces.txt", b" \n\t\n", False, "no text")
    w("nul.txt", b"Title\n\nbody\x00with a NUL", False, "is binary")
    w("image.png.txt", bytes(range(256)) * 4, False, "is binary")
    w("invalid-utf8.txt", bytes(range(0x80, 0xC0)) * 30, False, "not valid UTF-8")
    w("cp1251.txt", "Заголовок статьи\n\nТекст статьи о санкциях и газе.\n".encode("cp1251"))
    w(
        "utf16.txt",
        codecs.BOM_UTF16_LE + "Title in UTF-16\n\nBody about grain.\n".encode("utf-16-le"),
    )
    w("latin1.txt", "Café owners protest\n\nPrices rose by 5 £ in Zürich.\n".encode("latin-1"))
    big = root / "huge.txt"
    with open(big, "wb") as fh:
        fh.write(b"Huge\n\n")
        fh.seek(50 * 1024 * 1024)
        fh.write(b"end\n")
    bad["huge.txt"] = "too large"
    w("one-long-line.txt", b"Long line\n\n" + b"word " * (1024 * 1024))
    w("bad-date.txt", GOOD_SEED_LAYOUT.replace("03.08.2021", "31.02.2021").encode())
    w("bad-views.txt", GOOD_SEED_LAYOUT.replace("Views: 2875", "Views: many").encode())
    w("header-only.txt", b"Only a headline here\n")
    w("name with spaces.txt", b"Spaces\n\nIn the file name.\n")
    w("new\nline.txt", b"Newline\n\nIn the file name.\n")
    w("кириллица.txt", "Кириллица\n\nВ имени файла.\n".encode())
    w("emoji 💩.txt", b"Emoji\n\nIn the file name.\n")
    deep = "/".join(f"d{i}" for i in range(40))
    w(f"{deep}/deep.txt", b"Deep\n\nForty folders down.\n")
    for ignored in (".hidden.txt", "backup.txt~", ".#lock.txt", "x.swp", "#auto#"):
        (root / ignored).write_bytes(b"Ignored\n\nnot an article\n")
    os.symlink(root / "loop-a", root / "loop-b")
    os.symlink(root / "loop-b", root / "loop-a")
    bad["loop-a"] = "symbolic link loop"
    bad["loop-b"] = "symbolic link loop"
    os.symlink(root / "nowhere.txt", root / "dangling.txt")
    bad["dangling.txt"] = "dangling link"
    os.symlink(root, root / "d0" / "up")  # a folder loop: walked once, not reported
    unreadable = root / "unreadable.txt"
    unreadable.write_bytes(b"Secret\n\nbody\n")
    unreadable.chmod(0)
    if os.geteuid() == 0:
        good.add("unreadable.txt")  # root reads it anyway
    else:
        bad["unreadable.txt"] = "permission denied"
    return good, bad


def test_hostile_corpus(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    good, bad = make_hostile(corpus)
    index = tmp_path / "ix"
    r = run("index", corpus, "--index", index, "--json")
    assert r.exit_code == 0, r.stderr
    summary = json.loads(r.stdout)
    assert "Traceback" not in r.stderr
    assert summary["added"] == len(good)
    assert summary["skipped"] == len(bad) == len(summary["errors"])
    by_name = {Path(e["path"]).name: e["reason"] for e in summary["errors"]}
    assert set(by_name) == {Path(n).name for n in bad}
    for name, fragment in bad.items():
        assert fragment in by_name[Path(name).name], (name, by_name[Path(name).name])
    # each skip is one line on stderr, naming the file
    skipped_lines = [l for l in r.stderr.splitlines() if l.startswith("corpus-search: skipped ")]
    assert len(skipped_lines) == len(bad)
    assert sorted(indexed_ids(index)) == sorted(good)
    assert not any(l.startswith("line.txt") for l in r.stderr.splitlines())  # escaped, not split
    warnings = [l for l in r.stderr.splitlines() if "warning" in l]
    assert any("bad-date.txt: published: impossible date '31.02.2021 18:40'" in l for l in warnings)
    assert any("bad-views.txt: views: not a number ('many')" in l for l in warnings)

    with CorpusIndex(index) as ix:
        assert ix.search("санкциях").total == 1
        assert ix.search("grain").total == 1
        assert ix.search("zürich").total == 1
        assert ix.search("headline").total == 1
        assert ix.search("forty folders").total == 1
        doc = ix.get("bad-date.txt")
        assert doc["published"] is None and doc["author"] == "Ainur Kurmanov"

    gen = index / json.loads((index / "corpus-search.json").read_text())["generation"]
    before = sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir())
    again = json.loads(run("index", "--index", index, "--json").stdout)
    assert (again["added"], again["updated"], again["removed"]) == (0, 0, 0)
    assert again["skipped"] == summary["skipped"]
    assert sorted(e["path"] for e in again["errors"]) == sorted(
        e["path"] for e in summary["errors"]
    )
    assert sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir()) == before


def test_file_vanishing_or_changing_between_walk_and_read(tmp_path, monkeypatch):
    corpus = tmp_path / "c"
    shutil.copytree(SAMPLE / "wire", corpus)
    import corpus_search.indexer as indexer

    real = indexer.read_bytes
    victim = corpus / "2023-grain-deal.txt"

    def racing(path, *a, **kw):
        if Path(path) == victim:
            victim.unlink()
        return real(path, *a, **kw)

    monkeypatch.setattr(indexer, "read_bytes", racing)
    r = update_index(tmp_path / "ix", [corpus])
    assert r.added == 2 and r.skipped == 1
    assert r.errors == [{"path": str(victim), "reason": "vanished before it could be read"}]


# --------------------------------------------------------------------------------------------
# Kills, Ctrl-C, a full disk


def _small_corpus(root: Path, n: int) -> None:
    rng = random.Random(7)
    words = "sanctions grain pipeline border election minister gas treaty summit ferry".split()
    for i in range(n):
        body = " ".join(rng.choice(words) for _ in range(60))
        (root / f"a{i:04d}.txt").write_text(f"Article {i}\n\n{body}.\n", "utf-8")


def test_disk_full_keeps_the_last_commit(tmp_path, monkeypatch):
    corpus = tmp_path / "c"
    shutil.copytree(SAMPLE, corpus)
    index = tmp_path / "ix"
    update_index(index, [corpus / "wire"])
    before = sorted(indexed_ids(index))
    from whoosh.writing import SegmentWriter

    def full(self, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(SegmentWriter, "commit", full)
    r = run("index", corpus, "--index", index)
    assert r.exit_code == 2
    assert r.stderr.strip().endswith(
        f"could not write the index at {index}: the disk is full; "
        "the index is unchanged since its last commit"
    )
    monkeypatch.undo()
    assert sorted(indexed_ids(index)) == before
    r = update_index(index, [corpus])  # the new root takes over the one inside it
    assert (r.added, r.removed, r.documents) == (42, 3, 42)
    assert json.loads((index / "corpus-search.json").read_text())["roots"] == [str(corpus)]


# --------------------------------------------------------------------------------------------
# A damaged index

COMMANDS = [
    ["search", "sanctions"],
    ["search", "*", "--facet", "category"],
    ["stats"],
    ["show", "wire/2023-grain-deal.txt"],
    ["facets", "author"],
    ["timeline", "sanctions"],
    ["index"],
]


def _damage(index: Path, how: str) -> None:
    meta = json.loads((index / "corpus-search.json").read_text())
    gen = index / meta["generation"]
    files = sorted(gen.iterdir(), key=lambda p: p.stat().st_size, reverse=True)
    if how == "truncate":
        for p in files:
            if p.suffix in (".pst", ".trm", ".col") and p.stat().st_size > 64:
                with open(p, "r+b") as fh:
                    fh.truncate(p.stat().st_size // 3)
    elif how == "delete-segment":
        for p in files:
            if p.suffix in (".pst", ".trm"):
                p.unlink()
    elif how == "no-toc":
        for p in gen.glob("*.toc"):
            p.unlink()
    elif how == "garbage":
        for p in files[:6]:
            p.write_bytes(os.urandom(p.stat().st_size or 100))
    elif how == "garbage-terms":  # a term file's header garbled (its format tag)
        for p in gen.glob("*.trm"):
            with open(p, "r+b") as fh:
                fh.write(b"XXXX")
    elif how == "garbage-toc":
        for p in gen.glob("*.toc"):
            p.write_bytes(b"\x80\x04garbage" * 10)
    elif how == "meta":
        (index / "corpus-search.json").write_text("{not json")


@pytest.mark.parametrize(
    "how",
    ["truncate", "delete-segment", "no-toc", "garbage", "garbage-terms", "garbage-toc", "meta"],
)
def test_damaged_index_is_reported_and_rebuild_repairs_it(tmp_path, how):
    corpus = tmp_path / "c"
    shutil.copytree(SAMPLE, corpus)
    index = tmp_path / "ix"
    update_index(index, [corpus])
    _damage(index, how)
    damaged = 0
    for args in COMMANDS:
        r = run(*args, "--index", index)
        assert "Traceback" not in r.stderr, (how, args, r.stderr)
        assert "internal error" not in r.stderr, (how, args, r.stderr)
        if r.exit_code == 2:
            assert r.stderr.count("\n") == 1, (how, args, r.stderr)
            if "damaged" in r.stderr:
                damaged += 1
                assert "corpus-search index --rebuild" in r.stderr
    assert damaged >= 3, how  # lazily read files may only fail for the commands that read them
    r = (
        run("index", "--rebuild", corpus, "--index", index)
        if how == "meta"
        else run("index", "--rebuild", "--index", index)
    )
    assert r.exit_code == 0, r.stderr
    r = run("search", "sanctions", "--index", index, "--count")
    assert (r.exit_code, r.stdout) == (0, "5\n")


# --------------------------------------------------------------------------------------------
# Concurrency


def gated_cli(gate: Path) -> str:
    """A ``python -c`` script running the CLI whose indexing stops at its first article, with
    the lock held, until the file ``gate`` exists (it writes ``gate`` + ".held" on arrival):
    a test acts at that point, whatever the machine's speed."""
    return "\n".join(
        [
            "import os, sys, time",
            "import corpus_search.indexer as i",
            "real = i.parse_bytes",
            "def gated(*a, **kw):",
            f"    open({str(gate) + '.held'!r}, 'w').close()",
            f"    while not os.path.exists({str(gate)!r}):",
            "        time.sleep(0.01)",
            "    return real(*a, **kw)",
            "i.parse_bytes = gated",
            "import corpus_search.cli as c",
            "sys.argv = ['corpus-search'] + sys.argv[1:]",
            "sys.exit(c.main())",
        ]
    )


def wait_for(path: Path, proc: subprocess.Popen) -> None:
    """Until ``path`` exists (a gated child reached its gate); the child dying is a failure."""
    while not path.exists():
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.01)


def test_two_indexing_runs(tmp_path):
    """A second run waits --wait seconds for the lock and says who holds it; one that waits
    long enough gets it when the first is done. The first is held at a gate (not slowed down
    against a clock), so the second always finds the lock taken."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    _small_corpus(corpus, 300)
    index = tmp_path / "ix"
    gate = tmp_path / "go"
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    args = ["index", str(corpus), "--index", str(index), "--json"]
    first = subprocess.Popen(
        [sys.executable, "-c", gated_cli(gate), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wait_for(Path(str(gate) + ".held"), first)  # the first run holds the lock, at its gate
    cmd = [sys.executable, "-m", "corpus_search", *args]
    second = subprocess.run(cmd + ["--wait", "0.5"], capture_output=True, text=True, env=env)
    assert second.returncode == 2, second.stdout
    assert second.stderr == (
        f"corpus-search: another indexing run holds the index at {index}; "
        "waited 0.5s (use --wait SECONDS to wait longer)\n"
    )
    third = subprocess.Popen(
        cmd + ["--wait", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    gate.touch()  # the first run goes on; the third gets the lock after it
    out, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert json.loads(out)["added"] == 300
    out3, err3 = third.communicate(timeout=300)
    assert third.returncode == 0, err3
    assert json.loads(out3)["unchanged"] == 300  # it waited, then found everything done
    assert len(indexed_ids(index)) == 300


def test_searches_during_indexing_and_rebuild(tmp_path):
    """Searches answer from whole commits while an update and a rebuild run: each search
    is taken at a gate the indexing child stops at (after each commit), so the loop runs a
    known number of times, whatever the machine's speed."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    _small_corpus(corpus, 300)
    index = tmp_path / "ix"
    update_index(index, [corpus], batch_size=50)
    for i in range(300, 600):
        (corpus / f"b{i}.txt").write_text(f"Later {i}\n\nsanctions grain.\n", "utf-8")
    env = dict(os.environ, PYTHONPATH=str(REPO))
    steps = tmp_path / "steps"
    steps.mkdir()
    held = CorpusIndex(index, follow=False)  # a fixed snapshot: keeps answering from its commit
    assert held.search("*").total == 300
    following = CorpusIndex(index)  # follows each commit
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        from corpus_search.indexer import update_index
        steps = Path({str(steps)!r})
        n = 0
        def gate(_committed):  # after each commit: say so, wait for the test's go
            global n
            n += 1
            (steps / f"{{n}}.held").touch()
            while not (steps / f"{{n}}.go").exists():
                time.sleep(0.01)
        update_index({str(index)!r}, batch_size=25, on_commit=gate)
        update_index({str(index)!r}, rebuild=True, batch_size=100, on_commit=gate)
        (steps / "done").touch()
    """),
        ],
        env=env,
    )
    totals = []
    step = 0
    with held, following:
        while True:
            step += 1
            held_file, done = steps / f"{step}.held", steps / "done"
            while not (held_file.exists() or done.exists()):
                assert child.poll() is None or done.exists(), "the indexing child died"
                time.sleep(0.01)
            with CorpusIndex(index) as ix:
                r = ix.search("*", limit=1)
                assert r.total == ix.doc_count  # a consistent snapshot
                totals.append(r.total)
            assert held.search("*").total == 300
            r = following.search("*", limit=1)
            assert r.total == following.doc_count
            totals.append(r.total)
            if done.exists():
                break
            (steps / f"{step}.go").touch()
    assert child.wait(120) == 0
    assert step == 12 + 6 + 1  # 300 new in commits of 25, a rebuild in 6 of 100, the end
    # the update's commits are seen one by one; during the rebuild searches read the old
    # generation (600) until the new one is swapped in whole
    assert totals == sorted(totals) and totals[0] >= 325 and all(t % 25 == 0 for t in totals)
    assert totals[-1] == 600
    with CorpusIndex(index) as ix:
        assert ix.search("*").total == 600


# --------------------------------------------------------------------------------------------
# Hostile queries, filters and configs


QUERY_PIECES = st.sampled_from(
    [
        "sanctions",
        "gas",
        "OR",
        "AND",
        "NOT",
        "-",
        "(",
        ")",
        '"',
        '"open skies"~3',
        "title:",
        "author:",
        "category:Скандал",
        "views:>",
        "views:[1 TO",
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
        "+",
        "!",
        "&&",
        "||",
    ]
)


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(st.text(max_size=60), st.lists(QUERY_PIECES, max_size=12).map(" ".join)))
def test_arbitrary_queries_never_crash(ix, text):
    try:
        r = ix.search(text, timeout=5)
        assert r.total >= 0
    except CorpusSearchError as exc:
        message = str(exc)
        assert message and "\n" not in message.replace(text, "")


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    since=st.one_of(
        st.none(),
        st.text(max_size=12),
        st.sampled_from(["2021", "2021-07", "2021-13", "0000", "2021-02-29"]),
    ),
    until=st.one_of(st.none(), st.text(max_size=12)),
)
def test_arbitrary_date_filters(ix, since, until):
    from corpus_search.search import Filters

    try:
        r = ix.search("*", filters=Filters(since=since or None, until=until or None))
        assert r.total >= 0
    except CorpusSearchError as exc:
        assert "\n" not in str(exc)


def test_huge_queries(ix):
    many = " OR ".join(f"word{i}" for i in range(1000))
    assert ix.search(many).total == 0
    with pytest.raises(CorpusSearchError, match="more than 1024 terms"):
        ix.search(" ".join(["gas"] * 2000))
    assert ix.search("views:>" + "9" * 15).total == 0
    with pytest.raises(CorpusSearchError, match="whole number"):
        ix.search("views:>" + "9" * 40)


def test_query_timeout_message(ix):
    from corpus_search.errors import QueryTimeout

    with pytest.raises(QueryTimeout, match=r"took longer than 1e-09s and was stopped"):
        ix.search("*", timeout=1e-9)


def test_query_timeout_in_the_cli(ix, monkeypatch):
    from corpus_search.errors import QueryTimeout
    from corpus_search.search import CorpusIndex as CI

    def slow(self, text, **kw):
        raise QueryTimeout(text, kw["timeout"])

    monkeypatch.setattr(CI, "search", slow)
    r = run("search", "a*", "--timeout", "0.5", "--index", ix.path)
    assert r.exit_code == 2
    assert r.stderr == (
        "corpus-search: query 'a*' took longer than 0.5s and was stopped; "
        "narrow it (fewer wildcards, a filter) or raise --timeout\n"
    )


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.text(max_size=80))
def test_arbitrary_config_files(tmp_path_factory, text):
    cfg = tmp_path_factory.mktemp("cfg") / "c.yaml"
    cfg.write_text(text, "utf-8")
    r = run("--config", cfg, "stats", "--index", tmp_path_factory.mktemp("none") / "ix")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
