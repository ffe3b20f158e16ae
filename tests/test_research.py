"""The research commands: reprints (precision and recall on a test set built by rules), KWIC,
collocates, counting many queries over time, export, show by path; and the one convention for
options, paging, empty results, narrow terminals and closed pipes. Counts are checked against
oracles computed here from the parsed records or the generated texts."""

from __future__ import annotations

import csv
import io
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from corpus_search.cli import cli
from corpus_search.indexer import update_index
from corpus_search.languages import stem

from conftest import REPO


def run(*args, **kw):
    r = CliRunner().invoke(cli, [str(a) for a in args], env={"NO_COLOR": "1"}, **kw)
    assert "Traceback" not in (r.stderr or "") and "internal error" not in (r.stderr or ""), (
        r.stderr
    )
    return r


# --------------------------------------------------------------------------------------------
# Reprints: a test set built by rules

VOCAB = (
    "minister port grain harbour river village council railway bridge tariff election court "
    "refinery pipeline border customs summit treaty fishermen farmers teachers doctors "
    "hospital school factory mine drought flood storm winter spring harvest budget loan "
    "bank ministry governor mayor protest strike union wages prices fuel coal gas oil power "
    "water road airport ferry truck convoy market exports imports quota licence contract "
    "agreement talks delegation visit report inquiry audit survey census plan reform law "
    "decree ban fine court appeal verdict ruling police army navy drill exercise parade "
    "festival museum theatre library archive stadium match league coach team record"
).split()
GLUE = (
    "the a of in on at for with by from and but after before while since said says will has".split()
)


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCAB if i % 2 == 0 else GLUE) for i in range(rng.randint(12, 20))]
    return words[0].capitalize() + " " + " ".join(words[1:]) + "."


def _paragraph(rng: random.Random) -> str:
    return " ".join(_sentence(rng) for _ in range(rng.randint(2, 3)))


def _typography(text: str) -> str:
    return (
        text.replace("'", "’").replace(" - ", " — ").replace('"', "“").replace(". ", ".\u00a0", 3)
    )


def _variant(rng: random.Random, paragraphs: list[str], kind: str) -> list[str]:
    paras = list(paragraphs)
    if kind == "cut":
        del paras[rng.randrange(1, len(paras))]
    elif kind == "added":
        paras.insert(rng.randrange(1, len(paras)), _paragraph(rng))
    elif kind == "typography":
        paras = [_typography(p) for p in paras]
    # every reprint: its own site's header and footer
    return [
        f"Reprinted from our partners. {_sentence(rng)}",
        *paras,
        "Follow us for more news from the regions and subscribe to our newsletter today.",
    ]


def _write(
    folder: Path, name: str, title: str, source: str, day: int, paragraphs: list[str]
) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(
        f"---\ntitle: {title}\nsource: {source}\npublished: 2024-03-{day:02d}T10:00:00+00:00\n---\n\n"
        + "\n\n".join(paragraphs)
        + "\n",
        "utf-8",
    )
    return f"{folder.name}/{name}"


@pytest.fixture(scope="module")
def reprint_set(tmp_path_factory):
    """(index, true clusters as sets of ids, ids that must stand alone)."""
    rng = random.Random(42)
    base = tmp_path_factory.mktemp("reprints")
    corpus = base / "corpus"
    truth: list[set[str]] = []
    alone: set[str] = set()
    kinds = ["cut", "added", "typography", "headline"]
    for i in range(60):
        paras = [_paragraph(rng) for _ in range(rng.randint(5, 9))]
        story = {
            _write(corpus / "origin", f"s{i}.md", f"Story {i}", "Origin Daily", 1 + i % 9, paras)
        }
        for j, kind in enumerate(rng.sample(kinds, 2)):
            story.add(
                _write(
                    corpus / f"site{j}",
                    f"s{i}.md",
                    f"Another headline {i} {j}",
                    f"Site {j}",
                    10 + i % 9 + j,
                    _variant(rng, paras, kind),
                )
            )
        truth.append(story)
        # the same topic in other words: shares the vocabulary, not the text
        alone.add(
            _write(
                corpus / "topic",
                f"t{i}.md",
                f"Story {i} elsewhere",
                "Other Post",
                2 + i % 9,
                [_paragraph(rng) for _ in range(len(paras))],
            )
        )
        # shares one long quote (a whole paragraph) and nothing else
        alone.add(
            _write(
                corpus / "quote",
                f"q{i}.md",
                f"Quoting {i}",
                "Quote Weekly",
                3 + i % 9,
                [_paragraph(rng) for _ in range(5)] + [paras[0]],
            )
        )
    index = base / "index"
    assert update_index(index, [corpus]).added == 60 * 5
    return index, truth, alone


def _pairs(groups) -> set[frozenset]:
    return {frozenset((a, b)) for g in groups for a in g for b in g if a < b}


def test_reprints_precision_and_recall(reprint_set):
    index, truth, alone = reprint_set
    r = run("reprints", "--index", index, "--json")
    found = [{m["id"] for m in c["members"]} for c in json.loads(r.stdout)["clusters"]]
    predicted, expected = _pairs(found), _pairs(truth)
    precision = len(predicted & expected) / max(1, len(predicted))
    recall = len(predicted & expected) / len(expected)
    assert precision >= 0.98 and recall >= 0.95, (precision, recall)
    assert not any(g & alone for g in found)  # same topic or one shared quote: never a reprint


def test_reprint_clusters_name_the_origin(reprint_set):
    index, truth, _ = reprint_set
    out = json.loads(run("reprints", "--index", index, "--json", "--since", "2024-03-01").stdout)
    assert out["threshold"] == 0.8 and out["total"] == len(out["clusters"]) > 50
    for c in out["clusters"]:
        dates = [m["published"] for m in c["members"]]
        assert dates == sorted(dates)  # oldest first
        assert c["first"]["id"] == c["members"][0]["id"] and c["first"]["id"].startswith("origin/")
        assert c["size"] == len(c["members"]) and c["members"][0]["similarity"] == 1.0
        # members join through any member at the threshold; the score shown is to the first
        assert all(0.6 <= m["similarity"] <= 1 for m in c["members"])
    sizes = [c["size"] for c in out["clusters"]]
    assert sizes == sorted(sizes, reverse=True)


def test_reprints_follow_updates(tmp_path):
    """Sketches are kept per file: a reprint that arrives later, changes or goes is seen."""
    rng = random.Random(7)
    corpus = tmp_path / "c"
    paras = [_paragraph(rng) for _ in range(6)]
    _write(corpus / "a", "x.md", "Original", "A", 1, paras)
    index = tmp_path / "ix"
    update_index(index, [corpus])
    assert run("reprints", "--index", index).exit_code == 1
    _write(corpus / "b", "x.md", "Reprint", "B", 2, _variant(rng, paras, "cut"))
    update_index(index)
    out = json.loads(run("reprints", "--index", index, "--json").stdout)
    assert [m["id"] for m in out["clusters"][0]["members"]] == ["a/x.md", "b/x.md"]
    _write(corpus / "b", "x.md", "Rewritten", "B", 2, [_paragraph(rng) for _ in range(6)])
    update_index(index)
    assert json.loads(run("reprints", "--index", index, "--json").stdout)["total"] == 0


def test_search_collapse_counts_clusters(reprint_set):
    index, truth, alone = reprint_set
    r = json.loads(
        run(
            "search",
            "*",
            "--collapse",
            "--json",
            "-n",
            "400",
            "--index",
            index,
            "--facet",
            "source",
        ).stdout
    )
    assert r["total"] == len(truth) + len(alone)
    origin = [h for h in r["hits"] if h["id"].startswith("origin/")]
    assert len(origin) == 60 and all(h["reprints"] == 2 for h in origin)
    assert all(len(h["reprint_ids"]) == 2 for h in origin)
    assert not [h for h in r["hits"] if h["id"].startswith("site")]
    sources = {v["value"]: v["count"] for v in r["facets"]["source"]["values"]}
    assert sources == {"Origin Daily": 60, "Other Post": 60, "Quote Weekly": 60}
    count = run("search", "*", "--collapse", "--count", "--index", index)
    assert count.stdout == f"{len(truth) + len(alone)}\n"


def test_the_sample_corpus_has_a_reprinted_story(sample_index):
    out = json.loads(run("reprints", "--index", sample_index, "--json").stdout)
    assert [c["size"] for c in out["clusters"]] == [3]
    assert out["clusters"][0]["sources"] == ["PolitNavigator", "Steppe Herald", "Baltic Monitor"]


# --------------------------------------------------------------------------------------------
# KWIC and collocates, checked against regular expressions over the parsed records

FORMS = re.compile(r"(?<!\w)(sanction|sanctions|sanctioned)(?!\w)", re.IGNORECASE)


def test_kwic_finds_every_occurrence(sample_index, sample_records):
    r = run("kwic", "sanctions", "-n", "0", "--json", "--width", "25", "--index", sample_index)
    out = json.loads(r.stdout)
    expected = [
        (rec["id"], m.group())
        for rec in sample_records
        for text in (rec["title"] or "", rec["body"])
        for m in FORMS.finditer(text)
    ]
    assert out["total"] == len(expected) == len(out["lines"])
    assert out["articles"] == len({i for i, _ in expected})
    assert Counter((x["id"], x["match"]) for x in out["lines"]) == Counter(expected)
    assert all(len(x["left"]) <= 25 and len(x["right"]) <= 25 for x in out["lines"])
    assert set(out["lines"][0]) == {"id", "title", "source", "published", "left", "match", "right"}


def test_kwic_sorts(sample_index):
    def lines(sort):
        return json.loads(
            run("kwic", "sanctions", "--sort", sort, "--json", "--index", sample_index).stdout
        )["lines"]

    left = [[w.lower() for w in reversed(re.findall(r"\w+", x["left"]))] for x in lines("left")]
    assert left == sorted(left)
    right = [[w.lower() for w in re.findall(r"\w+", x["right"])] for x in lines("right")]
    assert right == sorted(right)
    dates = [x["published"] for x in lines("date")]
    assert dates == sorted(dates)
    r = run("kwic", '"open skies"', "--index", sample_index, "--json")
    assert {x["match"].lower() for x in json.loads(r.stdout)["lines"]} == {"open skies"}
    r = run("kwic", "zzqx", "--index", sample_index)
    assert r.exit_code == 1


def test_kwic_terminal_and_csv(sample_index):
    r = run("kwic", "grain", "-n", "2", "--width", "20", "--index", sample_index)
    assert r.exit_code == 0 and r.stdout.splitlines()[0].startswith("4 occurrences in 2 articles")
    assert "[[grain]]" in r.stdout or "[[Grain]]" in r.stdout
    rows = list(
        csv.reader(io.StringIO(run("kwic", "grain", "--csv", "--index", sample_index).stdout))
    )
    assert rows[0] == ["id", "published", "source", "left", "match", "right"] and len(rows) == 5


def _window_oracle(records, window):
    """Words within ``window`` words of a form of 'grain', counted by hand."""
    counts = Counter()
    occurrences = 0
    for rec in records:
        for text in (rec["title"] or "", rec["body"]):
            words = [w.lower() for w in re.findall(r"\w+", text)]
            hits = [i for i, w in enumerate(words) if stem(w) == stem("grain")]
            occurrences += len(hits)
            near = {
                j for i in hits for j in range(max(0, i - window), min(len(words), i + window + 1))
            }
            counts.update(words[j] for j in near - set(hits))
    return occurrences, counts


@pytest.mark.parametrize("helper", [False, True], ids=["alone", "with-a-forked-helper"])
def test_collocate_counts_match_a_hand_count(sample_index, sample_records, helper, monkeypatch):
    from corpus_search import parallel

    monkeypatch.setattr(parallel, "FROM", 1 if helper else 10**9)
    r = run(
        "collocates",
        "grain",
        "--window",
        "3",
        "--measure",
        "count",
        "--top",
        "500",
        "--json",
        "--index",
        sample_index,
    )
    out = json.loads(r.stdout)
    occurrences, expected = _window_oracle(sample_records, 3)
    assert out["occurrences"] == occurrences and out["window"] == 3
    assert {c["word"]: c["count"] for c in out["collocates"]} == dict(expected)
    hidden = json.loads(
        run(
            "collocates",
            "grain",
            "--window",
            "3",
            "--no-stopwords",
            "--top",
            "500",
            "--json",
            "--index",
            sample_index,
        ).stdout
    )
    assert "the" not in {c["word"] for c in hidden["collocates"]}
    assert {c["word"] for c in hidden["collocates"]} < set(expected)


def test_llr_and_pmi():
    from corpus_search.concordance import llr, pmi

    # a word seen 10 times in 100 window words, 20 times in a 10,000-word corpus
    o = [10, 90, 10, 9890]
    n = sum(o)
    e = [
        (o[0] + o[1]) * (o[0] + o[2]) / n,
        (o[0] + o[1]) * (o[1] + o[3]) / n,
        (o[2] + o[3]) * (o[0] + o[2]) / n,
        (o[2] + o[3]) * (o[1] + o[3]) / n,
    ]
    import math

    g2 = 2 * sum(x * math.log(x / y) for x, y in zip(o, e))
    assert llr(10, 100, 20, 10_000) == pytest.approx(g2)
    assert pmi(10, 100, 20, 10_000) == pytest.approx(math.log2(10 * 10_000 / (100 * 20)))
    assert llr(1, 100, 200, 10_000) < 0  # less often than chance: negative


# --------------------------------------------------------------------------------------------
# count --queries, export, show by path


def test_count_queries_equals_search_counts(sample_index, tmp_path):
    qfile = tmp_path / "q.txt"
    queries = ["sanctions", '"open skies"', "gas OR oil", "category:Скандал", "zzqx"]
    qfile.write_text("# narratives\n\n" + "\n".join(queries) + "\n", "utf-8")
    out = json.loads(
        run("count", "--queries", qfile, "--by", "month", "--json", "--index", sample_index).stdout
    )
    assert out["by"] == "month" and [q["query"] for q in out["queries"]] == queries
    for q in out["queries"]:
        total = int(run("search", q["query"], "--count", "--index", sample_index).stdout)
        assert q["total"] == total
        tl = json.loads(
            run("timeline", q["query"], "--by", "month", "--json", "--index", sample_index).stdout
        )
        assert q["buckets"] == [
            {"period": b["period"], "count": b["count"]} for b in tl["buckets"] if b["count"]
        ]
    rows = list(
        csv.reader(
            io.StringIO(
                run(
                    "count", "--queries", qfile, "--by", "year", "--csv", "--index", sample_index
                ).stdout
            )
        )
    )
    assert rows[0] == ["query", "period", "count"] and ["sanctions", "2021", "3"] in rows


def test_count_stops_at_a_bad_query(sample_index, tmp_path):
    qfile = tmp_path / "q.txt"
    qfile.write_text("sanctions\n\n(unbalanced\n", "utf-8")
    r = CliRunner().invoke(cli, ["count", "--queries", str(qfile), "--index", str(sample_index)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.startswith(f"corpus-search: {qfile}, line 3: bad query '(unbalanced'")


def test_export_streams_every_record(sample_index, sample_records):
    r = run("export", "sanctions", "--index", sample_index)
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == int(run("search", "sanctions", "--count", "--index", sample_index).stdout)
    by_id = {x["id"]: x for x in sample_records}
    for row in rows:  # every key, body included (the index was built from a copy: paths differ)
        assert list(row) == list(by_id[row["id"]])
        assert {k: v for k, v in row.items() if k != "path"} == {
            k: v for k, v in by_id[row["id"]].items() if k != "path"
        }
    order = [
        h["id"]
        for h in json.loads(run("search", "sanctions", "--json", "--index", sample_index).stdout)[
            "hits"
        ]
    ]
    assert [row["id"] for row in rows] == order
    everything = run(
        "export", "--format", "csv", "--fields", "id,categories,words", "--index", sample_index
    ).stdout
    table = list(csv.reader(io.StringIO(everything)))
    assert table[0] == ["id", "categories", "words"] and len(table) == len(sample_records) + 1
    cats = {row[0]: row[1] for row in table[1:]}
    assert cats["wire/2023-grain-deal.txt"] == "; ".join(
        by_id["wire/2023-grain-deal.txt"]["categories"]
    )
    assert run("export", "zzqx", "--index", sample_index).exit_code == 1


def test_show_takes_paths_from_search_l(sample_index):
    paths = run("search", "sanctions", "-l", "--index", sample_index).stdout.split()
    r = run("show", *paths, "--json", "--index", sample_index)
    records = json.loads(r.stdout)
    assert len(records) == len(paths) == 5
    assert all(Path(p).as_posix().endswith(rec["id"]) for p, rec in zip(paths, records))


# --------------------------------------------------------------------------------------------
# One convention for options, paging, empty results, narrow terminals and closed pipes


def test_facets_only_and_page_past_the_end(sample_index):
    r = run(
        "search", "sanctions", "-n", "0", "--facet", "source", "--json", "--index", sample_index
    )
    out = json.loads(r.stdout)
    assert r.exit_code == 0 and out["total"] == 5 and out["hits"] == [] and out["facets"]["source"]
    r = run("search", "sanctions", "--page", "9", "--index", sample_index)
    assert r.exit_code == 0 and r.stdout.startswith("5 hits")
    assert r.stderr == (
        "corpus-search: warning: page 9 is past the last page (1: 5 hits, 10 a page)\n"
    )
    a = run("facets", "author", "--facet-limit", "2", "--json", "--index", sample_index)
    b = run("facets", "author", "--limit", "2", "--json", "--index", sample_index)
    assert a.stdout == b.stdout and len(json.loads(a.stdout)["values"]) == 2


def test_an_empty_date_range_is_an_error(sample_index):
    r = run("search", "*", "--since", "2021-10", "--until", "2021-03", "--index", sample_index)
    assert r.exit_code == 2 and "--since 2021-10 is after --until 2021-03" in r.stderr


@pytest.mark.parametrize(
    "query,message",
    [
        ("sanctions^2 gas", "boosts (^2) are not supported"),
        ("/sanc.*/", "regular expressions (/sanc.*/) are not supported; use wildcards"),
        ("_exists_:title", "_exists_: takes a metadata field"),
    ],
)
def test_elasticsearch_habits_get_a_clear_answer(sample_index, query, message):
    r = run("search", query, "--index", sample_index)
    assert r.exit_code == 2 and message in r.stderr


def test_has_a_value(sample_index, sample_records):
    with_place = sum(1 for x in sample_records if x["place"])
    for q in ("place:*", "_exists_:place"):
        assert run("search", q, "--count", "--index", sample_index).stdout == f"{with_place}\n"
    dated = sum(1 for x in sample_records if x["published"])
    assert run("search", "published:*", "--count", "--index", sample_index).stdout == f"{dated}\n"


def test_matches_stay_visible_on_a_dumb_terminal(ix):
    from rich.console import Console

    from corpus_search.render import print_search

    out = io.StringIO()
    console = Console(file=out, force_terminal=True, color_system=None, width=100)
    print_search(ix.search("ferry", limit=1), console)
    assert "[[ferry]]" in out.getvalue()


def test_timeline_split_fits_80_columns(ix):
    from rich.console import Console

    from corpus_search.render import print_timeline

    out = io.StringIO()
    print_timeline(
        ix.timeline("*", by="month", split="source"),
        Console(file=out, width=80, force_terminal=True),
    )
    lines = out.getvalue().splitlines()[1:]
    tl = ix.timeline("*", by="month", split="source")
    assert len(lines) == len(tl.buckets)
    for line, bucket in zip(lines, tl.buckets):
        assert len(line) <= 80 and line.startswith(f"{bucket['period']} ")
        assert re.match(rf"{bucket['period']}\s+{bucket['count']}\b", line)


def test_a_closed_pipe_is_not_an_error(sample_index):
    """search | head: exit 0 when there were hits, no traceback."""
    script = (
        f"import sys; sys.path.insert(0, {str(REPO)!r}); sys.argv = ['corpus-search', "
        f"'search', '*', '-n', '40', '--index', {str(sample_index)!r}]; "
        "import corpus_search.cli as c; sys.exit(c.main())"
    )
    p = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert p.stdout.readline()  # read one line, then close the pipe
    p.stdout.close()
    err = p.stderr.read()
    assert p.wait(60) == 0 and b"Traceback" not in err


def test_readme_quick_tour_finds_something(sample_index):
    """Every search in the README's quick tour finds something in sample_corpus/."""
    readme = (REPO / "README.md").read_text("utf-8")
    tour = readme.split("## Quick tour", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    import shlex

    for line in tour.splitlines():
        command = shlex.split(line.split("#", 1)[0].split("|", 1)[0].split(">", 1)[0])
        if len(command) > 1 and command[1] in ("search", "timeline", "kwic", "collocates"):
            r = run(*command[1:], "--index", sample_index)
            assert r.exit_code == 0, (line, r.stderr)


def test_reprint_pairing_checks_its_deadline_while_it_counts(monkeypatch):
    """The pair counting of reprints grows faster than the corpus (19 s for 100,000 long
    articles): the deadline is checked inside it, not only before and after (the 10 s
    timeout once fired after 19 s of work). Deterministic: a check that counts its calls,
    then one that stops the work at its third call."""
    from corpus_search import reprints

    monkeypatch.setattr(reprints, "CHECK_EVERY", 10)
    # 60 documents, 7 kinds of sketch overlapping by 19 of 20 values: many shared hashes
    sketches = {d: (40, *range(d % 7, d % 7 + 20)) for d in range(60)}
    calls: list[int] = []
    pairs = reprints.similar_pairs(sketches, 0.5, lambda: calls.append(1))
    assert pairs and len(calls) > 10  # called while counting, not only twice around it
    assert reprints.similar_pairs(sketches, 0.5) == pairs  # the check changes nothing

    class Stop(Exception):
        pass

    def stop_at_third() -> None:
        stopped.append(1)
        if len(stopped) == 3:
            raise Stop

    stopped: list[int] = []
    with pytest.raises(Stop):
        reprints.similar_pairs(sketches, 0.5, stop_at_third)
    assert len(stopped) == 3
