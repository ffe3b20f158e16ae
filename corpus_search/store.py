"""The index folder on disk: its layout, its metadata, its lock, opening it for reading.

Layout of an index folder::

    DIR/corpus-search.json   what this is: format, schema version, current generation, roots
    DIR/.lock                held (flock) by the one indexing run allowed at a time
    DIR/gen-000001/          a Whoosh index (one "generation"); a rebuild writes the next one
                             beside it and switches the pointer in corpus-search.json atomically

This module is what searching needs of the folder; building and updating are in
:mod:`corpus_search.indexer`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import (
    CorpusSearchError,
    IndexDamagedError,
    IndexLockedError,
    IndexVersionError,
    NoIndexError,
    NotAnIndexError,
)

TYPE_CHECKING = False  # typing is not imported at run time: a search starts faster without it
if TYPE_CHECKING:
    from typing import Any

META_NAME = "corpus-search.json"
LOCK_NAME = ".lock"
FORMAT = "corpus-search-index"


class IndexWriteError(CorpusSearchError):
    pass


class IndexFolder:
    """An index folder on disk; cheap to create, does no I/O until asked."""

    def __init__(self, path: str | Path):
        self.path = Path(path)

    @property
    def meta_path(self) -> Path:
        return self.path / META_NAME

    def read_meta(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.meta_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise IndexDamagedError.because(self.path, exc) from exc
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise NotAnIndexError(
                f"{self.path} holds something other than a corpus-search index", self.path
            )
        return data

    def write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self.path / f".{META_NAME}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.meta_path)

    def check_usable_folder(self) -> None:
        """Refuse a folder that is a file, or that holds things that are not ours."""
        if self.path.exists() and not self.path.is_dir():
            raise NotAnIndexError(f"{self.path} is a file, not an index folder", self.path)
        if self.path.is_dir() and not self.meta_path.exists():
            foreign = [p.name for p in self.path.iterdir() if not p.name.startswith(".")]
            if foreign:
                raise NotAnIndexError(
                    f"{self.path} holds something other than a corpus-search index "
                    f"(found {foreign[0]!r}); choose another folder with --index",
                    self.path,
                )

    def require_meta(self) -> dict[str, Any]:
        meta = self.read_meta()
        if meta is None:
            self.check_usable_folder()
            raise NoIndexError(
                f"no index at {self.path}; build it with 'corpus-search index PATH'", self.path
            )
        version = meta.get("schema_version")
        from .schema import SCHEMA_VERSION

        if version != SCHEMA_VERSION:
            raise IndexVersionError(
                f"the index at {self.path} has schema version {version}, this corpus-search "
                f"needs {SCHEMA_VERSION}; rebuild it with 'corpus-search index --rebuild'",
                self.path,
            )
        return meta

    def generation_path(self, meta: dict[str, Any]) -> Path:
        return self.path / str(meta["generation"])

    def open(self):
        """Open the current generation for reading (a Whoosh index)."""
        meta = self.require_meta()
        return self.open_generation(self.generation_path(meta))

    def open_generation(self, gen: Path):
        """Open one generation folder (a Whoosh index); damage is reported as such."""
        from .postings import open_whoosh

        return open_whoosh(gen, self.path)

    @contextlib.contextmanager
    def lock(self, wait: float = 5.0) -> Iterator[None]:
        """Hold the folder's indexing lock; wait up to ``wait`` seconds for another run."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        except PermissionError:
            raise IndexWriteError(
                f"cannot write to the index folder {self.path} (permission denied)"
            ) from None
        except OSError as exc:
            raise IndexWriteError(
                f"cannot write to the index folder {self.path} ({exc.strerror})"
            ) from None
        try:
            deadline = time.monotonic() + max(0.0, wait)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise IndexLockedError(
                            f"another indexing run holds the index at {self.path}; "
                            f"waited {wait:g}s (use --wait SECONDS to wait longer)",
                            self.path,
                        ) from None
                    time.sleep(0.05)
            yield
        finally:
            os.close(fd)  # closing releases the lock
