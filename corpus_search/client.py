"""The command's entry point: hand a read-only command to a running ``corpus-search serve``, or
run it here.

This module imports almost nothing (no click, no Whoosh, no rich): when a server holds the
index open, a search costs a Python start, a socket round trip and the answer. The server
answers with exactly what the command would have printed (stdout, stderr, exit code); without
a server, with one from another version, or one that does not answer, the command runs
in-process as if no server existed. ``CORPUS_SEARCH_NO_SERVER=1`` skips the server.
In-process, a plain ``search`` goes through :mod:`corpus_search.quick` (no click), anything
else through the click CLI.
"""

from __future__ import annotations

import os
import sys

from .protocol import (
    ACCEPT_WAIT,
    ACCEPTED,
    ENV_KEYS,
    EXIT,
    MAX_REQUEST,
    SERVED,
    SOCKET_NAME,
    STDERR,
    STDOUT,
    command_of,
    index_folder,
    read_frame,
    version,
)


def _terminal_width() -> int:
    """The width the output is laid out at: an exported COLUMNS first (as rich, and the
    command run by itself, take it), else the terminal's, else 80."""
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (OSError, ValueError):
        return 80


def ask_server(argv: list[str]) -> int | None:
    """The exit code after the server ran the command and its output was printed, or None
    when no server could (the caller then runs the command itself)."""
    if os.environ.get("CORPUS_SEARCH_NO_SERVER") or command_of(argv) not in SERVED:
        return None
    if "--debug" in argv or "-h" in argv or "--help" in argv:
        return None
    if any(a == "--opensearch" or a.startswith("--opensearch=") for a in argv) or os.environ.get(
        "CORPUS_SEARCH_OPENSEARCH_URL"
    ):
        return None  # a cluster, not this machine's index
    folder = index_folder(argv)
    if folder is None:
        return None
    path = os.path.join(folder, SOCKET_NAME)
    if not os.path.exists(path):
        return None
    import json  # only now: a command with no server to ask pays for neither
    import socket

    request = {
        "version": version(),
        "argv": argv,
        "cwd": os.getcwd(),
        "env": {k: os.environ[k] for k in ENV_KEYS if k in os.environ},
        "stdout_tty": sys.stdout.isatty(),
        "stderr_tty": sys.stderr.isatty(),
        "width": _terminal_width(),
    }
    line = json.dumps(request).encode("utf-8") + b"\n"
    if len(line) > MAX_REQUEST:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # a server that does not take the request at once (stopped with kill -STOP or
        # Ctrl-Z: the kernel still accepts the connection) is not waited for
        conn.settimeout(ACCEPT_WAIT)
        conn.connect(path)
        conn.sendall(line)  # the sending side stays open: closing it means "gone"
        if conn.recv(1) != ACCEPTED:
            return None
        conn.settimeout(None)  # taken: the worker has its own deadline
        answer = conn.makefile("rb")
        head = json.loads(answer.readline(MAX_REQUEST) or b"null")
        if not isinstance(head, dict) or head.get("version") != request["version"]:
            return None  # another version, a command it does not serve: run here
        return _relay(answer)
    except (OSError, ValueError):
        return None  # a stale socket, a server that went away: run here
    finally:
        conn.close()


def _relay(answer) -> int | None:
    """Copy the server's frames to this process's stdout and stderr as they come; the exit
    code. When this stdout's reader goes away (``| head -1``) the command is over at once:
    closing the connection ends the worker's work. None when the server went away before
    anything was printed (the command then runs here)."""
    out, err = sys.stdout, sys.stderr
    written = False
    while True:
        got = read_frame(answer.read)
        if got is None:
            if not written:
                return None
            err.write("corpus-search: the server went away before the command finished\n")
            return 2
        kind, data = got
        written = written or kind != EXIT
        if kind == STDOUT:
            try:
                out.flush()
                out.buffer.write(data)
                out.buffer.flush()
            except BrokenPipeError:
                return 0
        elif kind == STDERR:
            err.flush()
            err.buffer.write(data)
            err.buffer.flush()
        elif kind == EXIT:
            return int(data)


def main() -> int:
    """Run the command (by the server, the quick path or the click CLI); its exit code."""
    return _dispatch(sys.argv[1:])[0]


def _dispatch(argv: list[str]) -> tuple[int, bool]:
    """(the exit code, whether the answer was a read-only one from the server or the quick
    path)."""
    code = ask_server(argv)
    if code is not None:
        return code, True
    from .quick import run as run_quick  # a plain search, without importing click

    code = run_quick(argv)
    if code is not None:
        return code, True
    from .cli import main as run_here

    return run_here(), False


def entry() -> None:
    """The console script. After a read-only answer (nothing left to write, no helper
    processes, no temporary files) the process ends without tearing its modules down, which
    costs a fresh search ~8 ms; every other command exits the usual way."""
    code, read_only = _dispatch(sys.argv[1:])
    if not read_only:
        sys.exit(code)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (| head): not an error, like grep
        pass
    try:
        sys.stderr.flush()
    finally:
        os._exit(code)
