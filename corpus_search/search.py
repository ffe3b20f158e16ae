"""Searching: :class:`CorpusIndex`, the facade a program uses. Open it once, run as many
searches as you like; it returns plain objects (:class:`SearchResult`, :class:`Hit`,
:class:`FacetCount`, :class:`Timeline`), never Whoosh ones.

The pipeline: :mod:`query` (text -> tree) -> :mod:`matching` (tree -> documents and scores) ->
:mod:`facets` and :mod:`snippets` (what the hits hold) -> these result objects.
"""

from __future__ import annotations

import heapq
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from operator import countOf, itemgetter
from pathlib import Path

from . import query as q
from .errors import CorpusSearchError
from .facets import ColumnCache, FacetCount, Timeline, build_timeline, count_facet
from .matching import Deadline, Filters, Matcher
from .results import Hit, SearchResult  # their home is results.py; these names are kept
from .schema import stored_to_record
from .store import IndexFolder
from .vocab import FACETS, PERIODS, SORTS, fold, fold_accents, words

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

    from .concordance import Collocates, Concordance
    from .postings import Snapshot
    from .reprints import Reprints

__all__ = ["CorpusIndex", "Filters", "Hit", "SearchResult"]


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
        self._snapshot, self._generation, self._meta = self._load()
        self._cache = ColumnCache(self._snapshot)

    def _load(self) -> tuple[Snapshot, Path, dict]:
        from .postings import Snapshot

        meta = self.folder.require_meta()
        gen = self.folder.generation_path(meta)
        return Snapshot(self.folder.open_generation(gen), self.path), gen, meta

    def _open(self) -> None:
        """Reopen at the index's last commit."""
        snapshot, gen, meta = self._load()
        self._snapshot.close()
        self._snapshot, self._generation, self._meta = snapshot, gen, meta
        self._cache = ColumnCache(snapshot)

    def refresh(self) -> bool:
        """Reopen if the index changed since it was opened; True if it did."""
        meta = self.folder.require_meta()
        if self.folder.generation_path(meta) != self._generation or self._snapshot.is_stale():
            self._open()
            return True
        return False

    def reopen_files(self) -> None:
        """Open the index's files again for this process (a forked worker must: see
        :meth:`postings.Snapshot.reopen_files`), keeping what was read from them."""
        self._snapshot.reopen_files()

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

    def _stored_records(self, docs: Iterable[int], deadline: Deadline) -> Iterator[dict[str, Any]]:
        """The stored records of ``docs``, in their order, read one at a time; the query's
        deadline checked every 200."""
        for n, d in enumerate(docs):
            if n % 200 == 0:
                deadline.check()
            yield stored_to_record(self._snapshot.stored(d))

    def __enter__(self) -> CorpusIndex:
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
        collapse: bool = False,
    ) -> SearchResult:
        """Run ``text`` (the query language) and return one page of hits, the exact total and
        the requested facet counts over all matches."""
        started = time.perf_counter()
        if sort not in SORTS:
            raise CorpusSearchError(f"unknown sort {sort!r} (choose from {', '.join(SORTS)})")
        if limit < 0 or page < 1:
            raise CorpusSearchError(
                "--limit must be 0 or more (0: counts and facets only) and --page 1 or more"
            )
        for f in facets:
            if f not in FACETS:
                raise CorpusSearchError(f"unknown facet {f!r} (choose from {', '.join(FACETS)})")
        filters = filters or Filters()
        tree = q.parse_query(text)
        return self._call(
            lambda: self._search(
                text,
                tree,
                filters,
                sort,
                limit,
                page,
                facets,
                facet_limit,
                snippets,
                count_only,
                Deadline(text, timeout),
                collapse,
                started,
            )
        )

    def _search(
        self,
        text,
        tree,
        filters,
        sort,
        limit,
        page,
        facets,
        facet_limit,
        snippets,
        count_only,
        deadline,
        collapse,
        started,
    ) -> SearchResult:
        matcher, docs, scores = self._run_query(text, tree, filters, deadline)
        others: dict[int, list[int]] | None = None
        if collapse:  # each cluster of reprints counted and shown once: its earliest member
            others = self._collapse(docs, deadline)
            docs = set(others)
        result = SearchResult(
            query=text,
            total=len(docs),
            took_ms=0.0,
            page=page,
            limit=limit,
            sort=sort,
            filters=filters.to_dict(),
        )
        for name in facets:
            result.facets[name] = count_facet(name, self._cache, docs, limit=facet_limit)
        if not count_only and limit and docs and (page - 1) * limit < len(docs):
            result.hits = self._page(docs, scores, sort, limit, page, matcher, snippets)
            if others is not None:
                ids = self._cache.values("id")
                by_id = {ids[d]: d for d in docs}
                for hit in result.hits:
                    hit.reprints = [ids[o] for o in others[by_id[hit.record["id"]]]]
        if not result.total and not count_only:
            result.suggestion = self._suggest(text, tree, deadline)
        result.took_ms = round((time.perf_counter() - started) * 1000, 2)
        return result

    def _run_query(self, text: str, tree, filters: Filters, deadline: Deadline):
        """(the matcher, matching docs with filters applied, scoring parts or None)."""
        matcher = Matcher(self._snapshot, self._cache, text, deadline, self._languages())
        docs, parts = matcher.matches(tree, filters)
        return matcher, docs, parts

    def _languages(self) -> frozenset[str]:
        """The languages of the index's articles (their stemmers apply at query time): as the
        indexing run that made this commit wrote them in the metadata, else the indexed terms
        of the lang field (a merge over every segment's term file: 7 ms for a cold search on
        40 segments; the lang column would be 90 ms at 20,000 articles)."""
        known = self._meta.get("languages")
        if (
            isinstance(known, dict)
            and known.get("commit") == self._snapshot.generation
            and isinstance(known.get("codes"), list)
        ):  # written by the indexing run that made this commit: no merge of segments' terms
            return frozenset(known["codes"])
        return self._cache.derived(  # type: ignore[return-value]
            "languages", lambda: frozenset(self._snapshot.terms("lang"))
        )

    def _ordered(self, docs, parts, sort, matcher, n: int | None = None):
        """(the first ``n`` documents in the search order, or all; their scores or None):
        by score (ties: index order), or by a column's values."""
        scores = None
        if sort == "relevance":
            if parts:
                scores = matcher.score(docs, parts)
                return self._by_score(scores, n), scores
            return (sorted(docs) if n is None else heapq.nsmallest(n, docs)), None
        name = "ts" if sort in ("date", "-date") else "views"
        values = self._cache.values(name)
        column = self._cache.derived(  # no value: before any value
            f"sort:{name}", lambda: [-1 if v is None else v for v in values]
        )
        sign = -1 if sort.startswith("-") else 1
        ids = self._cache.values("id")  # equal dates in id order: no merge changes it

        def key(d: int) -> tuple[int, str]:
            return (sign * column[d], ids[d])

        return (sorted(docs, key=key) if n is None else heapq.nsmallest(n, docs, key=key)), None

    def _by_score(self, scores: dict[int, float], n: int | None) -> list[int]:
        """The first ``n`` documents (all for None) by score, highest first; equal scores in
        the order of their ids, which no merge or rebuild changes (the index's internal
        order does). The ids are read only when the chosen documents tie."""
        if n is None or n >= len(scores):
            chosen = list(scores)
        else:
            top = heapq.nlargest(n, scores.items(), key=itemgetter(1))  # in C: no call a hit
            cut = top[-1][1]
            chosen = [d for d, s in top]
            if countOf(scores.values(), cut) > sum(1 for _, s in top if s == cut):
                # more documents share the last score than the page holds: all of them compete
                chosen = [d for d, s in top if s > cut] + [d for d, s in scores.items() if s == cut]
        if len(set(map(scores.__getitem__, chosen))) < len(chosen):
            ids = self._cache.values("id")
            chosen.sort(key=ids.__getitem__)
        chosen.sort(key=scores.__getitem__, reverse=True)  # stable: ties stay in id order
        return chosen if n is None else chosen[:n]

    def _page(self, docs, parts, sort, limit, page, matcher, snippets) -> list[Hit]:
        """The hits of one page."""
        top, scores = self._ordered(docs, parts, sort, matcher, page * limit)
        hits = []
        start = (page - 1) * limit
        for rank, docnum in enumerate(top[start : start + limit], start=start + 1):
            record = stored_to_record(self._snapshot.stored(docnum))
            score = scores[docnum] if scores is not None else None
            hits.append(Hit.of(rank, score, record, (matcher.title, matcher.body), snippets))
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
        terms = [
            n
            for n in q.positive_nodes(tree)
            if isinstance(n, q.Term) and not n.wildcard and n.field in (None, "title")
        ]
        terms = terms[:MAX_SUGGESTION_LOOKUPS]
        replacements: list[tuple[int, int, str]] = []
        for node in terms:  # or, and, not in lower case are words; in capitals, operators
            if node.field is None and not node.exact and node.text in ("or", "and", "not"):
                start = text.find(node.text, node.pos)
                if start >= 0:
                    replacements.append((start, start + len(node.text), node.text.upper()))
        if replacements:
            terms = []  # the operators first: the words may well be right
        for node in terms:
            if deadline.expired() or len(replacements) >= MAX_SUGGESTED_WORDS:
                break
            found = words(node.text)
            if len(found) != 1:
                continue
            word = fold(found[0])
            fieldname = "title" if node.field == "title" else "text"
            if snap.doc_frequency(fieldname, word) > 0:
                continue
            candidates: list[str] = []
            for dist in (1, 2):
                if deadline.expired():
                    break
                candidates = snap.terms_within(
                    fieldname, word, dist, prefix=1 if len(word) > 4 else 0
                )
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
        if len(terms) > 2 * MAX_SUGGESTED_WORDS:  # a long query: name the words, not all of it
            return ", ".join(f"{text[a:b]} -> {w}" for a, b, w in sorted(replacements))
        out, pos = [], 0
        for start, end, word in sorted(replacements):
            out.append(text[pos:start])
            out.append(word)
            pos = end
        out.append(text[pos:])
        return "".join(out)

    # -- other views ----------------------------------------------------------------------

    def _query(self, text: str, filters: Filters | None, timeout: float, tree=None):
        """(matcher, matching docs, scoring parts) of a query; ``tree`` if already parsed."""
        tree = q.parse_query(text) if tree is None else tree
        return self._run_query(text, tree, filters or Filters(), Deadline(text, timeout))

    def facet(
        self,
        name: str,
        text: str = "",
        filters: Filters | None = None,
        *,
        limit: int | None = None,
        sort: str = "count",
        timeout: float = 10.0,
    ) -> FacetCount:
        """All values of one facet over the whole index (or a query's matches)."""
        if name not in FACETS:
            raise CorpusSearchError(f"unknown facet {name!r} (choose from {', '.join(FACETS)})")
        tree = q.parse_query(text)  # a bad query is reported before any index work
        return self._call(
            lambda: count_facet(
                name,
                self._cache,
                self._query(text, filters, timeout, tree)[1],
                limit=limit,
                sort=sort,
            )
        )

    def timeline(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        by: str | None = None,
        split: str | None = None,
        timeout: float = 10.0,
    ) -> Timeline:
        if by is not None and by not in PERIODS:
            raise CorpusSearchError(f"unknown period {by!r} (choose from {', '.join(PERIODS)})")
        if split is not None and split not in FACETS:
            raise CorpusSearchError(
                f"unknown split field {split!r} (choose from {', '.join(FACETS)})"
            )
        tree = q.parse_query(text)
        return self._call(
            lambda: build_timeline(
                self._cache, self._query(text, filters, timeout, tree)[1], by, split
            )
        )

    def matching_ids(self, text: str, *, timeout: float = 60.0) -> set[str]:
        """The ids of every article matching a query (for watched queries)."""

        def run() -> set[str]:
            _, docs, _ = self._query(text, None, timeout)
            ids = self._cache.values("id")
            return {ids[d] for d in docs}

        return self._call(run)

    def explain(self, text: str, *, hits: int = 0, timeout: float = 10.0) -> dict[str, Any]:
        """What each word of a query matched, per language: the forms it was expanded to
        (see :mod:`corpus_search.wordforms`) and in how many articles of that language each
        occurs, so a count can be cited with what was counted. ``{"query", "words": [{"word",
        "field", "languages": [{"language", "articles", "forms": [{"form", "articles"}]}]}]}``;
        ``language`` is ``null`` for articles of unknown language. With ``hits``, the first
        hits by relevance and how each score was made (``"hits": [{"id", "score", "terms":
        [{"term", "field", "tf", "idf", "length", "average_length", "score"}]}]``: BM25 per
        term, as Lucene's explain shows it; the terms' scores add up to the hit's)."""
        tree = q.parse_query(text)

        def run() -> dict[str, Any]:
            deadline = Deadline(text, timeout)
            matcher = Matcher(self._snapshot, self._cache, text, deadline, self._languages())
            deleted = self._snapshot.deleted
            out = []
            for word, field in _plain_words(tree):
                fieldname = "title" if field == "title" else "text"
                groups = []
                for group, forms in matcher.forms(word).items():
                    within = matcher.group_docs(group) - deleted
                    if not within:
                        continue
                    counted: list[tuple[int, str]] = []
                    union: set[int] = set()
                    for form in forms:
                        docs = set(matcher.postings(fieldname, form)[0]) & within
                        if docs:
                            counted.append((-len(docs), form))
                            union |= docs
                    if not counted:
                        continue
                    counted.sort()
                    groups.append(
                        {
                            "language": group or None,
                            "articles": len(union),
                            "forms": [{"form": f, "articles": -n} for n, f in counted],
                        }
                    )
                out.append({"word": word, "field": fieldname, "languages": groups})
            result: dict[str, Any] = {"query": text, "words": out}
            if hits:
                docs, parts = matcher.matches(tree)
                explained = []
                if docs and parts:
                    scores = matcher.score(docs, parts)
                    for d in self._by_score(scores, hits):
                        explained.append(
                            {
                                "id": stored_to_record(self._snapshot.stored(d))["id"],
                                "score": round(scores[d], 6),
                                "terms": matcher.explain_score(d, parts),
                            }
                        )
                result["hits"] = explained
            return result

        return self._call(run)

    def records(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        sort: str = "relevance",
        timeout: float = 10.0,
    ) -> Iterator[dict[str, Any]]:
        """Every matching record, body included, in the search order, read one at a time (for
        export: memory stays flat in the number of hits, but for their document numbers)."""
        if sort not in SORTS:
            raise CorpusSearchError(f"unknown sort {sort!r} (choose from {', '.join(SORTS)})")
        matcher, docs, parts = self._call(lambda: self._query(text, filters, timeout))
        snapshot = self._snapshot
        order, _ = self._ordered(docs, parts, sort, matcher)
        for d in order:
            yield stored_to_record(snapshot.stored(d))

    def kwic(
        self,
        text: str,
        filters: Filters | None = None,
        *,
        width: int = 40,
        sort: str = "date",
        limit: int | None = 100,
        lemma: bool = False,
        timeout: float = 10.0,
    ) -> Concordance:
        """Every occurrence of every matched word or phrase in every matching article (title
        and body), ``width`` characters of context each side; ``lines`` holds the first
        ``limit`` in the chosen order, ``total`` counts them all. With ``lemma`` each line
        names the lexeme of its match in its article's language (``lemma``), and the lines
        are grouped by it (the lexeme most seen first), then in the chosen order."""
        from .concordance import KWIC_SORTS, Concordance, KwicLine, kwic_lines, sort_lines

        if sort not in KWIC_SORTS:
            raise CorpusSearchError(f"unknown sort {sort!r} (choose from {', '.join(KWIC_SORTS)})")
        if width < 1:
            raise CorpusSearchError("--width must be 1 or more")

        def run() -> Concordance:
            matcher, docs, _ = self._query(text, filters, timeout)
            lines: list[KwicLine] = []
            for record in self._stored_records(sorted(docs), matcher.deadline):
                lines.extend(kwic_lines(record, matcher.title, matcher.body, width))
            ordered = sort_lines(lines, sort)
            if lemma:
                finder = matcher._finder()
                for line in lines:
                    line.lemma = " ".join(
                        finder.lemma(line.language, fold_accents(fold(w)))
                        for w in words(line.match)
                    )
                seen = Counter(line.lemma for line in lines)
                ordered.sort(key=lambda x: (-seen[x.lemma], x.lemma))  # stable: sort kept
            return Concordance(
                text,
                len(docs),
                len(lines),
                ordered if limit is None else ordered[:limit],
                sort,
                width,
            )

        return self._call(run)

    def marked(self, doc_ids: str | list[str], text: str, *, timeout: float = 10.0) -> Any:
        """Articles with the matches of a query found as hits, snippets and KWIC lines find
        them (in each article's language): the record, and under ``title_matches`` and
        ``body_matches`` the (start, end) character spans of each occurrence, numbered as
        KWIC lines number them; None for an unknown id. One id gives one answer, a list a
        list (the query runs once for all)."""
        from .concordance import occurrences

        ids = [doc_ids] if isinstance(doc_ids, str) else doc_ids
        records = [self.get(i) for i in ids]
        tree = q.parse_query(text)

        def run() -> list[dict[str, Any] | None]:
            matcher = self._query(text, None, timeout, tree)[0] if any(records) else None
            return [
                None
                if r is None or matcher is None
                else {
                    "record": r,
                    "title_matches": occurrences(r["title"] or "", matcher.title),
                    "body_matches": occurrences(r["body"] or "", matcher.body),
                }
                for r in records
            ]

        found = self._call(run)
        return found[0] if isinstance(doc_ids, str) else found

    def collocates(
        self,
        text: str,
        filters: Filters | None = None,
        *,
        window: int = 5,
        top: int = 20,
        measure: str = "llr",
        stopwords: bool = True,
        lemma: bool = False,
        timeout: float = 10.0,
    ) -> Collocates:
        """The words within ``window`` words of the query's matches (stemmed as in search),
        ranked by log-likelihood (``llr``), ``pmi`` or raw ``count``. Corpus frequencies are
        those of the index's text field (a title counts twice there, as in ranking). With
        ``lemma`` the forms of one word in each article's language are counted as one (named
        by its lemma, or its most seen form where the language has a stem, not a lemma), its
        corpus frequency their frequencies added."""
        from .concordance import MEASURES, Collocates, rank_collocates, stopwords_for, window_words
        from .wordforms import SNOWBALL, default_language, has_analyzer

        if measure not in MEASURES:
            raise CorpusSearchError(
                f"unknown measure {measure!r} (choose from {', '.join(MEASURES)})"
            )
        if window < 1 or top < 1:
            raise CorpusSearchError("--window and --top must be 1 or more")

        def run() -> Collocates:
            from .parallel import split_work

            matcher, docs, _ = self._query(text, filters, timeout)
            finder = matcher._finder() if lemma else None

            def near_words(part_docs: Sequence[int]) -> tuple[Counter, dict, dict, int]:
                """(words near the matches, lemma -> its forms seen (with --lemma), lemma ->
                the language it was first read in, matches) in these articles."""
                counts: Counter = Counter()
                by_lemma: dict[str, Counter] = {}
                languages: dict[str, str | None] = {}
                seen = 0
                for record in self._stored_records(part_docs, matcher.deadline):
                    for part, spec in (
                        (record["title"] or "", matcher.title),
                        (record["body"], matcher.body),
                    ):
                        n, near = window_words(part, spec, window)
                        seen += n
                        if finder is None:
                            counts.update(near)
                            continue
                        for w, k in near.items():
                            key = finder.lemma(record["language"], fold_accents(w))
                            counts[key] += k
                            by_lemma.setdefault(key, Counter())[w] += k
                            languages.setdefault(key, record["language"])
                return counts, by_lemma, languages, seen

            def merge(a: tuple, b: tuple) -> tuple[Counter, dict, dict, int]:
                a[0].update(b[0])
                for key, forms in b[1].items():
                    a[1].setdefault(key, Counter()).update(forms)
                for key, language in b[2].items():
                    a[2].setdefault(key, language)  # the first half's came first
                return a[0], a[1], a[2], a[3] + b[3]

            counts, by_lemma, languages, seen = split_work(
                sorted(docs), near_words, merge, in_child=self.reopen_files
            )
            snap = self._snapshot
            hide: set[str] = set() if stopwords else set(stopwords_for(self._languages()))

            def frequency(w: str) -> int:
                if finder is None:
                    return snap.frequency("text", w)
                forms = set(by_lemma[w])
                lang = languages[w]
                if lang and has_analyzer(lang):
                    forms.update(f for f in finder.forms(lang, w) if finder.lemma(lang, f) == w)
                return sum(snap.frequency("text", f) for f in forms)

            if finder is not None and hide:  # a lexeme is hidden when any of its forms is
                hide |= {k for k, fs in by_lemma.items() if set(fs) & hide}
            ranked = rank_collocates(
                counts, frequency, snap.field_length("text"), measure, top, hide
            )
            if finder is not None:
                for c in ranked:
                    forms_seen = by_lemma[c.word]
                    lang = languages[c.word] or default_language(c.word) or ""
                    if lang in SNOWBALL:  # a stem is no word: name it by its most seen form
                        c.word = forms_seen.most_common(1)[0][0]
                    c.forms = sorted(forms_seen)
            return Collocates(text, window, measure, len(docs), seen, ranked)

        return self._call(run)

    NGRAM_GROUPS = ("source", "site", "author", "lang", "year", "month")

    def ngrams(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        sizes: tuple[int, int] = (2, 2),
        around: str | None = None,
        min_freq: int = 2,
        by: str | None = None,
        top: int | None = 50,
        stopwords: bool = True,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """The most frequent sequences of ``sizes`` words in the matching articles (titles and
        bodies, never across a paragraph), with the articles that have them; ``around``: only
        those holding that word; ``by``: counted per source, site, author, language, year or
        month as well; without ``stopwords``, sequences that begin or end with a common word
        of the index's languages are left out."""
        from .concordance import stopwords_for
        from .wordcounts import count_ngrams, rank_ngrams

        low, high = sizes
        if not 1 <= low <= high <= 8:
            raise CorpusSearchError("-n takes sizes from 1 to 8 words, as in 2 or 2..4")
        if by is not None and by not in self.NGRAM_GROUPS:
            raise CorpusSearchError(f"--by takes one of {', '.join(self.NGRAM_GROUPS)}, not {by!r}")
        if min_freq < 1:
            raise CorpusSearchError("--min-freq must be 1 or more")

        def group_of(record: dict[str, Any]) -> str | None:
            if by is None:
                return None
            if by in ("year", "month"):
                day = record.get("published") or ""
                return (day[:4] if by == "year" else day[:7]) or "(undated)"
            value = record.get({"lang": "language"}.get(by, by))
            return value or "(none)"

        def run() -> dict[str, Any]:
            matcher, docs, _ = self._query(text, filters, timeout)
            deadline = matcher.deadline

            def articles():
                for record in self._stored_records(sorted(docs), deadline):
                    yield record, group_of(record)

            skip = frozenset() if stopwords else stopwords_for(self._languages())
            counts, having, groups = count_ngrams(articles(), sizes, around, skip)
            ranked = rank_ngrams(counts, having, groups, min_freq, top)
            return {
                "query": text,
                "sizes": [low, high],
                "around": around,
                "by": by,
                "articles": len(docs),
                "ngrams": [g.to_dict() for g in ranked],
            }

        return self._call(run)

    def dispersion(
        self,
        word: str,
        text: str = "",
        filters: Filters | None = None,
        *,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Where ``word`` (with its forms in each article's language) occurs across the
        articles matching ``text`` (all, without it), in time order: its occurrences per
        article (titles and bodies), Gries' DP over the articles as parts, and the counts per
        source and per year with a rate per 10,000 words."""
        from .wordcounts import gries_dp, words_of

        tree = q.parse_query(text)
        found = words(word)
        if len(found) != 1:
            raise CorpusSearchError(f"dispersion takes one word, not {word!r}")
        target = fold_accents(fold(found[0]))

        def run() -> dict[str, Any]:
            matcher, docs, _ = self._run_query(
                text, tree, filters or Filters(), Deadline(text, timeout)
            )
            forms = matcher.forms(target)
            days = self._cache.values("ts")
            order = sorted(docs, key=lambda d: (days[d] or 0, d))
            rows = []
            for record in self._stored_records(order, matcher.deadline):
                group = record["language"] if record["language"] in forms else ""
                mine = set(forms.get(group, [target]))
                ws = [
                    fold_accents(w) for w in words_of(f"{record['title'] or ''}\n{record['body']}")
                ]
                hits = sum(1 for w in ws if w in mine)
                rows.append((record, len(ws), hits))
            occurrences = [h for _, _, h in rows]
            sizes = [n for _, n, _ in rows]
            dp, dp_norm = gries_dp(occurrences, sizes)

            def by(key) -> list[dict[str, Any]]:
                acc: dict[str, list[int]] = {}
                for record, n, h in rows:
                    k = key(record)
                    a = acc.setdefault(k, [0, 0, 0])
                    a[0] += 1
                    a[1] += h
                    a[2] += n
                out = [
                    {
                        "value": k,
                        "articles": a[0],
                        "occurrences": a[1],
                        "words": a[2],
                        "per_10k": round(10_000 * a[1] / a[2], 3) if a[2] else 0.0,
                    }
                    for k, a in acc.items()
                ]
                return sorted(out, key=lambda x: x["value"])

            return {
                "word": word,
                "query": text,
                "articles": len(rows),
                "with_word": sum(1 for h in occurrences if h),
                "occurrences": sum(occurrences),
                "words": sum(sizes),
                "dp": round(dp, 6),
                "dp_norm": round(dp_norm, 6),
                "positions": [i for i, h in enumerate(occurrences) if h],
                "by_source": by(lambda r: r["source"] or "(none)"),
                "by_year": by(lambda r: (r["published"] or "")[:4] or "(undated)"),
            }

        return self._call(run)

    def reuse(
        self, text: str = "", filters: Filters | None = None, *, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Passages shared between the articles matching ``text`` (all, without it): for
        each, where it is in the earlier article and in the later one (character offsets
        into their bodies), its similarity and its length in words
        (:mod:`corpus_search.reuse`)."""
        from .reuse import find_reuse

        def run() -> dict[str, Any]:
            matcher, docs, _ = self._query(text, filters, timeout)
            deadline = matcher.deadline
            ordered = sorted(docs)
            records = dict(zip(ordered, self._stored_records(ordered, deadline), strict=True))
            found = find_reuse(records, deadline.check)
            return {"query": text, "articles": len(docs), "passages": found}

        return self._call(run)

    def reused_from(self, doc_id: str, *, timeout: float = 60.0) -> list[dict[str, Any]] | None:
        """The passages of one article found in earlier articles of the index, with their
        sources (None: no such article)."""
        from .reuse import reused_in

        record = self.get(doc_id)
        if record is None:
            return None

        def run() -> list[dict[str, Any]]:
            deadline = Deadline(doc_id, timeout)
            snapshot = self._snapshot
            others = (stored_to_record(snapshot.stored(d)) for d in sorted(snapshot.live()))
            return reused_in(record, others, deadline.check)

        return self._call(run)

    def keywords(
        self,
        target: str,
        filters: Filters | None = None,
        *,
        reference: str | None = None,
        reference_index: CorpusIndex | None = None,
        min_freq: int = 3,
        top: int | None = 50,
        negative: bool = False,
        stopwords: bool = False,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """Keyness: the words unusually frequent in the articles matching ``target`` (and the
        filters) against a reference: the articles matching ``reference`` (the filters do not
        apply to it), in ``reference_index`` when given, else the rest of this index. Ranked by
        log-likelihood (Dunning, as Rayson computes keyness), with Hardie's Log Ratio as the
        effect size; ``negative``: the words unusually rare. Common words of the index's
        languages are left out unless ``stopwords``."""
        from .concordance import stopwords_for
        from .parallel import split_work
        from .wordcounts import merge_word_counts, rank_keywords, word_counts

        if min_freq < 1:
            raise CorpusSearchError("--min-freq must be 1 or more")
        q.parse_query(target)
        if reference is not None:
            q.parse_query(reference)

        def run() -> dict[str, Any]:
            matcher, docs, _ = self._query(target, filters, timeout)
            deadline = matcher.deadline
            if reference_index is not None:
                _, ref_docs, _ = reference_index._query(reference or "", None, timeout)
                ref_from = reference_index
            elif reference is not None:
                _, ref_docs, _ = self._query(reference, None, timeout)
                ref_from = self
            else:
                ref_docs = self._snapshot.live() - docs
                ref_from = self

            def counts(index: CorpusIndex, of: set[int]) -> tuple[Counter, Counter, int, int]:
                return split_work(
                    sorted(of),
                    lambda part: word_counts(index._stored_records(part, deadline)),
                    merge_word_counts,
                    in_child=index.reopen_files,
                )

            t = counts(self, docs)
            r = counts(ref_from, ref_docs)
            skip = frozenset() if stopwords else stopwords_for(self._languages())
            ranked = rank_keywords(t, r, min_freq=min_freq, top=top, negative=negative, skip=skip)
            return {
                "target": target,
                "reference": reference,
                "negative": negative,
                "target_articles": t[3],
                "reference_articles": r[3],
                "target_words": t[2],
                "reference_words": r[2],
                "keywords": [k.to_dict() for k in ranked],
            }

        return self._call(run)

    def count_queries(
        self,
        queries: list[str],
        filters: Filters | None = None,
        *,
        by: str = "month",
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Each query's exact count (as ``search QUERY --count``) and its counts per period
        (the article's own date, as ``timeline``). Every query is parsed before any runs."""
        if by not in PERIODS:
            raise CorpusSearchError(f"unknown period {by!r} (choose from {', '.join(PERIODS)})")
        trees = [q.parse_query(t) for t in queries]
        out = []
        for text, tree in zip(queries, trees):

            def run(text=text, tree=tree) -> dict[str, Any]:
                _, docs, _ = self._run_query(
                    text, tree, filters or Filters(), Deadline(text, timeout)
                )
                tl = build_timeline(self._cache, docs, by)
                buckets = [
                    {"period": b["period"], "count": b["count"]} for b in tl.buckets if b["count"]
                ]
                return {
                    "query": text,
                    "total": len(docs),
                    "undated": tl.undated,
                    "buckets": buckets,
                }

            out.append(self._call(run))
        return out

    REPRINT_THRESHOLD = 0.8

    def reprints_of(
        self, doc_id: str, *, threshold: float = REPRINT_THRESHOLD, timeout: float = 10.0
    ) -> list[Any] | None:
        """The other articles of the index that are the same story as this one (as
        ``reprints`` clusters them: overlap estimated from the sketches at ``threshold``),
        oldest first. None: no such article."""
        from .reprints import Member, similarity

        record = self.get(doc_id)
        if record is None:
            return None

        def run() -> list[Any]:
            deadline = Deadline(doc_id, timeout)
            snapshot = self._snapshot
            me = snapshot.docnum_of("id", record["id"])
            sk = self._sketches()
            mine = sk[me] if me is not None else ()
            if not mine:
                return []
            hashes = set(mine[1:])
            found = []
            for n, d in enumerate(snapshot.live()):
                if n % 5000 == 0:
                    deadline.check()
                if d == me or not sk[d] or hashes.isdisjoint(sk[d][1:]):
                    continue
                sim = similarity(mine, sk[d])
                if sim >= threshold:
                    r = stored_to_record(snapshot.stored(d))
                    found.append(
                        Member(r["id"], r["title"], r["source"], r["published"], sim, r["site"])
                    )
            found.sort(key=lambda m: (m.published is None, m.published or "", m.id))
            return found

        return self._call(run)

    def _sketches(self) -> list[tuple[int, ...]]:
        from .reprints import unpack

        raw = self._cache.values("sketch")
        return self._cache.derived("sketch:unpacked", lambda: [unpack(v) if v else () for v in raw])

    def _reprint_groups(
        self, docs: set[int], threshold: float, deadline: Deadline
    ) -> list[list[int]]:
        """Clusters of reprints among ``docs``, each oldest first (undated members last)."""
        from .reprints import groups, oldest_first, similar_pairs

        sk = self._sketches()
        deadline.check()
        pairs = similar_pairs({d: sk[d] for d in docs if sk[d]}, threshold, deadline.check)
        deadline.check()
        ts = self._cache.values("ts")
        days = self._cache.values("day")
        return [
            sorted(g, key=lambda d: oldest_first("x" if days[d] else None, ts[d], d))
            for g in groups(pairs)
        ]

    def _collapse(self, docs: set[int], deadline: Deadline) -> dict[int, list[int]]:
        """Each document that stands for itself or for its cluster -> the other members."""
        out: dict[int, list[int]] = {d: [] for d in docs}
        for members in self._reprint_groups(docs, self.REPRINT_THRESHOLD, deadline):
            for other in members[1:]:
                out.pop(other, None)
            out[members[0]] = members[1:]
        return out

    def reprints(
        self,
        text: str = "",
        filters: Filters | None = None,
        *,
        threshold: float = REPRINT_THRESHOLD,
        min_size: int = 2,
        timeout: float = 10.0,
    ) -> Reprints:
        """Clusters of matching articles that are the same story, largest first, members
        oldest first; a cluster's first member is the likely origin."""
        from .reprints import Cluster, Member, Reprints, similarity

        if not 0 < threshold <= 1:
            raise CorpusSearchError("--threshold must be more than 0 and at most 1")
        if min_size < 2:
            raise CorpusSearchError("--min-size must be 2 or more")

        def run() -> Reprints:
            _, docs, _ = self._query(text, filters, timeout)
            deadline = Deadline(text, timeout)
            sk = self._sketches()
            clusters = []
            for members in self._reprint_groups(docs, threshold, deadline):
                if len(members) < min_size:
                    continue
                rows = []
                for d in members:
                    r = stored_to_record(self._snapshot.stored(d))
                    rows.append(
                        Member(
                            r["id"],
                            r["title"],
                            r["source"],
                            r["published"],
                            similarity(sk[d], sk[members[0]]),
                            r["site"],
                        )
                    )
                clusters.append(Cluster(rows))
            clusters.sort(
                key=lambda c: (-len(c.members), c.first.published or "\uffff", c.first.id)
            )
            return Reprints(threshold, min_size, len(docs), clusters)

        return self._call(run)

    def id_of_path(self, path: str | Path) -> str | None:
        """The id of the article read from ``path`` (as ``search -l`` prints it), or None."""
        import os

        from .articles import text_path

        absolute = Path(os.path.abspath(path))
        for root in self.folder.require_meta().get("roots", []):
            base = Path(root)
            if os.path.isfile(root):
                if absolute == base:
                    return text_path(base.name)
                continue
            if absolute.is_relative_to(base):
                return text_path(absolute.relative_to(base).as_posix())
        return None

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The full record (body included) of one article by id (or by its file's path, as
        ``search -l`` prints it), or None."""

        def find():
            docnum = self._snapshot.docnum_of("id", doc_id)
            if docnum is None and ("/" in doc_id or os.sep in doc_id):
                by_path = self.id_of_path(doc_id)
                if by_path is None and "#" in doc_id:  # a record: its file's path, '#', its key
                    file_path, key = doc_id.rsplit("#", 1)
                    file_id = self.id_of_path(file_path)
                    by_path = f"{file_id}#{key}" if file_id is not None else None
                if by_path is not None:
                    docnum = self._snapshot.docnum_of("id", by_path)
            return None if docnum is None else stored_to_record(self._snapshot.stored(docnum))

        return self._call(find)


def _plain_words(tree) -> list[tuple[str, str | None]]:
    """The words of a query that are expanded to their forms (not quoted, not wildcards,
    not fuzzy, not metadata values), folded, each once, in order."""
    from .vocab import fold, fold_accents, words

    out: dict[tuple[str, str | None], None] = {}

    def walk(node) -> None:
        if isinstance(node, (q.And, q.Or)):
            for child in node.children:
                walk(child)
        elif isinstance(node, q.Not):
            walk(node.child)
        elif isinstance(node, q.Phrase):
            for part in node.words:
                for w in words(part):
                    out[(fold_accents(fold(w)), node.field)] = None
        elif isinstance(node, q.Term):
            if node.wildcard or node.fuzzy or node.exact:
                return
            if node.field not in (None, "title"):
                return
            for w in words(node.text):
                out[(fold_accents(fold(w)), node.field)] = None

    walk(tree)
    return list(out)
