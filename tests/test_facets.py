"""Facet counts, filters and timelines, checked against counts computed from the parsed records."""

from __future__ import annotations

from collections import Counter

import pytest

from corpus_search.errors import CorpusSearchError
from corpus_search.search import Filters


def record_counts(records, field):
    c: Counter = Counter()
    for r in records:
        if field == "category":
            values = r["categories"]
        elif field == "tag":
            values = r["tags"]
        elif field == "lang":
            values = [r["language"]] if r["language"] else []
        elif field == "year":
            values = [r["published"][:4]] if r["published"] else []
        elif field == "month":
            values = [r["published"][:7]] if r["published"] else []
        else:
            values = [r[field]] if r[field] else []
        for v in values:
            c[v] += 1
    return c


@pytest.mark.parametrize(
    "field", ["category", "tag", "author", "place", "source", "lang", "year", "month"]
)
def test_facet_counts_match_the_records(ix, sample_records, field):
    result = ix.search("*", facets=[field], facet_limit=1000, limit=1)
    fc = result.facets[field]
    assert dict(fc.values) == dict(record_counts(sample_records, field))
    assert fc.other == 0
    assert fc.missing == sum(1 for r in sample_records if not record_counts([r], field))


def test_facets_cover_all_matches_not_the_page(ix, sample_records):
    result = ix.search(
        "source:PolitNavigator", facets=["category", "author"], limit=1, facet_limit=3
    )
    pn = [r for r in sample_records if r["source"] == "PolitNavigator"]
    expected = record_counts(pn, "category")
    top3 = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0].casefold()))[:3]
    assert result.facets["category"].values == top3
    assert result.facets["category"].other == len(expected) - 3
    assert len(result.facets["author"].values) == 3
    assert result.facets["author"].other == len(record_counts(pn, "author")) - 3
    assert len(result.hits) == 1


def test_multi_valued_counts_once_per_value(ix):
    fc = ix.search(
        'id:"politnavigator/2021/kazakhstan-open-skies.txt"', facets=["category"]
    ).facets["category"]
    assert fc.values == [
        ("Author column", 1),
        ("Kazakhstan", 1),
        ("Policy", 1),
        ("USA", 1),
        ("Скандал", 1),
    ]


def test_filters_combine(ix, sample_records):
    def expect(pred):
        return {r["id"] for r in sample_records if pred(r)}

    def got(**kw):
        r = ix.search("*", filters=Filters(**kw), limit=100)
        return {h.record["id"] for h in r.hits}

    assert got(category=["Sanctions"]) == expect(lambda r: "Sanctions" in r["categories"])
    assert got(category=["Sanctions", "Energy"]) == expect(
        lambda r: "Sanctions" in r["categories"] or "Energy" in r["categories"]
    )
    assert got(category=["Sanctions"], source=["Baltic Monitor"]) == expect(
        lambda r: "Sanctions" in r["categories"] and r["source"] == "Baltic Monitor"
    )
    assert got(author=["ainur kurmanov"], since="2022") == expect(
        lambda r: r["author"] == "Ainur Kurmanov" and r["published"][:4] >= "2022"
    )
    assert got(since="2021-08", until="2021-09") == expect(
        lambda r: r["published"] and "2021-08" <= r["published"][:7] <= "2021-09"
    )
    assert got(until="2021-06-14") == expect(
        lambda r: r["published"] and r["published"][:10] <= "2021-06-14"
    )
    assert got(min_views=10000) == expect(lambda r: (r["views"] or 0) >= 10000)
    assert got(lang=["ru"], tag=["газ"]) == {"politnavigator/ru/gaz-moldova.txt"}
    assert got(place=["Vilnius"], min_views=7000) == {
        "baltic-monitor/2021/vilnius-migrants.md",
        "baltic-monitor/2023/nato-summit.md",
    }


def test_facet_counts_describe_the_filtered_set(ix, sample_records):
    r = ix.search("*", filters=Filters(source=["Steppe Herald"]), facets=["lang", "year"])
    sh = [x for x in sample_records if x["source"] == "Steppe Herald"]
    assert dict(r.facets["lang"].values) == dict(record_counts(sh, "lang")) == {"en": 5, "ru": 2}
    assert dict(r.facets["year"].values) == dict(record_counts(sh, "year"))


def test_local_date_of_late_evening_article(ix):
    """23:14 Moscow time on 2 July is 20:14 UTC on 2 July; 23:50 on 30 Dec stays on 30 Dec."""
    day = ix.search("*", filters=Filters(since="2022-07-02", until="2022-07-02"))
    assert [h.record["id"] for h in day.hits] == ["politnavigator/2022/dushanbe-water.txt"]
    tl = ix.timeline("dushanbe", by="day")
    assert tl.buckets[0] == {"period": "2022-07-02", "count": 1}
    # 17:00 on 30 Dec 2023 in UTC would still be the 30th, but this one is 23:50 +03:00
    assert ix.search("*", filters=Filters(since="2023-12-30")).total == 1


def test_bad_filter_values():
    with pytest.raises(
        CorpusSearchError,
        match="^--since needs a date like 2021, 2021-07 or 2021-07-02, got 'yesterday'$",
    ):
        Filters(since="yesterday")
    with pytest.raises(CorpusSearchError, match="^--until: '2021-02-31' is not a real date"):
        Filters(until="2021-02-31")


def test_unknown_facet(ix):
    with pytest.raises(
        CorpusSearchError, match="unknown facet 'colour' \\(choose from category, tag"
    ):
        ix.search("*", facets=["colour"])


def test_timeline_months_with_empty_periods(ix, sample_records):
    tl = ix.timeline("sanctions", by="month")
    assert tl.total == 5 and tl.by == "month"
    periods = [b["period"] for b in tl.buckets]
    assert periods[0] == "2021-08" and periods[-1] == "2023-02" and len(periods) == 19
    assert {b["period"]: b["count"] for b in tl.buckets if b["count"]} == {
        "2021-08": 2,
        "2021-11": 1,
        "2022-02": 1,
        "2023-02": 1,
    }
    assert sum(b["count"] for b in tl.buckets) == 5


def test_timeline_default_period_and_split(ix, sample_records):
    tl = ix.timeline("*", split="source")
    assert tl.by == "month" and tl.undated == 3  # 2021-05 to 2023-12, the wire briefs have no date
    assert sum(b["count"] for b in tl.buckets) == len(sample_records) - 3
    b = next(x for x in tl.buckets if x["period"] == "2022-10")
    assert b["series"] == [
        {"value": "PolitNavigator", "count": 2},
        {"value": "Baltic Monitor", "count": 1},
    ]
    years = ix.timeline("*", by="year")
    assert [(b["period"], b["count"]) for b in years.buckets] == sorted(
        record_counts(sample_records, "year").items()
    )
    weeks = ix.timeline("published:2022-10", by="week")
    assert [b["period"] for b in weeks.buckets] == [
        "2022-W40",
        "2022-W41",
        "2022-W42",
        "2022-W43",
        "2022-W44",
    ]


def test_facet_values_across_the_index(ix, sample_records):
    fc = ix.facet("author", sort="name")
    names = [v for v, _ in fc.values]
    assert names == sorted(names, key=str.casefold)
    assert dict(fc.values) == dict(record_counts(sample_records, "author"))
    fc = ix.facet("category", "lang:ru")
    ru = [r for r in sample_records if r["language"] == "ru"]
    assert dict(fc.values) == dict(record_counts(ru, "category"))
