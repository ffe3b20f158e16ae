"""Articles: bytes -> text -> header fields + clean body -> :class:`Article`.

This module owns reading one article file. It knows nothing of the index. It decodes the bytes
(UTF-8, BOMs, UTF-16, Windows-1251, Latin-1), normalises the text (NFC, line ends), picks a
cleaning profile (see :mod:`corpus_search.profiles`), reads the header into fields and removes
site boilerplate from the body, keeping every real paragraph once.

Three layouts are read: a site layout described by a profile (the header of the scraped news
pages), YAML front matter (``---`` / keys / ``---`` / body), and plain text whose first non-empty
line is the title.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import stat
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import (
    ArticleError,
    BinaryFileError,
    DecodeError,
    EmptyFileError,
    TooLargeError,
    UnreadableError,
    shorten,
)
from .formats import ARTICLE_PATTERNS
from .profiles import Profile, ProfileSet, load_profiles
from .vocab import CYRILLIC_RE

DEFAULT_MAX_BYTES = 10 * 1024 * 1024

#: The record's keys, in the order every JSON output uses.
RECORD_FIELDS = (
    "id",
    "path",
    "source",
    "url",
    "site",
    "title",
    "author",
    "published",
    "place",
    "views",
    "categories",
    "tags",
    "language",
    "body",
    "words",
    "sha256",
)


@dataclass
class Removed:
    """One line the cleaner took out of the text, and why."""

    line: int  # 1-based line number in the decoded text
    text: str
    rule: str


@dataclass
class Article:
    id: str
    path: str
    source: str | None = None
    url: str | None = None  # the page's own address, as the page, front matter or record says
    site: str | None = None  # the address's host without www. (a facet)
    title: str | None = None
    author: str | None = None
    published: str | None = None
    place: str | None = None
    views: int | None = None
    categories: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    language: str | None = None
    body: str = ""
    words: int = 0
    sha256: str = ""
    # Not part of the record: how it was read.
    profile: str = field(default="generic", repr=False, compare=False)
    encoding: str = field(default="utf-8", repr=False, compare=False)
    warnings: list[str] = field(default_factory=list, repr=False, compare=False)
    from_path: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    removed: list[Removed] = field(default_factory=list, repr=False, compare=False)
    #: for a record: which of its keys filled which field, and the keys left unused
    read_as: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        """The record as a plain dict with exactly :data:`RECORD_FIELDS` as keys."""
        return {name: getattr(self, name) for name in RECORD_FIELDS}


# --------------------------------------------------------------------------------------------
# Bytes to text

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe\x00\x00", "utf-32"),
    (b"\x00\x00\xfe\xff", "utf-32"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_CYRILLIC = CYRILLIC_RE


def read_bytes(path: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """Read a file's bytes, raising an :class:`ArticleError` that names the file on failure."""
    try:
        # O_NONBLOCK: a FIFO that took a file's place must not block the run
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        with open(fd, "rb") as fh:
            st = os.fstat(fh.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise UnreadableError(path, f"is not a regular file ({_file_kind(st.st_mode)})")
            size = st.st_size
            if max_bytes and size > max_bytes:
                raise TooLargeError(
                    path,
                    f"too large ({_human(size)}; the limit is {_human(max_bytes)}, "
                    "set max_file_mb in the config to change it)",
                )
            data = fh.read(max_bytes + 1 if max_bytes else -1)
    except ArticleError:
        raise
    except FileNotFoundError:
        raise UnreadableError(path, "vanished before it could be read") from None
    except IsADirectoryError:
        raise UnreadableError(path, "is a folder, not a file") from None
    except PermissionError:
        raise UnreadableError(path, "cannot be read (permission denied)") from None
    except OSError as exc:
        raise UnreadableError(path, f"cannot be read ({exc.strerror or exc})") from None
    if max_bytes and len(data) > max_bytes:  # grew while we read it
        raise TooLargeError(path, f"too large (over {_human(max_bytes)})")
    return data


def _file_kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISDIR, "a folder"),
    ):
        if test(mode):
            return name
    return "not a file"


def _human(n: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


def decode_text(data: bytes, path: str | Path = "<bytes>") -> tuple[str, str]:
    """Decode article bytes to normalised text. Returns ``(text, encoding)``.

    Line ends become ``\\n`` and the text is NFC-normalised. Raises :class:`BinaryFileError`
    for binary data and :class:`DecodeError` for bytes that are no known text encoding.
    """
    if not data:
        raise EmptyFileError(path, "is empty")
    if not data.strip():
        raise EmptyFileError(path, "has no text (only white space)")
    encoding = None
    for bom, name in _BOMS:
        if data.startswith(bom):
            encoding = name
            break
    if encoding is None:
        if b"\x00" in data:
            raise BinaryFileError(path, "is binary (contains NUL bytes), not text")
        try:
            text = data.decode("utf-8")
            encoding = "utf-8"
        except UnicodeDecodeError:
            text, encoding = _decode_single_byte(data, path)
    else:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError as exc:
            raise DecodeError(
                path,
                f"starts with a {encoding.upper()} byte-order mark but is not "
                f"valid {encoding.upper()} (byte {exc.start})",
            ) from None
        if text.startswith("\ufeff"):
            text = text[1:]
    controls = len(_CONTROL.findall(text[:65536]))
    # binary data is mostly control bytes; a short article with a dozen stray ones is text
    if controls > max(32, len(text[:65536]) // 20):
        raise BinaryFileError(path, "is binary (control characters), not text")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        raise EmptyFileError(path, "has no text (only white space)")
    return text, encoding


def _decode_single_byte(data: bytes, path) -> tuple[str, str]:
    """Bytes that are not UTF-8: Windows-1251 when they read as Cyrillic words, else Latin."""
    high = [i for i, b in enumerate(data) if b >= 0x80]
    cp1251 = data.decode("cp1251", errors="replace")
    cyr = len(_CYRILLIC.findall(cp1251))
    # Russian text in cp1251 has its high bytes in runs (whole words); accented Latin text has
    # them alone between ASCII letters.
    paired = sum(1 for a, b in zip(high, high[1:]) if b == a + 1)
    if cyr >= 0.6 * len(high) and paired >= 0.4 * len(high):
        return cp1251, "cp1251"
    try:
        text = data.decode("cp1252")
        encoding = "cp1252"
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        encoding = "latin-1"
    letters = sum(1 for i in high if text[i].isalpha() or text[i] in "£€°«»–—‘’“”…©®±·¢¥§¶•")
    if letters < 0.5 * len(high):
        raise DecodeError(
            path,
            "is not valid UTF-8 and does not read as Windows-1251 or Latin-1 "
            "text; convert it to UTF-8",
        )
    return text, encoding


# --------------------------------------------------------------------------------------------
# Languages

_WORD = re.compile(r"\w+", re.UNICODE)
_SPACES = re.compile(r"[\u00a0\u202f\u2007\u2009\u200b]")
_UNPAIRED = re.compile(r"[\ud800-\udfff]")


def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of a text's language, or None when the text is too short or too
    mixed to tell (a table of figures, a title alone) rather than a wrong guess.

    Google's CLD2 (the pycld2 package, its model compiled in: nothing is downloaded) knows
    about 80 languages, Portuguese, Bulgarian, Hindi, Arabic and Greek among them; measured
    here it was the fastest and the most careful with short text of the candidates (see the
    README's Languages section). A guess it calls unreliable is kept when no other language
    competes and it covers at least half the text (digits and punctuation are the rest): it
    doubted plain Russian news with no-break spaces, or of a few sentences."""
    import pycld2

    sample = _UNPAIRED.sub(" ", _SPACES.sub(" ", text[:10000]))
    try:
        reliable, _bytes, details = pycld2.detect(sample)
    except pycld2.error:
        return None
    name, code, percent = details[0][0], details[0][1], details[0][2]
    if code == "un" or name == "Unknown":
        return None
    rival = details[1][1] != "un" and details[1][2] > 0
    if not reliable and (rival or percent < 50):
        return None
    return code.split("-")[0].lower()


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


# --------------------------------------------------------------------------------------------
# Parsing


def parse_article(
    path: str | Path,
    *,
    root: str | Path | None = None,
    profiles: ProfileSet | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Article:
    """Read one file of one article (text, or an HTML page) into an :class:`Article`.

    ``root`` is the corpus folder the id is relative to (default: the file's own folder).
    Raises an :class:`~corpus_search.errors.ArticleError` naming the file when it is not an
    article (empty, binary, undecodable, unreadable, too large). A file of many records is
    read with :func:`read_articles`.
    """
    path = Path(path)
    data = read_bytes(path, max_bytes)
    return parse_bytes(data, path, root=root, profiles=profiles, max_bytes=max_bytes)


def text_path(path: str | Path) -> str:
    """A path as text that can always be stored and printed: a name that is not valid UTF-8
    (bytes from another system's encoding) keeps those bytes as ``\\xNN`` escapes."""
    text = str(path)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(text).decode("utf-8", "backslashreplace")


def article_id(path: Path, root: str | Path | None) -> str:
    """A file's id: its path relative to its corpus root, as text (see :func:`text_path`)."""
    if root is not None:
        try:
            return text_path(path.relative_to(root).as_posix())
        except ValueError:
            pass
    return text_path(path.name)


def parse_bytes(
    data: bytes,
    path: str | Path,
    *,
    root: str | Path | None = None,
    profiles: ProfileSet | None = None,
    doc_id: str | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    explain: bool = False,
) -> Article:
    """Parse the bytes of a one-article file (text, an HTML page, either gzipped) as read
    from ``path`` (used for the id and in messages); ``doc_id``: its id when the caller knows
    it already (else made from ``path`` and ``root``). A record file holds many articles:
    read it with :func:`read_articles`. ``explain`` keeps what a page's extractor left out
    in ``removed`` (text files always keep their removed lines)."""
    from .formats import file_kind, read_gzip

    path = Path(path)
    profiles = profiles or load_profiles()
    kind = file_kind(path.name)
    if kind.kind in ("records", "warc"):
        raise ArticleError(path, f"holds many articles ({kind.format}); read it with read_articles")
    raw = read_gzip(data, path, max_bytes) if kind.gzipped else data
    article = Article(id=doc_id or article_id(path, root), path=text_path(path))
    article.sha256 = hashlib.sha256(data).hexdigest()
    if kind.kind == "html":
        if not raw.strip():
            raise EmptyFileError(path, "is empty")
        return _page_article(article, raw, str(path), profiles, explain=explain)
    text, encoding = decode_text(raw, path)
    article.encoding = encoding
    lines = text.split("\n")

    front = _split_front_matter(lines, path)
    if front is not None:
        meta, body_start = front
        source = meta.get("source")
        profile = (
            (profiles.for_source(source) if isinstance(source, str) else None)
            or profiles.detect(text)
            or profiles.generic
        )
        _apply_front_matter(article, meta)
        body_lines = lines[body_start:]
        offset = body_start
    else:
        profile, fields, offset = _read_header(profiles, text, lines)
        article.source = profile.source
        _apply_header_fields(article, profile, fields)
        body_lines = lines[offset:]
    article.profile = profile.name
    lead = None
    if front is None and article.title and len(article.title) > MAX_TITLE_CHARS:
        # a first line this long is the article itself (one-line files), not its title: it
        # stays text, and the title is left empty (a path pattern can give one)
        lead, article.title = article.title, None
    _cut_values(article)
    paragraphs, tags = _clean_body(body_lines, offset, profile, article.removed)
    if lead is not None:
        paragraphs.insert(0, lead)
    if tags and not article.tags:
        article.tags = tags
    return _finish(
        article,
        paragraphs,
        profiles,
        path,
        guessed_title=front is None and profile.name == "generic",
    )


def _cut_values(article: Article) -> None:
    for name in ("title", "author", "place", "source"):
        value = getattr(article, name)
        if value and len(value) > MAX_VALUE_CHARS:
            article.warnings.append(
                f"{article.path}: {name}: longer than {MAX_VALUE_CHARS} characters, cut"
            )
            setattr(article, name, value[:MAX_VALUE_CHARS])


def _finish(
    article: Article,
    paragraphs: list[str],
    profiles: ProfileSet,
    where: str | Path,
    guessed_title: bool = False,
) -> Article:
    """The body, word count, path rules, site and language of an article read so far."""
    from .formats import site_of

    article.body = "\n\n".join(paragraphs)
    article.words = count_words(article.body)
    if not article.title:
        if not paragraphs:
            raise EmptyFileError(where, "has no text left after cleaning")
        article.title = None
    if profiles.path_rules:
        _apply_path_rules(article, profiles.path_rules, guessed_title=guessed_title)
    article.site = site_of(article.url)
    if article.language is None:
        article.language = detect_language(f"{article.title or ''}\n{article.body}")
    if article.language is None and getattr(profiles, "default_language", None):
        article.language = profiles.default_language  # the config's rule for the unknown
    return article


def _clean_paragraphs(
    article: Article, paragraphs: list[str], profiles: ProfileSet, text_for_detection: str = ""
) -> list[str]:
    """A profile's body rules (boilerplate lines, teasers, repeats) applied to paragraphs
    that came from a page or a record: the site's profile (by source) or the generic one."""
    profile = (
        profiles.for_source(article.source)
        or (profiles.detect(text_for_detection) if text_for_detection else None)
        or profiles.generic
    )
    article.profile = profile.name
    lines: list[str] = []
    for p in paragraphs:
        if lines:
            lines.append("")
        lines.extend(p.split("\n"))
    kept, tags = _clean_body(lines, 0, profile, article.removed)
    if tags and not article.tags:
        article.tags = tags
    return kept


def _page_article(
    article: Article,
    data: bytes | str,
    where: str,
    profiles: ProfileSet,
    *,
    base_url: str | None = None,
    captured: str | None = None,
    explain: bool = False,
) -> Article:
    """An article from an HTML page (a file, a WARC response or a record's field)."""
    from .pages import read_page, removed_blocks

    page = read_page(data, where, base_url=base_url, explain=explain)
    article.encoding = "html"
    article.title = article.title or page.title
    article.author = article.author or page.author
    article.published = article.published or page.published or captured
    article.url = article.url or page.url
    article.source = article.source or page.sitename
    article.language = article.language or page.language
    article.categories = article.categories or page.categories[:MAX_LIST_VALUES]
    article.tags = article.tags or page.tags[:MAX_LIST_VALUES]
    _cut_values(article)
    paragraphs = _clean_paragraphs(article, page.paragraphs, profiles)
    for block in removed_blocks(page):
        article.removed.append(Removed(0, block, "outside the article (page extractor)"))
    return _finish(article, paragraphs, profiles, where)


def record_article(
    raw: Any,
    path: str | Path,
    file_id: str,
    profiles: ProfileSet | None = None,
    *,
    explain: bool = False,
) -> Article:
    """The article of one record of a record file or WARC (a
    :class:`corpus_search.formats.RawRecord`): its id is ``FILE#KEY``. Raises
    :class:`ArticleError` naming the file and line when the record is no article."""
    from .formats import (
        as_datetime,
        as_list,
        as_text,
        clean_url,
        field_keys,
        fragment_or_lines,
        is_full_page,
        unused_keys,
    )

    profiles = profiles or load_profiles()
    where = raw.where(text_path(path))
    if raw.error is not None:
        raise ArticleError(where, raw.error)
    data = raw.data
    article = Article(id=f"{file_id}#{raw.key}", path=text_path(path))
    article.sha256 = raw.sha
    article.encoding = "record"
    if isinstance(data.get("html"), bytes):  # a WARC response
        return _page_article(
            article,
            data["html"],
            where,
            profiles,
            base_url=data.get("url") or None,
            captured=as_datetime(data.get("captured")),
            explain=explain,
        )

    def warn(name: str, message: str) -> None:
        article.warnings.append(f"{where}: {name}: {message}")

    keys = field_keys(data, getattr(profiles, "field_map", None))
    if explain:
        article.read_as = {
            "mapping": {name: str(key) for name, key in keys.items()},
            "unused": unused_keys(data, keys),
        }
    get = lambda name: data.get(keys[name]) if name in keys else None  # noqa: E731
    article.title = as_text(get("title"))
    article.author = as_text(get("author"))
    article.place = as_text(get("place"))
    article.source = as_text(get("source"))
    address = get("url")
    if address is not None:
        article.url = clean_url(address)
        if article.url is None:
            warn("url", f"not an address ({shorten(str(address))!r}), left empty")
    lang = as_text(get("language"))
    if lang:
        if re.fullmatch(r"[A-Za-z]{2}([-_].*)?", lang):
            article.language = lang.lower()[:2]
        else:
            warn("language", f"not an ISO 639-1 code ({shorten(lang)!r}), detected instead")
    article.categories = _split_list(",".join(as_list(get("categories"))), ",", warn, "categories")
    article.tags = _split_list(",".join(as_list(get("tags"))), ",", warn, "tags")
    if get("views") is not None:
        views = get("views")
        article.views = _views(
            views if isinstance(views, (int, float, str)) else repr(views)[:80], warn
        )
    published = get("published")
    if published is not None:
        article.published = as_datetime(published)
        if article.published is None:
            warn("published", f"not a date ({shorten(str(published))!r}), left empty")
    body = get("body")
    page_html = get("html")
    if isinstance(body, str) and is_full_page(body):
        body, page_html = None, body
    if body is None and isinstance(page_html, str) and page_html.strip():
        return _page_article(
            article, page_html, where, profiles, base_url=article.url, explain=explain
        )
    if body is not None and not isinstance(body, str):
        body = "\n".join(as_list(body)) if isinstance(body, list) else as_text(body)
    if not article.title and not (body or "").strip():
        names = ", ".join(shorten(str(k), 30) for k in list(data)[:12]) or "none"
        raise ArticleError(
            where,
            f"has no title or text (its keys: {names}); name the keys with fields: in the config",
        )
    _cut_values(article)
    paragraphs = fragment_or_lines(body or "")
    paragraphs = _clean_paragraphs(article, paragraphs, profiles)
    return _finish(article, paragraphs, profiles, where)


def read_articles(
    path: str | Path,
    *,
    root: str | Path | None = None,
    profiles: ProfileSet | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    explain: bool = False,
) -> Iterator[Article | ArticleError]:
    """Every article of a file, of any kind: one for a text file or page, one per record for a
    record file or WARC. A problem is yielded as an :class:`ArticleError` (the file's, which
    ends it, or one record's, after which the others follow)."""
    from .formats import MANY, file_kind, raw_records

    path = Path(path)
    profiles = profiles or load_profiles()
    kind = file_kind(path.name)
    if kind.kind not in MANY:
        try:
            yield parse_bytes(
                read_bytes(path, max_bytes),
                path,
                root=root,
                profiles=profiles,
                max_bytes=max_bytes,
                explain=explain,
            )
        except ArticleError as exc:
            yield exc
        return
    file_id = article_id(path, root)
    try:
        for raw in raw_records(path, kind, max_bytes):
            try:
                yield record_article(raw, path, file_id, profiles, explain=explain)
            except ArticleError as exc:
                yield exc
    except ArticleError as exc:
        yield exc


def _apply_path_rules(article: Article, rules: list, guessed_title: bool) -> None:
    """Fields from the file's path (see :mod:`corpus_search.paths`): they fill what the file
    does not say; a plain file's first-line title gives way to one from the path."""
    for rule in rules:
        if not rule.covers(article.id):
            continue
        found = rule.fields(article.id)
        if found is None:
            article.warnings.append(
                f"{article.path}: the path does not fit {rule.pattern!r}; nothing taken from it"
            )
            continue
        for name, value in {**rule.fixed, **found}.items():
            current = getattr(article, name)
            if name == "published" and value:
                value = normalise_datetime(value)
            if name == "language" and isinstance(value, str):
                value = value.lower()[:2]
            if not current or (name == "title" and guessed_title and "title" in found):
                if name == "title" and current and guessed_title and article.title:
                    article.body = f"{article.title}\n\n{article.body}".strip()  # kept as text
                    article.words = count_words(article.body)
                setattr(article, name, value)
                article.from_path[name] = value
        return  # the first rule that covers the file


def _read_header(profiles: ProfileSet, text: str, lines: list[str]):
    """Try each detected profile's header; the generic one always reads a title."""
    for profile in profiles.candidates(text):
        result = _match_header(profile, lines)
        if result is not None:
            fields, offset = result
            return profile, fields, offset
    fields, offset = _match_header(profiles.generic, lines)  # type: ignore[misc]
    return profiles.generic, fields, offset


def _clean_line(line: str) -> str:
    return line.strip()  # str.strip() also takes no-break spaces


def _match_header(profile: Profile, lines: list[str]):
    fields: dict[str, str] = {}
    i = 0
    n = len(lines)
    for slot in profile.header:
        while i < n and not _clean_line(lines[i]):
            i += 1
        if i >= n:
            if slot.optional:
                continue
            return None
        m = slot.pattern.fullmatch(_clean_line(lines[i]))
        if m is None:
            if slot.optional:
                continue
            return None
        fields.update({k: v for k, v in m.groupdict().items() if v is not None})
        i += 1
    return fields, i


def _apply_header_fields(article: Article, profile: Profile, fields: dict[str, str]) -> None:
    def warn(name: str, message: str) -> None:
        article.warnings.append(f"{article.path}: {name}: {message}")

    article.title = fields.get("title") or None
    author = fields.get("author")
    if author:
        article.author = author.strip().rstrip(".").strip() or None
    place = fields.get("place")
    if place:
        article.place = place.strip().rstrip(".").strip() or None
    if "year" in fields:
        raw = f"{fields['day']}.{fields['month']}.{fields['year']} {fields.get('hour', '0')}:{fields.get('minute', '00')}"
        try:
            local = dt.datetime(
                int(fields["year"]),
                int(fields["month"]),
                int(fields["day"]),
                int(fields.get("hour") or 0),
                int(fields.get("minute") or 0),
                int(fields.get("second") or 0),
            )
        except ValueError:
            warn("published", f"impossible date {raw!r}, left empty")
        else:
            zone_label = (fields.get("zone") or "").strip()
            tz = None
            if zone_label:
                tz = profile.timezone(zone_label)
                if tz is None:
                    warn("published", f"unknown time zone {zone_label!r}, date kept without offset")
            if tz is not None:
                local = local.replace(tzinfo=tz)
            article.published = local.isoformat()
    if "views" in fields:
        article.views = _views(fields["views"].strip(), warn)
    if "categories" in fields:
        article.categories = _split_list(
            fields["categories"], profile.list_separator, warn, "categories"
        )
    if "tags" in fields:
        article.tags = _split_list(fields["tags"], profile.list_separator, warn, "tags")


MAX_LIST_VALUES = 1000  # categories or tags kept per article
MAX_VALUE_CHARS = 2000  # characters kept of one header value
MAX_TITLE_CHARS = 500  # a longer first line of a plain file is text, not a title
MAX_VIEWS = 2**63 - 1  # what the index's views column holds
MAX_FRONT_MATTER = 256 * 1024  # characters of YAML front matter read


def _split_list(raw: str, sep: str, warn=None, name: str = "") -> list[str]:
    """Distinct trimmed values in order (linear time), at most MAX_LIST_VALUES."""
    seen: dict[str, None] = {}
    for item in raw.split(sep):
        item = item.strip()
        if item:
            seen.setdefault(item[:MAX_VALUE_CHARS], None)
            if len(seen) > MAX_LIST_VALUES:
                if warn:
                    warn(
                        name,
                        f"more than {MAX_LIST_VALUES} values; the first {MAX_LIST_VALUES} kept",
                    )
                break
    return list(seen)[:MAX_LIST_VALUES]


def _views(raw: Any, warn) -> int | None:
    """A view count, or None with a warning for what is not one."""
    if isinstance(raw, bool):
        value = None
    elif isinstance(raw, int):
        value = raw
    elif isinstance(raw, float):  # 3.7 views is no count (it was stored as 37 once)
        value = int(raw) if raw == raw and abs(raw) < 2**63 and raw.is_integer() else None
    else:
        text = str(raw).strip()
        # digits, or groups of three after a separator (1,234 / 1 234 / 1.234.567)
        if len(text) < 60 and re.fullmatch(r"\d+|\d{1,3}(?:[\s\u00a0\u202f,.']\d{3})+", text):
            value = int(re.sub(r"\D", "", text))
        else:
            value = None
    if value is None or value < 0:
        warn("views", f"not a number ({shorten(str(raw))!r}), left empty")
        return None
    if value > MAX_VIEWS:
        warn("views", f"{shorten(str(raw))} is too large to be a view count, left empty")
        return None
    return value


# --------------------------------------------------------------------------------------------
# Front matter

_FRONT_KEYS = {
    "title",
    "author",
    "published",
    "date",
    "place",
    "views",
    "categories",
    "tags",
    "language",
    "lang",
    "source",
    "category",
    "tag",
    "url",
    "link",
}


def _split_front_matter(lines: list[str], path: Path):
    if not lines or lines[0].strip() != "---":
        return None
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            break
    else:
        return None
    import yaml

    block = "\n".join(lines[1:end])
    if len(block) > MAX_FRONT_MATTER:
        raise ArticleError(path, f"front matter is larger than {MAX_FRONT_MATTER // 1024} KB")
    try:
        meta = yaml.load(block, Loader=_front_matter_loader(block)) if block.strip() else {}
    except _AliasError:
        raise ArticleError(
            path, "front matter uses YAML aliases (*name), which are not allowed in article headers"
        ) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark is not None else ""
        raise ArticleError(path, f"front matter is not valid YAML{where}") from None
    if not isinstance(meta, dict):
        raise ArticleError(path, "front matter must be a mapping of keys to values")
    return meta, end + 1


class _AliasError(Exception):
    pass


_LOADERS: dict[str, type] = {}


def _front_matter_loader(block: str = "&"):
    """YAML's safe loader without aliases (an alias bomb of a few hundred bytes expands to
    gigabytes) and without implicit timestamps (an impossible date such as 2021-02-30 would
    fail the whole file; as text it becomes a warning and an empty date).

    libyaml's C loader reads a header ~8x faster than the Python one (0.05 against 0.41 ms
    for a news story's header), but composes its nodes in C where no alias can be refused;
    an alias needs an anchor (``&name``), so a block without ``&`` cannot expand and takes
    the C loader; any other block the guarded Python one."""
    import yaml

    fast = "&" not in block and hasattr(yaml, "CSafeLoader")
    key = "c" if fast else "py"
    if key not in _LOADERS:
        if fast:

            class CLoader(yaml.CSafeLoader):  # type: ignore[name-defined,misc]
                pass

            loader: type = CLoader
        else:

            class Loader(yaml.SafeLoader):
                def compose_node(self, parent, index):
                    if self.check_event(yaml.AliasEvent):
                        raise _AliasError()
                    return super().compose_node(parent, index)

            loader = Loader
        loader.yaml_implicit_resolvers = {  # type: ignore[attr-defined]
            k: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for k, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }
        loader.add_constructor("tag:yaml.org,2002:int", _bounded_int)  # type: ignore[attr-defined]
        _LOADERS[key] = loader
    return _LOADERS[key]


def _bounded_int(loader, node):
    """YAML's int, but a number of thousands of digits stays text (Python refuses to read
    one past 4,300 digits: the whole header failed; as text it becomes a warning)."""
    value = loader.construct_scalar(node)
    if len(value) > 60:
        return value
    import yaml

    return yaml.SafeLoader.construct_yaml_int(loader, node)


def _apply_front_matter(article: Article, meta: dict) -> None:
    def warn(name: str, message: str) -> None:
        article.warnings.append(f"{article.path}: {name}: {message}")

    unknown = [str(k) for k in meta if str(k) not in _FRONT_KEYS]
    if unknown:  # one line a file, however many (20,000 keys printed 20,000 lines)
        names = ", ".join(shorten(k, 40) for k in unknown[:5])
        more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
        article.warnings.append(
            f"{article.path}: unknown front-matter "
            f"{'key' if len(unknown) == 1 else 'keys'} {names}{more}, ignored"
        )

    def text(key: str) -> str | None:
        value = meta.get(key)
        if value is None:
            return None
        if isinstance(value, (list, dict)):
            warn(key, "expected text, got a list or mapping; left empty")
            return None
        value = str(value).strip()
        if len(value) > MAX_VALUE_CHARS:
            warn(key, f"longer than {MAX_VALUE_CHARS} characters, cut")
            value = value[:MAX_VALUE_CHARS]
        return value or None

    def listing(*keys: str) -> list[str]:
        for key in keys:
            value = meta.get(key)
            if value is None:
                continue
            if isinstance(value, str):
                return _split_list(value, ",", warn, key)
            if isinstance(value, list):
                return (
                    _split_list(",".join(str(v) for v in value if v is not None), ",", warn, key)
                    if all(isinstance(v, (str, int, float)) or v is None for v in value)
                    else _bad_list(warn, key)
                )
            return _bad_list(warn, key)
        return []

    article.title = text("title")
    article.author = text("author")
    article.place = text("place")
    article.source = text("source")
    address = meta.get("url", meta.get("link"))
    if address is not None:
        from .formats import clean_url

        article.url = clean_url(address)
        if article.url is None:
            warn("url", f"not an address ({shorten(str(address))!r}), left empty")
    lang = text("language") or text("lang")
    if lang:
        article.language = lang.lower()[:2] if re.fullmatch(r"[A-Za-z]{2}([-_].*)?", lang) else None
        if article.language is None:
            warn("language", f"not an ISO 639-1 code ({shorten(lang)!r}), detected instead")
    article.categories = listing("categories", "category")
    article.tags = listing("tags", "tag")
    views = meta.get("views")
    if views is not None:
        article.views = (
            _views(views, warn)
            if isinstance(views, (int, float, str))
            else _views(repr(views)[:80], warn)
        )
    published = meta.get("published", meta.get("date"))
    if published is not None:
        value = normalise_datetime(published)
        if value is None:
            warn("published", f"not a date ({shorten(str(published))!r}), left empty")
        article.published = value


def _bad_list(warn, key: str) -> list[str]:
    warn(key, "expected a list of names; left empty")
    return []


def normalise_datetime(value: Any) -> str | None:
    """A date or datetime (object or text) as ISO 8601; offset kept if given, never invented."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat() if value.year >= MIN_YEAR else None
    text = str(value).strip()
    text = re.sub(r"\s*([+-]\d{2}:?\d{2}|Z)$", r"\1", text)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        try:
            day = dt.date.fromisoformat(text)
        except ValueError:
            return None
        return day.isoformat() if MIN_YEAR <= day.year else None
    if parsed.year < MIN_YEAR:  # 0001-01-01 was shown, yet undated in every count
        return None
    if len(text) == 10:
        return parsed.date().isoformat()
    return parsed.isoformat()


MIN_YEAR = 1000  # dates before are placeholders (0001-01-01), as the day column reads them


# --------------------------------------------------------------------------------------------
# Body cleaning

_ELLIPSIS = re.compile(r"(?:\.\.\.|…)\s*$")


def _clean_body(lines: list[str], offset: int, profile: Profile, removed: list[Removed]):
    """Apply the profile's line rules, then split paragraphs and drop teasers and repeats."""
    tags: list[str] = []
    kept: list[tuple[int, str]] = []  # (line number, stripped text), "" for a break
    rest_rule: str | None = None
    for idx, raw in enumerate(lines):
        lineno = offset + idx + 1
        line = _clean_line(raw)
        if rest_rule is not None:
            if line:
                rule = profile.match_rule(line)
                name = rule.name if rule is not None and rule.action != "tags" else None
                removed.append(Removed(lineno, line, name or f"{rest_rule} (rest of file)"))
            continue
        if not line:
            kept.append((lineno, ""))
            continue
        rule = profile.match_rule(line)
        if rule is None:
            kept.append((lineno, line))
            continue
        removed.append(Removed(lineno, line, rule.name))
        if rule.action == "tags":
            m = rule.pattern.search(line)
            found = (m.group("tags") or "") if m is not None else ""
            tags = _split_list(profile.list_separator.join([*tags, found]), profile.list_separator)
        elif rule.action == "drop-rest":
            rest_rule = rule.name
        kept.append((lineno, ""))  # a removed line also ends a paragraph

    paragraphs: list[tuple[int, list[str]]] = []
    current: list[str] = []
    start = 0
    for lineno, line in kept:
        if line:
            if not current:
                start = lineno
            current.append(line)
        elif current:
            paragraphs.append((start, current))
            current = []
    if current:
        paragraphs.append((start, current))

    texts = ["\n".join(p) for _, p in paragraphs]
    out: list[str] = []
    seen: set[str] = set()
    for i, ((lineno, _), para) in enumerate(zip(paragraphs, texts)):
        if profile.teasers and _is_teaser(para, texts, i):
            removed.append(Removed(lineno, para, "teaser (truncated repeat of a paragraph)"))
            continue
        if para in seen and len(para) >= 40:
            removed.append(Removed(lineno, para, "repeated paragraph"))
            continue
        seen.add(para)
        out.append(para)
    removed.sort(key=lambda r: r.line)
    return out, tags


def _is_teaser(para: str, texts: list[str], index: int) -> bool:
    m = _ELLIPSIS.search(para)
    if m is None:
        return False
    stem = para[: m.start()].rstrip(" ,;:-–—\u00a0")
    if len(stem) < 20:
        return False
    return any(
        j != index and len(other) > len(stem) and other.startswith(stem)
        for j, other in enumerate(texts)
    )


# --------------------------------------------------------------------------------------------
# Walking a corpus

IGNORE_DEFAULT = (".*", "*~", "#*#", "*.swp", "*.swo", "*.tmp", "*.part", "*.crdownload")
#: Which files under a folder are articles (a file named on its own always is): text files,
#: HTML pages, record files (JSON lines, JSON, CSV, TSV), WARC, and each of them gzipped (see
#: :mod:`corpus_search.formats`). Set ``include: ["*"]`` in the config to take every file.
INCLUDE_DEFAULT = ARTICLE_PATTERNS


def iter_files(
    paths: Iterable[str | Path],
    ignore: Iterable[str] = IGNORE_DEFAULT,
    errors: list[ArticleError] | None = None,
    include: Iterable[str] = INCLUDE_DEFAULT,
    passed_over: list[ArticleError] | None = None,
    ignored: list[str] | None = None,
) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every article file under the given files and folders.

    Under a folder, a file is an article when its name matches an ``include`` pattern (text
    files by default) and no ``ignore`` pattern (hidden files, editor backups...); the others
    are appended to ``passed_over`` with the reason (when given), and the names matched by an
    ``ignore`` pattern to ``ignored`` (hidden files and folders, editor backups: counted, not
    walked). A pattern with a ``/`` is matched against the path below the folder. A file named
    on its own is always read. Symbolic links are followed, folders included; a folder
    already walked (a link loop) is not walked again. Problems (a dangling link, a link loop,
    an unreadable folder) are appended to ``errors`` when given.
    """
    import errno
    import fnmatch

    from .formats import unknown_type_reason

    ignore = list(ignore)
    is_ignored = re.compile(
        "|".join(fnmatch.translate(p) for p in ignore if "/" not in p) or r"(?!)"
    ).match
    path_patterns = [p for p in ignore if "/" in p]
    ignored_path = re.compile(
        "|".join(fnmatch.translate(p) for p in path_patterns) or r"(?!)"
    ).match
    names = [p for p in include if "/" not in p]
    paths_in = [p for p in include if "/" in p]
    by_name = re.compile("|".join(fnmatch.translate(p) for p in names) or r"(?!)").match
    by_path = re.compile("|".join(fnmatch.translate(p) for p in paths_in) or r"(?!)").match

    def included(path: str, name: str, root: Path) -> bool:
        if by_name(name):
            return True
        return bool(paths_in) and bool(by_path(Path(path).relative_to(root).as_posix()))

    def report(path, reason: str) -> None:
        if errors is not None:
            errors.append(UnreadableError(path, reason))

    for given in paths:
        root = Path(given)
        if root.is_file():
            yield root, root.parent
            continue
        if not root.exists():
            report(root, "does not exist")
            continue
        seen_dirs: set[tuple[int, int]] = set()
        stack = [root]
        while stack:
            folder = stack.pop()
            try:
                st = folder.stat()
                if (st.st_dev, st.st_ino) in seen_dirs:
                    continue  # reached again through a link
                seen_dirs.add((st.st_dev, st.st_ino))
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError as exc:
                report(folder, f"folder cannot be read ({exc.strerror})")
                continue
            subdirs = []
            for entry in entries:
                if is_ignored(entry.name):
                    if ignored is not None:
                        ignored.append(entry.path)
                    continue
                try:
                    if entry.is_dir():
                        subdirs.append(Path(entry.path))
                    elif path_patterns and ignored_path(
                        Path(entry.path).relative_to(root).as_posix()
                    ):
                        if ignored is not None:
                            ignored.append(entry.path)
                        continue
                    elif not included(entry.path, entry.name, root):
                        if passed_over is not None and entry.is_file():
                            passed_over.append(
                                UnreadableError(entry.path, unknown_type_reason(entry.name))
                            )
                        continue  # not an article
                    elif entry.is_file():
                        yield Path(entry.path), root
                    elif not entry.is_symlink() or os.path.exists(entry.path):
                        report(
                            entry.path,
                            "is not a regular file ("
                            f"{_file_kind(os.stat(entry.path).st_mode)}); not indexed",
                        )
                    elif entry.is_symlink():
                        try:
                            os.stat(entry.path)
                        except OSError as exc:
                            if exc.errno == errno.ELOOP:
                                report(entry.path, "is a symbolic link loop")
                            else:
                                report(entry.path, "is a link to nothing (dangling link)")
                except OSError as exc:
                    if exc.errno == errno.ELOOP:
                        report(entry.path, "is a symbolic link loop")
                    else:
                        report(entry.path, f"cannot be read ({exc.strerror})")
            stack.extend(reversed(subdirs))
