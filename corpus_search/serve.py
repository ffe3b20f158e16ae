"""``corpus-search serve``: keep indexes open and answer many questions fast.

Two doors into one process:

* a Unix socket in the index folder (``serve.sock``, mode 0600: only its owner can use it).
  The ordinary CLI hands its arguments to it (see :mod:`corpus_search.client`) and the server
  runs the very same click command here, against indexes it keeps open (postings, columns and
  caches warm), and sends back what the command printed and its exit code: output is identical
  with and without the server, terminal rendering included.
* optionally HTTP on 127.0.0.1 (``--http PORT``) for programs and notebooks: the same JSON
  objects as the CLI's ``--json``. Every request needs the token printed at start-up; the
  ``Host`` header must name this machine (no DNS rebinding).

Commands run one at a time (they share this process's standard streams and working folder).
Each index follows its commits and rebuilds (a search after an update answers from it); the
server never takes the indexing lock. Ctrl-C or SIGTERM stops it and removes its socket; a
socket left by a killed server is detected and replaced.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import secrets
import signal
import socket
import socketserver
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from .client import ACCEPTED, SERVED, SOCKET_NAME, command_of, version
from .errors import CorpusSearchError
from .vocab import VALUE_FIELDS


class ServerError(CorpusSearchError):
    pass


def _same_token(given: str, token: str) -> bool:
    """Whether a request's token is the server's, in constant time; a token of any text (a
    non-ASCII one made compare_digest raise, and the connection drop) is just wrong."""
    return secrets.compare_digest(given.encode("utf-8", "surrogateescape"), token.encode("utf-8"))


class _Stream(io.StringIO):
    """A captured standard stream that says whether the client's one is a terminal."""

    def __init__(self, tty: bool):
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


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

    def close(self) -> None:
        for ix in self._open.values():
            with contextlib.suppress(Exception):
                ix.close()
        self._open.clear()


class Server:
    def __init__(self, index: Path):
        self.index = Path(index)
        self.socket_path = self.index / SOCKET_NAME
        self.indexes = Indexes()
        self.lock = threading.Lock()
        self.token = secrets.token_urlsafe(24)
        self._servers: list[socketserver.BaseServer] = []

    # -- running a command as the CLI would --------------------------------------------------

    def run_cli(
        self, request: dict[str, Any], report: Callable[[BaseException], None] | None = None
    ) -> dict[str, Any]:
        from . import cli

        env = request.get("env", {})
        out, err = (
            _Stream(bool(request.get("stdout_tty"))),
            _Stream(bool(request.get("stderr_tty"))),
        )
        with self.lock:
            saved_env = {k: os.environ.get(k) for k in (*env, "COLUMNS", "NO_COLOR", "TERM")}
            saved_cwd = os.getcwd()
            saved_streams = sys.stdout, sys.stderr
            try:
                for k in ("NO_COLOR", "TERM", "FORCE_COLOR"):
                    os.environ.pop(k, None)
                os.environ.update(env)
                os.environ["COLUMNS"] = str(request.get("width") or 80)
                os.chdir(request.get("cwd") or saved_cwd)
                sys.stdout, sys.stderr = out, err
                cli.INDEXES = self.indexes
                code = cli.cli.main(
                    args=list(request["argv"]),
                    prog_name=cli.PROG,
                    standalone_mode=False,
                    report=report,
                )
            finally:
                cli.INDEXES = None
                sys.stdout, sys.stderr = saved_streams
                os.chdir(saved_cwd)
                for k, v in saved_env.items():
                    if v is None:
                        os.environ.pop(k, None)
                    else:
                        os.environ[k] = v
        return {
            "version": version(),
            "code": int(code),
            "stdout": out.getvalue(),
            "stderr": err.getvalue(),
        }

    # -- the Unix socket ------------------------------------------------------------------

    def _unix_server(self) -> socketserver.UnixStreamServer:
        server = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                try:
                    request = json.loads(self.rfile.read())
                    # taken: the client now waits for the answer, however long it takes (a
                    # stopped server never says this, and the client runs the command itself)
                    self.wfile.write(ACCEPTED)
                    self.wfile.flush()
                    if command_of(list(request.get("argv") or [])) not in SERVED:
                        # only the reading commands: indexing or a nested serve runs elsewhere
                        answer = {"version": "refused", "code": 2, "stdout": "", "stderr": ""}
                    elif request.get("version") != version():
                        answer = {"version": version(), "code": 2, "stdout": "", "stderr": ""}
                    else:
                        answer = server.run_cli(request)
                except Exception as exc:  # noqa: BLE001 - answered, so the client runs it itself
                    answer = {"version": "error", "error": repr(exc)}
                self.wfile.write(json.dumps(answer).encode("utf-8"))

        self._replace_stale_socket()
        where = str(self.socket_path)
        if len(os.fsencode(where)) > 107:  # sun_path holds 108 bytes with its NUL
            raise ServerError(
                f"the index folder's path is too long for the server's socket "
                f"({len(os.fsencode(where))} bytes, at most 107): serve the index from a "
                "shorter path (a symbolic link will do)"
            )
        old = os.umask(0o177)  # the socket is created 0600: only its owner can use it
        try:
            unix = socketserver.ThreadingUnixStreamServer(where, Handler)
        except OSError as exc:
            raise ServerError(
                f"cannot create the server's socket {where}: "
                f"{exc.strerror or exc} (the index folder must be writable to serve it)"
            ) from exc
        finally:
            os.umask(old)
        os.chmod(self.socket_path, 0o600)
        return unix

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
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) for one HTTP request: the page, its assets, or JSON."""
        from . import web

        url = urlsplit(target)
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        if parts[:1] == ["static"] and len(parts) == 2 and parts[1] in web.STATIC:
            kind, text = web.STATIC[parts[1]]
            return 200, {"Content-Type": kind}, text.encode("utf-8")
        if parts and parts[0] not in ("article", "view", "export.jsonl", "export.csv"):
            status, obj = self.http_answer(method, target, headers, port)
            data = json.dumps(obj, ensure_ascii=False).encode("utf-8")
            return status, {"Content-Type": "application/json; charset=utf-8"}, data
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
        with self.lock, self.indexes.get(self.index) as ix:
            if not parts:
                status, body = web.search_page(ix, query)
            elif parts[0] == "article":
                status, body = web.article_page(ix, "/".join(parts[1:]), query)
            elif parts[0] in ("export.jsonl", "export.csv"):
                fmt = parts[0].split(".")[1]
                status, kind, data = web.export_rows(ix, query, fmt)
                extra = {
                    "Content-Type": kind,
                    "Content-Disposition": f'attachment; filename="corpus-search-export.{fmt}"',
                }
                return status, extra, data
            elif len(parts) > 2 and parts[:2] == ["view", "reused-from"]:
                status, body = web.reused_from_page(ix, query, "/".join(parts[2:]))
            elif len(parts) == 3 and parts[:2] == ["view", "facet"]:
                status, body = web.facet_page(ix, query, parts[2])
            elif len(parts) == 2 and parts[1] in views:
                status, body = views[parts[1]](ix, query)
            else:
                status, body = 404, "<!doctype html><p>no such page</p>"
        return status, extra, body.encode("utf-8")

    def http_answer(
        self, method: str, target: str, headers: dict[str, str], port: int
    ) -> tuple[int, dict[str, Any]]:
        """(status, JSON object) for one HTTP request."""
        if headers.get("host", "") not in _hosts(port):
            return 403, {"error": "the Host header must name this machine"}
        url = urlsplit(target)
        query = {k: v for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        token = (
            query.pop("token", [""])[0]
            or headers.get("authorization", "").removeprefix("Bearer ").strip()
        )
        if not _same_token(token, self.token):
            return 403, {"error": "a valid token is needed (?token=... or Authorization: Bearer)"}
        if method != "GET":
            return 405, {"error": "only GET"}
        parts = [unquote(p) for p in url.path.strip("/").split("/") if p]
        argv = _argv_for(parts, query)
        if argv is None:
            return 404, {
                "error": f"no such endpoint {url.path!r}: /search, /facets/FIELD, "
                "/timeline, /show/ID, /kwic, /collocates, /reprints, /reuse, /ngrams, "
                "/keywords?q=, /dispersion?word=, /stats"
            }
        failures: list[BaseException] = []
        answer = self.run_cli(
            {
                "argv": ["--index", str(self.index), *argv],
                "cwd": os.getcwd(),
                "env": {"NO_COLOR": "1"},
            },
            report=failures.append,
        )
        if answer["code"] == 2:
            message = answer["stderr"].strip().splitlines()
            error = message[-1].removeprefix("corpus-search: ") if message else "error"
            return _http_status(failures[-1] if failures else None), {"error": error}
        return 200, json.loads(answer["stdout"] or "{}")

    def _http_server(self, port: int, host: str = "127.0.0.1") -> socketserver.TCPServer:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                self._answer("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._answer("POST")

            def _answer(self, method: str) -> None:
                from .web import CSP

                headers = {k.lower(): v for k, v in self.headers.items()}
                port = int(self.server.server_address[1])  # type: ignore[index]
                try:
                    status, extra, data = server.http_respond(method, self.path, headers, port)
                except Exception:  # a bug: logged with its traceback here, one line there
                    import traceback

                    traceback.print_exc(file=sys.stderr)
                    status, extra = 500, {"Content-Type": "application/json; charset=utf-8"}
                    data = b'{"error": "internal error (the server logged it)"}'

                self.send_response(status)
                for key, value in extra.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Content-Security-Policy", CSP)
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        return ThreadingHTTPServer((host, port), Handler)

    # -- life -------------------------------------------------------------------------------

    def serve(self, http_port: int | None = None, host: str = "127.0.0.1", announce=print) -> bool:
        """Answer until stopped; True when stopped by Ctrl-C (SIGINT: the command exits 130,
        as any interrupted one does), False by SIGTERM (a clean stop asked for: exit 0)."""
        from .store import IndexFolder

        IndexFolder(self.index).require_meta()  # a clear error when there is no index

        def stop(signum: int, frame: Any) -> None:
            raise _Stopped

        signal.signal(signal.SIGTERM, stop)  # before the socket exists: stop cleanly from then on
        unix = None
        try:  # a signal may come as soon as "serving" is out, before the loop has started
            unix = self._unix_server()  # refuses (and leaves alone) another server's socket
            self._servers.append(unix)
            if http_port is not None:
                web = self._http_server(http_port, host)
                self._servers.append(web)
                port = web.server_address[1]
                announce(f"http://{host}:{port}/?token={self.token}")
                threading.Thread(target=web.serve_forever, daemon=True).start()
            announce(f"serving {self.index} on {self.socket_path}; Ctrl-C to stop")
            unix.serve_forever(poll_interval=0.5)
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

    def close(self) -> None:
        for s in self._servers:
            with contextlib.suppress(Exception):
                s.server_close()
        self._servers.clear()
        self.socket_path.unlink(missing_ok=True)
        self.indexes.close()


class _Stopped(BaseException):
    """SIGTERM: stop serving (raised by the signal handler inside the serving loop; not an
    Exception, which socketserver would catch and log while it starts a request)."""


def _argv_for(parts: list[str], query: dict[str, list[str]]) -> list[str] | None:
    """The CLI arguments an HTTP request stands for (always with --json)."""
    if not parts:
        return None
    first = lambda name, default=None: query.get(name, [default])[0]  # noqa: E731
    filters: list[str] = []
    for name in VALUE_FIELDS:
        for value in query.get(name, []):
            filters += [f"--{name}", value]
    for name in ("since", "until", "min-views"):
        if first(name):
            filters += [f"--{name}", first(name)]
    q = first("q", "") or ""
    head, rest = parts[0], parts[1:]
    if head == "search" and not rest:
        argv = ["search", "--json", *filters]
        for facet in query.get("facet", []):
            argv += ["--facet", facet]
        for name in ("limit", "page", "sort", "facet-limit", "timeout"):
            if first(name):
                argv += [f"--{name}", first(name)]
        if first("collapse"):
            argv.append("--collapse")
        return [*argv, "--", q] if q else argv
    if head == "facets" and len(rest) == 1:
        return ["facets", "--json", "--query", q, *filters, "--", rest[0]]
    if head == "timeline" and not rest:
        argv = ["timeline", "--json", *filters]
        if first("by"):
            argv += ["--by", first("by")]
        return [*argv, "--", q] if q else argv
    if head == "show" and rest:
        return ["show", "--json", "--", "/".join(rest)]  # an id such as --help is an id
    if head in ("kwic", "collocates", "reprints") and not rest:
        argv = [head, "--json", *filters]
        return [*argv, "--", q] if q else argv
    if head in ("ngrams", "reuse") and not rest:
        argv = [head, "--json", *filters]
        for name, flag in (("n", "--size"), ("around", "--around"), ("min-freq", "--min-freq")):
            if head == "ngrams" and first(name):
                argv += [flag, first(name)]
        return [*argv, "--", q] if q else argv
    if head == "keywords" and not rest and q:
        argv = ["keywords", "--json", *filters]
        for name in ("reference", "min-freq", "top"):
            if first(name):
                argv += [f"--{name}", first(name)]
        if first("negative"):
            argv.append("--negative")
        return [*argv, "--", q]
    if head == "dispersion" and not rest and first("word"):
        argv = ["dispersion", "--json", *filters, "--", first("word")]
        return [*argv, q] if q else argv
    if head == "stats" and not rest:
        return ["stats", "--json"]
    return None


def _http_status(exc: BaseException | None) -> int:
    """The HTTP status of a failed request: the error's own (400 a bad query or option, 404
    an unknown id, 503 a missing or damaged index); a click usage error is 400; anything
    else is a bug: 500, its traceback logged on the server's stderr."""
    import click

    if isinstance(exc, CorpusSearchError):
        return exc.http_status
    if isinstance(exc, click.ClickException) or exc is None:
        return 400
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
