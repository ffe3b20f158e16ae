"""File formats: which files hold articles, and how the many-article ones are read.

A file is one of four kinds, told by its name (a ``.gz`` ending is looked through):

* ``text``: one article (``.txt``, ``.text``, ``.md``, ``.markdown``), read by
  :func:`corpus_search.articles.parse_bytes`;
* ``html``: one web page (``.html``, ``.htm``, ``.xhtml``), its article taken out of the page by
  :mod:`corpus_search.pages`;
* ``records``: one article per record (``.jsonl``, ``.ndjson``, ``.json``, ``.csv``, ``.tsv``),
  read here as a stream (memory stays flat in the file's size);
* ``warc``: a web archive (``.warc``, ``.warc.gz``), each HTML response an article.

A record file yields :class:`RawRecord` values: the record's own id when it has a unique one
(else its line number, or its place in a JSON array), a hash of its bytes (an update compares
it with the index's, so only new and changed records are parsed), and its mapping of keys to
values, or the reason it cannot be read (broken JSON, a CSV row with the wrong number of
cells) with its line number. :func:`record_article` maps the keys to the record's fields by
their common names (see :data:`KEY_NAMES`; ``fields:`` in the config adds others).

Pure: no index, no Whoosh.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from .errors import ArticleError, UnreadableError, shorten

#: Name endings -> (kind, format).
_SUFFIXES = {
    ".txt": ("text", "text"),
    ".text": ("text", "text"),
    ".md": ("text", "text"),
    ".markdown": ("text", "text"),
    ".html": ("html", "html"),
    ".htm": ("html", "html"),
    ".xhtml": ("html", "html"),
    ".jsonl": ("records", "jsonl"),
    ".ndjson": ("records", "jsonl"),
    ".json": ("records", "json"),
    ".csv": ("records", "csv"),
    ".tsv": ("records", "tsv"),
    ".warc": ("warc", "warc"),
}
#: What a folder's files are read as by default: every kind above, and gzipped ones.
ARTICLE_PATTERNS = tuple(f"*{s}" for s in _SUFFIXES) + tuple(f"*{s}.gz" for s in _SUFFIXES)
MANY = ("records", "warc")  # kinds whose files hold many articles


class FileKind(NamedTuple):
    kind: str  # text, html, records, warc
    format: str  # text, html, jsonl, json, csv, tsv, warc
    gzipped: bool


def file_kind(name: str) -> FileKind:
    """The kind of a file, by its name; a name no kind claims is read as text (a file named on
    its own, or taken by an ``include:`` pattern, is an article whatever its name)."""
    lower = name.lower()
    gz = lower.endswith(".gz")
    if gz:
        lower = lower[:-3]
    suffix = os.path.splitext(lower)[1]
    kind, fmt = _SUFFIXES.get(suffix, ("text", "text"))
    return FileKind(kind, fmt, gz)


def unknown_type_reason(name: str) -> str:
    """Why a file under a folder is not read, with the way to have it read."""
    suffix = os.path.splitext(name)[1].lower()
    what = f"({suffix})" if suffix else "(no extension)"
    return (
        f"not a known article type {what}; add a pattern to include: in the config "
        "to read such files as text"
    )


# --------------------------------------------------------------------------------------------
# Opening


MAX_GZIP_RATIO = 200  # a gzipped single article may grow this much (and to max_bytes at most)


def read_gzip(data: bytes, path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a gzipped single-article file, at most ``max_bytes`` of them."""
    import zlib

    limit = max_bytes or len(data) * MAX_GZIP_RATIO + 1024
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, limit + 1)
    except zlib.error:
        raise UnreadableError(path, "is not a valid gzip file") from None
    if len(out) > limit:
        raise ArticleError(
            path, f"too large once decompressed (over {limit // (1024 * 1024)} MB; set max_file_mb)"
        )
    return out


def _open_binary(path: str | Path, gzipped: bool):
    """A binary stream of the file's (decompressed) bytes."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        fh = open(fd, "rb")  # noqa: SIM115 - closed by the caller
    except FileNotFoundError:
        raise UnreadableError(path, "vanished before it could be read") from None
    except PermissionError:
        raise UnreadableError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise UnreadableError(path, f"cannot be read ({exc.strerror or exc})") from None
    if not gzipped:
        return fh
    import gzip

    return gzip.GzipFile(fileobj=fh, mode="rb")


def _gzip_error(exc: BaseException) -> bool:
    import gzip
    import zlib

    return isinstance(exc, (gzip.BadGzipFile, zlib.error, EOFError))


# --------------------------------------------------------------------------------------------
# Records


class RawRecord:
    """One record of a record file, as read: not yet an article."""

    __slots__ = ("number", "unit", "key", "sha", "data", "error")

    def __init__(
        self,
        number: int,
        unit: str,
        key: str,
        sha: str,
        data: dict[str, Any] | None,
        error: str | None = None,
    ):
        self.number = number  # line number (JSON lines, CSV) or place in a JSON array
        self.unit = unit  # what the number counts: "line" or "record"
        self.key = key  # the id's part after '#': the record's own id, or str(number)
        self.sha = sha  # sha256 of the record's bytes
        self.data = data
        self.error = error  # why it cannot be read, or None

    def where(self, path: str) -> str:
        """The record named in a message: ``FILE, line N``."""
        return f"{path}, {self.unit} {self.number}"


#: Keys of a record that hold its own id (the first one present and unique in the file wins).
ID_KEYS = ("id", "_id", "uuid", "guid", "article_id", "doc_id", "docid", "stories_id")
MAX_KEY_CHARS = 200
_BAD_KEY = re.compile(r"[\x00-\x1f\x7f\u2028\u2029#]")

#: Field -> the record keys that fill it, in order of preference (compared case-insensitively,
#: with ``-`` and spaces as ``_``).
KEY_NAMES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline", "heading"),
    "body": (
        "text",
        "body",
        "content",
        "maintext",
        "articlebody",
        "article_body",
        "article",
        "full_text",
        "fulltext",
        "story",
    ),
    "html": ("html", "raw_html", "page"),
    "published": (
        "published",
        "date",
        "date_publish",
        "pubdate",
        "publish_date",
        "published_at",
        "date_published",
        "datepublished",
        "publication_date",
        "timestamp",
        "datetime",
    ),
    "url": ("url", "link", "canonical_url", "source_url", "permalink"),
    "author": ("author", "authors", "byline", "creator"),
    "source": (
        "source",
        "site",
        "domain",
        "outlet",
        "media_name",
        "sitename",
        "site_name",
        "source_domain",
        "publisher",
    ),
    "language": ("language", "lang"),
    "tags": ("tags", "keywords"),
    "categories": ("categories", "category", "section"),
    "place": ("place", "location", "dateline"),
    "views": ("views",),
}


def _norm_key(key: str) -> str:
    return key.strip().lower().replace("-", "_").replace(" ", "_")


def iter_records(
    path: str | Path, fmt: str, gzipped: bool, max_bytes: int = 0
) -> Iterator[RawRecord]:
    """The records of a JSON lines, JSON or CSV/TSV file, streamed. Raises
    :class:`ArticleError` for a file that cannot be read at all (unreadable, not gzip, not
    JSON); a bad record is yielded with its ``error`` and the rest follow."""
    path_text = str(path)
    fh = _open_binary(path, gzipped)
    try:
        unit = "line"
        if fmt in ("csv", "tsv"):
            rows = _csv_records(fh, "\t" if fmt == "tsv" else ",", max_bytes)
        elif fmt == "json":
            unit, fh, rows = _json_file(fh, path_text, max_bytes)
        else:
            rows = _json_lines(fh, max_bytes)
        n = 0
        for record in _with_keys(rows, unit):
            n += 1
            yield record
        if n == 0:
            if os.path.getsize(path) == 0:
                raise ArticleError(path, "is empty")
            if fmt in ("csv", "tsv"):
                raise ArticleError(path, "holds no records (a header row and nothing after it)")
            raise ArticleError(path, "holds no records")
    except ArticleError:
        raise
    except Exception as exc:
        if _gzip_error(exc):
            raise UnreadableError(path, "is not a valid gzip file (or it is cut short)") from None
        if isinstance(exc, OSError):
            raise UnreadableError(path, f"cannot be read ({exc.strerror or exc})") from None
        raise
    finally:
        fh.close()


def _own_id(value: dict[str, Any]) -> str | None:
    """The record's own id: the value of its first id key (see :data:`ID_KEYS`), when it is
    short text or a number with no control characters or ``#``."""
    for k, v in value.items():
        if _norm_key(str(k)) in ID_KEYS:
            if isinstance(v, (str, int)) and not isinstance(v, bool):
                own = str(v).strip()
                if own and len(own) <= MAX_KEY_CHARS and not _BAD_KEY.search(own):
                    return own
            return None
    return None


def _with_keys(rows, unit: str) -> Iterator[RawRecord]:
    """Give each record its key: its own id when it has one not seen before in the file,
    else its number (``line-N`` if an id took that number's text)."""
    seen: set[str] = set()
    for number, raw, value, error in rows:
        sha = hashlib.sha256(raw).hexdigest()
        if error is None and not isinstance(value, dict):
            error = f"is a JSON {type(value).__name__}, not an object of keys and values"
        if error is not None:
            yield RawRecord(number, unit, str(number), sha, None, error)
            continue
        key = _own_id(value)
        if key is None or key in seen:
            key = str(number)
            if key in seen:
                key = f"{unit}-{number}"
        seen.add(key)
        yield RawRecord(number, unit, key, sha, value)


MAX_RECORD_BYTES = 64 * 1024 * 1024  # one record (a line, a JSON value) at most


def _limit(max_bytes: int) -> int:
    """The largest record read: the config's max_file_mb (one record is one article)."""
    return max_bytes or MAX_RECORD_BYTES


def _json_file(fh, path: str, max_bytes: int):
    """How a ``.json`` file is read: an array (records numbered by place), objects one per
    line (JSON lines in a file named .json, numbered by line), or objects one after another
    (a pretty-printed object: numbered by the line each starts on)."""
    head = fh.read(65536)
    fh = io.BufferedReader(_Prefixed(head, fh), 1 << 16)
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise ArticleError(path, "is empty")
    if start[:1] == b"[":
        return "record", fh, _json_array(fh, path, _limit(max_bytes))
    if start[:1] != b"{":
        raise ArticleError(path, "is not JSON (it starts with neither [ nor {)")
    first = head.split(b"\n", 1)[0].strip().lstrip(b"\xef\xbb\xbf")
    if b"\n" not in head:
        lines = len(head) == 65536  # one line longer than the look: JSON lines
    else:
        try:
            lines = isinstance(json.loads(first), dict)
        except ValueError:
            lines = False
    if lines:
        return "line", fh, _json_lines(fh, max_bytes)
    return "line", fh, _json_stream(fh, path, _limit(max_bytes))


class _Prefixed(io.RawIOBase):
    """A stream of ``head`` and then the rest of ``fh`` (what was read to decide the layout)."""

    def __init__(self, head: bytes, fh):
        self.head, self.fh = head, fh

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.fh.read(len(b))
        b[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.fh.close()
        super().close()


def _json_lines(fh, max_bytes: int):
    """(line number, raw bytes, value, error) for each line of a JSON lines file."""
    limit = _limit(max_bytes)
    decode = json.JSONDecoder().decode
    number = 0
    for line in fh:
        number += 1
        if number == 1 and line.startswith(b"\xef\xbb\xbf"):
            line = line[3:]
        stripped = line.strip()
        if not stripped:
            continue
        if len(stripped) > limit:
            yield (
                number,
                stripped[:1024],
                None,
                f"is too large (over {limit / 1048576:g} MB; set max_file_mb)",
            )
            continue
        try:
            text = stripped.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield number, stripped, None, f"is not valid UTF-8 (byte {exc.start})"
            continue
        try:
            value = decode(text)
        except ValueError as exc:
            yield number, stripped, None, f"is not valid JSON ({_json_problem(exc)})"
            continue
        yield number, stripped, value, None


def _json_problem(exc: ValueError) -> str:
    msg = getattr(exc, "msg", None) or str(exc)
    col = getattr(exc, "colno", None)
    return f"{msg} (column {col})" if col else msg


_SPACE = re.compile(r"[ \t\r\n]*")


def _space_end(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return m.end() if m is not None else pos


class _Chunks:
    """Text read from a binary stream in chunks, for a JSON value at a time."""

    SIZE = 1 << 20

    def __init__(self, fh, path: str, limit: int):
        import codecs

        self.fh, self.path, self.limit = fh, path, limit
        self.decoder = codecs.getincrementaldecoder("utf-8-sig")()
        self.buf = ""
        self.pos = 0
        self.eof = False
        self.line = 1  # line number of self.pos

    def more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(self.SIZE)
        try:
            text = self.decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            raise ArticleError(
                self.path, f"is not valid UTF-8 (near line {self.line}: {exc.reason})"
            ) from None
        if not chunk:
            self.eof = True
        self.line += self.buf.count("\n", 0, self.pos)
        self.buf = self.buf[self.pos :] + text
        self.pos = 0
        return True

    def skip(self, chars: str = "") -> str:
        """Skip white space (and the given characters); the next character, '' at the end."""
        while True:
            self.pos = _space_end(self.buf, self.pos)
            while self.pos < len(self.buf) and self.buf[self.pos] in chars:
                self.pos = _space_end(self.buf, self.pos + 1)
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return ""

    def value(self):
        """The JSON value at the position: (line, raw text, value)."""
        decoder = json.JSONDecoder()
        while True:
            try:
                value, end = decoder.raw_decode(self.buf, self.pos)
            except ValueError as exc:
                if len(self.buf) - self.pos > self.limit or not self.more():
                    line = self.line + self.buf.count("\n", 0, getattr(exc, "pos", self.pos))
                    raise ArticleError(
                        self.path,
                        f"is not valid JSON from line {line} on ({_json_problem(exc)}); "
                        "the records before it are kept",
                    ) from None
                continue
            line = self.line + self.buf.count("\n", 0, self.pos)
            raw = self.buf[self.pos : end]
            self.pos = end
            return line, raw, value


def _json_array(fh, path: str, limit: int):
    """The elements of a JSON array, one at a time: numbered 1, 2, ... (their place)."""
    chunks = _Chunks(fh, path, limit)
    chunks.skip()
    chunks.pos += 1  # the [
    number = 0
    while True:
        nxt = chunks.skip(",")
        if nxt == "]":
            return
        if not nxt:
            raise ArticleError(
                path, f"is not valid JSON (the array is cut short after record {number})"
            )
        number += 1
        try:
            _line, raw, value = chunks.value()
        except ArticleError as exc:
            yield number, b"", None, exc.reason
            return
        yield number, raw.encode("utf-8", "surrogatepass"), value, None


def _json_stream(fh, path: str, limit: int):
    """Objects one after the other (a pretty-printed object, or several): numbered by the
    line each starts on."""
    chunks = _Chunks(fh, path, limit)
    while chunks.skip():
        try:
            line, raw, value = chunks.value()
        except ArticleError as exc:
            yield chunks.line, b"", None, exc.reason
            return
        yield line, raw.encode("utf-8", "surrogatepass"), value, None


def _csv_records(fh, delimiter: str, max_bytes: int):
    """(line number, raw bytes, {header: cell}, error) per row of a CSV/TSV file with a
    header row; a row with the wrong number of cells is an error."""
    import csv
    import io

    csv.field_size_limit(_limit(max_bytes))
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise ArticleError(
            getattr(fh, "name", "<csv>"), f"header row cannot be read ({exc})"
        ) from None
    header = [h.strip() for h in header]
    head_raw = "\x1f".join(header)
    line = reader.line_num
    while True:
        start = line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            line = reader.line_num
            yield start, b"", None, f"cannot be read as CSV ({exc})"
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        raw = (head_raw + "\x1e" + "\x1f".join(row)).encode("utf-8", "surrogatepass")
        if len(row) != len(header):
            yield (
                start,
                raw,
                None,
                f"has {len(row)} cells where the header has {len(header)}",
            )
            continue
        yield start, raw, {h: c for h, c in zip(header, row) if h}, None


def iter_warc(path: str | Path, gzipped: bool) -> Iterator[RawRecord]:
    """The HTML responses of a WARC file (gzipped or not; read with warcio), each a record
    with ``html`` (bytes), ``url`` and ``captured`` (the capture date)."""
    from warcio.archiveiterator import ArchiveIterator
    from warcio.exceptions import ArchiveLoadFailed

    fh = _open_binary(path, False)  # warcio looks through gzip itself
    number = 0
    seen: set[str] = set()
    try:
        for rec in ArchiveIterator(fh):
            if rec.rec_type != "response":
                continue
            number += 1
            http = rec.http_headers
            ctype = (http.get_header("Content-Type") or "") if http is not None else ""
            status = http.get_statuscode() if http is not None else ""
            if "html" not in ctype.lower() or str(status) != "200":
                continue
            payload = rec.content_stream().read()
            url = rec.rec_headers.get_header("WARC-Target-URI") or ""
            rid = (rec.rec_headers.get_header("WARC-Record-ID") or "").strip("<>")
            key = rid.rsplit(":", 1)[-1] if rid else str(number)
            if not key or key in seen or _BAD_KEY.search(key) or len(key) > MAX_KEY_CHARS:
                key = str(number)
            seen.add(key)
            data = {
                "html": payload,
                "url": url,
                "captured": rec.rec_headers.get_header("WARC-Date"),
            }
            sha = hashlib.sha256(url.encode("utf-8", "replace") + b"\0" + payload).hexdigest()
            yield RawRecord(number, "record", key, sha, data)
    except ArchiveLoadFailed as exc:
        raise UnreadableError(path, f"is not a valid WARC file ({shorten(str(exc))})") from None
    except Exception as exc:
        if _gzip_error(exc):
            raise UnreadableError(path, "is not a valid gzip file (or it is cut short)") from None
        raise
    finally:
        fh.close()


def raw_records(path: str | Path, kind: FileKind, max_bytes: int = 0) -> Iterator[RawRecord]:
    """The records of a many-article file of either kind."""
    if kind.kind == "warc":
        return iter_warc(path, kind.gzipped)
    return iter_records(path, kind.format, kind.gzipped, max_bytes)


# --------------------------------------------------------------------------------------------
# Record -> fields


def field_keys(record: dict[str, Any], extra: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Which key of the record fills which field: ``fields:`` from the config first, then
    :data:`KEY_NAMES`. Keys are compared case-insensitively."""
    by_norm: dict[str, str] = {}
    for k in record:
        by_norm.setdefault(_norm_key(str(k)), k)
    out: dict[str, str] = {}
    for name, names in KEY_NAMES.items():
        wanted = [*((extra or {}).get(name, [])), *names]
        for n in wanted:
            key = by_norm.get(_norm_key(n))
            if key is not None and record.get(key) not in (None, "", [], {}):
                out[name] = key
                break
    return out


def unused_keys(record: dict[str, Any], used: dict[str, str]) -> list[str]:
    taken = set(used.values())
    return [str(k) for k in record if k not in taken and _norm_key(str(k)) not in ID_KEYS]


_HTML_TAG = re.compile(
    r"<(?:p|br|div|span|a|b|i|em|strong|h[1-6]|ul|ol|li|blockquote|table|tr|td|img|figure|"
    r"figcaption|section|article|iframe|script|style)\b[^>]*>|&(?:nbsp|amp|quot|laquo|raquo|"
    r"mdash|ndash|hellip|#\d+|#x[0-9a-f]+);",
    re.I,
)
_FULL_PAGE = re.compile(r"<(?:html|body|head)\b", re.I)


def looks_like_html(text: str) -> bool:
    return bool(_HTML_TAG.search(text[:20000]))


def is_full_page(text: str) -> bool:
    return bool(_FULL_PAGE.search(text[:5000]))


def as_text(value: Any) -> str | None:
    """A record value as one line of text (a list of names joined with commas)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, list):
        parts = [as_text(v) for v in value]
        joined = ", ".join(p for p in parts if p)
        return joined or None
    if isinstance(value, dict):
        for k in ("name", "title", "value", "text"):
            if isinstance(value.get(k), str):
                return value[k].strip() or None
        return None
    text = str(value).strip()
    return text or None


def as_list(value: Any) -> list[str]:
    """A record value as a list of names: a JSON list, or text split on commas/semicolons."""
    if value is None or isinstance(value, bool):
        return []
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            out.extend(as_list(v) if not isinstance(v, str) else [v.strip()])
        return [v for v in out if v]
    if isinstance(value, dict):
        t = as_text(value)
        return [t] if t else []
    text = str(value)
    sep = ";" if ";" in text else ","
    return [v.strip() for v in text.split(sep) if v.strip()]


def as_datetime(value: Any) -> str | None:
    """A record's date as ISO 8601: ISO text, RFC 2822 (RSS ``pubDate``), or Unix seconds or
    milliseconds (as UTC). None when it is none of these."""
    import datetime as dt

    from .articles import normalise_datetime

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)) or (
        isinstance(value, str) and re.fullmatch(r"\d{9,13}(\.\d+)?", value.strip())
    ):
        try:
            seconds = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        if seconds > 1e11:  # milliseconds
            seconds /= 1000
        try:
            return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds")
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, dict):
        for k in ("$date", "date", "value"):
            if k in value:
                return as_datetime(value[k])
        return None
    text = str(value).strip()
    if not text:
        return None
    iso = normalise_datetime(text.replace(" UTC", "Z").replace("z", "Z") if "T" in text else text)
    if iso is not None:
        return iso
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", text):
        return normalise_datetime(text.replace(" ", "T"))
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return when.isoformat()


def site_of(url: str | None) -> str | None:
    """The site of an address: its host in lower case, without ``www.`` and a port."""
    if not url:
        return None
    from urllib.parse import urlsplit

    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".").lower()
    if host.startswith("www."):
        host = host[4:]
    return host or None


def clean_url(value: Any) -> str | None:
    """An address as kept in the record: trimmed text with no white space or control
    characters inside, at most 2,000 characters; None for anything else."""
    text = as_text(value)
    if not text or len(text) > 2000 or re.search(r"[\s\x00-\x1f\x7f]", text):
        return None
    return text


def fragment_or_lines(body: str) -> list[str]:
    """The paragraphs of a record's text: an HTML fragment's blocks, else its non-empty
    lines (records do not wrap lines: a line is a paragraph)."""
    if looks_like_html(body):
        from .pages import fragment_paragraphs

        return fragment_paragraphs(body)
    return [
        line.strip()
        for line in body.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        if line.strip()
    ]
