"""Work over many articles shared with a forked helper process: the articles are split in
two, a child counts one half while this process counts the other, and the two results are
merged. Python threads take turns on one core; a fork has the open index at no cost (it
opens its own files: a file shared across a fork shares its read offset).

Used where an analysis reads tens of thousands of articles (keyness reads every article of
the index). Below :data:`FROM` items, without ``os.fork``, with one core, or with
``CORPUS_SEARCH_NO_FORK=1`` (a program of many threads using the library may want no fork),
the work runs here alone. The child's answer comes back pickled; an error in it is raised here.
"""

from __future__ import annotations

import os
import pickle
import signal
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from .errors import CorpusSearchError

T = TypeVar("T")

#: Fewer items than this are not worth a fork (~5-10 ms for a process of a large index).
FROM = 4000


def split_work(
    items: Sequence[Any],
    work: Callable[[Sequence[Any]], T],
    merge: Callable[[T, T], T],
    *,
    in_child: Callable[[], None] = lambda: None,
) -> T:
    """``merge(work(first half), work(second half))``, the second half worked on by a forked
    child (after ``in_child()``, which opens its own files) while this process works on the
    first."""
    if (
        len(items) < FROM
        or not hasattr(os, "fork")
        or (os.cpu_count() or 1) < 2
        or os.environ.get("CORPUS_SEARCH_NO_FORK")  # a program whose threads a fork could hurt
    ):
        return work(items)
    half = len(items) // 2
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the helper: never returns
        try:
            os.close(read_end)
            signal.signal(signal.SIGINT, signal.SIG_DFL)  # Ctrl-C ends it with its parent
            in_child()
            payload = pickle.dumps((True, work(items[half:])), pickle.HIGHEST_PROTOCOL)
        except BaseException as exc:  # noqa: BLE001 - sent to the parent, raised there
            payload = pickle.dumps((False, _portable(exc)), pickle.HIGHEST_PROTOCOL)
        try:
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(payload)
        finally:
            os._exit(0)
    os.close(write_end)
    try:
        mine = work(items[:half])
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
    except BaseException:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        raise
    os.waitpid(pid, 0)
    if not data:
        raise CorpusSearchError("the helper process ended without an answer (out of memory?)")
    ok, theirs = pickle.loads(data)
    if not ok:
        raise theirs
    return merge(mine, theirs)


def _portable(exc: BaseException) -> BaseException:
    """The exception, or one that survives pickling with the same message (an error whose
    constructor takes other arguments than its message cannot be rebuilt)."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        if isinstance(exc, CorpusSearchError):
            return CorpusSearchError(str(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}")
