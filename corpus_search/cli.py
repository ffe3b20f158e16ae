"""The command line: a thin click layer over the library.

Exit codes follow grep: 0 = hits (or success), 1 = no hits, 2 = error, 130 = interrupted.
Results go to stdout; messages, warnings and progress go to stderr. Heavy modules (Whoosh,
rich) are imported inside the commands that need them, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from . import commands
from .commands import Exit, Interrupted
from .commands import err as _err
from .commands import warn as _warn
from .errors import CorpusSearchError

PROG = commands.PROG


class _State:
    def __init__(
        self,
        config_path: str | None,
        debug: bool,
        index_dir: str | None = None,
        opensearch: str | None = None,
        client: commands.Client | None = None,
    ):
        self.opensearch = opensearch
        self.config_path = config_path
        self.debug = debug
        self.index_dir = index_dir
        self.client = client  # a served command line's: its folder, environment, streams
        self._config = None

    @property
    def config(self):
        if self._config is None:
            from .config import Config, load_config

            # a client sends its command line only when no config file can apply to it
            self._config = Config() if self.client else load_config(self.config_path)
        return self._config

    @property
    def environ(self):
        return self.client.environ if self.client else os.environ

    def index_path(self, flag: str | None):
        """The index folder as the command line names it (what messages and stats show)."""
        return self.config.resolve_index(flag or self.index_dir, self.environ)

    def index_location(self, flag: str | None):
        """Where that folder is: from a served client's folder, not this process's."""
        path = self.index_path(flag)
        if self.client and not path.is_absolute():
            return Path(self.client.cwd) / path
        return path

    def ignore_patterns(self):
        """File name patterns that are not articles: the config's, else the defaults."""
        from .articles import IGNORE_DEFAULT

        return self.config.ignore if self.config.ignore is not None else IGNORE_DEFAULT

    def include_patterns(self):
        """File name patterns that are articles: the config's, else the text-file defaults."""
        from .articles import INCLUDE_DEFAULT

        return self.config.include if self.config.include is not None else INCLUDE_DEFAULT

    def cluster_url(self) -> str | None:
        """The OpenSearch cluster the reading commands ask, when one is named (--opensearch,
        $CORPUS_SEARCH_OPENSEARCH_URL or the config's opensearch_url)."""
        return (
            self.opensearch
            or self.environ.get("CORPUS_SEARCH_OPENSEARCH_URL")
            or self.config.opensearch_url
        )

    def context(self) -> commands.Context:
        """Where a reading command reads and writes: this process's streams, or a served
        client's."""
        c = self.client
        return commands.Context(
            self.config,
            self.open_index,
            self.index_path,
            cluster=bool(self.cluster_url()),
            out=c.out if c else None,
            err=c.err if c else None,
            environ=c.environ if c else None,
            cwd=c.cwd if c else None,
        )

    def open_index(self, index_dir):
        """What a reading command asks: the OpenSearch cluster when one is named, else the
        local index (the server's open one, if any)."""
        url = self.cluster_url()
        if url:
            from .opensearch import ClusterIndex

            return ClusterIndex(url, self.config.opensearch_index)
        if self.client is not None:  # the server's open one, kept warm
            return self.client.indexes.get(self.index_location(index_dir))
        from .search import CorpusIndex

        return CorpusIndex(self.index_location(index_dir))

    def profiles(self):
        from .profiles import load_profiles

        profiles = load_profiles(self.config.resolved_profiles())
        profiles.path_rules = list(self.config.paths)
        profiles.field_map = dict(self.config.fields)
        profiles.default_language = self.config.default_language
        return profiles


# --------------------------------------------------------------------------------------------
# Shared options


def index_option(fn):
    """``--index`` for the commands not declared in request.py (index, roots, watch, serve),
    from the same declaration as the reading commands'."""
    from .request import INDEX

    return click.option(*INDEX.flags, INDEX.key, metavar=INDEX.metavar, help=INDEX.help)(fn)


# --------------------------------------------------------------------------------------------
# Commands that take a QUERY


class QueryCommand(click.Command):
    """A command whose QUERY words may start with ``-`` (``search -russia``, ``search
    -nuclear gas``): an argument that is not one of the command's options, spelled exactly,
    is a query word. Options and their values are recognised as usual, anywhere."""

    def parse_args(self, ctx, args):
        return super().parse_args(ctx, split_query_words(self, args))


def split_query_words(command: click.Command, args: list[str]) -> list[str]:
    """Reorder ``args`` as options first, then ``--`` and the query words in order."""
    takes_value: dict[str, click.Option] = {}
    flags: set[str] = set()
    for param in command.params:
        if isinstance(param, click.Option):
            for name in param.opts + param.secondary_opts:
                (
                    flags.add(name)
                    if param.is_flag or param.count
                    else takes_value.__setitem__(name, param)
                )
    options: list[str] = []
    words: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            words.extend(args[i + 1 :])
            break
        name = arg.split("=", 1)[0] if arg.startswith("--") else arg
        if name in flags or name in ("-h", "--help"):
            options.append(arg)
        elif name in takes_value:
            options.append(arg)
            if "=" not in arg and i + 1 < len(args):
                options.append(args[i + 1])
                i += 1
        elif (
            len(arg) > 2
            and arg[:2] in takes_value
            and not arg.startswith("--")
            and _converts(takes_value[arg[:2]], arg[2:])
        ):
            options.append(arg)  # -n5: a short option with its value attached
        elif arg.startswith("--") and len(arg) > 2:
            options.append(arg)  # an unknown long option: click names it
        else:
            words.append(arg)
        i += 1
    return options + (["--"] + words if words else [])


def _converts(option: click.Option, value: str) -> bool:
    try:
        option.type.convert(value, option, None)
        return True
    except click.BadParameter:
        return False


# --------------------------------------------------------------------------------------------
# The group


class CorpusGroup(click.Group):
    """A click group whose ``main`` maps errors to exit codes and one-line messages."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Interrupted() from None
        except BrokenPipeError:  # before click turns it into exit code 1
            return commands.reader_went_away()

    def main(
        self,
        args=None,
        prog_name=None,
        complete_var=None,
        standalone_mode=True,
        report=None,
        client=None,
        **extra,
    ):
        argv = list(args) if args is not None else sys.argv[1:]
        cut = argv.index("--") if "--" in argv else len(argv)
        debug = "--debug" in argv[:cut]
        if debug:  # --debug anywhere before --: after the command too (search x --debug)
            argv = ["--debug", *(a for a in argv[:cut] if a != "--debug"), *argv[cut:]]
        code = _run_mapped(
            lambda: super(CorpusGroup, self).main(
                args=argv,
                prog_name=prog_name or PROG,
                complete_var=complete_var,
                standalone_mode=False,
                obj=client,
                **extra,
            ),
            debug,
            report,
            client.err if client else None,
        )
        if standalone_mode:
            sys.exit(code)
        return code


@click.group(
    cls=CorpusGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option(
    "--config",
    "config_path",
    metavar="FILE",
    type=click.Path(dir_okay=False),
    help="Config file (default: ./corpus-search.yaml if present).",
)
@index_option
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.option(
    "--opensearch",
    "opensearch_url",
    metavar="URL",
    default=None,
    help="Search this OpenSearch cluster instead of the local index "
    "(or set opensearch_url: in the config).",
)
@click.version_option(package_name="corpus-search", prog_name=PROG)
@click.pass_context
def cli(ctx, config_path, index_dir, debug, opensearch_url):
    """Search collections of scraped news articles from the shell.

    \b
    Build an index once, update it as files arrive, then search:
      corpus-search index sample_corpus/
      corpus-search search 'sanctions AND "open skies"' --facet category
      corpus-search search 'author:"Ainur Kurmanov"' --since 2021 --json | jq '.hits[].title'

    Exit codes: 0 hits or success, 1 no hits, 2 error, 130 interrupted.
    """
    client = ctx.obj if isinstance(ctx.obj, commands.Client) else None
    ctx.obj = _State(config_path, debug, index_dir, opensearch_url, client)


# --------------------------------------------------------------------------------------------
# parse


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of records.")
@click.option(
    "--explain",
    is_flag=True,
    help="List every removed line and the rule that removed it; for a record file, which "
    "keys filled which fields.",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    metavar="N",
    help="Records shown of each file of many records (JSON lines, CSV, WARC...); 0 for all.",
)
@click.pass_obj
def parse(state, paths, as_json, explain, limit):
    """Show how article files are read: metadata fields and the clean body.

    PATHS are files or folders. Exit 0 if every file parsed, 2 if any failed (the good ones
    are still printed).
    """
    from .articles import iter_files, read_articles
    from .formats import MANY, file_kind

    profiles = state.profiles()
    cfg = state.config
    walk_errors: list = []
    passed_over: list = []
    records = []
    shown = 0
    failed = 0
    console = None
    if not as_json:
        from .render import make_console

        console = make_console()
    for path, root in iter_files(
        paths, state.ignore_patterns(), walk_errors, state.include_patterns(), passed_over
    ):
        many = file_kind(path.name).kind in MANY
        n = 0
        for article in read_articles(
            path, root=root, profiles=profiles, max_bytes=cfg.max_bytes, explain=explain
        ):
            if isinstance(article, CorpusSearchError):
                failed += 1
                _err(str(article))
                continue
            n += 1
            if many and limit and n > limit:
                continue  # counted, to say how many were left out
            for w in article.warnings:
                _warn(w)
            if as_json:
                rec = article.to_dict()
                if explain:
                    rec = dict(
                        rec,
                        removed=[
                            {"line": r.line, "text": r.text, "rule": r.rule}
                            for r in article.removed
                        ],
                        profile=article.profile,
                        encoding=article.encoding,
                        from_path=article.from_path,
                        read_as=article.read_as,
                    )
                records.append(rec)
            else:
                from .render import print_article

                if shown:
                    console.rule()
                print_article(
                    article.to_dict(),
                    console,
                    removed=article.removed if explain else None,
                    from_path=article.from_path if explain else None,
                    read_as=article.read_as if explain else None,
                )
                shown += 1
        if many and limit and n > limit:
            _err(f"{path}: {n - limit} more records not shown (-n 0 shows all {n})")
    for problem in walk_errors:
        failed += 1
        _err(str(problem))
    for problem in passed_over:
        _err(f"skipped {problem}")
    if as_json:
        from .render import write_json

        write_json(records)
    return Exit.ERROR if failed else Exit.OK


# --------------------------------------------------------------------------------------------
# index


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path())
@index_option
@click.option(
    "--rebuild",
    is_flag=True,
    help="Build a fresh index beside the old one and swap it in when complete.",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for another indexing run to finish.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
@click.option(
    "--procs",
    type=click.IntRange(1, 16),
    default=None,
    metavar="N",
    help="Writer processes (default: 2 when over 1,000 files change).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar, no per-file lines.")
@click.pass_obj
def index(state, paths, index_dir, rebuild, wait, as_json, procs, quiet):
    """Build or update the index from article files and folders.

    With no PATHS, the folders indexed before (or the config's roots) are walked again. New
    files are added, changed ones replaced (by content hash), deleted ones removed.
    """
    from .indexer import update_index

    cfg = state.config
    path = state.index_path(index_dir)
    if not paths and cfg.roots:  # the config's roots, unless the index remembers its own
        from .store import IndexFolder

        try:
            remembered = (IndexFolder(path).read_meta() or {}).get("roots")
        except CorpusSearchError:
            remembered = None
        if not remembered:
            paths = tuple(str(p) for p in cfg.resolved_roots())
    progress = None
    if not quiet and sys.stderr.isatty():
        from .render import make_console, progress_bar

        progress = progress_bar(make_console(stderr=True))

    def on_skip(p, reason):
        if not quiet:
            _err(f"skipped {p}: {reason}")

    def on_warning(w):
        if not quiet:
            _warn(w)

    report = update_index(
        path,
        list(paths) or None,
        rebuild=rebuild,
        profiles=state.profiles(),
        ignore=state.ignore_patterns(),
        include=state.include_patterns(),
        max_bytes=cfg.max_bytes,
        wait=wait,
        progress=progress,
        procs=procs or 0,
        on_skip=on_skip,
        on_warning=on_warning,
    )
    if as_json:
        from .render import write_json

        write_json(report.to_dict())
    else:
        from .render import make_console, print_index_report

        print_index_report(report, make_console(stderr=False))
    return Exit.OK


# --------------------------------------------------------------------------------------------
# roots


@cli.command()
@index_option
@click.option(
    "--forget",
    multiple=True,
    metavar="PATH",
    help="Stop indexing this remembered folder or file and remove its articles (repeatable).",
)
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    default=5.0,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for an indexing run to finish.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the roots as JSON.")
@click.pass_obj
def roots(state, index_dir, forget, wait, as_json):
    """List the corpus folders (and single files) the index remembers, or forget some.

    A plain 'corpus-search index' walks these again. A remembered folder that no longer
    exists stops the run with an error until it is forgotten here.
    """
    from .indexer import forget_roots, list_roots

    path = state.index_path(index_dir)
    if forget:
        report = forget_roots(path, forget, wait=wait)
        _err(f"forgot {len(forget)} root(s); removed {report.removed} article(s)")
    listed = list_roots(path)
    if as_json:
        from .render import write_json

        write_json(listed)
    else:
        for r in listed:
            missing = "" if r["exists"] else "  (missing)"
            click.echo(f"{r['root']}\t{r['kind']}\t{r['documents']}{missing}")
    return Exit.OK


# --------------------------------------------------------------------------------------------
# The commands that read the index: built from their declarations (request.py)


def _click_params(spec) -> list[click.Parameter]:
    """The click arguments and options of a declared command."""
    kinds: dict[str, Any] = {
        "file": click.Path(dir_okay=False),
        "dir": click.Path(file_okay=False),
    }
    params: list[click.Parameter] = [
        click.Argument(
            [arg.key],
            nargs=arg.nargs,
            required=arg.required,
            metavar=arg.metavar,
            type=click.Choice(arg.choices) if arg.choices else None,
        )
        for arg in spec.args
    ]
    for opt in spec.options:
        if opt.kind == "int":
            kind: Any = click.IntRange(min=opt.low, max=opt.high)
        elif opt.kind == "float":
            kind = click.FloatRange(min=opt.low, max=opt.high, min_open=opt.low_open)
        elif opt.kind == "choice":
            kind = click.Choice(opt.choices)
        else:
            kind = kinds.get(opt.kind)
        params.append(
            click.Option(
                [*opt.flags, opt.key],
                type=None if opt.kind == "flag" else kind,
                is_flag=opt.kind == "flag",
                multiple=opt.multiple,
                required=opt.required,
                default=opt.default if opt.kind != "flag" else False,
                show_default=opt.show_default,
                metavar=opt.metavar,
                help=opt.help or None,
            )
        )
    return params


def _reading_command(spec) -> click.Command:
    from .request import Request

    def run(**values):
        state = click.get_current_context().find_object(_State)
        return commands.execute(Request(spec.name, values), state.context())

    return (QueryCommand if spec.query_words else click.Command)(
        spec.name, callback=run, params=_click_params(spec), help=spec.help
    )


def _add_reading_commands() -> None:
    from .request import SPECS

    for spec in SPECS.values():
        cli.add_command(_reading_command(spec))


_add_reading_commands()


@cli.group()
def watch():
    """Saved queries whose new matches each indexing run names (following a narrative as
    files arrive).

    \b
      corpus-search watch add grain-deal '"grain deal" OR "black sea" grain'
      corpus-search index                  # ... watched: grain-deal 3 new
      corpus-search watch show grain-deal --new
    """


@watch.command("add")
@click.argument("name")
@click.argument("query", nargs=-1, required=True)
@index_option
@click.pass_obj
def watch_add(state, name, query, index_dir):
    """Save QUERY as NAME: later indexing runs count its new matches."""
    from . import watch as watching
    from .store import IndexFolder

    folder = IndexFolder(state.index_path(index_dir))
    folder.require_meta()
    watching.add(folder.path, name, " ".join(query))
    _err(f"watching {name!r}: each indexing run will name its new matches")
    return Exit.OK


@watch.command("remove")
@click.argument("name")
@index_option
@click.pass_obj
def watch_remove(state, name, index_dir):
    """Stop watching NAME."""
    from . import watch as watching

    watching.remove(state.index_path(index_dir), name)
    return Exit.OK


@watch.command("list")
@index_option
@click.option("--json", "as_json", is_flag=True, help="{NAME: {query, created, seen_run}}.")
@click.pass_obj
def watch_list(state, index_dir, as_json):
    """The watched queries."""
    from . import watch as watching

    watches = watching.load(state.index_path(index_dir))["watches"]
    if as_json:
        from .render import write_json

        write_json(watches)
    else:
        from .render import visible

        for name, w in sorted(watches.items()):
            click.echo(visible(f"{name}\t{w['query']}"))
    return Exit.OK


@watch.command("show")
@click.argument("name")
@index_option
@click.option("--new", "only_new", is_flag=True, help="Only the matches since the last look.")
@click.option("-n", "--limit", type=click.IntRange(min=0), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="As search --json (with 'watch' and 'new').")
@click.pass_obj
def watch_show(state, name, index_dir, only_new, limit, as_json):
    """The matches of watched query NAME, newest first; with --new, only those added or
    changed since the last look (which this marks as seen)."""
    from . import watch as watching

    path = state.index_path(index_dir)
    query = watching.load(path)["watches"].get(name, {}).get("query")
    fresh, run = watching.new_ids(path, name)  # an unknown name is an error here
    with state.open_index(index_dir) as ix:
        result = ix.search(query, sort="-date", limit=max(limit, 1) if not only_new else 10**9)
        hits = [h for h in result.hits if not only_new or h.record["id"] in fresh]
    hits = hits[:limit] if limit else hits
    if only_new:
        watching.mark_seen(path, name, run)
    if as_json:
        from .render import write_json

        write_json(
            {
                "watch": name,
                "query": query,
                "new": only_new,
                "total": len(hits) if only_new else result.total,
                "hits": [h.to_dict() for h in hits],
            }
        )
    else:
        from .render import visible

        click.echo(
            f"{len(hits)} new matches of {name!r}"
            if only_new
            else f"{result.total} matches of {name!r} (newest first)"
        )
        for h in hits:
            r = h.record
            click.echo(
                visible(
                    f"  {(r['published'] or 'undated')[:10]}  {r['title'] or '(no title)'}  {r['id']}"
                )
            )
    return Exit.OK if hits else Exit.NO_HITS


# --------------------------------------------------------------------------------------------
# serve


@cli.command()
@index_option
@click.option(
    "--http",
    "http_port",
    type=click.IntRange(0, 65535),
    default=None,
    metavar="PORT",
    help="Also answer JSON over HTTP on this port (0: any free one).",
)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address for --http (anything but this machine exposes your corpus).",
)
@click.option(
    "--deadline",
    type=click.FloatRange(min=0.1),
    default=300.0,
    show_default=True,
    metavar="SECONDS",
    help="Stop a request that runs longer (its client is told so).",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Requests answered at once (default: twice the cores, at least 4); more wait.",
)
@click.pass_obj
def serve(state, index_dir, http_port, host, deadline, workers):
    """Keep the index open and answer many questions fast.

    While it runs, the commands that read the index (search, facets, timeline, show, stats,
    count, explain, kwic, collocates, ngrams, keywords, dispersion, reprints, reuse, export)
    hand their arguments to it and print exactly what they would have printed themselves,
    as it comes. Each request is answered by a worker process of its own, so a long analysis
    never holds a search back. With --http PORT it also answers the same JSON over HTTP on
    127.0.0.1; the first line on stderr is the address with its access token. Ctrl-C stops it.
    """
    from .serve import Server

    server = Server(
        state.index_path(index_dir), deadline=deadline, config=state.config, workers=workers or 0
    )
    if server.serve(http_port, host, announce=lambda line: click.echo(line, err=True)):
        _err("interrupted; the server stopped")
        return Exit.INTERRUPTED  # Ctrl-C: 130, as the README says of every command
    return Exit.OK


# --------------------------------------------------------------------------------------------
# opensearch


@cli.group()
def opensearch():
    """Prepare an OpenSearch (or Elasticsearch) index from your corpus.

    \b
      corpus-search opensearch mapping > mapping.json      # PUT /corpus-search
      corpus-search opensearch bulk CORPUS > bulk.ndjson    # POST /_bulk
    """


@opensearch.command("mapping")
def opensearch_mapping():
    """Print the index settings and mapping that mirror corpus-search's schema (JSON)."""
    from .opensearch import settings_and_mapping
    from .render import write_json

    write_json(settings_and_mapping())
    return Exit.OK


@opensearch.command("bulk")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option(
    "--index-name",
    default="corpus-search",
    show_default=True,
    help="The OpenSearch index the actions name.",
)
@click.pass_obj
def opensearch_bulk(state, paths, index_name):
    """Print the bulk NDJSON of the articles under PATHS, cleaned as 'index' cleans them.

    Load it with your own tools (curl -H 'Content-Type: application/x-ndjson' --data-binary
    @bulk.ndjson URL/_bulk). Files that cannot be read are reported on stderr and left out;
    exit 2 if any was.
    """
    from .articles import iter_files, read_articles
    from .opensearch import bulk_lines

    profiles = state.profiles()
    walk_errors: list = []
    failed = 0

    def records():
        nonlocal failed
        for path, root in iter_files(
            paths, state.ignore_patterns(), walk_errors, state.include_patterns()
        ):
            for article in read_articles(
                path, root=root, profiles=profiles, max_bytes=state.config.max_bytes
            ):
                if isinstance(article, CorpusSearchError):
                    failed += 1
                    _err(str(article))
                else:
                    yield article.to_dict()

    for line in bulk_lines(records(), index_name):
        click.echo(line)
    for problem in walk_errors:
        failed += 1
        _err(str(problem))
    return Exit.ERROR if failed else Exit.OK


@opensearch.command("push")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--chunk",
    type=click.IntRange(min=1),
    default=500,
    show_default=True,
    help="Documents per bulk request.",
)
@click.option(
    "--prune", is_flag=True, help="Delete the cluster's documents that are not among these files."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_obj
def opensearch_push(state, paths, chunk, prune, as_json):
    """Parse the articles under PATHS with corpus-search's cleaner and send them to the cluster
    (--opensearch URL or the config's opensearch_url), new and changed ones only (by content
    hash). Refused requests (429, 5xx) are retried with backoff; other failures are counted by
    reason. Exit 2 if any document failed.
    """
    from .articles import article_id, iter_files, read_articles
    from .opensearch import ClusterIndex, push

    url = (
        state.opensearch
        or os.environ.get("CORPUS_SEARCH_OPENSEARCH_URL")
        or state.config.opensearch_url
    )
    if not url:
        raise CorpusSearchError(
            "no cluster: give --opensearch URL (or opensearch_url: in the config)"
        )
    paths = paths or tuple(str(p) for p in state.config.resolved_roots())
    if not paths:
        raise CorpusSearchError(
            "no corpus folder given: corpus-search --opensearch URL opensearch push PATH..."
        )
    profiles = state.profiles()
    walk_errors: list = []
    skipped = 0

    files: Any = list(
        iter_files(paths, state.ignore_patterns(), walk_errors, state.include_patterns())
    )
    if sys.stderr.isatty():  # a bar on a terminal only
        from .render import make_console, progress_bar

        files = progress_bar(make_console(stderr=True))(files, len(files))

    unread: set[str] = set()  # the ids of files not read this run: --prune keeps them

    def records():
        nonlocal skipped
        for path, root in files:
            for article in read_articles(
                path, root=root, profiles=profiles, max_bytes=state.config.max_bytes
            ):
                if isinstance(article, CorpusSearchError):
                    skipped += 1
                    unread.add(article_id(path, root))
                    _err(f"skipped {article}")
                else:
                    yield article.to_dict()

    with ClusterIndex(url, state.config.opensearch_index) as cluster:
        report = push(cluster, records(), chunk=chunk, prune=prune, keep=unread)
    for problem in walk_errors:
        skipped += 1
        _err(f"skipped {problem}")
    summary = dict(report.to_dict(), skipped=skipped)
    if as_json:
        from .render import write_json

        write_json(summary)
    else:
        failed = ", ".join(f"{n} {why}" for why, n in sorted(report.failed.items())) or "none"
        click.echo(
            f"pushed to {report.index}: {report.added} added, {report.updated} updated, "
            f"{report.unchanged} unchanged, {report.deleted} deleted, {skipped} skipped; "
            f"failed: {failed} ({report.retries} retries)"
        )
    return Exit.ERROR if report.failed else Exit.OK


# --------------------------------------------------------------------------------------------
# Entry point


def _click_outcome(exc: BaseException, stream=None) -> int | None:
    """The exit code of click's own outcomes (--help, --version, usage errors); messages to
    stderr, or ``stream``."""
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.exceptions.Abort):
        _err("interrupted", stream)
        return Exit.INTERRUPTED
    if isinstance(exc, click.ClickException):
        exc.show(file=stream)
        return Exit.ERROR
    return None


def _run_mapped(invoke, debug: bool, report=None, stream=None) -> int:
    """Run a click invocation, mapping every outcome to a grep-style exit code."""
    return commands.run_mapped(
        invoke, debug, lambda exc: _click_outcome(exc, stream), report, stream
    )


def main() -> int:
    """Console entry point."""
    return cli.main(prog_name=PROG)
