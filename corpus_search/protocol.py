"""What the command line and ``corpus-search serve`` say to each other over the server's Unix
socket: the one module both import (so neither imports the other).

A conversation, after the client connects:

1. the client sends its request: one line of JSON (``argv``, ``cwd``, the environment that
   matters, whether its stdout and stderr are terminals, the terminal's width, ``version``),
   and keeps its end open: a worker sees the client go away as the end of the connection;
2. the server answers :data:`ACCEPTED` at once (a stopped server never does, and the client
   runs the command itself after :data:`ACCEPT_WAIT` seconds), then one line of JSON,
   ``{"version": V}``: the client's own version when it will run the command, anything else
   when it will not (another version, a command it does not serve), and then the client runs
   it itself;
3. then frames, each one byte of kind, four bytes of length (big-endian) and the bytes:
   ``o`` a piece of stdout, ``e`` a piece of stderr, as the command writes them (an export
   arrives line by line: ``| head -1`` is answered at once), and last ``x`` with the exit
   code as ASCII digits.

This module imports nothing heavy: the client of a fresh search pays for it.
"""

from __future__ import annotations

import os
import struct

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
        "ngrams",
        "keywords",
        "dispersion",
        "reuse",
        "explain",
    }
)
SOCKET_NAME = "serve.sock"
ACCEPTED = b"+"  # the server's first byte: it has taken the request
ACCEPT_WAIT = 2.0  # seconds a command waits for that byte before it runs by itself
PROTOCOL = 2
MAX_REQUEST = 1 << 20  # bytes of a request line
#: Environment a command's output depends on, passed to the server.
ENV_KEYS = (
    "NO_COLOR",
    "TERM",
    "COLUMNS",
    "LINES",
    "FORCE_COLOR",
    "COLORTERM",
    "CORPUS_SEARCH_INDEX",
    "CORPUS_SEARCH_CONFIG",
    "HOME",
)
STDOUT, STDERR, EXIT = b"o", b"e", b"x"
_HEAD = struct.Struct(">cI")


def version() -> str:
    from . import __version__

    return f"{__version__}/{PROTOCOL}"


def frame(kind: bytes, data: bytes) -> bytes:
    return _HEAD.pack(kind, len(data)) + data


def read_frame(read) -> tuple[bytes, bytes] | None:
    """(kind, bytes) of the next frame from ``read(n)`` (a file's read), or None at the end
    of the stream (a frame cut short is the end too)."""
    head = read(_HEAD.size)
    if len(head) < _HEAD.size:
        return None
    kind, size = _HEAD.unpack(head)
    data = read(size) if size else b""
    if len(data) < size:
        return None
    return kind, data


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
