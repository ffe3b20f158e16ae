"""Conformance: the adapter (postings.Snapshot) and matching's BM25F against Whoosh's public API,
on indexes of every shape. The public API is the plain reference; the adapter the fast one.

Shapes: empty; one segment; many segments written by two processes, with columns that have no
value in a whole segment; deleted documents; after a merge of small segments.
"""

from __future__ import annotations

import math
import shutil

import pytest

from corpus_search.indexer import update_index
from corpus_search.postings import Snapshot, length_table
from corpus_search.schema import day_number
from corpus_search.store import IndexFolder

from conftest import SAMPLE
from corpora import write_corpus


def _build(base, shape):
    corpus, index = base / "corpus", base / "index"
    if shape == "empty":
        corpus.mkdir()
        update_index(index, [corpus])
    elif shape == "one-segment":
        shutil.copytree(SAMPLE, corpus)
        update_index(index, [corpus])
    elif shape == "two-processes":
        write_corpus(corpus, plain=1100, front=150, scraped=60)
        update_index(index, [corpus])
    elif shape == "deletions":
        write_corpus(corpus, plain=300, front=100, scraped=50)
        update_index(index, [corpus])
        for p in sorted((corpus / "plain").iterdir())[::3]:
            p.unlink()
        for p in sorted((corpus / "politnavigator").iterdir())[:10]:
            p.write_text(p.read_text("utf-8") + "\nsummit\n", "utf-8")
        update_index(index)
    elif shape == "merged":
        write_corpus(corpus, plain=0, front=0, scraped=0)
        for i in range(12):  # the eleventh commit merges the ten before it into its segment
            write_corpus(
                corpus / f"b{i}",
                plain=20,
                front=10 if i % 2 else 0,
                scraped=5,
                seed=i,
                prefix=f"b{i}",
            )
            update_index(index, [corpus])
    return index


SHAPES = ["empty", "one-segment", "two-processes", "deletions", "merged"]


@pytest.fixture(scope="module", params=SHAPES)
def snap(request, tmp_path_factory):
    index = _build(tmp_path_factory.mktemp(request.param), request.param)
    folder = IndexFolder(index)
    s = Snapshot(folder.open(), folder.path)
    s.shape = request.param
    yield s
    s.close()


def _public_live(s: Snapshot) -> list[int]:
    return list(s.reader.all_doc_ids()) if s.leaves else []


def test_shapes_are_what_they_say(snap):
    n = len(snap.leaves)
    expected = {
        "empty": n == 0,
        "one-segment": n == 1,
        "two-processes": n >= 2,
        "deletions": bool(snap.deleted),
        "merged": n == 2,
    }
    assert expected[snap.shape], (snap.shape, n, len(snap.deleted))


def test_counts_and_deletions(snap):
    live = _public_live(snap)
    assert sorted(snap.live()) == live
    assert snap.doc_count == len(live) == (snap.reader.doc_count() if snap.leaves else 0)
    assert snap.doc_count_all == (snap.reader.doc_count_all() if snap.leaves else 0)


def test_columns_agree_with_stored_fields(snap):
    ids, authors, places = snap.column("id"), snap.column("author"), snap.column("place")
    sources, categories = snap.column("source"), snap.column("category")
    views, words, days = snap.numeric("views"), snap.numeric("words"), snap.numeric("day")
    assert len(ids) == len(authors) == len(views) == len(days) == snap.doc_count_all
    for d in _public_live(snap):
        stored = snap.reader.stored_fields(d)  # the public reference
        assert ids[d] == stored["id"]
        assert (authors[d] or None) == stored.get("author_s")
        assert (places[d] or None) == stored.get("place_s")
        assert (sources[d] or None) == stored.get("source_s")
        assert (categories[d].split("\x1f") if categories[d] else []) == stored["categories"]
        assert views[d] == stored.get("views")
        assert words[d] == stored.get("words")
        assert days[d] == day_number(stored.get("published"))
        assert snap.stored(d) == stored


def _public_postings(s, field, text):
    if not s.leaves or (field, text) not in s.reader:
        return [], []
    m = s.reader.postings(field, text)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return ids, weights


@pytest.mark.parametrize(
    "field,text",
    [
        ("text", "summit"),
        ("text", "the"),
        ("title", "plain"),
        ("text", "absent-word"),
        ("author", "john smith"),
        ("category", "скандал"),
        ("id", "plain/p00003.txt"),
    ],
)
def test_postings_agree(snap, field, text):
    """Ours include deleted documents (taken out later, as a set); Whoosh's matcher skips them."""
    ids, weights = snap.postings(field, text)
    live = [(d, w) for d, w in zip(ids, weights) if d not in snap.deleted]
    assert live == list(zip(*_public_postings(snap, field, text))) or (not live and not ids)


def test_lengths_agree(snap):
    table = length_table()
    for field in ("text", "title"):
        codes = snap.lengths(field)
        assert len(codes) == snap.doc_count_all
        for d in _public_live(snap):
            assert (table[codes[d]] if codes[d] else None) == snap.reader.doc_field_length(d, field)


def test_terms_agree(snap):
    if not snap.leaves:
        assert snap.terms("text", "su") == [] and snap.doc_frequency("text", "summit") == 0
        return
    public = [t.decode() for t in snap.reader.expand_prefix("text", "su")]
    assert snap.terms("text", "su") == public
    assert list(snap.iter_terms("text", "su")) == public
    assert snap.doc_frequency("text", "summit") == snap.reader.doc_frequency("text", "summit")


@pytest.mark.parametrize(
    "query",
    [
        '"summit"',
        '"summit" OR "convoy"',
        '"summit" "grain"',
        '"plain"',
        'title:"plain" OR "convoy"',
        '"sanctions"',
        '"absent"',
        '"summit" -"grain"',
    ],
)
def test_bm25f_scores_agree_with_whoosh(snap, query):
    """Our matching of our query tree gives the same documents and the same scores (to 1e-9)
    as Whoosh's searcher.search(..., limit=None) on the equivalent Whoosh query."""
    from whoosh import query as wq

    from corpus_search.facets import ColumnCache
    from corpus_search.matching import Deadline, Matcher
    from corpus_search.query import parse_query

    def term(w):
        field, _, word = w.rpartition(":")
        return wq.Term("title" if field == "title" else "text", word.strip('"'))

    if " OR " in query:
        whoosh_q = wq.Or([term(w) for w in query.split(" OR ")])
    elif " -" in query:
        a, b = query.split(" -")
        whoosh_q = wq.AndNot(term(a), term(b))
    elif " " in query:
        whoosh_q = wq.And([term(w) for w in query.split(" ")])
    else:
        whoosh_q = term(query)
    matcher = Matcher(snap, ColumnCache(snap), query, Deadline(query, 60))
    docs, parts = matcher.matches(parse_query(query))
    ours = matcher.score(docs, parts) if parts else {d: 0.0 for d in docs}
    if not snap.leaves:
        assert ours == {}
        return
    reference = {hit.docnum: hit.score for hit in snap.searcher.search(whoosh_q, limit=None)}
    assert ours.keys() == reference.keys()
    for d, score in reference.items():
        assert math.isclose(ours[d], score, rel_tol=1e-9, abs_tol=1e-9), (d, ours[d], score)


def test_numeric_ranges_from_columns_agree_with_stored_fields(snap):
    """Numbers have no index terms (columns only): ranges read the columns, checked here
    against each live document's stored fields read through Whoosh's public API."""
    from corpus_search.facets import ColumnCache
    from corpus_search.matching import Deadline, Matcher
    from corpus_search.query import parse_query

    stored = {d: snap.reader.stored_fields(d) for d in _public_live(snap)}

    def where(test):
        return {d for d, f in stored.items() if test(f)}

    def day(f):
        return day_number(f.get("published")) or 0

    for ours, expected in (
        (
            "views:[100 TO 5000]",
            where(lambda f: f.get("views") is not None and 100 <= f["views"] <= 5000),
        ),
        ("words:<45", where(lambda f: f.get("words") is not None and f["words"] <= 44)),
        ("published:2021", where(lambda f: 20210101 <= day(f) <= 20211231)),
        ("views:*", where(lambda f: f.get("views") is not None)),
    ):
        matcher = Matcher(snap, ColumnCache(snap), ours, Deadline(ours, 60))
        docs, _ = matcher.matches(parse_query(ours))
        assert docs == expected, ours
    if snap.shape in ("two-processes", "deletions"):
        assert where(lambda f: f.get("views") is None)  # documents without a value
        assert where(lambda f: f.get("views") is not None)


def test_numbers_have_no_index_terms(snap):
    """What the writer leaves out: no term of a number field in any segment."""
    if not snap.leaves:
        return
    for field in ("day", "views", "words"):
        assert not snap.reader.schema[field].indexed
        assert field not in snap.reader.indexed_field_names()
        assert list(snap.reader.lexicon(field)) == []


def test_phrases_agree_with_whoosh(snap):
    from whoosh import query as wq

    got = snap.phrase("text", [["summit"], ["gas"]], 0)[0]
    expected = (
        set(snap.searcher.docs_for_query(wq.Phrase("text", ["summit", "gas"])))
        if snap.leaves
        else set()
    )
    assert got == expected
    got = snap.phrase("text", [["summit", "convoy"], ["gas"]], 1)[0]
    q = wq.Sequence(
        [wq.Or([wq.Term("text", "summit"), wq.Term("text", "convoy")]), wq.Term("text", "gas")],
        slop=2,
    )
    assert got == (set(snap.searcher.docs_for_query(q)) if snap.leaves else set())


def test_many_phrases_agree_with_whoosh(snap):
    """Word pairs and triples taken from the documents themselves (so most match), some with
    a word repeated, some with alternatives, at slop 0 to 2: the same documents as Whoosh's
    phrase matcher, deletions left out."""
    import random

    from whoosh import query as wq

    if not snap.leaves:
        return
    rng = random.Random(7)
    from corpus_search.schema import body_text

    stored = [snap.reader.stored_fields(d) for d in _public_live(snap)[:40]]
    words = [
        w.lower()
        for s in stored
        for w in (body_text(s)[:400]).split()
        if w.isalpha() and len(w) > 2
    ]
    vocab = sorted(set(words))
    assert len(vocab) > 10
    cases = []
    for _ in range(40):
        k = rng.randrange(len(words) - 3)
        n = rng.choice((2, 3))
        cases.append([[w] for w in words[k : k + n]])
    for _ in range(10):
        w = rng.choice(vocab)
        cases.append([[w], [w]])
        cases.append([[w, rng.choice(vocab)], [rng.choice(vocab), rng.choice(vocab)]])
    matched = 0
    for groups in cases:
        for slop in (0, 1, 2):
            got, read = snap.phrase("text", groups, slop)
            for word, postings in read.items():  # what scoring reuses: the same postings
                assert postings == snap.postings("text", word), word
            terms = [
                wq.Term("text", g[0]) if len(g) == 1 else wq.Or([wq.Term("text", w) for w in g])
                for g in groups
            ]
            expected = set(snap.searcher.docs_for_query(wq.Sequence(terms, slop=slop + 1)))
            assert got == expected, (groups, slop)
            matched += bool(got)
    assert matched > 30  # the cases are not all misses


def test_docnum_of(snap):
    for d in _public_live(snap)[:20]:
        assert snap.docnum_of("id", snap.reader.stored_fields(d)["id"]) == d
    assert snap.docnum_of("id", "no/such/id.txt") is None


@pytest.mark.parametrize(
    "word,dist,prefix",
    [
        ("summit", 1, 1),
        ("sumit", 1, 1),
        ("sumit", 2, 0),
        ("gas", 1, 0),
        ("plian", 2, 1),
        ("скандал", 1, 1),
        ("convoi", 1, 0),
        ("zzzz", 2, 0),
    ],
)
def test_terms_within_agrees(snap, word, dist, prefix):
    if not snap.leaves:
        assert snap.terms_within("text", word, dist, prefix) == []
        return
    expected = sorted(snap.reader.terms_within("text", word, dist, prefix=prefix))
    assert snap.terms_within("text", word, dist, prefix) == expected


def test_term_files_open_as_whoosh_opens_them(snap):
    """The term index the codec opens (one read of the hash directory) holds what Whoosh's
    own OrderedHashReader reads from the same file, field by field."""
    from whoosh.filedb.filetables import OrderedHashReader

    from corpus_search.postings import _TermIndex

    for leaf, _ in snap.leaves:
        ours = leaf._terms._tindex
        assert isinstance(ours, _TermIndex)
        theirs = OrderedHashReader(ours.dbfile)  # its length from the file itself
        for name in ("hashtype", "startofdata", "endofdata", "tables", "extras", "indexbase"):
            assert getattr(ours, name) == getattr(theirs, name), name
        assert list(ours.keys())[:50] == list(theirs.keys())[:50]


def _documents(tmp_path, n_plain=220):
    """Whoosh documents of generated articles of every layout, and of the sample corpus: facets
    missing in whole groups, words in more than one 128-posting block."""
    from corpus_search.articles import iter_files, read_articles
    from corpus_search.schema import article_document

    corpus = tmp_path / "corpus"
    write_corpus(corpus, plain=n_plain, front=60, scraped=40)
    shutil.copytree(SAMPLE, corpus / "sample")
    docs = []
    for path, _ in iter_files([corpus]):
        for article in read_articles(path, root=corpus):
            assert not isinstance(article, Exception)
            doc = article_document(article, 100, 5)
            doc["root"] = str(corpus)
            if "#" in article.id:
                doc["file"] = article.id.rsplit("#", 1)[0]
            docs.append(doc)
    return docs


def _segment_bytes(gen) -> dict[str, bytes]:
    """Each file of a generation's one segment, by its name without the segment id."""
    files = {}
    for p in sorted(gen.iterdir()):
        if p.name.startswith("MAIN_") and "." in p.name and "WRITELOCK" not in p.name:
            files[p.name.split(".", 1)[1]] = p.read_bytes()
    return files


def _whoosh_and_ours(tmp_path, fill):
    """Two fresh indexes written by ``fill(writer)``: one with Whoosh's own segment writer,
    one with the grouped writer corpus-search uses (same codec and settings)."""
    from whoosh.writing import SegmentWriter

    from corpus_search.postings import WRITER_ARGS, IndexCodec, _grouped_writer_class, create_index
    from corpus_search.schema import build_schema

    out = []
    for name, cls in (("whoosh", SegmentWriter), ("ours", _grouped_writer_class())):
        gen = tmp_path / name
        gen.mkdir()
        ix = create_index(gen, build_schema())
        writer = cls(ix, compound=False, codec=IndexCodec(), **WRITER_ARGS)
        fill(writer)
        writer.commit()
        out.append(_segment_bytes(gen))
    return out


def test_grouped_writer_writes_whooshs_bytes(tmp_path):
    """The grouped writer (postings grouped per word, written block by block) writes the same
    files as Whoosh's segment writer, byte for byte: terms, postings, columns, stored fields,
    lengths."""
    docs = _documents(tmp_path)

    def fill(writer):
        for doc in docs:
            writer.add_document(**doc)

    theirs, ours = _whoosh_and_ours(tmp_path, fill)
    assert set(ours) == set(theirs)
    assert {"pst", "trm", "_stored.col", "_text_len.col", "author.col"} <= set(ours)
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_grouped_writer_merges_as_whoosh_does(tmp_path):
    """A merge (``add_reader``, what the merge policy does with small segments) goes through
    the grouped postings and gives Whoosh's bytes too, deleted documents left out, with
    documents added before and after it (buffered columns are written before the merge's)."""
    from corpus_search.postings import create_index
    from corpus_search.schema import build_schema

    docs = _documents(tmp_path, n_plain=150)
    source = tmp_path / "source"
    source.mkdir()
    ix = create_index(source, build_schema())
    w = ix.writer()
    for doc in docs:
        w.add_document(**doc)
    w.commit()
    w = ix.writer()
    w.delete_by_term("id", docs[3]["id"])
    w.commit()

    def fill(writer):  # documents before and after the merge, as a commit may have
        for doc in docs[:40]:
            writer.add_document(**doc)
        with ix.reader() as reader:
            writer.add_reader(reader)
        for doc in docs[40:90]:
            writer.add_document(**doc)

    theirs, ours = _whoosh_and_ours(tmp_path, fill)
    assert set(ours) == set(theirs) and "pst" in ours
    for name in theirs:
        assert ours[name] == theirs[name], name


def test_files_reopened_in_a_forked_child_read_alone(tmp_path_factory):
    """After a fork, a child that reopens the snapshot's files reads every stored document as
    Whoosh's public API (in the parent) reads it, while the parent keeps reading its own:
    the read offsets are no longer shared (the server's workers rely on this)."""
    import os

    index = _build(tmp_path_factory.mktemp("fork"), "two-processes")
    folder = IndexFolder(index)
    s = Snapshot(folder.open(), folder.path)
    try:
        live = _public_live(s)
        reference = [s.reader.stored_fields(d) for d in live]  # the public reference
        assert len(s.leaves) >= 2 and len(reference) > 100
        pid = os.fork()
        if pid == 0:  # the child: reopen, read everything, exit 0 only when all agree
            ok = False
            try:
                s.reopen_files()
                ok = all(s.stored(d) == r for d, r in zip(live, reference, strict=True))
            finally:
                os._exit(0 if ok else 1)
        for d, r in zip(reversed(live), reversed(reference), strict=True):
            assert s.stored(d) == r  # the parent reads on meanwhile, through its files
        assert os.waitpid(pid, 0)[1] == 0
        assert [s.stored(d) for d in live] == reference
    finally:
        s.close()
