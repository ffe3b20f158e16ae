"""Facet counts and timelines over a set of matching documents.

Counts come from the index's columns, read once per open index into plain lists (one value per
document number), so counting a result set is one pass over its document numbers. Whoosh's
``groupedby`` counts a multi-valued field as one joined string, and is slower; this is exact and
counts an article in three categories once in each.

Dates are the article's own calendar day (the ``day`` column, YYYYMMDD as printed on it), so a
23:14 Moscow-time article belongs to its Moscow date, in facets, filters and timelines alike.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Collection, Iterable

from .records import Record
from .vocab import FACET_COLUMNS, FACETS, MULTI_VALUED, PERIODS, SEP  # noqa: F401

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any


def valid_day(value: Any) -> int | None:
    """A ``day`` column value, or None for a document without a date."""
    return value if isinstance(value, int) and 10000101 <= value <= 99991231 else None


class ColumnCache:
    """Per-document values of the facet columns of one snapshot, loaded on first use."""

    def __init__(self, snapshot):
        self.snapshot = snapshot
        self._values: dict[str, list] = {}

    def values(self, column: str) -> list:
        vals = self._values.get(column)
        if vals is None:
            if column in NUMERIC_COLUMNS:
                raw = self.snapshot.numeric(column)
                vals = [valid_day(d) for d in raw] if column == "day" else raw
            else:
                raw = self.snapshot.column(column)
                if column in MULTI_VALUED:
                    vals = [tuple(v.split(SEP)) if v else () for v in raw]
                else:
                    vals = [v or None for v in raw]
            self._values[column] = vals
        return vals

    def derived(self, key: str, make) -> list:
        """A list computed once from the columns (``make()``), cached under ``key``."""
        vals = self._values.get(key)
        if vals is None:
            vals = self._values[key] = make()
        return vals


NUMERIC_COLUMNS = ("day", "ts", "views", "words", "fsize", "mtime")


class FacetCount(Record):
    FIELDS = ("field", "values", "other", "missing")

    def __init__(self, field: str, values: list[tuple[str, int]], other: int, missing: int):
        self.field = field
        self.values = values  # (value, count), most frequent first
        self.other = other  # how many further values were left out
        self.missing = missing  # matching documents with no value

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": [{"value": v, "count": c} for v, c in self.values],
            "other": self.other,
            "missing": self.missing,
        }


def _keyed(field: str, cache: ColumnCache, docs: Iterable[int]):
    """Yield, per document, the tuple of its display values for a facet field."""
    vals = _per_doc(field, cache)
    return (vals[d] for d in docs)


def _per_doc(field: str, cache: ColumnCache) -> list[tuple]:
    """Each document's values of a facet as a tuple (cached with the columns)."""

    def make() -> list[tuple]:
        column = FACET_COLUMNS[field]
        raw = cache.values(column)
        if field == "year":
            return [(f"{v // 10000:04d}",) if v else () for v in raw]
        if field == "month":
            return [(f"{v // 10000:04d}-{v // 100 % 100:02d}",) if v else () for v in raw]
        if column in MULTI_VALUED:
            return raw
        return [(v,) if v else () for v in raw]

    return cache.derived(f"facet:{field}", make)


def count_facet(
    field: str,
    cache: ColumnCache,
    docs: Iterable[int],
    *,
    limit: int | None = 10,
    sort: str = "count",
) -> FacetCount:
    """Count the values of ``field`` over ``docs``. Values that differ only in case are one
    value, shown as the most frequent spelling."""
    vals = _per_doc(field, cache)
    per_doc = [vals[d] for d in docs]
    missing = per_doc.count(())
    raw = Counter(itertools.chain.from_iterable(per_doc))  # counted in C
    return merged_counts(field, raw, missing, limit, sort)


def merged_counts(
    field: str, raw: dict[str, int], missing: int, limit: int | None = 10, sort: str = "count"
) -> FacetCount:
    """A FacetCount from value -> count: values that differ only in case are one value, shown
    as the most frequent spelling; most frequent first (or by name); ``limit`` values kept."""
    counts: dict[str, int] = {}
    shown: dict[str, str] = {}
    for value, n in sorted(raw.items(), key=lambda kv: -kv[1]):
        key = value.casefold()
        counts[key] = counts.get(key, 0) + n
        shown.setdefault(key, value)
    if sort == "name":
        ordered = sorted(counts.items(), key=lambda kv: shown[kv[0]].casefold())
    else:
        ordered = sorted(counts.items(), key=lambda kv: (-kv[1], shown[kv[0]].casefold()))
    kept = ordered if limit is None else ordered[:limit]
    return FacetCount(field, [(shown[k], c) for k, c in kept], len(ordered) - len(kept), missing)


# --------------------------------------------------------------------------------------------
# Timelines


def _date(day: int) -> dt.date:
    return dt.date(day // 10000, day // 100 % 100, day % 100)


def period_of(day: int, by: str) -> str:
    d = _date(day)
    if by == "year":
        return f"{d.year:04d}"
    if by == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if by == "week":
        iso = d.isocalendar()
        return f"{iso[0]:04d}-W{iso[1]:02d}"
    return d.isoformat()


def _next_period(day: dt.date, by: str) -> dt.date:
    if by == "year":
        return dt.date(day.year + 1, 1, 1)
    if by == "month":
        return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    if by == "week":
        return day + dt.timedelta(days=7 - day.weekday())
    return day + dt.timedelta(days=1)


def all_periods(first: int, last: int, by: str) -> list[str]:
    """Every period from the one holding ``first`` to the one holding ``last``, empty ones too."""
    out = []
    day, end = _date(first), _date(last)
    end_key = period_of(last, by)
    while True:
        key = period_of(day.year * 10000 + day.month * 100 + day.day, by)
        out.append(key)
        if key == end_key or day > end:
            break
        day = _next_period(day, by)
    return out


def period_bounds(period: str) -> tuple[str, str]:
    """The first and last day of a timeline period (``2021``, ``2021-07``, ``2021-W05`` or
    ``2021-07-02``), as ISO dates: the ``since`` and ``until`` that narrow a search to it."""
    if re.fullmatch(r"\d{4}", period):
        return f"{period}-01-01", f"{period}-12-31"
    if m := re.fullmatch(r"(\d{4})-(\d{2})", period):
        first = dt.date(int(m[1]), int(m[2]), 1)
        return first.isoformat(), (_next_period(first, "month") - dt.timedelta(days=1)).isoformat()
    if m := re.fullmatch(r"(\d{4})-W(\d{2})", period):
        monday = dt.date.fromisocalendar(int(m[1]), int(m[2]), 1)
        return monday.isoformat(), (monday + dt.timedelta(days=6)).isoformat()
    day = dt.date.fromisoformat(period)
    return day.isoformat(), day.isoformat()


#: Empty periods are shown up to this many; past it (one sentinel date of 9999-12-31 beside
#: 1987's stories made a day timeline of 2.9 million periods, 1.75 GB of JSON) only the
#: periods that have articles are, and the output says how many empty ones it left out.
MAX_PERIODS = 5000


def period_count(first: int, last: int, by: str) -> int:
    """How many periods ``all_periods`` would list (computed, not listed)."""
    a, b = _date(first), _date(last)
    if by == "day":
        return (b - a).days + 1
    if by == "week":
        return (b - a).days // 7 + 2
    if by == "month":
        return (b.year - a.year) * 12 + b.month - a.month + 1
    return b.year - a.year + 1


def choose_period(first: int, last: int) -> str:
    span = (_date(last) - _date(first)).days
    if span <= 45:
        return "day"
    if span <= 200:
        return "week"
    if span <= 5 * 366:
        return "month"
    return "year"


class Timeline(Record):
    FIELDS = ("by", "total", "undated", "buckets", "split", "omitted")

    def __init__(
        self,
        by: str,
        total: int,
        undated: int,
        buckets: list[dict[str, Any]],
        split: str | None = None,
        omitted: int = 0,
    ):
        self.by = by
        self.total = total
        self.undated = undated
        self.buckets = buckets  # {period, count[, series: [{value, count}]]}
        self.split = split
        self.omitted = omitted  # empty periods left out (see MAX_PERIODS)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"by": self.by, "total": self.total, "undated": self.undated}
        if self.split:
            out["split"] = self.split
        if self.omitted:
            out["empty_periods_omitted"] = self.omitted
        out["buckets"] = self.buckets
        return out


def build_timeline(
    cache: ColumnCache, docs: Collection[int], by: str | None = None, split: str | None = None
) -> Timeline:
    days = cache.values("day")
    dated = [d for d in docs if days[d]]
    undated = len(docs) - len(dated)
    if not dated:
        return Timeline(by or "month", len(docs), undated, [], split)
    first = min(days[d] for d in dated)
    last = max(days[d] for d in dated)
    by = by or choose_period(first, last)
    counts: dict[str, int] = {}
    series: dict[str, dict[str, int]] = {}
    shown: dict[str, str] = {}
    split_values = _keyed(split, cache, dated) if split else None
    for d in dated:
        key = period_of(days[d], by)
        counts[key] = counts.get(key, 0) + 1
        if split_values is not None:
            per = series.setdefault(key, {})
            for v in next(split_values):
                k = v.casefold()
                shown.setdefault(k, v)
                per[k] = per.get(k, 0) + 1
    buckets = []
    span = period_count(first, last, by)
    keys = all_periods(first, last, by) if span <= MAX_PERIODS else sorted(counts)
    for key in keys:
        bucket: dict[str, Any] = {"period": key, "count": counts.get(key, 0)}
        if split:
            per = series.get(key, {})
            bucket["series"] = [
                {"value": shown[k], "count": c}
                for k, c in sorted(per.items(), key=lambda kv: (-kv[1], shown[kv[0]]))
            ]
        buckets.append(bucket)
    omitted = max(0, span - len(keys)) if span > MAX_PERIODS else 0  # span is an estimate
    return Timeline(by, len(docs), undated, buckets, split, omitted)
