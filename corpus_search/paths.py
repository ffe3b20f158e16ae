"""Metadata from file and folder names: many scrapers put the date, the site or the title only
in the path. A path rule is a pattern over the path below the corpus folder, with fields in
braces, and optional fixed values for the files it covers::

    paths:
      - pattern: "meduza/{published:%Y-%m-%d}-{title}.txt"
        set: {language: ru, source: Meduza}
      - pattern: "{source}/..."

``{field}`` takes the characters up to the next literal part (no ``/``); ``{published:FORMAT}``
takes a date or time in strftime's notation (``%Y %m %d %H %M %S``); ``...`` stands for any rest
of the path, ``*`` for any characters within one folder or file name. A rule covers the files
below its literal start (``meduza/`` above; a rule that starts with a field covers every file);
a covered file that does not fit it gets a warning, not a skip.

What the path gives fills what the file itself does not say (its header or front matter win);
a plain file's first line, which is only a guess at a title, gives way to a title from the path.
``set`` values do the same, so a language set for a folder wins over detection.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import ConfigError

FIELDS = ("title", "author", "place", "source", "published", "language", "categories", "tags")
_STRFTIME = {
    "%Y": r"\d{4}",
    "%m": r"\d{1,2}",
    "%d": r"\d{1,2}",
    "%H": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%y": r"\d{2}",
    "%j": r"\d{3}",
}
_TOKEN = re.compile(r"\{(\w+)(?::([^}]*))?\}|\.\.\.|\*")


@dataclass
class PathRule:
    pattern: str
    regex: re.Pattern[str]
    prefix: str  # the literal start: the files the rule covers
    formats: dict[str, str] = field(default_factory=dict)  # field -> strftime format
    fixed: dict[str, Any] = field(default_factory=dict)

    def covers(self, rel: str) -> bool:
        return rel.startswith(self.prefix)

    def fields(self, rel: str) -> dict[str, Any] | None:
        """The fields the path gives (dates as ISO text), or None if it does not fit."""
        m = self.regex.fullmatch(rel)
        if m is None:
            return None
        out: dict[str, Any] = {}
        for name, value in m.groupdict().items():
            if value is None:
                continue
            if name in self.formats:
                try:
                    when = dt.datetime.strptime(value, self.formats[name])
                except ValueError:
                    return None
                fmt = self.formats[name]
                out[name] = (
                    when.isoformat()
                    if any(c in fmt for c in ("%H", "%M", "%S"))
                    else when.date().isoformat()
                )
            elif name in ("categories", "tags"):
                out[name] = [v.strip() for v in value.split(",") if v.strip()]
            else:
                out[name] = value.strip()
        return out


def compile_rule(spec: Any, where: str) -> PathRule:
    """A rule from the config's ``paths:`` entry (a pattern, or {pattern, set})."""
    if isinstance(spec, str):
        spec = {"pattern": spec}
    if not isinstance(spec, dict) or not isinstance(spec.get("pattern"), str):
        raise ConfigError(
            "each paths: entry needs a pattern, as in {pattern: '{source}/...'}", where
        )
    unknown = set(spec) - {"pattern", "set"}
    if unknown:
        raise ConfigError(f"paths: unknown key {sorted(unknown)[0]!r} (pattern, set)", where)
    pattern = spec["pattern"]
    fixed = spec.get("set") or {}
    if not isinstance(fixed, dict) or set(fixed) - set(FIELDS):
        raise ConfigError(f"paths: set: takes fields among {', '.join(FIELDS)}", where)
    out, formats, pos, prefix = [], {}, 0, None
    for m in _TOKEN.finditer(pattern):
        literal = pattern[pos : m.start()]
        out.append(re.escape(literal))
        if prefix is None:
            prefix = literal
        token = m.group()
        if token == "...":
            out.append(".*")
        elif token == "*":
            out.append("[^/]*")
        else:
            name, fmt = m.group(1), m.group(2)
            if name not in FIELDS:
                raise ConfigError(
                    f"paths: unknown field {{{name}}} in {pattern!r} (fields: {', '.join(FIELDS)})",
                    where,
                )
            if name in out_names(out):
                raise ConfigError(f"paths: {{{name}}} twice in {pattern!r}", where)
            if fmt:
                formats[name] = fmt
                body = re.escape(fmt)
                for code, rx in _STRFTIME.items():
                    body = body.replace(re.escape(code), rx)
                out.append(f"(?P<{name}>{body})")
            else:
                out.append(f"(?P<{name}>[^/]+?)")
        pos = m.end()
    out.append(re.escape(pattern[pos:]))
    if prefix is None:
        prefix = pattern
    return PathRule(pattern, re.compile("".join(out)), prefix, formats, dict(fixed))


def out_names(parts: list[str]) -> set[str]:
    return set(re.findall(r"\(\?P<(\w+)>", "".join(parts)))
