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

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any


def parse(argv: list[str]) -> Any:
    """The Request of a plain search invocation, or None for anything else. The options
    and their kinds come from the search command's declaration (:mod:`.request`)."""
    from .request import SPECS, Request, RequestError

    spec = SPECS["search"]
    by_flag = {flag: opt for opt in spec.options for flag in opt.flags}
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
    values: dict[str, Any] = {}
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
        opt = by_flag.get(name)
        if opt is None:
            return None  # --help, --debug, -n5, a -word query...: click's
        if opt.kind == "flag":
            if eq:
                return None
            values[opt.key] = True
            continue
        if not eq:
            if i >= len(args):
                return None
            attached = args[i]
            i += 1
        try:
            value = opt.convert(attached)
        except RequestError:
            return None  # click judges it, with its own message
        if opt.multiple:
            values[opt.key] = (*values.get(opt.key, ()), value)
        else:
            values[opt.key] = value
    values["query"] = tuple(words)
    values["index_dir"] = values.get("index_dir") or global_index
    return Request("search", values)


def run(argv: list[str]) -> int | None:
    """Run a plain search here and return its exit code, or None when the click CLI should."""
    from .protocol import index_folder

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
        from .search import CorpusIndex

        config = load_config(None)
        ctx = commands.Context(
            config,
            lambda index_dir: CorpusIndex(config.resolve_index(index_dir)),
            config.resolve_index,
        )
        return commands.execute(request, ctx)

    return commands.run_mapped(invoke, debug=False)
