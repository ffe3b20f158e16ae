"""Searching: our query tree -> Whoosh queries, filters, ranked pages, facets, suggestions.

:class:`CorpusIndex` is the entry point: open it once, run as many searches as you like. It
returns plain objects (:class:`SearchResult`, :class:`Hit`), never Whoosh ones.
"""

from __future__ import annotations

import heapq
import re
import time
from operator import itemgetter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import _whoosh  # noqa: F401  - must precede the first Whoosh import
from whoosh import query as wq

from . import query as q
from .errors import CorpusSearchError, QueryError, QueryTimeout
from .facets import FACET_NAMES, ColumnCache, FacetCount, Timeline, build_timeline, count_facet
from .store import IndexFolder
from .schema import exact_analyzer, stem, stored_to_record
from .vocab import PERIODS, SORTS, VALUE_FIELDS, fold, fold_value
from .snippets import MatchSpec, Snippet, find_matches, make_snippets, mark_text

MAX_EXPANSION = 2000
FILTER_FIELDS = VALUE_FIELDS

_WORDS = exact_analyzer()


def _analyze(analyzer, text: str) -> list[str]:
    return [t.text for t in analyzer(text)]


normalize_value = fold_value


# --------------------------------------------------------------------------------------------
# Filters

@dataclass
class Filters:
    """Narrow a search without changing scores. Several values of one field mean any of them;
    different fields must all hold. Dates are compared with each article's own local date."""

    category: list[str] = field(default_factory=list)
    tag: list[str] = field(default_factory=list)
    author: list[str] = field(default_factory=list)
    place: list[str] = field(default_factory=list)
    source: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    since: str | None = None
    until: str | None = None
    min_views: int | None = None

    def __post_init__(self):
        # Check dates now, so a bad one is reported before any search runs.
        self._since = q.parse_date_bounds(self.since, None, None, "--since")[0] if self.since else None
        self._until = q.parse_date_bounds(self.until, None, None, "--until")[1] if self.until else None
        if self.min_views is not None and self.min_views < 0:
            raise CorpusSearchError("--min-views must be 0 or more")

    def __bool__(self) -> bool:
        return bool(any(getattr(self, f) for f in FILTER_FIELDS) or self.since or self.until
                    or self.min_views is not None)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {f: list(getattr(self, f)) for f in FILTER_FIELDS if getattr(self, f)}
        if self.since:
            out["since"] = self.since
        if self.until:
            out["until"] = self.until
        if self.min_views is not None:
            out["min_views"] = self.min_views
        return out

    def to_whoosh(self):
        parts = []
        for name in FILTER_FIELDS:
            values = getattr(self, name)
            if values:
                terms = [wq.Term(name, normalize_value(v)) for v in values]
                parts.append(terms[0] if len(terms) == 1 else wq.Or(terms))
        if self._since is not None or self._until is not None:
            parts.append(wq.NumericRange("day", self._since, self._until))
        if self.min_views is not None:
            parts.append(wq.NumericRange("views", self.min_views, None))
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else wq.And(parts)


# --------------------------------------------------------------------------------------------
# Results

@dataclass
class Hit:
    rank: int
    score: float | None
    record: dict[str, Any]  # the record's keys, without body
    snippets: list[Snippet]
    title: Snippet

    def to_dict(self, open_mark: str = "[[", close_mark: str = "]]") -> dict[str, Any]:
        from .snippets import snippet_to_string

        r = self.record
        return {
            "id": r["id"], "path": r["path"],
            "score": round(self.score, 4) if self.score is not None else None,
            "title": r["title"], "author": r["author"], "published": r["published"],
            "place": r["place"], "source": r["source"], "categories": r["categories"],
            "tags": r["tags"], "views": r["views"], "language": r["language"],
            "words": r["words"],
            "snippets": [snippet_to_string(s, open_mark, close_mark) for s in self.snippets],
        }


@dataclass
class SearchResult:
    query: str
    total: int
    took_ms: float
    page: int
    limit: int
    sort: str
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, FacetCount] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    suggestion: str | None = None

    @property
    def pages(self) -> int:
        return (self.total + self.limit - 1) // self.limit if self.limit else 0


# --------------------------------------------------------------------------------------------
# Translation

def _field(name: str | None) -> str:
    """The index field a text clause searches: ``title:`` the title, else title and body."""
    return "title" if name == "title" else "text"


class _Translator:
    """Our query tree -> a Whoosh query, noting what to highlight in titles and bodies."""

    def __init__(self, snapshot, text: str, deadline: "Deadline"):
        self.snapshot = snapshot
        self.deadline = deadline
        self.text = text
        self.title = MatchSpec()
        self.body = MatchSpec()
        self._forms: dict[tuple[str, str], list[str]] = {}

    def specs_for(self, field_name):
        return (self.title,) if field_name == "title" else (self.title, self.body)

    def run(self, node, positive=True):
        if isinstance(node, q.MatchAll):
            return wq.Every()
        if isinstance(node, q.And):
            kids = [self.run(c, positive) for c in node.children]
            if all(isinstance(c, q.Not) for c in node.children):
                kids.insert(0, wq.Every())
            return wq.And(kids)
        if isinstance(node, q.Or):
            return wq.Or([self.run(c, positive) for c in node.children])
        if isinstance(node, q.Not):
            return wq.Not(self.run(node.child, False))
        if isinstance(node, q.Range):
            return _numeric_range(node)
        if isinstance(node, q.Phrase):
            return self.phrase(node, positive)
        return self.term(node, positive)

    # -- stemming at query time ---------------------------------------------------------

    def forms(self, fieldname: str, word: str) -> list[str]:
        """The indexed words of ``fieldname`` that share ``word``'s stem (the word included).

        Stems (Porter, Snowball) only rewrite a word's ending, so the forms are found among the
        words that start with the stem (or, for Porter's y -> i, with the stem ending in y).
        """
        key = (fieldname, word)
        found = self._forms.get(key)
        if found is not None:
            return found
        target = stem(word)
        prefixes = {target}
        if target.endswith("i"):
            prefixes.add(target[:-1] + "y")
        seen = {word}
        for prefix in prefixes:
            for n, term in enumerate(self.snapshot.iter_terms(fieldname, prefix)):
                if n >= 5000:  # a very short stem: enough forms
                    break
                if n % 256 == 0:
                    self.deadline.check()
                if term not in seen and stem(term) == target:
                    seen.add(term)
        found = self._forms[key] = sorted(seen)
        return found

    def any_form(self, fieldname: str, word: str):
        forms = self.forms(fieldname, word)
        if len(forms) == 1:
            return wq.Term(fieldname, forms[0])
        return wq.Or([wq.Term(fieldname, f) for f in forms])

    # -- leaves ---------------------------------------------------------------------------

    def phrase(self, node: q.Phrase, positive: bool):
        words = [w for part in node.words for w in _analyze(_WORDS, part)]
        if positive:
            for spec in self.specs_for(node.field):
                spec.phrases.append((tuple(stem(w) for w in words), node.slop))
        return self._sequence(_field(node.field), words, node.slop)

    def _sequence(self, fieldname: str, words: list[str], slop: int):
        forms = [self.forms(fieldname, w) for w in words]
        if all(len(f) == 1 for f in forms):
            return wq.Phrase(fieldname, [f[0] for f in forms], slop=slop + 1)
        subs = [wq.Term(fieldname, f[0]) if len(f) == 1 else wq.Or([wq.Term(fieldname, x) for x in f])
                for f in forms]
        return wq.Sequence(subs, slop=slop + 1)

    def term(self, node: q.Term, positive: bool):
        f = node.field
        if f == "id":
            if node.wildcard:
                return self.expand(["id"], node, lambda s: s, False)
            return wq.Term("id", node.text)
        if f in VALUE_FIELDS:
            if node.wildcard:
                return self.expand([f], node, normalize_value, False)
            return wq.Term(f, normalize_value(node.text))
        fieldname = _field(f)
        if node.wildcard:
            return self.expand([fieldname], node, fold, positive)
        words = _analyze(_WORDS, node.text)
        if not words:
            raise QueryError(self.text, f"'{node.text}' has no words to search for", node.pos)
        if len(words) > 1:  # "U.S.-led", "covid-19": the words in a row
            return self.phrase(q.Phrase(tuple(words), f, 0, node.pos), positive)
        word = words[0]
        if node.fuzzy:
            return self.fuzzy([fieldname], word, node, positive)
        if node.exact:
            if positive:
                for spec in self.specs_for(f):
                    spec.words.add(word)
            return wq.Term(fieldname, word)
        if positive:
            for spec in self.specs_for(f):
                spec.stems.add(stem(word))
        return self.any_form(fieldname, word)

    def expand(self, fields, node: q.Term, norm, positive=True):
        pattern = norm(node.text)
        regex = re.compile(re.escape(pattern).replace(r"\*", ".*").replace(r"\?", "."), re.S)
        prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
        found: list[tuple[str, str]] = []
        for f in fields:
            for n, term in enumerate(self.snapshot.iter_terms(f, prefix)):
                if n % 256 == 0:
                    self.deadline.check()
                if regex.fullmatch(term):
                    found.append((f, term))
                    if len(found) > MAX_EXPANSION:
                        raise QueryError(self.text, f"'{node.text}' matches more than "
                                         f"{MAX_EXPANSION} different words; make it more specific",
                                         node.pos)
        if positive:
            for spec in self.specs_for(node.field):
                spec.words.update(t for _, t in found)
        return self._any_of(found)

    def fuzzy(self, fields, word: str, node: q.Term, positive: bool):
        found = []
        for f in fields:
            self.deadline.check()
            found.extend((f, t) for t in self.snapshot.terms_within(
                f, word, node.fuzzy, prefix=1 if len(word) > 3 else 0))
        if positive:
            for spec in self.specs_for(node.field):
                spec.words.update(t for _, t in found)
        return self._any_of(found)

    @staticmethod
    def _any_of(found):
        if not found:
            return wq.NullQuery
        return wq.Or([wq.Term(f, t) for f, t in found])


# --------------------------------------------------------------------------------------------
# Numbers and deadlines

#: The largest value each numeric column holds (signed, by its width in bits).
NUMERIC_MAX = {"day": 2**31 - 1, "words": 2**31 - 1, "views": 2**63 - 1}


def _numeric_range(node: q.Range):
    """A range over a numeric column; bounds past what the column holds match as the math
    says (nothing above the largest value, everything up to it)."""
    column = "day" if node.field == "published" else node.field
    top = NUMERIC_MAX[column]
    low, high = node.low, node.high
    if low is not None and low > top:
        return wq.NullQuery
    if high is not None and high < -top - 1:
        return wq.NullQuery
    if high is not None and high > top:
        high = None
    if low is not None and low < -top - 1:
        low = None
    if low is None and high is None:
        return wq.NumericRange(column, None, top)  # every document with a value or not
    return wq.NumericRange(column, low, high)


class Deadline:
    """The time a query may take; :meth:`check` raises :class:`QueryTimeout` once it is past."""

    def __init__(self, text: str, seconds: float):
        self.text = text
        self.seconds = seconds
        self.at = time.perf_counter() + seconds

    def expired(self) -> bool:
        return time.perf_counter() > self.at

    def check(self) -> None:
        if time.perf_counter() > self.at:
            raise QueryTimeout(self.text, self.seconds)


MAX_SUGGESTED_WORDS = 3  # words replaced in a suggestion
MAX_SUGGESTION_LOOKUPS = 12  # query words looked up for one (the first ones)


# --------------------------------------------------------------------------------------------
# The index, opened for searching

class CorpusIndex:
    """An index opened for searching. Use as a context manager, or call :meth:`close`.

    Each call answers from the index as last committed: before it runs, the index is reopened
    if an indexing run has committed (or a rebuild swapped in) since the last call. With
    ``follow=False`` the index stays as it was when opened (a fixed snapshot).
    """

    def __init__(self, path: str | Path = "index", *, follow: bool = True):
        self.folder = IndexFolder(path)
        self.path = self.folder.path
        self.follow = follow
        self._snapshot = None
        self._open()

    def _open(self) -> None:
        from .postings import Snapshot

        meta = self.folder.require_meta()
        gen = self.folder.generation_path(meta)
        snapshot = Snapshot(self.folder.open_generation(gen), self.path)
        if self._snapshot is not None:
            self._snapshot.close()
        self._snapshot = snapshot
        self._generation = gen
        self._cache = ColumnCache(snapshot)

    def refresh(self) -> bool:
        """Reopen if the index changed since it was opened; True if it did."""
        meta = self.folder.require_meta()
        if self.folder.generation_path(meta) != self._generation or self._snapshot.is_stale():
            self._open()
            return True
        return False

    def _call(self, fn):
        """Run ``fn()`` on the current snapshot; reopen and run it again once if a newer
        commit removed files it was reading."""
        from .postings import SnapshotStale

        if self.follow:
            self.refresh()
        try:
            return fn()
        except SnapshotStale:
            self._open()
            return fn()

    def __enter__(self) -> "CorpusIndex":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._snapshot is not None:
            self._snapshot.close()

    @property
    def doc_count(self) -> int:
        return self._snapshot.doc_count

    # -- the main entry point -------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        filters: Filters | None = None,
        sort: str = "relevance",
        limit: int = 10,
        page: int = 1,
        facets: list[str] | tuple[str, ...] = (),
        facet_limit: int = 10,
        snippets: bool = True,
        count_only: bool = False,
        timeout: float = 10.0,
    ) -> SearchResult:
        """Run ``text`` (the query language) and return one page of hits, the exact total and
        the requested facet counts over all matches."""
        started = time.perf_counter()
        if sort not in SORTS:
            raise CorpusSearchError(f"unknown sort {sort!r} (choose from {', '.join(SORTS)})")
        if limit < 1 or page < 1:
            raise CorpusSearchError("--limit and --page must be 1 or more")
        for f in facets:
            if f not in FACET_NAMES:
                raise CorpusSearchError(f"unknown facet {f!r} (choose from {', '.join(FACET_NAMES)})")
        filters = filters or Filters()
        tree = q.parse_query(text)
        return self._call(lambda: self._search(
            text, tree, filters, sort, limit, page, facets, facet_limit, snippets, count_only,
            Deadline(text, timeout), started))

    def _search(self, text, tree, filters, sort, limit, page, facets, facet_limit, snippets,
                count_only, deadline, started) -> SearchResult:
        translator, docs, scores = self._run_query(text, tree, filters, deadline)
        result = SearchResult(query=text, total=len(docs), took_ms=0.0, page=page, limit=limit,
                              sort=sort, filters=filters.to_dict())
        for name in facets:
            result.facets[name] = count_facet(name, self._cache, docs, limit=facet_limit)
        if not count_only and docs and (page - 1) * limit < len(docs):
            result.hits = self._page(docs, scores, sort, limit, page, translator, snippets)
        if not result.total and not count_only:
            result.suggestion = self._suggest(text, tree, deadline)
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _run_query(self, text: str, tree, filters: Filters, deadline: Deadline):
        """Translate and evaluate: (translator, matching docs with filters applied, scoring
        parts or None)."""
        from .engine import Evaluator

        translator = _Translator(self._snapshot, text, deadline)
        whoosh_q = translator.run(tree)
        engine = Evaluator(self._snapshot, deadline.check)
        docs, parts = engine.matches(whoosh_q)
        filter_q = filters.to_whoosh()
        if filter_q is not None and docs:
            allowed, _ = engine.evaluate(filter_q)
            docs &= allowed
        deadline.check()
        return translator, docs, parts

    def _page(self, docs, parts, sort, limit, page, translator, snippets) -> list[Hit]:
        """The hits of one page: by score (ties: index order), or by a column's values."""
        from .engine import Evaluator

        n = page * limit
        scores = None
        if sort == "relevance":
            if parts:
                scores = Evaluator(self._snapshot).score(docs, parts)
                top = [d for d, _ in heapq.nlargest(n, scores.items(), key=itemgetter(1))]
            else:
                top = heapq.nsmallest(n, docs)
        else:
            column = self._cache.values("ts" if sort in ("date", "-date") else "views")
            if sort.startswith("-"):
                top = heapq.nsmallest(n, docs, key=lambda d: (-column[d], d))
            else:
                top = heapq.nsmallest(n, docs, key=lambda d: (column[d], d))
        hits = []
        start = (page - 1) * limit
        for rank, docnum in enumerate(top[start:start + limit], start=start + 1):
            record = stored_to_record(self._snapshot.stored(docnum))
            body = record.pop("body")
            title = record["title"] or ""
            hits.append(Hit(
                rank=rank,
                score=scores[docnum] if scores is not None else None,
                record=record,
                snippets=make_snippets(body, translator.body) if snippets else [],
                title=mark_text(title, find_matches(title, translator.title)),
            ))
        return hits

    # -- suggestions ----------------------------------------------------------------------

    def suggest(self, text: str, timeout: float = 1.0) -> str | None:
        """The query with unknown words replaced by the closest indexed words, if any."""
        tree = q.parse_query(text)
        return self._call(lambda: self._suggest(text, tree, Deadline(text, timeout)))

    def _suggest(self, text: str, tree, deadline: Deadline) -> str | None:
        """At most :data:`MAX_SUGGESTED_WORDS` words replaced, found before the deadline;
        None when there is nothing short to suggest or no time left (never an error)."""
        snap = self._snapshot
        if not snap.doc_count:
            return None
        words = [n for n in q.positive_nodes(tree)
                 if isinstance(n, q.Term) and not n.wildcard and n.field in (None, "title")]
        words = words[:MAX_SUGGESTION_LOOKUPS]
        replacements = []
        for node in words:
            if deadline.expired() or len(replacements) >= MAX_SUGGESTED_WORDS:
                break
            found = _analyze(_WORDS, node.text)
            if len(found) != 1:
                continue
            word = found[0]
            fieldname = _field(node.field)
            if snap.doc_frequency(fieldname, word) > 0:
                continue
            candidates: list[str] = []
            for dist in (1, 2):
                if deadline.expired():
                    break
                candidates = snap.terms_within(fieldname, word, dist, prefix=1 if len(word) > 4 else 0)
                if candidates:
                    break
            if not candidates:
                continue
            best = max(candidates[:50], key=lambda t: snap.doc_frequency(fieldname, t))
            start = text.find(node.text, node.pos)
            if start >= 0:
                replacements.append((start, start + len(node.text), best))
        if not replacements or deadline.expired():
            return None
        if len(words) > 2 * MAX_SUGGESTED_WORDS:  # a long query: name the words, not all of it
            return ", ".join(f"{text[a:b]} -> {w}" for a, b, w in sorted(replacements))
        out, pos = [], 0
        for start, end, word in sorted(replacements):
            out.append(text[pos:start])
            out.append(word)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    # -- other views ----------------------------------------------------------------------

    def _matching(self, text: str, filters: Filters | None, timeout: float) -> set[int]:
        tree = q.parse_query(text)
        return self._run_query(text, tree, filters or Filters(), Deadline(text, timeout))[1]

    def facet(self, name: str, text: str = "", filters: Filters | None = None, *,
              limit: int | None = None, sort: str = "count", timeout: float = 10.0) -> FacetCount:
        """All values of one facet over the whole index (or a query's matches)."""
        if name not in FACET_NAMES:
            raise CorpusSearchError(f"unknown facet {name!r} (choose from {', '.join(FACET_NAMES)})")
        q.parse_query(text)
        return self._call(lambda: count_facet(name, self._cache, self._matching(text, filters, timeout),
                                              limit=limit, sort=sort))

    def timeline(self, text: str = "", filters: Filters | None = None, *, by: str | None = None,
                 split: str | None = None, timeout: float = 10.0) -> Timeline:
        if by is not None and by not in PERIODS:
            raise CorpusSearchError(f"unknown period {by!r} (choose from {', '.join(PERIODS)})")
        if split is not None and split not in FACET_NAMES:
            raise CorpusSearchError(f"unknown split field {split!r} (choose from {', '.join(FACET_NAMES)})")
        q.parse_query(text)
        return self._call(lambda: build_timeline(self._cache, self._matching(text, filters, timeout),
                                                 by, split))

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The full record (body included) of one article by id, or None."""
        def find():
            docnum = self._snapshot.docnum_of("id", doc_id)
            return None if docnum is None else stored_to_record(self._snapshot.stored(docnum))

        return self._call(find)
