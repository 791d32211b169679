"""Stored triage entries in memory: compact and read-only.

The office keeps every triage entry in memory, shared by the triage book and the read
side. Parsed from the log as plain dicts, an entry with its history cost about 1.7 KB,
mostly for fields holding their default. Here an entry is an instance of a class made
for its shape (its keys in order, and which of them differ from `triage.new_entry`'s
defaults): only those fields take a slot, the defaults live on the class, so a typical
entry costs a few hundred bytes. Its history is a tuple of steps built the same way.
Short strings from a small vocabulary (status, action, account, department, deadline)
are shared by all entries, and one entry's equal timestamps are one string; words that
recur across entries (a step's note, a summary) are shared through a bounded cache. A
step's who, what, from and to are one shared tuple in one slot. The dispatch's dicts
(`extension`, `proposal`, a last step's `before`) are slotted classes of their own.

An entry reads like the dict it replaces (`entry["lead"]`, `entry.get`, `dict(entry)`,
`{**entry}`, and `entry.history` in a template) and compares equal to it. Lists come
back as tuples, and nothing changes in place: a reader in another thread may hold the
same entry. A writer builds a new dict (`triage.apply`, a merge in the views) and the
triage book freezes it when it stores it. `thaw` gives back the JSON-shaped dict, key
for key and in the same order, so a compacted log says byte for byte what it said
before. Keys this code does not know (from a log written by another version) are kept
in order, in a dict of their own.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from typing import Any

from sync_server.triage import new_entry

__all__ = ["HistoryStep", "TriageEntry", "freeze", "thaw"]

# A field with no default: always given a slot.
_REQUIRED = object()
_UNKNOWN = object()
# Past this many shapes of one kind a new shape slots every field it has, so the number
# of classes follows the number of key orders, not the combinations of values.
_MAX_SHAPES = 512
# Strings met while freezing, shared across entries: the words of a step ("请尽快签收"), a
# summary, a deadline repeat over thousands of entries. Bounded and cleared when full, so
# text written once costs nothing here once the log is read.
_STRINGS: dict[str, str] = {}
_MAX_STRINGS = 8192
_HEADS: dict[tuple[Any, ...], tuple[Any, ...]] = {}


class _Frozen(Mapping):
    """A read-only mapping whose class records its shape (`_keys`, in order) and the
    defaults of the known fields it does not slot."""

    __slots__ = ()
    _keys: tuple[Any, ...] = ()
    _known: frozenset[str] = frozenset()
    _slotted: tuple[str, ...] = ()
    _setters: tuple[Any, ...] = ()  # the slots' own setters: `__setattr__` refuses
    _extra: dict[Any, Any] | None = None  # a slot on shapes with unknown keys
    _kind: str = "value"

    def __getitem__(self, key: Any) -> Any:
        if key in self._known:
            return getattr(self, key)
        extra = self._extra
        if extra is not None and key in extra:
            return extra[key]
        raise KeyError(key)

    def get(self, key: Any, default: Any = None) -> Any:
        if key in self._known:
            return getattr(self, key)
        extra = self._extra
        return extra.get(key, default) if extra is not None else default

    def __contains__(self, key: Any) -> bool:
        return key in self._known or (self._extra is not None and key in self._extra)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._keys)

    def __len__(self) -> int:
        return len(self._keys)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return other is self or thaw(self) == thaw(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # equal to a dict, so unhashable like one

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"a stored {type(self).__name__} is read-only: build a new dict and store it")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"a stored {type(self).__name__} is read-only")

    def __copy__(self) -> _Frozen:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> _Frozen:
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._kind, thaw(self)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({thaw(self)!r})"


class TriageEntry(_Frozen):
    """A stored triage entry (see `triage.new_entry` for its fields)."""

    __slots__ = ()
    _kind = "entry"


class HistoryStep(_Frozen):
    """One step of an entry's history: at, by, by_display, action, from, to, note (and
    merged_id on the record a duplicate was merged into; department, from_department on
    a dispatch; before, what the step changed; undid on a 撤回)."""

    __slots__ = ()
    _kind = "step"


class _Kind:
    """How to freeze one kind of mapping: its known fields with their defaults, the
    fields whose strings are shared, the fields that hold lists of another kind."""

    def __init__(self, base: type[_Frozen], defaults: dict[str, Any], shared: frozenset[str],
                 children: dict[str, _Kind] | None = None, open_: bool = False, group: tuple[str, ...] = ()) -> None:
        self.base = base
        self.defaults = defaults
        self.shared = shared
        self.children = children or {}
        # An open kind (a value of unknown shape) slots every key that can name a slot.
        self.open = open_
        # Fields read through one shared tuple (a step's who, what, from and to): a
        # hundred thousand steps hold a few hundred such tuples, one slot each.
        self.group = group
        self._shapes: dict[tuple[Any, ...], type[_Frozen]] = {}

    def freeze(self, data: Mapping[Any, Any], seen: dict[str, str] | None = None) -> _Frozen:
        # Written for speed: the server freezes every entry of the log at start.
        if seen is None:
            seen = _STRINGS
            if len(seen) > _MAX_STRINGS:
                seen.clear()
        defaults, shared = self.defaults, self.shared
        slotted: list[str] = []
        values: list[Any] = []
        extra: dict[Any, Any] | None = None
        group = self.group
        head: dict[str, str] | None = {} if group else None
        for key, value in data.items():
            default = defaults.get(key, _UNKNOWN)
            if default is _UNKNOWN and self.open and _slot_name(key):
                default = _REQUIRED
            if value is default:  # most fields: None, False and "" are single objects
                continue
            if default is _UNKNOWN:
                if extra is None:
                    extra = {}
                extra[key] = _freeze_value(value, seen)
                continue
            kind = type(value)
            if kind is str:
                if head is not None and key in group:
                    head[key] = sys.intern(value)
                    continue
                value = sys.intern(value) if key in shared else seen.setdefault(value, value)
            elif value is not None and kind is not bool and kind is not int and kind is not float:
                value = self._member(key, value, seen)
                kind = type(value)
            # A default is read from the class; by type too: 0 is not False, None is not "".
            if kind is type(default) and value == default:
                continue
            slotted.append(key)
            values.append(value)
        grouped: tuple[str, ...] = ()
        if head:
            grouped = tuple(head)
            values_ = tuple(head.get(k) for k in group)
            slotted.append("_head")
            values.append(_HEADS.setdefault(values_, values_) if len(_HEADS) < _MAX_STRINGS else values_)
        return self._build(self._shape(tuple(data), tuple(slotted), grouped), slotted, values, extra)

    def _member(self, key: str, value: Any, seen: dict[str, str]) -> Any:
        # A list or dict, frozen by the kind made for it if there is one.
        child = self.children.get(key)
        if child is None:
            return _freeze_value(value, seen)
        if type(value) is dict:
            return child.freeze(value, seen)
        if type(value) in (list, tuple):
            return tuple(child.freeze(v, seen) if type(v) is dict else _freeze_value(v, seen) for v in value)
        return _freeze_value(value, seen)

    def _build(self, cls: type[_Frozen], slotted: list[str], values: list[Any], extra: dict[Any, Any] | None) -> _Frozen:
        entry = object.__new__(cls)
        if len(cls._slotted) == len(slotted):
            for put, value in zip(cls._setters, values, strict=True):
                put(entry, value)
        else:  # a capped shape slots its defaults too
            given = dict(zip(slotted, values, strict=True))
            for put, key in zip(cls._setters, cls._slotted, strict=True):
                put(entry, given[key] if key in given else self.defaults[key])
        if extra is not None:
            object.__setattr__(entry, "_extra", extra)
        return entry

    def _shape(self, keys: tuple[Any, ...], slotted: tuple[str, ...], grouped: tuple[str, ...] = ()) -> type[_Frozen]:
        cls = self._shapes.get((keys, slotted, grouped))
        if cls is not None:
            return cls
        known = frozenset(k for k in keys if k in self.defaults or (self.open and _slot_name(k)))
        if len(self._shapes) >= _MAX_SHAPES:
            slotted = tuple(k for k in keys if k in known and k not in grouped) + (("_head",) if grouped else ())
            cls = self._shapes.get((keys, slotted, grouped))
            if cls is not None:
                return cls
        namespace: dict[str, Any] = {
            "__slots__": slotted + (("_extra",) if len(known) < len(keys) else ()),
            "_keys": keys, "_known": known, "_slotted": slotted,
            # The defaults this shape does not slot are read from the class.
            **{k: self.defaults[k] for k in known if k not in slotted and k not in grouped and k in self.defaults},
            **{k: property(itemgetter_at(self.group.index(k))) for k in grouped},
            "__module__": __name__,
        }
        cls = type(self.base.__name__, (self.base,), namespace)
        cls._setters = tuple(cls.__dict__[k].__set__ for k in slotted)
        self._shapes[(keys, slotted, grouped)] = cls
        return cls


def _freeze_value(value: Any, seen: dict[str, str]) -> Any:
    if type(value) is str:
        # One entry's timestamps are mostly the same instant: keep one string.
        return seen.setdefault(value, value)
    if isinstance(value, _Frozen):
        return value
    if isinstance(value, Mapping):
        return _VALUE.freeze(value, seen)
    if isinstance(value, (list, tuple)):
        return tuple(_freeze_value(v, seen) for v in value)
    return value


def itemgetter_at(index: int) -> Any:
    def read(step: _Frozen) -> Any:
        return step._head[index]  # type: ignore[attr-defined]
    return read


def _slot_name(key: Any) -> bool:
    # Not a name the mapping itself uses (`get`, `items`, `_keys`...).
    return type(key) is str and key.isidentifier() and not key.startswith("_") and not hasattr(_Frozen, key)


def _defaults(fields: dict[str, Any]) -> dict[str, Any]:
    # Lists are stored as tuples, so their defaults are tuples too.
    return {k: tuple(v) if isinstance(v, list) else v for k, v in fields.items()}


_VALUE = _Kind(_Frozen, {}, frozenset(), open_=True)
# A 延期 asked for and a 办结 proposed (see dispatch.rules).
_EXTENSION = _Kind(_Frozen, {"deadline": _REQUIRED, "reason": "", "by": _REQUIRED, "at": _REQUIRED},
                   shared=frozenset({"deadline", "by"}))
_PROPOSAL = _Kind(_Frozen, {"outcome": _REQUIRED, "result": "", "public_reply": "", "by": _REQUIRED, "at": _REQUIRED},
                  shared=frozenset({"outcome", "by"}))
_ENTRY_DEFAULTS = _defaults(new_entry(""))
_ENTRY_SHARED = frozenset({"status", "outcome", "track", "lead", "responsible", "deadline", "satisfaction_after",
                           "department", "returned_by"})
_DISPATCH = {"extension": _EXTENSION, "proposal": _PROPOSAL}
# A last step's `before`: the entry fields it changed, with the entry's defaults.
_BEFORE = _Kind(_Frozen, _ENTRY_DEFAULTS, _ENTRY_SHARED, children=_DISPATCH, open_=True)
_STEP = _Kind(HistoryStep, {"at": _REQUIRED, "by": _REQUIRED, "by_display": "", "action": _REQUIRED,
                            "from": _REQUIRED, "to": _REQUIRED, "note": "", "department": "", "from_department": "",
                            "merged_id": None, "before": None, "undid": None},
              shared=frozenset({"by", "by_display", "action", "from", "to", "department", "from_department"}),
              children={"before": _BEFORE}, group=("by", "by_display", "action", "from", "to"))
# Dispatch fields (`department`, `extension`, `proposal`, ...) take a slot only on the
# matters dispatched.
_ENTRY = _Kind(TriageEntry, {**_ENTRY_DEFAULTS, "updated_at": _REQUIRED}, shared=_ENTRY_SHARED,
               children={"history": _STEP, **_DISPATCH})
_KINDS = {"value": _VALUE, "step": _STEP, "entry": _ENTRY}


def freeze(entry: Mapping[str, Any]) -> TriageEntry:
    """The compact, read-only form of a triage entry (a stored one is returned as is)."""
    if isinstance(entry, TriageEntry):
        return entry
    return _ENTRY.freeze(entry)  # type: ignore[return-value]


def thaw(value: Any) -> Any:
    """Plain JSON-shaped data again: dicts and lists, keys in their order."""
    if isinstance(value, Mapping):
        return {k: thaw(value[k]) for k in value}
    if isinstance(value, (list, tuple)):
        return [thaw(v) for v in value]
    return value


def _rebuild(kind: str, data: dict[str, Any]) -> _Frozen:
    return _KINDS[kind].freeze(data)
