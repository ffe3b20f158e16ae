"""Matching: our query tree (see :mod:`corpus_search.query`) -> the set of matching documents,
their BM25F scores, and what to highlight. No Whoosh here: postings, phrases and words come
from :class:`corpus_search.postings.Snapshot`, numbers and dates from the columns.

Evaluation is set algebra over whole posting lists: AND is an intersection, OR a union, NOT
a difference (Whoosh's matchers move one posting at a time through several layers of Python
objects, about 6 us a posting, and a top-N search cannot give an exact total). Scores use
Whoosh's BM25F formula (its idf, k1=1.2, b=0.75, its one-byte field lengths), computed only for
the documents kept, so rankings agree with Whoosh's (``tests/test_postings.py`` checks it).

Word forms are met here, at query time: in the articles of each language a word matches the
indexed words that language's analyzer gives the same lemma or stem (``trade`` -> trade,
trades, traded, trading in English articles; ``киев`` -> киев, киева, киеве... in Russian
ones), found in per-segment tables (:mod:`corpus_search.wordforms`); a word and its forms are
scored as one term, a phrase by its occurrences. Wildcards and fuzzy words expand to words as
written. Every step checks the query's :class:`Deadline`.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterable

from . import query as q
from .errors import QueryError, QueryTimeout
from .facets import ColumnCache
from .languages import stem
from .records import Record
from .snippets import MatchSpec
from .vocab import QUERY_VALUE_FIELDS, VALUE_FIELDS, fold, fold_accents, fold_value, words
from .wordforms import UNKNOWN, default_language, has_analyzer

MAX_EXPANSION = 2000  # different words one wildcard or fuzzy word may match
MAX_FORMS_SCANNED = 5000  # indexed words looked at for a word's stem forms
MAX_CACHED_FORMS = 20000  # words whose forms a snapshot keeps
K1 = 1.2
B = 0.75
SCORED_FIELDS = ("text", "title")

Docs = set[int]
Scores = dict[int, float]


def glob_matcher(pattern: str) -> Callable[[str], bool]:
    """Whether a word matches a wildcard pattern (``*`` any run, ``?`` one character), in
    time linear in the word: the pattern is cut at its stars, and each piece between them is
    found leftmost after the one before (which is right for ``*`` and ``?``). A regular
    expression ``.*.*.*z`` backtracked: ten stars took over 100 s on one long word, and the
    query's deadline was not looked at meanwhile."""
    pattern = re.sub(r"\*+", "*", pattern)

    def piece(text: str) -> re.Pattern[str]:
        return re.compile(re.escape(text).replace(r"\?", "."), re.S)

    parts = pattern.split("*")
    if len(parts) == 1:
        whole = piece(pattern)
        return lambda word: whole.fullmatch(word) is not None
    head, tail = parts[0], parts[-1]
    head_rx, tail_rx = piece(head), piece(tail)
    middle = [piece(m) for m in parts[1:-1] if m]
    n_head, n_tail = len(head), len(tail)

    def match(word: str) -> bool:
        end = len(word) - n_tail
        if end < n_head:
            return False
        if head and not head_rx.match(word):
            return False
        if tail and not tail_rx.fullmatch(word, end):
            return False
        pos = n_head
        for rx in middle:
            m = rx.search(word, pos, end)
            if m is None:
                return False
            pos = m.end()
        return True

    return match


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


class Part:
    """One scored term (a word with its forms, or a phrase): its field, idf and term
    frequency per document, and what it stands for (``label``, for explanations)."""

    __slots__ = ("field", "idf", "tfs", "label")

    def __init__(self, field: str, idf: float, tfs: dict[int, float], label: str = ""):
        self.field, self.idf, self.tfs, self.label = field, idf, tfs, label


Parts = list[Part] | None  # None: the clause does not score


class Filters(Record):
    """Narrow a search without changing scores. Several values of one field mean any of them;
    different fields must all hold. Dates are compared with each article's own local date."""

    FIELDS = (*VALUE_FIELDS, "since", "until", "min_views")

    def __init__(
        self,
        category: list[str] | None = None,
        tag: list[str] | None = None,
        author: list[str] | None = None,
        place: list[str] | None = None,
        source: list[str] | None = None,
        site: list[str] | None = None,
        lang: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        min_views: int | None = None,
    ):
        from .errors import CorpusSearchError

        for values in (category, tag, author, place, source, site, lang):
            for value in values or ():
                q.check_text(value, "filter value")
        self.category: list[str] = [] if category is None else category
        self.tag: list[str] = [] if tag is None else tag
        self.author: list[str] = [] if author is None else author
        self.place: list[str] = [] if place is None else place
        self.source: list[str] = [] if source is None else source
        self.site: list[str] = [] if site is None else site
        self.lang: list[str] = [] if lang is None else lang
        for code in self.lang:
            q.check_language_code(
                code, lambda msg: CorpusSearchError(f"--lang: {msg}"), spelled="--lang "
            )
        self.since = since
        self.until = until
        self.min_views = min_views

        # Checked now, so a bad one is reported before any search runs.
        self.first_day = (
            q.parse_date_bounds(self.since, None, None, "--since")[0] if self.since else None
        )
        self.last_day = (
            q.parse_date_bounds(self.until, None, None, "--until")[1] if self.until else None
        )
        if self.first_day and self.last_day and self.first_day > self.last_day:
            raise CorpusSearchError(
                f"--since {self.since} is after --until {self.until}: no date is in that range"
            )
        if self.min_views is not None and self.min_views < 0:
            raise CorpusSearchError("--min-views must be 0 or more")

    def __bool__(self) -> bool:
        return bool(
            any(getattr(self, f) for f in VALUE_FIELDS)
            or self.since
            or self.until
            or self.min_views is not None
        )

    def to_dict(self) -> dict:
        out: dict = {f: list(getattr(self, f)) for f in VALUE_FIELDS if getattr(self, f)}
        if self.since:
            out["since"] = self.since
        if self.until:
            out["until"] = self.until
        if self.min_views is not None:
            out["min_views"] = self.min_views
        return out


def _field(name: str | None) -> str:
    """The index field a text clause searches: ``title:`` the title, else title and body."""
    return "title" if name == "title" else "text"


class Matcher:
    """Evaluates query trees against one snapshot; notes what to highlight in titles and
    bodies (:attr:`title`, :attr:`body`)."""

    def __init__(
        self,
        snapshot,
        columns: ColumnCache,
        text: str,
        deadline: Deadline,
        languages: frozenset[str] = frozenset(),
    ):
        self.snap = snapshot
        self.columns = columns
        self.languages = languages  # of the index's articles: whose stemmers a word gets
        self.text = text
        self.deadline = deadline
        self.title = MatchSpec()
        self.body = MatchSpec()
        # A word's indexed forms depend only on the snapshot's terms and the stemmers: kept
        # with the snapshot, so a warm index (the server) looks them up once per word.
        self._forms: dict[tuple, dict[str, list[str]]] = snapshot.forms_cache

    # -- entry points ---------------------------------------------------------------------

    def matches(self, tree: q.Node, filters: Filters | None = None) -> tuple[Docs, Parts]:
        """(live matching documents, their scoring parts or None)."""
        if not self.snap.doc_count_all:  # an empty index: nothing matches
            return set(), None
        docs, parts = self.run(tree, True)
        docs = docs - self.snap.deleted if self.snap.deleted else docs
        if filters and docs:
            docs &= self.filtered(filters)
        self.deadline.check()
        return docs, parts

    def filtered(self, f: Filters) -> Docs:
        """The live documents that pass the filters."""
        docs: Docs | None = None
        for name in VALUE_FIELDS:
            values = getattr(f, name)
            if values:
                allowed = set().union(*(self.postings(name, fold_value(v))[0] for v in values))
                docs = allowed if docs is None else docs & allowed
        if f.first_day is not None or f.last_day is not None:
            docs = self._range("day", f.first_day, f.last_day, docs)
        if f.min_views is not None:
            docs = self._range("views", f.min_views, None, docs)
        return self.snap.live() if docs is None else docs

    def score(self, docs: Docs, parts: list[Part]) -> Scores:
        """BM25F scores of ``docs``: the sum over the matched words of Whoosh's formula."""
        from .postings import length_table

        k1p1 = K1 + 1
        norm = K1 * (1 - B)
        table = length_table()
        scores: Scores = {}
        for part in parts:
            lengths = self.snap.lengths(part.field)
            per = K1 * B / self.snap.avg_length(part.field)
            idf = part.idf * k1p1
            tfs = part.tfs
            if len(tfs) > len(docs) or not docs.issuperset(tfs.keys()):
                tfs = {d: tfs[d] for d in docs & tfs.keys()}
            if not scores:  # the first word: one comprehension, no lookups
                scores = {
                    d: idf * tf / (tf + norm + per * table[lengths[d]]) for d, tf in tfs.items()
                }
                continue
            get = scores.get
            for d, tf in tfs.items():
                scores[d] = get(d, 0.0) + idf * tf / (tf + norm + per * table[lengths[d]])
        if len(scores) < len(docs):  # matched only through clauses that do not score
            for d in docs - scores.keys():
                scores[d] = 0.0
        return scores

    def explain_score(self, doc: int, parts: list[Part]) -> list[dict]:
        """How ``doc``'s score was made: one entry per scored term, the same formula as
        :meth:`score` (its entries add up to the score)."""
        from .postings import length_table

        table = length_table()
        out = []
        for part in parts:
            tf = part.tfs.get(doc)
            if not tf:
                continue
            avg = self.snap.avg_length(part.field)
            length = table[self.snap.lengths(part.field)[doc]]
            value = part.idf * (K1 + 1) * tf / (tf + K1 * (1 - B) + K1 * B * length / avg)
            out.append(
                {
                    "term": part.label,
                    "field": part.field,
                    "tf": tf,
                    "idf": round(part.idf, 6),
                    "length": length,
                    "average_length": round(avg, 3),
                    "score": round(value, 6),
                }
            )
        return out

    # -- the tree -------------------------------------------------------------------------

    def run(self, node: q.Node, positive: bool) -> tuple[Docs, Parts]:
        """(matching documents, deleted ones possibly included; scoring parts or None)."""
        if isinstance(node, q.MatchAll):
            return set(self.snap.live()), None
        if isinstance(node, q.And):
            return self._intersection(node.children, positive)
        if isinstance(node, q.Or):
            docs: Docs = set()
            parts: Parts = None
            for child in node.children:
                d, p = self.run(child, positive)
                docs |= d
                if p is not None:
                    parts = (parts or []) + p
            return docs, parts
        if isinstance(node, q.Not):
            return self.snap.live() - self.run(node.child, False)[0], None
        if isinstance(node, q.Range):
            column = "day" if node.field == "published" else node.field
            return self._range(column, node.low, node.high), None
        if isinstance(node, q.Phrase):
            return self.phrase(node, positive)
        return self.term(node, positive)

    def _intersection(self, children: Iterable[q.Node], positive: bool) -> tuple[Docs, Parts]:
        children = list(children)
        negative = [c.child for c in children if isinstance(c, q.Not)]
        found = [self.run(c, positive) for c in children if not isinstance(c, q.Not)]
        if found:
            found.sort(key=lambda p: len(p[0]))
            docs = set(found[0][0])
            for d, _ in found[1:]:
                docs &= d
                if not docs:
                    break
        else:
            docs = set(self.snap.live())
        for n in negative:
            if not docs:
                break
            docs -= self.run(n, False)[0]
        scored = [p for _, p in found if p is not None]
        return docs, ([x for p in scored for x in p] if scored else None)

    def _range(
        self, column: str, low: int | None, high: int | None, within: Docs | None = None
    ) -> Docs:
        """Documents whose column value lies in [low, high] (None: open); no value, no match."""
        self.deadline.check()
        values = self.columns.values(column)
        docs = within if within is not None else self.snap.live()
        lo = -math.inf if low is None else low
        hi = math.inf if high is None else high
        return {d for d in docs if values[d] is not None and lo <= values[d] <= hi}

    # -- words ----------------------------------------------------------------------------

    def postings(self, field: str, word: str) -> tuple[list[int], list[float]]:
        self.deadline.check()
        return self.snap.postings(field, word)

    def words_of(
        self,
        field: str,
        found: Iterable[str],
        read: dict[str, tuple[list[int], list[float]]] | None = None,
    ) -> tuple[Docs, Parts]:
        """Documents with any of ``found`` in ``field`` (a wildcard's or a fuzzy word's
        words, an exact word, a value), scored in text fields as one term (``read``:
        postings already read, by word)."""
        return self.word_of(field, dict.fromkeys(found), read)

    def specs_for(self, field_name: str | None) -> tuple[MatchSpec, ...]:
        return (self.title,) if field_name == "title" else (self.title, self.body)

    def forms(self, word: str) -> dict[str, list[str]]:
        """The indexed forms of ``word`` (folded: lower case, no accents) in each group of
        articles: each language of the index, and ``""`` for articles of unknown language
        (see :mod:`corpus_search.wordforms`). The word as typed is always among them."""
        key = (word, self.languages)
        found = self._forms.get(key)
        if found is not None:
            return found
        finder = self._finder()
        out: dict[str, list[str]] = {}
        for language in sorted(self.languages):
            out[language] = finder.forms(language, word) if has_analyzer(language) else [word]
        fallback = default_language(word)
        out[UNKNOWN] = finder.forms(fallback, word) if fallback else [word]
        self.deadline.check()
        if len(self._forms) >= MAX_CACHED_FORMS:
            self._forms.clear()
        self._forms[key] = out
        return out

    def _finder(self):
        finder = self.snap.form_finder
        if finder is None:
            from .wordforms import FormFinder

            finder = self.snap.form_finder = FormFinder(self.snap)
        return finder

    def group_docs(self, group: str) -> Docs:
        """The documents (deleted ones included) of one language, or of none (``""``); kept
        with the snapshot."""
        cache = self.snap.groups_cache
        found = cache.get(group)
        if found is None:
            if group:
                found = set(self.postings("lang", group)[0])
            else:
                named: Docs = set()
                for language in self.languages:
                    named |= self.group_docs(language)
                found = set(range(self.snap.doc_count_all)).difference(named)
            cache[group] = found
        return found

    def _allowed(self, by_group: dict[str, list[str]]) -> dict[str, tuple[bool, Docs] | None]:
        """For each form, where it may match: None for every document, else ``(inside,
        docs)``: only in ``docs`` (inside) or anywhere but in ``docs``, whichever set is
        smaller (a Latin word's other forms are barred from the Russian articles only)."""
        forms = {f for group in by_group.values() for f in group}
        out: dict[str, tuple[bool, Docs] | None] = {}
        for f in forms:
            inside = [g for g, fs in by_group.items() if f in fs]
            if len(inside) == len(by_group):
                out[f] = None
                continue
            outside = [g for g in by_group if g not in inside]
            size_in = sum(len(self.group_docs(g)) for g in inside)
            size_out = sum(len(self.group_docs(g)) for g in outside)
            chosen = inside if size_in <= size_out else outside
            docs = (
                self.group_docs(chosen[0])
                if len(chosen) == 1
                else set().union(*(self.group_docs(g) for g in chosen))
            )
            out[f] = (size_in <= size_out, docs)
        return out

    def word_of(
        self,
        field: str,
        allowed: dict[str, tuple[bool, Docs] | None],
        read: dict[str, tuple[list[int], list[float]]] | None = None,
        label: str = "",
    ) -> tuple[Docs, Parts]:
        """The documents of one query word whose forms are ``allowed`` (see
        :meth:`_allowed`), scored as ONE term: one document frequency, the term frequencies
        of its forms added (as an engine that stems at index time counts it), so a rare form
        or a typo gets no weight of its own."""
        lists = []
        for form, where in allowed.items():
            ids, tfs = read[form] if read and form in read else self.postings(field, form)
            if ids:
                lists.append((len(ids), ids, tfs, where))
        lists.sort(key=lambda x: -x[0])  # the longest list becomes the dict, in C
        tf: dict[int, float] = {}
        for n, (_, ids, tfs, where) in enumerate(lists):
            pairs: Iterable[tuple[int, float]]
            if where is None:
                pairs = zip(ids, tfs)
            elif where[0]:
                within = where[1]
                pairs = ((d, w) for d, w in zip(ids, tfs) if d in within)
            else:
                barred = where[1]
                pairs = ((d, w) for d, w in zip(ids, tfs) if d not in barred)
            if n == 0:
                tf = dict(pairs)
                continue
            get = tf.get
            for d, w in pairs:
                tf[d] = get(d, 0.0) + w
        docs = set(tf)
        if field not in SCORED_FIELDS:
            return docs, None
        if not tf:
            return docs, []
        n_all = self.snap.doc_count_all
        idf = math.log(n_all / (len(tf) + 1)) + 1  # Whoosh's idf
        return docs, [Part(field, idf, tf, label or " | ".join(sorted(allowed)[:8]))]

    def term(self, node: q.Term, positive: bool) -> tuple[Docs, Parts]:
        f = node.field
        if f == "id":
            found = (
                self.expand("id", node, lambda s: s, limit=None) if node.wildcard else [node.text]
            )
            return self.words_of("id", found)
        if f in QUERY_VALUE_FIELDS:  # values, not words: a wildcard may match any number
            found = (
                self.expand(f, node, fold_value, limit=None)
                if node.wildcard
                else [fold_value(node.text)]
            )
            return self.words_of(f, found)
        fieldname = _field(f)
        if node.wildcard:
            found = self.expand(fieldname, node, fold)
            if positive:
                for spec in self.specs_for(f):
                    spec.words.update(found)
            return self.words_of(fieldname, found)
        written = [fold(w) for w in words(node.text)]
        if not written:
            raise QueryError(self.text, f"'{node.text}' has no words to search for", node.pos)
        if len(written) > 1:  # "U.S.-led", "covid-19": the words in a row
            return self.phrase(q.Phrase(tuple(written), f, 0, node.pos), positive)
        word = written[0]
        if node.fuzzy:
            found = self.fuzzy(fieldname, word, node)
            if positive:
                for spec in self.specs_for(f):
                    spec.words.update(found)
            return self.words_of(fieldname, found)
        if node.exact:
            if positive:
                for spec in self.specs_for(f):
                    spec.words.add(word)
            return self.words_of(fieldname, [word])
        by_group = self.forms(fold_accents(word))
        if positive:
            for spec in self.specs_for(f):
                for group in by_group.values():
                    spec.folded.update(group)
        return self.word_of(fieldname, self._allowed(by_group), label=word)

    def phrase(self, node: q.Phrase, positive: bool) -> tuple[Docs, Parts]:
        written = [fold(w) for part in node.words for w in words(part)]
        fieldname = _field(node.field)
        if positive:
            for spec in self.specs_for(node.field):
                spec.phrases.append((tuple(stem(fold_accents(w)) for w in written), node.slop))
        by_word = [self.forms(fold_accents(w)) for w in written]
        # Each group of articles (a language) has its own forms of each word: the phrase is
        # matched once per distinct list of forms, in the articles of the groups that have it.
        lists: dict[tuple[tuple[str, ...], ...], list[str]] = {}
        for group in by_word[0]:
            lists.setdefault(tuple(tuple(w[group]) for w in by_word), []).append(group)
        docs: Docs = set()
        counts: dict[int, int] = {}
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for forms, groups in lists.items():
            self.deadline.check()
            run: dict[int, int] = {}
            found, read = self.snap.phrase(fieldname, [list(f) for f in forms], node.slop, run)
            postings.update(read)
            if len(lists) > 1:
                within: Docs = set()
                for g in groups:
                    within |= self.group_docs(g)
                found &= within
            docs |= found
            counts.update((d, run[d]) for d in found)
        if fieldname not in SCORED_FIELDS or not docs:
            return docs, None if fieldname not in SCORED_FIELDS else []
        # Scored as a phrase: its occurrences are the term frequency, its idf the sum of its
        # words' (as Lucene's PhraseQuery), so a story with the phrase in its headline and
        # lead ranks above one that has it once and one of its words five times.
        idf = 0.0
        for w in by_word:
            for part in self.word_of(fieldname, self._allowed(w), postings)[1] or []:
                idf += part.idf
        label = f'"{" ".join(written)}"' + (f"~{node.slop}" if node.slop else "")
        return docs, [Part(fieldname, idf, {d: float(counts[d]) for d in docs}, label)]

    def expand(
        self,
        fieldname: str,
        node: q.Term,
        norm: Callable[[str], str],
        limit: int | None = MAX_EXPANSION,
    ) -> list[str]:
        """The indexed words a wildcard matches (at most ``limit``)."""
        pattern = norm(node.text)
        matches = glob_matcher(pattern)
        prefix = re.split(r"[*?]", pattern, maxsplit=1)[0]
        found: list[str] = []
        for n, term in enumerate(self.snap.iter_terms(fieldname, prefix)):
            if n % 64 == 0:
                self.deadline.check()
            if matches(term):
                found.append(term)
                if limit is not None and len(found) > limit:
                    raise QueryError(
                        self.text,
                        f"'{node.text}' matches more than "
                        f"{limit} different words; make it more specific",
                        node.pos,
                    )
        return found

    def fuzzy(self, fieldname: str, word: str, node: q.Term) -> list[str]:
        self.deadline.check()
        found = self.snap.terms_within(
            fieldname, word, node.fuzzy, prefix=1 if len(word) > 3 else 0
        )
        if len(found) > MAX_EXPANSION:
            raise QueryError(
                self.text,
                f"'{node.text}' matches more than {MAX_EXPANSION} "
                "different words; make it more specific",
                node.pos,
            )
        return found
