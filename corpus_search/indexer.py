"""Building the index: create, update incrementally, rebuild; returns a report.

The folder's layout, metadata and lock are in :mod:`corpus_search.store`.

Safety: documents are committed in batches. A crash, a kill or Ctrl-C loses at most the batch
in progress; the index stays at its last commit, with no duplicates (a changed file is deleted
and re-added inside the same batch), and the next run finishes the job. A rebuild never touches
the generation searches are reading until it is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .articles import (
    DEFAULT_MAX_BYTES,
    IGNORE_DEFAULT,
    INCLUDE_DEFAULT,
    iter_files,
    parse_bytes,
    read_bytes,
    text_path,
)
from .errors import ArticleError, ConfigError, CorpusSearchError, IndexDamagedError
from .postings import WriterChildError
from .profiles import ProfileSet, load_profiles
from .store import (
    FORMAT,
    IndexFolder,
    IndexWriteError,
)

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
    ignored: int = 0  # hidden files and folders, editor backups (exclude: patterns)
    errors: list[dict[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    documents: int = 0
    bytes_indexed: int = 0
    elapsed: float = 0.0
    rebuilt: bool = False
    watch: dict[str, int] = field(default_factory=dict)  # watched query -> new matches
    committed: int = 0  # documents written by the commits of this run (for interrupt messages)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def skipped_by_reason(self) -> dict[str, int]:
        """How many files (or records) were skipped for each kind of reason, most first."""
        counts = Counter(reason_kind(e["reason"]) for e in self.errors)
        return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))

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
            "skipped_by_reason": self.skipped_by_reason(),
            "ignored": self.ignored,
            "errors": self.errors,
            "warnings": self.warnings,
            "documents": self.documents,
            "rebuilt": self.rebuilt,
            "watch": self.watch,
            "elapsed_s": round(self.elapsed, 3),
            "docs_per_s": round(self.docs_per_second, 1),
            "mb_per_s": round(self.bytes_indexed / 1e6 / self.elapsed, 3)
            if self.elapsed > 0
            else 0.0,
        }


def reason_kind(reason: str) -> str:
    """A skip's reason without what is particular to the file: ``too large (3.4 MB; ...)``
    -> ``too large``; a file type keeps its extension: ``not a known article type (.pdf)``."""
    import re

    m = re.match(r"not a known article type \([^)]*\)", reason)
    if m:
        return m.group()
    short = re.split(r" \(|;|: ", reason, maxsplit=1)[0]
    return re.sub(r"\d+", "N", short).strip()


# --------------------------------------------------------------------------------------------
# Updating


@dataclass
class _Scope:
    root: Path  # absolute corpus root (ids are relative to it)
    given: Path  # what was walked (the root, a folder below it, or a file)
    prefix: str  # ids below ``given``: "" (whole root), "sub/" or an exact id
    exact: bool = False

    @property
    def root_text(self) -> str:
        return text_path(self.root)

    def covers(self, root: str, doc_id: str) -> bool:
        if root != self.root_text:
            return False
        return doc_id == self.prefix if self.exact else doc_id.startswith(self.prefix)


def _scopes(paths: Iterable[str | Path], known_roots: list[str]) -> list[_Scope]:
    """What each given path means: a folder below a remembered root is part of that root; a
    file is its own scope (its id is its name, its root the folder holding it); a missing
    path is an error, before anything is written."""
    folder_roots = [r for r in known_roots if not os.path.isfile(r)]
    scopes = []
    for p in paths:
        given = Path(os.path.abspath(p))
        if not given.exists():
            hint = (  # the hint only for a folder the index remembers
                f"; to stop indexing it, run 'corpus-search roots --forget {text_path(p)}'"
                if str(given) in known_roots
                else ""
            )
            raise ConfigError(f"{text_path(p)} does not exist{hint}")
        root = None
        for r in folder_roots:
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
            scopes.append(_Scope(root, given, text_path(prefix), exact=True))
        else:
            scopes.append(_Scope(root, given, text_path(prefix + "/") if prefix else ""))
    return scopes


def _remembered(scopes: list[_Scope], known: list[str]) -> list[str]:
    """The roots an index remembers after a run: each scope's root folder, or the file itself
    when a file outside every remembered root was given (so a later plain ``index`` reads
    that file again, not its whole folder)."""
    out = set()
    for s in scopes:
        inside = any(
            s.given != Path(r) and s.given.is_relative_to(r) for r in known if not os.path.isfile(r)
        )
        out.add(str(s.given) if s.exact and not inside else str(s.root))
    return sorted(out)


State = dict[str, tuple[str, str, int, int, str]]
MAX_KEPT_SKIPS = 1000  # bad records of an unchanged record file reported again on each run


def _existing_state(ix, where: Path) -> State:
    """id -> (root, sha256, size, mtime_ns, file) of every live document, read from the
    columns; ``file`` is the id of a record's file ("" for a one-article file)."""
    from .postings import Snapshot

    snap = Snapshot(ix, where)
    try:
        if not snap.doc_count:
            return {}
        ids, roots, shas = snap.column("id"), snap.column("root"), snap.column("sha")
        sizes, mtimes = snap.numeric("fsize"), snap.numeric("mtime")
        files = snap.column("file")
        deleted = snap.deleted
        return {
            doc_id: (roots[d], shas[d], sizes[d], mtimes[d], files[d])
            for d, doc_id in enumerate(ids)
            if d not in deleted
        }
    finally:
        snap.close()


def _records_by_file(state: State) -> dict[str, list[str]]:
    """The ids of each record file's records."""
    out: dict[str, list[str]] = {}
    for doc_id, entry in state.items():
        if entry[4]:
            out.setdefault(entry[4], []).append(doc_id)
    return out


@dataclass
class IndexOptions:
    """How an indexing run reads files and writes the index."""

    profiles: ProfileSet | None = None
    ignore: Iterable[str] = IGNORE_DEFAULT
    include: Iterable[str] = INCLUDE_DEFAULT
    max_bytes: int = DEFAULT_MAX_BYTES
    wait: float = 5.0
    batch_size: int = 20_000  # documents a commit, at most
    batch_bytes: int = 25_000_000  # article text a commit, at most (a writer's memory)
    commit_every: float = 60.0
    procs: int = 0  # 0: two writer processes when over 1,000 files change, else one
    progress: Progress | None = None
    on_skip: Callable[[str, str], None] | None = None
    on_warning: Callable[[str], None] | None = None
    on_commit: Callable[[int], None] | None = None


def update_index(
    index_path: str | Path,
    paths: Iterable[str | Path] | None = None,
    *,
    rebuild: bool = False,
    **options: Any,
) -> IndexReport:
    """Bring the index at ``index_path`` up to date with the files under ``paths``.

    ``paths`` default to the roots the index remembers. New files are added, changed ones
    (by content hash) replaced, gone ones removed; nothing changed means nothing written.
    With ``rebuild`` a fresh generation is built beside the current one and swapped in only
    when complete. ``options`` are the fields of :class:`IndexOptions`: commits come every
    ``batch_size`` documents, ``batch_bytes`` of article text or ``commit_every`` seconds;
    ``on_skip(path, reason)`` is called once per file that is not indexed, ``on_commit(n)``
    after each commit with the documents this run has committed so far.
    """
    return IndexRun(IndexFolder(index_path), IndexOptions(**options)).run(paths, rebuild)


@dataclass(slots=True)
class _Todo:
    """A file to read: kept for every new or changed file until it is indexed, so it is
    small (its path as text, its root shared with the other files of its scope)."""

    path: str
    root: Path
    doc_id: str
    size: int
    mtime_ns: int
    data: bytes | None = None
    replaces: bool = False
    many: bool = False  # a file of many records (JSON lines, CSV, WARC...): doc_id is the file's


@dataclass
class _Plan:
    """What a run will do, decided before anything is written."""

    pending: list[_Todo] = field(default_factory=list)  # to parse and add (or replace)
    gone: list[str] = field(default_factory=list)  # ids to remove
    retired: set[str] = field(default_factory=set)  # ids re-added under a new root
    seen: set[str] = field(default_factory=set)
    state: State = field(default_factory=dict)  # what the index holds
    by_file: dict[str, list[str]] = field(default_factory=dict)  # record ids per record file

    def __bool__(self) -> bool:
        return bool(self.pending or self.gone or self.retired)


class IndexRun:
    """One indexing run: lock, :meth:`plan` (walk and compare), :meth:`write` (in batches),
    then record the roots. Nothing already committed is lost when it fails or is killed."""

    def __init__(self, folder: IndexFolder, options: IndexOptions):
        self.folder = folder
        self.options = options
        self.profiles = options.profiles or load_profiles()
        self.report = IndexReport(index=str(folder.path))
        #: record file id -> [root, size, mtime_ns, records] as indexed when the run started,
        #: and as this run leaves them (written to the metadata after the last commit: a
        #: killed run leaves the old entries, so its files are read again)
        self.files_before: dict[str, list] = {}
        self.files_after: dict[str, list] = {}
        self.touched: set[str] = set()  # ids added or changed by this run (watched queries)

    # -- the run --------------------------------------------------------------------------

    def run(self, paths: Iterable[str | Path] | None, rebuild: bool) -> IndexReport:
        started = time.monotonic()
        folder = self.folder
        folder.check_usable_folder()
        try:  # the roots the index remembers, for the message about a path that has gone
            remembered = list((folder.read_meta() or {}).get("roots", []))
        except CorpusSearchError:
            remembered = []
        _scopes(paths or [], remembered)  # a missing path: an error before anything is written
        with folder.lock(self.options.wait):
            meta = self._read_meta(rebuild, paths)
            if meta is not None:  # what killed rebuilds left: generations nobody reads
                _clean_generations(folder, keep={meta.get("generation"), meta.get("previous")})
            known = list(meta.get("roots", [])) if meta else []
            paths = list(paths or []) or known
            if not paths:
                raise ConfigError(
                    "no corpus folder given and none remembered: "
                    "run 'corpus-search index PATH' (or set roots: in the config)"
                )
            scopes = _scopes(paths, [] if rebuild and paths != known else known)
            roots = [s.root_text for s in scopes]
            # A new root that contains a remembered one takes it over: the documents of the
            # remembered root get ids relative to the new root, so they are removed and re-added.
            subsumed = {  # (a file given on its own takes over nothing)
                r
                for r in known
                for sc in scopes
                if not sc.exact and r != str(sc.root) and Path(r).is_relative_to(sc.root)
            }
            remembered = _remembered(scopes, known)
            roots_after = sorted(set(remembered) | (set() if rebuild else set(known) - subsumed))

            fresh = meta is None or rebuild
            if fresh:
                ix, gen_name = _new_generation(folder)
                state: State = {}
                if meta is None:  # a first build commits into place batch by batch
                    meta = _fresh_meta(gen_name, roots_after)
                    folder.write_meta(meta)
                    target_is_live = True
                else:
                    target_is_live = False
            else:
                assert meta is not None  # not fresh: there is an index
                gen_name = meta["generation"]
                _remove_partial_files(folder.path / gen_name)  # what a killed run left
                ix = folder.open_generation(folder.path / gen_name)
                state = _existing_state(ix, folder.path)
                target_is_live = True
            retired: set[str] = set()
            if subsumed and not fresh:
                retired = {i for i, (root, *_) in state.items() if root in subsumed}
                state = {k: v for k, v in state.items() if k not in retired}
            if not fresh:
                self.files_before = dict(meta.get("record_files") or {}) if meta else {}
            try:
                plan = self.plan(scopes, state, roots)
                plan.retired = retired
                self.write(ix, plan)
            except BaseException:
                if not target_is_live:
                    shutil.rmtree(folder.path / gen_name, ignore_errors=True)
                raise

            write_form_tables(ix, folder.path)  # any a killed run or an older version left out
            assert meta is not None
            record_files = {  # entries of files this run did not walk are kept
                k: v
                for k, v in self.files_before.items()
                if not any(s.covers(v[0], k) for s in scopes) and (v[0] not in subsumed)
            } | self.files_after
            with ix.reader() as reader:
                self.report.documents = reader.doc_count()
                # what a fresh search would otherwise merge from every segment's terms
                languages = _languages_of(reader)
            if rebuild and not target_is_live:
                old = meta.get("generation")
                meta = dict(
                    meta,
                    generation=gen_name,
                    roots=roots_after,
                    schema_version=_version(),
                    previous=old,
                    updated=_now(),
                    languages=languages,
                    record_files=record_files,
                )
                folder.write_meta(meta)
                self.report.rebuilt = True
                _clean_generations(folder, keep={gen_name, old})
            elif (
                self.report.changed
                or meta.get("roots") != roots_after
                or meta.get("languages") != languages
                or (meta.get("record_files") or {}) != record_files
            ):
                meta = dict(
                    meta,
                    roots=roots_after,
                    updated=_now(),
                    languages=languages,
                    record_files=record_files,
                )
                folder.write_meta(meta)
            self.report.watch = self._watch()
        self.report.elapsed = time.monotonic() - started
        return self.report

    def _watch(self) -> dict[str, int]:
        """The new matches of each watched query among what this run added or changed."""
        from . import watch

        if not (self.folder.path / watch.WATCHES).exists():
            return {}

        def matching(query: str) -> set[str]:
            from .search import CorpusIndex

            with CorpusIndex(self.folder.path) as ix:
                return ix.matching_ids(query)

        return watch.record_run(self.folder.path, self.touched, matching)

    def _read_meta(self, rebuild: bool, paths) -> dict[str, Any] | None:
        folder = self.folder
        try:
            meta = folder.read_meta()
        except IndexDamagedError:
            if not rebuild:
                raise
            if not paths:
                raise ConfigError(
                    f"the index at {folder.path} is damaged and its list of corpus "
                    "folders is lost: run 'corpus-search index --rebuild PATH...'"
                ) from None
            return None  # a rebuild starts afresh
        if meta is not None and not rebuild:
            meta = folder.require_meta()  # refuses another schema version
        return meta

    def skip(self, path: str, reason: str) -> None:
        self.report.skipped += 1
        self.report.errors.append({"path": text_path(path), "reason": reason})
        if self.options.on_skip:
            self.options.on_skip(text_path(path), reason)

    # -- plan -----------------------------------------------------------------------------

    def plan(self, scopes: list[_Scope], state: State, roots: list[str]) -> _Plan:
        """Walk, and decide what is new, changed, unchanged and gone. Every file under the
        scopes ends in the plan, as unchanged, or as a skip with its reason."""
        from .formats import MANY, file_kind

        report, opts = self.report, self.options
        plan = _Plan(state=state, by_file=_records_by_file(state))
        walk_errors: list[ArticleError] = []
        passed_over: list[ArticleError] = []
        ignored: list[str] = []
        # id -> the file that has it in this run, to name it when a file of another scope
        # has the same id (one scope cannot give an id twice but for escaped names)
        owner: dict[str, str] | None = {} if len(scopes) > 1 else None
        todo: list[_Todo] = []
        # in the order of their roots, so the same file wins an id whatever the order given
        for scope in sorted(scopes, key=lambda s: (s.root_text, str(s.given))):
            for path, _ in iter_files(
                [scope.given], opts.ignore, walk_errors, opts.include, passed_over, ignored
            ):
                doc_id = text_path(path.relative_to(scope.root).as_posix())
                if doc_id in plan.seen:
                    other = owner.get(doc_id) if owner is not None else None
                    if other != str(path):
                        self.skip(
                            str(path),
                            f"has the same id {doc_id!r} as "
                            f"{text_path(other) if other else 'another file'}; ids are "
                            "paths relative to their corpus folder, so index the folder "
                            "that holds both instead",
                        )
                    continue
                try:
                    st = path.stat()
                except OSError as exc:
                    self.skip(str(path), f"cannot be read ({exc.strerror})")
                    continue
                old = state.get(doc_id)
                many = file_kind(path.name).kind in MANY
                old_ids = plan.by_file.get(doc_id, []) if many else []
                if many and old_ids:
                    if old is not None:  # once one article, now a file of records
                        plan.gone.append(doc_id)
                    old = state[old_ids[0]]
                if old is not None and old[0] != scope.root_text and old[0] not in roots:
                    self.skip(
                        str(path),
                        f"has the same id {doc_id!r} as a file under {old[0]}; "
                        "ids must be unique across corpus folders",
                    )
                    continue
                plan.seen.add(doc_id)
                if owner is not None:
                    owner[doc_id] = str(path)  # not the Path: a tenth of its memory
                if many:
                    plan.seen.update(old_ids)  # each record is judged when the file is read
                    known = self.files_before.get(doc_id)
                    now = [scope.root_text, st.st_size, st.st_mtime_ns, len(old_ids)]
                    if known is not None and known[:4] == now:
                        report.unchanged += len(old_ids)
                        self.files_after[doc_id] = known
                        for where, reason in known[4] if len(known) > 4 else ():
                            self.skip(where, reason)  # reported on every run, as files are
                        continue
                    todo.append(
                        _Todo(
                            str(path),
                            scope.root,
                            doc_id,
                            st.st_size,
                            st.st_mtime_ns,
                            replaces=bool(old_ids),
                            many=True,
                        )
                    )
                    continue
                if old is not None and old[2] == st.st_size and old[3] == st.st_mtime_ns:
                    report.unchanged += 1
                    continue
                todo.append(
                    _Todo(
                        str(path),
                        scope.root,
                        doc_id,
                        st.st_size,
                        st.st_mtime_ns,
                        replaces=old is not None,
                    )
                )
        for err in walk_errors:
            self.skip(err.path, err.reason)
        for err in passed_over:
            self.skip(err.path, err.reason)
        report.ignored += len(ignored)
        plan.gone += [
            doc_id
            for doc_id, (root, _sha, _size, _mtime, file) in state.items()
            if doc_id not in plan.seen and any(s.covers(root, file or doc_id) for s in scopes)
        ]
        # Read what may have changed; a touched file with the same bytes is unchanged.
        for item in todo:
            if item.replaces and not item.many:
                try:
                    item.data = read_bytes(item.path, opts.max_bytes)
                except ArticleError as exc:
                    self.skip(exc.path, exc.reason)
                    plan.gone.append(item.doc_id)  # it was an article; it is not one any more
                    continue
                if hashlib.sha256(item.data).hexdigest() == state[item.doc_id][1]:
                    report.unchanged += 1
                    continue
            plan.pending.append(item)
        return plan

    # -- write ----------------------------------------------------------------------------

    def write(self, ix, plan: _Plan) -> None:
        """Write the plan, committing in batches. The writer opens on the first change, so a
        run whose only candidates are files that fail again writes nothing."""
        if not plan:
            return
        report, opts = self.report, self.options
        procs = opts.procs
        if procs <= 0:  # automatic: the two-process writer pays off only for large batches
            # a record file counts as its records, guessed from its size (a short story with
            # its metadata is ~500 bytes, four times less than its gzip)
            expected = sum(
                max(1, i.size * (4 if i.path.endswith(".gz") else 1) // 500) if i.many else 1
                for i in plan.pending
            )
            procs = 2 if expected > 1000 and (os.cpu_count() or 1) > 1 else 1
        batch = _Batches(
            ix,
            self.folder,
            procs,
            report,
            opts.on_commit,
            size=opts.batch_size,
            max_bytes=opts.batch_bytes,
            seconds=opts.commit_every,
            after_commit=lambda: write_form_tables(ix, self.folder.path),
        )
        from .schema import article_document

        try:
            for doc_id in plan.gone:
                batch.writer().delete_by_term("id", doc_id)
                report.removed += 1
            for doc_id in plan.retired:  # under a root another root took over: re-added
                batch.writer().delete_by_term("id", doc_id)
                if doc_id not in plan.seen:
                    report.removed += 1
            items: Iterable[_Todo] = plan.pending
            if opts.progress is not None:
                items = opts.progress(plan.pending, len(plan.pending))
            for item in items:
                if item.many:
                    self._write_records(item, plan, batch)
                    continue
                article = self._parse(item)
                if article is None:
                    if item.replaces:
                        batch.writer().delete_by_term("id", item.doc_id)
                        report.removed += 1
                    continue
                doc = article_document(article, item.size, item.mtime_ns)
                doc["root"] = text_path(item.root)
                writer = batch.writer()
                if item.replaces:
                    writer.delete_by_term("id", item.doc_id)
                    report.updated += 1
                else:
                    report.added += 1
                writer.add_document(**doc)
                self.touched.add(item.doc_id)
                size = len(article.body.encode("utf-8"))
                report.bytes_indexed += size
                batch.added_one(size)
            batch.commit()
        except BaseException as exc:
            batch.cancel()
            if isinstance(exc, (OSError, WriterChildError)):
                raise _write_error(self.folder, exc) from exc
            raise

    def _write_records(self, item: _Todo, plan: _Plan, batch: _Batches) -> None:
        """Index the new and changed records of a record file (streamed: memory stays flat in
        the file's size), delete the records it no longer holds. A bad record is skipped with
        its line; a file that cannot be read to its end keeps its records past that point."""
        from .articles import record_article
        from .formats import file_kind, raw_records
        from .schema import article_document

        report, opts = self.report, self.options
        state = plan.state
        old_ids = plan.by_file.get(item.doc_id, [])
        seen: set[str] = set()
        count = 0
        complete = True
        root = text_path(item.root)
        skips_before = len(report.errors)
        try:
            for raw in raw_records(item.path, file_kind(item.path), opts.max_bytes):
                doc_id = f"{item.doc_id}#{raw.key}"
                seen.add(doc_id)
                old = state.get(doc_id)
                if old is not None and raw.error is None and old[1] == raw.sha:
                    report.unchanged += 1
                    count += 1
                    continue
                try:
                    article = record_article(raw, item.path, item.doc_id, self.profiles)
                except ArticleError as exc:
                    article = None
                    self.skip(exc.path, exc.reason)
                except Exception as exc:  # noqa: BLE001 - one bad record never stops a run
                    article = None
                    self.skip(
                        raw.where(item.path),
                        f"could not be parsed ({type(exc).__name__}: {exc})"[:300],
                    )
                if article is None:
                    if old is not None:
                        batch.writer().delete_by_term("id", doc_id)
                        report.removed += 1
                    continue
                self._warn(article)
                doc = article_document(article, item.size, item.mtime_ns)
                doc["root"] = root
                doc["file"] = item.doc_id
                writer = batch.writer()
                if old is not None:
                    writer.delete_by_term("id", doc_id)
                    report.updated += 1
                else:
                    report.added += 1
                writer.add_document(**doc)
                self.touched.add(doc_id)
                count += 1
                size = len(article.body.encode("utf-8"))
                report.bytes_indexed += size
                batch.added_one(size)
        except ArticleError as exc:  # the file as a whole (unreadable, cut short)
            self.skip(exc.path, exc.reason)
            complete = False
        if complete:
            for doc_id in old_ids:
                if doc_id not in seen:
                    batch.writer().delete_by_term("id", doc_id)
                    report.removed += 1
            skips = [[e["path"], e["reason"]] for e in report.errors[skips_before:]]
            self.files_after[item.doc_id] = [
                root,
                item.size,
                item.mtime_ns,
                count,
                skips[:MAX_KEPT_SKIPS],
            ]

    def _warn(self, article) -> None:
        for w in article.warnings:
            self.report.warnings.append(w)
            if self.options.on_warning:
                self.options.on_warning(w)

    def _parse(self, item: _Todo):
        """The article of one planned file, or None (skipped with its reason)."""
        opts = self.options
        try:
            data = item.data if item.data is not None else read_bytes(item.path, opts.max_bytes)
            article = parse_bytes(
                data,
                item.path,
                root=item.root,
                profiles=self.profiles,
                doc_id=item.doc_id,
                max_bytes=opts.max_bytes,
            )
        except ArticleError as exc:
            self.skip(exc.path, exc.reason)
            return None
        except Exception as exc:  # noqa: BLE001 - one bad file never stops a run
            self.skip(str(item.path), f"could not be parsed ({type(exc).__name__}: {exc})"[:300])
            return None
        item.data = None
        self._warn(article)
        return article


def write_form_tables(ix, where: Path) -> int:
    """Write the word-form tables (see :mod:`corpus_search.wordforms`) of the segments of the
    index's last commit that lack them."""
    from .postings import Snapshot
    from .wordforms import ensure_tables

    snap = Snapshot(ix, where)
    try:
        return ensure_tables(snap, snap.terms("lang"))
    finally:
        snap.close()


def _languages_of(reader) -> dict[str, Any]:
    """The language codes of the index's articles, and the commit they describe (a search
    uses them only at that commit: see search.CorpusIndex)."""
    try:
        codes = sorted(
            t.decode("utf-8") if isinstance(t, bytes) else t for t in reader.lexicon("lang")
        )
    except KeyError:  # no article has a language yet (no such field in any segment)
        codes = []
    return {"commit": reader.generation(), "codes": codes}


def _version() -> int:
    from .schema import SCHEMA_VERSION

    return SCHEMA_VERSION


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _fresh_meta(gen_name: str, roots: list[str]) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "schema_version": _version(),
        "generation": gen_name,
        "roots": roots,
        "created": _now(),
        "updated": _now(),
    }


def _new_generation(folder: IndexFolder):
    from .postings import create_index
    from .schema import build_schema

    existing = [p.name for p in folder.path.glob("gen-*")]
    numbers = [int(n[4:]) for n in existing if n[4:].isdigit()]
    gen_name = f"gen-{max(numbers, default=0) + 1:06d}"
    gen = folder.path / gen_name
    try:
        gen.mkdir(parents=True)
        return create_index(gen, build_schema()), gen_name
    except OSError as exc:
        shutil.rmtree(gen, ignore_errors=True)
        raise _write_error(folder, exc) from exc


def _clean_generations(folder: IndexFolder, keep: set) -> None:
    for p in folder.path.glob("gen-*"):
        if p.name not in keep:
            shutil.rmtree(p, ignore_errors=True)


def _remove_partial_files(gen: Path) -> None:
    from .postings import remove_partial_files

    remove_partial_files(gen)


class _Batches:
    """Opens a writer when first needed and commits every ``size`` documents, ``max_bytes``
    of article text or ``seconds``, whichever comes first.

    A commit waits for the writer processes to write their segments (~1 s for 10,000 short
    articles), so fewer are faster (20,000 ~1 KB articles: 10.5 s in 10,000-document batches,
    9.8 s in one), while a writer process's memory grows with its batch (97 and 137 MB
    there; 181 MB for 10,000 before postings were grouped per word): the text bound keeps
    batches of long articles smaller (5,000 of ~5 KB)."""

    def __init__(
        self, ix, folder, procs, report, on_commit, *, size, max_bytes, seconds, after_commit=None
    ):
        self.ix, self.folder, self.procs = ix, folder, procs
        self.after_commit = after_commit
        self.report, self.on_commit = report, on_commit
        self.size, self.max_bytes, self.seconds = size, max_bytes, seconds
        self._writer = None
        self.in_batch = 0
        self.bytes_in_batch = 0
        self.started = time.monotonic()

    def writer(self):
        if self._writer is None:
            self._writer = _writer(self.ix, self.folder, self.procs)
        return self._writer

    def added_one(self, size: int = 0) -> None:
        self.in_batch += 1
        self.bytes_in_batch += size
        if (
            self.in_batch >= self.size
            or self.bytes_in_batch >= self.max_bytes
            or time.monotonic() - self.started >= self.seconds
        ):
            self.commit()

    def commit(self) -> None:
        if self._writer is None:
            return
        writer, self._writer = self._writer, None
        try:
            writer.commit()  # with our merge policy (postings.merge_small_segments)
        except BaseException:
            self._writer = writer  # cancelled (and its files removed) by cancel()
            raise
        if self.after_commit is not None:
            self.after_commit()
        self.report.committed += self.in_batch
        self.in_batch = 0
        self.bytes_in_batch = 0
        self.started = time.monotonic()
        if self.on_commit:
            self.on_commit(self.report.committed)

    def cancel(self) -> None:
        """Stop the writer and its processes; delete what the failed batch wrote."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.cancel()
            self._writer = None
        with contextlib.suppress(Exception):
            from .postings import folder_of

            _remove_partial_files(folder_of(self.ix))


def _writer(ix, folder: IndexFolder, procs: int):
    from .postings import open_writer

    return open_writer(ix, procs, folder.path)


def _write_error(folder: IndexFolder, exc: BaseException) -> IndexWriteError:
    from .postings import is_disk_full

    if is_disk_full(exc):
        why = "the disk is full"
    else:
        why = getattr(exc, "strerror", None) or str(exc)
    return IndexWriteError(
        f"could not write the index at {folder.path}: {why}; "
        "the index is unchanged since its last commit"
    )


def list_roots(index_path: str | Path) -> list[dict[str, Any]]:
    """The remembered roots: ``{root, kind: folder|file, exists, documents}`` each."""
    folder = IndexFolder(index_path)
    meta = folder.require_meta()
    state = _existing_state(folder.open_generation(folder.generation_path(meta)), folder.path)
    per_root = Counter(root for root, *_ in state.values())
    out = []
    for r in meta.get("roots", []):
        is_folder = text_path(r) in per_root or os.path.isdir(r)
        if is_folder:
            n = per_root.get(text_path(r), 0)
        else:
            name, parent = text_path(Path(r).name), text_path(Path(r).parent)
            records = [i for i, e in state.items() if e[4] == name and e[0] == parent]
            n = len(records) or int(name in state and state[name][0] == parent)
        out.append(
            {
                "root": text_path(r),
                "kind": "folder" if is_folder else "file",
                "exists": os.path.exists(r),
                "documents": n,
            }
        )
    return out


def forget_roots(
    index_path: str | Path, paths: Iterable[str | Path], *, wait: float = 5.0
) -> IndexReport:
    """Stop indexing remembered roots: drop them from the index's list and remove their
    documents. A path that is not a remembered root is an error naming the roots there are."""
    folder = IndexFolder(index_path)
    report = IndexReport(index=str(folder.path))
    started = time.monotonic()
    with folder.lock(wait):
        meta = folder.require_meta()
        known = list(meta.get("roots", []))
        drop = []
        for p in paths:
            absolute = os.path.abspath(p)
            if absolute not in known:
                raise ConfigError(
                    f"{text_path(p)} is not a remembered corpus folder (remembered: "
                    f"{', '.join(map(text_path, known)) or 'none'})"
                )
            drop.append(absolute)
        ix = folder.open_generation(folder.generation_path(meta))
        state = _existing_state(ix, folder.path)
        folders = {root for root, *_ in state.values()}

        def scope(entry: str) -> _Scope:  # a folder root, or a file given on its own
            if text_path(entry) in folders:
                return _Scope(Path(entry), Path(entry), "")
            return _Scope(Path(entry).parent, Path(entry), text_path(Path(entry).name), exact=True)

        keep = [r for r in known if r not in drop]
        dropped, kept = [scope(r) for r in drop], [scope(r) for r in keep]
        plan = _Plan(
            gone=[
                i
                for i, (root, _sha, _size, _mtime, file) in state.items()
                if any(s.covers(root, file or i) for s in dropped)
                and not any(s.covers(root, file or i) for s in kept)
            ]
        )
        run = IndexRun(folder, IndexOptions(wait=wait))
        run.report = report
        run.write(ix, plan)
        folder.write_meta(dict(meta, roots=keep, updated=_now()))
        with ix.reader() as reader:
            report.documents = reader.doc_count()
    report.elapsed = time.monotonic() - started
    return report


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
