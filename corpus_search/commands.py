"""What a command does once its arguments are parsed, and how its outcome becomes an exit
code and a one-line message: shared by the click CLI (``cli.py``), the quick path that runs
a plain ``search`` without importing click (``quick.py``) and the server.

Exit codes follow grep: 0 = hits (or success), 1 = no hits, 2 = error, 130 = interrupted.
This module imports neither click nor Whoosh nor rich.
"""

from __future__ import annotations

import enum
import os
import signal
import sys
from collections.abc import Callable, Iterator

from .errors import CorpusSearchError

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

PROG = "corpus-search"


class Exit(enum.IntEnum):
    OK = 0
    NO_HITS = 1
    ERROR = 2
    INTERRUPTED = 130


class Interrupted(Exception):
    """Ctrl-C or SIGTERM inside a command (click would turn KeyboardInterrupt into Abort)."""


def one_line(message: str) -> str:
    """Messages are one line each, even when a file name holds a line break, and show the
    control characters a hostile file name may hold instead of obeying them."""
    from .render import visible

    return visible(message.replace("\n", "\\n").replace("\r", "\\r"))


def err(message: str, stream: Any = None) -> None:
    """One line on stderr (or ``stream``: a served client's)."""
    _stderr(f"{PROG}: {one_line(message)}", stream)


def warn(message: str, stream: Any = None) -> None:
    _stderr(f"{PROG}: warning: {one_line(message)}", stream)


def _stderr(line: str, stream: Any = None) -> None:
    stream = stream or sys.stderr
    stream.write(line + "\n")
    stream.flush()


def echo(line: Any) -> None:
    """One line of results on stdout."""
    sys.stdout.write(f"{line}\n")
    sys.stdout.flush()


def reader_went_away() -> Exit:
    """The reader of stdout went away (``| head``): not an error, exit 0. Later writes and
    the flush at exit go to /dev/null instead of failing again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    return Exit.OK


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt


def run_mapped(
    invoke: Callable[[], Any],
    debug: bool,
    other: Callable[[BaseException], int | None] | None = None,
    report: Callable[[BaseException], None] | None = None,
    stream: Any = None,
) -> int:
    """Run a command, mapping every outcome to a grep-style exit code and every error to one
    line on stderr (a traceback only with --debug). ``other`` maps the exceptions of the
    caller's own framework first (click's), returning None for those it does not know.
    ``report`` is told the exception behind an error exit (the server maps it to an HTTP
    status and logs a bug's traceback). ``stream``: where messages go when not this
    process's stderr (a served client's)."""
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass
    try:
        code = invoke()
        return int(code) if isinstance(code, int) else 0
    except BaseException as exc:  # noqa: BLE001 - every outcome becomes an exit code
        if report is not None and isinstance(exc, Exception):
            report(exc)
        if other is not None and not isinstance(exc, SystemExit):
            mapped = other(exc)
            if mapped is not None:
                return mapped
        if isinstance(exc, CorpusSearchError):
            if debug:
                import traceback

                traceback.print_exc()
            err(str(exc), stream)
            return Exit.ERROR
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            err(
                "interrupted; everything committed before the interrupt is kept "
                "(run the command again to finish)",
                stream,
            )
            return Exit.INTERRUPTED
        if isinstance(exc, BrokenPipeError):
            return reader_went_away() if stream is None else Exit.OK
        if not isinstance(exc, Exception):  # SystemExit, GeneratorExit: not ours to map
            raise
        if debug:
            import traceback

            traceback.print_exc()
        err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)", stream)
        return Exit.ERROR


# --------------------------------------------------------------------------------------------
# The commands that read the index: each takes a Request and a Context


class Client:
    """Whom a command line sent to the server's socket answers: the client's folder, the
    environment its output depends on (NO_COLOR, TERM, COLUMNS...), its streams (frames to
    it), and the server's open indexes. It travels with the request: the worker's own folder,
    environment and streams stay as they are."""

    def __init__(self, cwd: str, environ: dict[str, str], out: Any, err: Any, indexes: Any):
        self.cwd, self.environ, self.out, self.err = cwd, environ, out, err
        self.indexes = indexes


class Context:
    """Where a command reads and writes, whichever door its request came through: the
    config, how to open the index a request names (``index_dir``: None for the default),
    the streams it writes its results and messages to, and the environment and folder they
    follow (None: this process's). The CLI's context is this process's; a served command
    line's is its client's."""

    def __init__(
        self,
        config: Any,
        open_index: Callable[[str | None], Any],
        index_path: Callable[[str | None], Any],
        *,
        cluster: bool = False,
        out: Any = None,
        err: Any = None,
        environ: dict[str, str] | None = None,
        cwd: str | None = None,
    ):
        self.config = config
        self.open_index = open_index
        self.index_path = index_path
        self.cluster = cluster
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.environ = environ  # None: this process's
        self.cwd = cwd  # None: this process's

    def console(self) -> Any:
        from .render import make_console

        return make_console(file=self.out, environ=self.environ)

    def path(self, given: str) -> str:
        """A path the request names, from the requester's folder."""
        if self.cwd is None or os.path.isabs(given):
            return given
        return os.path.join(self.cwd, given)

    def timeout(self, given: float | None) -> float:
        return given or self.config.timeout

    def echo(self, line: Any) -> None:
        self.out.write(f"{line}\n")
        self.out.flush()

    def error(self, message: str) -> None:
        self.err.write(f"{PROG}: {one_line(message)}\n")
        self.err.flush()

    def warn(self, message: str) -> None:
        self.error(f"warning: {message}")

    def write_json(self, obj: Any) -> None:
        from .render import write_json

        write_json(obj, self.out)

    def write_jsonl(self, objs: Any) -> None:
        from .render import write_jsonl

        write_jsonl(objs, self.out)

    def write_csv(self, rows: Any, header: list[str]) -> None:
        from .render import write_csv

        write_csv(rows, header, self.out)


def execute(request: Any, ctx: Context) -> Exit:
    """Run a request of a command that reads the index; its exit code. Errors are raised
    (each door maps them: an exit code and a line, an HTTP status)."""
    return RUN[request.command](request, ctx)


def field_list(fields: str | None, allowed: tuple[str, ...] | None = None) -> list[str] | None:
    """The keys ``--fields A,B`` asks for (None: all), each one of ``allowed`` (default: the
    keys of a hit)."""
    from .vocab import HIT_KEYS

    if not fields:
        return None
    allowed = allowed or HIT_KEYS
    names = [f.strip() for f in fields.split(",") if f.strip()]
    bad = [f for f in names if f not in allowed]
    if bad:
        raise CorpusSearchError(
            f"--fields: unknown key {bad[0]!r} (choose from {', '.join(allowed)})"
        )
    return names


def markers(mark: str) -> tuple[str, str]:
    parts = mark.split(",")
    if len(parts) != 2:
        raise CorpusSearchError(f"--mark takes OPEN,CLOSE (two markers and a comma), got {mark!r}")
    return parts[0], parts[1]


def _local_only(ix: Any, method: str, command: str) -> None:
    if not hasattr(ix, method):
        raise CorpusSearchError(f"{command} works on a local index, not on a cluster")


def search(req: Any, ctx: Context) -> Exit:
    """The ``search`` command: run the query, print the hits in the asked form."""
    open_mark, close_mark = markers(req.mark)
    count_only, files_only, jsonl = req.count_only, req.files_only, req.jsonl
    facets = list(req.facets) or (
        [] if (count_only or files_only or jsonl) else list(ctx.config.facets)
    )
    keys = field_list(req.fields)
    limit, page = req.limit, req.page

    with ctx.open_index(req.index_dir) as ix:
        if files_only:
            limit = max(limit, ix.doc_count) if page == 1 else limit
        result = ix.search(
            req.query,
            filters=req.filters(),
            sort=req.sort,
            limit=limit,
            page=page,
            facets=facets,
            facet_limit=req.facet_limit,
            snippets=not (files_only or count_only),
            count_only=count_only,
            timeout=ctx.timeout(req.timeout),
            collapse=req.collapse,
        )
    code = Exit.OK if result.total else Exit.NO_HITS
    if result.total == 0 and result.suggestion:
        ctx.error(f"no hits; did you mean: {result.suggestion}")
    if result.total and limit and page > result.pages and not (count_only or files_only):
        ctx.warn(
            f"page {page} is past the last page ({result.pages}: {result.total} hits, "
            f"{limit} a page)"
        )
    if count_only:
        ctx.echo(result.total)
    elif files_only:
        from .render import visible

        tty = ctx.out.isatty()
        printed: set[str] = set()  # a file of many records is named once, as grep -l does
        for hit in result.hits:
            path = hit.record["path"]
            if path not in printed:
                printed.add(path)
                ctx.echo(visible(path) if tty else path)
    elif jsonl:
        hits = (h.to_dict(open_mark, close_mark) for h in result.hits)
        if keys:
            hits = ({k: h[k] for k in keys if k in h} for h in hits)
        ctx.write_jsonl(hits)
    elif req.as_json:
        from .render import search_json

        ctx.write_json(search_json(result, open_mark, close_mark, keys))
    else:
        from .render import print_search

        print_search(result, ctx.console(), open_mark, close_mark)
    return code


def show(req: Any, ctx: Context) -> Exit:
    from .errors import NotFoundError

    with ctx.open_index(req.index_dir) as ix:
        records = []
        for doc_id in req.doc_ids:
            record = ix.get(doc_id)
            if record is None:
                raise NotFoundError(
                    f"no article with id {doc_id!r} in the index "
                    "(ids are paths relative to the corpus folder, as search prints them)"
                )
            if req.reuse:
                if not hasattr(ix, "reused_from"):
                    raise CorpusSearchError("show --reuse works on a local index")
                record = dict(record, reused_from=ix.reused_from(record["id"]))
            records.append(record)
    if req.as_json:
        ctx.write_json(records[0] if len(records) == 1 else records)
    else:
        from .render import print_article

        console = ctx.console()
        for n, record in enumerate(records):
            if n:
                console.rule()
            print_article(record, console)
    return Exit.OK


def facets(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        fc = ix.facet(req.field, req.query_text, req.filters(), limit=req.limit, sort=req.sort)
    if req.as_json:
        ctx.write_json({"field": req.field, **fc.to_dict()})
    else:
        from .render import print_facets

        print_facets([fc], ctx.console())
    return Exit.OK if fc.values else Exit.NO_HITS


def timeline(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        tl = ix.timeline(req.query, req.filters(), by=req.by, split=req.split)
    if req.as_json:
        ctx.write_json(tl.to_dict())
    elif req.as_csv:
        from .render import write_timeline_csv

        write_timeline_csv(tl, ctx.out)
    else:
        from .render import print_timeline

        print_timeline(tl, ctx.console())
    return Exit.OK if tl.total else Exit.NO_HITS


def stats(req: Any, ctx: Context) -> Exit:
    if ctx.cluster:
        with ctx.open_index(req.index_dir) as cluster:
            figures = cluster.stats()
    else:
        from .indexer import index_stats

        named = ctx.index_path(req.index_dir)
        figures = index_stats(ctx.path(str(named)))
        figures["index"] = str(named)  # as the command line named it
    if req.as_json:
        ctx.write_json(figures)
    else:
        from .render import print_stats

        print_stats(figures, ctx.console())
    return Exit.OK


def explain(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        if not hasattr(ix, "explain"):
            raise CorpusSearchError("explain works on a local index, not on a cluster")
        result = ix.explain(req.query, hits=req.hits, timeout=ctx.timeout(req.timeout))
    if req.as_json:
        ctx.write_json(result)
    else:
        from .render import print_explain

        print_explain(result, ctx.console())
    found = any(g["articles"] for w in result["words"] for g in w["languages"])
    return Exit.OK if found else Exit.NO_HITS


def reprints(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        result = ix.reprints(
            req.query,
            req.filters(),
            threshold=req.threshold,
            min_size=req.min_size,
            timeout=ctx.timeout(req.timeout),
        )
    if req.as_json:
        ctx.write_json(result.to_dict())
    else:
        from .render import print_reprints

        limit = req.limit
        shown = (
            result
            if not limit
            else type(result)(
                result.threshold, result.min_size, result.articles, result.clusters[:limit]
            )
        )
        print_reprints(shown, ctx.console())
    return Exit.OK if result.clusters else Exit.NO_HITS


def kwic(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        conc = ix.kwic(
            req.query,
            req.filters(),
            width=req.width,
            sort=req.sort,
            limit=req.limit or None,
            lemma=req.lemma,
            timeout=ctx.timeout(req.timeout),
        )
    if req.as_json:
        ctx.write_json(conc.to_dict())
    elif req.jsonl:
        ctx.write_jsonl(line.to_dict() for line in conc.lines)
    elif req.as_csv:
        head = ["id", "published", "source", "left", "match", "right"]
        ctx.write_csv(
            (
                [x.id, x.published or "", x.source or "", x.left, x.match, x.right]
                + ([x.lemma or ""] if req.lemma else [])
                for x in conc.lines
            ),
            head + (["lemma"] if req.lemma else []),
        )
    else:
        from .render import print_kwic

        print_kwic(conc, ctx.console())
    return Exit.OK if conc.total else Exit.NO_HITS


def collocates(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        result = ix.collocates(
            req.query,
            req.filters(),
            window=req.window,
            top=req.top,
            measure=req.measure,
            stopwords=not req.no_stopwords,
            lemma=req.lemma,
            timeout=ctx.timeout(req.timeout),
        )
    if req.as_json:
        ctx.write_json(result.to_dict())
    elif req.as_csv:
        ctx.write_csv(
            ([c.word, c.count, c.frequency, round(c.score, 4)] for c in result.collocates),
            ["word", "count", "frequency", "score"],
        )
    else:
        from .render import print_collocates

        print_collocates(result, ctx.console())
    return Exit.OK if result.occurrences else Exit.NO_HITS


def sizes(value: str) -> tuple[int, int]:
    """``-n 2`` or ``-n 2..4``."""
    low, _, high = value.partition("..")
    if not (low.isdigit() and (not high or high.isdigit())):
        raise CorpusSearchError(f"-n takes a size or a range of sizes (2, 2..4), not {value!r}")
    return int(low), int(high or low)


def ngrams(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        _local_only(ix, "ngrams", "ngrams")
        result = ix.ngrams(
            req.query,
            req.filters(),
            sizes=sizes(req.size),
            around=req.around,
            min_freq=req.min_freq,
            by=req.by,
            top=req.top or None,
            stopwords=not req.no_stopwords,
            timeout=ctx.timeout(req.timeout),
        )
    if req.as_json:
        ctx.write_json(result)
    elif req.as_csv:
        ctx.write_csv(
            ([g["ngram"], g["count"], g["documents"]] for g in result["ngrams"]),
            ["ngram", "count", "documents"],
        )
    else:
        from .render import print_ngrams

        print_ngrams(result, ctx.console())
    return Exit.OK if result["ngrams"] else Exit.NO_HITS


def keywords(req: Any, ctx: Context) -> Exit:
    from .search import CorpusIndex

    other = CorpusIndex(ctx.path(req.reference_index)) if req.reference_index else None
    try:
        with ctx.open_index(req.index_dir) as ix:
            _local_only(ix, "keywords", "keywords")
            result = ix.keywords(
                req.query,
                req.filters(),
                reference=req.reference,
                reference_index=other,
                min_freq=req.min_freq,
                top=req.top or None,
                negative=req.negative,
                stopwords=req.keep_stopwords,
                timeout=ctx.timeout(req.timeout),
            )
    finally:
        if other is not None:
            other.close()
    if req.as_json:
        ctx.write_json(result)
    elif req.as_csv:
        ctx.write_csv(
            (
                [
                    k["word"],
                    k["ll"],
                    k["log_ratio"],
                    k["target"]["count"],
                    k["target"]["documents"],
                    k["reference"]["count"],
                    k["reference"]["documents"],
                ]
                for k in result["keywords"]
            ),  # fmt: skip
            ["word", "ll", "log_ratio", "target", "target_docs", "reference", "reference_docs"],
        )
    else:
        from .render import print_keywords

        print_keywords(result, ctx.console())
    return Exit.OK if result["keywords"] else Exit.NO_HITS


def dispersion(req: Any, ctx: Context) -> Exit:
    with ctx.open_index(req.index_dir) as ix:
        _local_only(ix, "dispersion", "dispersion")
        result = ix.dispersion(req.word, req.query, req.filters(), timeout=ctx.timeout(req.timeout))
    if req.as_json:
        ctx.write_json(result)
    else:
        from .render import print_dispersion

        print_dispersion(result, ctx.console())
    return Exit.OK if result["occurrences"] else Exit.NO_HITS


def reuse(req: Any, ctx: Context) -> Exit:
    limit = req.limit
    with ctx.open_index(req.index_dir) as ix:
        _local_only(ix, "reuse", "reuse")
        result = ix.reuse(req.query, req.filters(), timeout=req.timeout or 600.0)
        if not req.as_json:
            bodies = {}
            for p in result["passages"][: limit or None]:
                for side in ("earlier", "later"):
                    doc = p[side]["id"]
                    if doc not in bodies:
                        bodies[doc] = (ix.get(doc) or {}).get("body") or ""
    if req.as_json:
        ctx.write_json(result)
    else:
        from .render import print_reuse

        print_reuse(result, bodies, ctx.console(), limit)
    return Exit.OK if result["passages"] else Exit.NO_HITS


def read_queries(path: str, where: str | None = None) -> list[str]:
    """Queries one a line; blank lines and lines starting with # left out. ``where``: the
    file to read, when ``path`` (named in messages) is relative to another folder."""
    try:
        with open(where or path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as exc:
        raise CorpusSearchError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise CorpusSearchError(f"{path}: is not UTF-8 text") from None
    from .errors import QueryError
    from .query import parse_query

    queries = []
    for n, line in enumerate(lines, 1):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        try:
            parse_query(text)
        except QueryError as exc:
            raise CorpusSearchError(f"{path}, line {n}: {exc}") from None
        queries.append(text)
    return queries


def count(req: Any, ctx: Context) -> Exit:
    from .query import parse_query

    queries = read_queries(req.queries_file, ctx.path(req.queries_file)) if req.queries_file else []
    for text in req.query_list:
        parse_query(text)  # a bad one stops everything before any output
        queries.append(text)
    if not queries:
        raise CorpusSearchError(
            "count needs queries: --queries FILE, or --query QUERY (repeatable)"
        )
    filters = req.filters()
    by = req.by
    with ctx.open_index(req.index_dir) as ix:
        rows = ix.count_queries(queries, filters, by=by, timeout=ctx.timeout(req.timeout))
    if req.as_json:
        ctx.write_json({"by": by, "filters": filters.to_dict(), "queries": rows})
    elif req.as_csv:
        ctx.write_csv(
            ([r["query"], b["period"], b["count"]] for r in rows for b in r["buckets"]),
            ["query", "period", "count"],
        )
    else:
        from .render import print_counts

        print_counts(rows, by, ctx.console())
    return Exit.OK if any(r["total"] for r in rows) else Exit.NO_HITS


def export_lines(req: Any, ctx: Context, *, tty: bool) -> Iterator[str]:
    """The lines of an export (a CSV header first), made as they are read: every matching
    record in the search order, memory flat in their number."""
    from .articles import RECORD_FIELDS

    keys = field_list(req.fields, tuple(RECORD_FIELDS)) or list(RECORD_FIELDS)
    with ctx.open_index(req.index_dir) as ix:
        records = ix.records(
            req.query, req.filters(), sort=req.sort, timeout=ctx.timeout(req.timeout)
        )
        if req.fmt == "csv":
            from .render import csv_cell, csv_line

            yield csv_line(keys, tty)
            for r in records:
                yield csv_line([csv_cell(r[k]) for k in keys], tty)
        else:
            from .render import jsonl_line

            for r in records:
                yield jsonl_line({k: r[k] for k in keys}, tty)


def export(req: Any, ctx: Context) -> Exit:
    lines = 0
    for lines, line in enumerate(export_lines(req, ctx, tty=ctx.out.isatty()), 1):  # noqa: B007
        ctx.out.write(line)
        if lines == 1 + (req.fmt == "csv"):
            ctx.out.flush()  # the first record at once (| head -1), then as buffers fill
    return Exit.OK if lines > (req.fmt == "csv") else Exit.NO_HITS


RUN: dict[str, Callable[[Any, Context], Exit]] = {
    "search": search,
    "show": show,
    "facets": facets,
    "timeline": timeline,
    "stats": stats,
    "explain": explain,
    "reprints": reprints,
    "kwic": kwic,
    "collocates": collocates,
    "ngrams": ngrams,
    "keywords": keywords,
    "dispersion": dispersion,
    "reuse": reuse,
    "count": count,
    "export": export,
}
