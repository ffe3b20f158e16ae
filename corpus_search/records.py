"""Small record classes for the objects a search builds (query nodes, filters, hits, results).

They replace dataclasses on the search path: importing ``dataclasses`` (it imports
``inspect``, ``ast``, ``dis``, ``tokenize``) and generating fifteen classes cost a fresh
process ~25 ms, a fifth of a one-word search. A subclass names its fields in ``FIELDS`` and
writes its own ``__init__`` (so type checkers still check the arguments); this gives it
equality, ``repr`` and, for :class:`FrozenRecord`, immutability and a hash, as dataclasses
did.
"""

from __future__ import annotations


class Record:
    """Equality and repr over the fields named in ``FIELDS``."""

    __slots__ = ()
    FIELDS: tuple[str, ...] = ()

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, like a dataclass

    def __repr__(self) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.FIELDS)
        return f"{type(self).__name__}({inner})"


class FrozenRecord(Record):
    """A record whose fields are set once, in ``__init__`` (through :meth:`_set`)."""

    __slots__ = ()

    def _set(self, **values: object) -> None:
        for name, value in values.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r} of {type(self).__name__}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r} of {type(self).__name__}")

    def __hash__(self) -> int:  # type: ignore[override]
        return hash((type(self), self._values()))
