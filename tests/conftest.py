"""Shared fixtures: the sample corpus, the seed article, and one read-only index per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corpus_search.articles import iter_files, parse_article

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_corpus"
SHARED = REPO.parent / "shared"
SEED = SHARED / "seeds" / "000_439bd764cebd747d.txt"
CORPORA = SHARED / "corpora"


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch, tmp_path_factory):
    """No test reads the user's config or index location."""
    monkeypatch.delenv("CORPUS_SEARCH_INDEX", raising=False)
    monkeypatch.delenv("CORPUS_SEARCH_CONFIG", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.fixture(scope="session")
def sample_records():
    """The sample corpus parsed directly: the ground truth for counts."""
    return [parse_article(p, root=root).to_dict() for p, root in iter_files([SAMPLE])]


@pytest.fixture(scope="session")
def sample_index(tmp_path_factory):
    """A read-only index of a copy of the sample corpus, built once per session."""
    from corpus_search.indexer import update_index

    base = tmp_path_factory.mktemp("sample")
    corpus = base / "corpus"
    shutil.copytree(SAMPLE, corpus)
    index = base / "index"
    report = update_index(index, [corpus])
    assert report.added == len(list(iter_files([SAMPLE])))
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
