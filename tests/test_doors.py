"""One request model, many doors: every reading command gives the same bytes through the
CLI, the server's socket and HTTP (one table of cases); options are declared once; and the
server answers many clients at once. Concurrency is shown with gates (a worker held at a
known point until the test opens it), never with sleeps or timing."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import pytest
from test_serve import _ask, wait_for

from corpus_search.indexer import update_index
from corpus_search.protocol import ACCEPTED, SOCKET_NAME, version
from corpus_search.request import SPECS, Opt, RequestError, Spec, from_query

from conftest import REPO, SAMPLE, cli_env, run_cli, untimed

# --------------------------------------------------------------------------------------------
# A server whose workers stop at gates


def start_gated(index: Path, gates: Path, *extra: str) -> tuple[subprocess.Popen, int, str]:
    """A real server whose workers stop at two points until the test opens them: at the start
    of ``collocates`` (file ``collocates.PID.held`` on arrival, waits for
    ``collocates.open``) and after the first record an export reads (``records.PID.held``,
    ``records.open``). Returns the process, its HTTP port and token."""
    gates.mkdir(exist_ok=True)
    script = f"""
import os, sys, time
from pathlib import Path
import corpus_search.search as s

gates = Path({str(gates)!r})

def hold(name):
    (gates / f"{{name}}.{{os.getpid()}}.held").touch()
    while not (gates / f"{{name}}.open").exists():
        time.sleep(0.01)

real_collocates = s.CorpusIndex.collocates
def collocates(self, *a, **kw):
    hold("collocates")
    return real_collocates(self, *a, **kw)
s.CorpusIndex.collocates = collocates

real_records = s.CorpusIndex.records
def records(self, *a, **kw):
    for n, record in enumerate(real_records(self, *a, **kw)):
        if n == 1:
            hold("records")
        yield record
s.CorpusIndex.records = records

from corpus_search.cli import main
sys.argv = ["corpus-search", "serve", "--index", {str(index)!r}, "--http", "0", *{list(extra)!r}]
sys.exit(main())
"""
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stderr=subprocess.PIPE,
        text=True,
    )
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.stderr.readline().strip())
    assert m, f"the server stopped: {proc.poll()}"
    assert proc.stderr.readline().startswith("serving ")
    return proc, int(m.group(1)), m.group(2)


def held(gates: Path, name: str) -> list[int]:
    """The workers waiting at gate ``name``: their process ids."""
    return sorted(int(p.name.split(".")[1]) for p in gates.glob(f"{name}.*.held"))


def gone(pid: int) -> bool:
    """Whether a worker has ended (reaped, or a zombie not yet reaped)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" in status


def request(argv: list[str], cwd: Path) -> dict:
    return {
        "version": version(),
        "argv": argv,
        "cwd": str(cwd),
        "env": {"NO_COLOR": "1"},
        "stdout_tty": False,
        "stderr_tty": False,
        "width": 80,
    }


@pytest.fixture(scope="module")
def doors(tmp_path_factory):
    """The sample corpus indexed, and a server answering it on its socket and over HTTP."""
    base = tmp_path_factory.mktemp("doors")
    shutil.copytree(SAMPLE, base / "corpus")
    update_index(base / "index", [base / "corpus"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "serve", "--index", "index", "--http", "0"],
        cwd=base,
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stderr=subprocess.PIPE,
        text=True,
    )
    first = proc.stderr.readline()
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", first.strip())
    assert m, first
    assert proc.stderr.readline().startswith("serving ")
    yield base, int(m.group(1)), m.group(2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(30)


def get(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
    r = conn.getresponse()
    return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()


# --------------------------------------------------------------------------------------------
# One table of cases through the three doors

Q = quote
CASES = [
    (
        ["search", "sanctions", "--facet", "category", "--sort", "-date", "-n", "3"],
        "/search?q=sanctions&facet=category&sort=-date&n=3",
    ),
    (
        ["search", "*", "--category", "Russia", "--since", "2021", "--collapse", "--page", "2"],
        "/search?q=*&category=Russia&since=2021&collapse=1&page=2",
    ),
    (
        ["search", "gas", "OR", "oil", "--fields", "id,title", "--mark", "<b>,</b>", "--limit=4"],
        f"/search?q={Q('gas OR oil')}&fields=id,title&mark={Q('<b>,</b>')}&limit=4",
    ),
    (["search", "zzqx"], "/search?q=zzqx"),
    (["facets", "author", "--query", "grain"], "/facets/author?q=grain"),
    (["facets", "lang", "--sort", "name", "--limit", "2"], "/facets/lang?sort=name&limit=2"),
    (["timeline", "sanctions", "--by", "year"], "/timeline?q=sanctions&by=year"),
    (["timeline", "--split", "source", "--by", "year"], "/timeline?split=source&by=year"),
    (["show", "wire/2023-grain-deal.txt"], "/show/wire/2023-grain-deal.txt"),
    (["stats"], "/stats"),
    (["explain", "grain", "-n", "1"], "/explain?q=grain&n=1"),
    (["kwic", "grain", "--width", "20", "--sort", "left"], "/kwic?q=grain&width=20&sort=left"),
    (
        ["collocates", "grain", "--window", "3", "--measure", "pmi"],
        "/collocates?q=grain&window=3&measure=pmi",
    ),
    (["ngrams", "--size", "2..3", "--min-freq", "2"], "/ngrams?size=2..3&min-freq=2"),
    (["keywords", "grain", "--min-freq", "1", "--negative"], "/keywords?q=grain&min-freq=1&negative=1"),
    (["dispersion", "grain", "grain", "OR", "sanctions"], f"/dispersion?word=grain&q={Q('grain OR sanctions')}"),
    (["reprints", "--threshold", "0.5", "--min-size", "2"], "/reprints?threshold=0.5&min-size=2"),
    (["reuse"], "/reuse"),
    (["count", "--query", "sanctions", "--query", "grain OR gas", "--by", "year"], f"/count?query=sanctions&query={Q('grain OR gas')}&by=year"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "path"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_the_same_json_through_every_door(doors, argv, path):
    """The CLI run by itself, the server's socket and HTTP give the same bytes (``--json``)."""
    base, port, token = doors
    args = [*argv, "--json", "--index", "index"]
    here = run_cli(args, base, server=False)
    assert here.returncode in (0, 1), here.stderr
    assert here.stdout.strip(), "every case answers something"
    socket_answer = _ask(base / "index", request(args, base))
    assert socket_answer["version"] == version()  # the server answered it, not the client
    assert (socket_answer["code"], untimed(socket_answer["stdout"])) == (
        here.returncode,
        untimed(here.stdout),
    )
    status, headers, body = get(
        port, f"{path}&token={token}" if "?" in path else f"{path}?token={token}"
    )
    assert status == 200, body
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert untimed(body.decode("utf-8")) == untimed(here.stdout)  # byte for byte


EXPORTS = [
    (["export", "grain", "--format", "csv", "--fields", "id,title,source"], "/export?q=grain&format=csv&fields=id,title,source", "text/csv"),
    (["export", "--sort", "date", "--category", "Russia"], "/export?sort=date&category=Russia", "application/x-ndjson"),
]  # fmt: skip


@pytest.mark.parametrize(("argv", "path", "kind"), EXPORTS, ids=[" ".join(c[0]) for c in EXPORTS])
def test_an_export_through_every_door(doors, argv, path, kind):
    base, port, token = doors
    args = [*argv, "--index", "index"]
    here = run_cli(args, base, server=False)
    assert here.returncode == 0 and here.stdout.count("\n") >= 2, here.stderr
    socket_answer = _ask(base / "index", request(args, base))
    assert (socket_answer["code"], socket_answer["stdout"]) == (0, here.stdout)
    status, headers, body = get(port, f"{path}&token={token}")
    assert status == 200 and headers["content-type"].startswith(kind)
    assert headers.get("transfer-encoding") == "chunked"  # sent as it is made
    assert body.decode("utf-8") == here.stdout


ERRORS = [
    (["search", "(unbalanced"], "/search?q=%28unbalanced", 400),
    (["search", "grain", "--since", "yesterday"], "/search?q=grain&since=yesterday", 400),
    (["show", "no/such.txt"], "/show/no/such.txt", 404),
    (["search", "a", "--fields", "nope"], "/search?q=a&fields=nope", 400),
    (["ngrams", "--size", "x"], "/ngrams?size=x", 400),
]


@pytest.mark.parametrize(("argv", "path", "status"), ERRORS, ids=[" ".join(c[0]) for c in ERRORS])
def test_the_same_error_through_every_door(doors, argv, path, status):
    """An error is exit 2 with one line on the CLI and the socket, the same line with its
    status over HTTP."""
    base, port, token = doors
    args = [*argv, "--json", "--index", "index"]
    here = run_cli(args, base, server=False)
    assert here.returncode == 2 and here.stdout == ""
    line = here.stderr.strip()
    assert "\n" not in line and line.startswith("corpus-search: ")
    socket_answer = _ask(base / "index", request(args, base))
    assert (socket_answer["code"], socket_answer["stderr"].strip()) == (2, line)
    got, _headers, body = get(
        port, f"{path}&token={token}" if "?" in path else f"{path}?token={token}"
    )
    assert (got, json.loads(body)) == (status, {"error": line.removeprefix("corpus-search: ")})


def test_a_bad_option_value_or_parameter_is_a_bad_request(doors):
    base, port, token = doors
    for path, words in (
        ("/search?q=grain&limit=nope", ["-n/--limit", "'nope' is not a whole number"]),
        ("/search?q=grain&page=0", ["--page", "'0' is not in the range"]),
        ("/search?q=grain&sort=sideways", ["--sort", "relevance, date, -date"]),
        ("/timeline?by=fortnight", ["--by", "year, month, week, day"]),
        ("/reprints?threshold=0", ["--threshold", "0<x<=1"]),
        ("/search?q=grain&limt=5", ["unknown parameter 'limt'", "limit"]),
        ("/search?q=grain&index=/etc", ["unknown parameter 'index'"]),  # not the client's
        ("/facets/colour", ["invalid field 'colour'"]),
    ):
        status, _h, body = get(
            port, f"{path}&token={token}" if "?" in path else f"{path}?token={token}"
        )
        error = json.loads(body)["error"]
        assert status == 400 and all(w in error for w in words), (path, error)
    # the CLI says the same of the same value, in click's words
    r = run_cli(["search", "grain", "--limit", "nope", "--index", "index"], base)
    assert r.returncode == 2 and "--limit" in r.stderr and "nope" in r.stderr


# --------------------------------------------------------------------------------------------
# Declared once


def test_every_declared_option_is_an_option_of_the_cli_and_a_parameter_of_http():
    from corpus_search.cli import cli

    for spec in SPECS.values():
        command = cli.commands[spec.name]
        on_cli = {tuple(p.opts): p.name for p in command.params if p.param_type_name == "option"}
        declared = {tuple(o.flags): o.key for o in spec.options}
        assert on_cli == declared, spec.name
        assert [p.name for p in command.params if p.param_type_name == "argument"] == [
            a.key for a in spec.args
        ]
        assert command.help == spec.help


def test_adding_an_option_is_one_edit(monkeypatch):
    """A new option declared once is a click option, a quick-path option and an HTTP
    parameter, with the same kind and bounds everywhere."""
    from click.testing import CliRunner

    from corpus_search import quick
    from corpus_search.cli import _reading_command

    search = SPECS["search"]
    extra = Opt("snippet_words", ("--snippet-words",), "int", 30, low=5, help="Words a snippet.")
    grown = Spec(search.name, search.help, search.args, (*search.options, extra))
    monkeypatch.setitem(SPECS, "search", grown)

    command = _reading_command(grown)
    assert "--snippet-words" in [o for p in command.params for o in p.opts]
    ctx = command.make_context("search", ["grain", "--snippet-words", "12"])
    assert ctx.params["snippet_words"] == 12
    bad = CliRunner().invoke(command, ["grain", "--snippet-words", "2"])
    assert bad.exit_code == 2 and "--snippet-words" in bad.output

    assert quick.parse(["search", "grain", "--snippet-words", "12"]).snippet_words == 12
    assert quick.parse(["search", "grain", "--snippet-words", "2"]) is None  # click says why

    assert from_query("search", {"snippet-words": ["12"]}).snippet_words == 12
    assert from_query("search", {}).snippet_words == 30
    with pytest.raises(RequestError, match="--snippet-words"):
        from_query("search", {"snippet-words": ["2"]})


def test_http_parameters_are_the_options_spellings():
    r = from_query("search", {"q": ["grain"], "n": ["3"], "facet": ["author", "lang"]})
    assert (r.query, r.limit, r.facets) == ("grain", 3, ("author", "lang"))
    assert from_query("search", {"limit": ["4"]}).limit == 4
    assert from_query("facets", {"facet-limit": ["2"]}, ["author"]).limit == 2
    assert from_query("ngrams", {"n": ["2..3"]}).size == "2..3"  # -n/--size
    f = from_query("search", {"category": ["A", "B"], "min-views": ["10"]}).filters()
    assert (f.category, f.min_views) == (["A", "B"], 10)
    # an empty value is no value (a form's empty field); a flag's empty value is set
    assert from_query("search", {"since": [""], "collapse": [""]}).values["since"] is None
    assert from_query("search", {"collapse": [""]}).collapse is True
    assert from_query("search", {"collapse": ["0"]}).collapse is False
    for name in ("json", "jsonl", "count", "l", "index"):  # output forms, paths: not the client's
        with pytest.raises(RequestError, match="unknown parameter"):
            from_query("search", {name: ["1"]})


# --------------------------------------------------------------------------------------------
# Many clients at once


@pytest.fixture
def gated(tmp_path):
    shutil.copytree(SAMPLE, tmp_path / "corpus")
    update_index(tmp_path / "index", [tmp_path / "corpus"])
    servers: list[subprocess.Popen] = []

    def start(*extra: str) -> tuple[int, str]:
        proc, port, token = start_gated(tmp_path / "index", tmp_path / "gates", *extra)
        servers.append(proc)
        return port, token

    yield tmp_path, start
    for proc in servers:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_searches_are_answered_while_two_long_analyses_run(gated):
    """Two collocates requests held inside their work (both at once: one lock would let only
    one in), and searches answered by the server meanwhile; released, the analyses answer
    what they answer without a server. Three workers at most: the third answers them all."""
    base, start = gated
    start("--workers", "3")
    gates = base / "gates"
    args = ["collocates", "grain", "--json", "--index", "index"]
    want = run_cli(args, base).stdout
    searches = {
        q: run_cli(["search", q, "--json", "--index", "index"], base).stdout
        for q in ("sanctions", "ferry", "grain")
    }
    env = cli_env(server=True)
    analyses = [
        subprocess.Popen([sys.executable, "-m", "corpus_search", *args], cwd=base, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    wait_for(
        lambda: len(held(gates, "collocates")) == 2 or any(p.poll() is not None for p in analyses)
    )
    assert len(held(gates, "collocates")) == 2  # both running at once
    for q, expected in searches.items():
        answer = _ask(base / "index", request(["search", q, "--json", "--index", "index"], base))
        assert (answer["code"], untimed(answer["stdout"])) == (0, untimed(expected))
    assert all(p.poll() is None for p in analyses)  # still held: the searches did not wait
    (gates / "collocates.open").touch()
    for p in analyses:
        out, err = p.communicate(timeout=120)
        assert (p.returncode, out, err) == (0, want, "")


def test_a_client_that_goes_away_ends_its_work(gated):
    base, start = gated
    start()
    gates = base / "gates"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
        conn.connect(str(base / "index" / SOCKET_NAME))
        line = json.dumps(request(["collocates", "grain", "--index", "index"], base))
        conn.sendall(line.encode() + b"\n")
        assert conn.recv(1) == ACCEPTED
        wait_for(lambda: held(gates, "collocates"))
        (worker,) = held(gates, "collocates")
        assert not gone(worker)
    wait_for(lambda: gone(worker))  # the gate never opened: it ended because its client left
    answer = _ask(base / "index", request(["search", "grain", "--count", "--index", "index"], base))
    assert (answer["code"], answer["stdout"]) == (0, "2\n")  # and the server goes on


def test_an_export_streams_and_a_reader_that_stops_ends_it(gated):
    """``export | head -1``: the first record arrives while the worker is still held before
    the second (the answer is not gathered first); the reader gone, the client ends at its
    next write, exit 0, and the server goes on. (Whether the worker still had output to send
    then depends on socket buffers; a client gone mid-answer ending its worker is shown with
    a worker held at a gate in the tests above and below.)"""
    base, start = gated
    start()
    gates = base / "gates"
    client = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "export", "*", "--index", "index"],
        cwd=base,
        env=cli_env(server=True),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    first = client.stdout.readline()
    assert json.loads(first)["id"]
    wait_for(lambda: held(gates, "records"))  # the first record came before the second is made
    (worker,) = held(gates, "records")
    client.stdout.close()  # the reader goes away (head -1 has its line)
    (gates / "records.open").touch()
    assert client.wait(60) == 0  # like grep: what was asked for was printed
    assert client.stderr.read() == b""
    assert worker > 0
    answer = _ask(base / "index", request(["search", "grain", "--count", "--index", "index"], base))
    assert (answer["code"], answer["stdout"]) == (0, "2\n")


def test_an_http_export_streams_in_chunks(gated):
    """Over HTTP too: the first record arrives (chunked) while the worker is held before the
    second; the connection closed, the worker ends."""
    base, start = gated
    port, token = start()
    gates = base / "gates"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/export?q=*&token={token}", headers={"Host": f"127.0.0.1:{port}"})
    r = conn.getresponse()
    assert r.status == 200 and r.getheader("Transfer-Encoding") == "chunked"
    assert json.loads(r.readline())["id"]
    wait_for(lambda: held(gates, "records"))  # the first record came before the second is made
    (worker,) = held(gates, "records")
    assert not gone(worker)
    r.close()  # the response holds the connection's socket too
    conn.close()
    wait_for(lambda: gone(worker))  # the gate never opened: it ended because its client left


def test_a_request_past_its_deadline_is_stopped_and_said_so(gated):
    base, start = gated
    start("--deadline", "1")
    r = run_cli(["collocates", "grain", "--index", "index"], base, server=True)
    assert r.returncode == 2 and r.stdout == ""
    assert "ran past the server's deadline (1 s" in r.stderr


def test_a_running_request_keeps_its_snapshot_across_a_commit(gated):
    """An export held after its first record while an update removes most of the corpus and
    commits: released, it answers every record of the index it started on; the next
    request answers from the commit."""
    base, start = gated
    start()
    gates = base / "gates"
    before = run_cli(["export", "*", "--sort", "date", "--index", "index"], base).stdout
    client = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "export", "*", "--sort", "date", "--index", "index"],
        cwd=base, env=cli_env(server=True), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    wait_for(lambda: held(gates, "records"))
    for path in sorted((base / "corpus").rglob("*.*"))[5:]:
        path.unlink()
    update_index(base / "index")
    (gates / "records.open").touch()
    out, err = client.communicate(timeout=120)
    assert (client.returncode, err) == (0, "")
    assert out == before and out.count("\n") > 5
    count = _ask(base / "index", request(["search", "*", "--count", "--index", "index"], base))
    assert count["stdout"] == "5\n"


def test_workers_read_their_own_files_at_the_real_shape(tmp_path):
    """2,000 articles in mixed layouts, several segments: exports and analyses answered by
    workers one after another and side by side each equal the CLI run by itself. (Workers
    forked with the server's open files shared one read offset: the second export read
    another's place and reported the index damaged after 1,028 of 2,226 BBC stories.)"""
    from test_serve import start

    from corpora import write_corpus

    write_corpus(tmp_path / "corpus")
    update_index(tmp_path / "index", [tmp_path / "corpus"])
    cases = [
        ["export", "*", "--sort", "date"],
        ["export", "grain", "--format", "csv"],
        ["kwic", "ferry", "-n", "0", "--json"],
        ["collocates", "grain", "--json"],
    ]
    want = {}
    for args in cases:
        r = run_cli([*args, "--index", "index"], tmp_path)
        assert r.returncode == 0 and r.stdout.count("\n") > 100, r.stderr
        want[tuple(args)] = r.stdout
    assert want[("export", "*", "--sort", "date")].count("\n") == 2000
    proc = start(tmp_path / "index")
    try:
        env = cli_env(server=True)
        for _round in range(2):  # one after another
            for args in cases:
                answer = _ask(tmp_path / "index", request([*args, "--index", "index"], tmp_path))
                assert (answer["code"], answer["stderr"]) == (0, "")
                assert answer["stdout"] == want[tuple(args)], args
        side_by_side = [
            subprocess.Popen([sys.executable, "-m", "corpus_search", *args, "--index", "index"], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for args in cases * 2
        ]  # fmt: skip
        for args, p in zip(cases * 2, side_by_side, strict=True):
            out, err = p.communicate(timeout=300)
            assert (p.returncode, err) == (0, "") and out == want[tuple(args)], args
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_http_workers_follow_commits(doors, tmp_path):
    """HTTP workers answer many requests each (warm); after a commit every request is
    answered from it, none from a worker made before."""
    base, port, token = doors

    def total() -> int:
        status, _h, body = get(port, f"/search?q=*&limit=0&token={token}")
        assert status == 200
        return json.loads(body)["total"]

    before = total()
    assert [total() for _ in range(6)] == [before] * 6
    late = base / "corpus" / "wire" / "late-http.txt"
    late.write_text("Late news\n\nA late grain story.\n", "utf-8")
    try:
        update_index(base / "index")
        assert [total() for _ in range(6)] == [before + 1] * 6
    finally:
        late.unlink()
        update_index(base / "index")
    assert [total() for _ in range(6)] == [before] * 6


HOSTILE_VALUES = ["", "0", "-1", "1", "2..3", "1e309", "nan", "inf", "9" * 40, "\x00", "é", "../..", "a" * 3000, "1,2", "*", "(", "date", "-date", "author", "true"]  # fmt: skip


def test_hostile_parameters_are_answered_not_crashed_on(doors):
    """Every endpoint, every parameter it takes, given odd values (seeded): each answer is a
    result or a one-line error with its status; none is a bug (500), none a dropped
    connection."""
    import random

    from corpus_search.serve import API

    base, port, token = doors
    rng = random.Random(24)
    seen: dict[int, int] = {}
    for name, takes_path in API.items():
        spec = SPECS[name]
        names = [n for o in spec.options if o.web for n in o.names]
        names += [a.web for a in spec.args if a.web and a.web != "path"]
        for _ in range(25):
            params = {n: rng.choice(HOSTILE_VALUES) for n in rng.sample(names, min(3, len(names)))}
            query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
            path = f"/{name}" + ("/author" if takes_path and name == "facets" else "")
            path += "/wire/2023-grain-deal.txt" if name == "show" else ""
            status, headers, body = get(port, f"{path}?{query}&token={token}")
            seen[status] = seen.get(status, 0) + 1
            assert status in (200, 400, 404), (path, params, status, body[:300])
            if status != 200:
                error = json.loads(body)["error"]
                assert error and "\n" not in error and "internal error" not in error, error
    assert seen.get(200) and seen.get(400)  # both kinds of answer were exercised


def test_nothing_of_the_servers_environment_or_a_previous_request_reaches_a_client(tmp_path):
    """The server runs with a config of its own (other default facets): a client's command
    line is answered as the client would answer it, without that config; requests for a
    terminal with colour and for a pipe, one after another in the same warm workers, each
    get their own rendering."""
    shutil.copytree(SAMPLE, tmp_path / "corpus")
    update_index(tmp_path / "index", [tmp_path / "corpus"])
    config = tmp_path / "server.yaml"
    config.write_text("facets: [lang, site]\n", "utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "serve", "--index", "index", "--workers", "1"],
        cwd=tmp_path,
        env=dict(os.environ, PYTHONPATH=str(REPO), CORPUS_SEARCH_CONFIG=str(config)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr.readline().startswith("serving ")
        args = ["search", "sanctions", "--index", "index"]
        here = run_cli(args, tmp_path)
        configured = subprocess.run(
            [sys.executable, "-m", "corpus_search", *args],
            cwd=tmp_path,
            env=cli_env(CORPUS_SEARCH_CONFIG=str(config)),
            capture_output=True,
            text=True,
        )
        assert untimed(configured.stdout) != untimed(here.stdout)  # the config would show
        base = request(args, tmp_path)
        for tty in (True, False, True, False):
            answer = _ask(tmp_path / "index", {**base, "stdout_tty": tty, "env": {}})
            assert answer["code"] == 0
            assert ("\x1b[" in answer["stdout"]) is tty  # colour for a terminal only
            if not tty:
                assert untimed(answer["stdout"]) == untimed(here.stdout)
        narrow = _ask(
            tmp_path / "index",
            {**base, "stdout_tty": True, "width": 40, "env": {"NO_COLOR": "1"}},
        )
        assert max(map(len, narrow["stdout"].splitlines())) <= 40
        assert "\x1b[" not in narrow["stdout"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_the_pages_form_is_made_from_the_declaration(doors):
    """The page's search form: a field for every declared filter under its HTTP name (a date
    field for dates, a number at least the option's bound for counts), the declared sort
    orders; and a filter set there narrows the search as the CLI's option does."""
    from corpus_search.request import FILTERS

    base, port, token = doors
    status, _h, body = get(port, f"/?token={token}")
    page = body.decode("utf-8")
    assert status == 200
    for opt in FILTERS:
        name = opt.names[0]
        field = re.search(rf'<input name="{re.escape(name)}"[^>]*>', page)
        assert field, name
        if opt.metavar == "DATE":
            assert 'type="date"' in field.group()
        if opt.kind == "int":
            assert f'type="number" min="{int(opt.low)}"' in field.group()
    sort = next(o for o in SPECS["search"].options if o.key == "sort")
    assert re.findall(r'<option value="([^"]+)"', page)[: len(sort.choices)] == list(sort.choices)
    cli_count = run_cli(["search", "*", "--min-views", "1000", "--count", "--index", "index"], base)
    status, _h, body = get(port, f"/?q=*&min-views=1000&token={token}")
    assert f"{int(cli_count.stdout)} hits" in body.decode("utf-8")


def test_a_connection_that_sends_nothing_does_not_hold_the_only_worker(tmp_path):
    """One worker, taken by a connection that never sends its request: it gives up waiting
    for it (here after 0.3 s) and answers the next client."""
    shutil.copytree(SAMPLE / "wire", tmp_path / "corpus")
    update_index(tmp_path / "index", [tmp_path / "corpus"])
    script = (
        "import sys\n"
        "import corpus_search.serve as s\n"
        "s.REQUEST_WAIT = 0.3\n"
        "from corpus_search.cli import main\n"
        f"sys.argv = ['corpus-search', 'serve', '--index', {str(tmp_path / 'index')!r}, "
        "'--http', '0', '--workers', '1']\n"
        "sys.exit(main())\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=dict(os.environ, PYTHONPATH=str(REPO)),
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.stderr.readline().strip())
        assert m and proc.stderr.readline().startswith("serving ")
        port, token = int(m.group(1)), m.group(2)
        with socket.create_connection(("127.0.0.1", port)) as silent:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as quiet:
                quiet.connect(str(tmp_path / "index" / SOCKET_NAME))
                status, _h, body = get(port, f"/search?q=grain&limit=0&token={token}")
                want = run_cli(["search", "grain", "--count", "--index", "index"], tmp_path)
                assert status == 200 and json.loads(body)["total"] == int(want.stdout) > 0
            assert silent.recv(1) == b""  # closed by the worker that waited for it
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_a_warm_worker_outlives_the_answers_it_gives(tmp_path):
    """One worker answers 40 requests in a row, over HTTP and the socket, and is the same
    process at the end: a client closing as soon as it has its answer is not a client gone
    mid-request (the worker killed itself then, and the next request handed to it was lost:
    "Remote end closed connection without response")."""
    shutil.copytree(SAMPLE / "wire", tmp_path / "corpus")
    update_index(tmp_path / "index", [tmp_path / "corpus"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "corpus_search", "serve", "--index", "index", "--http", "0",
         "--workers", "1"],
        cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(REPO)), stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)/\?token=(\S+)", proc.stderr.readline().strip())
        assert m and proc.stderr.readline().startswith("serving ")
        port, token = int(m.group(1)), m.group(2)

        def workers() -> set[str]:
            return set(Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split())

        wait_for(lambda: len(workers()) == 1)
        before = workers()
        want = run_cli(["search", "grain", "--count", "--index", "index"], tmp_path).stdout
        for n in range(40):
            if n % 2:
                status, _h, body = get(port, f"/search?q=grain&limit=0&token={token}")
                assert status == 200 and json.loads(body)["total"] == int(want)
            else:
                args = ["search", "grain", "--count", "--index", "index"]
                assert _ask(tmp_path / "index", request(args, tmp_path))["stdout"] == want
        assert workers() == before
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


def test_an_address_without_its_id_or_field_says_so(doors):
    base, port, token = doors
    for path, error in (
        ("/show", "/show/ID: the address needs the id"),
        ("/facets", "/facets/FIELD: the address needs the field"),
    ):
        status, _h, body = get(port, f"{path}?token={token}")
        assert (status, json.loads(body)) == (400, {"error": error})


def test_count_takes_queries_on_the_command_line_as_from_a_file(doors, tmp_path):
    base, port, token = doors
    (tmp_path / "q.txt").write_text("# narratives\nsanctions\n\ngrain OR gas\n", "utf-8")
    from_file = run_cli(
        ["count", "--queries", tmp_path / "q.txt", "--json", "--index", "index"], base
    )
    given = [
        "count",
        "--query",
        "sanctions",
        "--query",
        "grain OR gas",
        "--json",
        "--index",
        "index",
    ]
    inline = run_cli(given, base)
    assert from_file.returncode == inline.returncode == 0
    assert json.loads(inline.stdout) == json.loads(from_file.stdout)
    assert [q["query"] for q in json.loads(inline.stdout)["queries"]] == [
        "sanctions",
        "grain OR gas",
    ]
    none = run_cli(["count", "--index", "index"], base)
    assert none.returncode == 2 and "--queries FILE, or --query QUERY" in none.stderr
    bad = run_cli(["count", "--query", "grain", "--query", "(bad", "--index", "index"], base)
    assert (bad.returncode, bad.stdout) == (2, "") and "unbalanced" in bad.stderr
