"""Rules a labels table's rows must keep: no overlapping intervals of different labels (one label per frame),
and for multi-label tables (characters), one character per row and a none label that overlaps no character."""

from __future__ import annotations

import re

from featurestore.errors import LabelsInvalid

from .table import INTERVAL_KINDS, TIME_TOLERANCE_S, LabelRow, places

_SEVERAL = re.compile(r"[+,;|&]")  # "tom+jerry" in one label: multi-label wants one line per character
TOGETHER = "together"  # what multi-label tables call the time several characters are on screen at once
_NONE_WORDS = ("none", "nobody", "no one", "nothing", "empty", "background", "neither")


def check_overlaps(name: str, rows: list[LabelRow]) -> None:
    # Sweep in start order against the interval reaching furthest: finds any overlap of different labels.
    for intervals in _by_video(rows):
        reach = intervals[0]
        for r in intervals[1:]:
            if r.start_s < reach.end_s - TIME_TOLERANCE_S and r.label != reach.label:
                raise LabelsInvalid(
                    f"{name} {places(reach, r)} overlap ({reach.start_s:g}-{reach.end_s:g} s {reach.label!r}, "
                    f"{r.start_s:g}-{r.end_s:g} s {r.label!r}) in {r.video!r}; make them meet end to start, "
                    "or pass --multi-label if both are on screen then"
                )
            if r.end_s > reach.end_s:
                reach = r


def check_character_name(name: str, r: LabelRow, none_label: str) -> None:
    """Multi-label: one character per row, not named `TOGETHER`, and the none label spelt as --none-label says."""
    if r.label.casefold() == TOGETHER and r.label != none_label:
        raise LabelsInvalid(f"{name} {r.place}: a character called {r.label!r} would be mistaken for the time characters "
                            f"share the screen, which compare-models and score show as {TOGETHER!r}; rename the character")
    if r.label != none_label and r.label.casefold() == none_label.casefold():
        raise LabelsInvalid(f"{name} {r.place}: label {r.label!r} differs from the none label {none_label!r} only in case; "
                            f"write {none_label!r} (or pass --none-label {r.label})")
    several = _SEVERAL.search(r.label)
    if several:
        raise LabelsInvalid(f"{name} {r.place}: label {r.label!r} names several characters; write one line per "
                            "character per interval (the same start and end twice, one label each), or, for one name "
                            f"(O'Brien, Conan), write it without the {several.group()!r}")


def check_none_label_used(name: str, rows: list[LabelRow], none_label: str) -> None:
    """Multi-label: 'none' written for the none label would silently become a character; refuse it."""
    labels = {r.label for r in rows}
    if none_label in labels:
        return
    guess = next((r for r in rows if r.label.casefold() in _NONE_WORDS), None)
    if guess is not None:
        raise LabelsInvalid(f"{name} {guess.place}: label {guess.label!r} looks like 'no character on screen', but the "
                            f"none label is {none_label!r} (not in the file); pass --none-label {guess.label} "
                            f"(or rename it if {guess.label!r} is a character)")


def check_none_overlaps(name: str, rows: list[LabelRow], none_label: str) -> None:
    """Multi-label: a none interval may not overlap a character's (characters may overlap each other)."""
    for intervals in _by_video(rows):
        reach: dict[bool, LabelRow] = {}  # is none -> the interval of that kind reaching furthest so far
        for r in intervals:
            is_none = r.label == none_label
            other = reach.get(not is_none)
            if other is not None and r.start_s < other.end_s - TIME_TOLERANCE_S:
                character, nothing = (other, r) if is_none else (r, other)
                raise LabelsInvalid(
                    f"{name} {places(other, r)} overlap ({other.start_s:g}-{other.end_s:g} s {other.label!r}, "
                    f"{r.start_s:g}-{r.end_s:g} s {r.label!r}) in {r.video!r}, but {none_label!r} says no character is on "
                    f"screen; end the {none_label!r} interval ({nothing.place}) where {character.label!r} appears"
                )
            if r.end_s > (reach[is_none].end_s if is_none in reach else -1.0):
                reach[is_none] = r


def check_table(name: str, kind: str, rows: list[LabelRow], multi_label: bool, none_label: str) -> None:
    """Every rule above that a table of this `kind` keeps (rows in seconds)."""
    if multi_label:
        for r in rows:
            check_character_name(name, r, none_label)
        check_none_label_used(name, rows, none_label)
        if kind in INTERVAL_KINDS:
            check_none_overlaps(name, rows, none_label)
    elif kind in INTERVAL_KINDS:
        check_overlaps(name, rows)


def _by_video(rows: list[LabelRow]) -> list[list[LabelRow]]:
    """Each video's rows, in start order (then line order)."""
    by_video: dict[str, list[LabelRow]] = {}
    for r in rows:
        by_video.setdefault(r.video, []).append(r)
    return [sorted(intervals, key=lambda r: (r.start_s, r.line)) for intervals in by_video.values()]
