"""Web pages: the article of an HTML page, out of its navigation, ads, related links and
comments, with the page's own metadata.

The main text is taken by trafilatura (a maintained extractor made for news pages; measured
on the public article-extraction benchmark's 181 news pages it reaches a body F1 of 0.959
with ``favor_precision``, which is how it is called here). The page's address, date and
language are read from what the page declares about itself, in this order:

* address: ``<link rel="canonical">``, ``og:url``, then the address the page was fetched from
  (a WARC record's target), relative ones resolved against it;
* date: ``article:published_time`` and its kin, ``datePublished`` (microdata, JSON-LD), a
  ``<time datetime>``, else the capture date of a WARC record; never guessed from the address
  or the text (an extractor's guess from ``/2023/01/`` is a day nobody printed);
* author: ``<meta name="author">`` and its kin, JSON-LD's author, else the extractor's;
* language: ``<html lang>``, else detected from the text.

HTML inside a record's text field (a fragment, not a page) is turned into paragraphs by its
block elements (:func:`fragment_paragraphs`), since an extractor judging a fragment as a page
may drop real paragraphs; a whole page in a field (``<html>``, ``<body>``) is read as a page.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ArticleError

#: Elements whose text is not the page's words.
_SKIP = {"script", "style", "noscript", "template", "svg", "head", "title", "meta", "link"}
#: Elements that end a paragraph.
_BLOCKS = {
    "p", "div", "br", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol", "blockquote",
    "tr", "table", "section", "article", "header", "footer", "aside", "nav", "figure",
    "figcaption", "pre", "dd", "dt", "dl", "main", "form", "hr", "address", "details",
    "summary", "caption", "td", "th",
}  # fmt: skip
_WS = re.compile(r"[ \t\r\n\u00a0\u2007\u202f\u200b]+")

_DATE_META = (
    "article:published_time",
    "og:published_time",
    "og:article:published_time",
    "article.published",
    "published_time",
    "pubdate",
    "publishdate",
    "publish-date",
    "publish_date",
    "date",
    "dc.date",
    "dc.date.issued",
    "dcterms.created",
    "dcterms.issued",
    "sailthru.date",
    "parsely-pub-date",
)
_JSONLD_DATE = re.compile(r'"datePublished"\s*:\s*"([^"]{8,40})"')
_JSONLD_AUTHOR = re.compile(r'"author"\s*:\s*(?:\[\s*)?\{[^{}]*?"name"\s*:\s*"([^"]{1,200})"')
MIN_UNTITLED_WORDS = 5  # a page with no title and fewer words has no article


def _text(value: Any) -> str:
    return _WS.sub(" ", str(value or "")).strip()


def _paragraphs_of(root) -> list[str]:
    """The text of an element tree as paragraphs, split at block elements."""
    out: list[str] = []
    current: list[str] = []

    def flush() -> None:
        text = _text("".join(current))
        if text:
            out.append(text)
        current.clear()

    def walk(el) -> None:
        tag = el.tag if isinstance(el.tag, str) else ""
        tag = tag.rsplit("}", 1)[-1].lower()
        if tag in _SKIP or not isinstance(el.tag, str):
            if el.tail:
                current.append(el.tail)
            return
        block = tag in _BLOCKS
        if block:
            flush()
        if el.text:
            current.append(el.text)
        for child in el:
            walk(child)
        if block:
            flush()
        if el.tail:
            current.append(el.tail)

    walk(root)
    flush()
    return out


def fragment_paragraphs(fragment: str) -> list[str]:
    """The paragraphs of an HTML fragment (a record's body): block elements end paragraphs,
    entities are decoded, scripts and styles dropped."""
    import lxml.html

    try:
        root = lxml.html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # noqa: BLE001 - lxml raises several kinds on broken markup
        return [p for p in (_text(x) for x in re.sub(r"<[^>]*>", "\n", fragment).split("\n")) if p]
    return _paragraphs_of(root)


def _meta(tree, names: tuple[str, ...]) -> str | None:
    wanted = {n.lower() for n in names}
    found: dict[str, str] = {}
    for m in tree.iter("meta"):
        key = (m.get("property") or m.get("name") or m.get("itemprop") or "").strip().lower()
        if key in wanted and key not in found:
            content = (m.get("content") or "").strip()
            if content:
                found[key] = content
    for n in names:
        if n.lower() in found:
            return found[n.lower()]
    return None


def _canonical(tree, base: str | None) -> str | None:
    from urllib.parse import urljoin

    candidates = []
    for link in tree.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "canonical" in rel and link.get("href"):
            candidates.append(link.get("href").strip())
    og = _meta(tree, ("og:url", "twitter:url"))
    if og:
        candidates.append(og)
    for href in candidates:
        if re.match(r"(?i)https?://", href):
            return href
        if base and re.match(r"(?i)https?://", base) and not href.startswith("#"):
            return urljoin(base, href)
    return base or None


def _published(tree, html: str) -> str | None:
    from .formats import as_datetime

    raw = _meta(tree, _DATE_META)
    if raw is None:
        for el in tree.iter():
            if not isinstance(el.tag, str):
                continue
            if el.get("itemprop") == "datePublished":
                raw = el.get("content") or el.get("datetime") or _text(el.text_content())
                break
    if raw is None:
        m = _JSONLD_DATE.search(html)
        if m:
            raw = m.group(1)
    if raw is None:
        for t in tree.iter("time"):
            if t.get("datetime"):
                raw = t.get("datetime")
                break
    return as_datetime(raw) if raw else None


def _language(tree) -> str | None:
    lang = (
        tree.get("lang") or tree.get("{http://www.w3.org/XML/1998/namespace}lang") or ""
    ).strip()
    if re.fullmatch(r"[A-Za-z]{2}([-_][A-Za-z0-9]+)*", lang):
        return lang[:2].lower()
    return None


class Page:
    """What a page says about itself, and its article text (paragraphs)."""

    __slots__ = (
        "title", "author", "published", "url", "sitename", "language", "categories",
        "tags", "paragraphs", "all_paragraphs",
    )  # fmt: skip

    def __init__(self) -> None:
        self.title: str | None = None
        self.author: str | None = None
        self.published: str | None = None
        self.url: str | None = None
        self.sitename: str | None = None
        self.language: str | None = None
        self.categories: list[str] = []
        self.tags: list[str] = []
        self.paragraphs: list[str] = []
        self.all_paragraphs: list[str] | None = None  # every text block (for --explain)


def read_page(
    data: bytes | str,
    where: str,
    *,
    base_url: str | None = None,
    explain: bool = False,
) -> Page:
    """Extract a page's article and metadata. Raises :class:`ArticleError` naming ``where``
    when the bytes are no HTML or no article text is found."""
    import trafilatura
    from trafilatura.utils import load_html

    from .formats import as_list

    tree = load_html(data)
    if tree is None:
        raise ArticleError(where, "is not an HTML page that can be read")
    html = data if isinstance(data, str) else data[:500_000].decode("utf-8", "replace")
    page = Page()
    page.url = _canonical(tree, base_url)
    page.published = _published(tree, html)
    page.language = _language(tree)
    if explain:
        page.all_paragraphs = _paragraphs_of(
            tree.find("body") if tree.find("body") is not None else tree
        )
    doc: Any = trafilatura.bare_extraction(
        tree,
        url=page.url,
        favor_precision=True,
        include_comments=False,
        include_tables=True,
        with_metadata=True,
    )
    if doc is None or not (doc.text or "").strip():
        title = _text(doc.title) if doc is not None and doc.title else None
        if not title:
            raise ArticleError(where, "has no article text that could be found in the page")
        page.title = title
    else:
        page.title = _text(doc.title) or None
    if doc is not None:
        page.author = _text(doc.author) or None
        page.sitename = _text(doc.sitename) or None
        page.categories = [c for v in (doc.categories or []) for c in as_list(v)]
        page.tags = [t for v in (doc.tags or []) for t in as_list(v)]
        if not page.url and doc.url and re.match(r"(?i)https?://", doc.url):
            page.url = doc.url
        paragraphs = [_text(line) for line in (doc.text or "").split("\n")]
        paragraphs = [p for p in paragraphs if p]
        if paragraphs and page.title and paragraphs[0] == page.title:
            paragraphs = paragraphs[1:]  # the headline, which the extractor keeps as text
        page.paragraphs = paragraphs
    if not page.title and sum(len(p.split()) for p in page.paragraphs) < MIN_UNTITLED_WORDS:
        # a menu or a cookie notice taken for text: no article
        raise ArticleError(where, "has no article text that could be found in the page")
    declared = _meta(tree, ("author", "article:author", "dc.creator", "parsely-author"))
    if declared is None:
        m = _JSONLD_AUTHOR.search(html)
        declared = m.group(1) if m else None
    if declared and not re.match(r"(?i)https?://", declared):
        page.author = _text(declared)  # what the page declares wins over the extractor's guess
    return page


def removed_blocks(page: Page) -> list[str]:
    """The page's text blocks that are not in the article (what the extractor left out)."""
    if page.all_paragraphs is None:
        return []
    kept = "\n".join(page.paragraphs)
    title = page.title or ""
    return [p for p in page.all_paragraphs if p not in kept and p != title]
