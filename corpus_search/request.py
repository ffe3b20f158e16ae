"""One request, declared once: every option of the commands that read the index.

Each command is a :class:`Spec`: its arguments and :class:`Opt` options, with their spellings,
kinds, bounds, defaults and help. Everything that takes a request derives from this list:

* the click commands (``cli.py`` builds their arguments and options from it),
* the quick path's parser of a plain ``search`` (``quick.py``),
* HTTP query strings and the page's form (:func:`from_query`: a parameter is any of an
  option's spellings without its dashes, ``limit=20``, ``n=20``, ``facet-limit=5``),
* the socket protocol (the client sends its command line; the worker parses it with click).

Whatever door it came through, a command runs as a :class:`Request` (``commands.execute``).
Adding an option is one edit here, plus the code that uses it. Imports nothing heavy.
"""

from __future__ import annotations

from . import vocab
from .errors import CorpusSearchError

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any


class RequestError(CorpusSearchError):
    """A bad option value or an unknown parameter (HTTP 400)."""


class Opt:
    """An option. ``kind``: text, flag, int, float, choice, file (a file's path), dir (a
    folder's path). ``web``: whether HTTP and the page take it (output formats, paths on the
    server's machine and the index folder do not); ``http``: HTTP names besides its
    spellings. (A plain class: dataclasses would cost the quick path its start-up.)"""

    def __init__(
        self,
        key: str,
        flags: tuple[str, ...],
        kind: str = "text",
        default: Any = None,
        choices: tuple[str, ...] = (),
        *,
        low: float | None = None,
        high: float | None = None,
        low_open: bool = False,
        multiple: bool = False,
        required: bool = False,
        metavar: str | None = None,
        help: str = "",
        show_default: bool = False,
        web: bool = True,
        http: tuple[str, ...] = (),
    ):
        self.key, self.flags, self.kind, self.default, self.choices = (
            key,
            flags,
            kind,
            default,
            choices,
        )
        self.low, self.high, self.low_open = low, high, low_open
        self.multiple, self.required, self.metavar = multiple, required, metavar
        self.help, self.show_default, self.web, self.http = help, show_default, web, http

    @property
    def names(self) -> tuple[str, ...]:
        """Its HTTP parameter names: its spellings without their dashes, and ``http``."""
        return (*(f.lstrip("-") for f in self.flags), *self.http)

    def convert(self, raw: str) -> Any:
        """``raw`` as this option's value; RequestError naming the option when it is not."""
        where = f"invalid value for {'/'.join(self.flags)}"
        if self.kind == "flag":
            low = raw.strip().lower()
            if low in ("", "1", "true", "yes", "on"):
                return True
            if low in ("0", "false", "no", "off"):
                return False
            raise RequestError(f"{where}: {raw!r} is not a boolean (1 or 0)")
        if self.kind == "choice":
            if raw not in self.choices:
                raise RequestError(f"{where}: {raw!r} is not one of {', '.join(self.choices)}")
            return raw
        if self.kind in ("int", "float"):
            try:
                if not raw.strip().isascii():
                    raise ValueError
                value: float = int(raw) if self.kind == "int" else float(raw)
            except ValueError:
                kind = "a whole number" if self.kind == "int" else "a number"
                raise RequestError(f"{where}: {raw!r} is not {kind}") from None
            if value != value or (
                self.low is not None and (value <= self.low if self.low_open else value < self.low)
            ):
                raise RequestError(f"{where}: {raw!r} is not in the range {self._range()}")
            if self.high is not None and value > self.high:
                raise RequestError(f"{where}: {raw!r} is not in the range {self._range()}")
            return value
        return raw

    def _range(self) -> str:
        low = "" if self.low is None else f"{self.low:g}{'<' if self.low_open else '<='}"
        return f"{low}x{'' if self.high is None else f'<={self.high:g}'}"


class Arg:
    """A positional argument. ``nargs=-1``: any number of words (a query's words are joined
    by spaces). ``web``: its HTTP parameter (``q``, ``word``), or ``path`` for the rest of the
    address (``/show/ID``, ``/facets/FIELD``), or None where HTTP has none."""

    def __init__(
        self,
        key: str,
        nargs: int = 1,
        *,
        required: bool = False,
        choices: tuple[str, ...] = (),
        metavar: str | None = None,
        web: str | None = "q",
    ):
        self.key, self.nargs, self.required = key, nargs, required
        self.choices, self.metavar, self.web = choices, metavar, web


class Spec:
    """A command: its name, help, arguments and options; ``query_words``: its query words
    may start with '-' (search -russia: click's QueryCommand)."""

    def __init__(
        self,
        name: str,
        help: str,
        args: tuple[Arg, ...] = (),
        options: tuple[Opt, ...] = (),
        query_words: bool = True,
    ):
        self.name, self.help, self.args, self.options = name, help, args, options
        self.query_words = query_words

    def defaults(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for arg in self.args:
            values[arg.key] = () if arg.nargs == -1 else None
        for opt in self.options:
            values[opt.key] = () if opt.multiple else (False if opt.kind == "flag" else opt.default)
        return values


# -- options several commands share ------------------------------------------------------------

INDEX = Opt(
    "index_dir",
    ("--index",),
    metavar="DIR",
    help="Index folder (default: $CORPUS_SEARCH_INDEX, the config's 'index:', else ./index).",
    web=False,
)
TIMEOUT = Opt(
    "timeout",
    ("--timeout",),
    "float",
    low=0.01,
    metavar="SECONDS",
    help="Stop a query that runs longer (default 10, or the config's timeout).",
)
_FILTER_HELP = {
    "category": "Only this category (repeatable: any of them).",
    "site": "Only this site: the host of the article's address, without www. (repeatable).",
    "lang": "Only this language code (repeatable).",
}
FILTERS = (
    *(
        Opt(
            name,
            (f"--{name}",),
            multiple=True,
            metavar="X",
            help=_FILTER_HELP.get(name, f"Only this {name} (repeatable)."),
        )
        for name in vocab.VALUE_FIELDS
    ),
    Opt(
        "since",
        ("--since",),
        metavar="DATE",
        help="On or after DATE (2021, 2021-07 or 2021-07-02), by the article's own date.",
    ),
    Opt(
        "until",
        ("--until",),
        metavar="DATE",
        help="On or before DATE (inclusive), by the article's own date.",
    ),
    Opt("min_views", ("--min-views",), "int", low=0, metavar="N", help="At least N views."),
)


def _json(help: str = "One JSON object (see README).") -> Opt:
    return Opt("as_json", ("--json",), "flag", help=help, web=False)


def _csv(help: str) -> Opt:
    return Opt("as_csv", ("--csv",), "flag", help=help, web=False)


def _limit(default: int, help: str) -> Opt:
    return Opt("limit", ("-n", "--limit"), "int", default, low=0, show_default=True, help=help)


QUERY = Arg("query", -1)
QUERY_REQUIRED = Arg("query", -1, required=True)

SEARCH_HELP = """Search the index. QUERY uses this language (all words must match by default):

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

SPECS: dict[str, Spec] = {
    spec.name: spec
    for spec in (
        Spec(
            "search",
            SEARCH_HELP,
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "facets",
                    ("--facet",),
                    "choice",
                    choices=vocab.FACETS,
                    multiple=True,
                    help="Count hits by this field (repeatable).",
                ),
                Opt(
                    "facet_limit",
                    ("--facet-limit",),
                    "int",
                    10,
                    low=1,
                    metavar="N",
                    show_default=True,
                    help="Values shown per facet.",
                ),
                Opt(
                    "sort",
                    ("--sort",),
                    "choice",
                    "relevance",
                    vocab.SORTS,
                    show_default=True,
                    help="date: oldest first; -date: newest first.",
                ),
                _limit(10, "Hits per page."),
                Opt("page", ("--page",), "int", 1, low=1, show_default=True, help="Page to show."),
                _json("One JSON object with the hits (see README)."),
                Opt("jsonl", ("--jsonl",), "flag", help="One JSON hit per line.", web=False),
                Opt(
                    "count_only",
                    ("--count",),
                    "flag",
                    help="Print only the number of hits.",
                    web=False,
                ),
                Opt(
                    "files_only",
                    ("-l", "--files-with-matches"),
                    "flag",
                    help="Print only the paths of matching files.",
                    web=False,
                ),
                Opt(
                    "fields", ("--fields",), metavar="A,B", help="Only these keys in each JSON hit."
                ),
                Opt(
                    "mark",
                    ("--mark",),
                    default="[[,]]",
                    metavar="OPEN,CLOSE",
                    show_default=True,
                    help="Markers around matches in JSON and plain-text snippets.",
                ),
                TIMEOUT,
                Opt(
                    "collapse",
                    ("--collapse",),
                    "flag",
                    help="Count and show each cluster of reprints once (its earliest member).",
                ),
            ),
        ),
        Spec(
            "show",
            """Print articles from the index: metadata and clean body.

    Each ID is as in search results, or the article's file path as 'search -l' prints it, so
    'corpus-search search QUERY -l | xargs corpus-search show' works.
    """,
            (Arg("doc_ids", -1, required=True, metavar="ID...", web="path"),),
            (
                INDEX,
                _json("Print the record as JSON (several: a JSON array)."),
                Opt(
                    "reuse",
                    ("--reuse",),
                    "flag",
                    help="Also the passages found in earlier articles, with their sources "
                    "(reads the index).",
                ),
            ),
            query_words=False,
        ),
        Spec(
            "facets",
            "List the values of FIELD across the index (or a query's matches) with counts.",
            (Arg("field", choices=vocab.FACETS, required=True, web="path"),),
            (
                INDEX,
                Opt(
                    "query_text",
                    ("--query",),
                    default="",
                    http=("q",),
                    metavar="QUERY",
                    help="Count over this query's matches only.",
                ),
                *FILTERS,
                Opt(
                    "sort",
                    ("--sort",),
                    "choice",
                    "count",
                    ("count", "name"),
                    show_default=True,
                ),
                Opt(
                    "limit",
                    ("--facet-limit", "--limit"),
                    "int",
                    low=1,
                    metavar="N",
                    help="At most N values (--limit is the older spelling).",
                ),
                _json("Print {field, values: [{value, count}]}."),
            ),
            query_words=False,
        ),
        Spec(
            "timeline",
            "Hits over time: a bar per period, empty periods shown as zero.",
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "by",
                    ("--by",),
                    "choice",
                    choices=vocab.PERIODS,
                    help="Period (default: chosen from the span of the results).",
                ),
                Opt(
                    "split",
                    ("--split",),
                    "choice",
                    choices=vocab.FACETS,
                    help="One series per value of this field.",
                ),
                _json("Print {by, total, buckets: [{period, count}]}."),
                _csv("Print CSV: period,count (with --split: period,value,count)."),
            ),
        ),
        Spec(
            "stats",
            "What the index holds: documents, size, sources, languages, dates, roots.",
            (),
            (INDEX, _json("Print the figures as JSON.")),
            query_words=False,
        ),
        Spec(
            "explain",
            """What each word of QUERY matches, per language: the forms it stands for and in how
    many articles of that language each occurs (what a count counted).

    Exit 0 when some word matched, 1 when none did.
    """,
            (QUERY_REQUIRED,),
            (
                INDEX,
                Opt(
                    "hits",
                    ("-n", "--hits"),
                    "int",
                    3,
                    low=0,
                    show_default=True,
                    help="Also show how the first N hits' scores were made, term by term "
                    "(0: none).",
                ),
                _json(),
                TIMEOUT,
            ),
        ),
        Spec(
            "reprints",
            """Clusters of articles that are the same story: who published it, and who was first.

    Among the articles matching QUERY and the filters (all, without them): reprints under
    another headline, with another site's header and footer, changed typography, a paragraph
    added or cut. Largest clusters first, members oldest first. Exit 0 if any cluster, 1 if none.
    """,
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "threshold",
                    ("--threshold",),
                    "float",
                    0.8,
                    low=0,
                    high=1,
                    low_open=True,
                    show_default=True,
                    help="Estimated share of 5-word sequences two articles share.",
                ),
                Opt(
                    "min_size",
                    ("--min-size",),
                    "int",
                    2,
                    low=2,
                    show_default=True,
                    help="Smallest cluster shown.",
                ),
                _limit(20, "Clusters shown on the terminal (0: all); JSON has them all."),
                _json(),
                TIMEOUT,
            ),
        ),
        Spec(
            "kwic",
            """Concordance: every occurrence of QUERY's matches in context, one line each.

    The match is centred with WIDTH characters each side, from titles and bodies of every
    matching article. Exit 0 if anything matched, 1 if not.
    """,
            (QUERY_REQUIRED,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "width",
                    ("--width",),
                    "int",
                    40,
                    low=1,
                    show_default=True,
                    help="Characters of context each side.",
                ),
                Opt(
                    "sort",
                    ("--sort",),
                    "choice",
                    "date",
                    ("date", "left", "right", "source"),
                    show_default=True,
                    help="left/right: by the words nearest the match on that side.",
                ),
                _limit(100, "Lines shown (0: all)."),
                _json(),
                Opt("jsonl", ("--jsonl",), "flag", help="One JSON line per occurrence.", web=False),
                _csv("CSV: id,published,source,left,match,right."),
                Opt(
                    "lemma",
                    ("--lemma",),
                    "flag",
                    help="Name each match's lexeme in its article's language and group the "
                    "lines by it.",
                ),
                TIMEOUT,
            ),
        ),
        Spec(
            "collocates",
            """The words that occur near QUERY's matches, ranked by how much more often than chance.

    QUERY is a word (stemmed as in search) or any query; its matches in the matching articles
    are the centres. Exit 0 if anything matched, 1 if not.
    """,
            (QUERY_REQUIRED,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "window",
                    ("--window",),
                    "int",
                    5,
                    low=1,
                    show_default=True,
                    help="Words each side of a match.",
                ),
                Opt("top", ("--top",), "int", 20, low=1, show_default=True),
                Opt(
                    "measure",
                    ("--measure",),
                    "choice",
                    "llr",
                    ("llr", "pmi", "count"),
                    show_default=True,
                    help="Log-likelihood, pointwise mutual information, raw count.",
                ),
                Opt(
                    "no_stopwords",
                    ("--no-stopwords",),
                    "flag",
                    help="Leave out common words (the, и, ...).",
                ),
                Opt(
                    "lemma",
                    ("--lemma",),
                    "flag",
                    help="Count the forms of a word as one (киева, киеве: киев), in each "
                    "article's language.",
                ),
                _json(),
                _csv("CSV: word,count,frequency,score."),
                TIMEOUT,
            ),
        ),
        Spec(
            "ngrams",
            """The most frequent word sequences in the matching articles (all, without QUERY), with
    the articles that have them (AntConc's clusters / n-grams). Exit 1 if none is found.""",
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "size",
                    ("-n", "--size"),
                    default="2",
                    metavar="N[..M]",
                    show_default=True,
                    help="Words in a sequence: 2, or a range such as 2..4.",
                ),
                Opt(
                    "around",
                    ("--around",),
                    metavar="WORD",
                    help="Only the sequences that hold this word.",
                ),
                Opt("min_freq", ("--min-freq",), "int", 2, low=1, show_default=True),
                Opt(
                    "by",
                    ("--by",),
                    "choice",
                    choices=("source", "site", "author", "lang", "year", "month"),
                    help="Count each sequence per source, site, author, language, year or "
                    "month too.",
                ),
                Opt("top", ("--top",), "int", 50, low=0, show_default=True, help="0: all."),
                Opt(
                    "no_stopwords",
                    ("--no-stopwords",),
                    "flag",
                    help="Leave out sequences that begin or end with a common word (of the, и в).",
                ),
                _json(),
                _csv("CSV: ngram,count,documents."),
                TIMEOUT,
            ),
        ),
        Spec(
            "keywords",
            """Keyness: the words unusually frequent in the articles matching TARGET against a
    reference, by log-likelihood, with Log Ratio as the effect size. Exit 1 if none.""",
            (Arg("query", -1, required=True, metavar="TARGET..."),),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "reference",
                    ("--reference",),
                    metavar="QUERY",
                    help="The articles to compare with (default: the rest of the index).",
                ),
                Opt(
                    "reference_index",
                    ("--reference-index",),
                    "dir",
                    metavar="DIR",
                    help="Compare with the articles of another index (those matching "
                    "--reference, or all).",
                    web=False,
                ),
                Opt("min_freq", ("--min-freq",), "int", 3, low=1, show_default=True),
                Opt("top", ("--top",), "int", 50, low=0, show_default=True, help="0: all."),
                Opt(
                    "negative",
                    ("--negative",),
                    "flag",
                    help="The words unusually rare in the target.",
                ),
                Opt(
                    "keep_stopwords",
                    ("--keep-stopwords",),
                    "flag",
                    help="Keep common words (left out by default).",
                ),
                _json(),
                _csv("CSV: word,ll,log_ratio,target,target_docs,reference,reference_docs."),
                TIMEOUT,
            ),
        ),
        Spec(
            "dispersion",
            """Where WORD occurs across the articles matching QUERY (all, without it), in time
    order: a strip plot, Gries' DP, and its rate per source and per year. Exit 1 if WORD
    occurs nowhere there.""",
            (Arg("word", required=True, web="word"), QUERY),
            (INDEX, *FILTERS, _json(), TIMEOUT),
        ),
        Spec(
            "reuse",
            """Passages lifted from one article into another (with light edits) among the articles
    matching QUERY (all, without it): where, in both, and which came first. Exit 1 if none.""",
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                _limit(20, "Passages shown on the terminal (0: all); JSON has them all."),
                _json(),
                TIMEOUT,
            ),
        ),
        Spec(
            "count",
            """Count many queries over time in one go: a dictionary of narratives, say.

    Each query (of a --queries file, and each --query) is counted exactly as 'search QUERY
    --count' would and broken down by period (the article's own date). A bad query stops
    everything before any output, naming its line. Exit 0 if any query matched, 1 if none did.
    """,
            (),
            (
                Opt(
                    "queries_file",
                    ("--queries",),
                    "file",
                    metavar="FILE",
                    help="One query a line; blank lines and # comments ignored.",
                    web=False,
                ),
                Opt(
                    "query_list",
                    ("--query",),
                    multiple=True,
                    metavar="QUERY",
                    help="A query to count (repeatable; after the file's, if any).",
                ),
                INDEX,
                *FILTERS,
                Opt(
                    "by",
                    ("--by",),
                    "choice",
                    "month",
                    vocab.PERIODS,
                    show_default=True,
                ),
                _json(),
                _csv("CSV: query,period,count."),
                TIMEOUT,
            ),
            query_words=False,
        ),
        Spec(
            "export",
            """Write every matching record, body included, as JSON lines or CSV.

    Streamed in the search order: as many records as 'search QUERY --count' says, with
    memory flat in their number. Without QUERY, the whole index.
    """,
            (QUERY,),
            (
                INDEX,
                *FILTERS,
                Opt(
                    "fmt",
                    ("--format",),
                    "choice",
                    "jsonl",
                    ("jsonl", "csv"),
                    show_default=True,
                ),
                Opt(
                    "fields",
                    ("--fields",),
                    metavar="A,B",
                    help="Only these record keys (default: all, body included).",
                ),
                Opt(
                    "sort",
                    ("--sort",),
                    "choice",
                    "relevance",
                    vocab.SORTS,
                    show_default=True,
                ),
                TIMEOUT,
            ),
        ),
    )
}


class Request:
    """A command to run, whatever door it came through: its name and every declared value
    (defaults filled in). ``query`` and ``filters`` are read from the values."""

    def __init__(self, command: str, values: dict[str, Any] | None = None):
        self.command = command
        self.values = {**SPECS[command].defaults(), **(values or {})}

    def __repr__(self) -> str:
        return f"Request({self.command!r}, {self.values!r})"

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def query(self) -> str:
        words = self.values.get("query")
        if words is None:
            return ""
        return words if isinstance(words, str) else " ".join(words)

    def filters(self) -> Any:
        from .matching import Filters

        v = self.values
        return Filters(
            **{name: list(v[name]) for name in vocab.VALUE_FIELDS},
            since=v["since"] or None,
            until=v["until"] or None,
            min_views=v["min_views"],
        )


def from_query(
    command: str,
    params: dict[str, list[str]],
    path: list[str] | None = None,
    *,
    strict: bool = True,
    **fixed: Any,
) -> Request:
    """The request an HTTP query string stands for: each parameter read as its option's value
    (repeated for a repeatable one, else the last one counts; an empty value is no value),
    ``q`` the query, ``path`` the rest of the address. ``strict``: an unknown parameter is a
    RequestError (a typo is not ignored). ``fixed`` sets values that are not the client's."""
    spec = SPECS[command]
    by_name = {name: opt for opt in spec.options if opt.web for name in opt.names}
    values: dict[str, Any] = {}
    known = set(by_name)
    for arg in spec.args:
        if arg.web == "path":
            if arg.required and not path:
                name = (arg.metavar or arg.key).rstrip(".").upper()
                raise RequestError(f"/{command}/{name}: the address needs the {name.lower()}")
            if path:
                joined = "/".join(path)
                if arg.choices and joined not in arg.choices:
                    raise RequestError(
                        f"invalid {arg.key} {joined!r}: not one of {', '.join(arg.choices)}"
                    )
                values[arg.key] = (joined,) if arg.nargs == -1 else joined
        elif arg.web:
            known.add(arg.web)
            text = (params.get(arg.web) or [""])[-1]
            if arg.required and not text.strip():
                raise RequestError(f"/{command} needs {arg.web}=...")
            values[arg.key] = (text,) if arg.nargs == -1 else text
    if strict:
        unknown = sorted(set(params) - known)
        if unknown:
            raise RequestError(
                f"/{command}: unknown parameter {unknown[0]!r} "
                f"(known: {', '.join(sorted(known)) or 'none'})"
            )
    for name, raws in params.items():
        opt = by_name.get(name)
        if opt is None:
            continue
        given = [opt.convert(r) for r in raws if r != "" or opt.kind == "flag"]
        if not given:
            continue
        values[opt.key] = tuple(given) if opt.multiple else given[-1]
    values.update(fixed)
    return Request(command, values)


def filter_params() -> tuple[str, ...]:
    """The HTTP parameters of the filters (the page keeps them across its links)."""
    return tuple(name for opt in FILTERS for name in opt.names)
