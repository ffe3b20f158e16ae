"""Collections as researchers have them: HTML pages, JSON lines, JSON and CSV exports, WARC,
gzip, mixed in one folder; record files appended to, edited and cut over several runs.

Every expected value is computed here from the stories the test wrote (the oracle), never from
corpus-search's own output on the same data.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_search.articles import read_articles
from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.postings import Snapshot
from corpus_search.search import CorpusIndex
from corpus_search.store import IndexFolder

WORDS = (
    "harbour wheat pipeline election border railway drought reservoir steel tariff ferry "
    "parliament mayor strike refinery vaccine festival airport bridge customs cotton uranium "
    "museum orchestra glacier wildfire senate census coal lithium"
).split()
SOURCES = ["Caspian Daily", "Steppe Herald", "Baltic Monitor", "Central Asia Wire"]
HOSTS = {
    "Caspian Daily": "www.caspian-daily.example",
    "Steppe Herald": "steppe-herald.example",
    "Baltic Monitor": "www.baltic-monitor.example",
    "Central Asia Wire": "news.centralasia-wire.example",
}


def make_stories(n: int, seed: int = 7) -> list[dict]:
    """Stories as a scraper exports them. Authors are missing in whole batches (every story of
    a run of 200), as a site that stopped printing bylines."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        source = SOURCES[i % len(SOURCES)]
        topic = rng.sample(WORDS, 3)
        paragraphs = [
            " ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 30))).capitalize() + "."
            for _ in range(rng.randint(2, 4))
        ]
        paragraphs[0] = f"The {topic[0]} and the {topic[1]} story number {i}. " + paragraphs[0]
        day = 1 + i % 28
        month = 1 + (i // 28) % 12
        out.append(
            {
                "id": f"s{i:05d}",
                "title": f"{topic[2].capitalize()} report {i}",
                "body": paragraphs,
                "published": f"2023-{month:02d}-{day:02d}T{8 + i % 10:02d}:30:00+03:00",
                "source": source,
                "url": f"https://{HOSTS[source]}/2023/{month:02d}/story-{i}",
                "author": None if (i // 200) % 3 == 1 else f"Author {i % 17}",
            }
        )
    return out


def site_of_story(s: dict) -> str:
    host = s["url"].split("/")[2]
    return host[4:] if host.startswith("www.") else host


def as_jsonl_record(s: dict) -> dict:
    rec = {
        "id": s["id"],
        "headline": s["title"],
        "maintext": "\n".join(s["body"]),
        "date_publish": s["published"],
        "source_domain": s["source"],
        "url": s["url"],
    }
    if s["author"]:
        rec["authors"] = [s["author"]]
    return rec


def write_jsonl(path: Path, stories: list[dict], gz: bool = False) -> None:
    text = "".join(json.dumps(as_jsonl_record(s), ensure_ascii=False) + "\n" for s in stories)
    if gz:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, "utf-8")


def write_csv(path: Path, stories: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["stories_id", "title", "text", "publish_date", "media_name", "url", "author"])
    for s in stories:
        w.writerow(
            [
                s["id"],
                s["title"],
                "\n".join(s["body"]),
                s["published"],
                s["source"],
                s["url"],
                s["author"] or "",
            ]
        )
    path.write_text(buf.getvalue(), "utf-8")


def write_text_files(folder: Path, stories: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for s in stories:
        front = [
            "---",
            f"title: {json.dumps(s['title'])}",
            f"published: {s['published']}",
            f"source: {s['source']}",
            f"url: {s['url']}",
        ]
        if s["author"]:
            front.append(f"author: {s['author']}")
        front.append("---")
        (folder / f"{s['id']}.md").write_text(
            "\n".join(front) + "\n\n" + "\n\n".join(s["body"]) + "\n", "utf-8"
        )


def stories_with(stories: list[dict], word: str) -> set[str]:
    """The oracle of a one-word search: stories whose title or body has the word as written."""
    rx = re.compile(rf"\b{re.escape(word)}\b", re.I)
    return {
        s["id"] for s in stories if rx.search(s["title"]) or any(rx.search(p) for p in s["body"])
    }


def story_key(record_id: str) -> str:
    """The story an index id stands for, whatever the layout: s00042.md, f.jsonl#s00042."""
    m = re.search(r"(s\d{5})", record_id)
    assert m, record_id
    return m.group(1)


def hits(ix: CorpusIndex, query: str, **kw) -> set[str]:
    r = ix.search(query, limit=100_000, snippets=False, **kw)
    return {story_key(h.record["id"]) for h in r.hits}


# --------------------------------------------------------------------------------------------
# The same stories as text files, JSON lines (one file gzipped) and CSV give the same answers


@pytest.fixture(scope="module")
def three_layouts(tmp_path_factory):
    stories = make_stories(3000)
    base = tmp_path_factory.mktemp("layouts")
    text, jsonl, csvs = base / "text", base / "jsonl", base / "csv"
    write_text_files(text, stories)
    jsonl.mkdir()
    write_jsonl(jsonl / "part-1.jsonl", stories[:1200])
    write_jsonl(jsonl / "part-2.ndjson", stories[1200:2100])
    write_jsonl(jsonl / "part-3.jsonl.gz", stories[2100:], gz=True)
    csvs.mkdir()
    write_csv(csvs / "export.csv", stories[:1500])
    write_csv(csvs / "export-2.csv", stories[1500:])
    reports = {}
    for name, folder in (("text", text), ("jsonl", jsonl), ("csv", csvs)):
        reports[name] = update_index(base / f"ix-{name}", [folder])  # default settings
    return stories, base, reports


def test_each_layout_indexes_every_story_with_default_settings(three_layouts):
    stories, base, reports = three_layouts
    for name, report in reports.items():
        assert (report.added, report.skipped, report.errors) == (len(stories), 0, []), name
        with CorpusIndex(base / f"ix-{name}") as ix:
            assert ix.doc_count == len(stories)
        folder = IndexFolder(base / f"ix-{name}")
        snap = Snapshot(folder.open(), folder.path)
        try:
            assert len(snap.leaves) >= 2, name  # two writer processes: several segments
        finally:
            snap.close()


@pytest.mark.parametrize("word", ["wheat", "glacier", "lithium", "uranium", "story"])
def test_the_same_stories_give_the_same_hits_in_every_layout(three_layouts, word):
    stories, base, _ = three_layouts
    want = stories_with(stories, word)
    for name in ("text", "jsonl", "csv"):
        with CorpusIndex(base / f"ix-{name}") as ix:
            assert hits(ix, f'"{word}"') == want, name


def test_fields_and_facets_of_records_match_the_stories(three_layouts):
    from collections import Counter

    stories, base, _ = three_layouts
    want_site = Counter(site_of_story(s) for s in stories)
    want_author = Counter(s["author"] for s in stories if s["author"])
    missing_author = sum(1 for s in stories if not s["author"])
    by_month = Counter(s["published"][:7] for s in stories)
    for name in ("text", "jsonl", "csv"):
        with CorpusIndex(base / f"ix-{name}") as ix:
            site = ix.facet("site", limit=100)
            assert dict(site.values) == dict(want_site) and site.missing == 0, name
            author = ix.facet("author", limit=100)
            assert dict(author.values) == dict(want_author), name
            assert author.missing == missing_author, name
            month = ix.facet("month", limit=100)
            assert dict(month.values) == dict(by_month), name
            # url: with wildcards, and --site as a filter
            march = {s["id"] for s in stories if "/2023/03/" in s["url"]}
            assert hits(ix, "url:*/2023/03/*") == march, name
            steppe = {s["id"] for s in stories if site_of_story(s) == "steppe-herald.example"}
            from corpus_search.search import Filters

            assert hits(ix, "*", filters=Filters(site=["steppe-herald.example"])) == steppe
            assert hits(ix, "site:steppe-herald.example") == steppe
            s0 = stories[0]
            rec = ix.get(next(h.record["id"] for h in ix.search(f"url:{s0['url']}").hits))
            assert (rec["url"], rec["site"], rec["title"]) == (
                s0["url"],
                site_of_story(s0),
                s0["title"],
            )
            assert rec["body"] == "\n\n".join(s0["body"]) and rec["published"] == s0["published"]


# --------------------------------------------------------------------------------------------
# Incremental by record


def _summary(r) -> tuple:
    return (r.added, r.updated, r.removed, r.unchanged, r.skipped)


def test_appends_edits_and_removals_touch_only_those_records(tmp_path):
    stories = make_stories(2400)
    corpus = tmp_path / "c"
    corpus.mkdir()
    feed = corpus / "feed.jsonl"
    write_jsonl(feed, stories[:2000])
    write_csv(corpus / "other.csv", stories[2300:])
    index = tmp_path / "ix"
    r = update_index(index, [corpus])
    assert _summary(r) == (2100, 0, 0, 0, 0)

    # run 2: 100 records appended to the feed
    with feed.open("a", encoding="utf-8") as fh:
        for s in stories[2000:2100]:
            fh.write(json.dumps(as_jsonl_record(s)) + "\n")
    r = update_index(index)
    assert _summary(r) == (100, 0, 0, 2100, 0)  # the CSV's 100 not even read: unchanged

    # run 3: five records edited, three removed, the rest left as they were
    current = stories[:2100]
    edited = {"s00010", "s00500", "s01000", "s01500", "s02050"}
    removed = {"s00007", "s01234", "s02099"}
    lines = []
    for s in current:
        if s["id"] in removed:
            continue
        if s["id"] in edited:
            s = dict(s, body=[*s["body"], "A correction about the glacier was added."])
        lines.append(json.dumps(as_jsonl_record(s)))
    feed.write_text("\n".join(lines) + "\n", "utf-8")
    r = update_index(index)
    assert _summary(r) == (0, 5, 3, 2100 - 5 - 3 + 100, 0)

    # run 4: nothing changed, nothing read
    r = update_index(index)
    assert _summary(r)[:3] == (0, 0, 0) and not r.changed

    expected_ids = {s["id"] for s in current if s["id"] not in removed} | {
        s["id"] for s in stories[2300:]
    }
    with CorpusIndex(index) as ix:
        assert ix.doc_count == len(expected_ids)
        everything = ix.search("*", limit=100_000, snippets=False)
        assert {story_key(h.record["id"]) for h in everything.hits} == expected_ids
        assert len(everything.hits) == len({h.record["id"] for h in everything.hits})
        correction = hits(ix, '"correction about the glacier"')
        assert correction == edited
        assert ix.get("feed.jsonl#s00500")["body"].endswith("the glacier was added.")
        assert ix.get("feed.jsonl#s00007") is None


def test_one_bad_record_among_thousands(tmp_path):
    stories = make_stories(2000)
    corpus = tmp_path / "c"
    corpus.mkdir()
    lines = [json.dumps(as_jsonl_record(s)) for s in stories[:1500]]
    lines.insert(700, '{"id": "broken", "headline": "cut short')  # line 701
    lines.insert(1200, '["not", "an", "object"]')  # line 1201
    (corpus / "feed.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    write_csv(corpus / "table.csv", stories[1500:])
    bad_line = (corpus / "table.csv").read_text("utf-8").count("\n") + 1  # rows span lines
    with (corpus / "table.csv").open("a", encoding="utf-8") as fh:
        fh.write("s99999,two cells only\n")
    r = update_index(tmp_path / "ix", [corpus])
    assert r.added == 2000 and r.skipped == 3
    errors = sorted((e["path"], e["reason"]) for e in r.errors)
    assert errors == [
        (f"{corpus / 'feed.jsonl'}, line 1201", "is a JSON list, not an object of keys and values"),
        (
            f"{corpus / 'feed.jsonl'}, line 701",
            "is not valid JSON (Unterminated string starting at (column 30))",
        ),
        (f"{corpus / 'table.csv'}, line {bad_line}", "has 2 cells where the header has 7"),
    ]
    again = update_index(tmp_path / "ix")  # the files are unchanged: the skips are said again
    assert (again.added, again.skipped, again.unchanged) == (0, 3, 2000)


def test_an_interrupted_record_file_resumes_without_loss_or_duplicates(tmp_path, monkeypatch):
    import corpus_search.schema as schema

    stories = make_stories(600)
    corpus = tmp_path / "c"
    corpus.mkdir()
    write_jsonl(corpus / "feed.jsonl", stories)
    real = schema.article_document
    calls = {"n": 0}

    def interrupting(*a, **kw):
        calls["n"] += 1
        if calls["n"] == 251:
            raise KeyboardInterrupt
        return real(*a, **kw)

    monkeypatch.setattr(schema, "article_document", interrupting)
    with pytest.raises(KeyboardInterrupt):
        update_index(tmp_path / "ix", [corpus], batch_size=100)
    monkeypatch.setattr(schema, "article_document", real)
    with CorpusIndex(tmp_path / "ix") as ix:
        assert ix.doc_count == 200  # two commits of 100 kept
    r = update_index(tmp_path / "ix")
    assert (r.added, r.unchanged) == (400, 200)
    with CorpusIndex(tmp_path / "ix") as ix:
        ids = [h.record["id"] for h in ix.search("*", limit=10_000, snippets=False).hits]
        assert len(ids) == len(set(ids)) == 600


def test_a_record_file_removed_or_forgotten_takes_its_records(tmp_path):
    from corpus_search.indexer import forget_roots, list_roots

    stories = make_stories(50)
    corpus = tmp_path / "c"
    corpus.mkdir()
    write_jsonl(corpus / "a.jsonl", stories[:30])
    single = tmp_path / "single.csv"
    write_csv(single, stories[30:])
    update_index(tmp_path / "ix", [corpus])
    update_index(tmp_path / "ix", [single])  # a file given on its own is its own root
    roots = {Path(r["root"]).name: r["documents"] for r in list_roots(tmp_path / "ix")}
    assert roots == {"c": 30, "single.csv": 20}
    (corpus / "a.jsonl").unlink()
    r = update_index(tmp_path / "ix")
    assert r.removed == 30
    r = forget_roots(tmp_path / "ix", [single])
    assert r.removed == 20 and r.documents == 0
    write_csv(single, stories[30:])
    r = update_index(tmp_path / "ix", [single])  # indexed again in full after the forget
    assert r.added == 20


# --------------------------------------------------------------------------------------------
# JSON layouts


def test_json_arrays_objects_and_lines_in_a_json_file(tmp_path, monkeypatch):
    from corpus_search import formats

    monkeypatch.setattr(formats._Chunks, "SIZE", 61)  # values across many chunk boundaries
    stories = make_stories(40)
    recs = [as_jsonl_record(s) for s in stories]
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "array.json").write_text(json.dumps(recs[:20], indent=2, ensure_ascii=False), "utf-8")
    (corpus / "one.json").write_text(json.dumps(recs[20], indent=4), "utf-8")
    (corpus / "lines.json").write_text("".join(json.dumps(r) + "\n" for r in recs[21:30]), "utf-8")
    (corpus / "cut.json").write_text(json.dumps(recs[30:])[:-300], "utf-8")  # a cut download
    found = {}
    errors = []
    for f in sorted(corpus.iterdir()):
        for a in read_articles(f, root=corpus):
            if isinstance(a, Exception):
                errors.append(str(a))
            else:
                found[a.id] = a
    assert {i.split("#")[0] for i in found} == {"array.json", "one.json", "lines.json", "cut.json"}
    assert found["array.json#s00003"].title == stories[3]["title"]
    assert found["one.json#s00020"].body == "\n\n".join(stories[20]["body"])
    assert found["lines.json#s00025"].url == stories[25]["url"]
    cut = sorted(i for i in found if i.startswith("cut.json"))
    assert len(cut) == 9 and len(errors) == 1  # the records before the break are kept
    assert "cut.json" in errors[0] and "is not valid JSON" in errors[0]


def test_ids_come_from_the_records_own_id_else_their_line(tmp_path):
    f = tmp_path / "mixed.jsonl"
    f.write_text(
        "\n".join(
            [
                json.dumps({"title": "no id", "text": "one"}),
                json.dumps({"id": 77, "title": "an id", "text": "two"}),
                json.dumps({"id": 77, "title": "the same id again", "text": "three"}),
                "",
                json.dumps({"guid": "a b#c", "title": "an id with a hash", "text": "four"}),
                json.dumps({"_id": "2", "title": "an id that is another's line", "text": "five"}),
            ]
        )
        + "\n",
        "utf-8",
    )
    ids = [a.id for a in read_articles(f, root=tmp_path)]
    assert ids == [
        "mixed.jsonl#1",
        "mixed.jsonl#77",
        "mixed.jsonl#3",
        "mixed.jsonl#5",
        "mixed.jsonl#2",
    ]


def test_record_keys_map_by_their_common_names_and_the_config(tmp_path):
    f = tmp_path / "odd.jsonl"
    f.write_text(
        json.dumps(
            {
                "story_id": "x1",
                "Headline": "Mapped by the config",
                "story_text": "<p>First&nbsp;paragraph.</p><p>Second <b>one</b>.</p>",
                "pubDate": "Tue, 14 Nov 2023 09:30:00 +0600",
                "Keywords": "alpha; beta",
                "section": "World",
                "lang": "EN",
                "outlet": "Odd Times",
                "link": "https://www.odd.example/x1",
                "views": "1,234",
            }
        )
        + "\n",
        "utf-8",
    )
    cfg = tmp_path / "corpus-search.yaml"
    cfg.write_text("fields:\n  body: story_text\n", "utf-8")
    r = CliRunner().invoke(cli, ["--config", str(cfg), "parse", str(f), "--json", "--explain"])
    assert r.exit_code == 0, r.stderr
    (rec,) = json.loads(r.stdout)
    assert rec["title"] == "Mapped by the config"
    assert rec["body"] == "First paragraph.\n\nSecond one."
    assert rec["published"] == "2023-11-14T09:30:00+06:00"
    assert (rec["tags"], rec["categories"], rec["language"]) == (["alpha", "beta"], ["World"], "en")
    assert (rec["source"], rec["url"], rec["site"], rec["views"]) == (
        "Odd Times",
        "https://www.odd.example/x1",
        "odd.example",
        1234,
    )
    assert rec["read_as"]["mapping"]["body"] == "story_text"
    assert rec["read_as"]["unused"] == ["story_id"]
    # without the config the text is not found, and the record says which keys it has
    r = CliRunner().invoke(cli, ["parse", str(f)])
    assert r.exit_code == 0  # a title alone is an article
    bad = tmp_path / "bad.yaml"
    bad.write_text("fields:\n  colour: x\n", "utf-8")
    r = CliRunner().invoke(cli, ["--config", str(bad), "parse", str(f)])
    assert r.exit_code == 2 and "fields: unknown field 'colour'" in r.stderr


# --------------------------------------------------------------------------------------------
# HTML pages

NAV = '<nav><a href="/">Home</a> | <a href="/world">World</a> | <a href="/sport">Sport</a></nav>'
AD = '<div class="ad">Advertisement: cheap flights to Baku, book today and save big</div>'
RELATED = (
    '<aside><h3>Related stories</h3><ul><li><a href="/r1">Minister resigns over bridge'
    '</a></li><li><a href="/r2">Heat wave grips the capital</a></li></ul></aside>'
)
COMMENTS = (
    '<section class="comments"><h3>Comments</h3><div class="c"><p>This is a disgrace, '
    "resign now!!!</p><span>guest123</span></div></section>"
)
FOOTER = "<footer>© 2023 The Site. All rights reserved. Cookies help us deliver.</footer>"
BOILERPLATE = ["Advertisement", "Related stories", "resign now", "All rights reserved", "World |"]


def make_page(s: dict, style: int) -> str:
    paras = "".join(f"<p>{p}</p>" for p in s["body"])
    canonical = f'<link rel="canonical" href="{s["url"]}">' if style != 1 else ""
    og = f'<meta property="og:url" content="{s["url"]}?utm_source=x">'
    date = (
        f'<meta property="article:published_time" content="{s["published"]}">'
        if style != 2
        else '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "'
        + s["published"]
        + '"}</script>'
    )
    author = f'<meta name="author" content="{s["author"]}">' if s["author"] else ""
    body = (
        f"<article><h1>{s['title']}</h1>{paras}</article>"
        if style != 3
        else f'<div id="main"><div class="story"><h1>{s["title"]}</h1>'
        f'<div class="text">{paras}</div></div></div>'
    )
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{s["title"]} | '
        f"{s['source']}</title>{canonical}{og}{date}{author}"
        f'<meta property="og:site_name" content="{s["source"]}"></head><body>'
        f"{NAV}{AD}{body}{RELATED}{COMMENTS}{FOOTER}</body></html>"
    )


def test_pages_keep_the_article_and_drop_the_rest(tmp_path):
    """Every generated page (four templates): all of its paragraphs kept in order, none of the
    boilerplate; title, address (canonical first, else og:url), date with its zone, site."""
    stories = make_stories(40, seed=3)
    corpus = tmp_path / "pages"
    corpus.mkdir()
    for i, s in enumerate(stories):
        page = make_page(s, i % 4)
        name = f"{s['id']}.html"
        if i % 5 == 0:
            (corpus / (name + ".gz")).write_bytes(gzip.compress(page.encode("utf-8")))
        else:
            (corpus / name).write_text(page, "utf-8")
    r = update_index(tmp_path / "ix", [corpus])
    assert (r.added, r.skipped) == (40, 0)
    with CorpusIndex(tmp_path / "ix") as ix:
        for i, s in enumerate(stories):
            name = f"{s['id']}.html" + (".gz" if i % 5 == 0 else "")
            rec = ix.get(name)
            assert rec["title"] == s["title"]
            assert rec["body"].split("\n\n") == s["body"], name
            assert not any(b in rec["body"] for b in BOILERPLATE), name
            want_url = s["url"] if i % 4 != 1 else s["url"] + "?utm_source=x"
            assert rec["url"] == want_url and rec["site"] == site_of_story(s)
            assert rec["published"] == s["published"] and rec["source"] == s["source"]
            assert rec["author"] == s["author"]


def test_parse_explain_shows_what_a_page_lost(tmp_path):
    s = make_stories(1)[0]
    page = tmp_path / "p.html"
    page.write_text(make_page(s, 0), "utf-8")
    r = CliRunner().invoke(cli, ["parse", "--explain", str(page)])
    assert r.exit_code == 0
    assert "[outside the article (page extractor)] Advertisement: cheap flights" in r.stdout
    assert "resign now" in r.stdout and s["body"][0][:40] in r.stdout


def test_a_page_with_no_article_is_a_skip_with_its_reason(tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "empty.html").write_text("<html><body><nav>Home</nav></body></html>", "utf-8")
    (corpus / "zero.htm").write_bytes(b"")
    (corpus / "broken.html.gz").write_bytes(b"not gzip at all")
    r = update_index(tmp_path / "ix", [corpus])
    reasons = {Path(e["path"]).name: e["reason"] for e in r.errors}
    assert reasons == {
        "empty.html": "has no article text that could be found in the page",
        "zero.htm": "is empty",
        "broken.html.gz": "is not a valid gzip file",
    }


# --------------------------------------------------------------------------------------------
# WARC, a mixed folder, the CLI


def _warc(path: Path, responses: list[tuple[str, str, int, str]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with path.open("wb") as fh:
        writer = WARCWriter(fh, gzip=True)
        for url, ctype, status, body in responses:
            headers = StatusAndHeaders(
                f"{status} OK", [("Content-Type", ctype)], protocol="HTTP/1.1"
            )
            rec = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body.encode("utf-8")),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": "2023-09-01T10:00:00Z"},
            )
            writer.write_record(rec)


def test_warc_responses_are_articles_with_their_address_and_capture_date(tmp_path):
    stories = make_stories(3, seed=11)
    no_date = dict(stories[2])
    page_without_date = make_page(no_date, 0).replace(
        f'<meta property="article:published_time" content="{no_date["published"]}">', ""
    )
    _warc(
        tmp_path / "crawl.warc.gz",
        [
            ("https://a.example/1", "text/html; charset=utf-8", 200, make_page(stories[0], 1)),
            ("https://a.example/logo.png", "image/png", 200, "PNG"),
            ("https://a.example/gone", "text/html", 404, "<html>not found</html>"),
            ("https://b.example/2", "text/html", 200, make_page(stories[1], 3)),
            ("https://www.c.example/3", "text/html", 200, page_without_date),
        ],
    )
    found = [a for a in read_articles(tmp_path / "crawl.warc.gz", root=tmp_path)]
    assert not [a for a in found if isinstance(a, Exception)]
    assert [a.title for a in found] == [s["title"] for s in stories]
    assert found[0].url == stories[0]["url"] + "?utm_source=x"  # og:url: no canonical there
    assert found[1].body.split("\n\n") == stories[1]["body"]
    assert found[2].published == "2023-09-01T10:00:00+00:00"  # the capture date
    assert all(a.id.startswith("crawl.warc.gz#") for a in found) and len({a.id for a in found}) == 3


def test_a_mixed_folder_accounts_for_every_file(tmp_path):
    stories = make_stories(30, seed=5)
    corpus = tmp_path / "mixed"
    write_text_files(corpus / "text", stories[:5])
    (corpus / "pages").mkdir()
    for s in stories[5:10]:
        (corpus / "pages" / f"{s['id']}.html").write_text(make_page(s, 0), "utf-8")
    write_jsonl(corpus / "feed.jsonl.gz", stories[10:20], gz=True)
    write_csv(corpus / "t.tsv", [])  # a header and no rows
    buf = io.StringIO()
    w = csv.writer(buf, delimiter="\t")
    w.writerow(["title", "body", "url"])
    for s in stories[20:25]:
        w.writerow([s["title"], " ".join(s["body"]), s["url"]])
    (corpus / "t.tsv").write_text(buf.getvalue(), "utf-8")
    (corpus / "story.txt.gz").write_bytes(gzip.compress(b"Gzipped story\n\nIt was compressed.\n"))
    (corpus / "report.pdf").write_bytes(b"%PDF-1.4")
    (corpus / ".DS_Store").write_bytes(b"\0\0")
    r = update_index(tmp_path / "ix", [corpus])
    assert r.added == 5 + 5 + 10 + 5 + 1
    assert [(Path(e["path"]).name, e["reason"][:36]) for e in r.errors] == [
        ("report.pdf", "not a known article type (.pdf); add")
    ]
    assert r.ignored == 1
    runner = CliRunner()
    out = runner.invoke(cli, ["index", "--index", str(tmp_path / "ix")])
    assert "skipped 1: 1 not a known article type (.pdf)" in out.stdout
    # -l names each file once; show takes a record's id and its file's path with the key
    res = runner.invoke(cli, ["search", "story", "-l", "--index", str(tmp_path / "ix")])
    paths = res.stdout.splitlines()
    assert len(paths) == len(set(paths)) and str(corpus / "feed.jsonl.gz") in paths
    sid = stories[12]["id"]
    one = runner.invoke(
        cli, ["show", f"feed.jsonl.gz#{sid}", "--json", "--index", str(tmp_path / "ix")]
    )
    two = runner.invoke(
        cli,
        ["show", f"{corpus / 'feed.jsonl.gz'}#{sid}", "--json", "--index", str(tmp_path / "ix")],
    )
    assert one.exit_code == two.exit_code == 0 and json.loads(one.stdout) == json.loads(two.stdout)
    assert json.loads(one.stdout)["title"] == stories[12]["title"]


def test_parse_shows_the_first_records_and_says_how_many_more(tmp_path):
    stories = make_stories(25)
    write_jsonl(tmp_path / "f.jsonl", stories)
    r = CliRunner().invoke(cli, ["parse", str(tmp_path / "f.jsonl"), "--json", "-n", "3"])
    assert [x["id"] for x in json.loads(r.stdout)] == [f"f.jsonl#{s['id']}" for s in stories[:3]]
    assert "22 more records not shown (-n 0 shows all 25)" in r.stderr
    r = CliRunner().invoke(cli, ["parse", str(tmp_path / "f.jsonl"), "--json", "-n", "0"])
    assert len(json.loads(r.stdout)) == 25
