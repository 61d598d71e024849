"""``HttpHeaders``: a case-insensitive, multi-valued mapping of header names to values.

It owns lookup and storage only; it never validates or serialises headers (that is the
request builder's job) and never touches bytes from the wire (responses decode lazily).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, MutableMapping
from typing import Any, TypeVar, cast, overload

__all__ = ["HeadersLike", "HttpHeaders"]

_T = TypeVar("_T")

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


class HttpHeaders(MutableMapping[str, str]):
    """Header names map to their values, ignoring case and keeping repeated headers.

    ``h[name]`` is the first value, ``h.getall(name)`` every value in order, ``h.add(name,
    value)`` appends one, ``h[name] = value`` replaces them all. Iteration yields each
    distinct name once, in the case it was first given; ``multi_items()`` yields every pair.
    """

    __slots__ = ("_store",)

    def __init__(self, data: HeadersLike | None = None, **kwargs: str) -> None:
        # lower-case name -> [name as first given, value, value, ...]
        self._store: dict[str, list[str]] = {}
        if data is not None:
            self.extend(data)
        if kwargs:
            self.extend(kwargs)

    def extend(self, data: HeadersLike) -> None:
        """Append every pair of ``data`` (a mapping, HttpHeaders, or (name, value) pairs)."""
        if isinstance(data, HttpHeaders):
            pairs: Iterable[tuple[str, str]] = data.multi_items()
        elif isinstance(data, Mapping):
            pairs = cast(Mapping[str, str], data).items()
        else:
            pairs = data
        for name, value in pairs:
            self.add(name, value)

    def add(self, name: str, value: str) -> None:
        """Append ``value`` to the values of ``name``."""
        entry = self._store.get(name.lower())
        if entry is None:
            self._store[name.lower()] = [name, value]
        else:
            entry.append(value)

    def getall(self, name: str, default: _T | None = None) -> list[str] | _T:
        """Every value of ``name`` in order; ``default`` (an empty list if None) if absent."""
        entry = self._store.get(name.lower())
        if entry is None:
            return [] if default is None else default
        return entry[1:]

    def getlist(self, name: str) -> list[str]:
        """Every value of ``name`` in order, or an empty list."""
        entry = self._store.get(name.lower())
        return [] if entry is None else entry[1:]

    def multi_items(self) -> Iterator[tuple[str, str]]:
        """Every (name, value) pair, repeated names included."""
        for entry in self._store.values():
            name = entry[0]
            for value in entry[1:]:
                yield name, value

    def copy(self) -> HttpHeaders:
        new = HttpHeaders()
        new._store = {key: entry[:] for key, entry in self._store.items()}
        return new

    def __getitem__(self, name: str) -> str:
        return self._store[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._store[name.lower()] = [name, value]

    def __delitem__(self, name: str) -> None:
        del self._store[name.lower()]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def __iter__(self) -> Iterator[str]:
        return (entry[0] for entry in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: Any = None) -> Any:
        entry = self._store.get(name.lower())
        return default if entry is None else entry[1]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, HttpHeaders):
            mine = {key: entry[1:] for key, entry in self._store.items()}
            return mine == {key: entry[1:] for key, entry in other._store.items()}
        if isinstance(other, Mapping):
            return self == HttpHeaders(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"HttpHeaders({list(self.multi_items())!r})"
