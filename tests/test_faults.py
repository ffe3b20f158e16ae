"""Faults at deterministic points: kills at a chosen commit or document, Ctrl-C to the whole
process group with two writer processes, writer processes that must die with their parent,
and the roots a user names (every file ends as a document or a reported skip).

No assertion here depends on timing: a fault happens when the run reaches a given point
(the Nth commit, the Nth document), and waits have generous limits that only stop a hung test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.store import IndexFolder

from conftest import REPO
from corpora import write_corpus


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"})


def indexed_ids(index) -> list[str]:
    ix = IndexFolder(index).open()
    with ix.searcher() as s:
        return [d["id"] for d in s.all_stored_fields()]


def all_ids(corpus: Path) -> list[str]:
    return sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())


def wait_for(predicate, limit: float = 60.0) -> None:
    """Wait until ``predicate()``; the limit only stops a hung test, it asserts nothing."""
    end = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("gave up waiting")
        time.sleep(0.02)


def alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


# A child that builds an index and kills itself (SIGKILL) at a chosen point: right after the
# Nth commit, or when the Nth document is about to be written. It logs each commit first.
KILLER = textwrap.dedent("""
    import os, signal, sys, multiprocessing
    sys.path.insert(0, {repo!r})
    from corpus_search.indexer import update_index
    log = open({log!r}, "a")
    def committed(n):
        log.write(f"{{n}}\\n"); log.flush(); os.fsync(log.fileno())
        if {at_commit} and n >= {at_commit} * {batch}:
            os.kill(os.getpid(), signal.SIGKILL)
    def progress(items, total):
        for i, item in enumerate(items, 1):
            if i == {at_doc}:
                with open({pids!r}, "w") as fh:
                    fh.write(" ".join(str(c.pid) for c in multiprocessing.active_children()))
                os.kill(os.getpid(), signal.SIGKILL)
            yield item
    update_index({index!r}, [{corpus!r}], batch_size={batch}, on_commit=committed,
                 progress=progress, procs={procs})
""")


def killed_build(tmp_path, corpus, *, batch, at_commit=0, at_doc=0, procs=1):
    index, log, pids = tmp_path / "ix", tmp_path / "commits.log", tmp_path / "pids"
    for p in (log, pids):
        p.write_text("")
    code = KILLER.format(
        repo=str(REPO),
        log=str(log),
        index=str(index),
        corpus=str(corpus),
        batch=batch,
        at_commit=at_commit,
        at_doc=at_doc,
        pids=str(pids),
        procs=procs,
    )
    child = subprocess.run([sys.executable, "-c", code], timeout=300)
    assert child.returncode == -signal.SIGKILL
    logged = [int(x) for x in log.read_text().split()]
    return index, (logged[-1] if logged else 0), [int(p) for p in pids.read_text().split()]


@pytest.mark.parametrize("at_commit,at_doc", [(1, 0), (3, 0), (0, 1), (0, 25), (0, 61), (0, 239)])
def test_a_kill_keeps_exactly_the_last_commit(tmp_path, at_commit, at_doc):
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=160, front=50, scraped=30)
    index, last, _ = killed_build(tmp_path, corpus, batch=20, at_commit=at_commit, at_doc=at_doc)
    assert last == (at_commit * 20 if at_commit else (at_doc - 1) // 20 * 20)
    if (index / "corpus-search.json").exists():
        ids = indexed_ids(index)
        assert len(ids) == len(set(ids)) == last
    report = update_index(index, [corpus])  # the next run completes the job
    assert report.added == 240 - last and report.skipped == 0
    assert sorted(indexed_ids(index)) == all_ids(corpus)


def test_writer_processes_die_with_their_parent(tmp_path):
    """kill -9 of a build with two writer processes: its children go too, the lock is free,
    the partial files are cleaned up and the next run completes."""
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=1300, front=0, scraped=0)
    index, last, children = killed_build(tmp_path, corpus, batch=5000, at_doc=700, procs=2)
    assert last == 0 and len(children) == 2
    wait_for(lambda: not any(alive(pid) for pid in children))
    report = update_index(index, wait=0)  # the lock is free at once
    assert report.added == 1300
    assert sorted(indexed_ids(index)) == all_ids(corpus)
    gen = index / json.loads((index / "corpus-search.json").read_text())["generation"]
    assert not [p for p in gen.iterdir() if p.suffix == ".tmp"]


def paused_cli(marker: Path, at: int, batch_size: int | None = None) -> str:
    """A ``python -c`` script running the CLI that, at the ``at``-th article it parses, creates
    ``marker`` and waits: the test then signals it at a known point (and smaller batches)."""
    lines = [
        "import sys, time",
        "import corpus_search.indexer as i",
        "real, calls = i.parse_bytes, [0]",
        "def parse(*a, **kw):",
        "    calls[0] += 1",
        f"    if calls[0] == {at}:",
        f"        open({str(marker)!r}, 'w').close()",
        "        time.sleep(120)",
        "    return real(*a, **kw)",
        "i.parse_bytes = parse",
    ]
    if batch_size:
        lines += [
            "orig = i.update_index",
            "def small(*a, **kw):",
            f"    kw['batch_size'] = {batch_size}",
            "    return orig(*a, **kw)",
            "i.update_index = small",
        ]
    lines += [
        "import corpus_search.cli as c",
        "sys.argv = ['corpus-search'] + sys.argv[1:]",
        "sys.exit(c.main())",
    ]
    return "\n".join(lines)


def test_ctrl_c_to_the_process_group_with_two_writers(tmp_path):
    """What a terminal does on Ctrl-C: SIGINT to every process of the group. Exit 130, one
    line on stderr, no child traceback; what was committed is kept."""
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=1300, front=0, scraped=0)
    index, marker = tmp_path / "ix", tmp_path / "marker"
    script = paused_cli(marker, at=600)
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "index", str(corpus), "--index", str(index)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,
    )
    wait_for(marker.exists)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130
    assert err == (
        "corpus-search: interrupted; everything committed before the interrupt is "
        "kept (run the command again to finish)\n"
    )
    assert indexed_ids(index) == []  # the first commit had not come
    assert update_index(index).added == 1300


def test_ctrl_c_keeps_commits(tmp_path):
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=100, front=0, scraped=0)
    index, marker = tmp_path / "ix", tmp_path / "marker"
    script = paused_cli(marker, at=50, batch_size=20)
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    proc = subprocess.Popen(
        [sys.executable, "-c", script, "index", str(corpus), "--index", str(index)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    wait_for(marker.exists)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "Traceback" not in err and err.count("\n") == 1
    assert len(indexed_ids(index)) == 40  # two commits of 20 before the 50th document
    assert update_index(index).added == 60


# --------------------------------------------------------------------------------------------
# Roots: every file under the paths named ends as a document or a reported skip


def test_two_roots_with_the_same_relative_path(tmp_path):
    for name, word in (("A", "alpha"), ("B", "beta")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "a.txt").write_text(f"{name}\n\n{word}\n", "utf-8")
    index = tmp_path / "ix"
    for order in (("B", "A"), ("A", "B"), ()):  # the same winner whatever the order
        r = run("index", *(tmp_path / n for n in order), "--index", index, "--json")
        assert r.exit_code == 0, r.stderr
        assert (
            f"skipped {tmp_path / 'B' / 'a.txt'}: has the same id 'a.txt' as "
            f"{tmp_path / 'A' / 'a.txt'}" in r.stderr
        )
        assert json.loads(r.stdout)["skipped"] == 1
        assert run("search", "alpha", "--count", "--index", index).stdout == "1\n"


def test_a_file_given_alone_is_remembered_alone(tmp_path):
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=5, front=0, scraped=0)
    index = tmp_path / "ix"
    one = corpus / "plain" / "p00002.txt"
    assert run("index", one, "--index", index).exit_code == 0
    assert run("index", "--index", index).exit_code == 0  # the remembered file, not its folder
    assert indexed_ids(index) == ["p00002.txt"]
    listed = json.loads(run("roots", "--index", index, "--json").stdout)
    assert listed == [{"root": str(one), "kind": "file", "exists": True, "documents": 1}]
    one.write_text("Changed\n\nnew words\n", "utf-8")
    assert run("index", "--index", index).exit_code == 0
    assert run("search", "title:changed", "--count", "--index", index).stdout == "1\n"


def test_a_missing_root_is_an_error_and_can_be_forgotten(tmp_path):
    corpus = tmp_path / "c"
    write_corpus(corpus, plain=6, front=0, scraped=0)
    other = tmp_path / "other"
    write_corpus(other, plain=4, front=0, scraped=0, prefix="o")
    index = tmp_path / "ix"
    r = run("index", tmp_path / "no-such", "--index", index)
    assert r.exit_code == 2 and "does not exist" in r.stderr
    assert not index.exists()  # nothing written
    assert run("index", corpus, other, "--index", index).exit_code == 0
    import shutil

    shutil.rmtree(other)
    r = run("index", "--index", index)
    assert r.exit_code == 2
    assert r.stderr == (
        f"corpus-search: {other} does not exist; to stop indexing it, run "
        f"'corpus-search roots --forget {other}'\n"
    )
    assert len(indexed_ids(index)) == 10  # nothing removed in silence
    r = run("roots", "--forget", other, "--index", index)
    assert r.exit_code == 0 and "removed 4 article(s)" in r.stderr
    assert sorted(indexed_ids(index)) == [f"plain/p{i:05d}.txt" for i in range(6)]
    assert run("index", "--index", index).exit_code == 0
    r = run("roots", "--forget", other, "--index", index)
    assert r.exit_code == 2 and "is not a remembered corpus folder" in r.stderr


def test_fifos_and_sockets_are_reported(tmp_path):
    import socket

    corpus = tmp_path / "c"
    write_corpus(corpus, plain=3, front=0, scraped=0)
    os.mkfifo(corpus / "pipe.txt")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(corpus / "s.txt"))
    try:
        report = update_index(tmp_path / "ix", [corpus])
    finally:
        sock.close()
    assert report.added == 3
    assert sorted((Path(e["path"]).name, e["reason"]) for e in report.errors) == [
        ("pipe.txt", "is not a regular file (a FIFO); not indexed"),
        ("s.txt", "is not a regular file (a socket); not indexed"),
    ]


def test_a_fifo_in_place_of_a_listed_file_does_not_hang(tmp_path, monkeypatch):
    import corpus_search.indexer as indexer

    corpus = tmp_path / "c"
    write_corpus(corpus, plain=3, front=0, scraped=0)
    target = corpus / "plain" / "p00001.txt"
    real = indexer.IndexRun.write

    def swap_then_write(self, ix, plan):  # after the walk, before the read
        target.unlink()
        os.mkfifo(target)
        return real(self, ix, plan)

    monkeypatch.setattr(indexer.IndexRun, "write", swap_then_write)
    report = update_index(tmp_path / "ix", [corpus])
    assert report.added == 2
    assert report.errors == [{"path": str(target), "reason": "is not a regular file (a FIFO)"}]


# --------------------------------------------------------------------------------------------
# Bugs are not damage; damage is named with its cause


def test_a_bug_is_an_internal_error_not_damage(sample_index, monkeypatch):
    import corpus_search.search as search

    def broken(*a, **kw):
        return {}["no such key"]  # a programming error inside a read path

    monkeypatch.setattr(search, "count_facet", broken)
    r = CliRunner().invoke(cli, ["search", "*", "--facet", "author", "--index", str(sample_index)])
    assert r.exit_code == 2
    assert r.stderr.startswith("corpus-search: internal error: KeyError: 'no such key'")
    assert "damaged" not in r.stderr and "--rebuild" not in r.stderr
    r = CliRunner().invoke(
        cli, ["--debug", "search", "*", "--facet", "author", "--index", str(sample_index)]
    )
    assert "in broken" in r.stderr  # --debug shows where it came from


def test_damage_is_chained_to_its_cause(tmp_path):
    import shutil

    from corpus_search.errors import IndexDamagedError
    from corpus_search.search import CorpusIndex

    from conftest import SAMPLE

    shutil.copytree(SAMPLE, tmp_path / "c")
    index = tmp_path / "ix"
    update_index(index, [tmp_path / "c"])
    gen = index / json.loads((index / "corpus-search.json").read_text())["generation"]
    for p in gen.glob("*._stored.col"):
        with open(p, "r+b") as fh:
            fh.truncate(p.stat().st_size // 3)
    with pytest.raises(IndexDamagedError) as err:
        with CorpusIndex(index) as ix:
            ix.search("sanctions")
    assert err.value.__cause__ is not None
    assert "run 'corpus-search index --rebuild'" in str(err.value)
    r = CliRunner().invoke(cli, ["--debug", "search", "sanctions", "--index", str(index)])
    assert "The above exception was the direct cause" in r.stderr


# --------------------------------------------------------------------------------------------
# A reader open across every kind of write


def _segments(index) -> int:
    from corpus_search.postings import Snapshot

    folder = IndexFolder(index)
    snap = Snapshot(folder.open(), folder.path)
    n = len(snap.leaves)
    snap.close()
    return n


def _small_commits(corpus, index, n):
    for i in range(n):
        write_corpus(corpus / f"b{i}", plain=8, front=2, scraped=0, seed=i, prefix=f"b{i}")
        update_index(index, [corpus])


@pytest.mark.parametrize("follow", [True, False], ids=["following", "fixed"])
def test_a_reader_survives_every_kind_of_write(tmp_path, follow):
    from corpus_search.search import CorpusIndex

    corpus, index = tmp_path / "c", tmp_path / "ix"
    corpus.mkdir()
    _small_commits(corpus, index, 10)  # ten small segments: the next commit merges them
    reader = CorpusIndex(index, follow=follow)

    def check(expected_now):
        expected = expected_now if follow else None
        r = reader.search("*", limit=200, facets=["author"])
        got = sorted(h.record["id"] for h in r.hits)
        if expected is not None:
            assert got == expected
        assert r.total == len(got) == reader.doc_count  # a consistent view, old or new
        for doc_id in got[:5]:
            assert reader.get(doc_id) is not None

    check(all_ids(corpus))
    assert _segments(index) == 10
    steps = [
        lambda: write_corpus(corpus / "add", plain=5, front=0, scraped=0, prefix="add"),  # add
        lambda: (corpus / "b0" / "plain" / "b0p00001.txt").write_text("Changed\n\nnew\n"),
        lambda: (corpus / "b1" / "plain" / "b1p00002.txt").unlink(),  # remove
    ]
    for step in steps:
        step()
        update_index(index)  # the first of these merges the ten small segments
        check(all_ids(corpus))
    assert _segments(index) < 10
    update_index(index, rebuild=True)
    check(all_ids(corpus))
    reader.close()
