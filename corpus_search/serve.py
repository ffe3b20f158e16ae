"""``corpus-search serve``: keep indexes open and answer many questions at once.

Two doors into one process:

* a Unix socket in the index folder (``serve.sock``, mode 0600: only its owner can use it).
  The ordinary CLI hands its arguments to it (:mod:`corpus_search.protocol`), a worker runs
  the very same command against the indexes the server keeps open (postings, columns and
  caches warm) and streams back what it prints and its exit code: output is identical with
  and without the server, terminal rendering included.
* optionally HTTP on 127.0.0.1 (``--http PORT``) for programs, notebooks and the page: the
  same JSON as the CLI's ``--json``. Every request needs the token printed at start-up; the
  ``Host`` header must name this machine (no DNS rebinding).

Each connection is answered by a worker process forked from the warm server (its open
indexes, their columns read and the modules a request uses imported, are the worker's at no
cost; a long analysis runs on its own core, beside the others: Python threads would take
turns on one). The server itself only accepts, hands connections to workers, forks new ones
ahead of need (at most ``--workers`` busy; more requests wait for one) and reaps them: it
never runs a command, so nothing it holds changes per request. A worker answers one
request after another, warm; nothing of a request stays in it: a command line from the
socket is run with the client's folder, environment and streams given to the command,
never set in the process. Before handing a request over, the server follows the index's
commits: workers made before a commit are retired, while a request already running keeps
its snapshot to the end. A request has a deadline (``--deadline``); a client that goes
away ends its worker at once. Ctrl-C or SIGTERM stops the server and its workers and
removes its socket; a socket left by a killed server is detected and replaced.
"""

from __future__ import annotations

import collections
import contextlib
import io
import json
import os
import secrets
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .errors import CorpusSearchError
from .protocol import (
    ACCEPTED,
    EXIT,
    MAX_REQUEST,
    SERVED,
    SOCKET_NAME,
    STDERR,
    STDOUT,
    command_of,
    frame,
    version,
)
from .request import SPECS

DEADLINE = 300.0  # seconds a worker may run (serve --deadline)
GRACE = 5.0  # then the server kills a worker that did not stop by itself
SPARES = 2  # workers forked ahead of their requests
REQUEST_WAIT = 10.0  # seconds a worker waits for a connection's request
IDLE = 8  # workers kept waiting at most (more are forked when many requests come at once)


class ServerError(CorpusSearchError):
    pass


def _same_token(given: str, token: str) -> bool:
    """Whether a request's token is the server's, in constant time; a token of any text (a
    non-ASCII one made compare_digest raise, and the connection drop) is just wrong."""
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


class _FrameStream(io.TextIOBase):
    """A worker's stdout or stderr: text written is sent to the client in frames (see
    :mod:`corpus_search.protocol`) as soon as the command flushes, or 64 KiB gathered; it
    says whether the client's own stream is a terminal."""

    def __init__(self, sink: Any, kind: bytes, tty: bool):
        super().__init__()
        self._sink, self._kind, self._tty = sink, kind, tty
        self._pending: list[bytes] = []
        self._size = 0

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8"

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return self._tty

    def write(self, text: str) -> int:
        data = text.encode("utf-8", "surrogateescape")
        self._pending.append(data)
        self._size += len(data)
        if self._size >= 1 << 16:
            self.flush()
        return len(text)

    def flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending, self._size = [], 0
            self._sink.write(frame(self._kind, data))
            self._sink.flush()


class Indexes:
    """Open indexes by folder, kept for the server's life; each follows its commits."""

    def __init__(self) -> None:
        self._open: dict[str, Any] = {}

    @contextlib.contextmanager
    def get(self, path: str | Path) -> Iterator[Any]:
        from .search import CorpusIndex

        key = os.path.realpath(path)
        ix = self._open.get(key)
        if ix is None:
            ix = self._open[key] = CorpusIndex(path)
        yield ix  # not closed: the next question finds it warm

    def warm(self, path: str | Path) -> None:
        """Open an index and read what most requests read (the columns of every facet and
        sort): a worker forked after this finds them in its memory."""
        from .vocab import FACETS

        with self.get(path) as ix:
            ix.search("*", facets=list(FACETS), limit=1, sort="-date", snippets=False)

    def refresh(self) -> bool:
        """Reopen (and warm again) each index an indexing run has committed to since; True
        if any was (the server does this before it hands a worker a request: workers made
        before a commit are replaced, every request is answered from the last commit)."""
        changed = False
        for key, ix in list(self._open.items()):
            try:
                if ix.refresh():
                    changed = True
                    self.warm(key)
            except Exception:  # noqa: BLE001 - gone or damaged: the worker opens and says
                changed = True
                with contextlib.suppress(Exception):
                    ix.close()
                del self._open[key]
        return changed

    def after_fork(self) -> None:
        """In a worker: its own file objects for every open index (the parent's are shared
        with every other worker, read offsets included)."""
        for key, ix in list(self._open.items()):
            try:
                ix.reopen_files()
            except Exception:  # noqa: BLE001 - the request opens it afresh and says why
                del self._open[key]

    def close(self) -> None:
        for ix in self._open.values():
            with contextlib.suppress(Exception):
                ix.close()
        self._open.clear()


class DeadlineExceeded(CorpusSearchError):
    http_status = 503


@dataclass
class _Worker:
    pid: int
    started: float
    control: socket.socket  # the server hands it connections through this; it says "done"
    generation: int = 0  # the server's count of commits when it was forked


class Server:
    def __init__(
        self, index: Path, deadline: float = DEADLINE, config: Any = None, workers: int = 0
    ):
        self.index = Path(index)
        self.socket_path = self.index / SOCKET_NAME
        self.indexes = Indexes()
        self.token = secrets.token_urlsafe(24)
        self.deadline = deadline
        self._config = config
        self._listeners: list[socket.socket] = []
        self._busy: dict[int, _Worker] = {}  # answering a request, by process id
        self._idle: list[_Worker] = []  # waiting for one
        self._generation = 0  # of the indexes, counted by the server: one more a commit
        self._selector: selectors.BaseSelector | None = None
        self._waiting: collections.deque[tuple[socket.socket, str]] = collections.deque()
        self.workers = workers or max(4, 2 * (os.cpu_count() or 1))

    # -- a worker: one connection, in a process of its own ------------------------------

    def _worker(self, control: socket.socket) -> None:
        """A worker (in the child): its own files open, it answers the connections the
        server hands it, one at a time, saying when each is done (its caches stay warm; a
        request sets nothing in the process: the client's folder, environment and streams
        are given to the command)."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, signal.SIG_DFL)  # the server's handlers are not the worker's
        for listener in self._listeners:
            listener.close()
        for other in [*self._idle, *self._busy.values()]:
            other.control.close()
        self.indexes.after_fork()
        while True:
            try:
                kind, fds, _flags, _addr = socket.recv_fds(control, 16, 1)
            except OSError:
                return
            if not fds:
                return  # retired (a commit came, enough wait) or the server stopped
            conn = socket.socket(fileno=fds[0])
            try:
                self._work(conn, kind.decode())
            except Exception:  # noqa: BLE001 - past its deadline while closing, say
                pass
            finally:
                with contextlib.suppress(Exception):
                    conn.close()
            try:
                control.sendall(b"d")
            except OSError:
                return

    def _work(self, conn: socket.socket, kind: str) -> None:
        """Answer one connection (in a worker), within the deadline."""

        def past_deadline(signum: int, frame: Any) -> None:
            signal.setitimer(signal.ITIMER_REAL, 0)
            raise DeadlineExceeded(
                f"the request ran past the server's deadline ({self.deadline:g} s; "
                "corpus-search serve --deadline SECONDS)"
            )

        signal.signal(signal.SIGALRM, past_deadline)
        signal.setitimer(signal.ITIMER_REAL, self.deadline)
        try:
            if kind == "http":
                self._answer_http(conn)
            else:
                self._answer_socket(conn)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def _answer_socket(self, conn: socket.socket) -> None:
        sink = conn.makefile("wb")
        conn.settimeout(REQUEST_WAIT)  # a connection that sends no request does not hold a worker
        try:
            line = conn.makefile("rb").readline(MAX_REQUEST)
        except TimeoutError:
            return
        conn.settimeout(None)
        if not line.endswith(b"\n"):
            return  # a probe (a second server checking), or a client that went away
        request = json.loads(line)
        sink.write(ACCEPTED)
        sink.flush()
        argv = [str(a) for a in request.get("argv") or []]
        served = command_of(argv) in SERVED  # indexing, or a nested serve, runs elsewhere
        head = {"version": version() if served else "refused"}
        sink.write(json.dumps(head).encode("utf-8") + b"\n")
        sink.flush()
        if not served or request.get("version") != version():
            return  # the client runs the command itself
        stop_watching = _watch_client(conn)  # the request is read: only its end comes
        try:
            out = _FrameStream(sink, STDOUT, bool(request.get("stdout_tty")))
            err = _FrameStream(sink, STDERR, bool(request.get("stderr_tty")))
            code = self.run_cli(request, out, err)
            for stream in (out, err):
                stream.flush()
            stop_watching()  # the client closes when it has the exit code
            sink.write(frame(EXIT, str(int(code)).encode("ascii")))
            sink.flush()
        finally:
            stop_watching()

    def run_cli(self, request: dict[str, Any], out: Any, err: Any) -> int:
        """Run a client's command line as the client would have run it: from its folder,
        in its environment, to its streams, all given to the command (commands.Client), so
        nothing of this worker changes and it can take the next request."""
        from . import cli
        from .commands import Client

        environ = {str(k): str(v) for k, v in (request.get("env") or {}).items()}
        environ["COLUMNS"] = str(request.get("width") or 80)
        client = Client(str(request.get("cwd") or os.getcwd()), environ, out, err, self.indexes)
        return cli.cli.main(
            args=list(request["argv"]), prog_name=cli.PROG, standalone_mode=False, client=client
        )

    # -- the Unix socket ------------------------------------------------------------------

    def _unix_listener(self) -> socket.socket:
        self._replace_stale_socket()
        where = str(self.socket_path)
        if len(os.fsencode(where)) > 107:  # sun_path holds 108 bytes with its NUL
            raise ServerError(
                f"the index folder's path is too long for the server's socket "
                f"({len(os.fsencode(where))} bytes, at most 107): serve the index from a "
                "shorter path (a symbolic link will do)"
            )
        old = os.umask(0o177)  # the socket is created 0600: only its owner can use it
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            listener.bind(where)
            listener.listen(128)
        except OSError as exc:
            listener.close()
            raise ServerError(
                f"cannot create the server's socket {where}: "
                f"{exc.strerror or exc} (the index folder must be writable to serve it)"
            ) from exc
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)
        return listener

    def _replace_stale_socket(self) -> None:
        if not self.socket_path.exists():
            return
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
                probe.settimeout(2)
                probe.connect(str(self.socket_path))
        except OSError:
            self.socket_path.unlink(missing_ok=True)  # left by a server that was killed
            return
        raise ServerError(f"a server already answers for {self.index} ({self.socket_path})")

    # -- HTTP ------------------------------------------------------------------------------

    def http_respond(
        self, method: str, target: str, headers: dict[str, str], port: int
    ) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        """(status, headers, body) for one HTTP request: the page, its assets, or JSON."""
        from . import web

        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        if parts[:1] == ["static"] and len(parts) == 2 and parts[1] in web.STATIC:
            kind, text = web.STATIC[parts[1]]
            return 200, {"Content-Type": kind}, text.encode("utf-8")
        if parts and parts[0] not in ("article", "view", "export.jsonl", "export.csv"):
            try:
                return self._api(method, url, parts, headers, port)
            except Exception as exc:  # noqa: BLE001 - answered with its status
                return _failed(exc)
        html_type = {"Content-Type": "text/html; charset=utf-8"}
        query = parse_qs(url.query, keep_blank_values=True)
        given = query.pop("token", [""])[0]
        token = given or _cookie(headers.get("cookie", ""), "cs_token")
        if headers.get("host", "") not in _hosts(port):
            return 403, html_type, b"<!doctype html><p>the Host header must name this machine</p>"
        if not _same_token(token, self.token):
            return (
                403,
                html_type,
                (
                    b"<!doctype html><p>open the address with its token, as "
                    b"corpus-search serve printed it</p>"
                ),
            )
        extra = dict(html_type)
        if given:  # remembered by this browser, so links need not carry it
            extra["Set-Cookie"] = f"cs_token={self.token}; Path=/; HttpOnly; SameSite=Strict"
        views = {
            "kwic": web.kwic_page,
            "collocates": web.collocates_page,
            "reprints": web.reprints_page,
            "diff": web.diff_page,
            "keywords": web.keywords_page,
            "ngrams": web.ngrams_page,
            "dispersion": web.dispersion_page,
            "reuse": web.reuse_page,
            "watch": web.watch_page,
        }
        with self.indexes.get(self.index) as ix:
            if not parts:
                status, body = web.search_page(ix, query)
            elif parts[0] == "article":
                status, body = web.article_page(ix, "/".join(parts[1:]), query)
            elif parts[0] in ("export.jsonl", "export.csv"):
                from .request import from_query

                fmt = parts[0].split(".")[1]
                request = from_query("export", query, strict=False, fmt=fmt)
                kind, pieces = self._export(request)
                extra = {
                    "Content-Type": kind,
                    "Content-Disposition": f'attachment; filename="corpus-search-export.{fmt}"',
                }
                return 200, extra, pieces
            elif len(parts) > 2 and parts[:2] == ["view", "reused-from"]:
                status, body = web.reused_from_page(ix, query, "/".join(parts[2:]))
            elif len(parts) == 3 and parts[:2] == ["view", "facet"]:
                status, body = web.facet_page(ix, query, parts[2])
            elif len(parts) == 2 and parts[1] in views:
                status, body = views[parts[1]](ix, query)
            else:
                status, body = 404, "<!doctype html><p>no such page</p>"
        return status, extra, body.encode("utf-8")

    def _api(
        self,
        method: str,
        url: Any,
        parts: list[str],
        headers: dict[str, str],
        port: int,
    ) -> tuple[int, dict[str, str], bytes | Iterator[bytes]]:
        """(status, headers, body) of a JSON request: the command's request read from the
        query string (see :mod:`.request`), run by the library, written by the CLI's own
        renderer: the bytes of ``--json``. Errors are raised (their status is theirs)."""
        from . import commands
        from .request import from_query

        json_type = {"Content-Type": "application/json; charset=utf-8"}
        if headers.get("host", "") not in _hosts(port):
            raise _Refused(403, "the Host header must name this machine")
        params = parse_qs(url.query, keep_blank_values=True)
        token = (
            params.pop("token", [""])[0]
            or headers.get("authorization", "").removeprefix("Bearer ").strip()
        )
        if not _same_token(token, self.token):
            raise _Refused(403, "a valid token is needed (?token=... or Authorization: Bearer)")
        if method != "GET":
            raise _Refused(405, "only GET")
        command, rest = parts[0], parts[1:]
        if command not in API or (rest and not API[command]):
            raise _Refused(404, f"no such endpoint {url.path!r}: {', '.join(sorted(API_PATHS))}")
        if command == "export":
            kind, pieces = self._export(from_query("export", params))
            return 200, {"Content-Type": kind}, pieces
        request = from_query(command, params, rest or None, as_json=True)
        out = io.StringIO()
        commands.execute(request, self._context(out))
        return 200, json_type, out.getvalue().encode("utf-8")

    def _export(self, request: Any) -> tuple[str, Iterator[bytes]]:
        """The content type and the pieces of an export, made as they are sent."""
        from . import commands

        kind = (
            "text/csv; charset=utf-8"
            if request.fmt == "csv"
            else "application/x-ndjson; charset=utf-8"
        )
        lines = commands.export_lines(request, self._context(io.StringIO()), tty=False)
        return kind, _pieces(lines, first=2 if request.fmt == "csv" else 1)

    def _preload(self) -> None:
        """Import what workers use (the HTTP handler, the command line, the renderers) by
        running a search to JSON and to text here: every worker is forked with them loaded
        (imported in each worker, they cost ~45 ms a request)."""
        import http.server  # noqa: F401 - the HTTP worker's handler

        from . import cli, web  # noqa: F401 - the socket worker's command line, the page
        from .commands import execute
        from .request import Request

        with self.indexes.get(self.index) as ix:
            first = ix.search("*", limit=1, snippets=False)
        title = first.hits[0].record.get("title") or "" if first.hits else ""
        word = next((w for w in title.split() if w.isalpha()), "*")
        for as_json in (True, False):  # a word's search: matching, snippets, their patterns
            request = Request("search", {"query": (word,), "limit": 3, "as_json": as_json})
            execute(request, self._context(io.StringIO()))

    def _context(self, out: io.StringIO) -> Any:
        """A request's context on the server: its open index, its config, the given stream
        for results (messages are not sent: the JSON says what they say)."""
        from .commands import Context

        if self._config is None:
            from .config import load_config

            self._config = load_config(None)
        return Context(
            self._config,
            lambda _index_dir: self.indexes.get(self.index),
            lambda _index_dir: self.index,
            out=out,
            err=io.StringIO(),
        )

    def http_answer(
        self, method: str, target: str, headers: dict[str, str], port: int
    ) -> tuple[int, Any]:
        """(status, the JSON read back) of one HTTP request (for tests and programs in this
        process)."""
        status, _headers, body = self.http_respond(method, target, headers, port)
        data = body if isinstance(body, bytes) else b"".join(body)
        return status, json.loads(data) if data.strip() else None

    def _answer_http(self, conn: socket.socket) -> None:
        """Answer one HTTP request (in the worker); a body given as pieces is sent as they
        come (chunked), so a download's size never gathers in memory."""
        from http.server import BaseHTTPRequestHandler

        server = self
        port = int(conn.getsockname()[1])

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = REQUEST_WAIT  # a connection that sends no request does not hold a worker

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def _answer(self, method: str) -> None:
                self.close_connection = True
                conn.settimeout(None)  # the request is in: the answer may take its time
                stop_watching = _watch_client(conn)  # the request is read: only its end comes
                try:
                    self._respond(method, stop_watching)
                finally:
                    stop_watching()

            def _respond(self, method: str, stop_watching: Callable[[], None]) -> None:
                from .web import CSP

                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    status, extra, body = server.http_respond(method, self.path, headers, port)
                    pieces = _first_piece_read(body)
                except Exception as exc:  # noqa: BLE001 - answered with its status
                    status, extra, pieces = _failed(exc)
                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                if isinstance(pieces, bytes):
                    self.send_header("Content-Length", str(len(pieces)))
                else:
                    self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Connection", "close")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                if isinstance(pieces, bytes):
                    stop_watching()  # the client closes when it has the body
                    self.wfile.write(pieces)
                    return
                try:
                    for piece in pieces:
                        if piece:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                except Exception as exc:  # noqa: BLE001 - the body is cut short: no last chunk
                    _failed(exc)
                    return
                stop_watching()
                self.wfile.write(b"0\r\n\r\n")

            def log_message(self, *args: Any) -> None:
                pass

        class _Origin:  # what the handler asks of its server
            server_address = conn.getsockname()

        Handler(conn, conn.getpeername(), _Origin())  # type: ignore[arg-type]

    # -- life -------------------------------------------------------------------------------

    def serve(self, http_port: int | None = None, host: str = "127.0.0.1", announce=print) -> bool:
        """Answer until stopped; True when stopped by Ctrl-C (SIGINT: the command exits 130,
        as any interrupted one does), False by SIGTERM (a clean stop asked for: exit 0)."""
        from .store import IndexFolder

        IndexFolder(self.index).require_meta()  # a clear error when there is no index
        self.indexes.warm(self.index)
        self._preload()

        def stop(signum: int, frame: Any) -> None:
            raise _Stopped

        signal.signal(signal.SIGTERM, stop)  # before the socket exists: stop cleanly from then on
        unix = None
        try:  # a signal may come as soon as "serving" is out, before the loop has started
            unix = self._unix_listener()  # refuses (and leaves alone) another server's socket
            self._listeners.append(unix)
            doors = {unix.fileno(): "socket"}
            if http_port is not None:
                try:
                    web = socket.create_server((host, http_port), backlog=128)
                except OSError as exc:
                    raise ServerError(
                        f"cannot listen on {host}:{http_port}: {exc.strerror or exc}"
                    ) from exc
                self._listeners.append(web)
                doors[web.fileno()] = "http"
                announce(f"http://{host}:{web.getsockname()[1]}/?token={self.token}")
            announce(f"serving {self.index} on {self.socket_path}; Ctrl-C to stop")
            self._loop(doors)
        except KeyboardInterrupt:
            return True
        except _Stopped:
            return False
        finally:
            if unix is not None:  # ours: removed, and a second Ctrl-C must not cut that short
                previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                self.close()
                signal.signal(signal.SIGINT, previous)
        return False

    def _loop(self, doors: dict[int, str]) -> None:
        """Accept, hand each connection to an idle worker, take back the workers that are
        done, fork new ones ahead of need, reap the ended ones, stop those past their
        deadline. The server runs no command itself and has no threads, so a fork copies
        one consistent process."""
        self._selector = selectors.DefaultSelector()
        with self._selector as selector:
            for listener in self._listeners:
                selector.register(listener, selectors.EVENT_READ, doors[listener.fileno()])
            self._fill()
            while True:
                for key, _ in selector.select(timeout=0.2):
                    if isinstance(key.data, _Worker):
                        self._done(key.data)
                        continue
                    door: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        conn, _addr = door.accept()
                    except OSError:
                        continue
                    self._waiting.append((conn, key.data))
                self._reap()
                self._serve_waiting()
                self._fill()

    def _serve_waiting(self) -> None:
        """Hand the waiting connections to workers: idle ones first, new ones while fewer
        than ``workers`` are busy (more would only take turns on the same cores); the rest
        wait for a worker to be done."""
        if not self._waiting:
            return
        if self.indexes.refresh():
            self._generation += 1
            for worker in self._idle:  # made before the commit: they would answer from before
                self._retire(worker)
            self._idle.clear()
        while self._waiting and (self._idle or len(self._busy) < self.workers):
            self._dispatch(*self._waiting.popleft())

    def _dispatch(self, conn: socket.socket, kind: str) -> None:
        """Hand a connection to an idle worker made after the last commit."""
        worker = self._idle.pop() if self._idle else self._fork()
        try:
            socket.send_fds(worker.control, [kind.encode()], [conn.fileno()])
        except OSError:
            pass  # it died: the client sees its connection closed and runs the command
        conn.close()
        worker.started = time.monotonic()
        self._busy[worker.pid] = worker

    def _done(self, worker: _Worker) -> None:
        """A worker said it is done (or ended): idle again, or retired."""
        try:
            said = worker.control.recv(16)
        except OSError:
            said = b""
        self._busy.pop(worker.pid, None)
        if said and worker.generation == self._generation and len(self._idle) < IDLE:
            self._idle.append(worker)
        else:
            self._retire(worker)

    def _fork(self) -> _Worker:
        control, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the server's loop
            code = 0
            try:
                control.close()
                self._worker(child_end)
            except BaseException:  # noqa: BLE001 - a worker's end is its own
                code = 1
            finally:
                os._exit(code)
        child_end.close()
        worker = _Worker(pid, time.monotonic(), control, self._generation)
        if self._selector is not None:
            self._selector.register(control, selectors.EVENT_READ, worker)
        return worker

    def _fill(self) -> None:
        """Fork workers until SPARES wait for a request (``workers`` in all at most)."""
        while len(self._idle) < SPARES and len(self._idle) + len(self._busy) < self.workers:
            self._idle.append(self._fork())

    def _retire(self, worker: _Worker) -> None:
        if self._selector is not None:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(worker.control)
        worker.control.close()  # it reads the end, and ends

    def _reap(self) -> None:
        while True:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            ended = self._busy.pop(pid, None)
            if ended is not None:
                self._retire(ended)
            for worker in [w for w in self._idle if w.pid == pid]:  # died waiting
                self._retire(worker)
                self._idle.remove(worker)
        now = time.monotonic()
        for worker in list(self._busy.values()):
            if now - worker.started > self.deadline + GRACE:  # it did not stop by itself
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGKILL)

    def close(self) -> None:
        for listener in self._listeners:
            with contextlib.suppress(Exception):
                listener.close()
        self._listeners.clear()
        for conn, _kind in self._waiting:
            conn.close()
        self._waiting.clear()
        for worker in self._idle:
            self._retire(worker)
        for pid in list(self._busy):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for pid in [*self._busy, *(w.pid for w in self._idle)]:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        self._busy.clear()
        self._idle.clear()
        self.socket_path.unlink(missing_ok=True)
        self.indexes.close()


def _watch_client(conn: socket.socket) -> Callable[[], None]:
    """End this worker when its client goes away before its answer is sent (the connection
    ends): a thread waits for that and stops the process, which only reads the index, at
    once. Returns the function that stops watching: call it before the answer's last bytes
    (a client closes as soon as it has them); after it, the worker surely lives on."""
    import select
    import threading

    stop_r, stop_w = os.pipe()
    lock = threading.Lock()
    stopped = False

    def watch() -> None:
        poll = select.poll()
        poll.register(conn.fileno(), select.POLLIN | select.POLLHUP | select.POLLERR)
        poll.register(stop_r, select.POLLIN)
        try:
            while True:
                ready = dict(poll.poll())
                if stop_r in ready:
                    return
                try:
                    data = conn.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if data:
                    return  # more from the client (nothing these doors send): stop watching
                with lock:  # not once the answer is being finished: then it lives on
                    if not stopped:
                        os._exit(0)  # gone: nothing of this request is owed to anyone
                return
        finally:
            os.close(stop_r)

    threading.Thread(target=watch, daemon=True).start()

    def stop() -> None:
        nonlocal stopped
        with lock:
            if stopped:
                return
            stopped = True
        os.write(stop_w, b"x")
        os.close(stop_w)

    return stop


def _first_piece_read(body: bytes | Iterable[bytes]) -> bytes | Iterator[bytes]:
    """The body as bytes, or as an iterator of pieces whose first piece has been made
    already: a failure before any byte is sent still gets its own status."""
    if isinstance(body, bytes):
        return body
    pieces = iter(body)
    first = next(pieces, None)
    if first is None:
        return b""

    def rest() -> Iterator[bytes]:
        yield first
        yield from pieces

    return rest()


def _failed(exc: BaseException) -> tuple[int, dict[str, str], bytes]:
    """The answer to a request that raised: its status and one line; a bug is logged with
    its traceback on the server's stderr."""
    from .commands import one_line

    status = _http_status(exc)
    message = (
        str(exc)
        if status != 500
        else f"internal error: {type(exc).__name__}: {exc} (the server logged it)"
    )
    body = json.dumps({"error": one_line(message)}, ensure_ascii=False).encode("utf-8")
    return status, {"Content-Type": "application/json; charset=utf-8"}, body


class _Stopped(BaseException):
    """SIGTERM: stop serving (raised by the signal handler inside the serving loop; not an
    Exception, so that nothing on the way mistakes it for a failed request)."""


class _Refused(CorpusSearchError):
    """A request refused before it runs, with its HTTP status."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.http_status = status


#: The JSON endpoints: command -> whether it takes the rest of the address (/show/ID).
API = {
    name: any(arg.web == "path" for arg in spec.args)
    for name, spec in SPECS.items()
    if not any(opt.required and not opt.web for opt in spec.options)
}
API_PATHS = tuple(f"/{name}/..." if path else f"/{name}" for name, path in API.items())


def _pieces(lines: Iterable[str], first: int, size: int = 1 << 16) -> Iterator[bytes]:
    """Lines gathered into pieces of about ``size`` bytes; the first ``first`` lines (a
    record, or a CSV's header and first row) sent at once."""
    pending: list[bytes] = []
    gathered = 0
    for n, line in enumerate(lines, 1):
        data = line.encode("utf-8", "surrogateescape")
        pending.append(data)
        gathered += len(data)
        if gathered >= size or n == first:
            yield b"".join(pending)
            pending, gathered = [], 0
    if pending:
        yield b"".join(pending)


def _http_status(exc: BaseException) -> int:
    """The HTTP status of a failed request: the error's own (400 a bad query or option, 404
    an unknown id, 503 a missing or damaged index); anything else is a bug: 500, its
    traceback logged on the server's stderr."""
    if isinstance(exc, CorpusSearchError):
        return exc.http_status
    import traceback

    print("".join(traceback.format_exception(exc)).rstrip(), file=sys.stderr, flush=True)
    return 500


def _hosts(port: int) -> tuple[str, ...]:
    """The Host headers that name this machine (anything else: DNS rebinding)."""
    return (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}")


def _cookie(header: str, name: str) -> str:
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value
    return ""
