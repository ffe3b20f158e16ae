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
    composite_facet_body,
    search_body,
    settings_and_mapping,
    timeline_body,
    translate,
)
from corpus_search.query import parse_query

TITLE_AND_BODY_WORD = {  # most_fields: the scores of the folded and stemmed fields add up;
    # ^2: a title match counts twice, as locally
    "multi_match": {
        "query": "sanctions",
        "type": "most_fields",
        "fields": ["title^2", "title.en^2", "title.ru^2", "body", "body.en", "body.ru"],
    }
}


def dsl(text: str):
    return translate(parse_query(text))


def test_a_word_matches_folded_and_stemmed_fields():
    assert dsl("sanctions") == TITLE_AND_BODY_WORD


@pytest.mark.parametrize(
    "text,expected",
    [
        # AND: every clause must match (bool.must); NOT inside: must_not
        (
            "sanctions -russia",
            {
                "bool": {
                    "must": [TITLE_AND_BODY_WORD],
                    "must_not": [
                        {"multi_match": {**TITLE_AND_BODY_WORD["multi_match"], "query": "russia"}}
                    ],
                }
            },
        ),
        # OR: bool.should with at least one
        (
            "gas OR oil",
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {"multi_match": {**TITLE_AND_BODY_WORD["multi_match"], "query": "gas"}},
                        {"multi_match": {**TITLE_AND_BODY_WORD["multi_match"], "query": "oil"}},
                    ],
                }
            },
        ),
        # a phrase with words between: match_phrase with slop, in the title (boosted) or the body
        (
            '"open skies"~3',
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {
                            "match_phrase": {
                                "title": {"query": "open skies", "slop": 3, "boost": 2.0}
                            }
                        },
                        {"match_phrase": {"body": {"query": "open skies", "slop": 3}}},
                    ],
                }
            },
        ),
        # a quoted word: as written, on the .exact subfields (no stemming, accents kept)
        (
            '"ucrânia"',
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {"match": {"title.exact": {"query": "ucrânia", "boost": 2.0}}},
                        {"match": {"body.exact": {"query": "ucrânia"}}},
                    ],
                }
            },
        ),
        # wildcards on the words as written
        (
            "title:governm*",
            {
                "wildcard": {
                    "title.exact": {"value": "governm*", "case_insensitive": True, "boost": 2.0}
                }
            },
        ),
        # fuzzy: edit distance, the first letter fixed for words over 3 letters
        (
            "kaliningrad~2",
            {
                "bool": {
                    "minimum_should_match": 1,
                    "should": [
                        {
                            "fuzzy": {
                                "title": {
                                    "value": "kaliningrad",
                                    "fuzziness": 2,
                                    "prefix_length": 1,
                                    "boost": 2.0,
                                }
                            }
                        },
                        {
                            "fuzzy": {
                                "body": {"value": "kaliningrad", "fuzziness": 2, "prefix_length": 1}
                            }
                        },
                    ],
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
            {
                "bool": {
                    "must": [{"match_all": {}}],
                    "must_not": [
                        {"multi_match": {**TITLE_AND_BODY_WORD["multi_match"], "query": "gas"}}
                    ],
                }
            },
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
