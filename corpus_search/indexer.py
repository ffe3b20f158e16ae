"""Building the index: create, update incrementally, rebuild; returns a report.

The folder's layout, metadata and lock are in :mod:`corpus_search.store`.

Safety: documents are committed in batches. A crash, a kill or Ctrl-C loses at most the batch
in progress; the index stays at its last commit, with no duplicates (a changed file is deleted
and re-added inside the same batch), and the next run finishes the job. A rebuild never touches
the generation searches are reading until it is complete.
"""

from __future__ import annotations

import contextlib
import errno
from collections import Counter
import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

from .articles import DEFAULT_MAX_BYTES, IGNORE_DEFAULT, iter_files, parse_bytes, read_bytes
from .errors import ArticleError, ConfigError, IndexDamagedError, IndexLockedError
from .profiles import ProfileSet, load_profiles
from .store import (  # noqa: F401 - IndexFolder and open_index are part of this module's API
    FORMAT,
    IndexFolder,
    IndexWriteError,
    open_index,
)

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


Progress = Callable[[Iterable, int], Iterable]


@dataclass
class IndexReport:
    """What an indexing run did. ``errors`` has one ``{path, reason}`` per skipped file."""

    index: str
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: int = 0
    bytes_indexed: int = 0
    elapsed: float = 0.0
    rebuilt: bool = False
    committed: int = 0  # documents written by the commits of this run (for interrupt messages)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    @property
    def docs_per_second(self) -> float:
        done = self.added + self.updated
        return done / self.elapsed if self.elapsed > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
            "errors": self.errors,
            "warnings": self.warnings,
            "documents": self.documents,
            "rebuilt": self.rebuilt,
            "elapsed_s": round(self.elapsed, 3),
            "docs_per_s": round(self.docs_per_second, 1),
            "mb_per_s": round(self.bytes_indexed / 1e6 / self.elapsed, 3) if self.elapsed > 0 else 0.0,
        }


# --------------------------------------------------------------------------------------------
# The folder

# --------------------------------------------------------------------------------------------
# Updating

@dataclass
class _Scope:
    root: Path          # absolute corpus root (ids are relative to it)
    given: Path         # what was walked (the root, a folder below it, or a file)
    prefix: str         # ids below ``given``: "" (whole root), "sub/" or an exact id
    exact: bool = False

    def covers(self, root: str, doc_id: str) -> bool:
        if root != str(self.root):
            return False
        return doc_id == self.prefix if self.exact else doc_id.startswith(self.prefix)


def _scopes(paths: Iterable[str | Path], known_roots: list[str]) -> list[_Scope]:
    scopes = []
    for p in paths:
        given = Path(os.path.abspath(p))
        root = None
        for r in known_roots:
            try:
                rel = given.relative_to(r)
            except ValueError:
                continue
            root = Path(r)
            break
        if root is None:
            root = given.parent if given.is_file() else given
            rel = given.relative_to(root)
        prefix = rel.as_posix()
        if prefix == ".":
            prefix = ""
        if given.is_file():
            scopes.append(_Scope(root, given, prefix, exact=True))
        else:
            scopes.append(_Scope(root, given, prefix + "/" if prefix else ""))
    return scopes


def _existing_state(ix, where: Path) -> dict[str, tuple[str, str, int, int]]:
    """id -> (root, sha256, size, mtime_ns) of every live document, read from the columns."""
    from .postings import Snapshot

    snap = Snapshot(ix, where)
    try:
        if not snap.doc_count:
            return {}
        ids, roots, shas = snap.column("id"), snap.column("root"), snap.column("sha")
        sizes, mtimes = snap.numeric("fsize"), snap.numeric("mtime")
        deleted = snap.deleted
        return {doc_id: (roots[d], shas[d], sizes[d], mtimes[d])
                for d, doc_id in enumerate(ids) if d not in deleted}
    finally:
        snap.close()


def update_index(
    index_path: str | Path,
    paths: Iterable[str | Path] | None = None,
    *,
    rebuild: bool = False,
    profiles: ProfileSet | None = None,
    ignore: Iterable[str] = IGNORE_DEFAULT,
    max_bytes: int = DEFAULT_MAX_BYTES,
    wait: float = 5.0,
    batch_size: int = 5000,
    commit_every: float = 60.0,
    procs: int = 0,
    progress: Progress | None = None,
    on_skip: Callable[[str, str], None] | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_commit: Callable[[int], None] | None = None,
) -> IndexReport:
    """Bring the index at ``index_path`` up to date with the files under ``paths``.

    ``paths`` default to the roots the index remembers. New files are added, changed ones
    (by content hash) replaced, gone ones removed; nothing changed means nothing written.
    With ``rebuild`` a fresh generation is built beside the current one and swapped in only
    when complete. Commits come every ``batch_size`` documents or ``commit_every`` seconds,
    whichever is first. ``on_skip(path, reason)`` is called once per file that is not indexed,
    ``on_commit(n)`` after each commit with the documents this run has committed so far.
    """
    started = time.monotonic()
    folder = IndexFolder(index_path)
    report = IndexReport(index=str(folder.path))
    profiles = profiles or load_profiles()
    folder.check_usable_folder()
    with folder.lock(wait):
        try:
            meta = folder.read_meta()
        except IndexDamagedError:
            if not rebuild:
                raise
            meta = None  # a rebuild starts afresh; it needs the corpus folders given again
            if not paths:
                raise ConfigError(f"the index at {folder.path} is damaged and its list of corpus "
                                  "folders is lost: run 'corpus-search index --rebuild PATH...'") from None
        if meta is not None and not rebuild:
            meta = folder.require_meta()  # refuses another schema version
        known_roots = list(meta.get("roots", [])) if meta else []
        paths = list(paths or [])
        if not paths:
            if not known_roots:
                raise ConfigError("no corpus folder given and none remembered: "
                                  "run 'corpus-search index PATH' (or set roots: in the config)")
            paths = known_roots
        scopes = _scopes(paths, [] if rebuild and paths != known_roots else known_roots)
        # A new root that contains a remembered one takes it over: the documents of the
        # remembered root get ids relative to the new root, so they are removed and re-added.
        subsumed = {r for r in known_roots for sc in scopes
                    if r != str(sc.root) and Path(r).is_relative_to(sc.root)}
        roots_after = sorted({str(s.root) for s in scopes}
                             | (set() if rebuild else set(known_roots) - subsumed))

        if meta is None or rebuild:
            ix, gen_name = _new_generation(folder, meta)
            state: dict[str, tuple[str, str, int, int]] = {}
            if meta is None:  # a first build commits into place batch by batch
                meta = _fresh_meta(gen_name, roots_after)
                folder.write_meta(meta)
                target_is_live = True
            else:
                target_is_live = False
        else:
            ix = folder.open_generation(folder.generation_path(meta))
            gen_name = meta["generation"]
            state = _existing_state(ix, folder.path)
            if subsumed:
                retired = {doc_id for doc_id, (root, *_) in state.items() if root in subsumed}
                state = {k: v for k, v in state.items() if k not in retired}
                subsumed = retired
            target_is_live = True

        try:
            _run(ix, folder, scopes, state, report, profiles, ignore, max_bytes, batch_size,
                 procs, progress, on_skip, on_warning, on_commit,
                 retired=subsumed if target_is_live and meta is not None else set(),
                 commit_every=commit_every)
        except BaseException:
            if not target_is_live:
                shutil.rmtree(folder.path / gen_name, ignore_errors=True)
            raise

        if rebuild and not target_is_live:
            old = meta.get("generation")
            meta = dict(meta, generation=gen_name, roots=roots_after, schema_version=_version(),
                        previous=old)
            meta["updated"] = _now()
            folder.write_meta(meta)
            report.rebuilt = True
            _clean_generations(folder, keep={gen_name, old})
        elif report.changed or meta.get("roots") != roots_after:
            meta = dict(meta, roots=roots_after, updated=_now())
            folder.write_meta(meta)
        with ix.reader() as reader:
            report.documents = reader.doc_count()
    report.elapsed = time.monotonic() - started
    return report


def _version() -> int:
    from .schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _fresh_meta(gen_name: str, roots: list[str]) -> dict[str, Any]:
    return {"format": FORMAT, "schema_version": _version(), "generation": gen_name,
            "roots": roots, "created": _now(), "updated": _now()}


def _new_generation(folder: IndexFolder, meta: dict[str, Any] | None):
    from whoosh.index import create_in

    from .schema import build_schema

    existing = [p.name for p in folder.path.glob("gen-*")]
    numbers = [int(n[4:]) for n in existing if n[4:].isdigit()]
    gen_name = f"gen-{max(numbers, default=0) + 1:06d}"
    gen = folder.path / gen_name
    try:
        gen.mkdir(parents=True)
        return create_in(str(gen), build_schema()), gen_name
    except OSError as exc:
        raise IndexWriteError(f"cannot create the index in {folder.path} ({exc.strerror})") from None


def _clean_generations(folder: IndexFolder, keep: set) -> None:
    for p in folder.path.glob("gen-*"):
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


@dataclass
class _Todo:
    path: Path
    root: Path
    doc_id: str
    size: int
    mtime_ns: int
    data: bytes | None = None
    replaces: bool = False


def _run(ix, folder, scopes, state, report, profiles, ignore, max_bytes, batch_size, procs,
         progress, on_skip, on_warning, on_commit, retired=frozenset(),
         commit_every: float = 60.0) -> None:
    def skip(path: str, reason: str) -> None:
        report.skipped += 1
        report.errors.append({"path": path, "reason": reason})
        if on_skip:
            on_skip(path, reason)

    # 1. Walk, and decide what is new, changed, unchanged, gone.
    walk_errors: list[ArticleError] = []
    seen: set[str] = set()
    todo: list[_Todo] = []
    for scope in scopes:
        for path, _ in iter_files([scope.given], ignore, walk_errors):
            doc_id = path.relative_to(scope.root).as_posix()
            if doc_id in seen:
                continue
            seen.add(doc_id)
            try:
                st = path.stat()
            except OSError as exc:
                skip(str(path), f"cannot be read ({exc.strerror})")
                continue
            old = state.get(doc_id)
            if old is not None and old[0] != str(scope.root):
                skip(str(path), f"has the same id {doc_id!r} as a file under {old[0]}; "
                                "ids must be unique across corpus folders")
                continue
            if old is not None and old[2] == st.st_size and old[3] == st.st_mtime_ns:
                report.unchanged += 1
                continue
            todo.append(_Todo(path, scope.root, doc_id, st.st_size, st.st_mtime_ns,
                              replaces=old is not None))
    for err in walk_errors:
        skip(err.path, err.reason)
    gone = [doc_id for doc_id, (root, *_rest) in state.items()
            if doc_id not in seen and any(s.covers(root, doc_id) for s in scopes)]

    # 2. Read what may have changed; a touched file with the same bytes is unchanged.
    pending: list[_Todo] = []
    for item in todo:
        if item.replaces:
            try:
                item.data = read_bytes(item.path, max_bytes)
            except ArticleError as exc:
                skip(exc.path, exc.reason)
                gone.append(item.doc_id)  # it was an article; it is not one any more
                continue
            if hashlib.sha256(item.data).hexdigest() == state[item.doc_id][1]:
                report.unchanged += 1
                continue
        pending.append(item)

    if not pending and not gone and not retired:
        return
    if procs <= 0:  # automatic: the two-process writer pays off only for large batches
        procs = 2 if len(pending) > 1000 and (os.cpu_count() or 1) > 1 else 1

    # 3. Write, committing in batches. The writer opens on the first change, so a run whose
    # only candidates are files that fail again writes nothing.
    batch = _Batches(ix, folder, procs, batch_size, report, on_commit, commit_every)
    try:
        for doc_id in gone:
            batch.writer().delete_by_term("id", doc_id)
            report.removed += 1
        for doc_id in retired:  # under a root another root took over: re-added with new ids
            batch.writer().delete_by_term("id", doc_id)
            if doc_id not in seen:
                report.removed += 1
        items: Iterable[_Todo] = pending
        if progress is not None:
            items = progress(pending, len(pending))
        from .schema import article_document

        for item in items:
            try:
                data = item.data if item.data is not None else read_bytes(item.path, max_bytes)
                article = parse_bytes(data, item.path, root=item.root, profiles=profiles)
            except (ArticleError, Exception) as exc:  # noqa: BLE001 - one bad file never stops a run
                if isinstance(exc, ArticleError):
                    skip(exc.path, exc.reason)
                else:
                    skip(str(item.path), f"could not be parsed ({type(exc).__name__}: {exc})")
                if item.replaces:
                    batch.writer().delete_by_term("id", item.doc_id)
                    report.removed += 1
                continue
            item.data = None
            for w in article.warnings:
                report.warnings.append(w)
                if on_warning:
                    on_warning(w)
            doc = article_document(article, item.size, item.mtime_ns)
            doc["root"] = str(item.root)
            doc["path"] = str(item.root / item.doc_id)
            writer = batch.writer()
            if item.replaces:
                writer.delete_by_term("id", item.doc_id)
                report.updated += 1
            else:
                report.added += 1
            writer.add_document(**doc)
            report.bytes_indexed += len(article.body.encode("utf-8"))
            batch.added_one()
        batch.commit()
    except BaseException:
        batch.cancel()
        raise


class _Batches:
    """Opens a writer when first needed and commits every ``size`` documents."""

    def __init__(self, ix, folder, procs, size, report, on_commit, seconds=60.0):
        self.ix, self.folder, self.procs, self.size = ix, folder, procs, size
        self.report, self.on_commit = report, on_commit
        self.seconds = seconds
        self._writer = None
        self.in_batch = 0
        self.started = time.monotonic()

    def writer(self):
        if self._writer is None:
            self._writer = _writer(self.ix, self.folder, self.procs)
        return self._writer

    def added_one(self) -> None:
        self.in_batch += 1
        if self.in_batch >= self.size or time.monotonic() - self.started >= self.seconds:
            self.commit()

    def commit(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        _commit(writer, self.folder)
        self.report.committed += self.in_batch
        self.in_batch = 0
        self.started = time.monotonic()
        if self.on_commit:
            self.on_commit(self.report.committed)

    def cancel(self) -> None:
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.cancel()
            self._writer = None


def _writer(ix, folder: IndexFolder, procs: int):
    from whoosh.index import LockError

    from .schema import IndexCodec

    kwargs = dict(WRITER_ARGS, compound=False, codec=IndexCodec())
    if procs > 1:
        kwargs.update(procs=procs, multisegment=True)
    try:
        return ix.writer(**kwargs)
    except LockError:
        raise IndexLockedError(f"the index at {folder.path} is locked by another writer", folder.path) from None
    except OSError as exc:
        raise _write_error(folder, exc) from None


def _commit(writer, folder: IndexFolder) -> None:
    try:
        writer.commit(mergetype=merge_small_segments)
    except OSError as exc:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise _write_error(folder, exc) from None


def _write_error(folder: IndexFolder, exc: OSError) -> IndexWriteError:
    why = "the disk is full" if exc.errno == errno.ENOSPC else (exc.strerror or str(exc))
    return IndexWriteError(f"could not write the index at {folder.path}: {why}; "
                           "the index is unchanged since its last commit")


# --------------------------------------------------------------------------------------------
# Stats

def index_stats(index_path: str | Path) -> dict[str, Any]:
    """Documents, size on disk, version, roots, counts per source and language, date range."""

    from .facets import ColumnCache
    from .postings import Snapshot

    folder = IndexFolder(index_path)
    meta = folder.require_meta()
    gen = folder.generation_path(meta)
    snap = Snapshot(folder.open_generation(gen), folder.path)
    try:
        size = sum(f.stat().st_size for f in gen.iterdir() if f.is_file())
        cache = ColumnCache(snap)
        live = sorted(snap.live())
        sources, langs, days = (cache.values(c) for c in ("source", "lang", "day"))
        by_source = Counter(sources[d] or "(none)" for d in live)
        by_lang = Counter(langs[d] or "(none)" for d in live)
        dated = [days[d] for d in live if days[d]]
        first, last = (min(dated), max(dated)) if dated else (None, None)
        docs = snap.doc_count
    finally:
        snap.close()

    def iso(d):
        return f"{d // 10000:04d}-{d // 100 % 100:02d}-{d % 100:02d}" if d else None

    return {
        "index": str(folder.path),
        "documents": docs,
        "size_bytes": size,
        "schema_version": meta.get("schema_version"),
        "generation": meta.get("generation"),
        "created": meta.get("created"),
        "updated": meta.get("updated"),
        "roots": meta.get("roots", []),
        "sources": dict(sorted(by_source.items(), key=lambda kv: (-kv[1], kv[0]))),
        "languages": dict(sorted(by_lang.items(), key=lambda kv: (-kv[1], kv[0]))),
        "date_range": {"first": iso(first), "last": iso(last)},
    }
