"""The page ``corpus-search serve --http`` shows at ``/``: search, filters, facets, a timeline
and the articles, rendered on the server (a bookmarked URL shows its hits before any script
runs; the one script only makes ``/`` focus the search box).

Scraped articles are hostile input: every piece of article text and metadata goes through
:func:`html.escape`, links are built from our own ids and parameters only, and the server sends
a Content-Security-Policy that forbids inline script and other origins.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import quote, urlencode

from .errors import CorpusSearchError, QueryError
from .vocab import SORTS, VALUE_FIELDS

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
FILTERS = (*VALUE_FIELDS, "since", "until")
PAGE_FACETS = ("category", "author", "source", "place", "lang", "year")
PER_PAGE = 20


def e(value: Any) -> str:
    """Escaped text for HTML (attributes included)."""
    return html.escape("" if value is None else str(value), quote=True)


def _url(path: str, params: dict[str, list[str]]) -> str:
    pairs = [(k, v) for k, values in params.items() for v in values if v != ""]
    return path + ("?" + urlencode(pairs) if pairs else "")


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
    q = params.get("q", [""])[0]
    sort = params.get("sort", ["relevance"])[0]
    options = "".join(
        f'<option value="{e(s)}"{" selected" if s == sort else ""}>{e(s)}</option>' for s in SORTS
    )
    fields = []
    for name in FILTERS:
        kind = ' type="date"' if name in ("since", "until") else ""
        value = e(params.get(name, [""])[0])
        fields.append(f'<label>{e(name)} <input name="{e(name)}" value="{value}"{kind}></label>')
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


def _timeline_svg(buckets: list[dict[str, Any]], by: str) -> str:
    if not buckets:
        return ""
    top = max(b["count"] for b in buckets) or 1
    w = max(4, 600 // len(buckets))
    bars = "".join(
        f'<rect x="{i * w}" y="{100 - 100 * b["count"] // top}" width="{w - 1}" '
        f'height="{100 * b["count"] // top}"><title>{e(b["period"])}: {b["count"]}</title></rect>'
        for i, b in enumerate(buckets)
    )
    return (
        f'<figure><svg viewBox="0 0 {len(buckets) * w} 100" role="img" '
        f'aria-label="hits by {e(by)}">{bars}</svg>'
        f"<figcaption>hits by {e(by)}: {e(buckets[0]['period'])} to "
        f"{e(buckets[-1]['period'])}</figcaption></figure>"
    )


def search_page(ix: Any, params: dict[str, list[str]]) -> tuple[int, str]:
    """(status, HTML) of the search page for these URL parameters."""
    from .matching import Filters

    q = params.get("q", [""])[0]
    try:
        page = max(1, int(params.get("page", ["1"])[0] or 1))
    except ValueError:
        page = 1
    sort = params.get("sort", ["relevance"])[0]
    sort = sort if sort in SORTS else "relevance"
    parts = [f'<header><h1><a href="/">corpus-search</a></h1>{_form(params)}</header>']
    try:
        values = {name: [v for v in params.get(name, []) if v] for name in VALUE_FIELDS}
        filters = Filters(
            category=values["category"],
            tag=values["tag"],
            author=values["author"],
            place=values["place"],
            source=values["source"],
            lang=values["lang"],
            since=params.get("since", [""])[0] or None,
            until=params.get("until", [""])[0] or None,
        )
        result = ix.search(
            q,
            filters=filters,
            sort=sort,
            limit=PER_PAGE,
            page=page,
            facets=PAGE_FACETS,
            facet_limit=12,
        )
        timeline = ix.timeline(q, filters)
    except QueryError as exc:
        marker = ""
        if exc.position is not None:
            marker = f'<pre class="query">{e(exc.query)}\n{" " * exc.position}^</pre>'
        parts.append(f'<main><p role="alert" class="error">{e(exc.detail)}</p>{marker}</main>')
        return 400, _layout("corpus-search: bad query", "".join(parts))
    except CorpusSearchError as exc:
        parts.append(f'<main><p role="alert" class="error">{e(exc)}</p></main>')
        return 400, _layout("corpus-search: error", "".join(parts))
    hits = []
    for hit in result.hits:
        r = hit.record
        link = _url(f"/article/{quote(r['id'], safe='/')}", {"q": [q]} if q else {})
        meta = " · ".join(
            e(x)
            for x in (r["published"] and r["published"][:10], r["author"], r["source"], r["place"])
            if x
        )
        snippets = "".join(f'<p class="snippet">{_marked(s)}</p>' for s in hit.snippets)
        hits.append(
            f'<li><h3><a href="{e(link)}">{_marked(hit.title) or e(r["title"] or "(no title)")}'
            f'</a></h3><p class="meta">{meta}</p>{snippets}</li>'
        )
    pages = []
    if page > 1:
        pages.append(
            f'<a rel="prev" href="{e(_url("/", _with(params, page=page - 1)))}">previous</a>'
        )
    if page < result.pages:
        pages.append(f'<a rel="next" href="{e(_url("/", _with(params, page=page + 1)))}">next</a>')
    facets = []
    for name, fc in result.facets.items():
        items = []
        for value, count in fc.values:
            target = "since" if name == "year" else name
            add = [f"{value}-01-01"] if name == "year" else [*params.get(name, []), value]
            extra = {"until": [f"{value}-12-31"]} if name == "year" else {}
            link = _url("/", _with(params, page=None, **{target: add}, **extra))
            items.append(f'<li><a href="{e(link)}">{e(value)}</a> <span>{count}</span></li>')
        facets.append(f"<section><h2>{e(name)}</h2><ul>{''.join(items)}</ul></section>")
    noun = "hit" if result.total == 1 else "hits"
    parts.append(
        f'<main><p class="total" aria-live="polite">{result.total} {noun}'
        f"{f', page {page} of {result.pages}' if result.pages > 1 else ''}</p>"
        f'{_timeline_svg(timeline.buckets, timeline.by)}<ol class="hits" start="{(page - 1) * PER_PAGE + 1}">'
        f'{"".join(hits)}</ol><nav aria-label="pages">{" ".join(pages)}</nav></main>'
        f'<aside aria-label="facets">{"".join(facets)}</aside>'
    )
    return 200, _layout(f"corpus-search: {q or 'all articles'}", "".join(parts))


def article_page(ix: Any, doc_id: str, params: dict[str, list[str]]) -> tuple[int, str]:
    """(status, HTML) of one article: clean text with the query marked, every field, and what
    the cleaner removed (``?explain=1``)."""
    from .query import parse_query
    from .snippets import find_matches, mark_text

    record = ix.get(doc_id)
    back = f'<p><a href="{e(_url("/", {"q": params.get("q", [""])}))}">back to the search</a></p>'
    if record is None:
        return 404, _layout(
            "corpus-search: no such article",
            f'<main>{back}<p role="alert">no article with id {e(doc_id)}</p></main>',
        )
    q = params.get("q", [""])[0]
    title_spec = body_spec = None
    if q:
        try:
            from .opensearch import spec_of

            title_spec, body_spec = spec_of(parse_query(q))
        except CorpusSearchError:
            pass
    body = record["body"] or ""
    paragraphs = "".join(
        f"<p>{_marked(mark_text(p, find_matches(p, body_spec)) if body_spec else [(p, False)])}</p>"
        for p in body.split("\n\n")
        if p
    )
    title = record["title"] or "(no title)"
    title_html = (
        _marked(mark_text(title, find_matches(title, title_spec))) if title_spec else e(title)
    )
    rows = "".join(
        f'<tr><th scope="row">{e(k)}</th><td>{e(", ".join(v) if isinstance(v, list) else v)}</td></tr>'
        for k, v in record.items()
        if k != "body"
    )
    explain = ""
    if params.get("explain", [""])[0]:
        explain = _explain(record)
    else:
        link = _url(f"/article/{quote(doc_id, safe='/')}", {"q": [q], "explain": ["1"]})
        explain = f'<p><a href="{e(link)}">what the cleaner removed</a></p>'
    return 200, _layout(
        f"corpus-search: {title}",
        f"<main>{back}<article><h1>{title_html}</h1>{paragraphs}</article>"
        f"<table>{rows}</table>{explain}</main>",
    )


def _explain(record: dict[str, Any]) -> str:
    from .articles import parse_article

    try:
        article = parse_article(record["path"])
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


STATIC = {
    "app.css": (
        "text/css; charset=utf-8",
        "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:75rem;padding:1rem;"
        "display:grid;grid-template-columns:1fr 16rem;gap:1rem;color:#111;background:#fff}"
        "header{grid-column:1/-1}h1{font-size:1.3rem}h1 a{color:inherit}"
        "form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}"
        "#q{flex:1 1 20rem;font-size:1.1rem;padding:.4rem}mark{background:#ffe066;color:#000}"
        ".meta{color:#555;margin:0}.snippet{margin:.2rem 0}.error{color:#a00;font-weight:bold}"
        "aside ul{list-style:none;padding:0}aside span{color:#555}"
        "svg rect{fill:#2b6cb0}svg{width:100%;height:6rem}table{border-collapse:collapse}"
        "th,td{text-align:left;padding:.2rem .5rem;vertical-align:top}"
        "a:focus,input:focus,select:focus,button:focus{outline:3px solid #2b6cb0}"
        "@media (max-width:50rem){body{grid-template-columns:1fr}}",
    ),
    "app.js": (
        "text/javascript; charset=utf-8",
        "document.addEventListener('keydown',function(ev){var q=document.getElementById('q');"
        "if(ev.key==='/'&&q&&document.activeElement!==q&&!/^(INPUT|SELECT|TEXTAREA)$/.test("
        "document.activeElement.tagName)){ev.preventDefault();q.focus();q.select();}});",
    ),
}
