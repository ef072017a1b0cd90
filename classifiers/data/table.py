"""A parsed labels file: its rows (intervals or points, with where each came from) and how to read them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from .timecode import FrameTime

TIME_TOLERANCE_S = 1e-6  # grid times are k / fps; a labels file writes them rounded
NONE_LABEL = "neither"  # multi-label: the label saying that no character is on screen (--none-label)
INTERVAL_KINDS = ("intervals", "label-studio", "cvat")  # tables of [start, end) rows, not points


@dataclass(frozen=True)
class LabelRow:
    """One row of a labels file: an interval [start_s, end_s), or a point (end_s is None).

    A time counted in video frames (SMPTE hh:mm:ss:ff, a Label Studio range, a CVAT track) is kept as
    `start_at` / `end_at` until the join knows the video's frame rate (`classifiers.data.resolve`);
    `start_s` / `end_s` are then 0 and NaN placeholders. `fps` is the rate the file itself gives for its
    frames (a Label Studio task's ``fps``), else the stored video's rate is used.
    """

    video: str
    start_s: float
    end_s: float | None
    label: str
    line: int  # the line of a CSV; for other files, the row's rank in the file (order and messages)
    where: str = ""  # 'task 3, frames 1-20' for files without lines; '' means 'line {line}'
    start_at: FrameTime | None = None
    end_at: FrameTime | None = None
    fps: float | None = None

    @property
    def place(self) -> str:
        """Where the row is in its file, for messages: 'line 3', or 'task 3, frames 1-20'."""
        return self.where or f"line {self.line}"

    @property
    def is_resolved(self) -> bool:
        """Whether both times are seconds already (no frame counts waiting for a frame rate)."""
        return self.start_at is None and self.end_at is None

    def at_fps(self, fps: float) -> "LabelRow":
        """This row with its frame counts turned into seconds at `fps` (this row's own `fps` first)."""
        rate = self.fps or fps
        start_s = self.start_at.to_seconds(rate) if self.start_at is not None else self.start_s
        end_s = self.end_at.to_seconds(rate) if self.end_at is not None else self.end_s
        return replace(self, start_s=start_s, end_s=end_s, start_at=None, end_at=None)


def first_items(items: list[str], n: int = 3) -> str:
    """'a, b, c and 2 more': the first `n` of `items`, for messages."""
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def places(*rows: LabelRow) -> str:
    """'lines 2 and 4' for CSV rows, else 'task 3, frames 1-20 and task 3, frames 10-30', for messages."""
    if all(not r.where for r in rows):
        return ("lines " if len(rows) > 1 else "line ") + " and ".join(str(r.line) for r in rows)
    return " and ".join(r.place for r in rows)


@dataclass(frozen=True)
class LabelTable:
    """A parsed, validated labels file, not yet joined to a store.

    With `multi_label`, intervals (or points) of different labels may overlap: a frame's labels are the set
    of characters covering it, and `none_label` says that no character is on screen. A table with rows in
    video frames is checked (overlaps, none label) once the join has turned them into seconds.
    """

    path: Path
    kind: str  # "intervals", "points", "tutorial", "label-studio" or "cvat"
    rows: list[LabelRow]
    multi_label: bool = False
    none_label: str = NONE_LABEL

    @property
    def is_resolved(self) -> bool:
        return all(r.is_resolved for r in self.rows)

    @property
    def refuses_past_end(self) -> bool:
        """Whether a row past its video's end is an error (frames of a labelling tool), not cut there (a CSV)."""
        return self.kind in ("label-studio", "cvat")
