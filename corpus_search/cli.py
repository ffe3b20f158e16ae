"""The command line: a thin click layer over the library.

Exit codes follow grep: 0 = hits (or success), 1 = no hits, 2 = error, 130 = interrupted.
Results go to stdout; messages, warnings and progress go to stderr. Heavy modules (Whoosh,
rich) are imported inside the commands that need them, so ``--help`` stays fast.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from . import commands, vocab
from .commands import Exit, Interrupted
from .commands import err as _err
from .commands import warn as _warn
from .errors import CorpusSearchError, NotFoundError

PROG = commands.PROG

#: Set by ``corpus-search serve`` while it runs a command: its open indexes (kept warm).
INDEXES: Any = None


def open_corpus_index(path):
    """The index a command reads: the server's open one, or one opened (and closed) here."""
    if INDEXES is not None:
        return INDEXES.get(path)
    from .search import CorpusIndex

    return CorpusIndex(path)


class _State:
    def __init__(
        self,
        config_path: str | None,
        debug: bool,
        index_dir: str | None = None,
        opensearch: str | None = None,
    ):
        self.opensearch = opensearch
        self.config_path = config_path
        self.debug = debug
        self.index_dir = index_dir
        self._config = None

    @property
    def config(self):
        if self._config is None:
            from .config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def index_path(self, flag: str | None):
        return self.config.resolve_index(flag or self.index_dir)

    def ignore_patterns(self):
        """File name patterns that are not articles: the config's, else the defaults."""
        from .articles import IGNORE_DEFAULT

        return self.config.ignore if self.config.ignore is not None else IGNORE_DEFAULT

    def include_patterns(self):
        """File name patterns that are articles: the config's, else the text-file defaults."""
        from .articles import INCLUDE_DEFAULT

        return self.config.include if self.config.include is not None else INCLUDE_DEFAULT

    def open_index(self, index_dir):
        """What a reading command asks: the OpenSearch cluster when one is named (--opensearch
        or the config's opensearch_url), else the local index (the server's open one, if any)."""
        url = (
            self.opensearch
            or os.environ.get("CORPUS_SEARCH_OPENSEARCH_URL")
            or self.config.opensearch_url
        )
        if url:
            from .opensearch import ClusterIndex

            return ClusterIndex(url, self.config.opensearch_index)
        return open_corpus_index(self.index_path(index_dir))

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
    return click.option(
        "--index",
        "index_dir",
        metavar="DIR",
        help="Index folder (default: $CORPUS_SEARCH_INDEX, the config's 'index:', else ./index).",
    )(fn)


def timeout_option(fn):
    return click.option(
        "--timeout",
        type=click.FloatRange(min=0.01),
        default=None,
        metavar="SECONDS",
        help="Stop a query that runs longer (default 10, or the config's timeout).",
    )(fn)


def filter_options(fn):
    opts = [
        click.option(
            "--category",
            multiple=True,
            metavar="X",
            help="Only this category (repeatable: any of them).",
        ),
        click.option("--tag", multiple=True, metavar="X", help="Only this tag (repeatable)."),
        click.option("--author", multiple=True, metavar="X", help="Only this author (repeatable)."),
        click.option("--place", multiple=True, metavar="X", help="Only this place (repeatable)."),
        click.option("--source", multiple=True, metavar="X", help="Only this source (repeatable)."),
        click.option(
            "--site",
            multiple=True,
            metavar="X",
            help="Only this site: the host of the article's address, without www. (repeatable).",
        ),
        click.option(
            "--lang", multiple=True, metavar="X", help="Only this language code (repeatable)."
        ),
        click.option(
            "--since",
            metavar="DATE",
            help="On or after DATE (2021, 2021-07 or 2021-07-02), by the article's own date.",
        ),
        click.option(
            "--until",
            metavar="DATE",
            help="On or before DATE (inclusive), by the article's own date.",
        ),
        click.option(
            "--min-views", type=click.IntRange(min=0), metavar="N", help="At least N views."
        ),
    ]
    for opt in reversed(opts):
        fn = opt(fn)
    return fn


def _filters(kw):
    from .search import Filters

    return Filters(
        category=list(kw.pop("category")),
        tag=list(kw.pop("tag")),
        author=list(kw.pop("author")),
        place=list(kw.pop("place")),
        source=list(kw.pop("source")),
        site=list(kw.pop("site")),
        lang=list(kw.pop("lang")),
        since=kw.pop("since"),
        until=kw.pop("until"),
        min_views=kw.pop("min_views"),
    )


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
                **extra,
            ),
            debug,
            report,
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
    ctx.obj = _State(config_path, debug, index_dir, opensearch_url)


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
# stats


@cli.command()
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_obj
def stats(state, index_dir, as_json):
    """What the index holds: documents, size, sources, languages, dates, roots."""
    from .indexer import index_stats

    if (
        state.opensearch
        or os.environ.get("CORPUS_SEARCH_OPENSEARCH_URL")
        or state.config.opensearch_url
    ):
        with state.open_index(index_dir) as cluster:
            figures = cluster.stats()
    else:
        figures = index_stats(state.index_path(index_dir))
    if as_json:
        from .render import write_json

        write_json(figures)
    else:
        from .render import make_console, print_stats

        print_stats(figures, make_console())
    return Exit.OK


# --------------------------------------------------------------------------------------------
# search

QUERY_HELP = """Search the index. QUERY uses this language (all words must match by default):

\b
  sanctions ukraine            both words (stemmed: sanctions ~ sanction, санкций ~ санкции)
  gas OR oil, NOT russia, -russia, ( )
  "open skies"                 exact phrase;  "open skies"~3  within 3 words
  "sanction"                   one quoted word: as written, not stemmed
  governm*  tleuberd?          wildcards, on the words as written
  tleuberdy~  tleubedri~2      fuzzy: 1 (or 2) edits away
  title:kazakhstan             in the title only
  author:"Ainur Kurmanov"  category:Скандал  tag:...  place:Almaty  source:...  lang:ru
  site:reuters.com  url:*/2023/07/*
  published:2021  published:2021-07  published:[2021-01-01 TO 2021-06-30]  published:>2021-06
  views:>1000  views:[100 TO 500]  words:<300
  *  (or an empty query)       every article

Exit codes: 0 hits, 1 no hits, 2 error (bad query, no index), 130 interrupted.
"""


@cli.command(cls=QueryCommand, help=QUERY_HELP)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "--facet",
    "facets",
    multiple=True,
    type=click.Choice(vocab.FACETS),
    help="Count hits by this field (repeatable).",
)
@click.option(
    "--facet-limit",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    metavar="N",
    help="Values shown per facet.",
)
@click.option(
    "--sort",
    type=click.Choice(vocab.SORTS),
    default="relevance",
    show_default=True,
    help="date: oldest first; -date: newest first.",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="Hits per page.",
)
@click.option(
    "--page", type=click.IntRange(min=1), default=1, show_default=True, help="Page to show."
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object with the hits (see README).")
@click.option("--jsonl", is_flag=True, help="One JSON hit per line.")
@click.option("--count", "count_only", is_flag=True, help="Print only the number of hits.")
@click.option(
    "-l",
    "--files-with-matches",
    "files_only",
    is_flag=True,
    help="Print only the paths of matching files.",
)
@click.option("--fields", metavar="A,B", help="Only these keys in each JSON hit.")
@click.option(
    "--mark",
    metavar="OPEN,CLOSE",
    default="[[,]]",
    show_default=True,
    help="Markers around matches in JSON and plain-text snippets.",
)
@timeout_option
@click.option(
    "--collapse",
    is_flag=True,
    help="Count and show each cluster of reprints once (its earliest member).",
)
@click.pass_obj
def search(
    state,
    query,
    index_dir,
    facets,
    facet_limit,
    sort,
    limit,
    page,
    as_json,
    jsonl,
    count_only,
    files_only,
    fields,
    mark,
    timeout,
    collapse,
    **kw,
):
    return commands.search(
        lambda: state.open_index(index_dir),
        state.config,
        " ".join(query),
        _filters(kw),
        list(facets),
        facet_limit=facet_limit,
        sort=sort,
        limit=limit,
        page=page,
        as_json=as_json,
        jsonl=jsonl,
        count_only=count_only,
        files_only=files_only,
        fields=fields,
        mark=mark,
        timeout=timeout,
        collapse=collapse,
    )


# --------------------------------------------------------------------------------------------
# show


@cli.command()
@click.argument("doc_ids", metavar="ID...", nargs=-1, required=True)
@index_option
@click.option(
    "--json", "as_json", is_flag=True, help="Print the record as JSON (several: a JSON array)."
)
@click.option(
    "--reuse",
    is_flag=True,
    help="Also the passages found in earlier articles, with their sources (reads the index).",
)
@click.pass_obj
def show(state, doc_ids, index_dir, as_json, reuse):
    """Print articles from the index: metadata and clean body.

    Each ID is as in search results, or the article's file path as 'search -l' prints it, so
    'corpus-search search QUERY -l | xargs corpus-search show' works.
    """

    with state.open_index(index_dir) as ix:
        records = []
        for doc_id in doc_ids:
            record = ix.get(doc_id)
            if record is None:
                raise NotFoundError(
                    f"no article with id {doc_id!r} in the index "
                    "(ids are paths relative to the corpus folder, as search prints them)"
                )
            if reuse:
                if not hasattr(ix, "reused_from"):
                    raise CorpusSearchError("show --reuse works on a local index")
                record = dict(record, reused_from=ix.reused_from(record["id"]))
            records.append(record)
    if as_json:
        from .render import write_json

        write_json(records[0] if len(records) == 1 else records)
    else:
        from .render import make_console, print_article

        console = make_console()
        for n, record in enumerate(records):
            if n:
                console.rule()
            print_article(record, console)
    return Exit.OK


# --------------------------------------------------------------------------------------------
# facets


@cli.command()
@click.argument("field", type=click.Choice(vocab.FACETS))
@index_option
@click.option(
    "--query",
    "query_text",
    default="",
    metavar="QUERY",
    help="Count over this query's matches only.",
)
@filter_options
@click.option("--sort", type=click.Choice(["count", "name"]), default="count", show_default=True)
@click.option(
    "--facet-limit",
    "--limit",
    "limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="At most N values (--limit is the older spelling).",
)
@click.option("--json", "as_json", is_flag=True, help="Print {field, values: [{value, count}]}.")
@click.pass_obj
def facets(state, field, index_dir, query_text, sort, limit, as_json, **kw):
    """List the values of FIELD across the index (or a query's matches) with counts."""

    filters = _filters(kw)
    with state.open_index(index_dir) as ix:
        fc = ix.facet(field, query_text, filters, limit=limit, sort=sort)
    if as_json:
        from .render import write_json

        write_json({"field": field, **fc.to_dict()})
    else:
        from .render import make_console, print_facets

        print_facets([fc], make_console())
    return Exit.OK if fc.values else Exit.NO_HITS


# --------------------------------------------------------------------------------------------
# timeline


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "--by",
    type=click.Choice(vocab.PERIODS),
    default=None,
    help="Period (default: chosen from the span of the results).",
)
@click.option(
    "--split",
    type=click.Choice(vocab.FACETS),
    default=None,
    help="One series per value of this field.",
)
@click.option(
    "--json", "as_json", is_flag=True, help="Print {by, total, buckets: [{period, count}]}."
)
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="Print CSV: period,count (with --split: period,value,count).",
)
@click.pass_obj
def timeline(state, query, index_dir, by, split, as_json, as_csv, **kw):
    """Hits over time: a bar per period, empty periods shown as zero."""

    filters = _filters(kw)
    with state.open_index(index_dir) as ix:
        tl = ix.timeline(" ".join(query), filters, by=by, split=split)
    if as_json:
        from .render import write_json

        write_json(tl.to_dict())
    elif as_csv:
        from .render import write_timeline_csv

        write_timeline_csv(tl)
    else:
        from .render import make_console, print_timeline

        print_timeline(tl, make_console())
    return Exit.OK if tl.total else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_option
@click.option(
    "-n",
    "--hits",
    type=click.IntRange(min=0),
    default=3,
    show_default=True,
    help="Also show how the first N hits' scores were made, term by term (0: none).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@timeout_option
@click.pass_obj
def explain(state, query, index_dir, hits, as_json, timeout):
    """What each word of QUERY matches, per language: the forms it stands for and in how
    many articles of that language each occurs (what a count counted).

    Exit 0 when some word matched, 1 when none did.
    """
    with state.open_index(index_dir) as ix:
        if not hasattr(ix, "explain"):
            raise CorpusSearchError("explain works on a local index, not on a cluster")
        result = ix.explain(" ".join(query), hits=hits, timeout=timeout or state.config.timeout)
    if as_json:
        from .render import write_json

        write_json(result)
    else:
        from .render import make_console, print_explain

        print_explain(result, make_console())
    found = any(g["articles"] for w in result["words"] for g in w["languages"])
    return Exit.OK if found else Exit.NO_HITS


# --------------------------------------------------------------------------------------------
# Research commands: reprints, kwic, collocates, count, export


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "--threshold",
    type=click.FloatRange(min=0, max=1, min_open=True),
    default=0.8,
    show_default=True,
    help="Estimated share of 5-word sequences two articles share.",
)
@click.option(
    "--min-size",
    type=click.IntRange(min=2),
    default=2,
    show_default=True,
    help="Smallest cluster shown.",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Clusters shown on the terminal (0: all); JSON has them all.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@timeout_option
@click.pass_obj
def reprints(state, query, index_dir, threshold, min_size, limit, as_json, timeout, **kw):
    """Clusters of articles that are the same story: who published it, and who was first.

    Among the articles matching QUERY and the filters (all, without them): reprints under
    another headline, with another site's header and footer, changed typography, a paragraph
    added or cut. Largest clusters first, members oldest first. Exit 0 if any cluster, 1 if none.
    """

    with state.open_index(index_dir) as ix:
        result = ix.reprints(
            " ".join(query),
            _filters(kw),
            threshold=threshold,
            min_size=min_size,
            timeout=timeout or state.config.timeout,
        )
    if as_json:
        from .render import write_json

        write_json(result.to_dict())
    else:
        from .render import make_console, print_reprints

        shown = (
            result
            if not limit
            else type(result)(
                result.threshold, result.min_size, result.articles, result.clusters[:limit]
            )
        )
        print_reprints(shown, make_console())
    return Exit.OK if result.clusters else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_option
@filter_options
@click.option(
    "--width",
    type=click.IntRange(min=1),
    default=40,
    show_default=True,
    help="Characters of context each side.",
)
@click.option(
    "--sort",
    type=click.Choice(("date", "left", "right", "source")),
    default="date",
    show_default=True,
    help="left/right: by the words nearest the match on that side.",
)
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=100,
    show_default=True,
    help="Lines shown (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@click.option("--jsonl", is_flag=True, help="One JSON line per occurrence.")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: id,published,source,left,match,right.")
@click.option(
    "--lemma",
    is_flag=True,
    help="Name each match's lexeme in its article's language and group the lines by it.",
)
@timeout_option
@click.pass_obj
def kwic(state, query, index_dir, width, sort, limit, as_json, jsonl, as_csv, lemma, timeout, **kw):
    """Concordance: every occurrence of QUERY's matches in context, one line each.

    The match is centred with WIDTH characters each side, from titles and bodies of every
    matching article. Exit 0 if anything matched, 1 if not.
    """

    text = " ".join(query)
    with state.open_index(index_dir) as ix:
        conc = ix.kwic(
            text,
            _filters(kw),
            width=width,
            sort=sort,
            limit=limit or None,
            lemma=lemma,
            timeout=timeout or state.config.timeout,
        )
    if as_json:
        from .render import write_json

        write_json(conc.to_dict())
    elif jsonl:
        from .render import write_jsonl

        write_jsonl(line.to_dict() for line in conc.lines)
    elif as_csv:
        from .render import write_csv

        head = ["id", "published", "source", "left", "match", "right"]
        write_csv(
            (
                [x.id, x.published or "", x.source or "", x.left, x.match, x.right]
                + ([x.lemma or ""] if lemma else [])
                for x in conc.lines
            ),
            head + (["lemma"] if lemma else []),
        )
    else:
        from .render import make_console, print_kwic

        print_kwic(conc, make_console())
    return Exit.OK if conc.total else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1, required=True)
@index_option
@filter_options
@click.option(
    "--window",
    type=click.IntRange(min=1),
    default=5,
    show_default=True,
    help="Words each side of a match.",
)
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True)
@click.option(
    "--measure",
    type=click.Choice(("llr", "pmi", "count")),
    default="llr",
    show_default=True,
    help="Log-likelihood, pointwise mutual information, raw count.",
)
@click.option("--no-stopwords", is_flag=True, help="Leave out common words (the, и, ...).")
@click.option(
    "--lemma",
    is_flag=True,
    help="Count the forms of a word as one (киева, киеве: киев), in each article's language.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: word,count,frequency,score.")
@timeout_option
@click.pass_obj
def collocates(
    state,
    query,
    index_dir,
    window,
    top,
    measure,
    no_stopwords,
    lemma,
    as_json,
    as_csv,
    timeout,
    **kw,
):
    """The words that occur near QUERY's matches, ranked by how much more often than chance.

    QUERY is a word (stemmed as in search) or any query; its matches in the matching articles
    are the centres. Exit 0 if anything matched, 1 if not.
    """

    text = " ".join(query)
    with state.open_index(index_dir) as ix:
        result = ix.collocates(
            text,
            _filters(kw),
            window=window,
            top=top,
            measure=measure,
            stopwords=not no_stopwords,
            lemma=lemma,
            timeout=timeout or state.config.timeout,
        )
    if as_json:
        from .render import write_json

        write_json(result.to_dict())
    elif as_csv:
        from .render import write_csv

        write_csv(
            ([c.word, c.count, c.frequency, round(c.score, 4)] for c in result.collocates),
            ["word", "count", "frequency", "score"],
        )
    else:
        from .render import make_console, print_collocates

        print_collocates(result, make_console())
    return Exit.OK if result.occurrences else Exit.NO_HITS


def _sizes(value: str) -> tuple[int, int]:
    """``-n 2`` or ``-n 2..4``."""
    low, _, high = value.partition("..")
    if not (low.isdigit() and (not high or high.isdigit())):
        raise CorpusSearchError(f"-n takes a size or a range of sizes (2, 2..4), not {value!r}")
    return int(low), int(high or low)


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "-n",
    "--size",
    "size",
    default="2",
    show_default=True,
    metavar="N[..M]",
    help="Words in a sequence: 2, or a range such as 2..4.",
)
@click.option("--around", metavar="WORD", help="Only the sequences that hold this word.")
@click.option("--min-freq", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--by",
    type=click.Choice(("source", "site", "author", "lang", "year", "month")),
    help="Count each sequence per source, site, author, language, year or month too.",
)
@click.option("--top", type=click.IntRange(min=0), default=50, show_default=True, help="0: all.")
@click.option(
    "--no-stopwords",
    is_flag=True,
    help="Leave out sequences that begin or end with a common word (of the, и в).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: ngram,count,documents.")
@timeout_option
@click.pass_obj
def ngrams(
    state, query, index_dir, size, around, min_freq, by, top, no_stopwords, as_json, as_csv,
    timeout, **kw,
):  # fmt: skip
    """The most frequent word sequences in the matching articles (all, without QUERY), with
    the articles that have them (AntConc's clusters / n-grams). Exit 1 if none is found."""
    with state.open_index(index_dir) as ix:
        if not hasattr(ix, "ngrams"):
            raise CorpusSearchError("ngrams works on a local index, not on a cluster")
        result = ix.ngrams(
            " ".join(query),
            _filters(kw),
            sizes=_sizes(size),
            around=around,
            min_freq=min_freq,
            by=by,
            top=top or None,
            stopwords=not no_stopwords,
            timeout=timeout or state.config.timeout,
        )
    if as_json:
        from .render import write_json

        write_json(result)
    elif as_csv:
        from .render import write_csv

        write_csv(
            ([g["ngram"], g["count"], g["documents"]] for g in result["ngrams"]),
            ["ngram", "count", "documents"],
        )
    else:
        from .render import make_console, print_ngrams

        print_ngrams(result, make_console())
    return Exit.OK if result["ngrams"] else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("target", nargs=-1, required=True)
@index_option
@filter_options
@click.option(
    "--reference",
    metavar="QUERY",
    help="The articles to compare with (default: the rest of the index).",
)
@click.option(
    "--reference-index",
    metavar="DIR",
    type=click.Path(file_okay=False),
    help="Compare with the articles of another index (those matching --reference, or all).",
)
@click.option("--min-freq", type=click.IntRange(min=1), default=3, show_default=True)
@click.option("--top", type=click.IntRange(min=0), default=50, show_default=True, help="0: all.")
@click.option("--negative", is_flag=True, help="The words unusually rare in the target.")
@click.option("--keep-stopwords", is_flag=True, help="Keep common words (left out by default).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@click.option(
    "--csv",
    "as_csv",
    is_flag=True,
    help="CSV: word,ll,log_ratio,target,target_docs,reference,reference_docs.",
)
@timeout_option
@click.pass_obj
def keywords(
    state, target, index_dir, reference, reference_index, min_freq, top, negative,
    keep_stopwords, as_json, as_csv, timeout, **kw,
):  # fmt: skip
    """Keyness: the words unusually frequent in the articles matching TARGET against a
    reference, by log-likelihood, with Log Ratio as the effect size. Exit 1 if none."""
    from .search import CorpusIndex

    other = CorpusIndex(reference_index) if reference_index else None
    try:
        with state.open_index(index_dir) as ix:
            if not hasattr(ix, "keywords"):
                raise CorpusSearchError("keywords works on a local index, not on a cluster")
            result = ix.keywords(
                " ".join(target),
                _filters(kw),
                reference=reference,
                reference_index=other,
                min_freq=min_freq,
                top=top or None,
                negative=negative,
                stopwords=keep_stopwords,
                timeout=timeout or state.config.timeout,
            )
    finally:
        if other is not None:
            other.close()
    if as_json:
        from .render import write_json

        write_json(result)
    elif as_csv:
        from .render import write_csv

        write_csv(
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
        from .render import make_console, print_keywords

        print_keywords(result, make_console())
    return Exit.OK if result["keywords"] else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("word")
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@timeout_option
@click.pass_obj
def dispersion(state, word, query, index_dir, as_json, timeout, **kw):
    """Where WORD occurs across the articles matching QUERY (all, without it), in time
    order: a strip plot, Gries' DP, and its rate per source and per year. Exit 1 if WORD
    occurs nowhere there."""
    with state.open_index(index_dir) as ix:
        if not hasattr(ix, "dispersion"):
            raise CorpusSearchError("dispersion works on a local index, not on a cluster")
        result = ix.dispersion(
            word, " ".join(query), _filters(kw), timeout=timeout or state.config.timeout
        )
    if as_json:
        from .render import write_json

        write_json(result)
    else:
        from .render import make_console, print_dispersion

        print_dispersion(result, make_console())
    return Exit.OK if result["occurrences"] else Exit.NO_HITS


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


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=0),
    default=20,
    show_default=True,
    help="Passages shown on the terminal (0: all); JSON has them all.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@timeout_option
@click.pass_obj
def reuse(state, query, index_dir, limit, as_json, timeout, **kw):
    """Passages lifted from one article into another (with light edits) among the articles
    matching QUERY (all, without it): where, in both, and which came first. Exit 1 if none."""
    with state.open_index(index_dir) as ix:
        if not hasattr(ix, "reuse"):
            raise CorpusSearchError("reuse works on a local index, not on a cluster")
        result = ix.reuse(" ".join(query), _filters(kw), timeout=timeout or 600.0)
        if not as_json:
            bodies = {}
            for p in result["passages"][: limit or None]:
                for side in ("earlier", "later"):
                    doc = p[side]["id"]
                    if doc not in bodies:
                        bodies[doc] = (ix.get(doc) or {}).get("body") or ""
    if as_json:
        from .render import write_json

        write_json(result)
    else:
        from .render import make_console, print_reuse

        print_reuse(result, bodies, make_console(), limit)
    return Exit.OK if result["passages"] else Exit.NO_HITS


def read_queries(path: str) -> list[str]:
    """Queries one a line; blank lines and lines starting with # left out."""
    try:
        with open(path, encoding="utf-8") as fh:
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


@cli.command()
@click.option(
    "--queries",
    "queries_file",
    required=True,
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="One query a line; blank lines and # comments ignored.",
)
@index_option
@filter_options
@click.option("--by", type=click.Choice(vocab.PERIODS), default="month", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object (see README).")
@click.option("--csv", "as_csv", is_flag=True, help="CSV: query,period,count.")
@timeout_option
@click.pass_obj
def count(state, queries_file, index_dir, by, as_json, as_csv, timeout, **kw):
    """Count many queries over time in one go: a dictionary of narratives, say.

    Each query is counted exactly as 'search QUERY --count' would and broken down by period
    (the article's own date). A bad query stops everything before any output, naming its
    line. Exit 0 if any query matched, 1 if none did.
    """

    queries = read_queries(queries_file)
    filters = _filters(kw)
    with state.open_index(index_dir) as ix:
        rows = ix.count_queries(queries, filters, by=by, timeout=timeout or state.config.timeout)
    if as_json:
        from .render import write_json

        write_json({"by": by, "filters": filters.to_dict(), "queries": rows})
    elif as_csv:
        from .render import write_csv

        write_csv(
            ([r["query"], b["period"], b["count"]] for r in rows for b in r["buckets"]),
            ["query", "period", "count"],
        )
    else:
        from .render import make_console, print_counts

        print_counts(rows, by, make_console())
    return Exit.OK if any(r["total"] for r in rows) else Exit.NO_HITS


@cli.command(cls=QueryCommand)
@click.argument("query", nargs=-1)
@index_option
@filter_options
@click.option(
    "--format", "fmt", type=click.Choice(("jsonl", "csv")), default="jsonl", show_default=True
)
@click.option(
    "--fields", metavar="A,B", help="Only these record keys (default: all, body included)."
)
@click.option("--sort", type=click.Choice(vocab.SORTS), default="relevance", show_default=True)
@timeout_option
@click.pass_obj
def export(state, query, index_dir, fmt, fields, sort, timeout, **kw):
    """Write every matching record, body included, as JSON lines or CSV.

    Streamed in the search order: as many records as 'search QUERY --count' says, with
    memory flat in their number. Without QUERY, the whole index.
    """
    from .articles import RECORD_FIELDS

    keys = list(RECORD_FIELDS)
    if fields:
        keys = [f.strip() for f in fields.split(",") if f.strip()]
        bad = [k for k in keys if k not in RECORD_FIELDS]
        if bad:
            raise CorpusSearchError(
                f"--fields: unknown key {bad[0]!r} (choose from {', '.join(RECORD_FIELDS)})"
            )
    n = 0
    with state.open_index(index_dir) as ix:
        records = ix.records(
            " ".join(query), _filters(kw), sort=sort, timeout=timeout or state.config.timeout
        )
        rows = ({k: r[k] for k in keys} for r in records)
        if fmt == "csv":
            from .render import csv_cell, write_csv

            def cells():
                nonlocal n
                for row in rows:
                    n += 1
                    yield [csv_cell(row[k]) for k in keys]

            write_csv(cells(), keys)
        else:
            from .render import write_jsonl

            def counted():
                nonlocal n
                for row in rows:
                    n += 1
                    yield row

            write_jsonl(counted())
    return Exit.OK if n else Exit.NO_HITS


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
@click.pass_obj
def serve(state, index_dir, http_port, host):
    """Keep the index open and answer many questions fast.

    While it runs, search, facets, timeline, show, stats, count, kwic, collocates, reprints
    and export hand their arguments to it and print exactly what they would have printed
    themselves. With --http PORT it also answers the same JSON over HTTP on 127.0.0.1; the
    first line on stderr is the address with its access token. Ctrl-C stops it.
    """
    from .serve import Server

    server = Server(state.index_path(index_dir))
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


def _click_outcome(exc: BaseException) -> int | None:
    """The exit code of click's own outcomes (--help, --version, usage errors)."""
    if isinstance(exc, click.exceptions.Exit):
        return exc.exit_code
    if isinstance(exc, click.exceptions.Abort):
        _err("interrupted")
        return Exit.INTERRUPTED
    if isinstance(exc, click.ClickException):
        exc.show()
        return Exit.ERROR
    return None


def _run_mapped(invoke, debug: bool, report=None) -> int:
    """Run a click invocation, mapping every outcome to a grep-style exit code."""
    return commands.run_mapped(invoke, debug, _click_outcome, report)


def main() -> int:
    """Console entry point."""
    return cli.main(prog_name=PROG)
