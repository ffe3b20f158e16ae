"""A plain ``search`` without click: the command line's hot path.

Importing click and building the command tree costs a fresh process about 40 ms, a third of
a one-word search. The invocations scripts and people type most (``search WORDS`` with the
output, paging, sorting, facet and filter options, ``--index``) are parsed here with the same
meaning and run by the same code as the click command (:func:`commands.search`), so their
output, messages and exit codes are the same. Anything else (``--help``, ``--debug``, a
config file, an option or value this parser does not know, a query word starting with ``-``)
returns None and the click CLI runs the command, with its own messages for bad input.
"""

from __future__ import annotations

import os

from .vocab import VALUE_FIELDS

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

#: Options that take no value -> the search() argument they set.
_FLAGS = {
    "--json": "as_json",
    "--jsonl": "jsonl",
    "--count": "count_only",
    "-l": "files_only",
    "--files-with-matches": "files_only",
    "--collapse": "collapse",
}
#: Options that take a value -> (the argument, how the value is read).
_VALUED = {
    "--index": ("index_dir", "text"),
    "-n": ("limit", "count"),
    "--limit": ("limit", "count"),
    "--page": ("page", "positive"),
    "--sort": ("sort", "sort"),
    "--facet": ("facets", "facet"),
    "--facet-limit": ("facet_limit", "positive"),
    "--fields": ("fields", "text"),
    "--mark": ("mark", "text"),
    "--since": ("since", "text"),
    "--until": ("until", "text"),
    "--min-views": ("min_views", "count"),
    "--category": ("category", "text"),
    "--tag": ("tag", "text"),
    "--author": ("author", "text"),
    "--place": ("place", "text"),
    "--source": ("source", "text"),
    "--site": ("site", "text"),
    "--lang": ("lang", "text"),
}
_REPEATED = frozenset({"facets", *VALUE_FIELDS})


def _value(kind: str, raw: str) -> Any:
    """The option's value, or None when click should judge it (it then runs the command)."""
    if kind == "text":
        return raw
    if kind in ("count", "positive"):
        if not (raw.isascii() and raw.isdigit()):
            return None
        n = int(raw)
        return n if n >= (1 if kind == "positive" else 0) else None
    from . import vocab

    choices = vocab.SORTS if kind == "sort" else vocab.FACETS
    return raw if raw in choices else None


def parse(argv: list[str]) -> dict[str, Any] | None:
    """The search() arguments of a plain search invocation, or None for anything else."""
    args = list(argv)
    global_index = None
    while args and (args[0] == "--index" or args[0].startswith("--index=")):
        if "=" in args[0]:
            global_index = args.pop(0).split("=", 1)[1]
        elif len(args) > 1:
            global_index = args[1]
            del args[:2]
        else:
            return None
    if not args or args[0] != "search":
        return None
    out: dict[str, Any] = {name: [] for name in _REPEATED}
    out.update(index_dir=None, since=None, until=None, min_views=None)
    words: list[str] = []
    i = 1
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            words.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            words.append(arg)
            continue
        name, eq, attached = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in _FLAGS and not eq:
            out[_FLAGS[name]] = True
            continue
        if name not in _VALUED:
            return None  # --help, --debug, --timeout, -n5, a -word query...: click's
        if not eq:
            if i >= len(args):
                return None
            attached = args[i]
            i += 1
        key, kind = _VALUED[name]
        value = _value(kind, attached)
        if value is None:
            return None
        if key in _REPEATED:
            out[key].append(value)
        else:
            out[key] = value
    out["text"] = " ".join(words)
    out["index_dir"] = out["index_dir"] or global_index
    return out


def run(argv: list[str]) -> int | None:
    """Run a plain search here and return its exit code, or None when the click CLI should."""
    from .client import index_folder

    if (
        os.environ.get("CORPUS_SEARCH_NO_QUICK")
        or os.environ.get("CORPUS_SEARCH_OPENSEARCH_URL")
        or index_folder(argv) is None  # a config file may say more: leave it to the CLI
    ):
        return None
    request = parse(argv)
    if request is None:
        return None
    from . import commands

    def invoke() -> int:
        from .config import load_config
        from .matching import Filters
        from .search import CorpusIndex

        config = load_config(None)
        filters = Filters(**{k: request.pop(k) for k in Filters.FIELDS})
        path = config.resolve_index(request.pop("index_dir"))
        text = request.pop("text")
        facets = request.pop("facets")
        return commands.search(lambda: CorpusIndex(path), config, text, filters, facets, **request)

    return commands.run_mapped(invoke, debug=False)
