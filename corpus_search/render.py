"""Rendering: results -> rich text for people, JSON / JSON lines / CSV for programs.

Only this module and the CLI import rich, and only when text for people is drawn: JSON output
never loads it. Colour is used only on a terminal and never when ``NO_COLOR`` is set; without
colour, matches are shown between the ``--mark`` markers so they stay visible in plain text.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterable

from .vocab import counted

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, TextIO

JSON_INDENT = 2


# --------------------------------------------------------------------------------------------
# Programs


def write_json(obj: Any, stream: TextIO | None = None, *, indent: int | None = JSON_INDENT) -> None:
    stream = stream or sys.stdout
    stream.write(_for(stream, json.dumps(obj, ensure_ascii=False, indent=indent)))
    stream.write("\n")


def write_jsonl(objs: Iterable[Any], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    tty = _isatty(stream)
    for obj in objs:
        stream.write(jsonl_line(obj, tty))


def jsonl_line(obj: Any, tty: bool = False) -> str:
    """One JSON line (with its line break); for a terminal, with the characters it would obey
    escaped (see _JSON_UNSAFE)."""
    line = json.dumps(obj, ensure_ascii=False)
    return (_JSON_UNSAFE.sub(_json_escape, line) if tty else line) + "\n"


def csv_line(cells: list[Any], tty: bool = False) -> str:
    """One CSV row (with its line break); for a terminal, control characters shown."""
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(
        [visible(c) if tty and isinstance(c, str) else c for c in cells]
    )
    return buf.getvalue()


#: What JSON leaves unescaped but a terminal obeys: DEL, the C1 controls (U+009B is a CSI:
#: an escape sequence in one character) and bidirectional overrides. In a pipe the text is
#: kept as it is; on a terminal they are written as JSON escapes (the same JSON once read).
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _json_escape(m: re.Match) -> str:
    return f"\\u{ord(m.group()):04x}"


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _for(stream, text: str) -> str:
    return _JSON_UNSAFE.sub(_json_escape, text) if _isatty(stream) else text


def search_json(
    result, open_mark: str = "[[", close_mark: str = "]]", fields: list[str] | None = None
) -> dict[str, Any]:
    """The documented ``--json`` object of a search."""
    hits = [h.to_dict(open_mark, close_mark) for h in result.hits]
    if fields:
        hits = [{k: h[k] for k in fields if k in h} for h in hits]
    out: dict[str, Any] = {
        "query": result.query,
        "total": result.total,
        "took_ms": result.took_ms,
        "page": result.page,
        "limit": result.limit,
        "sort": result.sort,
        "filters": result.filters,
        "hits": hits,
    }
    if result.facets:
        out["facets"] = {name: fc.to_dict() for name, fc in result.facets.items()}
    if result.suggestion:
        out["suggestion"] = result.suggestion
    return out


def write_timeline_csv(timeline, stream: TextIO | None = None) -> None:
    import csv

    stream = stream or sys.stdout
    writer = csv.writer(stream, lineterminator="\n")
    if timeline.split:
        writer.writerow(["period", "value", "count"])
        for b in timeline.buckets:
            if not b["series"]:
                writer.writerow([b["period"], "", 0])
            for s in b["series"]:
                writer.writerow([b["period"], s["value"], s["count"]])
    else:
        writer.writerow(["period", "count"])
        for b in timeline.buckets:
            writer.writerow([b["period"], b["count"]])


def write_csv(rows: Iterable[list[Any]], header: list[str], stream: TextIO | None = None) -> None:
    import csv

    stream = stream or sys.stdout
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    if _isatty(stream):  # an article's escape sequences shown, not obeyed, on a terminal
        for row in rows:
            writer.writerow([visible(c) if isinstance(c, str) else c for c in row])
        return
    for row in rows:
        writer.writerow(row)


def csv_cell(value: Any) -> Any:
    """A record value as one CSV cell: lists joined by "; ", None empty."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(map(str, value))
    return value


# --------------------------------------------------------------------------------------------
# People

_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _show_control(m: re.Match) -> str:
    code = ord(m.group())
    if code < 0x20:
        return chr(0x2400 + code)  # a control picture: ESC shows as ␛
    if code == 0x7F:
        return "\u2421"
    return f"<U+{code:04X}>"


def visible(text: str) -> str:
    """Text safe to print on a terminal: control characters (escape sequences that could
    clear the screen or retitle the window) and bidirectional overrides are shown, not obeyed.
    Line breaks and tabs are kept. JSON output keeps the text as it is (escaped by JSON)."""
    return _CONTROLS.sub(_show_control, text) if _CONTROLS.search(text) else text


def make_console(
    stderr: bool = False,
    *,
    file: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
):
    """A rich console: colour only on a terminal and without NO_COLOR; soft wrap when piped.
    ``file``: where it writes (default stdout, or stderr); ``environ``: the environment it
    follows (NO_COLOR, TERM, FORCE_COLOR, COLUMNS for the width: a served client's; default
    this process's)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            """The reader went away (``| head``): rich exits 1 here; we raise, and the CLI
            exits 0 like grep (what was asked for was printed)."""
            self.quiet = True
            raise BrokenPipeError

    stream = file or (sys.stderr if stderr else sys.stdout)
    tty = stream.isatty()
    env = dict(os.environ if environ is None else environ)
    columns = env.get("COLUMNS", "")
    width = None
    if columns and not (columns.isascii() and columns.isdigit() and 20 <= int(columns) <= 10000):
        # COLUMNS=0 made rich print nothing at all (exit 0, no output); a width it cannot
        # use is ignored: the terminal's own, else 80
        width = 80 if not tty else None
        del env["COLUMNS"]
        if environ is None:
            os.environ.pop("COLUMNS", None)
    return _Console(
        file=stream,
        width=width,
        highlight=False,
        no_color=bool(env.get("NO_COLOR")),
        soft_wrap=not tty,
        emoji=False,
        markup=False,
        _environ=env,
    )


def uses_style(console) -> bool:
    """Whether matches can be shown by colour: a terminal that has colours (not TERM=dumb) and
    no NO_COLOR. Otherwise they are shown by markers, so a match is never lost."""
    return console.is_terminal and not console.no_color and console.color_system is not None


def _marked(pieces, console, open_mark: str, close_mark: str, base_style: str = ""):
    from rich.text import Text

    text = Text(style=base_style)
    styled = uses_style(console)
    for piece, matched in pieces:
        if matched:
            if styled:
                text.append(visible(piece), style="bold black on yellow")
            else:
                text.append(f"{open_mark}{visible(piece)}{close_mark}")
        else:
            text.append(visible(piece))
    return text


def print_search(result, console, open_mark: str = "[[", close_mark: str = "]]") -> None:
    from rich.padding import Padding
    from rich.text import Text

    styled = uses_style(console)
    first = (result.page - 1) * result.limit + 1
    last = first + len(result.hits) - 1
    head = Text()
    noun = "hit" if result.total == 1 else "hits"
    head.append(f"{result.total} {noun}", style="bold" if styled else "")
    if result.hits:
        head.append(f" (showing {first}-{last}")
        head.append(f", page {result.page} of {result.pages})" if result.pages > 1 else ")")
    head.append(f" for {visible(repr(result.query or '*'))} in {result.took_ms:.0f} ms")
    if result.filters:
        head.append(
            visible("  filters: " + ", ".join(f"{k}={v}" for k, v in result.filters.items()))
        )
    console.print(head)
    for hit in result.hits:
        r = hit.record
        console.print()
        line = Text()
        line.append(f"{hit.rank:>3}. ", style="dim" if styled else "")
        line.append_text(
            _marked(
                hit.title or [(r["title"] or "(no title)", False)],
                console,
                open_mark,
                close_mark,
                "bold cyan" if styled else "",
            )
        )
        console.print(line)
        meta = [
            r["published"][:16].replace("T", " ") if r["published"] else None,
            r["author"],
            r["source"],
            r["place"],
            f"{r['views']} views" if r["views"] is not None else None,
        ]
        lines = [Text(visible(" · ".join(m for m in meta if m)), style="green" if styled else "")]
        if r["categories"]:
            lines.append(
                Text(visible(", ".join(r["categories"])), style="magenta" if styled else "")
            )
        lines.append(Text(visible(r["id"]), style="dim" if styled else ""))
        lines.extend(_marked(snip, console, open_mark, close_mark) for snip in hit.snippets)
        for line in lines:
            if console.is_terminal:  # indented under the title, wrapped lines too
                console.print(Padding(line, (0, 0, 0, 5)))
            else:  # one line each, for grep and friends
                console.print(Text("     ") + line)
    if result.facets:
        print_facets(result.facets.values(), console)


def print_facets(facets, console) -> None:
    from rich.table import Table
    from rich.text import Text

    styled = uses_style(console)
    for fc in facets:
        console.print()
        table = Table(
            title=None,
            box=None,
            show_header=True,
            pad_edge=False,
            header_style="bold" if styled else "",
        )
        table.add_column(fc.field, overflow="fold")
        table.add_column("count", justify="right")
        table.add_column("", no_wrap=True)
        top = max((c for _, c in fc.values), default=1)
        for value, count in fc.values:
            bar = "█" * max(1, round(20 * count / top))
            table.add_row(visible(value), str(count), Text(bar, style="blue" if styled else ""))
        if fc.other:
            table.add_row(f"(+{fc.other} more values)", "", "")
        if fc.missing:
            table.add_row("(none)", str(fc.missing), "")
        console.print(table)


def print_timeline(timeline, console) -> None:
    """A bar per period. The period and the count always show in full; the bar shrinks and
    a --split's series is cut (with …) to fit the terminal's width."""
    from rich.text import Text

    styled = uses_style(console)
    console.print(
        Text(
            f"{timeline.total} articles by {timeline.by}"
            + (f" ({timeline.undated} without a date)" if timeline.undated else "")
            + (
                f"; {timeline.omitted} empty periods not shown (the dates span too long for"
                " every period: a sentinel date?)"
                if getattr(timeline, "omitted", 0)
                else ""
            ),
            style="bold" if styled else "",
        )
    )
    period_w = max((len(b["period"]) for b in timeline.buckets), default=4)
    count_w = max((len(str(b["count"])) for b in timeline.buckets), default=1)
    room = max(10, console.width - period_w - count_w - 4)
    bar_w = min(40, room if not timeline.split else max(8, room // 3))
    series_w = console.width - period_w - count_w - bar_w - 6
    top = max((b["count"] for b in timeline.buckets), default=1) or 1
    # Written out line by line, not as a rich Table: a table squeezed by a long series gave
    # up the count column (issue: the split timeline lost its period and count).
    for b in timeline.buckets:
        n = round(bar_w * b["count"] / top) if b["count"] else 0
        line = Text(f"{b['period']:<{period_w}}  {b['count']:>{count_w}}  ")
        line.append("█" * n, style="blue" if styled else "")
        series = ""
        if timeline.split and series_w >= 2:
            series = visible(", ".join(f"{s['value']} {s['count']}" for s in b.get("series") or []))
            if len(series) > series_w:
                series = series[: series_w - 1] + "…"
        if series:
            line.append(" " * (bar_w - n) + "  ")
            line.append(series, style="dim" if styled else "")
        console.print(line, no_wrap=True, overflow="crop", crop=True)


def print_explain(result: dict[str, Any], console) -> None:
    """``explain``: a block per word, a line per language with the forms and their counts."""
    from rich.text import Text

    styled = uses_style(console)
    if not result["words"]:
        console.print(Text("no word of this query is expanded to other forms"))
    for w in result["words"]:
        where = "in titles" if w["field"] == "title" else "in titles and bodies"
        console.print(Text(visible(f"{w['word']}  ({where})"), style="bold" if styled else ""))
        if not w["languages"]:
            console.print(Text("  no article has it"))
        for g in w["languages"]:
            name = g["language"] or "unknown language"
            line = Text(f"  {name}: {g['articles']} articles  ", style="")
            forms = ", ".join(f"{f['form']} {f['articles']}" for f in g["forms"]) or "-"
            line.append(visible(forms), style="dim" if styled else "")
            console.print(line)
    for rank, hit in enumerate(result.get("hits") or (), start=1):
        console.print(
            Text(
                visible(f"{rank}. {hit['id']}  score {hit['score']:.4f}"),
                style="bold" if styled else "",
            )
        )
        for t in hit["terms"]:
            console.print(
                Text(
                    visible(
                        f"  {t['score']:.4f} = BM25 of {t['term']} in {t['field']}: tf {t['tf']:g}, "
                        f"idf {t['idf']:.4f}, length {t['length']} (average {t['average_length']:.1f})"
                    )
                )
            )


def print_ngrams(result: dict[str, Any], console) -> None:
    from rich.text import Text

    styled = uses_style(console)
    low, high = result["sizes"]
    size = f"{low}" if low == high else f"{low} to {high}"
    console.print(
        Text(
            f"word sequences of {size} in {counted(result['articles'], 'article')}"
            + (f", around {result['around']!r}" if result["around"] else ""),
            style="bold" if styled else "",
        )
    )
    for g in result["ngrams"]:
        line = Text(f"{g['count']:>7}  {g['documents']:>6} art.  ")
        line.append(visible(g["ngram"]), style="bold" if styled else "")
        if g.get("groups"):
            line.append(
                "  " + visible(", ".join(f"{k} {v}" for k, v in list(g["groups"].items())[:4])),
                style="dim" if styled else "",
            )
        console.print(line)


def print_keywords(result: dict[str, Any], console) -> None:
    from rich.text import Text

    styled = uses_style(console)
    what = "rare" if result["negative"] else "frequent"
    console.print(
        Text(
            f"words unusually {what} in {counted(result['target_articles'], 'article')} "
            f"({result['target_words']} words) against {counted(result['reference_articles'], 'article')} "
            f"({result['reference_words']} words)",
            style="bold" if styled else "",
        )
    )
    console.print(Text(f"{'LL':>9} {'log ratio':>9} {'target':>8} {'reference':>10}  word"))
    for k in result["keywords"]:
        line = Text(
            f"{k['ll']:>9.2f} {k['log_ratio']:>9.2f} {k['target']['count']:>8} "
            f"{k['reference']['count']:>10}  "
        )
        line.append(visible(k["word"]), style="bold" if styled else "")
        console.print(line)


def print_dispersion(result: dict[str, Any], console) -> None:
    """A strip plot over the articles in time order, DP, and rates per source and year."""
    from rich.text import Text

    from .wordcounts import strip_plot

    styled = uses_style(console)
    console.print(
        Text(
            visible(
                f"{result['word']}: {counted(result['occurrences'], 'occurrence')} in "
                f"{result['with_word']} of {counted(result['articles'], 'article')}; "
                f"Gries' DP {result['dp']:.3f} (normalised {result['dp_norm']:.3f}; "
                "0 = even, 1 = in one place)"
            ),
            style="bold" if styled else "",
        )
    )
    width = max(14, min(console.width - 2, 100))
    plot = strip_plot(result["positions"], result["articles"], width)
    console.print(Text(plot))
    if len(plot) >= 14:
        gap = " " * (len(plot) - 12)
        console.print(Text(f"oldest{gap}newest", style="dim" if styled else ""))
    for title, rows in (("by source", result["by_source"]), ("by year", result["by_year"])):
        console.print(Text(title, style="bold" if styled else ""))
        for r in rows:
            console.print(
                Text(
                    visible(
                        f"  {r['value'][:30]:<30} {r['occurrences']:>6} in {r['articles']:>5} "
                        f"articles  {r['per_10k']:>8.2f} per 10,000 words"
                    )
                )
            )


def print_reuse(result: dict[str, Any], bodies: dict[str, str], console, limit: int) -> None:
    """Each passage: the earlier article, the later one, and the passage as the later has it."""
    from rich.text import Text

    styled = uses_style(console)
    passages = result["passages"]
    console.print(
        Text(
            f"{counted(len(passages), 'passage')} reused among "
            f"{counted(result['articles'], 'article')}",
            style="bold" if styled else "",
        )
    )
    for n, p in enumerate(passages[: limit or None], 1):
        e, lt = p["earlier"], p["later"]
        console.print()
        console.print(
            Text(
                visible(
                    f"{n:>3}. {p['words']} words, similarity {p['similarity']:.2f}: "
                    f"{(e['published'] or 'undated')[:10]} {e['source'] or ''} {e['id']} -> "
                    f"{(lt['published'] or 'undated')[:10]} {lt['source'] or ''} {lt['id']}"
                ),
                style="bold" if styled else "",
            )
        )
        text = bodies.get(lt["id"], "")[lt["start"] : lt["end"]]
        console.print(Text("     " + visible(text if len(text) < 400 else text[:397] + "...")))


def print_article(
    record: dict[str, Any], console, *, removed=None, warnings=None, from_path=None, read_as=None
) -> None:
    from rich.text import Text

    styled = uses_style(console)
    console.print(
        Text(visible(record.get("title") or "(no title)"), style="bold cyan" if styled else "")
    )
    rows = [
        ("id", record.get("id")),
        ("source", record.get("source")),
        ("url", record.get("url")),
        ("site", record.get("site")),
        ("author", record.get("author")),
        ("published", record.get("published")),
        ("place", record.get("place")),
        ("views", None if record.get("views") is None else str(record["views"])),
        ("categories", ", ".join(record.get("categories") or []) or None),
        ("tags", ", ".join(record.get("tags") or []) or None),
        ("language", record.get("language")),
        ("words", str(record.get("words", 0))),
    ]
    for key, value in rows:
        line = Text(f"  {key:<11}", style="dim" if styled else "")
        line.append(visible(value) if value is not None else "-")
        console.print(line)
    console.print()
    body = record.get("body") or ""
    reused = record.get("reused_from")
    if reused is None:
        for para in body.split("\n\n"):
            if para:
                console.print(Text(visible(para)))
                console.print()
    else:  # show --reuse: the passages found in earlier articles are marked
        text = Text()
        pos = 0
        for p in sorted(reused, key=lambda p: p["later"]["start"]):
            start, end = max(pos, p["later"]["start"]), p["later"]["end"]
            if start >= end:
                continue
            text.append(visible(body[pos:start]))
            if styled:
                text.append(visible(body[start:end]), style="black on cyan")
            else:
                text.append(f"[[{visible(body[start:end])}]]")
            pos = end
        text.append(visible(body[pos:]))
        console.print(text)
        console.print()
        console.print(
            Text(
                f"{counted(len(reused), 'passage')} found in earlier articles",
                style="bold" if styled else "",
            )
        )
        for p in reused:
            e = p["earlier"]
            console.print(
                Text(
                    visible(
                        f"  {p['words']} words from {(e['published'] or 'undated')[:10]} "
                        f"{e['source'] or ''} {e['id']} (similarity {p['similarity']:.2f})"
                    )
                )
            )
    for w in warnings or ():
        console.print(Text(visible(f"  warning: {w}"), style="yellow" if styled else ""))
    if from_path:
        console.print(
            Text(
                "from the path: " + ", ".join(f"{k}={v}" for k, v in from_path.items()),
                style="bold" if styled else "",
            )
        )
    if read_as:
        mapping = read_as.get("mapping") or {}
        console.print(
            Text(
                "fields from the record's keys: "
                + (", ".join(f"{k} <- {v}" for k, v in mapping.items()) or "none"),
                style="bold" if styled else "",
            )
        )
        if read_as.get("unused"):
            console.print(Text(visible("  keys not used: " + ", ".join(read_as["unused"]))))
    if removed is not None:
        console.print(Text(f"removed lines ({len(removed)}):", style="bold" if styled else ""))
        for r in removed:
            line = Text(f"  {r.line or '-':>4}  ", style="dim" if styled else "")
            line.append(f"[{r.rule}] ", style="red" if styled else "")
            line.append(visible(r.text if len(r.text) < 120 else r.text[:117] + "..."))
            console.print(line)


def print_index_report(report, console) -> None:
    from rich.text import Text

    styled = uses_style(console)
    if not report.changed and not report.rebuilt:
        msg = f"up to date: {report.documents} documents, {report.unchanged} files unchanged"
        if report.skipped:
            msg += f", {report.skipped} skipped"
        console.print(Text(msg + f" ({report.elapsed:.2f}s)", style="green" if styled else ""))
        _print_skips(report, console)
        return
    mb = report.bytes_indexed / 1e6
    rate = (
        f"{report.docs_per_second:.0f} docs/s, {mb / report.elapsed:.2f} MB/s"
        if report.elapsed
        else ""
    )
    console.print(
        Text(
            f"{'rebuilt' if report.rebuilt else 'indexed'}: {report.added} added, {report.updated} updated, "
            f"{report.removed} removed, {report.unchanged} unchanged, {report.skipped} skipped; "
            f"{report.documents} documents in {report.elapsed:.2f}s ({rate})",
            style="green" if styled else "",
        )
    )
    _print_skips(report, console)


def _print_skips(report, console) -> None:
    """What was not indexed, by reason (each file was named on stderr as it was skipped)."""
    from rich.text import Text

    if getattr(report, "watch", None):
        console.print(
            Text(visible("watched: " + ", ".join(f"{n} {c} new" for n, c in report.watch.items())))
        )
    reasons = report.skipped_by_reason()
    if reasons:
        parts = ", ".join(f"{n} {why}" for why, n in reasons.items())
        console.print(Text(visible(f"skipped {report.skipped}: {parts}")))
    if report.ignored:
        console.print(
            Text(
                f"passed over {report.ignored} hidden or backup files and folders "
                "(exclude: in the config)"
            )
        )


def print_stats(stats: dict[str, Any], console) -> None:
    from rich.text import Text

    styled = uses_style(console)
    size = stats["size_bytes"]
    rows = [
        ("index", stats["index"]),
        ("documents", str(stats["documents"])),
        ("size on disk", f"{size / 1e6:.1f} MB"),
        ("schema version", str(stats["schema_version"])),
        ("last update", stats.get("updated") or "-"),
        (
            "date range",
            f"{stats['date_range']['first'] or '-'} to {stats['date_range']['last'] or '-'}",
        ),
        ("corpus roots", ", ".join(stats["roots"]) or "-"),
        ("sources", ", ".join(f"{k} ({v})" for k, v in stats["sources"].items()) or "-"),
        ("languages", ", ".join(f"{k} ({v})" for k, v in stats["languages"].items()) or "-"),
    ]
    for key, value in rows:
        line = Text(f"{key:<15}", style="bold" if styled else "")
        line.append(visible(value))
        console.print(line)


def progress_bar(console):
    """``progress(iterable, total) -> iterable`` drawing a rich bar on the console."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    def wrap(iterable, total):
        with Progress(
            TextColumn("indexing"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        ) as bar:
            task = bar.add_task("index", total=total)
            for item in iterable:
                yield item
                bar.advance(task)

    return wrap


def print_kwic(conc, console, open_mark: str = "[[", close_mark: str = "]]") -> None:
    """Concordance lines, the match centred in a column, context cut to the width."""
    from rich.text import Text

    styled = uses_style(console)
    head = Text(
        f"{conc.total} occurrences in {conc.articles} articles"
        + (f" (showing {len(conc.lines)}, by {conc.sort})" if conc.lines else ""),
        style="bold" if styled else "",
    )
    console.print(head)
    width = conc.width
    current = None
    for line in conc.lines:
        if line.lemma is not None and line.lemma != current:  # kwic --lemma: a heading each
            current = line.lemma
            console.print(Text(visible(f"{current}:"), style="bold" if styled else ""))
        row = Text()
        row.append(visible(line.left).rjust(width), style="")
        row.append(" ")
        if styled:
            row.append(visible(line.match), style="bold black on yellow")
        else:
            row.append(f"{open_mark}{visible(line.match)}{close_mark}")
        row.append(" ")
        row.append(visible(line.right).ljust(width))
        row.append(f"  {visible(line.id)}", style="dim" if styled else "")
        if console.is_terminal:  # one screen line each, cut at the edge
            console.print(row, overflow="ellipsis", no_wrap=True)
        else:  # whole lines, for grep and friends
            console.print(row, soft_wrap=True)


def print_collocates(result, console) -> None:
    from rich.table import Table
    from rich.text import Text

    styled = uses_style(console)
    console.print(
        Text(
            f"collocates of {visible(repr(result.query))} within {result.window} words: "
            f"{result.occurrences} occurrences in {result.articles} articles; "
            f"score: {result.measure}",
            style="bold" if styled else "",
        )
    )
    table = Table(box=None, pad_edge=False, header_style="bold" if styled else "")
    table.add_column("word", overflow="fold")
    table.add_column("together", justify="right")
    table.add_column("in index", justify="right")
    table.add_column("score", justify="right")
    for c in result.collocates:
        table.add_row(visible(c.word), str(c.count), str(c.frequency), f"{c.score:.2f}")
    console.print(table)


def print_counts(rows: list[dict[str, Any]], by: str, console) -> None:
    """One row per query: its total and a compact series of counts per period."""
    from rich.table import Table

    styled = uses_style(console)
    periods = sorted({b["period"] for r in rows for b in r["buckets"]})
    table = Table(box=None, pad_edge=False, header_style="bold" if styled else "")
    table.add_column("query", overflow="fold")
    table.add_column("total", justify="right")
    table.add_column(
        f"per {by} ({periods[0]} to {periods[-1]})" if periods else f"per {by}", no_wrap=True
    )
    blocks = " ▁▂▃▄▅▆▇█"
    for r in rows:
        counts = {b["period"]: b["count"] for b in r["buckets"]}
        top = max(counts.values(), default=0) or 1
        spark = "".join(
            blocks[round(8 * counts.get(p, 0) / top)] if counts.get(p) else " " for p in periods
        )
        undated = f"  ({r['undated']} undated)" if r.get("undated") else ""
        table.add_row(visible(r["query"]), str(r["total"]), spark[-60:] + undated)
    console.print(table)


def print_reprints(result, console) -> None:
    """Each cluster as a small timeline: who published the story when, the origin first."""
    from rich.text import Text

    styled = uses_style(console)
    console.print(
        Text(
            f"{counted(len(result.clusters), 'cluster')} of reprints among "
            f"{counted(result.articles, 'article')} (similarity at least {result.threshold:g})",
            style="bold" if styled else "",
        )
    )
    for n, cluster in enumerate(result.clusters, 1):
        console.print()
        head = Text(f"{n:>3}. ", style="dim" if styled else "")
        head.append(
            visible(cluster.first.title or "(no title)"), style="bold cyan" if styled else ""
        )
        head.append(
            f"  ({counted(len(cluster.members), 'article')}, "
            f"{counted(len(cluster.sources), 'source')})"
        )
        console.print(head)
        for i, m in enumerate(cluster.members):
            when = (m.published or "undated")[:16].replace("T", " ")
            line = Text(f"     {when:<16}  ")
            line.append(visible(m.source or "(no source)"), style="green" if styled else "")
            if m.site and m.site != m.source:
                line.append(f" ({visible(m.site)})", style="green" if styled else "")
            line.append(
                "  first" if i == 0 else f"  {m.similarity:.2f}",
                style="bold" if styled and i == 0 else ("dim" if styled else ""),
            )
            line.append(f"  {visible(m.id)}", style="dim" if styled else "")
            console.print(line)
