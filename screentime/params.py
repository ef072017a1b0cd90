"""The Python API's parameters checked at the door, before any work: a value of the wrong type is refused as
`InvalidParameterType` (an `InvalidParameter` that is also a TypeError), one out of range as `InvalidParameter` (a
ValueError), each naming the parameter as the caller wrote it (``score(fps='fast')`` -> 'fps: ...').

Each check returns the value as the library takes it (paths as given, numbers as int or float).
"""

from __future__ import annotations

import math
import os
from numbers import Integral, Real

from featurestore.errors import InvalidParameter, InvalidParameterType, quoted

PathLike = str | os.PathLike


def _is_path(value) -> bool:
    return isinstance(value, (str, os.PathLike)) and bool(os.fspath(value))


def path(param: str, value, *, optional: bool = False):
    """A file's path (str or os.PathLike, not empty); None too if `optional`."""
    if value is None and optional:
        return None
    if not isinstance(value, (str, os.PathLike)) or isinstance(os.fspath(value), bytes):
        raise InvalidParameterType(param, f"must be a path (str or pathlib.Path), got {quoted(value)}")
    if not os.fspath(value):
        raise InvalidParameter(param, "is an empty path")
    return value


def paths(param: str, value, *, what: str = "video") -> list:
    """One path, or a list (or other sequence) of at least one path."""
    if isinstance(value, (str, os.PathLike)):
        items = [value]
    elif isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, (bytes, dict, set))):
        items = list(value)
    else:
        raise InvalidParameterType(param, f"must be a path or a list of paths, got {quoted(value)}")
    if not items:
        raise InvalidParameter(param, f"is empty; give at least one {what} (a file, or a folder of them)")
    for k, item in enumerate(items):
        if not _is_path(item) or isinstance(os.fspath(item), bytes):
            raise InvalidParameterType(param, f"item {k} is {quoted(item)}, not a path (str or pathlib.Path)")
    return items


def number(param: str, value, *, low: float, high: float = math.inf, integer: bool = False, above_low: bool = False,
           below_high: bool = False, optional: bool = False):
    """A number (an int if `integer`) in [low, high] (open at `low` if `above_low`, at `high` if `below_high`), not a
    bool and not text."""
    if value is None and optional:
        return None
    kind = Integral if integer else Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise InvalidParameterType(param, f"must be {'a whole number' if integer else 'a number'}, got {quoted(value)}")
    try:
        inside = math.isfinite(value) and (value > low if above_low else value >= low) and \
            (value < high if below_high else value <= high)
    except OverflowError:
        inside = False
    if not inside:
        bounds = f"{'above' if above_low else 'at least'} {low:g}" + \
            (f" and {'below' if below_high else 'at most'} {high:g}" if high < math.inf else "")
        raise InvalidParameter(param, f"must be {bounds}, got {quoted(value)}")
    return int(value) if integer else float(value)


def flag(param: str, value) -> bool:
    """True or False (not 'yes', not 1)."""
    if not isinstance(value, bool):
        raise InvalidParameterType(param, f"must be True or False, got {quoted(value)}")
    return value


def text(param: str, value, *, optional: bool = False) -> str | None:
    """A str (None too if `optional`); the library says which words it takes."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise InvalidParameterType(param, f"must be a str, got {quoted(value)}")
    return value


def texts(param: str, value, *, optional: bool = False, one: bool = False, empty: bool = True) -> list[str] | str | None:
    """A list of str (or one str if `one`: 'logreg,svm' as the command line takes it); None too if `optional`;
    an empty list refused unless `empty` (where None means all, [] would read as all too)."""
    if value is None and optional:
        return None
    if one and isinstance(value, str):
        return value
    if not isinstance(value, (list, tuple)):
        raise InvalidParameterType(param, f"must be a list of str, got {quoted(value)}")
    for k, item in enumerate(value):
        if not isinstance(item, str):
            raise InvalidParameterType(param, f"item {k} is {quoted(item)}, not a str")
    if not value and not empty:
        raise InvalidParameter(param, "is empty; give at least one, or leave it out (None) for all")
    return list(value)
