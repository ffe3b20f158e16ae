"""Shared fixtures: the sample corpus, the seed article, and one read-only index per session."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corpus_search.articles import iter_files, read_articles

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_corpus"
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_439bd764cebd747d.txt"
CORPORA = SHARED / "corpora"


def cli_env(*, server: bool = False, quick: bool = True, **extra: str) -> dict[str, str]:
    """The environment of a `python -m corpus_search` subprocess: this checkout's package, no
    colour, no user index or config; a running server asked or not, the quick path or
    click."""
    env = dict(os.environ, NO_COLOR="1", PYTHONPATH=str(REPO))
    for name in ("CORPUS_SEARCH_INDEX", "CORPUS_SEARCH_CONFIG", "CORPUS_SEARCH_NO_QUICK"):
        env.pop(name, None)
    env.pop("CORPUS_SEARCH_NO_SERVER", None)
    if not server:
        env["CORPUS_SEARCH_NO_SERVER"] = "1"
    if not quick:
        env["CORPUS_SEARCH_NO_QUICK"] = "1"
    env.update(extra)
    return env


def run_cli(args, cwd=None, *, server: bool = False, quick: bool = True, **kw):
    """``python -m corpus_search ARGS`` as a user's shell runs it: a fresh process, in the
    environment of :func:`cli_env`; text output captured."""
    return subprocess.run(
        [sys.executable, "-m", "corpus_search", *map(str, args)],
        cwd=cwd,
        env=cli_env(server=server, quick=quick),
        capture_output=True,
        text=True,
        timeout=120,
        **kw,
    )


def untimed(text: str) -> str:
    """Output with the time a search took left out (it is measured, so it differs)."""
    text = re.sub(r" in \d+ ms", " in N ms", text)
    return re.sub(r'"took_ms": [\d.]+', '"took_ms": 0', text)


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the user's config or index location."""
    monkeypatch.delenv("CORPUS_SEARCH_INDEX", raising=False)
    monkeypatch.delenv("CORPUS_SEARCH_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


def articles_of(folder) -> list[dict]:
    """Every article under a folder as its record: one per text file or page, one per record
    of a record file (what an index of the folder must hold)."""
    out = []
    for path, root in iter_files([folder]):
        for article in read_articles(path, root=root):
            if isinstance(article, Exception):
                raise article
            out.append(article.to_dict())
    return out


@pytest.fixture(scope="session")
def sample_records():
    """The sample corpus parsed directly: the ground truth for counts."""
    return articles_of(SAMPLE)


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory):
    """A read-only index of a copy of the sample corpus, built once per session."""
    from corpus_search.indexer import update_index

    base = tmp_path_factory.mktemp("sample")
    corpus = base / "corpus"
    shutil.copytree(SAMPLE, corpus)
    index = base / "index"
    report = update_index(index, [corpus])
    assert report.added == len(articles_of(SAMPLE)) and not report.errors
    return index


@pytest.fixture(scope="session")
def ix(sample_index):
    from corpus_search.search import CorpusIndex

    with CorpusIndex(sample_index) as opened:
        yield opened


@pytest.fixture
def corpus_copy(tmp_path):
    """A writable copy of the sample corpus, for tests that change files."""
    dest = tmp_path / "corpus"
    shutil.copytree(SAMPLE, dest)
    return dest


def _free_port_pair(nodes: int = 1) -> int:
    """A port P with P .. P+N-1 and P+100 .. P+100+N-1 free (the HTTP and transport ports of N
    nodes), below the kernel's ephemeral range: a port in that range can be taken at any
    moment by an outgoing connection (the nodes' own connections to each other among them),
    which once made a node of three fail with "Address already in use"."""
    import random
    import socket

    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    top = max(10000 + 1000, min(low, 32768) - 200)
    rng = random.Random()
    for _ in range(500):
        port = rng.randint(10000, top)
        try:
            for p in [*range(port, port + nodes), *range(port + 100, port + 100 + nodes)]:
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise RuntimeError("no free ports for the OpenSearch nodes")


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's script (the npm package pinned in integration/axe, installed there with
    ``npm ci`` when missing), to load from disk into the browser: no network in the page."""
    folder = REPO / "integration" / "axe"
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        npm = shutil.which("npm")
        assert npm, "the accessibility tests need Node.js's npm (apt-get install npm)"
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-3000:]
    return script.read_text("utf-8")


@pytest.fixture(scope="session")
def opensearch_url(tmp_path_factory):
    """A real OpenSearch node (integration/opensearch-node.sh: the jars from Maven Central,
    one JVM on 127.0.0.1), started once for the whole run."""
    import subprocess

    script = REPO / "integration" / "opensearch-node.sh"
    port = _free_port_pair()
    data = tmp_path_factory.mktemp("opensearch")
    started = subprocess.run(
        [str(script), "start", "--port", str(port), "--data", str(data)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert started.returncode == 0, started.stderr[-3000:]
    yield started.stdout.strip()
    subprocess.run(
        [str(script), "stop", "--port", str(port), "--data", str(data)], timeout=120, check=False
    )
