"""Opt-in: the OpenSearch backend against a real cluster. Not part of the default test run
(the project's tests live in tests/); run it when you have a cluster:

    CORPUS_SEARCH_OPENSEARCH_URL=http://localhost:9200 python3 -m pytest integration -q

It pushes sample_corpus/ into a fresh index, then compares search, facets and timeline on
the cluster with the local index: totals and facet values must agree (scores may not).
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index

URL = os.environ["CORPUS_SEARCH_OPENSEARCH_URL"]  # required: this suite is opt-in
SAMPLE = Path(__file__).resolve().parent.parent / "sample_corpus"


def run(*args, env=None):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1", **(env or {})})


def test_push_then_search_like_the_local_index(tmp_path):
    name = f"corpus-search-test-{uuid.uuid4().hex[:8]}"
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text(f"opensearch_url: {URL}\nopensearch_index: {name}\n", "utf-8")
    r = run("--config", cfg, "opensearch", "push", SAMPLE, "--json")
    assert r.exit_code == 0, r.stderr
    from opensearchpy import OpenSearch

    OpenSearch(URL).indices.refresh(index=name)
    local = tmp_path / "ix"
    update_index(local, [SAMPLE])
    for args in (
        ["search", "sanctions", "--json", "--facet", "author"],
        ["search", '"open skies"', "--json"],
        ["facets", "category", "--json"],
        ["timeline", "--by", "year", "--json"],
    ):
        there = json.loads(run("--config", cfg, *args).stdout)
        here = json.loads(run("--index", local, *args).stdout)
        assert there.get("total") == here.get("total"), args
        if "facets" in here:
            assert there["facets"] == here["facets"], args
        if "values" in here:
            assert there["values"] == here["values"], args
    OpenSearch(URL).indices.delete(index=name)
