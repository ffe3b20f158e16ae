"""The one place that reads beneath Whoosh's public API: segments, posting blocks, columns,
field lengths, stored fields, the multi-process writer and the files of a failed write.

Everything else in corpus-search reads an index through :class:`Snapshot` (one commit of one
generation, opened for reading) and writes through :func:`open_writer`. Whoosh's public API is
the reference: ``tests/test_postings.py`` checks every method here against it on indexes of
every shape (empty, one segment, many segments from one and from two writer processes,
columns with no value in a whole segment, deletions, after a merge).

Why read beneath it at all:

* ``MultiReader.column_reader`` leaves out segments that have no file for a column (a segment
  in which no document has, say, an author), so its values shift and run short. Columns are
  read here segment by segment, a missing column giving the default for each document.
* Whoosh's matchers cost about 6 us a posting; posting blocks are read whole here.
* Whoosh pickles a block's posting values (positions) as a tuple of bytes, which protocol 2
  spells as one function call per posting: decoding a block cost 5x what its ids and weights
  do. :class:`IndexCodec` writes them as one bytes object (lengths, then the values), so a
  block decodes in one call and phrases read positions straight from the blocks.
* Whoosh's segment writer keeps one tuple per posting in a pool, sorts them all and writes
  them one call at a time (~45% of a writer process). :class:`_GroupedPostings` groups them
  per word as documents come in and writes each word's list block by block: the same files,
  byte for byte.
* Whoosh's ``MpWriter`` loses a child's whole batch in silence when the child fails, leaves its
  children waiting forever when the parent dies or cancels (they hold the index lock), and lets
  Ctrl-C print a traceback per child. :class:`_ProcessWriter` fixes those three.

Damage is named truthfully: only an error raised while reading index files becomes
:class:`IndexDamagedError` (its cause chained); a file that vanished because a newer commit
replaced it becomes :class:`SnapshotStale`, so that the caller reopens instead.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import itertools
import os
import pickle
import signal
import struct
import sys
import zlib
from array import array
from collections.abc import Callable, Iterator
from pathlib import Path

from . import _whoosh  # noqa: F401  - must precede the first Whoosh import

# isort: split

from whoosh import columns
from whoosh.codec.whoosh3 import (
    LENGTHS_COLUMN,
    WHOOSH3_HEADER_MAGIC,
    W3Codec,
    W3LeafMatcher,
    W3PostingsWriter,
    W3TermsReader,
)
from whoosh.filedb.filetables import FileFormatError, OrderedHashReader, _hash_functions
from whoosh.reading import TermNotFound

from .errors import IndexDamagedError

#: What reading a damaged index file raises (truncated, missing or garbled data).
DAMAGE_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    ValueError,
    IndexError,
    KeyError,
    OverflowError,
    MemoryError,
    struct.error,
    zlib.error,
    pickle.UnpicklingError,
    FileFormatError,  # a file's format tag garbled
)

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any, TypeVar

    T = TypeVar("T")


class SnapshotStale(IndexDamagedError):
    """A file of this snapshot vanished because a newer commit replaced it: reopen."""


def damaged(path: Path | str, exc: BaseException) -> IndexDamagedError:
    """The one message for an index whose files cannot be read (``raise ... from exc``)."""
    return IndexDamagedError.because(path, exc)


def _guarded(method: Callable[..., T]) -> Callable[..., T]:
    """Run a read of index files; turn what damage raises into a truthful error."""

    @functools.wraps(method)
    def wrapper(self: Snapshot, *args: Any, **kwargs: Any) -> T:
        try:
            return method(self, *args, **kwargs)
        except IndexDamagedError:
            raise
        except DAMAGE_ERRORS as exc:
            raise self._read_error(exc) from exc

    return wrapper


def open_whoosh(gen: Path, where: Path):
    """Open the Whoosh index of one generation folder, or raise a truthful error."""
    from whoosh.index import EmptyIndexError, open_dir
    from whoosh.index import IndexError as WhooshIndexError

    if not gen.is_dir():
        raise damaged(where, FileNotFoundError(f"missing folder {gen.name}"))
    try:
        return open_dir(str(gen))
    except EmptyIndexError as exc:
        raise damaged(where, FileNotFoundError("missing table of contents")) from exc
    except DAMAGE_ERRORS + (WhooshIndexError, AttributeError, TypeError, ImportError) as exc:
        # unpickling a garbled table of contents can raise almost anything
        raise damaged(where, exc) from exc


class Snapshot:
    """One commit of an index, open for reading. Document numbers are global (segment offset
    plus the number inside the segment) and include deleted documents (see :attr:`deleted`).
    """

    def __init__(self, ix, where: Path):
        self.where = where
        self._ix = ix
        try:
            self.reader = ix.reader()
        except DAMAGE_ERRORS as exc:
            raise damaged(where, exc) from exc
        self._searcher = None
        if type(self.reader).__name__ == "EmptyReader":  # no segment committed yet
            self.leaves: list[tuple[Any, int]] = []
        elif self.reader.is_atomic():
            self.leaves = [(self.reader, 0)]
        else:
            self.leaves = list(self.reader.leaf_readers())
        self.generation = self.reader.generation() if self.leaves else -1
        self.doc_count_all = sum(leaf.doc_count_all() for leaf, _ in self.leaves)
        self.doc_count = sum(leaf.doc_count() for leaf, _ in self.leaves)
        self._deleted: set[int] | None = None
        self._live: set[int] | None = None
        self._lengths: dict[str, bytes] = {}
        self._lexicon: dict[str, list[str]] = {}
        self._fields = set(self.reader.indexed_field_names()) if self.leaves else set()
        #: (word, languages) -> the word's indexed forms (see matching.Matcher.forms)
        self.forms_cache: dict[tuple, Any] = {}
        self.form_finder: Any = None  # wordforms.FormFinder, made on first use
        self.groups_cache: dict[str, set[int]] = {}  # language -> its documents (matching)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.reader.close()

    def reopen_files(self) -> None:
        """Open this commit's files again, for this process alone. After a fork, an open
        file is shared with the parent and every other child: one read offset for all, and
        each process's buffer of what it last read there; two processes reading through it
        read each other's places (a stored body cut mid-stream). The data already read
        (columns, lengths, lexicons, word forms) is kept: it is the same commit's."""
        from whoosh.index import FileIndex

        if not self.leaves:
            return
        segments = [leaf.segment() for leaf, _ in self.leaves]
        try:
            reader = FileIndex._reader(self._ix.storage, self._ix.schema, segments, self.generation)
        except DAMAGE_ERRORS as exc:
            raise self._read_error(exc) from exc
        self.reader = reader  # the parent's file objects are left to the parent
        self.leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
        self._searcher = None

    @property
    def searcher(self):
        """Whoosh's searcher over this snapshot's reader (the public API the conformance
        tests compare with; a search never needs it, nor the import of whoosh.searching)."""
        if self._searcher is None:
            from whoosh.searching import Searcher

            self._searcher = Searcher(self.reader, fromindex=self._ix, closereader=False)
        return self._searcher

    @property
    def folder(self) -> Path:
        """The generation folder this snapshot reads (where per-segment tables live)."""
        return folder_of(self._ix)

    def segment_ids(self) -> list[str]:
        """Each segment's id, in the order of :attr:`leaves` (its files start with it)."""
        return [_name(leaf) for leaf, _ in self.leaves]

    @_guarded
    def segment_terms(self, index: int, field: str) -> list[str]:
        """The indexed words of ``field`` in one segment."""
        leaf = self.leaves[index][0]
        try:
            raw = leaf.lexicon(field)
            return [t.decode("utf-8") if isinstance(t, bytes) else t for t in raw]
        except KeyError:  # no document of the segment has the field
            return []

    def segments_with_column(self, field: str) -> list[bool]:
        """For each segment, whether it has a file for the column (Whoosh writes one only
        when some document of the segment has a value)."""
        return [leaf._perdoc.has_column(field) for leaf, _ in self.leaves]

    def _read_error(self, exc: BaseException) -> IndexDamagedError:
        if isinstance(exc, FileNotFoundError) and self.is_stale():
            return SnapshotStale(f"the index at {self.where} changed while it was read", self.where)
        return damaged(self.where, exc)

    def is_stale(self) -> bool:
        """Whether a newer commit of this generation exists (one directory listing)."""
        try:
            return self._ix.latest_generation() != self.generation
        except OSError:
            return True

    # -- documents ------------------------------------------------------------------------

    @property
    @_guarded
    def deleted(self) -> set[int]:
        """Deleted documents: they stay in postings and columns until a merge."""
        if self._deleted is None:
            deleted: set[int] = set()
            for leaf, offset in self.leaves:
                if leaf.has_deletions():
                    deleted.update(d + offset for d in leaf.deleted_docs_set)
            self._deleted = deleted
        return self._deleted

    def live(self) -> set[int]:
        """Live document numbers (a shared set: do not change it)."""
        if self._live is None:
            self._live = set(range(self.doc_count_all)) - self.deleted
        return self._live

    @_guarded
    def stored(self, docnum: int) -> dict[str, Any]:
        """The stored fields of one document."""
        for leaf, offset in reversed(self.leaves):
            if docnum >= offset:
                perdoc = leaf._perdoc
                if "_stored" not in perdoc._readers and not perdoc.has_column("_stored"):
                    raise FileNotFoundError(f"stored fields of segment {_name(leaf)}")
                # the per-document reader's own (a fresh dict each time): Whoosh's public
                # stored_fields copies it keeping the fields in the schema, all of them here
                # (a schema change is a rebuild): a fifth of reading 20,000 articles
                return perdoc.stored_fields(docnum - offset) or {}
        raise IndexError(f"no document {docnum}")

    @_guarded
    def docnum_of(self, field: str, value: str) -> int | None:
        """The live document whose unique ``field`` is ``value``, or None."""
        if not self.leaves:
            return None
        docs = [d for d in self.postings(field, value)[0] if d not in self.deleted]
        return docs[0] if docs else None

    # -- terms ----------------------------------------------------------------------------

    @_guarded
    def terms(self, field: str, prefix: str = "") -> list[str]:
        """The indexed words of ``field`` that start with ``prefix``, in order."""
        if field not in self._fields:
            return []
        raw = self.reader.expand_prefix(field, prefix) if prefix else self.reader.lexicon(field)
        return [t.decode("utf-8") if isinstance(t, bytes) else t for t in raw]

    def iter_terms(self, field: str, prefix: str = "") -> Iterator[str]:
        """Like :meth:`terms`, lazily (for callers that stop early)."""
        if field not in self._fields:
            return
        raw = self.reader.expand_prefix(field, prefix) if prefix else self.reader.lexicon(field)
        try:
            for t in raw:
                yield t.decode("utf-8") if isinstance(t, bytes) else t
        except DAMAGE_ERRORS as exc:
            raise self._read_error(exc) from exc

    @_guarded
    def terms_within(self, field: str, word: str, maxdist: int, prefix: int = 0) -> list[str]:
        """Indexed words at most ``maxdist`` edits (Levenshtein) from ``word`` that share its
        first ``prefix`` letters, in order: what Whoosh's ``terms_within`` returns, found by
        a scan of the words with that prefix (Whoosh walks its term file key by key, about
        20 ms a call even on a small index)."""
        if field not in self._fields:
            return []
        if prefix:
            candidates = self.terms(field, word[:prefix])
        elif field in self._lexicon:
            candidates = self._lexicon[field]
        else:
            candidates = self._lexicon[field] = self.terms(field)
        n = len(word)
        return [
            t
            for t in candidates
            if abs(len(t) - n) <= maxdist and within_distance(word, t, maxdist)
        ]

    @_guarded
    def doc_frequency(self, field: str, word: str) -> int:
        if field not in self._fields:
            return 0
        return self.reader.doc_frequency(field, word)

    @_guarded
    def frequency(self, field: str, word: str) -> int:
        """How often ``word`` occurs in ``field`` over all documents."""
        if field not in self._fields:
            return 0
        return int(self.reader.frequency(field, word))

    @_guarded
    def field_length(self, field: str) -> int:
        """The number of words in ``field`` over all documents."""
        return int(self.reader.field_length(field)) if self.leaves else 0

    # -- postings -------------------------------------------------------------------------

    @_guarded
    def postings(self, field: str, text: str) -> tuple[list[int], list[float]]:
        """Global doc numbers (deleted ones included) and term frequencies of one term."""
        ids: list[int] = []
        weights: list[float] = []
        for leaf, offset in self.leaves:
            try:
                m = leaf._terms.matcher(
                    field, leaf._text_to_bytes(field, text), leaf.schema[field].format
                )
            except (TermNotFound, KeyError):
                continue
            _read_all(m, ids, weights, offset)
        return ids, weights

    @_guarded
    def phrase(
        self,
        field: str,
        groups: list[list[str]],
        slop: int,
        counts: dict[int, int] | None = None,
    ) -> tuple[set[int], dict[str, tuple[list[int], list[float]]]]:
        """(live documents where a word of each group follows one of the group before, with
        at most ``slop`` words between them: what Whoosh's ``Phrase``/``Sequence`` with
        ``slop + 1`` match, found from the positions in the posting blocks; the postings of
        every word of the groups, as :meth:`postings` gives them, for scoring): one read of
        the blocks serves matching and scoring. ``counts``, when given, gets the number of
        the phrase's occurrences in each matching document (its term frequency)."""
        postings: dict[str, tuple[list[int], list[float]]] = {
            w: ([], []) for group in groups for w in group
        }
        if not self.leaves or not groups or not all(groups):
            return set(), postings
        found: set[int] = set()
        distance = slop + 1
        for leaf, offset in self.leaves:
            try:
                fmt = leaf.schema[field].format
            except KeyError:
                return set(), postings
            of_word: dict[str, dict[int, bytes]] = {}  # each word read once per segment
            for word in postings:
                read: dict[int, bytes] = {}
                of_word[word] = read
                try:
                    m = leaf._terms.matcher(field, leaf._text_to_bytes(field, word), fmt)
                except (TermNotFound, KeyError):
                    continue
                ids, weights = postings[word]
                for block_ids, block_weights, values in _blocks(m, with_values=True):
                    ids.extend([d + offset for d in block_ids] if offset else block_ids)
                    weights.extend(block_weights)
                    read.update(zip(block_ids, values or ()))
            per_group = [
                [of_word[w] for w in dict.fromkeys(group) if of_word[w]] for group in groups
            ]
            if not all(per_group):
                continue
            docsets = [set(maps[0]) if len(maps) == 1 else set().union(*maps) for maps in per_group]
            docsets.sort(key=len)
            candidates = docsets[0].intersection(*docsets[1:])
            decode = getattr(fmt, "decode_array", fmt.decode_positions)
            for doc in candidates:
                reach = _positions(decode, per_group[0], doc)
                for maps in per_group[1:]:
                    reach = _follow(reach, _positions(decode, maps, doc), distance)
                    if not reach:
                        break
                else:
                    found.add(doc + offset)
                    if counts is not None:
                        counts[doc + offset] = len(reach)
        return (found - self.deleted if found else found), postings

    # -- lengths (for BM25F) --------------------------------------------------------------

    @_guarded
    def lengths(self, field: str) -> bytes:
        """Each document's length in ``field`` as Whoosh's one-byte code (see LENGTH_TABLE)."""
        raw = self._lengths.get(field)
        if raw is None:
            parts = []
            for leaf, _offset in self.leaves:
                n = leaf.doc_count_all()
                col = leaf._perdoc._cached_reader(f"_{field}_len", LENGTHS_COLUMN)
                parts.append(_fixed_column_bytes(col, n, 1) if col is not None else bytes(n))
            raw = self._lengths[field] = b"".join(parts)
        return raw

    @_guarded
    def avg_length(self, field: str) -> float:
        if not self.leaves:
            return 1.0
        if not self.reader.schema[field].scorable:
            return 1.0
        return self.reader.field_length(field) / (self.doc_count_all or 1) or 1.0

    # -- columns --------------------------------------------------------------------------

    @_guarded
    def column(self, field: str) -> list:
        """Every document's value of a column, as the field translates it; a segment with no
        file for the column gives the column's default for each of its documents."""
        out: list = []
        for leaf, _offset in self.leaves:
            if not leaf._perdoc.has_column(field) and not _may_lack(leaf, field):
                raise FileNotFoundError(f"column {field} of segment {_name(leaf)}")
            out.extend(leaf.column_reader(field, translate=True))
        return out

    @_guarded
    def numeric(self, field: str) -> list:
        """Every document's value of a numeric column, read in bulk segment by segment. For a
        NUMERIC field a document without a value gives None; for a plain integer column, the
        column's default."""
        fobj = self.reader.schema[field] if self.leaves else None
        out: list = []
        if fobj is None:
            return out
        # NUMERIC columns hold "sortable" values (signed ones shifted up); plain columns raw ones
        shift = (1 << (fobj.bits - 1)) if getattr(fobj, "signed", False) else 0
        default = None if hasattr(fobj, "bits") else fobj.column_type._default
        for leaf, _offset in self.leaves:
            n = leaf.doc_count_all()
            if not leaf._perdoc.has_column(field):
                if not _may_lack(leaf, field):
                    raise FileNotFoundError(f"column {field} of segment {_name(leaf)}")
                out.extend([default] * n)
                continue
            col = leaf.column_reader(field, translate=False)
            width = getattr(col, "_fixedlen", None)
            if width is None:  # another column layout: value by value
                values: Any = [col[d] for d in range(n)]
            else:
                values = array(col._typecode)
                values.frombytes(_fixed_column_bytes(col, n, width))
                if sys.byteorder == "little":
                    values.byteswap()  # stored big-endian
            if shift:  # a stored 0 is a document without a value: the default, as in a
                # segment without the column (not the smallest number)
                out.extend(default if v == 0 else v - shift for v in values)
            else:
                out.extend(values)
        return out


def _name(leaf) -> str:
    return leaf._segment.segment_id()


def _may_lack(leaf, field: str) -> bool:
    """Whether a segment legitimately has no file for a column: Whoosh writes a column file
    only when some document of the segment has a value; the segment's own files are there."""
    storage = leaf._storage
    segment = leaf._segment
    return storage.file_exists(segment.make_filename(".trm"))


def within_distance(a: str, b: str, limit: int) -> bool:
    """Whether the Levenshtein distance of ``a`` and ``b`` is at most ``limit``."""
    if a == b:
        return True
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        best = i
        for j, cb in enumerate(b, 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            current.append(value)
            best = min(best, value)
        if best > limit:
            return False
        previous = current
    return previous[-1] <= limit


LENGTH_TABLE: list[int] = []


def length_table() -> list[int]:
    """Whoosh's one-byte length code -> length."""
    if not LENGTH_TABLE:
        from whoosh.util.numeric import byte_to_length

        LENGTH_TABLE.extend(byte_to_length(i) for i in range(256))
    return LENGTH_TABLE


def _read_all(m, ids: list[int], weights: list[float], offset: int) -> None:
    """Append every posting of a leaf matcher, a whole block at a time."""
    for block_ids, block_weights, _ in _blocks(m):
        ids.extend([d + offset for d in block_ids] if offset else block_ids)
        weights.extend(block_weights)


def _blocks(
    m, with_values: bool = False
) -> Iterator[tuple[list[int], Any, tuple[bytes, ...] | None]]:
    """(documents in the segment, their weights, their values if asked) for each block of a
    leaf matcher: Whoosh's blocks are decoded whole; any other matcher is one block read a
    posting at a time."""
    if isinstance(m, W3LeafMatcher):
        while m.is_active():
            if m._data is None:
                m._read_data()
            raw_ids, raw_weights = m._data[0], m._data[1]
            n = m._blocklength
            block_ids = list(raw_ids if m._byteids else itertools.accumulate(raw_ids))
            if raw_weights is None:
                block_weights: Any = [1.0] * n
            elif isinstance(raw_weights, float):
                block_weights = [raw_weights] * n
            else:
                block_weights = raw_weights
            if with_values:
                m._read_values()
            yield block_ids, block_weights, m._values if with_values else None
            m._next_block()
        return
    ids, weights, values = [], [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        if with_values:
            values.append(m.value())
        m.next()
    yield ids, weights, tuple(values) if with_values else None


def _positions(decode: Callable[[bytes], Any], maps: list[dict[int, bytes]], doc: int) -> Any:
    """The sorted positions in ``doc`` of a group's words (a map of document -> posting value
    for each word of the group)."""
    if len(maps) == 1:
        return decode(maps[0][doc])
    return sorted({p for m in maps if doc in m for p in decode(m[doc])})  # twins: one each


def _follow(before, after, distance: int) -> list[int]:
    """The positions of ``after`` that come 1 to ``distance`` places after one of ``before``
    (both sorted)."""
    if distance == 1:  # words side by side
        if len(before) > 8:
            before = set(before)
        return [p for p in after if p - 1 in before]
    out = []
    i, n = 0, len(before)
    for p in after:
        while i < n and before[i] < p - distance:
            i += 1
        if i < n and before[i] < p:
            out.append(p)
    return out


def _fixed_column_bytes(col, doccount: int, width: int) -> bytes:
    """The raw values of a fixed-width column reader in one read (defaults past its end)."""
    count = min(col._count, doccount)
    raw = col._dbfile.get(col._basepos, count * width)
    if len(raw) != count * width:
        raise EOFError(f"column file ends early ({len(raw)} of {count * width} bytes)")
    if count < doccount:
        raw += col._defaultbytes * (doccount - count)
    return bytes(raw)


# --------------------------------------------------------------------------------------------
# The codec


def _little(a: array) -> array:
    if sys.byteorder == "big":  # pragma: no cover - the index files are little-endian
        a.byteswap()
    return a


_USHORT = struct.Struct("!H")  # a field's number, before its words in the term file
_INT = struct.Struct("!i")  # a block's length (negative: the last block)
_TERM_INFO = struct.Struct("!BfIBBfII")  # Whoosh's W3TermInfo, before the extent
_EXTENT = struct.Struct("!qi")  # where a word's blocks start in the postings file, their size
_NO_LENGTH = 0  # length_to_byte(0): lengths are not tracked
_LITTLE_UINT = struct.Struct("<I")  # a packed value's length


class _PackedPostingsWriter(W3PostingsWriter):
    """Whoosh's posting writer, with a block's variable-size values (positions) written as
    one bytes object: their lengths (uint32, little-endian), then the values end to end."""

    _list_format = None  # the format write_list last wrote, and its fixed value size
    _list_fixed: int | None = None

    def _mini_values(self):
        fixed = self._format.fixed_value_size()
        if fixed is not None and fixed >= 0:
            return super()._mini_values()
        values = self._values
        return _little(array("I", map(len, values))).tobytes() + b"".join(values)

    def write_list(self, format_, ids, weights, values) -> bytes:
        """Write a word's whole posting list; return its term info (what the term file keeps
        for the word). The bytes are those of Whoosh's ``start_postings``, ``add_posting``
        for each posting and ``finish_postings`` (tests/test_postings.py compares the files),
        with lengths not tracked (the codec's ``length_stats`` is off) and blocks not
        compressed, made in one pass instead of a call per posting.

        ``ids``: ascending document numbers; ``weights``: one per posting; ``values``: one
        per posting, or none (a format whose values are all empty)."""
        count = len(ids)
        if values and len(values) != count:  # pragma: no cover - no format here does that
            raise ValueError("a posting list with empty and non-empty values mixed")
        if self._compression:  # pragma: no cover - the codec writes blocks uncompressed
            raise ValueError("write_list writes uncompressed blocks only")
        if format_ is not self._list_format:  # once per field
            self._list_format = format_
            self._list_fixed = format_.fixed_value_size()
        fixed = self._list_fixed
        packed = fixed is None or fixed < 0
        if count == 1:  # most words of a segment: one block of one posting, made directly
            weight = weights[0]
            small = array("f", weights)[0]  # the weight as the block keeps it
            if packed:
                mini_values = _LITTLE_UINT.pack(len(values[0])) + values[0]
            else:
                mini_values = None if fixed == 0 else values[0]
            data = pickle.dumps(((ids[0],), None if small == 1.0 else small, mini_values), 2)
            info = pickle.dumps((1, ids[0], max(0, weight), 0, 0, _NO_LENGTH), 2)
            blocks = b"".join((WHOOSH3_HEADER_MAGIC, _INT.pack(-len(info) - len(data)), info, data))
            postfile = self._postfile
            offset = postfile.tell()
            postfile.write(blocks)
            return _TERM_INFO.pack(
                False, small, 1, 0, _NO_LENGTH, max(0, weight), ids[0], ids[0]
            ) + _EXTENT.pack(offset, len(blocks))
        limit = self._blocklimit
        out = [WHOOSH3_HEADER_MAGIC]  # written with one call
        total = 0.0
        maxweight = 0
        for start in range(0, count, limit):
            end = start + limit
            block_ids = ids[start:end]
            chunk = weights[start:end]
            single = array("f", chunk)  # what Whoosh's block keeps, and sums
            total += sum(single)
            top = max(chunk)
            if top > maxweight:
                maxweight = top
            first = single[0]
            if first == 1.0 and single.count(1.0) == len(single):
                mini_weights = None
            elif single.count(first) == len(single):
                mini_weights = first
            else:
                mini_weights = tuple(single)
            if packed:
                block_values = values[start:end]
                lengths = _little(array("I", map(len, block_values))).tobytes()
                mini_values = lengths + b"".join(block_values)
            elif fixed == 0:
                mini_values = None
            else:
                mini_values = b"".join(values[start:end])
            if len(block_ids) == 1:
                deltas: tuple = (block_ids[0],)
            else:
                deltas = tuple([b - a for a, b in zip(itertools.chain((0,), block_ids), block_ids)])
            data = pickle.dumps((deltas, mini_weights, mini_values), 2)
            info = pickle.dumps((len(block_ids), block_ids[-1], max(0, top), 0, 0, _NO_LENGTH), 2)
            size = len(info) + len(data)
            out += (_INT.pack(-size if end >= count else size), info, data)
        postfile = self._postfile
        offset = postfile.tell()
        blocks = b"".join(out)
        postfile.write(blocks)
        return _TERM_INFO.pack(
            False, total, count, 0, _NO_LENGTH, maxweight, ids[0], ids[-1]
        ) + _EXTENT.pack(offset, len(blocks))


def unpack_values(packed: bytes, count: int) -> tuple[bytes, ...]:
    """The values of a block written by :class:`_PackedPostingsWriter`."""
    lengths = array("I")
    lengths.frombytes(packed[: 4 * count])
    _little(lengths)
    out = []
    start = 4 * count
    for n in lengths:
        out.append(packed[start : start + n])
        start += n
    if start != len(packed):
        raise ValueError(f"posting values take {start} bytes of {len(packed)}")
    return tuple(out)


class _PackedLeafMatcher(W3LeafMatcher):
    """Whoosh's block matcher, reading values packed by :class:`_PackedPostingsWriter`."""

    def _read_header(self):
        """Whoosh raises a bare ``Exception("Block tag error ...")`` for a garbled posting
        list: that is damage (a :class:`FileFormatError`), not an internal error."""
        try:
            super()._read_header()
        except Exception as exc:
            if type(exc) is Exception and str(exc).startswith("Block tag error"):
                raise FileFormatError(str(exc)) from exc
            raise

    def _read_values(self):
        if self._data is None:
            self._read_data()
        packed = self._data[2]
        fixed = self._fixedsize
        if isinstance(packed, bytes) and (fixed is None or fixed < 0):
            self._values = unpack_values(packed, self._blocklength)
        else:
            super()._read_values()


class _TermIndex(OrderedHashReader):
    """Whoosh's reader of a segment's term file, opened with one read of its 256-entry hash
    directory instead of 256 (Whoosh's ``HashReader.__init__`` otherwise): a segment opens in
    a tenth of the time, which a fresh search pays for every segment. The fields it sets are
    the ones ``HashReader.__init__`` sets, from the same bytes (tests/test_postings.py)."""

    def __init__(self, dbfile, length=None, magic=b"HSH3", startoffset=0):
        self.dbfile = dbfile
        self.startoffset = startoffset
        self.is_closed = False
        if length is None:
            dbfile.seek(0, os.SEEK_END)
            length = dbfile.tell() - startoffset
        head = dbfile.get(startoffset, 13)  # magic, hash type, two unused ints
        if head[:4] != magic:
            raise FileFormatError(f"Unknown file header {head[:4]!r}")
        self.hashtype = head[4]
        self.hashfn = _hash_functions[self.hashtype]
        self.startofdata = startoffset + 13
        exptr = startoffset + length - 4
        expos = exptr - dbfile.get_int(exptr)
        dbfile.seek(expos)
        self._read_extras()
        directory = dbfile.get(expos - _DIRECTORY.size * 256, _DIRECTORY.size * 256)
        if len(directory) != _DIRECTORY.size * 256:
            raise EOFError("the term file's hash directory is cut short")
        self.tables = list(_DIRECTORY.iter_unpack(directory))
        self.endofdata = self.tables[0][0]


_DIRECTORY = struct.Struct("!qi")  # a hash table's position and number of slots


class _TermsReader(W3TermsReader):
    def __init__(self, codec, dbfile, length, postfile):
        self._codec = codec
        self._dbfile = dbfile
        self._tindex = _TermIndex(dbfile, length)
        self._fieldmap = self._tindex.extras["fieldmap"]
        self._postfile = postfile
        self._fieldunmap = [None] * len(self._fieldmap)
        for fieldname, num in self._fieldmap.items():
            self._fieldunmap[num] = fieldname


class IndexCodec(W3Codec):
    """Whoosh's codec, tuned for how corpus-search reads its index.

    ``length_stats = False``: Whoosh otherwise reads back every document's field length for
    every posting it writes (700,000 column reads for 2,000 articles) to keep per-block length
    bounds, which only its block-quality skipping uses; corpus-search's engine scores from the
    lengths column instead. ``compression=0``: posting blocks are not zlib-compressed (at
    20,000 short stories: queries 12% and builds 7% faster, the index 26% larger; level 1 was
    the setting before, and blocks say how they were written, so older indexes still read).
    Positions are packed per block (see :class:`_PackedPostingsWriter`).

    Whoosh pickles the codec into each segment: the class stays importable as
    ``corpus_search.schema.IndexCodec`` too (indexes of schema 8 and before name it there).
    """

    length_stats = False

    def __init__(self, blocklimit=128, compression=0, inlinelimit=1):
        super().__init__(blocklimit=blocklimit, compression=compression, inlinelimit=inlinelimit)

    def postings_writer(self, dbfile, byteids=False):
        return _PackedPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def terms_reader(self, storage, segment):
        name = segment.make_filename(self.TERMS_EXT)
        length = storage.file_length(name)
        return _TermsReader(
            self,
            storage.open_file(name),
            length,
            segment.open_file(storage, self.POSTS_EXT),
        )

    def postings_reader(self, dbfile, terminfo, format_, term=None, scorer=None):
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term, scorer)
        offset, length = terminfo.extent()
        return _PackedLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# --------------------------------------------------------------------------------------------
# Writing


def folder_of(ix) -> Path:
    """The folder of an open Whoosh index."""
    return Path(ix.storage.folder)


def create_index(gen: Path, schema):
    """A new, empty Whoosh index in the folder ``gen``."""
    from whoosh.index import create_in

    return create_in(str(gen), schema)


WRITER_ARGS = {"limitmb": 256}
SEGMENTS_PER_TIER = 10
MAX_MERGE_TIER = 3  # only segments under 1,000 documents are merged automatically


def merge_small_segments(writer, segments):
    """Merge policy for commits: segments are grouped in tiers by size (a power of ten of
    documents), and a tier is merged into one segment once it holds ten segments.

    Whoosh's MERGE_SMALL merged everything into one segment when no "fibonacci" merge point
    was found: adding 100 files to a 100,000-article index rewrote all of it (190 s). Here a
    commit only merges segments of its own size class, and only small ones (under 1,000
    documents): merging is slow in Whoosh (about 4 ms a document; a 25,000-document merge
    took 100 s), so larger segments are left as they are, and ``index --rebuild``, which is
    faster than merging, compacts the index. Small updates fold into 1,000-document segments.
    """
    from whoosh.reading import SegmentReader

    tiers: dict[int, list] = {}
    for seg in segments:
        tier = len(str(max(1, seg.doc_count_all())))
        if tier <= MAX_MERGE_TIER:
            tiers.setdefault(tier, []).append(seg)
    for _tier, group in sorted(tiers.items()):
        if len(group) >= SEGMENTS_PER_TIER:
            for seg in group:
                reader = SegmentReader(writer.storage, writer.schema, seg)
                writer.add_reader(reader)
                reader.close()
            return [s for s in segments if s not in group]
    return segments


class _GroupedPostings:
    """The postings of a segment being written, grouped by field and word as documents come
    in: ``fields[name][word] = [docnums, weights, values]``.

    Whoosh's pool keeps one tuple per posting, sorts them all at the end (spilling runs to
    disk past its memory limit) and hands them to the posting writer one call at a time,
    which was ~45% of a writer process's time. Grouped, only the words are sorted, and each
    word's list is written in one pass (:meth:`_PackedPostingsWriter.write_list`). The
    files are the same, byte for byte (tests/test_postings.py). Memory: the postings of one
    commit (``batch_bytes`` of article text bounds it)."""

    def __init__(self):
        self.fields: dict[str, dict[bytes, list]] = {}
        self.fieldnames: set[str] = set()

    def add(self, item) -> None:
        """One posting ``(field, word, docnum, weight, value)``: what a merge adds."""
        fieldname, tbytes, docnum, weight, vbytes = item
        terms = self.terms_of(fieldname)
        entry = terms.get(tbytes)
        if entry is None:
            entry = terms[tbytes] = [array("I"), array("d"), []]
        entry[0].append(docnum)
        entry[1].append(weight)
        if vbytes:
            entry[2].append(vbytes)

    def terms_of(self, fieldname: str) -> dict[bytes, list]:
        terms = self.fields.get(fieldname)
        if terms is None:
            terms = self.fields[fieldname] = {}
            self.fieldnames.add(fieldname)
        return terms

    def write(self, schema, fieldwriter) -> None:
        """Write every posting list through a segment's field writer, fields and words in
        order (Whoosh's pool yields them sorted the same way)."""
        for fieldname in sorted(self.fields):
            terms = self.fields[fieldname]
            if not terms:
                continue
            fieldobj = schema[fieldname]
            fieldwriter.start_field(fieldname, fieldobj)
            write_list = fieldwriter._postwriter.write_list
            format_ = fieldobj.format
            prefix = _USHORT.pack(fieldwriter._fieldid)
            _add_terms(
                fieldwriter._tindex,
                (
                    (prefix + tbytes, write_list(format_, *terms[tbytes]))
                    for tbytes in sorted(terms)
                ),
            )
            fieldwriter.finish_field()

    def cleanup(self) -> None:
        self.fields = {}


def _add_terms(tindex, items) -> None:
    """Add ``(key, value)`` pairs, keys ascending, to a term file's ordered hash writer: what
    ``OrderedHashWriter.add`` does for each pair (the record written, its position indexed
    and hashed into its bucket), the records written with one call."""
    dbfile = tindex.dbfile
    pos = dbfile.tell()
    hashfn, buckets, index = tindex.hashfn, tindex.buckets, tindex.index
    lastkey = tindex.lastkey
    records = []
    for key, value in items:
        if key <= lastkey:
            raise ValueError(f"Keys must increase: {lastkey!r}..{key!r}")
        index.append(pos)
        h = hashfn(key)
        buckets[h & 255].append((h, pos))
        record = _RECORD_LENGTHS.pack(len(key), len(value)) + key + value
        records.append(record)
        pos += len(record)
        lastkey = key
    dbfile.write(b"".join(records))
    tindex.lastkey = lastkey


_RECORD_LENGTHS = struct.Struct("!ii")  # a term record's key and value lengths


def _write_columns(perdocwriter, buffered: dict[str, tuple]) -> None:
    """Give a segment's column writers the values of every document at once: what their
    ``add(docnum, value)`` does for each value in turn (gaps filled with the default), done
    in one pass for the two column kinds of this schema, value by value for any other. The
    column files are Whoosh's, byte for byte (tests/test_postings.py)."""
    for fieldname, (column, docnums, values) in buffered.items():
        if not perdocwriter._has_column(fieldname):
            perdocwriter._create_column(fieldname, column)
        writer = perdocwriter._get_column(fieldname)
        kind = type(writer)
        if kind is columns.VarBytesColumn.Writer:
            _add_var_bytes(writer, docnums, values)
        elif kind is columns.NumericColumn.Writer:
            _add_numbers(writer, docnums, values)
        else:  # pragma: no cover - no other column kind in this schema
            for docnum, value in zip(docnums, values, strict=True):
                writer.add(docnum, value)


def _add_var_bytes(writer, docnums, values) -> None:
    count, base = writer._count, writer._offset_base
    lengths, offsets = list(writer._lengths.array), list(writer._offsets.array)
    for docnum, value in zip(docnums, values, strict=True):
        if docnum > count:  # documents without a value: length 0 at the current offset
            lengths += [0] * (docnum - count)
            offsets += [base] * (docnum - count)
        lengths.append(len(value))
        offsets.append(base)
        base += len(value)
        count = docnum + 1
    writer._dbfile.write(b"".join(values))
    writer._lengths.array = _grown_array(lengths)
    writer._offsets.array = _grown_array(offsets)
    writer._count, writer._offset_base = count, base


def _grown_array(numbers: list[int]) -> array:
    """The array Whoosh's GrowableArray (starting as bytes, retyped to fit each number that
    overflows it, no 64-bit) ends with after appending ``numbers``."""
    top = max(numbers, default=0)
    code = "B" if top < 2**8 else "H" if top < 2**16 else "i" if top < 2**31 else "I"
    return array(code, numbers)


def _add_numbers(writer, docnums, values) -> None:
    default, blank, pack = writer._default, writer._defaultbytes, writer._pack
    count = writer._count
    out = []
    for docnum, value in zip(docnums, values, strict=True):
        if value == default:  # left for the filling, as add() leaves it
            continue
        if docnum > count:
            out.append(blank * (docnum - count))
        out.append(pack(value))
        count = docnum + 1
    writer._dbfile.write(b"".join(out))
    writer._count = count


def _writer_mixin():
    """The parts of Whoosh's SegmentWriter that corpus-search replaces (a mixin, made when
    first needed: Whoosh's writing module is not imported by a search)."""
    from whoosh.writing import SegmentWriter

    class GroupedWriter(SegmentWriter):
        """Whoosh's segment writer with postings grouped per word (:class:`_GroupedPostings`)
        and the per-document loop of ``add_document`` for this schema's field kinds."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            if self.codec.length_stats or any(
                f.separate_spelling() or f.vector for f in self.schema
            ):  # pragma: no cover - not this schema: Whoosh's own pool and loop
                raise ValueError("the grouped writer needs a codec without length stats")
            self.pool.cleanup()
            self.pool = _GroupedPostings()
            self._columns: dict[str, tuple] = {}  # field -> (column, docnums, values)

        def add_document(self, **fields):
            self._check_state()
            perdocwriter = self.perdocwriter
            schema = self.schema
            docnum = self.docnum
            # keys starting with "_" are Whoosh's per-document options (boosts, custom stored
            # values); without them (corpus-search passes none) the lookups are skipped
            options = any(name[0] == "_" for name in fields)
            docboost = self._doc_boost(fields) if options else 1.0
            fieldnames = sorted(name for name in fields if name[0] != "_")
            self._check_fields(schema, fieldnames)
            terms_of = self.pool.terms_of
            add_field = perdocwriter.add_field
            row: list = []  # this document's column values
            perdocwriter.start_doc(docnum)
            try:
                for fieldname in fieldnames:
                    value = fields[fieldname]
                    if value is None:
                        continue
                    field = schema[fieldname]
                    length = 0
                    if field.indexed:
                        boost = self._field_boost(fields, fieldname, docboost) if options else 1.0
                        terms = terms_of(fieldname)
                        for tbytes, freq, weight, vbytes in field.index(value):
                            length += freq
                            entry = terms.get(tbytes)
                            if entry is None:
                                entry = terms[tbytes] = [array("I"), array("d"), []]
                            entry[0].append(docnum)
                            entry[1].append(weight * boost)
                            if vbytes:
                                entry[2].append(vbytes)
                        if not field.scorable:
                            length = 0
                    custom = fields.get(f"_stored_{fieldname}", value) if options else value
                    if field.stored or length:  # add_field does nothing otherwise
                        add_field(fieldname, field, custom if field.stored else None, length)
                    column = field.column_type
                    if column and custom is not None:
                        row.append((fieldname, column, field.to_column_value(custom)))
            except Exception:
                perdocwriter.cancel_doc()
                raise
            perdocwriter.finish_doc()
            buffered = self._columns
            for fieldname, column, cv in row:  # kept until the segment is written
                entry = buffered.get(fieldname)
                if entry is None:
                    entry = buffered[fieldname] = (column, array("I"), [])
                entry[1].append(docnum)
                entry[2].append(cv)
            self._added = True
            self.docnum += 1

        def add_reader(self, reader):
            # a merge writes its documents' columns directly: ours go first, in order
            _write_columns(self.perdocwriter, self._columns)
            self._columns = {}
            super().add_reader(reader)

        def _flush_segment(self):
            _write_columns(self.perdocwriter, self._columns)
            self._columns = {}
            self.perdocwriter.close()
            self.pool.write(self.schema, self.fieldwriter)
            self.pool.cleanup()
            self.fieldwriter.close()

    return GroupedWriter


@functools.cache
def _grouped_writer_class():
    return _writer_mixin()


def open_writer(ix, procs: int, where: Path):
    """The writer of an indexing run: Whoosh's, with our codec, separate segment files
    (``compound=False``: opening an index reads less) and our merge policy; with
    ``procs > 1`` one whose helper processes die with their parent, ignore Ctrl-C and report
    their failures instead of losing their batch."""
    from whoosh.index import LockError

    from .errors import IndexLockedError

    kwargs = dict(WRITER_ARGS, compound=False, codec=IndexCodec())
    try:
        if procs > 1:
            writer = _ProcessWriter(ix, procs=procs, multisegment=True, **kwargs)
        else:
            writer = _grouped_writer_class()(ix, **kwargs)
    except LockError:
        raise IndexLockedError(f"the index at {where} is locked by another writer", where) from None
    writer.mergetype = merge_small_segments
    return writer


class WriterChildError(RuntimeError):
    """A writer process failed; ``errno`` is set when it was an OSError (a full disk)."""

    def __init__(self, message: str, err: int | None = None):
        super().__init__(message)
        self.errno = err


def _die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent dies; elsewhere, watch the parent."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_PDEATHSIG = 1
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: a thread that watches the parent
        import threading
        import time

        def watch() -> None:
            while os.getppid() == parent:
                time.sleep(0.5)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before we asked
        os._exit(1)


def _make_task_class():
    from whoosh.multiproc import SubWriterTask

    class _Task(SubWriterTask):
        """A writer child: dies with its parent, leaves Ctrl-C to it, reports its errors."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.parent = os.getpid()

        def run(self) -> None:
            _die_with_parent(self.parent)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent cancels the run
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            try:
                self._work()
            except BaseException as exc:  # noqa: BLE001 - reported to the parent, not printed
                with contextlib.suppress(Exception):
                    self.resultqueue.put(
                        ("error", f"{type(exc).__name__}: {exc}", getattr(exc, "errno", None)),
                        timeout=5,
                    )
                os._exit(1)

        def _work(self) -> None:
            """Whoosh's loop (``SubWriterTask.run``) with the grouped writer: take job
            files until told to finish, then write the segment and report it."""
            assert self.multisegment
            ix = self.storage.open_index(self.indexname)
            writer = self.writer = _grouped_writer_class()(ix, _lk=False, **self.kwargs)
            while self.running:
                job = self.jobqueue.get()
                if job is None:
                    break
                self._process_file(*job)
            if not self.running:
                writer.cancel()
                return
            segment = writer._finalize_segment()
            self.resultqueue.put((None, writer.pool.fieldnames, segment), timeout=5)

    return _Task


def _make_process_writer():
    from whoosh.multiproc import MpWriter

    task_class = _make_task_class()

    class ProcessWriter(MpWriter, _grouped_writer_class()):
        """The parent: documents go to the children; what it writes itself (a merge of
        small segments) goes through the grouped postings too."""

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)  # MpWriter's, which calls SegmentWriter's
            self.pool.cleanup()
            self.pool = _GroupedPostings()
            self._columns = {}

        def _new_task(self):
            task = task_class(
                self.storage,
                self.indexname,
                self.jobqueue,
                self.resultqueue,
                self.subargs,
                self.multisegment,
            )
            self.tasks.append(task)
            task.start()
            return task

        def cancel(self):
            for task in self.tasks:  # Whoosh only flags its own copy; stop the processes
                with contextlib.suppress(Exception):
                    task.kill()
                    task.join(5)
            self.tasks = []
            super().cancel()

        def _commit(self, mergetype, optimize, merge):
            if self.docbuffer:
                self._enqueue()
            for _task in self.tasks:
                self.jobqueue.put(None)
            finalsegments = self._merge_segments(mergetype, optimize, merge)
            results, failures = [], []
            for task in self.tasks:
                task.join()
            # Each child puts one result or one error before it exits (so after join() it is
            # there): read that many, not until the queue stays empty for a second (1 s lost
            # per commit); a child that died without a word costs the one timeout.
            for _task in self.tasks:
                try:
                    item = self.resultqueue.get(timeout=1)
                except Exception:  # noqa: BLE001 - queue.Empty: a child died silently
                    break
                if item and item[0] == "error":
                    failures.append(item)
                else:
                    results.append(item)
            lost = len(self.tasks) - len(results) - len(failures)
            if failures or lost:
                message = failures[0][1] if failures else f"{lost} writer process(es) died"
                err = failures[0][2] if failures else None
                raise WriterChildError(message, err)
            finalsegments += [s for _, _, s in results]
            if self._added:
                finalsegments.append(self._finalize_segment())
            else:
                self._close_segment()
            self._commit_toc(finalsegments)
            self._finish()

    return ProcessWriter


@functools.cache
def _process_writer_class():
    return _make_process_writer()


def _ProcessWriter(ix, **kwargs):
    return _process_writer_class()(ix, **kwargs)


def segment_files_in_use(gen: Path) -> set[str] | None:
    """The file names of the current commit of a generation folder, or None if unreadable."""
    from whoosh.filedb.filestore import FileStorage
    from whoosh.index import TOC

    storage = FileStorage(str(gen))
    try:
        toc = TOC.read(storage, "MAIN")
    except Exception:  # noqa: BLE001 - an unreadable TOC: keep everything
        return None
    names = {TOC._filename("MAIN", toc.generation)}
    ids = {s.segment_id() for s in toc.segments}
    for name in os.listdir(gen):
        if any(name.startswith(i + ".") or name.startswith(i + "_") for i in ids):
            names.add(name)
    return names


def remove_partial_files(gen: Path) -> int:
    """Delete what failed or killed writes left in a generation folder: segment files no
    commit refers to, temporary pools (``*.tmp``) and unfinished tables of contents. Call it
    with the indexing lock held. Returns the bytes freed."""
    import shutil

    keep = segment_files_in_use(gen)
    if keep is None:
        return 0
    freed = 0
    for name in os.listdir(gen):
        if name in keep or name.endswith("WRITELOCK") or name.startswith("."):
            continue
        p = gen / name
        with contextlib.suppress(OSError):
            if p.is_dir():
                freed += sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
                shutil.rmtree(p, ignore_errors=True)
            else:
                freed += p.stat().st_size
                p.unlink()
    return freed


def is_disk_full(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
