"""Errors raised by corpus-search.

Every error the library raises on purpose derives from :class:`CorpusSearchError` and carries
a one-line message fit to print as it is. Subclasses carry the thing they concern (the file,
the query, the index folder) so that callers can report it without parsing text.
"""

from __future__ import annotations

from pathlib import Path


def shorten(text: str, limit: int = 80) -> str:
    """A value quoted in a message: at most ``limit`` characters, the cut marked."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_words(text: str, limit: int = 160) -> str:
    """Text cut to at most ``limit`` characters at a word's end, the cut marked with …."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


class CorpusSearchError(Exception):
    """Base class: ``str(err)`` is a one-line message naming what is wrong. ``http_status``:
    the HTTP status it is answered with (400: a bad request; the index errors 503)."""

    http_status = 400


class NotFoundError(CorpusSearchError):
    """No article with the id asked for."""

    http_status = 404


class ConfigError(CorpusSearchError):
    """A config file, option or profile that cannot be used."""

    def __init__(self, message: str, source: str | None = None):
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class ArticleError(CorpusSearchError):
    """A file that cannot be read as an article. ``reason`` is the short cause."""

    def __init__(self, path: str | Path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class EmptyFileError(ArticleError):
    pass


class BinaryFileError(ArticleError):
    pass


class DecodeError(ArticleError):
    pass


class TooLargeError(ArticleError):
    pass


class UnreadableError(ArticleError):
    pass


class IndexError_(CorpusSearchError):
    """Base for problems with the index folder (named so as not to shadow the builtin)."""

    http_status = 503  # missing, damaged, locked or of another version: not the request's fault

    def __init__(self, message: str, path: str | Path | None = None):
        self.path = str(path) if path is not None else None
        super().__init__(message)


class NoIndexError(IndexError_):
    pass


class IndexVersionError(IndexError_):
    pass


class IndexDamagedError(IndexError_):
    """Index files that cannot be read. Raised ``from`` the low-level error that showed it."""

    @classmethod
    def because(cls, path: str | Path, exc: BaseException) -> IndexDamagedError:
        text = str(exc).splitlines()[0] if str(exc) else ""
        detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
        return cls(
            f"the index at {path} is damaged ({detail[:160]}); "
            "run 'corpus-search index --rebuild' to repair it",
            path,
        )


class IndexLockedError(IndexError_):
    pass


class NotAnIndexError(IndexError_):
    pass


class QueryError(CorpusSearchError):
    """A query that cannot be run as written. ``position`` is a 0-based offset or None."""

    def __init__(self, query: str, message: str, position: int | None = None):
        self.query = query
        self.detail = message
        self.position = position
        where = f" at column {position + 1}" if position is not None else ""
        shown = repr(shorten(query))
        if "\\udc" in shown:  # an undecodable byte: shown as the byte it was, \xNN
            import re

            shown = re.sub(r"\\udc([89a-f][0-9a-f])", r"\\x\1", shown)
        super().__init__(f"bad query {shown}{where}: {message}")


class QueryTimeout(CorpusSearchError):
    def __init__(self, query: str, seconds: float):
        self.query = query
        self.seconds = seconds
        super().__init__(
            f"query {shorten(query)!r} took longer than {seconds:g}s and was stopped; "
            "narrow it (fewer wildcards, a filter) or raise --timeout"
        )
