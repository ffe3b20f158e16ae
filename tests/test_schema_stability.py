"""Indexes depend on class locations: Whoosh pickles the schema (our field, analyzer and codec
classes) into every index. tests/data/index-vN (N: SCHEMA_VERSION) is a small index of the current schema version
kept in the repository; if a class it names moves or is renamed, opening it fails here (keep
an alias in corpus_search.schema where the class moves).

When SCHEMA_VERSION changes, make the new fixture (and delete the old one)::

    python -c "from corpus_search.indexer import update_index; update_index('tests/data/index-vN', ['sample_corpus/wire'])"
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.schema import SCHEMA_VERSION
from corpus_search.search import CorpusIndex

KEPT = Path(__file__).parent / "data" / f"index-v{SCHEMA_VERSION}"


def _copy(tmp_path) -> Path:
    dest = tmp_path / "ix"
    shutil.copytree(KEPT, dest)
    return dest


def test_a_kept_index_of_this_schema_version_opens(tmp_path):
    assert KEPT.is_dir(), f"no kept index for schema version {SCHEMA_VERSION}: make one (see above)"
    with CorpusIndex(_copy(tmp_path)) as ix:
        assert ix.doc_count == 3
        r = ix.search("grain", facets=["category", "author"])
        assert r.total >= 1 and r.hits[0].record["title"]
        assert ix.get("2023-grain-deal.txt")["body"]
        sources = ix.facet("source")
        assert sum(c for _, c in sources.values) + sources.missing == 3


def test_every_pickled_name_is_importable_where_the_index_says():
    import importlib

    names = set()
    for f in (KEPT / "gen-000001").iterdir():
        names.update(re.findall(rb"(corpus_search\.[a-z_.]+)\n(\w+)\n", f.read_bytes()))
        names.update(re.findall(rb"(corpus_search\.[a-z_.]+)\x94\x8c.(\w+)", f.read_bytes()))
    assert names, "the fixture names none of our classes"
    for module, cls in names:
        assert hasattr(importlib.import_module(module.decode()), cls.decode()), (module, cls)


def test_the_cli_reads_a_kept_index(tmp_path):
    r = CliRunner().invoke(cli, ["stats", "--index", str(_copy(tmp_path)), "--json"])
    assert r.exit_code == 0 and '"documents": 3' in r.stdout


def test_a_search_does_not_import_what_it_never_uses(tmp_path):
    """Whoosh imports urllib.request (http, email, ssl: ~25 ms) and an English morphology
    regex at start-up; corpus_search._whoosh keeps them out, but only if it is imported before
    any Whoosh module. A sorted import block once put Whoosh first: this catches that."""
    import subprocess
    import sys

    code = (
        "import sys; import corpus_search.cli, corpus_search.search, corpus_search.indexer; "
        "print(sorted(m for m in ('urllib.request', 'http.client', 'whoosh.lang.morph_en', "
        "'rich', 'yaml') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
