"""``ValueObject``: equality, hashing and repr for small immutable settings objects.

Subclasses list their fields in ``_fields`` (in constructor order) and store them in slots.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = ["ValueObject"]


class ValueObject:
    __slots__ = ()
    _fields: ClassVar[tuple[str, ...]] = ()

    def _astuple(self) -> tuple[object, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        assert isinstance(other, ValueObject)
        return self._astuple() == other._astuple()

    def __hash__(self) -> int:
        return hash(self._astuple())

    def __repr__(self) -> str:
        values = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._fields)
        return f"{type(self).__name__}({values})"
