"""Cleaning profiles: how a site's articles are recognised, read and cleaned, as YAML data.

The built-in profiles live beside this file (``*.yaml``); users add their own through the
config's ``profiles:`` list. A profile is validated when loaded, and a mistake in one is a
:class:`~corpus_search.errors.ConfigError` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..errors import ConfigError

BUILTIN_DIR = Path(__file__).parent
ACTIONS = ("drop", "drop-rest", "tags")
_DETECT_SPAN = 4000


@dataclass(frozen=True)
class Slot:
    name: str
    pattern: re.Pattern
    optional: bool = False


@dataclass(frozen=True)
class Rule:
    name: str
    pattern: re.Pattern
    action: str = "drop"


@dataclass
class Profile:
    name: str
    source: str | None = None
    detect_any: tuple[re.Pattern, ...] = ()
    detect_all: tuple[re.Pattern, ...] = ()
    header: tuple[Slot, ...] = ()
    rules: tuple[Rule, ...] = ()
    timezones: dict[str, str] = field(default_factory=dict)
    list_separator: str = ","
    teasers: bool = True
    origin: str = "<built-in>"

    def detects(self, text: str) -> bool:
        if not self.detect_any and not self.detect_all:
            return False
        head = text[:_DETECT_SPAN]
        if self.detect_all and not all(p.search(head) for p in self.detect_all):
            return False
        return not self.detect_any or any(p.search(head) for p in self.detect_any)

    def match_rule(self, line: str) -> Rule | None:
        for rule in self.rules:
            if rule.pattern.search(line):
                return rule
        return None

    def timezone(self, label: str) -> dt.tzinfo | None:
        name = self.timezones.get(label)
        if name is None:
            lowered = {k.casefold(): v for k, v in self.timezones.items()}
            name = lowered.get(label.casefold())
        return _tzinfo(name) if name else None


@lru_cache(maxsize=64)
def _tzinfo(name: str) -> dt.tzinfo | None:
    m = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2}):?(\d{2})", name)
    if m:
        sign = 1 if m.group(1) == "+" else -1
        return dt.timezone(sign * dt.timedelta(hours=int(m.group(2)), minutes=int(m.group(3))))
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


class ProfileSet:
    """The profiles in force: user ones first (they win), the built-in ones, then generic."""

    def __init__(self, profiles: Iterable[Profile]):
        self.profiles = [p for p in profiles if p.name != "generic"]
        generic = [p for p in profiles if p.name == "generic"]
        self.generic = generic[0] if generic else Profile(name="generic")
        self.path_rules: list = []  # corpus_search.paths.PathRule, from the config's paths:
        #: field -> record keys that fill it, from the config's fields: (records, see formats)
        self.field_map: dict[str, list[str]] = {}
        #: the config's default_language: for articles whose language is neither given nor found
        self.default_language: str | None = None

    def candidates(self, text: str) -> list[Profile]:
        return [p for p in self.profiles if p.detects(text)]

    def detect(self, text: str) -> Profile | None:
        found = self.candidates(text)
        return found[0] if found else None

    def for_source(self, source: Any) -> Profile | None:
        if not source:
            return None
        key = str(source).casefold()
        for p in self.profiles:
            if (p.source and p.source.casefold() == key) or p.name.casefold() == key:
                return p
        return None

    def names(self) -> list[str]:
        return [p.name for p in self.profiles] + [self.generic.name]


def _compile(pattern: Any, where: str) -> re.Pattern:
    if not isinstance(pattern, str):
        raise ConfigError(f"{where} must be a regular expression in quotes", None)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"{where} is not a valid regular expression ({exc})", None) from None


def profile_from_dict(data: Any, origin: str) -> Profile:
    """Build a :class:`Profile` from parsed YAML, checking every key."""
    try:
        return _profile_from_dict(data, origin)
    except ConfigError as exc:
        if exc.source is None:
            raise ConfigError(str(exc), origin) from None
        raise


_PROFILE_KEYS = {
    "name",
    "source",
    "description",
    "detect",
    "header",
    "timezones",
    "list_separator",
    "rules",
    "teasers",
}


def _entries(raw: Any, key: str, required: str, allowed: set[str]):
    """Yield (index, mapping) for a list of mappings, checking each one's keys."""
    if not isinstance(raw, list):
        raise ConfigError(f"key '{key}' must be a list")
    for i, entry in enumerate(raw):
        if not isinstance(entry, dict) or required not in entry:
            raise ConfigError(f"{key}[{i}] must be a mapping with a '{required}'")
        extra = set(entry) - allowed
        if extra:
            raise ConfigError(f"{key}[{i}] has unknown key {sorted(extra)[0]!r}")
        yield i, entry


def _profile_from_dict(data: Any, origin: str) -> Profile:
    if not isinstance(data, dict):
        raise ConfigError("a profile must be a mapping of keys to values")
    unknown = sorted(set(map(str, data)) - _PROFILE_KEYS)
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(_PROFILE_KEYS))})")
    name = data.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("key 'name' is required and must be text")
    source = data.get("source")
    if source is not None and not isinstance(source, str):
        raise ConfigError("key 'source' must be text")
    detect = data.get("detect") or {}
    if not isinstance(detect, dict) or set(detect) - {"any", "all"}:
        raise ConfigError("key 'detect' must be a mapping with 'any' and/or 'all' lists")
    detect_any = tuple(
        _compile(p, f"detect.any[{i}]") for i, p in enumerate(detect.get("any") or [])
    )
    detect_all = tuple(
        _compile(p, f"detect.all[{i}]") for i, p in enumerate(detect.get("all") or [])
    )

    header = [
        Slot(
            str(slot.get("slot", f"slot {i}")),
            _compile(slot["pattern"], f"header[{i}].pattern"),
            bool(slot.get("optional", False)),
        )
        for i, slot in _entries(
            data.get("header") or [{"slot": "title", "pattern": "(?P<title>.+)"}],
            "header",
            "pattern",
            {"slot", "pattern", "optional"},
        )
    ]

    rules = []
    for i, rule in _entries(data.get("rules") or [], "rules", "match", {"name", "match", "action"}):
        action = rule.get("action", "drop")
        if action not in ACTIONS:
            raise ConfigError(
                f"rules[{i}].action must be one of {', '.join(ACTIONS)}, not {action!r}"
            )
        pattern = _compile(rule["match"], f"rules[{i}].match")
        if action == "tags" and "tags" not in pattern.groupindex:
            raise ConfigError(f"rules[{i}]: a 'tags' rule needs a named group (?P<tags>...)")
        rules.append(Rule(str(rule.get("name", f"rule {i}")), pattern, action))

    timezones = data.get("timezones") or {}
    if not isinstance(timezones, dict):
        raise ConfigError("key 'timezones' must map labels to zone names")
    for label, zone in timezones.items():
        if _tzinfo(str(zone)) is None:
            raise ConfigError(f"timezones.{label}: unknown time zone {zone!r}")
    sep = data.get("list_separator", ",")
    if not isinstance(sep, str) or not sep:
        raise ConfigError("key 'list_separator' must be non-empty text")
    return Profile(
        name=name,
        source=source,
        detect_any=detect_any,
        detect_all=detect_all,
        header=tuple(header),
        rules=tuple(rules),
        timezones={str(k): str(v) for k, v in timezones.items()},
        list_separator=sep,
        teasers=bool(data.get("teasers", True)),
        origin=origin,
    )


def read_profile_file(path: str | Path) -> Profile:
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read profile ({exc.strerror or exc})", str(path)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({str(exc).splitlines()[0]})", str(path)) from None
    return profile_from_dict(data, str(path))


@lru_cache(maxsize=1)
def builtin_profiles() -> tuple[Profile, ...]:
    return tuple(read_profile_file(p) for p in sorted(BUILTIN_DIR.glob("*.yaml")))


def load_profiles(extra: Iterable[str | Path] = ()) -> ProfileSet:
    """The built-in profiles plus the user's profile files (which take precedence)."""
    user = [read_profile_file(p) for p in extra]
    return ProfileSet([*user, *builtin_profiles()])
