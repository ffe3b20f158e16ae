"""The page ``corpus-search serve --http`` shows at ``/``: search, filters, facets, a timeline
and the articles, rendered on the server (a bookmarked URL shows its hits before any script
runs; the one script makes ``/`` focus the search box and a range dragged on the
timeline narrow the search).

Scraped articles are hostile input: every piece of article text and metadata goes through
:func:`html.escape`, links are built from our own ids and parameters only, and the server sends
a Content-Security-Policy that forbids inline script and other origins.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote, urlencode

from .errors import CorpusSearchError, QueryError
from .request import FILTERS as DECLARED_FILTERS
from .request import SPECS
from .vocab import SORTS, counted

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)


PAGE_FACETS = ("category", "author", "source", "site", "place", "lang", "year")
PER_PAGE = 20
FACET_LIMIT = 12


def e(value: Any) -> str:
    """Escaped text for HTML (attributes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def _url(path: str, params: dict[str, list[str]]) -> str:
    pairs = [(k, v) for k, values in params.items() for v in values if v != ""]
    return path + ("?" + urlencode(pairs) if pairs else "")


def _article_url(doc_id: str, params: dict[str, list[str]] | None = None) -> str:
    """The page of one article (its id is a path: its slashes stay)."""
    return _url(f"/article/{quote(doc_id, safe='/')}", params or {})


def _with(params: dict[str, list[str]], **changes: Any) -> dict[str, list[str]]:
    out = {k: list(v) for k, v in params.items()}
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        elif isinstance(value, list):
            out[key] = value
        else:
            out[key] = [str(value)]
    return out


def _marked(pieces) -> str:
    return "".join(f"<mark>{e(t)}</mark>" if m else e(t) for t, m in pieces)


def _layout(title: str, body: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{e(title)}</title><link rel="stylesheet" href="/static/app.css">'
        '<script src="/static/app.js" defer></script></head>'
        f"<body>{body}</body></html>"
    )


def _form(params: dict[str, list[str]]) -> str:
    """The search form, its fields from the search command's declaration (request.py): the
    sort order's choices, and each filter under its HTTP name with its kind and help."""
    sort_opt = next(o for o in SPECS["search"].options if o.key == "sort")
    q = params.get("q", [""])[0]
    sort = params.get("sort", [sort_opt.default])[0]
    options = "".join(
        f'<option value="{e(s)}"{" selected" if s == sort else ""}>{e(s)}</option>'
        for s in sort_opt.choices
    )
    fields = []
    for opt in DECLARED_FILTERS:
        name = opt.names[0]
        if opt.metavar == "DATE":
            kind = ' type="date"'
        elif opt.kind == "int":
            kind = f' type="number" min="{int(opt.low or 0)}"'
        else:
            kind = ""
        value = e(params.get(name, [""])[0])
        fields.append(
            f'<label title="{e(opt.help)}">{e(name)} '
            f'<input name="{e(name)}" value="{value}"{kind}></label>'
        )
    filters = "".join(fields)
    return (
        '<form role="search" method="get" action="/">'
        '<label for="q">Query</label>'
        f'<input id="q" name="q" value="{e(q)}" autofocus '
        'placeholder="sanctions AND &quot;open skies&quot;  (press / to come back here)">'
        f'<label>sort <select name="sort">{options}</select></label>'
        '<button type="submit">Search</button>'
        f"<details><summary>Filters</summary>{filters}</details></form>"
    )


def _timeline_svg(
    buckets: list[dict[str, Any]],
    by: str,
    params: dict[str, list[str]],
    top: int | None = None,
    caption: str | None = None,
) -> str:
    """The hits per period as bars with labelled axes (periods below, counts on the left);
    each bar is a link that narrows the search to its period. ``top``: the count axis's
    top (small multiples share one)."""
    from .facets import period_bounds

    if not buckets:
        return ""
    top = top or max(b["count"] for b in buckets) or 1
    full = caption is None  # small multiples: a narrower drawing, so its text stays legible
    width = 1000 if full else 420
    left, right, base, height = 48, width - 8, 120, 100  # the plot area in viewBox units
    n = len(buckets)
    step = (right - left) / n
    w = min(step * 0.9, 60.0)
    bars = []
    for i, b in enumerate(buckets):
        h = height * b["count"] / top
        x = left + i * step + (step - w) / 2
        since, until = period_bounds(b["period"])
        link = _url("/", _with(params, page=None, since=since, until=until))
        label = f"{b['period']}: {counted(b['count'], 'hit')}"
        bars.append(
            f'<a href="{e(link)}" aria-label="{e(label)}"><rect x="{x:.1f}" y="{base - h:.1f}" '
            f'width="{max(w, 1.0):.1f}" height="{max(h, 0.0):.1f}"><title>{e(label)}</title>'
            "</rect></a>"
        )
    ticks = []  # counts: 0, half and the top, on the left
    for value in sorted({0, top // 2, top}):
        y = base - height * value / top
        ticks.append(
            f'<line x1="{left - 4}" x2="{right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
            f'<text x="{left - 8}" y="{y + 4:.1f}" text-anchor="end">{value}</text>'
        )
    labels = 5 if full else 2
    shown = sorted({round(i * (n - 1) / (labels - 1)) for i in range(labels)})
    for i in shown:  # a few period labels, the first and the last among them
        x = left + i * step + step / 2
        anchor = "start" if n > 1 and i == 0 else "end" if n > 1 and i == n - 1 else "middle"
        ticks.append(
            f'<text x="{x:.1f}" y="{base + 18}" text-anchor="{anchor}">'
            f"{e(buckets[i]['period'])}</text>"
        )
    return (
        f'<figure class="timeline"><svg viewBox="0 0 {width} {base + 26}" role="group" '
        f'aria-label="hits by {e(by)}">{"".join(ticks)}{"".join(bars)}</svg>'
        + (
            f"<figcaption>hits by {e(by)}, {e(buckets[0]['period'])} to "
            f"{e(buckets[-1]['period'])}: a bar narrows the search to its {e(by)}</figcaption>"
            if full
            else f"<figcaption>{caption}</figcaption>"
        )
        + "</figure>"
    )


SPLITS = ("source", "site", "category", "author", "lang")
CURRENT = ' aria-current="true"'
SPLIT_SERIES = 6  # small multiples shown: the values with the most hits


def _timelines(timeline: Any, params: dict[str, list[str]]) -> str:
    """The timeline, or with ``split=FIELD`` one small multiple per value (the six with the
    most hits, one count axis for all: their heights compare), and the links to choose."""
    split = params.get("split", [""])[0]
    choices = " · ".join(
        f'<a href="{e(_url("/", _with(params, split=None if s == split else s)))}"'
        f"{CURRENT if s == split else ''}>{e(s)}</a>"
        for s in SPLITS
    )
    nav = f'<p class="split">split the timeline by {choices}</p>' if timeline.buckets else ""
    if split not in SPLITS or not timeline.split:
        return _timeline_svg(timeline.buckets, timeline.by, params) + nav
    totals: dict[str, int] = {}
    for b in timeline.buckets:
        for item in b.get("series", []):
            totals[item["value"]] = totals.get(item["value"], 0) + item["count"]
    shown = sorted(totals, key=lambda v: (-totals[v], v))[:SPLIT_SERIES]
    series = {
        v: [
            {
                "period": b["period"],
                "count": sum(x["count"] for x in b.get("series", []) if x["value"] == v),
            }
            for b in timeline.buckets
        ]
        for v in shown
    }
    top = max((x["count"] for rows in series.values() for x in rows), default=1) or 1
    parts = [
        _timeline_svg(
            rows,
            timeline.by,
            _with(params, page=None, **{split: [*params.get(split, []), v]}),
            top=top,
            caption=f"{e(split)} {e(v)} ({counted(totals[v], 'hit')})",
        )
        for v, rows in series.items()
    ]
    more = len(totals) - len(shown)
    tail = f"<p>{more} more {e(split)} values not drawn</p>" if more > 0 else ""
    tail += (
        f'<p class="split">hits by {e(timeline.by)}, one scale for all; a bar narrows the '
        f"search to its {e(split)} and {e(timeline.by)}</p>"
    )
    return f'<div class="multiples">{"".join(parts)}</div>{tail}{nav}'


def _in_force(params: dict[str, list[str]]) -> str:
    """The filters in force above the hits, each a link that removes it."""
    chips = []
    for name in (opt.names[0] for opt in DECLARED_FILTERS):
        for value in params.get(name, []):
            if not value:
                continue
            rest = [v for v in params.get(name, []) if v != value]
            link = _url("/", _with(params, page=None, **{name: rest}))
            chips.append(
                f'<li>{e(name)}: {e(value)} <a href="{e(link)}" aria-label="remove the filter '
                f'{e(name)}: {e(value)}">×</a></li>'
            )
    if not chips:
        return ""
    return f'<ul class="in-force" aria-label="filters in force">{"".join(chips)}</ul>'


def search_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """(status, HTML) of the search page for these URL parameters."""

    q = params.get("q", [""])[0]
    try:
        page = max(1, int(params.get("page", ["1"])[0] or 1))
    except ValueError:
        page = 1
    sort = params.get("sort", ["relevance"])[0]
    sort = sort if sort in SORTS else "relevance"
    parts = [f'<header><h1><a href="/">corpus-search</a></h1>{_form(params)}</header>']
    try:
        filters = _filters_of(params)
        result = ix.search(
            q,
            filters=filters,
            sort=sort,
            limit=PER_PAGE,
            page=page,
            facets=PAGE_FACETS,
            facet_limit=FACET_LIMIT,
        )
        split = params.get("split", [""])[0]
        timeline = ix.timeline(q, filters, split=split if split in SPLITS else None)
    except QueryError as exc:
        marker = ""
        if exc.position is not None:
            marker = f'<pre class="query">{e(exc.query)}\n{" " * exc.position}^</pre>'
        parts.append(f'<main><p role="alert" class="error">{e(exc.detail)}</p>{marker}</main>')
        return 400, _layout("corpus-search: bad query", "".join(parts))
    except CorpusSearchError as exc:
        parts.append(f'<main><p role="alert" class="error">{e(exc)}</p></main>')
        return exc.http_status, _layout("corpus-search: error", "".join(parts))
    hits = []
    for hit in result.hits:
        r = hit.record
        link = _article_url(r["id"], {"q": [q]} if q else {})
        meta = " · ".join(
            e(x)
            for x in (r["published"] and r["published"][:10], r["author"], r["source"], r["place"])
            if x
        )
        snippets = "".join(f'<p class="snippet">{_marked(s)}</p>' for s in hit.snippets)
        hits.append(
            f'<li><h2><a href="{e(link)}">{_marked(hit.title) or e(r["title"] or "(no title)")}'
            f'</a></h2><p class="meta">{meta}</p>{snippets}</li>'
        )
    pages = []
    if page > 1:
        pages.append(
            f'<a rel="prev" href="{e(_url("/", _with(params, page=page - 1)))}">previous</a>'
        )
    if page < result.pages:
        pages.append(f'<a rel="next" href="{e(_url("/", _with(params, page=page + 1)))}">next</a>')
    facets = [
        _facet_list(name, fc.values, params, more=fc.other)
        for name, fc in result.facets.items()
        if fc.values  # no heading for a facet without values
    ]
    noun = "hit" if result.total == 1 else "hits"
    parts.append(
        f'<main><p class="total" aria-live="polite">{result.total} {noun}'
        f"{f', page {page} of {result.pages}' if result.pages > 1 else ''}</p>"
        f"{_in_force(params)}{views_nav(params) if result.total else ''}"
        f'{_timelines(timeline, params)}<ol class="hits" start="{(page - 1) * PER_PAGE + 1}">'
        f'{"".join(hits)}</ol><nav aria-label="pages">{" ".join(pages)}</nav></main>'
        f'<aside aria-label="facets">{"".join(facets)}</aside>'
    )
    return 200, _layout(f"corpus-search: {q or 'all articles'}", "".join(parts))


def _facet_list(
    name: str, values: list[tuple[str, int]], params: dict[str, list[str]], more: int = 0
) -> str:
    """A facet's values as links that add the filter (a year: its first to last day), and a
    link to all of them when some were left out."""
    from .facets import period_bounds

    items = []
    for value, count in values:
        if name == "year":  # a period, as a timeline bar narrows to it
            since, until = period_bounds(value)
            link = _url("/", _with(params, page=None, since=since, until=until))
        else:
            link = _url("/", _with(params, page=None, **{name: [*params.get(name, []), value]}))
        items.append(f'<li><a href="{e(link)}">{e(value)}</a> <span>{count}</span></li>')
    tail = ""
    if more:
        link = _url(f"/view/facet/{quote(name)}", _with(params, page=None))
        tail = f'<p><a href="{e(link)}">{more} more</a></p>'
    return f"<section><h2>{e(name)}</h2><ul>{''.join(items)}</ul>{tail}</section>"


def facet_page(ix: Any, params: dict[str, list[str]], name: str) -> tuple[int, str]:
    """Every value of one facet over the current hits."""
    if name not in PAGE_FACETS:
        return 404, _view("no such facet", params, f'<p role="alert">no facet {e(name)}</p>')
    q = params.get("q", [""])[0]
    try:
        fc = ix.facet(name, q, _filters_of(params))
    except CorpusSearchError as exc:
        return exc.http_status, _view(
            "error", params, f'<p role="alert" class="error">{e(exc)}</p>'
        )
    body = _facet_list(name, fc.values, params) if fc.values else "<p>no values</p>"
    return 200, _view(f"{name}: {counted(len(fc.values), 'value')}", params, body)


def article_page(ix: Any, doc_id: str, params: dict[str, list[str]]) -> tuple[int, str]:
    """(status, HTML) of one article: clean text with the query marked, every field, and what
    the cleaner removed (``?explain=1``)."""

    record = ix.get(doc_id)
    back = f'<p><a href="{e(_url("/", {"q": params.get("q", [""])}))}">back to the search</a></p>'
    if record is None:
        return 404, _layout(
            "corpus-search: no such article",
            f'<main>{back}<p role="alert">no article with id {e(doc_id)}</p></main>',
        )
    q = params.get("q", [""])[0]
    title_matches: list[tuple[int, int]] = []
    body_matches: list[tuple[int, int]] = []
    if q:
        try:
            found = ix.marked(doc_id, q)
        except CorpusSearchError:
            found = None  # a bad query shows the article unmarked
        if found is not None:
            title_matches, body_matches = found["title_matches"], found["body_matches"]
    body = record["body"] or ""
    paragraphs = "<p>" + _with_marks(body, body_matches, "m", "</p><p>") + "</p>"
    paragraphs = paragraphs.replace("<p></p>", "")
    title = record["title"] or "(no title)"
    title_html = _with_marks(title, title_matches, "t", " ") if record["title"] else e(title)
    rows = "".join(
        f'<tr><th scope="row">{e(k)}</th><td>{_field_html(k, v)}</td></tr>'
        for k, v in record.items()
        if k != "body"
    )
    explain = ""
    if params.get("explain", [""])[0]:
        explain = _explain(record)
    else:
        link = _article_url(doc_id, {"q": [q], "explain": ["1"]})
        explain = f'<p><a href="{e(link)}">what the cleaner removed</a></p>'
    explain += _reprints_of(ix, record)
    reused = _url(f"/view/reused-from/{quote(doc_id, safe='/')}", {})
    explain += f'<p><a href="{e(reused)}">passages found in earlier articles</a></p>'
    return 200, _layout(
        f"corpus-search: {title}",
        f"<main>{back}<article><h1>{title_html}</h1>{paragraphs}</article>"
        f"<table>{rows}</table>{explain}</main>",
    )


def watch_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """The watched queries (``watch list``), each with its matches and how many arrived
    since its owner last looked (``watch show NAME --new`` looks; this page only counts)."""
    from . import watch as watching

    try:
        watches = watching.load(ix.path)["watches"]
        rows = []
        for name, w in sorted(watches.items()):
            fresh, _ = watching.new_ids(ix.path, name)
            matching = ix.matching_ids(w["query"])
            link = _url("/", {"q": [w["query"]], "sort": ["-date"]})
            rows.append(
                f'<tr><th scope="row">{e(name)}</th><td><a href="{e(link)}">{e(w["query"])}</a>'
                f"</td><td>{len(matching)}</td><td>{len(matching & fresh)}</td></tr>"
            )
    except CorpusSearchError as exc:
        return exc.http_status, _view(
            "error", params, f'<p role="alert" class="error">{e(exc)}</p>'
        )
    if not rows:
        body = (
            "<p>No watched queries: <code>corpus-search watch add NAME QUERY</code> adds one.</p>"
        )
    else:
        body = (
            "<table><thead><tr><th>watch</th><th>query (newest first)</th><th>matches</th>"
            f"<th>new since last look</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
        )
    return 200, _view("watched queries", params, body)


def _reprints_of(ix: Any, record: dict[str, Any]) -> str:
    """The article's reprints (the same story elsewhere), each with a diff against it, the
    earlier article first."""
    try:
        members = ix.reprints_of(record["id"]) or []
    except CorpusSearchError:
        return ""
    if not members:
        return ""
    items = []
    mine = (record["published"] is None, record["published"] or "", record["id"])
    for m in members:
        older = (m.published is None, m.published or "", m.id) < mine
        a, b = (m.id, record["id"]) if older else (record["id"], m.id)
        diff = _url("/view/diff", {"a": [a], "b": [b]})
        link = _article_url(m.id)
        items.append(
            f"<li><time>{e((m.published or 'undated')[:10])}</time> {e(m.source or '')} "
            f'<a href="{e(link)}">{e(m.title or m.id)}</a> · {m.similarity:.2f} · '
            f'<a href="{e(diff)}">diff</a></li>'
        )
    return (
        f"<section><h2>The same story elsewhere: {counted(len(members), 'reprint')}</h2>"
        f"<ol>{''.join(items)}</ol></section>"
    )


def _with_marks(text: str, spans: list[tuple[int, int]], prefix: str, paragraph: str) -> str:
    """Escaped text with each match in a ``<mark id="PREFIX-N">`` (N as KWIC lines number
    them: a line's link scrolls to its mark) and blank lines as ``paragraph``."""
    out, pos = [], 0

    def plain(chunk: str) -> str:
        return paragraph.join(e(p.strip("\n")) for p in re.split(r"\n\s*\n", chunk))

    for n, (start, end) in enumerate(spans):
        if start < pos:
            continue  # inside the previous match (a phrase and one of its words)
        out.append(plain(text[pos:start]))
        out.append(f'<mark id="{prefix}-{n}">{e(text[start:end])}</mark>')
        pos = end
    out.append(plain(text[pos:]))
    return "".join(out)


def _field_html(key: str, value: Any) -> str:
    """A field's value on the article page; the address is a link when it is http(s)."""
    if key == "url" and isinstance(value, str) and re.match(r"(?i)https?://", value):
        return f'<a href="{e(value)}" rel="noopener noreferrer nofollow">{e(value)}</a>'
    return e(", ".join(value) if isinstance(value, list) else value)


def _explain(record: dict[str, Any]) -> str:
    from .articles import read_articles

    try:
        article = None
        root = _root_of(record)
        for found in read_articles(record["path"], root=root, explain=True):
            if isinstance(found, CorpusSearchError):
                if "#" not in record["id"]:
                    raise found
                continue
            if found.id == record["id"] or "#" not in record["id"]:
                article = found
                break
        if article is None:
            return "<p>the record is no longer in its file</p>"
    except (CorpusSearchError, OSError) as exc:
        return f"<p>the file cannot be read again: {e(exc)}</p>"
    rows = "".join(
        f"<tr><td>{r.line}</td><td>{e(r.rule)}</td><td>{e(r.text)}</td></tr>"
        for r in article.removed
    )
    return (
        "<section><h2>What the cleaner removed</h2><table><thead><tr><th>line</th>"
        f"<th>rule</th><th>text</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _root_of(record: dict[str, Any]) -> str | None:
    """The corpus folder of a record's file, from its path and id (ids are relative paths)."""
    file_id = record["id"].rsplit("#", 1)[0] if "#" in record["id"] else record["id"]
    path = record["path"] or ""
    if path.endswith(file_id):
        return path[: len(path) - len(file_id)] or None
    return None


STATIC = {
    "app.css": (
        "text/css; charset=utf-8",
        "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:75rem;padding:1rem;"
        "display:grid;grid-template-columns:1fr 16rem;gap:1rem;color:#111;background:#fff}"
        "header{grid-column:1/-1}h1{font-size:1.3rem}h1 a{color:inherit}"
        "form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}"
        "#q{flex:1 1 20rem;font-size:1.1rem;padding:.4rem}mark{background:#ffe066;color:#000}"
        ".hits h2{font-size:1.1rem;margin:.8rem 0 .2rem}.meta{color:#555;margin:0}"
        ".snippet{margin:.2rem 0}.error{color:#a00;font-weight:bold}"
        "aside ul{list-style:none;padding:0}aside span{color:#555}"
        "main,aside,header{min-width:0}body{overflow-wrap:anywhere}"
        "svg rect{fill:#2b6cb0}svg{width:100%;height:auto;display:block}"
        "svg a:hover rect,svg a:focus rect{fill:#1a4480}svg text{font-size:13px;fill:#333}"
        "svg line.grid{stroke:#ddd}figure{margin:.5rem 0}figcaption{color:#555;font-size:.9rem}"
        ".in-force{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:.4rem}"
        ".in-force li{background:#eef3fb;border:1px solid #b8c9e6;border-radius:1rem;"
        "padding:0 .6rem}.in-force a{text-decoration:none;font-weight:bold;padding:0 .2rem}"
        "table{border-collapse:collapse;max-width:100%}"
        "th,td{text-align:left;padding:.2rem .5rem;vertical-align:top}"
        "a:focus,input:focus,select:focus,button:focus{outline:3px solid #2b6cb0}"
        ".multiples{display:grid;grid-template-columns:repeat(auto-fit,minmax(18rem,1fr));"
        "gap:0 1rem}.split{font-size:.9rem;color:#555}"
        "mark:target{background:#f59e0b;outline:3px solid #b45309}"
        "del{background:#fdd;text-decoration:line-through}ins{background:#dfd;text-decoration:none}"
        ".kwic{width:100%;table-layout:fixed}.kwic td{white-space:nowrap;overflow:hidden;"
        "text-overflow:ellipsis;font-family:monospace}.kwic td.left{text-align:right;"
        "direction:rtl}.kwic td.left span{direction:ltr;unicode-bidi:isolate}"
        ".kwic col.side{width:38%}.kwic col.word{width:12%}.kwic col.from{width:12%}"
        "@media (max-width:40rem){.kwic col.side{width:34%}.kwic col.word{width:16%}"
        ".kwic col.from{width:16%}}"
        "svg.strip{height:2.5rem}.reuse td{vertical-align:top;width:45%}"
        ".reuse blockquote{margin:.3rem 0;padding-left:.5rem;border-left:3px solid #2b6cb0}"
        "@media (max-width:50rem){body{grid-template-columns:1fr}}",
    ),
    "app.js": (
        "text/javascript; charset=utf-8",
        "document.addEventListener('keydown',function(ev){var q=document.getElementById('q');"
        "if(ev.key==='/'&&q&&document.activeElement!==q&&!/^(INPUT|SELECT|TEXTAREA)$/.test("
        "document.activeElement.tagName)){ev.preventDefault();q.focus();q.select();}});"
        # A range dragged across a timeline's bars narrows the search to the span from the
        # first bar's period to the last's (a click on one bar is its own link).
        "(function(){var start=null;function bar(ev){return ev.target.closest?"
        "ev.target.closest('figure.timeline a'):null;}"
        "document.addEventListener('dragstart',function(ev){if(bar(ev))ev.preventDefault();});"
        "document.addEventListener('pointerdown',function(ev){start=bar(ev);});"
        "document.addEventListener('pointerup',function(ev){var end=bar(ev),a=start;start=null;"
        "if(!a||!end||a===end)return;var A=new URL(a.getAttribute('href'),location),"
        "B=new URL(end.getAttribute('href'),location);"
        "if(A.searchParams.get('since')>B.searchParams.get('since')){var t=A;A=B;B=t;}"
        "A.searchParams.set('until',B.searchParams.get('until'));ev.preventDefault();"
        "location.href=A.pathname+A.search;});})();",
    ),
}


# --------------------------------------------------------------------------------------------
# The analysis views


def _filters_of(params: dict[str, list[str]]):
    """The filters of the page's address, read as HTTP reads them (request.py): a bad value
    is a RequestError naming its option."""
    from .request import filter_params, from_query

    names = filter_params()
    given = {k: v for k, v in params.items() if k in names}
    return from_query("search", given).filters()


def views_nav(params: dict[str, list[str]]) -> str:
    """Links to the analysis views and the downloads of the current query."""
    keep = _with(params, page=None, sort=None)
    links = [
        ("KWIC", "/view/kwic"),
        ("collocates", "/view/collocates"),
        ("reprints", "/view/reprints"),
        ("reused passages", "/view/reuse"),
        ("keywords", "/view/keywords"),
        ("n-grams", "/view/ngrams"),
        ("dispersion", "/view/dispersion"),
        ("watched queries", "/view/watch"),
        ("export JSONL", "/export.jsonl"),
        ("export CSV", "/export.csv"),
    ]
    return (
        '<nav aria-label="analyses" class="views">'
        + " · ".join(f'<a href="{e(_url(path, keep))}">{e(label)}</a>' for label, path in links)
        + "</nav>"
    )


def _view(title: str, params: dict[str, list[str]], body: str) -> str:
    back = f'<p><a href="{e(_url("/", params))}">back to the hits</a></p>'
    return _layout(
        f"corpus-search: {title}",
        f'<header><h1><a href="/">corpus-search</a></h1>{_form(params)}</header>'
        f"<main>{back}<h2>{e(title)}</h2>{body}</main>",
    )


def _guarded(fn):
    def run(ix: Any, params: dict[str, list[str]], *args: Any) -> tuple[int, str]:
        try:
            return fn(ix, params, *args)
        except CorpusSearchError as exc:
            return exc.http_status, _view(
                "error", params, f'<p role="alert" class="error">{e(exc)}</p>'
            )

    return run


@_guarded
def kwic_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    q = params.get("q", [""])[0]
    sort = params.get("sort", ["date"])[0]
    sort = sort if sort in ("date", "left", "right", "source") else "date"
    conc = ix.kwic(q, _filters_of(params), width=50, sort=sort, limit=500)
    links = []
    for s in ("date", "left", "right", "source"):
        current = ' aria-current="true"' if s == sort else ""
        links.append(
            f'<a href="{e(_url("/view/kwic", _with(params, sort=s)))}"{current}>{e(s)}</a>'
        )
    sorts = " ".join(links)
    rows = "".join(
        f'<tr><td class="left"><span>{e(x.left)}</span></td><td><mark>{e(x.match)}</mark></td>'
        f'<td>{e(x.right)}</td><td><a href="{e(_occurrence_link(x, q))}" '
        f'title="{e(x.title or x.id)}">{e(x.source or x.id)}</a></td></tr>'
        for x in conc.lines
    )
    return 200, _view(
        "KWIC",
        params,
        f"<p>{conc.total} occurrences in {conc.articles} articles; sort by {sorts}</p>"
        '<table class="kwic"><colgroup><col class="side"><col class="word"><col class="side">'
        f'<col class="from"></colgroup><tbody>{rows}</tbody></table>',
    )


def _occurrence_link(line: Any, q: str) -> str:
    """The article of a KWIC line, scrolled to that occurrence (its mark is the target)."""
    prefix = "t" if line.part == "title" else "m"
    return _article_url(line.id, {"q": [q]}) + f"#{prefix}-{line.occurrence}"


@_guarded
def collocates_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    q = params.get("q", [""])[0]
    result = ix.collocates(q, _filters_of(params), top=40, stopwords=False)
    rows = "".join(
        f"<tr><td>{e(c.word)}</td><td>{c.count}</td><td>{c.frequency}</td>"
        f"<td>{c.score:.2f}</td></tr>"
        for c in result.collocates
    )
    return 200, _view(
        "collocates",
        params,
        f"<p>within {result.window} words of {result.occurrences} matches in "
        f"{result.articles} articles (log-likelihood; common words left out)</p>"
        "<table><thead><tr><th>word</th><th>together</th><th>in index</th>"
        f"<th>score</th></tr></thead><tbody>{rows}</tbody></table>",
    )


@_guarded
def keywords_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """Keyness of the current search's articles against the rest (or ``ref``), as
    ``keywords --json`` computes it."""
    q = params.get("q", [""])[0] or "*"
    ref = params.get("ref", [""])[0] or None
    result = ix.keywords(q, _filters_of(params), reference=ref, top=60)
    rows = "".join(
        f"<tr><td>{e(k['word'])}</td><td>{k['ll']:.2f}</td><td>{k['log_ratio']:.2f}</td>"
        f"<td>{k['target']['count']}</td><td>{k['reference']['count']}</td></tr>"
        for k in result["keywords"]
    )
    return 200, _view(
        "keywords",
        params,
        f"<p>words unusually frequent in {counted(result['target_articles'], 'article')} "
        f"against {counted(result['reference_articles'], 'article')} "
        f"({e(ref) if ref else 'the rest of the index'}); log-likelihood, Log Ratio</p>"
        '<form method="get" action="/view/keywords">'
        + "".join(
            f'<input type="hidden" name="{e(k)}" value="{e(v)}">'
            for k, vs in params.items()
            if k not in ("ref", "token")
            for v in vs
        )
        + f'<label>against <input name="ref" value="{e(ref or "")}" '
        'placeholder="the rest of the index"></label> <button>compare</button></form>'
        "<table><thead><tr><th>word</th><th>LL</th><th>log ratio</th><th>here</th>"
        f"<th>there</th></tr></thead><tbody>{rows}</tbody></table>",
    )


@_guarded
def ngrams_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    q = params.get("q", [""])[0]
    result = ix.ngrams(q, _filters_of(params), sizes=(2, 4), min_freq=2, top=60, stopwords=False)
    rows = "".join(
        f"<tr><td>{e(g['ngram'])}</td><td>{g['count']}</td><td>{g['documents']}</td></tr>"
        for g in result["ngrams"]
    )
    return 200, _view(
        "n-grams",
        params,
        f"<p>sequences of 2 to 4 words in {counted(result['articles'], 'article')} (those "
        "beginning or ending with a common word left out)</p>"
        "<table><thead><tr><th>words</th><th>times</th><th>articles</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>",
    )


@_guarded
def dispersion_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """Where the query's first word occurs across the articles in time order: a strip of
    marks (SVG), Gries' DP, and rates per source and year."""
    from .query import parse_query
    from .search import _plain_words

    q = params.get("q", [""])[0]
    found = _plain_words(parse_query(q)) if q else []
    word = params.get("word", [""])[0] or (found[0][0] if found else "")
    if not word:
        return 200, _view("dispersion", params, "<p>search for a word first</p>")
    r = ix.dispersion(word, "", _filters_of(params))
    n = max(1, r["articles"])
    marks = "".join(
        f'<rect x="{1000 * p / n:.1f}" y="0" width="{max(1.0, 1000 / n):.1f}" height="40"/>'
        for p in r["positions"]
    )
    svg = (
        f'<svg viewBox="0 0 1000 40" role="img" aria-label="{e(word)} across '
        f'{r["articles"]} articles, oldest to newest" class="strip">{marks}</svg>'
    )
    rows = "".join(
        f"<tr><td>{e(x['value'])}</td><td>{x['occurrences']}</td><td>{x['articles']}</td>"
        f"<td>{x['per_10k']:.2f}</td></tr>"
        for x in r["by_source"] + r["by_year"]
    )
    return 200, _view(
        "dispersion",
        params,
        f"<p>{e(word)}: {counted(r['occurrences'], 'occurrence')} in {r['with_word']} of "
        f"{counted(r['articles'], 'article')}; Gries' DP {r['dp']:.3f} (0 even, 1 in one "
        "place)</p>"
        f"{svg}<p>oldest to newest</p>"
        "<table><thead><tr><th>source / year</th><th>times</th><th>articles</th>"
        f"<th>per 10,000 words</th></tr></thead><tbody>{rows}</tbody></table>",
    )


@_guarded
def reuse_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """Reused passages of the current search's articles, the two sides side by side."""
    q = params.get("q", [""])[0]
    result = ix.reuse(q, _filters_of(params))
    return 200, _view(
        "reused passages",
        params,
        f"<p>{counted(len(result['passages']), 'passage')} reused among "
        f"{counted(result['articles'], 'article')} (the earlier article first)</p>"
        + _passages_table(ix, result["passages"][:50]),
    )


def reused_from_page(ix: Any, params: dict[str, list[str]], doc_id: str) -> tuple[int, str]:
    """The passages of one article found in earlier articles (``show ID --reuse``)."""
    try:
        passages = ix.reused_from(doc_id)
    except CorpusSearchError as exc:
        return exc.http_status, _view(
            "error", params, f'<p role="alert" class="error">{e(exc)}</p>'
        )
    if passages is None:
        return 404, _view("no such article", params, f'<p role="alert">no article {e(doc_id)}</p>')
    record = ix.get(doc_id) or {}
    link = _article_url(doc_id)
    head = (
        f'<p>In <a href="{e(link)}">{e(record.get("title") or doc_id)}</a>: '
        f"{counted(len(passages), 'passage')} found in earlier articles</p>"
    )
    return 200, _view("reused passages", params, head + _passages_table(ix, passages))


def _passages_table(ix: Any, passages: list[dict[str, Any]]) -> str:
    """Reused passages, the earlier and the later side by side, each with its article."""
    if not passages:
        return ""
    bodies: dict[str, str] = {}

    def text_of(side: dict[str, Any]) -> str:
        if side["id"] not in bodies:
            bodies[side["id"]] = (ix.get(side["id"]) or {}).get("body") or ""
        return bodies[side["id"]][side["start"] : side["end"]]

    items = []
    for p in passages:
        cells = []
        for side in ("earlier", "later"):
            x = p[side]
            link = _article_url(x["id"])
            cells.append(
                f'<td><p><a href="{e(link)}">{e(x["title"] or x["id"])}</a><br>'
                f"{e((x['published'] or 'undated')[:10])} {e(x['source'] or '')}</p>"
                f"<blockquote>{e(text_of(x))}</blockquote></td>"
            )
        items.append(
            f'<tr><th scope="row">{p["words"]} words, {p["similarity"]:.2f}</th>'
            + "".join(cells)
            + "</tr>"
        )
    return (
        '<table class="reuse"><thead><tr><th>passage</th><th>earlier</th><th>later</th></tr>'
        f"</thead><tbody>{''.join(items)}</tbody></table>"
    )


@_guarded
def reprints_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    q = params.get("q", [""])[0]
    result = ix.reprints(q, _filters_of(params))
    blocks = []
    for cluster in result.clusters[:50]:
        first = cluster.first
        items = "".join(
            f"<li><time>{e((m.published or 'undated')[:16].replace('T', ' '))}</time> "
            f"{e(m.source or '(no source)')}{f' ({e(m.site)})' if m.site and m.site != m.source else ''} "
            f'<a href="{e(_article_url(m.id))}">{e(m.title or m.id)}</a>'
            + (
                ""
                if m is first
                else f' · {m.similarity:.2f} · <a href="{e(_url("/view/diff", {"a": [first.id], "b": [m.id], "q": [q]}))}">'
                "diff with the first</a>"
            )
            + "</li>"
            for m in cluster.members
        )
        blocks.append(f"<section><h3>{e(first.title or first.id)}</h3><ol>{items}</ol></section>")
    return 200, _view(
        "reprints",
        params,
        f"<p>{counted(len(result.clusters), 'cluster')} among "
        f"{counted(result.articles, 'article')}</p>" + "".join(blocks),
    )


@_guarded
def diff_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """Two articles side by side, word by word: what one has that the other has not."""
    import difflib

    a_id, b_id = params.get("a", [""])[0], params.get("b", [""])[0]
    a, b = ix.get(a_id), ix.get(b_id)
    if a is None or b is None:
        return 404, _view(
            "diff",
            params,
            f'<p role="alert">no article with id {e(a_id if a is None else b_id)}</p>',
        )
    q = params.get("q", [""])[0]
    marked: set[str] = set()  # the words the query matched in either article
    try:
        both = ix.marked([a_id, b_id], q) if q else []
    except CorpusSearchError:
        both = []  # a bad query: the diff unmarked
    for found in filter(None, both):
        text = found["record"]["body"] or ""
        for start, end in found["body_matches"]:
            marked.update(_word_key(w) for w in text[start:end].split())

    def words_html(ws: list[str]) -> str:
        return " ".join(f"<mark>{e(w)}</mark>" if _word_key(w) in marked else e(w) for w in ws)

    pa = [p for p in (a["body"] or "").split("\n\n") if p.strip()]
    pb = [p for p in (b["body"] or "").split("\n\n") if p.strip()]
    paragraphs: list[list[str]] = []
    # Paragraph by paragraph first, then word by word inside the paragraphs that changed:
    # one word-level diff of two 60,000-word articles took 88 s (it is quadratic). The
    # paragraphs of the second article are kept (a deleted paragraph break joins words).
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=pa, b=pb, autojunk=False).get_opcodes():
        if op == "equal":
            paragraphs += [[words_html(p.split())] for p in pa[i1:i2]]
            continue
        wa, wb = _diff_tokens(pa[i1:i2]), _diff_tokens(pb[j1:j2])
        if len(wa) * len(wb) > MAX_WORD_DIFF:  # too long to compare word by word
            paragraphs += [[f"<del>{words_html(p.split())}</del>"] for p in pa[i1:i2]]
            paragraphs += [[f"<ins>{words_html(p.split())}</ins>"] for p in pb[j1:j2]]
            continue
        current: list[str] = []
        paragraphs.append(current)
        words = difflib.SequenceMatcher(a=wa, b=wb, autojunk=False)
        for wop, a1, a2, b1, b2 in words.get_opcodes():
            if wop in ("delete", "replace"):
                gone = [w for w in wa[a1:a2] if w != PARAGRAPH]
                if gone:
                    current.append(f"<del>{words_html(gone)}</del>")
            if wop in ("equal", "insert", "replace"):
                run: list[str] = []
                for w in [*wb[b1:b2], None]:
                    if w is None or w == PARAGRAPH:
                        if run:
                            html_run = words_html(run)
                            current.append(html_run if wop == "equal" else f"<ins>{html_run}</ins>")
                        run = []
                        if w == PARAGRAPH:
                            current = []
                            paragraphs.append(current)
                    else:
                        run.append(w)
    body = "".join(f'<p class="diff">{" ".join(p)}</p>' for p in paragraphs if p)
    return 200, _view(
        "diff",
        params,
        f"<p><del>{e(a['source'] or a_id)}: {e(a['title'])}</del><br>"
        f"<ins>{e(b['source'] or b_id)}: {e(b['title'])}</ins></p>{body}",
    )


PARAGRAPH = "\n\n"  # a paragraph break among the words a diff compares


def _diff_tokens(paragraphs: list[str]) -> list[str]:
    out: list[str] = []
    for i, p in enumerate(paragraphs):
        if i:
            out.append(PARAGRAPH)
        out += p.split()
    return out


def _word_key(word: str) -> str:
    return re.sub(r"^\W+|\W+$", "", word).casefold()


MAX_WORD_DIFF = 4_000_000  # words x words of a changed passage compared word by word
