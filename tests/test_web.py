"""The page served at / by `corpus-search serve --http`: rendered on the server, escaped, under
a strict Content-Security-Policy, behind the token. Checked through HTTP with an HTML parser.
(Tests in a real browser, with screenshots, are still to come: see issue 16.)"""

from __future__ import annotations

import http.client
import re
import shutil
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlencode

import pytest
from test_serve import start

from corpus_search.indexer import update_index

from conftest import SAMPLE

HOSTILE_TITLE = "<script>alert(1)</script> Grain <img src=x onerror=alert(2)>"
HOSTILE_BODY = (
    'Grain talks. <a href="javascript:alert(3)">click</a> <b onmouseover="x()">b</b> '
    "\u202egnp.exe and more grain."
)


class Tags(HTMLParser):
    """Every start tag with its attributes, and the page's text."""

    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def parse(html: str) -> Tags:
    t = Tags()
    t.feed(html)
    return t


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    base = tmp_path_factory.mktemp("site")
    shutil.copytree(SAMPLE, base / "corpus")
    (base / "corpus" / "evil.txt").write_text(f"{HOSTILE_TITLE}\n\n{HOSTILE_BODY}\n", "utf-8")
    update_index(base / "index", [base / "corpus"])
    proc = start(base / "index", "--http", "0")
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.announced[0])
    yield int(m.group(1)), m.group(2)
    proc.terminate()
    proc.wait(30)


def get(port, path, host=None, cookie=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": host or f"127.0.0.1:{port}"}
    if cookie:
        headers["Cookie"] = cookie
    conn.request("GET", path, headers=headers)
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read().decode("utf-8")


def page(port, token, **params):
    pairs = [(k, v) for k, vs in params.items() for v in (vs if isinstance(vs, list) else [vs])]
    return get(port, "/?" + urlencode([("token", token), *pairs]))


def test_the_page_needs_the_token_then_remembers_it(site):
    port, token = site
    assert get(port, "/")[0] == 403
    assert get(port, "/?token=wrong")[0] == 403
    assert get(port, f"/?token={token}", host=f"attacker.example:{port}")[0] == 403
    status, headers, _ = get(port, f"/?token={token}")
    assert (
        status == 200
        and "HttpOnly" in headers["set-cookie"]
        and "SameSite=Strict" in headers["set-cookie"]
    )
    cookie = headers["set-cookie"].split(";")[0]
    assert get(port, "/?q=grain", cookie=cookie)[0] == 200


def test_every_answer_forbids_inline_script_and_other_origins(site):
    port, token = site
    _, headers, html = page(port, token, q="grain")
    csp = headers["content-security-policy"]
    assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
    assert headers["x-content-type-options"] == "nosniff"
    tags = parse(html).tags
    assert [a for t, a in tags if t == "script"] == [{"src": "/static/app.js", "defer": None}]
    assert not any("style" in a for _, a in tags)  # no inline styles either
    status, headers, js = get(port, "/static/app.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript") and "focus" in js


def test_hostile_articles_show_as_text(site):
    port, token = site
    for path in (
        "/?" + urlencode({"token": token, "q": "grain"}),
        f"/article/evil.txt?token={token}&q=grain",
    ):
        status, _, html = get(port, path)
        assert status == 200
        tags = parse(html)
        assert not any(k.startswith("on") for _, a in tags.tags for k in a)  # no handlers
        assert not any((a.get("href") or "").startswith("javascript:") for _, a in tags.tags)
        assert [t for t, _ in tags.tags].count("script") == 1  # ours only
        text = "".join(tags.text)
        assert "<script>alert(1)</script>" in text and "onerror=alert(2)" in text


def test_search_facets_and_paging(site):
    port, token = site
    status, _, html = page(port, token, q="*")
    assert status == 200 and "43 hits, page 1 of 3" in html
    tags = parse(html).tags
    nxt = [a["href"] for t, a in tags if t == "a" and a.get("rel") == "next"]
    assert nxt and "page=2" in nxt[0]
    author_links = [a["href"] for t, a in tags if t == "a" and "author=" in (a.get("href") or "")]
    status, _, filtered = get(port, author_links[0].replace("&amp;", "&") + f"&token={token}")
    assert status == 200 and re.search(r"\d+ hits?", filtered)
    assert int(re.search(r"(\d+) hits?", filtered).group(1)) < 35
    assert "<svg" in html and "hits by" in html  # the timeline


def test_a_bad_query_points_at_the_position(site):
    port, token = site
    status, _, html = page(port, token, q="gas AND (oil")
    assert status == 400 and "unbalanced" in html and "\n        ^</pre>" in html


def test_the_article_view_and_what_the_cleaner_removed(site):
    port, token = site
    doc = "politnavigator/2021/sanctions-ferry.txt"
    status, _, html = get(port, f"/article/{quote(doc)}?token={token}&q=sanctions")
    assert status == 200 and "Ainur Kurmanov" in html
    assert re.search(r'<mark id="m-0">sanctions</mark>', html, re.I)
    status, _, explained = get(port, f"/article/{quote(doc)}?token={token}&explain=1")
    assert (
        status == 200
        and "What the cleaner removed" in explained
        and "subscribe prompt" in explained
    )
    assert get(port, f"/article/no/such.txt?token={token}")[0] == 404


def test_kwic_view_sorts_by_context(site):
    port, token = site
    status, _, html = get(port, f"/view/kwic?token={token}&q=sanctions&sort=left")
    assert status == 200 and "occurrences in" in html
    rows = re.findall(r'<td class="left"><span>(.*?)</span></td><td><mark>(.*?)</mark></td>', html)
    assert rows and all(m.lower().startswith("sanction") for _, m in rows)
    keys = [[w.lower() for w in reversed(re.findall(r"\w+", left))] for left, _ in rows]
    assert keys == sorted(keys)  # by the words to the left, nearest first
    assert 'aria-current="true">left<' in html


def test_collocates_and_reprints_views(site):
    port, token = site
    status, _, html = get(port, f"/view/collocates?token={token}&q=grain")
    assert status == 200 and "<th>together</th>" in html and "<td>terminal</td>" in html
    status, _, html = get(port, f"/view/reprints?token={token}")
    assert status == 200 and "1 cluster among 43 articles" in html
    diff = re.search(r'href="(/view/diff\?[^"]+)"', html).group(1).replace("&amp;", "&")
    status, _, html = get(port, f"{diff}&token={token}")
    assert status == 200 and "<ins>" in html and "<del>" in html  # a cut paragraph, a footer


def test_exports_download_every_matching_record(site):
    import json

    port, token = site
    status, headers, body = get(port, f"/export.jsonl?token={token}&q=sanctions")
    assert status == 200 and "attachment" in headers["content-disposition"]
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == 5 and all("body" in r for r in rows)
    status, headers, body = get(port, f"/export.csv?token={token}&q=sanctions")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert (
        body.splitlines()[0].startswith("id,path,source,url,site,title")
        and len(body.splitlines()) >= 6
    )
    assert get(port, "/export.csv?q=sanctions")[0] == 403  # the token holds for downloads too


def test_the_article_page_links_only_http_addresses_escaped(tmp_path):
    """A record's address is a link on the article page only when it is http(s), and is
    escaped; the explain view reads the record again from its file."""
    import json

    from corpus_search.search import CorpusIndex
    from corpus_search.web import article_page

    corpus = tmp_path / "c"
    corpus.mkdir()
    records = [
        {"id": "a", "title": "Safe", "text": "One.", "url": 'https://x.example/a?q="><b>'},
        {"id": "b", "title": "Script", "text": "Two.", "url": "javascript:alert(3)"},
        {"id": "c", "title": "Data", "text": "<p>Three&nbsp;para.</p>", "url": "data:text/html,hi"},
    ]
    (corpus / "f.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), "utf-8")
    update_index(tmp_path / "ix", [corpus])
    with CorpusIndex(tmp_path / "ix") as ix:
        status, html = article_page(ix, "f.jsonl#a", {})
        assert status == 200
        assert (
            '<a href="https://x.example/a?q=&quot;&gt;&lt;b&gt;" rel="noopener noreferrer nofollow">'
            in html
        )
        assert "<b>" not in html.split("<main>")[1]
        for doc_id, url in (
            ("f.jsonl#b", "javascript:alert(3)"),
            ("f.jsonl#c", "data:text/html,hi"),
        ):
            status, html = article_page(ix, doc_id, {})
            assert status == 200 and f"<td>{url}</td>" in html and f'href="{url}' not in html
        status, html = article_page(ix, "f.jsonl#c", {"explain": ["1"]})
        assert status == 200 and "What the cleaner removed" in html


def test_the_new_analyses_on_the_page(site):
    """keywords, n-grams, dispersion and reused passages: the same requests as their CLI
    commands, escaped (the hostile article is in this index), linked from the hits."""
    port, token = site
    status, _, html = page(port, token, q="sanctions")
    for view in ("reuse", "keywords", "ngrams", "dispersion"):
        assert f"/view/{view}?" in html, view
    status, _, html = get(port, f"/view/keywords?token={token}&q=source%3APolitNavigator")
    assert status == 200 and "<th>LL</th>" in html and "against 26 articles" in html
    status, _, html = get(port, f"/view/keywords?token={token}&q=lang%3Aru&ref=lang%3Aen")
    assert status == 200 and "казахстан" in html
    status, _, html = get(port, f"/view/ngrams?token={token}&q=aral")
    assert status == 200 and "<td>northern aral</td>" in html
    status, _, html = get(port, f"/view/dispersion?token={token}&q=sanctions")
    assert status == 200 and "Gries' DP" in html and 'class="strip"' in html
    assert html.count("<rect ") == 5  # the five articles that say it
    status, _, html = get(port, f"/view/reuse?token={token}&q=aral")
    assert status == 200 and "reused among" in html and "<blockquote>" in html
    status, _, html = get(port, f"/view/keywords?token={token}&q=%28bad")
    assert status == 400 and "unbalanced" in html
    for view in ("keywords", "ngrams", "reuse", "dispersion"):
        status, _, html = get(port, f"/view/{view}?token={token}&q=*")
        tags = parse(html).tags
        assert status == 200, view
        assert [t for t, _ in tags].count("script") == 1, view  # ours only
        assert not any(k.startswith("on") for _, a in tags for k in a), view


def _total(html: str) -> int:
    return int(re.search(r'class="total"[^>]*>(\d+) hits?', html).group(1))


def test_the_timeline_has_axes_and_its_bars_narrow_the_search(site):
    """Every bar is a link to its period: followed, it shows exactly the bar's count; the bars
    add up to the hits; the axes are labelled with periods and counts."""
    port, token = site
    status, _, html = page(port, token, q="sanctions")
    total = _total(html)
    svg = html[html.index('<figure class="timeline">') : html.index("</figure>")]
    bars = re.findall(r'<a href="([^"]+)" aria-label="([^"]+): (\d+) hits?">', svg)
    assert bars and sum(int(n) for _, _, n in bars) == total
    labels = re.findall(r"<text [^>]*>([^<]+)</text>", svg)
    top = max(int(n) for _, _, n in bars)
    assert "0" in labels and str(top) in labels  # the count axis
    assert bars[0][1] in labels and bars[-1][1] in labels  # the first and last period
    for href, period, n in bars:
        if n == "0":
            continue
        link = html_unescape(href)
        assert f"since={period[:4]}" in link and "until=" in link
        status, _, narrowed = get(port, link + ("&" if "?" in link else "?") + f"token={token}")
        assert status == 200 and _total(narrowed) == int(n), period
    # one article, one day: one bar of bounded width, not a block across the plot
    status, _, html = page(port, token, q="ferry")
    widths = [float(w) for w in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"', html)]
    assert len(widths) == 1 and widths[0] <= 60


def html_unescape(text: str) -> str:
    import html

    return html.unescape(text)


def test_the_filters_in_force_show_and_each_removes_itself(site):
    port, token = site
    both = {"q": "*", "source": "PolitNavigator", "lang": "ru"}
    status, _, html = page(port, token, **both)
    chips = re.findall(r'<li>(\w+): ([^<]+) <a href="([^"]+)"', html)
    assert {(k, v) for k, v, _ in chips} == {("source", "PolitNavigator"), ("lang", "ru")}
    for name, _, href in chips:
        link = html_unescape(href)
        other = next(k for k in ("source", "lang") if k != name)
        assert f"{name}=" not in link and f"{other}=" in link  # this filter gone, the other kept
        status, _, without = get(port, link + f"&token={token}")
        only = {k: v for k, v in both.items() if k != name}
        assert _total(without) == _total(page(port, token, **only)[2]) > _total(html)


def test_no_heading_for_a_facet_without_values(site):
    """The oracle is the raw export: the stories of Central Asia Wire have no author and no
    place columns, but an address (so a site)."""
    import csv

    with open(SAMPLE / "exports" / "mediacloud-stories.csv", encoding="utf-8", newline="") as f:
        rows = [r for r in csv.DictReader(f) if r["media_name"] == "Central Asia Wire"]
    assert rows and all("author" not in r and "place" not in r for r in rows)
    port, token = site
    status, _, html = page(port, token, q="*", source="Central Asia Wire")
    aside = html[html.index('<aside aria-label="facets">') :]
    headings = re.findall(r"<h2>([^<]+)</h2>", aside)
    assert "author" not in headings and "place" not in headings
    assert "site" in headings and "source" in headings
    assert _total(html) == len(rows)


def test_a_long_facet_has_a_link_to_all_its_values(tmp_path):
    """Thirty authors, twelve shown: 'N more' opens every value, each a link that filters."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(30):
        (corpus / f"a{i:02d}.md").write_text(
            f"---\ntitle: Story {i}\nauthor: Writer {i:02d}\n---\nSome harbour news {i}.\n", "utf-8"
        )
    update_index(tmp_path / "index", [corpus])
    proc = start(tmp_path / "index", "--http", "0")
    try:
        port, token = re.fullmatch(
            r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.announced[0]
        ).groups()
        status, _, html = page(int(port), token, q="harbour")
        more = re.search(r'<a href="(/view/facet/author[^"]*)">(\d+) more</a>', html)
        assert more and int(more.group(2)) == 30 - 12
        status, _, html = get(int(port), html_unescape(more.group(1)) + f"&token={token}")
        authors = re.findall(r"author=Writer\+(\d\d)", html)
        assert status == 200 and sorted(authors) == [f"{i:02d}" for i in range(30)]
        status, _, _ = get(int(port), f"/view/facet/nope?token={token}")
        assert status == 404
    finally:
        proc.terminate()
        proc.wait(30)


def test_each_kwic_line_opens_its_article_at_that_occurrence(site):
    """The link of every KWIC line names a mark in its article, and that mark holds the
    line's match, with the line's left and right context around it in the raw file."""
    port, token = site
    status, _, html = get(port, f"/view/kwic?token={token}&q=grain+OR+sanctions")
    lines = re.findall(
        r'<td class="left"><span>(.*?)</span></td><td><mark>(.*?)</mark></td><td>(.*?)</td>'
        r'<td><a href="([^"]+)"',
        html,
    )
    assert len(lines) >= 8
    seen = set()
    for left, match, right, href in lines:
        link = html_unescape(href)
        path, anchor = link.split("#")
        assert re.fullmatch(r"[tm]-\d+", anchor)
        seen.add(anchor[0])
        status, _, article = get(port, path + f"&token={token}")
        marked = re.search(rf'<mark id="{anchor}">(.*?)</mark>', article)
        assert status == 200 and marked and marked.group(1) == match, link
        doc = unquote(path.split("?")[0].removeprefix("/article/")).split("#")[0]
        raw = (
            f"{HOSTILE_TITLE} {HOSTILE_BODY}"
            if doc == "evil.txt"
            else re.sub(r"\s+", " ", (SAMPLE / doc).read_text("utf-8"))
        )
        around = html_unescape(left)[-12:] + html_unescape(match) + html_unescape(right)[:12]
        assert around in raw, (doc, around)
    assert seen == {"t", "m"}  # matches in titles and in bodies


def test_the_reprint_diff_keeps_paragraphs_and_the_querys_marks(site):
    """Read without the <del> parts, the diff is the second article paragraph by paragraph;
    read without the <ins> parts, the first one's words; the query's words are marked."""
    port, token = site
    status, _, html = get(port, f"/view/reprints?token={token}&q=aral")
    href = re.search(r'<a href="(/view/diff\?[^"]+)">diff with the first', html)
    assert status == 200 and href
    link = html_unescape(href.group(1))
    assert "q=aral" in link
    status, _, diff = get(port, link + f"&token={token}")
    assert status == 200
    a_id, b_id = (unquote(re.search(rf"[?&]{k}=([^&]+)", link).group(1)) for k in "ab")
    a = _show(port, token, a_id)["body"]
    b = _show(port, token, b_id)["body"]
    shown = re.findall(r'<p class="diff">(.*?)</p>', diff, re.S)

    def text(p, drop):
        p = re.sub(rf"<{drop}>.*?</{drop}>", " ", p, flags=re.S)
        return html_unescape(re.sub(r"<[^>]+>", " ", p)).split()

    want_b = [p.split() for p in b.split("\n\n") if p.strip()]
    assert [text(p, "del") for p in shown if text(p, "del")] == want_b
    assert [w for p in shown for w in text(p, "ins")] == a.split()
    assert "<ins>" in diff or "<del>" in diff  # they differ
    marks = re.findall(r"<mark>(.*?)</mark>", diff)
    assert marks and all(re.sub(r"\W", "", m).lower().startswith("aral") for m in marks)
    assert len(marks) >= len(re.findall(r"\baral\b", a, re.I))


def _show(port, token, doc_id):
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request(
        "GET", f"/show/{quote(doc_id)}?token={token}", headers={"Host": f"127.0.0.1:{port}"}
    )
    r = conn.getresponse()
    return json.loads(r.read())


def test_an_article_links_to_its_passages_found_in_earlier_articles(site):
    port, token = site
    status, _, html = get(port, f"/view/reuse?token={token}&q=aral")
    pairs = re.findall(
        r'<td><p><a href="/article/([^"]+)">.*?</td><td><p><a href="/article/([^"]+)">',
        html,
        re.S,
    )
    assert status == 200 and pairs
    earlier, later = (unquote(x) for x in pairs[0])
    status, _, article = get(port, f"/article/{quote(later)}?token={token}")
    link = re.search(r'<a href="(/view/reused-from/[^"]+)">passages found in earlier', article)
    assert link and unquote(link.group(1)).endswith(later)
    status, _, view = get(port, link.group(1) + f"?token={token}")
    assert status == 200 and f'href="/article/{quote(earlier)}"' in view
    quotes = [html_unescape(q) for q in re.findall(r"<blockquote>(.*?)</blockquote>", view, re.S)]
    bodies = [_show(port, token, x)["body"] for x in (earlier, later)]
    assert quotes and quotes[0] in bodies[0] and quotes[1] in bodies[1]
    # the earlier article has none from before it; an unknown id is a 404
    status, _, first = get(port, f"/view/reused-from/{quote(earlier)}?token={token}")
    assert status == 200 and "0 passages found in earlier articles" in first
    assert get(port, f"/view/reused-from/no/such.txt?token={token}")[0] == 404


def test_the_timeline_split_by_source_as_small_multiples(site):
    """split=source: one timeline a source (the six with the most hits), one count axis for
    all; a bar narrows the search to its source and period, and shows exactly its count."""
    port, token = site
    status, _, html = page(port, token, q="*", split="source")
    figures = re.findall(r'<figure class="timeline">(.*?)</figure>', html, re.S)
    captions = re.findall(r"<figcaption>source (.*?) \((\d+) hits?\)</figcaption>", html)
    assert status == 200 and len(figures) == len(captions) == 6
    counts = [int(n) for _, n in captions]
    assert counts == sorted(counts, reverse=True)
    tops = {
        max(map(int, re.findall(r'<text x="\d+" y="[\d.]+" text-anchor="end">(\d+)<', f)))
        for f in figures
    }
    assert len(tops) == 1  # one scale for all
    for (source, n), svg in zip(captions, figures):
        bars = re.findall(r'<a href="([^"]+)" aria-label="[^"]+: (\d+) hits?">', svg)
        assert sum(int(c) for _, c in bars) == int(n)
        href, count = max(bars, key=lambda b: int(b[1]))
        link = html_unescape(href)
        assert "source=" in link and "since=" in link
        status, _, narrowed = get(port, link + f"&token={token}")
        assert _total(narrowed) == int(count), (source, link)
    # the choice is a link that toggles: split=source again leads back to one timeline
    back = re.search(r'<a href="([^"]*)" aria-current="true">source</a>', html)
    status, _, one = get(port, html_unescape(back.group(1)) + f"&token={token}")
    assert one.count('<figure class="timeline">') == 1


def test_an_article_lists_its_reprints_with_a_diff_each(site):
    """The article view names the same story elsewhere: the other members of its cluster in
    the reprints view, each with a diff whose first side is the earlier article."""
    port, token = site
    status, _, html = get(port, f"/view/reprints?token={token}&q=aral")
    cluster = [unquote(x) for x in re.findall(r'<a href="/article/([^"?]+)"', html)]
    assert status == 200 and len(cluster) >= 3  # oldest first
    for i, doc in enumerate(cluster):
        status, _, article = get(port, f"/article/{quote(doc)}?token={token}")
        section = re.search(
            r"<h2>The same story elsewhere: (\d+) reprints?</h2>(.*?)</section>", article, re.S
        )
        assert status == 200 and section, doc
        listed = [unquote(x) for x in re.findall(r'<a href="/article/([^"?]+)"', section.group(2))]
        assert listed == [d for d in cluster if d != doc] and int(section.group(1)) == len(listed)
        for j, diff in enumerate(re.findall(r'<a href="(/view/diff[^"]+)"', section.group(2))):
            a, b = (
                unquote(re.search(rf"[?&]{k}=([^&]+)", html_unescape(diff)).group(1)) for k in "ab"
            )
            other = listed[j]
            assert (a, b) == ((other, doc) if cluster.index(other) < i else (doc, other))
    status, _, lone = get(port, f"/article/wire/2023-grain-deal.txt?token={token}")
    assert status == 200 and "The same story elsewhere" not in lone


def test_the_watched_queries_view_counts_matches_and_new_ones(tmp_path):
    """Two indexing runs with a watch between them: the page counts the watch's matches and
    those that arrived since its last look (the oracle: the files written here), and looking
    at it changes nothing (watch show --new still finds them)."""
    from test_serve import cli

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    texts = {
        "a.txt": "Grain exports rose.",
        "b.txt": "Grain prices fell.",
        "c.txt": "A ferry was delayed.",
    }
    for name, text in texts.items():
        (corpus / name).write_text(f"Story {name}\n\n{text}\n", "utf-8")
    assert cli(["index", "corpus"], tmp_path, server=False).returncode == 0
    assert cli(["watch", "add", "grain", "grain"], tmp_path, server=False).returncode == 0
    later = {"d.txt": "New grain deal signed.", "e.txt": "Weather in Aktau."}
    for name, text in later.items():
        (corpus / name).write_text(f"Story {name}\n\n{text}\n", "utf-8")
    assert cli(["index", "corpus"], tmp_path, server=False).returncode == 0
    every = {**texts, **later}
    matches = sum("grain" in t.lower() for t in every.values())
    new = sum("grain" in t.lower() for t in later.values())
    proc = start(tmp_path / "index", "--http", "0")
    try:
        port, token = re.fullmatch(
            r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.announced[0]
        ).groups()
        for _ in range(2):  # a second look: the page marked nothing as seen
            status, _, html = get(int(port), f"/view/watch?token={token}")
            row = re.search(
                r"<th scope=\"row\">grain</th><td><a href=\"([^\"]+)\">grain</a>"
                r"</td><td>(\d+)</td><td>(\d+)</td>",
                html,
            )
            assert (
                status == 200 and row and (int(row.group(2)), int(row.group(3))) == (matches, new)
            )
        status, _, hits = get(int(port), html_unescape(row.group(1)) + f"&token={token}")
        assert _total(hits) == matches
    finally:
        proc.terminate()
        proc.wait(30)
    shown = cli(["watch", "show", "grain", "--new", "--json"], tmp_path, server=False)
    assert json_total(shown.stdout) == new


def json_total(text: str) -> int:
    import json

    return json.loads(text)["total"]
