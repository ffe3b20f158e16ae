"""Configuration: ``corpus-search.yaml`` read and checked, and the precedence rules.

Precedence for every setting: command-line flag > environment variable > config file > default.
A config with an unknown key or a value of the wrong type is a :class:`ConfigError` naming the
file and the key.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from .errors import ConfigError
from .records import Record
from .vocab import FACETS

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

CONFIG_NAME = "corpus-search.yaml"
INDEX_ENV = "CORPUS_SEARCH_INDEX"
CONFIG_ENV = "CORPUS_SEARCH_CONFIG"
DEFAULT_INDEX = "index"


class Config(Record):
    FIELDS = (
        "path",
        "index",
        "roots",
        "profiles",
        "facets",
        "ignore",
        "include",
        "paths",
        "fields",
        "default_language",
        "opensearch_url",
        "opensearch_index",
        "max_file_mb",
        "timeout",
    )

    def __init__(
        self,
        path: Path | None = None,
        index: str | None = None,
        roots: list[str] | None = None,
        profiles: list[str] | None = None,
        facets: list[str] | None = None,
        ignore: list[str] | None = None,
        include: list[str] | None = None,
        paths: list | None = None,
        fields: dict[str, list[str]] | None = None,
        default_language: str | None = None,
        opensearch_url: str | None = None,
        opensearch_index: str = "corpus-search",
        max_file_mb: float = 10.0,
        timeout: float = 10.0,
    ):
        self.path = path  # the file it came from, if any
        self.index = index
        self.roots: list[str] = [] if roots is None else roots
        self.profiles: list[str] = [] if profiles is None else profiles
        self.facets: list[str] = [] if facets is None else facets
        self.ignore = ignore  # also spelled exclude:
        self.include = include
        self.paths: list = [] if paths is None else paths  # path rules (corpus_search.paths)
        #: record field -> the keys of a record file that fill it (before the common names)
        self.fields: dict[str, list[str]] = {} if fields is None else fields
        #: the language of articles that declare none and whose language cannot be detected
        self.default_language = default_language
        self.opensearch_url = opensearch_url  # search this cluster instead of the local index
        self.opensearch_index = opensearch_index
        self.max_file_mb = max_file_mb
        self.timeout = timeout

    def resolve_index(self, flag: str | None, environ: Mapping[str, str] | None = None) -> Path:
        """The index folder: flag > $CORPUS_SEARCH_INDEX (of ``environ``, default this
        process's) > config ``index:`` > ./index."""
        if flag:
            return Path(flag)
        env = (os.environ if environ is None else environ).get(INDEX_ENV)
        if env:
            return Path(env)
        if self.index:
            return self._relative(self.index)
        return Path(DEFAULT_INDEX)

    def resolved_roots(self) -> list[Path]:
        return [self._relative(r) for r in self.roots]

    def resolved_profiles(self) -> list[Path]:
        return [self._relative(p) for p in self.profiles]

    def _relative(self, value: str) -> Path:
        p = Path(os.path.expanduser(value))
        if not p.is_absolute() and self.path is not None:
            p = self.path.parent / p
        return p

    @property
    def max_bytes(self) -> int:
        return max(1, int(self.max_file_mb * 1024 * 1024))  # 0 would mean no limit at all


_TYPES: dict[str, tuple[type, ...]] = {
    "index": (str,),
    "roots": (list,),
    "profiles": (list,),
    "facets": (list,),
    "ignore": (list,),
    "exclude": (list,),
    "include": (list,),
    "paths": (list,),
    "fields": (dict,),
    "default_language": (str,),
    "opensearch_url": (str,),
    "opensearch_index": (str,),
    "max_file_mb": (int, float),
    "timeout": (int, float),
}
_TYPE_NAMES = {
    str: "text",
    list: "a list",
    int: "a number",
    float: "a number",
    dict: "a mapping",
}


def load_config(path: str | Path | None = None) -> Config:
    """Read the config: the given file (which must exist), else $CORPUS_SEARCH_CONFIG, else
    ``corpus-search.yaml`` in the current folder if there is one, else defaults."""
    explicit = path is not None
    if path is None and os.environ.get(CONFIG_ENV):
        path, explicit = os.environ[CONFIG_ENV], True
    if path is None:
        candidate = Path(CONFIG_NAME)
        if not candidate.is_file():
            return Config()
        path = candidate
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError("config file not found", str(path)) from None
        return Config()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config ({getattr(exc, 'strerror', None) or exc})", str(path)
        ) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Config:
    import yaml

    try:
        data = yaml.safe_load(text)
    except RecursionError:
        raise ConfigError("nested too deeply to be a config", str(path)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"not valid YAML{where}", str(path)) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError("the config must be a mapping of keys to values", str(path))
    values: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in _TYPES:
            raise ConfigError(f"unknown key {key!r} (known keys: {', '.join(_TYPES)})", str(path))
        types = _TYPES[key]
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, types):
            raise ConfigError(
                f"key {key!r} must be {_TYPE_NAMES[types[0]]}, not {type(value).__name__}",
                str(path),
            )
        if isinstance(value, list) and key != "paths":
            if not all(isinstance(v, str) for v in value):
                raise ConfigError(f"key {key!r} must be a list of text values", str(path))
        values[key] = value
    for f in values.get("facets", []):
        if f not in FACETS:
            raise ConfigError(
                f"facets: unknown facet {f!r} (choose from {', '.join(FACETS)})", str(path)
            )
    for key in ("max_file_mb", "timeout"):
        if key in values and not (math.isfinite(values[key]) and values[key] > 0):
            # .nan compared false with everything and turned timeouts off; .inf overflowed
            raise ConfigError(f"key {key!r} must be a number greater than 0", str(path))
    if "max_file_mb" in values and values["max_file_mb"] * 1024 * 1024 < 1:
        raise ConfigError("key 'max_file_mb' must be at least one byte (0.000001)", str(path))
    if "max_file_mb" in values and values["max_file_mb"] > 1024 * 1024:
        raise ConfigError("key 'max_file_mb' must be at most 1048576 (a terabyte)", str(path))
    if "timeout" in values and values["timeout"] > 7 * 24 * 3600:
        raise ConfigError("key 'timeout' must be at most a week (604800 seconds)", str(path))
    if "fields" in values:
        values["fields"] = _field_map(values["fields"], str(path))
    if "default_language" in values:
        from .query import check_language_code

        code = values["default_language"].strip().lower()
        check_language_code(code, lambda m: ConfigError(f"default_language: {m}", str(path)), "")
        values["default_language"] = code
    if "paths" in values:
        from .paths import compile_rule

        values["paths"] = [compile_rule(v, str(path)) for v in values["paths"]]
    if "exclude" in values:
        if "ignore" in values:
            raise ConfigError("give exclude: or ignore: (the same list), not both", str(path))
        values["ignore"] = values.pop("exclude")
    return Config(path=path, **values)


def _field_map(value: dict, where: str) -> dict[str, list[str]]:
    """``fields:``: record field -> a key name or a list of them (tried in order)."""
    from .formats import KEY_NAMES

    out: dict[str, list[str]] = {}
    for name, keys in value.items():
        name = str(name)
        if name not in KEY_NAMES:
            raise ConfigError(
                f"fields: unknown field {name!r} (choose from {', '.join(KEY_NAMES)})", where
            )
        if isinstance(keys, str):
            keys = [keys]
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) for k in keys):
            raise ConfigError(f"fields: {name} must name a record key, or a list of keys", where)
        out[name] = keys
    return out
