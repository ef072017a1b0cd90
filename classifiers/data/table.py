"""A parsed labels file: its rows (intervals or points, with their line numbers) and how to read them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

TIME_TOLERANCE_S = 1e-6  # grid times are k / fps; a labels file writes them rounded
NONE_LABEL = "neither"  # multi-label: the label saying that no character is on screen (--none-label)


@dataclass(frozen=True)
class LabelRow:
    """One row of a labels file: an interval [start_s, end_s), or a point (end_s is None)."""

    video: str
    start_s: float
    end_s: float | None
    label: str
    line: int


@dataclass(frozen=True)
class LabelTable:
    """A parsed, validated labels file, not yet joined to a store.

    With `multi_label`, intervals (or points) of different labels may overlap: a frame's labels are the set
    of characters covering it, and `none_label` says that no character is on screen.
    """

    path: Path
    kind: str  # "intervals", "points" or "tutorial"
    rows: list[LabelRow]
    multi_label: bool = False
    none_label: str = NONE_LABEL
