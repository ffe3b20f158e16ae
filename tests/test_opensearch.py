"""OpenSearch: the Query DSL our query tree becomes, construct by construct, checked against
the Query DSL reference (what each piece means is said beside it); the mapping; the bulk
NDJSON. No cluster is needed: these are the exact request bodies."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.matching import Filters
from corpus_search.opensearch import (
    CLUSTER_STEMMERS,
    composite_facet_body,
    search_body,
    settings_and_mapping,
    timeline_body,
    translate,
)
from corpus_search.query import parse_query
from corpus_search.results import Hit, SearchResult


def by_language(base: str, make) -> dict:
    """A word or phrase on the cluster: in the stemmed copy of the article's language (one
    per article: text_en, text_ru... whose term is the stem; the best of them, dis_max) or,
    in an article the cluster cannot stem (no ``stem`` field), as written."""
    return {
        "bool": {
            "should": [
                {"dis_max": {"queries": [make(f"{base}_{lang}") for lang in CLUSTER_STEMMERS]}},
                {"bool": {"must": [make(base)], "must_not": [{"exists": {"field": "stem"}}]}},
            ],
            "minimum_should_match": 1,
        }
    }


def word(w: str, base: str = "text") -> dict:
    return by_language(base, lambda f: {"match": {f: {"query": w}}})


TITLE_AND_BODY_WORD = word("sanctions")  # text: the title twice and the body, as locally


def dsl(text: str):
    return translate(parse_query(text))


def test_a_word_matches_folded_and_stemmed_fields():
    assert dsl("sanctions") == TITLE_AND_BODY_WORD
    assert dsl("title:sanctions") == word("sanctions", "title")


@pytest.mark.parametrize(
    "text,expected",
    [
        # AND: every clause must match (bool.must); NOT inside: must_not
        (
            "sanctions -russia",
            {"bool": {"must": [TITLE_AND_BODY_WORD], "must_not": [word("russia")]}},
        ),
        # OR: bool.should with at least one
        (
            "gas OR oil",
            {"bool": {"minimum_should_match": 1, "should": [word("gas"), word("oil")]}},
        ),
        # a phrase with words between: in order, at most 3 words apart (intervals; a
        # match_phrase slop would let the words swap), by the article's language
        (
            '"open skies"~3',
            by_language(
                "text",
                lambda f: {
                    "intervals": {
                        f: {"match": {"query": "open skies", "max_gaps": 3, "ordered": True}}
                    }
                },
            ),
        ),
        # a quoted word: as written, on the .exact subfield (no stemming, accents kept)
        ('"ucrânia"', {"match": {"text.exact": {"query": "ucrânia"}}}),
        # wildcards on the words as written
        (
            "title:governm*",
            {"wildcard": {"title.exact": {"value": "governm*", "case_insensitive": True}}},
        ),
        # fuzzy: edit distance, the first letter fixed for words over 3 letters
        (
            "kaliningrad~2",
            {
                "fuzzy": {
                    "text": {
                        "value": "kaliningrad",
                        "fuzziness": 2,
                        "prefix_length": 1,
                        "max_expansions": 2000,  # as locally (50 by default there)
                        "transpositions": False,  # Levenshtein distance, as locally
                    }
                }
            },
        ),
        # a metadata value: term on the keyword field (its normalizer folds case and accents)
        ('author:"Ainur Kurmanov"', {"term": {"author": "Ainur Kurmanov"}}),
        ("place:*", {"exists": {"field": "place"}}),
        # dates: the day printed on the article (local_date), inclusive
        (
            "published:2021-07",
            {"range": {"local_date": {"gte": "2021-07-01", "lte": "2021-07-31"}}},
        ),
        ("views:>1000", {"range": {"views": {"gte": 1001}}}),
        ("*", {"match_all": {}}),
        (
            "NOT gas",
            {"bool": {"must": [{"match_all": {}}], "must_not": [word("gas")]}},
        ),
    ],
)
def test_each_construct(text, expected):
    assert dsl(text) == expected


def test_filters_are_filter_clauses_and_facets_are_aggregations():
    body = search_body(
        parse_query("sanctions"),
        Filters(category=["Economy"], since="2021", min_views=10),
        size=20,
        offset=20,
        sort="-date",
        facets=["author", "month"],
    )
    assert body["query"] == {
        "bool": {
            "must": [TITLE_AND_BODY_WORD],
            "filter": [
                {"terms": {"category": ["Economy"]}},
                {"range": {"local_date": {"gte": "2021-01-01"}}},
                {"range": {"views": {"gte": 10}}},
            ],
        }
    }  # filter: narrows, scores unchanged
    assert (body["size"], body["from"], body["track_total_hits"]) == (20, 20, True)
    assert body["sort"] == [{"published": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
    assert body["aggs"]["author"] == {"terms": {"field": "author.raw", "size": 10}}
    assert body["aggs"]["month"]["date_histogram"]["calendar_interval"] == "month"
    assert body["aggs"]["author_missing"] == {"missing": {"field": "author"}}


def test_composite_paging_and_timelines():
    first = composite_facet_body(parse_query("*"), Filters(), "category")
    assert first["size"] == 0 and first["aggs"] == {
        "category": {
            "composite": {"size": 1000, "sources": [{"category": {"terms": {"field": "category"}}}]}
        }
    }
    nxt = composite_facet_body(parse_query("*"), Filters(), "category", after={"category": "x"})
    assert nxt["aggs"]["category"]["composite"]["after"] == {"category": "x"}
    tl = timeline_body(parse_query("sanctions"), Filters(), "month")
    assert tl["aggs"]["timeline"]["date_histogram"] == {
        "field": "local_date",
        "calendar_interval": "month",
        "format": "yyyy-MM",
        "min_doc_count": 0,
    }


def test_mapping_covers_every_record_field():
    from corpus_search.articles import RECORD_FIELDS

    props = settings_and_mapping()["mappings"]["properties"]
    assert set(RECORD_FIELDS) <= set(props)
    assert props["title"]["fields"]["exact"]["analyzer"] == "cs_exact"
    r = CliRunner().invoke(cli, ["opensearch", "mapping"])
    assert r.exit_code == 0 and json.loads(r.stdout) == settings_and_mapping()


def test_bulk_ndjson_of_the_sample_corpus(sample_records):
    from conftest import SAMPLE

    r = CliRunner().invoke(cli, ["opensearch", "bulk", str(SAMPLE), "--index-name", "news"])
    assert r.exit_code == 0, r.stderr
    lines = [json.loads(x) for x in r.stdout.splitlines()]
    actions, docs = lines[0::2], lines[1::2]
    assert len(docs) == len(sample_records)
    by_id = {x["id"]: x for x in sample_records}
    for action, doc in zip(actions, docs):
        assert action == {"index": {"_index": "news", "_id": doc["id"]}}
        record = by_id[doc["id"]]
        assert {k: doc[k] for k in record if k != "path"} == {
            k: v for k, v in record.items() if k != "path"
        }
        assert doc["category"] == record["categories"]
        assert doc["local_date"] == (record["published"] or "")[:10] or doc["local_date"] is None


# --------------------------------------------------------------------------------------------
# The client path, against a fake cluster on 127.0.0.1 (canned answers shaped like a real
# cluster's, derived from the local index of the same documents)

import threading  # noqa: E402
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer  # noqa: E402

from corpus_search.opensearch import document  # noqa: E402


class FakeCluster:
    """Answers /_search, /_count and /_doc/ID from a local index; records every request."""

    def __init__(self, ix, status: int = 200):
        self.ix, self.status, self.requests = ix, status, []
        self.text = "*"
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def _body(self):
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n)) if n else None

            def _send(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._handle("GET")

            def do_POST(self):  # noqa: N802
                self._handle("POST")

            def do_HEAD(self):  # noqa: N802
                self._send(200, {})

            def _handle(self, method):
                body = self._body()
                cluster.requests.append((method, self.path, body))
                if cluster.status != 200:
                    return self._send(
                        cluster.status,
                        {"error": {"type": "security_exception"}, "status": cluster.status},
                    )
                self._send(200, cluster.answer(self.path, body))

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, path, body):
        ix, text = self.ix, self.text
        if "/_doc/" in path:
            doc_id = path.split("/_doc/", 1)[1].split("?")[0]
            from urllib.parse import unquote

            rec = ix.get(unquote(doc_id))
            return {"found": rec is not None, "_source": document(rec) if rec else None}
        if path.split("?")[0].endswith("/_count"):
            return {"count": ix.doc_count}
        aggs = (body or {}).get("aggs", {})
        out = {
            "hits": {"total": {"value": ix.search(text, count_only=True).total}, "hits": []},
            "aggregations": {},
        }
        for name, agg in aggs.items():
            if "composite" in agg:
                field = name.removesuffix(".raw")
                values = ix.facet(field, text).values
                after = agg["composite"].get("after")
                start = 0 if not after else [v for v, _ in values].index(after[name]) + 1
                chunk = values[start : start + 3]  # pages of three: paging is exercised
                out["aggregations"][name] = {
                    "buckets": [{"key": {name: v}, "doc_count": c} for v, c in chunk],
                    **({"after_key": {name: chunk[-1][0]}} if chunk else {}),
                }
            elif "missing" in agg:
                field = agg["missing"]["field"]
                if field == "local_date":
                    out["aggregations"][name] = {"doc_count": ix.timeline(text).undated}
                else:
                    out["aggregations"][name] = {"doc_count": ix.facet(field, text).missing}
            elif "date_histogram" in agg:
                by = agg["date_histogram"]["calendar_interval"]
                tl = ix.timeline(text, by=by)
                out["aggregations"][name] = {
                    "buckets": [
                        {"key_as_string": b["period"], "doc_count": b["count"]} for b in tl.buckets
                    ]
                }
        size = (body or {}).get("size", 10)
        if size:
            page = (body.get("from", 0) // size) + 1
            result = ix.search(text, limit=size, page=page, snippets=False)
            out["hits"]["hits"] = [
                {
                    "_id": h.record["id"],
                    "_score": h.score,
                    "_source": document(ix.get(h.record["id"])),
                }
                for h in result.hits
            ]
        return out

    def close(self):
        self.server.shutdown()


@pytest.fixture
def fake(ix):
    cluster = FakeCluster(ix)
    yield cluster
    cluster.close()


def _run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"})


def _no_time(obj):
    return {**obj, "took_ms": 0, "hits": [{**h, "score": None} for h in obj.get("hits", [])]}


def test_a_refusing_cluster_is_one_line(ix):
    cluster = FakeCluster(ix, status=401)
    try:
        r = _run("--opensearch", cluster.url, "search", "gas")
    finally:
        cluster.close()
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "refused the credentials" in r.stderr


def test_an_unreachable_cluster_is_one_line():
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = _run("--opensearch", f"http://127.0.0.1:{port}", "search", "gas")
    assert r.exit_code == 2 and r.stderr.count("\n") == 1 and "cannot be reached" in r.stderr


@pytest.mark.parametrize("args", [["kwic", "gas"], ["collocates", "gas"], ["reprints"]])
def test_commands_the_cluster_cannot_serve_yet_say_so(fake, args):
    r = _run("--opensearch", fake.url, *args)
    assert r.exit_code == 2 and r.stderr.count("\n") == 1
    assert "not available with the OpenSearch backend yet" in r.stderr


# --------------------------------------------------------------------------------------------
# push: bulk loading with retries


class BulkCluster:
    """A fake cluster for loading: no index at first; the first bulk request is refused whole
    with 429, the next ones refuse some items with 429 once and one item for good (400)."""

    def __init__(self):
        self.requests, self.docs, self.created = [], {}, False
        self.refused_whole = False
        self.refused_items: set[str] = set()
        cluster = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            def _read(self):
                n = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(n).decode() if n else ""

            def do_HEAD(self):  # noqa: N802 - indices.exists
                cluster.requests.append(("HEAD", self.path))
                self._send(200 if cluster.created else 404, {})

            def do_PUT(self):  # noqa: N802 - indices.create
                cluster.requests.append(("PUT", self.path, json.loads(self._read())))
                cluster.created = True
                self._send(200, {"acknowledged": True})

            def do_POST(self):  # noqa: N802
                raw = self._read()
                cluster.requests.append(("POST", self.path, raw))
                if "/_refresh" in self.path:
                    return self._send(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
                if "/_refresh" in self.path:
                    return self._send(200, {"_shards": {"total": 1, "successful": 1, "failed": 0}})
                if "/_search" in self.path:  # existing hashes, one page
                    hits = [
                        {"_id": i, "_source": {"sha256": d["sha256"]}, "sort": [i]}
                        for i, d in sorted(cluster.docs.items())
                    ]
                    return self._send(200, {"hits": {"hits": hits}})
                if not cluster.refused_whole:
                    cluster.refused_whole = True
                    return self._send(
                        429, {"error": {"type": "es_rejected_execution_exception"}, "status": 429}
                    )
                lines = raw.splitlines()
                items, i = [], 0
                while i < len(lines):
                    action = json.loads(lines[i])
                    ((kind, meta),) = action.items()
                    doc = json.loads(lines[i + 1]) if kind == "index" else None
                    i += 2 if kind == "index" else 1
                    doc_id = meta["_id"]
                    if doc_id.endswith("ceasefire-brief.txt"):
                        items.append(
                            {
                                kind: {
                                    "_id": doc_id,
                                    "status": 400,
                                    "error": {"type": "mapper_parsing_exception"},
                                }
                            }
                        )
                    elif doc_id.startswith("baltic") and doc_id not in cluster.refused_items:
                        cluster.refused_items.add(doc_id)
                        items.append(
                            {
                                kind: {
                                    "_id": doc_id,
                                    "status": 429,
                                    "error": {"type": "es_rejected_execution_exception"},
                                }
                            }
                        )
                    else:
                        if doc is None:
                            cluster.docs.pop(doc_id, None)
                        else:
                            cluster.docs[doc_id] = doc
                        items.append({kind: {"_id": doc_id, "status": 201}})
                self._send(200, {"errors": True, "items": items})

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


def test_push_retries_reports_and_is_incremental(sample_records, monkeypatch):
    import corpus_search.opensearch as osmod

    from conftest import SAMPLE

    monkeypatch.setattr(
        osmod.time if hasattr(osmod, "time") else __import__("time"), "sleep", lambda s: None
    )
    cluster = BulkCluster()
    try:
        r = _run(
            "--opensearch", cluster.url, "opensearch", "push", SAMPLE, "--chunk", "10", "--json"
        )
        out = json.loads(r.stdout)
        assert r.exit_code == 2  # one document failed for good
        assert out["failed"] == {"mapper_parsing_exception": 1}
        assert out["added"] == len(sample_records) - 1 and out["retries"] >= 2  # taken only
        assert cluster.created and cluster.requests[1][0] == "PUT"  # created with our mapping
        assert cluster.requests[1][2] == settings_and_mapping()
        assert len(cluster.docs) == len(sample_records) - 1  # every other one arrived
        bulk_sizes = [
            raw.count('"index"')
            for m, p, *raw in cluster.requests
            if m == "POST" and "_bulk" in p
            for raw in raw
        ]
        assert max(bulk_sizes) <= 10
        again = _run("--opensearch", cluster.url, "opensearch", "push", SAMPLE, "--json")
        out = json.loads(again.stdout)
        # the one the cluster refuses for good is refused again: not counted as added
        assert (out["unchanged"], out["added"], out["updated"]) == (len(sample_records) - 1, 0, 0)
        assert out["failed"] == {"mapper_parsing_exception": 1}
    finally:
        cluster.server.shutdown()


def test_the_cluster_backend_makes_its_results_without_the_local_engine():
    """Hit and SearchResult live in results.py: the cluster backend builds them without
    importing the local engine (search.py, Whoosh's reader), in a fresh interpreter."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from corpus_search import opensearch\n"
        "from corpus_search.results import Hit, SearchResult\n"
        "r = SearchResult('q', 1, 0.0, 1, 10, 'relevance', [Hit(1, 1.0, {}, [], [])])\n"
        "assert r.pages == 1 and r.hits[0].rank == 1\n"
        "print(sorted(m for m in ('corpus_search.search', 'whoosh.searching') "
        "if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
    from corpus_search import search

    assert search.Hit is Hit and search.SearchResult is SearchResult  # the names kept
