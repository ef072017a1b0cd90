"""Values of outside files read strictly: whole numbers and names within bounds, JSON without unreadable numbers
or deep nesting, files within a size. A value that breaks a rule raises a `ValueError` saying the rule (a phrase
that follows the value's name: ``stop_frame`` + ``'end' is not a whole number from 0 to 1000000000``); each
reader turns it into a `LabelsInvalid` naming the file and the place (line, task, annotation, track, frame).
"""

from __future__ import annotations

import json
import math
import re
import unicodedata

from featurestore.errors import quoted

MAX_FILE_BYTES = 128 * 2**20  # a labels file; a year of 1-second rows is 31.5 M rows, far less than this in JSON
MAX_FRAME = 10**9  # frame numbers: over a day of 10,000 fps video
MAX_FPS = 1000.0
MAX_LABEL_CHARS = 200
MAX_NAME_CHARS = 1024  # a video's name may be a path
MAX_DEPTH = 64  # JSON nesting; a Label Studio export is about 8 deep
MAX_DIGITS = 15  # of a JSON integer: beyond it no frame number or id is meant
_WHOLE = re.compile(r"[+-]?[0-9]{1,15}", re.ASCII)

#: What a spreadsheet runs as a formula at a text cell's start: our CSVs put a ' before it (output/cells.py),
#: and the labels reader takes that quote off again.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def unquoted(text: str) -> str:
    """A cell's `text`, stripped, without the quote our CSVs put before a cell a spreadsheet would run."""
    text = text.strip()
    return text[1:] if text[:1] == "'" and text[1:].lstrip(" ").startswith(FORMULA_STARTS) else text


class Unreadable:
    """A JSON number no field can hold: over `MAX_DIGITS` digits, not finite (1e400), NaN or Infinity. Fields that
    need a number refuse it by its type; fields nobody reads keep it harmlessly."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        digits = sum(c.isdigit() for c in self.text)
        return f"{self.text[:12]}... ({digits} digits)" if len(self.text) > 24 else self.text


def whole_number(value, *, low: int = 0, high: int = MAX_FRAME) -> int:
    """`value` (an int, or text of at most 15 ASCII digits) as an int in [low, high].

    Raises
    ------
    ValueError
        '<value> is not a whole number from <low> to <high>' (bools, floats, '8_4', '١٢' and 10**400 included).
    """
    number = value
    if isinstance(value, str) and _WHOLE.fullmatch(value.strip()):
        number = int(value.strip())
    if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
        raise ValueError(f"{quoted(value)} is not a whole number from {low} to {high}")
    return number


def checked_name(value, *, limit: int = MAX_LABEL_CHARS) -> str:
    """`value` stripped and in Unicode's composed form (NFC: the 'ë' macOS writes as 'e' + '¨' is one 'ë', so one name
    is one label), as the name of a label or a video: text, not empty, at most `limit` characters, and without
    control characters (a newline in a name would end up inside subtitles, CSV cells and messages).

    Raises
    ------
    ValueError
        '<value> is not text' / 'is empty' / 'is N characters long, more than <limit>' / 'holds a control character'.
    """
    if not isinstance(value, str):
        raise ValueError(f"{quoted(value)} is not text")
    text = unicodedata.normalize("NFC", value.strip())
    if not text:
        raise ValueError("is empty")
    if len(text) > limit:
        raise ValueError(f"{quoted(text, 30)} is {len(text)} characters long, more than {limit}")
    bad = next((c for c in text if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp")), None)
    if bad is not None:
        raise ValueError(f"{quoted(text)} holds the control character {bad!r}; names are one line of printable text")
    return text


def positive_rate(value, *, high: float = MAX_FPS) -> float:
    """`value` (a number, or its text) as frames per second in (0, high]; ValueError saying the rule otherwise."""
    rate = float("nan")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        rate = float(value)
    elif isinstance(value, str) and re.fullmatch(r"[0-9]{1,6}(\.[0-9]{0,15})?", value.strip(), re.ASCII):
        rate = float(value.strip())
    if not (math.isfinite(rate) and 0 < rate <= high):
        raise ValueError(f"{quoted(value)} is not a frame rate (a number of frames per second above 0, at most {high:g})")
    return rate


def json_depth(doc, limit: int = MAX_DEPTH) -> int:
    """How deep `doc` (parsed JSON) nests lists and dicts, counted up to `limit` + 1; iterative, so never a
    RecursionError however deep."""
    deepest, todo = 0, [(doc, 1)]
    while todo:
        node, depth = todo.pop()
        if isinstance(node, (list, dict)):
            if depth > limit:
                return depth
            deepest = max(deepest, depth)
            todo.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def load_json(text: str):
    """The JSON document `text`, its integers over `MAX_DIGITS` digits and its non-finite numbers (1e400, NaN,
    Infinity) read as `Unreadable` values (refused by the fields that need numbers, naming their place).

    Raises
    ------
    json.JSONDecodeError
        Not JSON (with its line).
    ValueError
        'is nested more than 64 levels deep'.
    """
    try:
        doc = json.loads(text, parse_int=_int, parse_float=_float, parse_constant=Unreadable)
        too_deep = json_depth(doc) > MAX_DEPTH
    except RecursionError:  # the C reader counts its depth against Python's recursion limit (about 1000)
        too_deep = True
    if too_deep:
        raise ValueError(f"is nested more than {MAX_DEPTH} levels deep")
    return doc


def _int(text: str):
    return int(text) if len(text.lstrip("-")) <= MAX_DIGITS else Unreadable(text)


def _float(text: str):
    value = float(text)
    return value if math.isfinite(value) else Unreadable(text)
