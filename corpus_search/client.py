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

#: Commands that only read the index: the ones a server may answer.
SERVED = frozenset(
    {
        "search",
        "facets",
        "timeline",
        "show",
        "stats",
        "count",
        "kwic",
        "collocates",
        "reprints",
        "export",
    }
)
SOCKET_NAME = "serve.sock"
ACCEPTED = b"+"  # the server's first byte: it has taken the request (then the JSON answer)
ACCEPT_WAIT = 2.0  # seconds a command waits for that byte before it runs by itself
PROTOCOL = 1
#: Environment a command's output depends on, passed to the server.
ENV_KEYS = (
    "NO_COLOR",
    "TERM",
    "COLUMNS",
    "LINES",
    "FORCE_COLOR",
    "CORPUS_SEARCH_INDEX",
    "CORPUS_SEARCH_CONFIG",
    "HOME",
)


def version() -> str:
    from . import __version__

    return f"{__version__}/{PROTOCOL}"


def index_folder(argv: list[str]) -> str | None:
    """The index folder the command will use, as far as it can be told without the config
    parser: --index, then $CORPUS_SEARCH_INDEX; None when a config file could say otherwise."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == "--index" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--index="):
            return arg.split("=", 1)[1]
        if arg == "--config" or arg.startswith("--config="):
            return None  # the config may name the index: leave it to the full CLI
    if os.environ.get("CORPUS_SEARCH_INDEX"):
        return os.environ["CORPUS_SEARCH_INDEX"]
    if os.environ.get("CORPUS_SEARCH_CONFIG") or os.path.exists("corpus-search.yaml"):
        return None
    return "index"


def command_of(argv: list[str]) -> str | None:
    """The subcommand's name (the first argument that is not a global option)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg in ("--index", "--config"):
            skip = True
            continue
        if arg.startswith("-"):
            continue
        return arg
    return None


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
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            # a server that does not take the request at once (stopped with kill -STOP or
            # Ctrl-Z: the kernel still accepts the connection) is not waited for
            conn.settimeout(ACCEPT_WAIT)
            conn.connect(path)
            conn.sendall(json.dumps(request).encode("utf-8") + b"\n")
            conn.shutdown(socket.SHUT_WR)
            first = conn.recv(1)
            conn.settimeout(600)
            chunks = [] if first == ACCEPTED else [first]
            while True:
                chunk = conn.recv(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
    except (OSError, ValueError):
        return None  # a stale socket, a server that went away: run here
    try:
        answer = json.loads(b"".join(chunks))
    except ValueError:
        return None
    if not isinstance(answer, dict) or answer.get("version") != request["version"]:
        return None  # another version of corpus-search: run here
    try:
        sys.stdout.write(answer["stdout"])
        sys.stdout.flush()
    except BrokenPipeError:
        pass
    sys.stderr.write(answer["stderr"])
    return int(answer["code"])


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
