"""Building and updating the index, checked against the documents in the index itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from corpus_search.errors import (
    ConfigError,
    IndexLockedError,
    IndexVersionError,
    NoIndexError,
    NotAnIndexError,
)
from corpus_search.indexer import IndexFolder, index_stats, update_index
from corpus_search.schema import SCHEMA_VERSION

from conftest import REPO, SAMPLE


def indexed(index) -> dict[str, dict]:
    """id -> stored fields, read straight from Whoosh; also checks there are no duplicates."""
    ix = IndexFolder(index).open()
    with ix.searcher() as s:
        docs = list(s.all_stored_fields())
    ids = [d["id"] for d in docs]
    assert len(ids) == len(set(ids)), "duplicate documents"
    return {d["id"]: d for d in docs}


def n_files(folder: Path) -> int:
    """The articles under a folder: a file each, but a record file holds several."""
    from conftest import articles_of

    return len(articles_of(folder))


def test_build_then_noop(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    r = update_index(index, [corpus_copy])
    assert (r.added, r.updated, r.removed, r.skipped) == (n_files(corpus_copy), 0, 0, 0)
    docs = indexed(index)
    assert len(docs) == r.documents == n_files(corpus_copy)
    seedlike = docs["politnavigator/2021/kazakhstan-open-skies.txt"]
    assert seedlike["author_s"] == "Ainur Kurmanov"
    assert seedlike["categories"][-1] == "Скандал"
    assert seedlike["published"] == "2021-06-14T10:05:00+03:00"
    assert seedlike["path"] == str(corpus_copy / "politnavigator/2021/kazakhstan-open-skies.txt")

    gen = index / "gen-000001"
    before = sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir())
    r2 = update_index(index)  # the remembered root
    assert (r2.added, r2.updated, r2.removed, r2.unchanged) == (0, 0, 0, r.added)
    assert not r2.changed
    assert (
        sorted((p.name, p.stat().st_mtime_ns) for p in gen.iterdir()) == before
    )  # nothing written


def test_add_change_touch_remove_rename(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    first = update_index(index, [corpus_copy]).added
    wire = corpus_copy / "wire"
    (wire / "new-brief.txt").write_text(
        "Border crossing reopens\n\nTrucks queued overnight.\n", "utf-8"
    )
    changed = wire / "2023-grain-deal.txt"
    changed.write_text(changed.read_text("utf-8").replace("60 days", "120 days"), "utf-8")
    touched = corpus_copy / "baltic-monitor/2023/nato-summit.md"
    os.utime(touched, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    (corpus_copy / "wire/2021-pipeline-brief.txt").unlink()
    os.rename(
        corpus_copy / "steppe-herald/2021-11-coal-prices.md", corpus_copy / "steppe-herald/coal.md"
    )

    r = update_index(index)
    assert (r.added, r.updated, r.removed) == (2, 1, 2)  # new + renamed in; deleted + renamed out
    assert r.unchanged == first - 3  # touched file counts as unchanged
    docs = indexed(index)
    assert len(docs) == first
    assert "wire/new-brief.txt" in docs and "steppe-herald/coal.md" in docs
    assert (
        "wire/2021-pipeline-brief.txt" not in docs
        and "steppe-herald/2021-11-coal-prices.md" not in docs
    )
    from corpus_search.schema import body_text

    assert "120 days" in body_text(docs["wire/2023-grain-deal.txt"])


def test_update_of_a_subfolder_only_touches_that_subfolder(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    total = update_index(index, [corpus_copy]).added
    (corpus_copy / "steppe-herald/2023-03-election.md").unlink()
    r = update_index(index, [corpus_copy / "wire"])
    assert r.removed == 0 and r.unchanged == 3  # the deletion elsewhere is not seen
    r = update_index(index)
    assert r.removed == 1 and len(indexed(index)) == total - 1


def test_rebuild_swaps_generations(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    update_index(index, [corpus_copy])
    r = update_index(index, rebuild=True)
    assert r.rebuilt and r.added == r.documents
    meta = json.loads((index / "corpus-search.json").read_text())
    assert meta["generation"] == "gen-000002" and meta["previous"] == "gen-000001"
    r = update_index(index, rebuild=True)
    assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000002", "gen-000003"]
    assert len(indexed(index)) == r.documents


def test_failed_rebuild_keeps_old_index(tmp_path, corpus_copy, monkeypatch):
    index = tmp_path / "ix"
    update_index(index, [corpus_copy])
    import corpus_search.schema as schema

    calls = {"n": 0}
    real = schema.article_document

    def failing(*a, **kw):
        calls["n"] += 1
        if calls["n"] > 5:
            raise RuntimeError("simulated crash")
        return real(*a, **kw)

    monkeypatch.setattr(schema, "article_document", failing)
    with pytest.raises(RuntimeError):
        update_index(index, rebuild=True)
    assert json.loads((index / "corpus-search.json").read_text())["generation"] == "gen-000001"
    assert sorted(p.name for p in index.glob("gen-*")) == ["gen-000001"]
    assert len(indexed(index)) == n_files(corpus_copy)


def test_a_file_that_breaks_the_parser_is_skipped(tmp_path, corpus_copy, monkeypatch):
    import corpus_search.indexer as indexer

    real = indexer.parse_bytes

    def fragile(data, path, **kw):
        if Path(path).name == "2023-grain-deal.txt":
            raise ValueError("unexpected")
        return real(data, path, **kw)

    monkeypatch.setattr(indexer, "parse_bytes", fragile)
    r = update_index(tmp_path / "ix", [corpus_copy])
    assert r.added == n_files(corpus_copy) - 1 and r.skipped == 1
    assert r.errors[0]["reason"] == "could not be parsed (ValueError: unexpected)"


def test_batches_commit_and_interrupted_build_resumes(tmp_path, corpus_copy, monkeypatch):
    """A failure in the middle keeps the batches committed before it; the next run completes."""
    index = tmp_path / "ix"
    import corpus_search.schema as schema

    real = schema.article_document
    calls = {"n": 0}

    def interrupting(*a, **kw):  # the 12th document, whether a file's or a record's
        calls["n"] += 1
        if calls["n"] == 12:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(schema, "article_document", interrupting)
    with pytest.raises(KeyboardInterrupt):
        update_index(index, [corpus_copy], batch_size=5)
    assert len(indexed(index)) == 10  # two batches of five committed, the third cancelled
    monkeypatch.setattr(schema, "article_document", real)
    r = update_index(index)
    assert r.added == n_files(corpus_copy) - 10 and r.unchanged == 10
    assert len(indexed(index)) == n_files(corpus_copy)


def test_killed_child_process(tmp_path, corpus_copy):
    """SIGKILL during a build: the index opens at its last commit, no duplicates, next run completes."""
    index = tmp_path / "ix"
    script = textwrap.dedent(f"""
        import os, signal, sys
        sys.path.insert(0, {str(REPO)!r})
        import corpus_search.indexer as indexer
        real = indexer.parse_bytes
        n = [0]
        def killer(*a, **kw):
            n[0] += 1
            if n[0] == 17:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*a, **kw)
        indexer.parse_bytes = killer
        indexer.update_index({str(index)!r}, [{str(corpus_copy)!r}], batch_size=8)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, timeout=60)
    assert proc.returncode == -9
    assert len(indexed(index)) == 16
    r = update_index(index)
    assert r.added == n_files(corpus_copy) - 16
    assert len(indexed(index)) == n_files(corpus_copy)


def test_lock_contention(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    update_index(index, [corpus_copy])
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {str(REPO)!r})
        from corpus_search.indexer import IndexFolder
        with IndexFolder({str(index)!r}).lock():
            print("locked", flush=True)
            time.sleep(30)
    """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(IndexLockedError, match="another indexing run holds the index"):
            update_index(index, wait=0.3)
        with pytest.raises(IndexLockedError):
            update_index(index, wait=0)
        # searching still works while the lock is held
        from corpus_search.search import CorpusIndex

        with CorpusIndex(index) as ix:
            assert ix.search("sanctions").total > 0
    finally:
        holder.kill()
        holder.wait()
    assert not update_index(index, wait=0).changed  # free again


def test_schema_version_refused(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    update_index(index, [corpus_copy])
    meta_path = index / "corpus-search.json"
    meta = json.loads(meta_path.read_text())
    meta_path.write_text(json.dumps(dict(meta, schema_version=999)))
    with pytest.raises(IndexVersionError, match="schema version 999.*--rebuild"):
        update_index(index)
    from corpus_search.search import CorpusIndex

    with pytest.raises(IndexVersionError):
        CorpusIndex(index)
    r = update_index(index, rebuild=True)  # a rebuild repairs it
    assert r.rebuilt and json.loads(meta_path.read_text())["schema_version"] == SCHEMA_VERSION


def test_foreign_folder_and_missing_index(tmp_path):
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(NotAnIndexError, match="holds something other than a corpus-search index"):
        update_index(other, [SAMPLE])
    with pytest.raises(NoIndexError, match="no index at .*corpus-search index PATH"):
        IndexFolder(tmp_path / "none").open()
    with pytest.raises(ConfigError, match="no corpus folder given"):
        update_index(tmp_path / "fresh")


def test_unwritable_index_location(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(Exception, match=f"cannot write to the index folder {blocker / 'ix'}"):
        update_index(blocker / "ix", [SAMPLE])
    if os.geteuid() != 0:  # permission bits do not stop root
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
        with pytest.raises(Exception, match="cannot write to the index folder"):
            update_index(ro / "ix", [SAMPLE])


def test_stats(tmp_path, corpus_copy):
    index = tmp_path / "ix"
    update_index(index, [corpus_copy])
    st = index_stats(index)
    assert st["documents"] == n_files(corpus_copy)
    assert st["sources"] == {
        "PolitNavigator": 17,
        "Baltic Monitor": 7,
        "Steppe Herald": 7,
        "(none)": 3,
        "Central Asia Wire": 3,
        "РИА Пример": 3,
        "Caspian Daily": 2,
    }
    assert st["languages"] == {"en": 34, "ru": 7, "(none)": 1}  # a short record: unknown
    assert st["date_range"] == {"first": "2021-05-19", "last": "2023-12-30"}
    assert (
        st["roots"] == [str(corpus_copy)]
        and st["schema_version"] == SCHEMA_VERSION
        and st["size_bytes"] > 0
    )


def test_files_that_are_no_article_are_reported_not_passed_over(tmp_path):
    """Scripts, images and files of unknown types beside the articles are skipped with their
    reason and a hint, counted by reason; a record file that is not JSON, or has no records,
    is a skip too; include and exclude in the config change what is read."""
    corpus = tmp_path / "c"
    (corpus / "labels").mkdir(parents=True)
    (corpus / "a.txt").write_text("A\n\nan article\n", "utf-8")
    (corpus / "b.md").write_text("B\n\nanother\n", "utf-8")
    (corpus / "labels" / "a.txt").write_text("1\tpropaganda\n", "utf-8")
    (corpus / ".hidden.txt").write_text("H\n\nhidden\n", "utf-8")
    for name in ("scrape.py", "meta.json", "table.csv", "photo.png", "README"):
        (corpus / name).write_text("not an article\n", "utf-8")
    r = update_index(tmp_path / "ix", [corpus])
    assert r.added == 3  # labels/a.txt is a .txt: in
    reasons = {Path(e["path"]).name: e["reason"] for e in r.errors}
    assert set(reasons) == {"scrape.py", "photo.png", "README", "meta.json", "table.csv"}
    assert reasons["scrape.py"].startswith(
        "not a known article type (.py); add a pattern to include:"
    )
    assert reasons["README"].startswith("not a known article type (no extension)")
    assert reasons["meta.json"] == "is not JSON (it starts with neither [ nor {)"
    assert reasons["table.csv"] == "holds no records (a header row and nothing after it)"
    assert r.skipped == 5 and r.ignored == 1  # .hidden.txt
    assert r.to_dict()["skipped_by_reason"] == {
        "holds no records": 1,
        "is not JSON": 1,
        "not a known article type (.png)": 1,
        "not a known article type (.py)": 1,
        "not a known article type (no extension)": 1,
    }
    again = update_index(tmp_path / "ix", [corpus])  # reported again on the next run
    assert again.skipped == 5 and again.unchanged == 3 and not again.changed
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text('include: ["*"]\nexclude: ["labels/*", "*.py", ".*"]\n', "utf-8")
    from click.testing import CliRunner

    from corpus_search.cli import cli

    res = CliRunner().invoke(
        cli,
        ["--config", str(cfg), "index", str(corpus), "--index", str(tmp_path / "ix2"), "--json"],
    )
    out = json.loads(res.stdout)
    # a, b, photo, README as text; meta.json and table.csv are still read as records
    assert out["added"] == 4 and out["skipped"] == 2 and out["ignored"] == 3
    assert len([x for x in corpus.rglob("*") if x.is_file()]) == 9
    bad = tmp_path / "bad.yaml"
    bad.write_text('exclude: ["x"]\nignore: ["y"]\n', "utf-8")
    res = CliRunner().invoke(cli, ["--config", str(bad), "stats", "--index", str(tmp_path / "ix")])
    assert res.exit_code == 2 and "not both" in res.stderr
