"""Faults on a real cluster: three nodes (three JVMs on 127.0.0.1, small heaps), an index of
three shards with a replica each. A node killed in the middle of a push: the push completes
with its retries and nothing is lost. A closed index, a missing one, a mapping that refuses
our documents: one clear line and exit 2, never partial results in silence."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import uuid

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.opensearch import ClusterIndex, push, settings_and_mapping

from conftest import REPO, SAMPLE, _free_port_pair

SCRIPT = REPO / "integration" / "opensearch-node.sh"


@pytest.fixture(scope="module")
def three_nodes(tmp_path_factory):
    port = _free_port_pair(3)
    data = tmp_path_factory.mktemp("three")
    started = subprocess.run(
        [str(SCRIPT), "start", "--port", str(port), "--nodes", "3", "--data", str(data),
         "--heap", "200m"],
        capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr[-3000:]
    pids = [int(x) for x in (data / "pids").read_text().split()]
    yield started.stdout.strip(), pids
    subprocess.run([str(SCRIPT), "stop", "--port", str(port), "--data", str(data)], check=False)


def records(n: int) -> list[dict]:
    return [
        {
            "id": f"r{i:05d}.txt", "path": f"/x/r{i:05d}.txt", "source": "Wire", "url": None,
            "site": None, "title": f"Grain report {i}", "author": None,
            "published": "2021-05-05", "place": None, "views": i, "categories": [], "tags": [],
            "language": "en", "body": f"Wheat and corn prices, story {i}.", "words": 6,
            "sha256": str(i),
        }
        for i in range(n)
    ]  # fmt: skip


def test_a_node_killed_during_a_push_loses_nothing(three_nodes):
    url, pids = three_nodes
    name = f"cs-faults-{uuid.uuid4().hex[:8]}"
    cluster = ClusterIndex(url, name)
    body = settings_and_mapping()
    body["settings"]["number_of_shards"] = 3
    body["settings"]["number_of_replicas"] = 1
    cluster.client.indices.create(index=name, body=body)
    cluster.client.cluster.health(index=name, params={"wait_for_status": "green"})
    sent = {"chunks": 0}

    def kill_after_the_first_chunk(n: int) -> None:  # the fault at a fixed point
        sent["chunks"] += 1
        if sent["chunks"] == 1:
            os.kill(pids[1], signal.SIGKILL)  # node-2: a data node, not the one we talk to

    docs = records(3000)
    report = push(cluster, docs, chunk=250, progress=kill_after_the_first_chunk, backoff=0.5)
    assert report.failed == {} and report.added == len(docs)
    cluster.client.indices.refresh(index=name)
    assert cluster.doc_count == len(docs)
    got = {h.record["id"] for h in cluster.search("*", limit=len(docs), snippets=False).hits}
    assert got == {d["id"] for d in docs}
    cluster.client.indices.delete(index=name)
    cluster.close()


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def test_a_closed_or_missing_index_is_one_line(three_nodes):
    url, _ = three_nodes
    name = f"cs-closed-{uuid.uuid4().hex[:8]}"
    cluster = ClusterIndex(url, name)
    push(cluster, records(20))
    cluster.client.indices.close(index=name)
    try:
        for args in (["search", "grain"], ["facets", "source"], ["timeline", "grain"]):
            cfg_run = _with_index(url, name, args)
            assert cfg_run.exit_code == 2, (args, cfg_run.stdout)
            assert len(cfg_run.stderr.strip().splitlines()) == 1
            assert f"the OpenSearch cluster at {url}" in cfg_run.stderr
            assert "closed" in cfg_run.stderr.lower()
        missing = _with_index(url, f"cs-none-{uuid.uuid4().hex[:8]}", ["search", "grain"])
        assert missing.exit_code == 2 and "has no index" in missing.stderr
    finally:
        cluster.client.indices.delete(index=name)
        cluster.close()


def _with_index(url: str, name: str, args: list[str]):
    import tempfile
    from pathlib import Path

    cfg = Path(tempfile.mkdtemp()) / "c.yaml"
    cfg.write_text(f"opensearch_url: {url}\nopensearch_index: {name}\n", "utf-8")
    return CliRunner().invoke(cli, ["--config", str(cfg), *args])


def test_a_mapping_that_refuses_our_documents_is_counted_and_exit_2(three_nodes, tmp_path):
    url, _ = three_nodes
    name = f"cs-conflict-{uuid.uuid4().hex[:8]}"
    cluster = ClusterIndex(url, name)
    body = settings_and_mapping()
    body["mappings"]["properties"]["title"] = {"type": "integer"}  # not our titles
    cluster.client.indices.create(index=name, body=body)
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"opensearch_url: {url}\nopensearch_index: {name}\n", "utf-8")
    r = CliRunner().invoke(
        cli, ["--config", str(cfg), "opensearch", "push", str(SAMPLE / "wire"), "--json"]
    )
    out = json.loads(r.stdout)
    assert r.exit_code == 2 and out["added"] == 0
    assert set(out["failed"]) == {"mapper_parsing_exception"} and sum(out["failed"].values()) == 3
    cluster.client.indices.delete(index=name)
    cluster.close()
