"""Watched queries: saved searches whose new matches each indexing run names, for following a
narrative as files arrive.

Kept in the index folder (``watches.json``): each watch's query and the indexing run its
owner last looked at; each run that added or changed articles appends their ids to
``watch-log.jsonl`` (only while some watch exists). A run's summary counts, per watch, the
articles of that run that match; ``watch show NAME --new`` lists the matches among the
articles added or changed since the last look, and marks them seen.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from .errors import CorpusSearchError

WATCHES = "watches.json"
LOG = "watch-log.jsonl"


def _path(index: Path) -> Path:
    return Path(index) / WATCHES


def load(index: str | Path) -> dict[str, Any]:
    """``{"runs": N, "watches": {NAME: {"query", "created", "seen_run"}}}``."""
    path = _path(Path(index))
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        return {"runs": 0, "watches": {}}
    except (OSError, ValueError) as exc:
        raise CorpusSearchError(f"cannot read the watched queries in {path} ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("watches"), dict):
        raise CorpusSearchError(f"{path} is not a file of watched queries")
    return data


def _save(index: Path, data: dict[str, Any]) -> None:
    path = _path(index)
    tmp = path.with_name(f".{WATCHES}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
    os.replace(tmp, path)


def add(index: str | Path, name: str, query: str) -> dict[str, Any]:
    """Save a query under ``name`` (checked now: a bad query is an error here, not later)."""
    from . import query as q

    index = Path(index)
    if not name or not name.replace("-", "").replace("_", "").isalnum():
        raise CorpusSearchError(f"a watch's name is letters, digits, - and _ (not {name!r})")
    q.parse_query(query)
    data = load(index)
    if name in data["watches"]:
        raise CorpusSearchError(f"a watch named {name!r} exists; remove it first")
    data["watches"][name] = {
        "query": query,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "seen_run": data["runs"],
    }
    _save(index, data)
    return data["watches"][name]


def remove(index: str | Path, name: str) -> None:
    index = Path(index)
    data = load(index)
    if name not in data["watches"]:
        raise CorpusSearchError(_unknown(name, data))
    del data["watches"][name]
    _save(index, data)


def _unknown(name: str, data: dict[str, Any]) -> str:
    known = ", ".join(sorted(data["watches"])) or "none"
    return f"no watch named {name!r} (watches: {known})"


def record_run(index: str | Path, touched: set[str], matching) -> dict[str, int]:
    """After an indexing run that added or changed ``touched`` ids: log them and count, per
    watch, how many match (``matching(query) -> set of ids``). Nothing when no watch exists."""
    index = Path(index)
    data = load(index)
    if not data["watches"]:
        return {}
    counts = {}
    if touched:
        data["runs"] += 1
        with open(index / LOG, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"run": data["runs"], "ids": sorted(touched)}) + "\n")
        _save(index, data)
    for name, w in sorted(data["watches"].items()):
        counts[name] = len(matching(w["query"]) & touched) if touched else 0
    return counts


def new_ids(index: str | Path, name: str) -> tuple[set[str], int]:
    """The ids added or changed since the watch was last looked at, and the last run."""
    index = Path(index)
    data = load(index)
    if name not in data["watches"]:
        raise CorpusSearchError(_unknown(name, data))
    seen = data["watches"][name]["seen_run"]
    ids: set[str] = set()
    try:
        with open(index / LOG, encoding="utf-8") as fh:
            for line in fh:
                entry = json.loads(line)
                if entry["run"] > seen:
                    ids.update(entry["ids"])
    except FileNotFoundError:
        pass
    return ids, data["runs"]


def mark_seen(index: str | Path, name: str, run: int) -> None:
    index = Path(index)
    data = load(index)
    if name in data["watches"]:
        data["watches"][name]["seen_run"] = run
        _save(index, data)
