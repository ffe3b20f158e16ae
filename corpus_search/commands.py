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
from collections.abc import Callable

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


def err(message: str) -> None:
    _stderr(f"{PROG}: {one_line(message)}")


def warn(message: str) -> None:
    _stderr(f"{PROG}: warning: {one_line(message)}")


def _stderr(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


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
) -> int:
    """Run a command, mapping every outcome to a grep-style exit code and every error to one
    line on stderr (a traceback only with --debug). ``other`` maps the exceptions of the
    caller's own framework first (click's), returning None for those it does not know.
    ``report`` is told the exception behind an error exit (the server maps it to an HTTP
    status and logs a bug's traceback)."""
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
            err(str(exc))
            return Exit.ERROR
        if isinstance(exc, (KeyboardInterrupt, Interrupted)):
            err(
                "interrupted; everything committed before the interrupt is kept "
                "(run the command again to finish)"
            )
            return Exit.INTERRUPTED
        if isinstance(exc, BrokenPipeError):
            return reader_went_away()
        if not isinstance(exc, Exception):  # SystemExit, GeneratorExit: not ours to map
            raise
        if debug:
            import traceback

            traceback.print_exc()
        err(f"internal error: {type(exc).__name__}: {exc} (run with --debug for details)")
        return Exit.ERROR


# --------------------------------------------------------------------------------------------
# search


def field_list(fields: str | None) -> list[str] | None:
    from .vocab import HIT_KEYS

    if not fields:
        return None
    names = [f.strip() for f in fields.split(",") if f.strip()]
    bad = [f for f in names if f not in HIT_KEYS]
    if bad:
        raise CorpusSearchError(
            f"--fields: unknown key {bad[0]!r} (choose from {', '.join(HIT_KEYS)})"
        )
    return names


def markers(mark: str) -> tuple[str, str]:
    parts = mark.split(",")
    if len(parts) != 2:
        raise CorpusSearchError(f"--mark takes OPEN,CLOSE (two markers and a comma), got {mark!r}")
    return parts[0], parts[1]


def search(
    open_index: Callable[[], Any],
    config: Any,
    text: str,
    filters: Any,
    facets: list[str],
    *,
    facet_limit: int = 10,
    sort: str = "relevance",
    limit: int = 10,
    page: int = 1,
    as_json: bool = False,
    jsonl: bool = False,
    count_only: bool = False,
    files_only: bool = False,
    fields: str | None = None,
    mark: str = "[[,]]",
    timeout: float | None = None,
    collapse: bool = False,
) -> Exit:
    """The ``search`` command: run the query, print the hits in the asked form."""
    open_mark, close_mark = markers(mark)
    facets = list(facets) or ([] if (count_only or files_only or jsonl) else list(config.facets))
    keys = field_list(fields)

    with open_index() as ix:
        if files_only:
            limit = max(limit, ix.doc_count) if page == 1 else limit
        result = ix.search(
            text,
            filters=filters,
            sort=sort,
            limit=limit,
            page=page,
            facets=facets,
            facet_limit=facet_limit,
            snippets=not (files_only or count_only),
            count_only=count_only,
            timeout=timeout or config.timeout,
            collapse=collapse,
        )
    code = Exit.OK if result.total else Exit.NO_HITS
    if result.total == 0 and result.suggestion:
        err(f"no hits; did you mean: {result.suggestion}")
    if result.total and limit and page > result.pages and not (count_only or files_only):
        warn(
            f"page {page} is past the last page ({result.pages}: {result.total} hits, "
            f"{limit} a page)"
        )
    if count_only:
        echo(result.total)
    elif files_only:
        from .render import visible

        tty = sys.stdout.isatty()
        printed: set[str] = set()  # a file of many records is named once, as grep -l does
        for hit in result.hits:
            path = hit.record["path"]
            if path not in printed:
                printed.add(path)
                echo(visible(path) if tty else path)
    elif jsonl:
        from .render import write_jsonl

        hits = (h.to_dict(open_mark, close_mark) for h in result.hits)
        if keys:
            hits = ({k: h[k] for k in keys if k in h} for h in hits)
        write_jsonl(hits)
    elif as_json:
        from .render import search_json, write_json

        write_json(search_json(result, open_mark, close_mark, keys))
    else:
        from .render import make_console, print_search

        print_search(result, make_console(), open_mark, close_mark)
    return code
