"""Labels files (intervals, points, the tutorial's mapping.csv) -> one label per stored frame.

Labels are joined on each frame's *requested* time (the regular grid k / sample_fps), not on the
presentation time of the decoded frame: the grid is what a user sees in the store and what a labels
file written at "1 frame per second" refers to, and it does not move when a codec shifts a frame.
"""

from __future__ import annotations

import codecs
import csv
import re
import warnings
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from featurestore.errors import LabelsInvalid

TIME_TOLERANCE_S = 1e-6  # grid times are k / fps; a labels file writes them rounded
NONE_LABEL = "neither"  # multi-label: the label saying that no character is on screen (--none-label)
_SEVERAL = re.compile(r"[+,;|&]")  # "tom+jerry" in one label: multi-label wants one line per character
_NONE_WORDS = ("none", "nobody", "no one", "nothing", "empty", "background", "neither")
FORMATS = {
    "intervals": ("video", "start", "end", "label"),
    "points": ("video", "time", "label"),
    "tutorial": ("image_id", "class"),
}
_TUTORIAL_NAME = re.compile(r"^frame(\d+)\.(jpe?g|png)$", re.IGNORECASE)


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


@dataclass(frozen=True)
class Grid:
    """Sampling grid of one stored video: `requested_s` of shape (n_frames,), float64, its rate, and the
    video's length in seconds (None if unknown)."""

    requested_s: np.ndarray
    sample_fps: float
    duration_s: float | None = None


class StoreGrids(Mapping):
    """Lazy mapping video_id -> Grid over a FeatureStore; each video is read once and kept in `videos`."""

    def __init__(self, store):
        self.store = store
        self._ids = list(store.video_ids())
        self.videos: dict = {}  # video_id -> VideoFeatures, for callers that need the features too

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._ids

    def __getitem__(self, video_id: str) -> Grid:
        if video_id not in self._ids:
            raise KeyError(video_id)
        if video_id not in self.videos:
            self.videos[video_id] = self.store.read(video_id)
        v = self.videos[video_id]
        return Grid(np.asarray(v.requested_s, dtype=np.float64), float(v.info["sample_fps"]), float(v.info["duration_s"]))

    def __iter__(self):
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def read_labels(labels_path: str | Path, store, *, video: str | None = None, classes: list[str] | None = None,
                multi_label: bool = False, none_label: str = NONE_LABEL) -> pd.DataFrame:
    """Read a labels file and give a label (or, with `multi_label`, a set of characters) to each stored frame it covers.

    Parameters
    ----------
    labels_path : path, or sequence of paths (joined as one: `join_label_tables`)
        A CSV (comma-, semicolon- or tab-separated, recognised from the header line).
        Interval CSV ``video,start,end,label`` (seconds, interval [start, end)), point CSV
        ``video,time,label`` (nearest frame within half a sampling interval), or the tutorial's
        ``Image_ID,Class`` where ``frameN.jpg`` is the frame at N seconds (``frame0.jpg`` is t = 0 s).
    store : FeatureStore
        The store whose frames get labels.
    video : str, optional
        Stored video the tutorial format refers to (required for it, refused for the others).
    classes : list of str, optional
        Names of the tutorial's class numbers 0, 1, ...; default ``["0", "1", "2"]``.
    multi_label : bool
        Characters, not classes: intervals (or points) with different labels may overlap, and each says
        that character is on screen then; a frame's labels are those of the rows covering it. Rows labelled
        `none_label` say no character is on screen, and may not overlap a character's. Same-label
        overlaps merge. Not for the tutorial format (one class per frame).
    none_label : str
        With `multi_label`: the label meaning "no character on screen".

    Returns
    -------
    DataFrame with one row per labelled frame, ordered by video then time: ``video_id`` (str),
    ``row`` (int, position in the video's stored arrays), ``requested_s`` (float, seconds), ``label`` (str).
    With `multi_label`, ``labels`` (tuple of str, the sorted characters on screen, empty for `none_label`)
    instead of ``label``.

    Raises
    ------
    LabelsInvalid
        With the file, line and problem, for any malformed or unusable labels file.

    Warns
    -----
    UserWarning
        When a video name was matched to a stored id by file name or stem (``clipB.mp4`` -> ``clipB.mkv``),
        when intervals run past their video's end (cut there) or start after it (ignored), and when
        points are not near any stored frame (ignored).
    """
    tables = parse_label_files(labels_path, video=video, classes=classes, multi_label=multi_label, none_label=none_label)
    return join_label_tables(tables, StoreGrids(store), store_name=Path(str(getattr(store, "path", "the store"))).name)


def parse_label_files(labels_paths, *, video: str | None = None, classes: list[str] | None = None,
                      multi_label: bool = False, none_label: str = NONE_LABEL) -> list[LabelTable]:
    """`parse_labels` of one path or of each of a sequence of paths (at least one)."""
    paths = [labels_paths] if isinstance(labels_paths, (str, PurePath)) else list(labels_paths)
    if not paths:
        raise ValueError("give at least one labels file")
    return [parse_labels(p, video=video, classes=classes, multi_label=multi_label, none_label=none_label) for p in paths]


def _read_text(path: Path) -> str:
    """A labels file's text: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252 (Excel's CSV) with a warning."""
    what = "give the path of a CSV with columns video,start,end,label"
    if path.is_dir():
        raise LabelsInvalid(f"labels file {path} is a folder; {what}")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise LabelsInvalid(f"labels file {path} does not exist; {what}") from None
    except OSError as err:
        raise LabelsInvalid(f"labels file {path} cannot be read ({err.strerror or err}); {what}") from None
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise LabelsInvalid(f"{path.name} starts like UTF-16 text but is not; save it as CSV UTF-8") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[:err.start].count(b"\n") + 1
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise LabelsInvalid(f"{path.name} line {line}: not UTF-8 text (byte {raw[err.start]:#04x}); "
                                "save it as CSV UTF-8") from None
    warnings.warn(f"{path.name} is not UTF-8 text (from line {line}): read it as Windows-1252, as Excel writes CSV; "
                  "save it as CSV UTF-8 to silence this")
    return text


def parse_labels(labels_path: str | Path, *, video: str | None = None, classes: list[str] | None = None,
                 multi_label: bool = False, none_label: str = NONE_LABEL) -> LabelTable:
    """Parse and validate a labels file on its own (formats and options as in `read_labels`)."""
    path = Path(labels_path)
    name = path.name
    text = _read_text(path)
    lines = list(enumerate(csv.reader(text.splitlines(), delimiter=_delimiter(text)), start=1))
    lines = [(n, cells) for n, cells in lines if any(c.strip() for c in cells)]
    if not lines:
        raise LabelsInvalid(f"{name} is empty; write a header line video,start,end,label and one row per interval")
    header = [c.strip().lower() for c in lines[0][1]]
    kind = _detect_format(name, header)
    if kind == "tutorial" and multi_label:
        raise LabelsInvalid(f"{name} is in the tutorial's Image_ID,Class format, one class per frame; --multi-label reads "
                            "video,start,end,label with one line per character per interval (or drop --multi-label)")
    if kind == "tutorial" and video is None:
        raise LabelsInvalid(f"{name} is in the tutorial's Image_ID,Class format; name the stored video it describes with --video")
    if kind != "tutorial" and video is not None:
        raise LabelsInvalid(f"{name} names its videos itself (format {','.join(FORMATS[kind])}); drop --video, which is only for Image_ID,Class files")
    col = {c: header.index(c) for c in FORMATS[kind]}
    if kind != "tutorial":
        unfilled = [line for line, cells in lines[1:] if len(cells) <= col["label"] or not cells[col["label"]].strip()]
        if len(unfilled) > 1:  # e.g. a todo list from suggest-labels, not filled in yet (one empty label: the loop says it)
            raise LabelsInvalid(f"{name} lines {_first([str(n) for n in unfilled], 5)}: label is empty; fill them in "
                                "(one row per label, splitting a span where it changes) or delete those lines")
    class_names = list(classes) if classes is not None else ["0", "1", "2"]
    rows = []
    for line, cells in lines[1:]:
        cells = cells + [""] * (len(header) - len(cells))
        get = lambda c: cells[col[c]].strip()  # noqa: E731
        if kind == "intervals":
            start_s, end_s = _time(name, line, "start", get("start")), _time(name, line, "end", get("end"))
            if end_s <= start_s:
                raise LabelsInvalid(f"{name} line {line}: end {end_s:g} s is not after start {start_s:g} s; intervals are [start, end) with end > start")
            rows.append(LabelRow(_text(name, line, "video", get("video")), start_s, end_s, _text(name, line, "label", get("label")), line))
        elif kind == "points":
            time_s = _time(name, line, "time", get("time"))
            rows.append(LabelRow(_text(name, line, "video", get("video")), time_s, None, _text(name, line, "label", get("label")), line))
        else:
            rows.append(_tutorial_row(name, line, get("image_id"), get("class"), video, class_names))
    if not rows:
        raise LabelsInvalid(f"{name} has a header but no rows; add one line per labelled interval or frame")
    if multi_label:
        for r in rows:
            _check_character_name(name, r, none_label)
        _check_none_label_used(name, rows, none_label)
        if kind == "intervals":
            _check_none_overlaps(name, rows, none_label)
    elif kind == "intervals":
        _check_overlaps(name, rows)
    return LabelTable(path, kind, rows, multi_label, none_label)


def join_labels(table: LabelTable, grids: Mapping[str, Grid], *, store_name: str = "the store",
                min_classes: int = 2) -> pd.DataFrame:
    """Give each stored frame the label of the interval or point that covers it (see `read_labels`);
    for a multi-label table, the set of characters of the rows that cover it.

    Refuses a file whose frames carry fewer than `min_classes` classes (multi-label: with `min_classes`
    below 2 the per-character checks are skipped; `join_label_tables` checks the union of several files).
    """
    name = table.path.name
    per_video: dict[str, dict[int, tuple[str, int]]] = {}
    sets: dict[str, dict[int, dict[str, int]]] = {}  # multi-label: video -> frame -> {label: first line}
    n_unmatched = 0
    matched: dict[str, str] = {}  # name in the file -> stored id, where they differ
    clipped: list[str] = []
    ignored: list[str] = []
    for r in table.rows:
        video_id = _resolve_video(name, r, grids, store_name)
        if video_id != r.video:
            matched[r.video] = video_id
        grid = grids[video_id]
        assigned = per_video.setdefault(video_id, {})
        if r.end_s is not None:
            hit = np.flatnonzero((grid.requested_s >= r.start_s - TIME_TOLERANCE_S) & (grid.requested_s < r.end_s - TIME_TOLERANCE_S))
            if grid.duration_s is not None and r.end_s > grid.duration_s + 1.0 / grid.sample_fps:
                where = f"line {r.line} ({r.start_s:g}-{r.end_s:g} s; {video_id!r} is {grid.duration_s:.1f} s long)"
                (clipped if r.start_s < grid.duration_s else ignored).append(where)
        else:
            hit = _nearest(grid, r.start_s)
            n_unmatched += hit.size == 0
        if table.multi_label:
            on_frame = sets.setdefault(video_id, {})
            for i in hit.tolist():
                labels = on_frame.setdefault(i, {})
                labels.setdefault(r.label, r.line)
                _check_frame_set(name, table.none_label, labels, grid.requested_s[i], video_id)
            continue
        for i in hit.tolist():
            previous = assigned.setdefault(i, (r.label, r.line))
            if previous[0] != r.label:
                raise LabelsInvalid(
                    f"{name} lines {previous[1]} and {r.line} give the frame at {grid.requested_s[i]:g} s of {video_id!r} "
                    f"two labels ({previous[0]!r}, {r.label!r}); keep one, or pass --multi-label if both are on screen then"
                )
    if matched:
        pairs = [f"{given!r} -> {stored!r}" for given, stored in matched.items()]
        warnings.warn(f"{name}: matched {len(pairs)} video name{'s' if len(pairs) > 1 else ''} to stored ids by file name: "
                      f"{_first(pairs)}; write the stored id to silence this", stacklevel=2)
    if clipped:
        one = len(clipped) == 1
        warnings.warn(f"{name}: {'1 interval runs' if one else f'{len(clipped)} intervals run'} past the end of the video, "
                      f"so only the part inside it is used: {_first(clipped)}", stacklevel=2)
    if ignored:
        one = len(ignored) == 1
        warnings.warn(f"{name}: {'1 interval starts' if one else f'{len(ignored)} intervals start'} after the video ends "
                      f"and {'labels' if one else 'label'} nothing: {_first(ignored)}", stacklevel=2)
    if n_unmatched:
        warnings.warn(f"{n_unmatched} of {len(table.rows)} labelled points in {name} are not within half a sampling interval of a stored frame and were ignored", stacklevel=2)
    if table.multi_label:
        return _multi_label_frames(name, table.none_label, sets, grids, store_name, check=min_classes >= 2)
    records = [
        (video_id, i, float(grids[video_id].requested_s[i]), label)
        for video_id, assigned in per_video.items()
        for i, (label, _) in assigned.items()
    ]
    frames = pd.DataFrame(records, columns=["video_id", "row", "requested_s", "label"])
    if frames.empty:
        raise LabelsInvalid(f"no stored frame of {store_name} falls inside a label of {name}; check that times are in seconds and within each video's duration")
    classes = sorted(frames["label"].unique())
    if len(classes) < min_classes:
        raise LabelsInvalid(f"{name} labels {len(frames)} stored frames, all {classes[0]!r}; a classifier needs at least two classes, so label some frames of another class")
    return frames.sort_values(["video_id", "requested_s"], kind="stable").reset_index(drop=True)


def join_label_tables(tables: Sequence[LabelTable], grids: Mapping[str, Grid], *, store_name: str = "the store") -> pd.DataFrame:
    """Join several labels files to a store as one (``--labels L.csv --labels todo.csv``).

    Each file is joined as in `join_labels`; a frame labelled by several files must get the same label
    from each (it is kept once), and the union must hold at least two classes. One file: `join_labels`.

    Returns
    -------
    DataFrame as `read_labels`.

    Raises
    ------
    LabelsInvalid
        Naming the files, video and time where two files disagree.
    """
    if len(tables) == 1:
        return join_labels(tables[0], grids, store_name=store_name)
    if any(t.multi_label for t in tables):
        return _join_multi_label_tables(tables, grids, store_name)
    parts = []
    for table in tables:
        part = join_labels(table, grids, store_name=store_name, min_classes=1)
        parts.append(part.assign(_file=table.path.name))
    frames = pd.concat(parts, ignore_index=True)
    labels_per_frame = frames.groupby(["video_id", "row"])["label"].nunique()
    clashes = labels_per_frame[labels_per_frame > 1]
    if len(clashes):
        video_id, row = clashes.index[0]
        both = frames[(frames.video_id == video_id) & (frames.row == row)].drop_duplicates("label")
        said = ", ".join(f"{f} {label!r}" for f, label in zip(both["_file"], both["label"]))
        raise LabelsInvalid(f"the labels files disagree on the frame at {both['requested_s'].iloc[0]:g} s of {video_id!r} "
                            f"({said}){f' and {len(clashes) - 1} more frames' if len(clashes) > 1 else ''}; keep one label")
    frames = frames.drop_duplicates(["video_id", "row"]).drop(columns="_file")
    classes = sorted(frames["label"].unique())
    if len(classes) < 2:
        names = ", ".join(t.path.name for t in tables)
        raise LabelsInvalid(f"{names} label {len(frames)} stored frames, all {classes[0]!r}; a classifier needs at least two classes, so label some frames of another class")
    return frames.sort_values(["video_id", "requested_s"], kind="stable").reset_index(drop=True)


def _join_multi_label_tables(tables: Sequence[LabelTable], grids: Mapping[str, Grid], store_name: str) -> pd.DataFrame:
    """Several multi-label files as one: a frame's characters are the union of what the files say, and a
    frame one file calls no character (the none label) while another names a character is an error."""
    none_label = tables[0].none_label
    parts = [join_labels(t, grids, store_name=store_name, min_classes=1).assign(_file=t.path.name) for t in tables]
    frames = pd.concat(parts, ignore_index=True)
    frames["_none"] = [len(labels) == 0 for labels in frames["labels"]]
    mixed = frames.groupby(["video_id", "row"])["_none"].nunique()
    clashes = mixed[mixed > 1]
    if len(clashes):
        video_id, row = clashes.index[0]
        both = frames[(frames.video_id == video_id) & (frames.row == row)]
        said = ", ".join(f"{f} {', '.join(labels) or none_label!r}" for f, labels in zip(both["_file"], both["labels"]))
        raise LabelsInvalid(f"the labels files disagree on the frame at {both['requested_s'].iloc[0]:g} s of {video_id!r} "
                            f"({said}){f' and {len(clashes) - 1} more frames' if len(clashes) > 1 else ''}: "
                            f"{none_label!r} means no character is on screen; keep one")
    merged: dict[tuple[str, int], tuple[float, set]] = {}
    for video_id, row, t, labels in zip(frames["video_id"], frames["row"], frames["requested_s"], frames["labels"]):
        merged.setdefault((video_id, int(row)), (float(t), set()))[1].update(labels)
    union = pd.DataFrame([(v, r, t, tuple(sorted(ls))) for (v, r), (t, ls) in merged.items()],
                         columns=["video_id", "row", "requested_s", "labels"])
    _check_multi_label_frames(", ".join(t.path.name for t in tables), none_label, union)
    return union.sort_values(["video_id", "requested_s"], kind="stable").reset_index(drop=True)


def labelled_time(tables: Sequence[LabelTable], grids: Mapping[str, Grid]) -> dict[str, list[tuple[float, float]]]:
    """Time already labelled per stored video: intervals as written, points as their sample's interval.

    Returns
    -------
    dict of video_id -> list of (start_s, end_s), seconds, unsorted and possibly overlapping.
    """
    spans: dict[str, list[tuple[float, float]]] = {}
    for table in tables:
        for r in table.rows:
            video_id = _resolve_video(table.path.name, r, grids, "the store")
            if r.end_s is not None:
                spans.setdefault(video_id, []).append((r.start_s, r.end_s))
                continue
            grid = grids[video_id]
            for i in _nearest(grid, r.start_s).tolist():
                t = float(grid.requested_s[i])
                spans.setdefault(video_id, []).append((t, t + 1.0 / grid.sample_fps))
    return spans


def _first(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (f" and {len(items) - n} more" if len(items) > n else "")


def _delimiter(text: str) -> str:
    """',' unless the header line has no comma but semicolons or tabs (spreadsheets in many locales write ';')."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    if "," not in header:
        for delimiter in (";", "\t"):
            if delimiter in header:
                return delimiter
    return ","


def _detect_format(name: str, header: list[str]) -> str:
    for kind, needed in FORMATS.items():
        if set(needed) <= set(header):
            return kind
    kind, needed = max(FORMATS.items(), key=lambda kv: len(set(kv[1]) & set(header)))
    missing = [c for c in needed if c not in header]
    raise LabelsInvalid(
        f"{name} line 1: header {','.join(header)} lacks column {','.join(missing)}; "
        "use video,start,end,label (intervals), video,time,label (points) or Image_ID,Class (tutorial)"
    )


def _time(name: str, line: int, column: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value):
        hint = " (with a decimal point, not a comma)" if "," in text else ""
        raise LabelsInvalid(f"{name} line {line}: {column} {text!r} is not a number of seconds; write it like 12.5{hint}")
    if value < 0:
        raise LabelsInvalid(f"{name} line {line}: {column} {value:g} s is negative; times count seconds from the start of the video")
    return value


def _text(name: str, line: int, column: str, text: str) -> str:
    if not text:
        raise LabelsInvalid(f"{name} line {line}: {column} is empty; fill it in or delete the line")
    return text


def _tutorial_row(name: str, line: int, image_id: str, class_text: str, video: str, class_names: list[str]) -> LabelRow:
    match = _TUTORIAL_NAME.match(PurePath(image_id).name)
    if match is None:
        raise LabelsInvalid(f"{name} line {line}: Image_ID {image_id!r} is not like frame12.jpg; the tutorial names the frame at N seconds frameN.jpg")
    try:
        number = int(class_text)
    except ValueError:
        number = -1
    if not 0 <= number < len(class_names):
        raise LabelsInvalid(
            f"{name} line {line}: Class {class_text!r} is not one of 0..{len(class_names) - 1}; "
            f"--classes names {len(class_names)} classes ({','.join(class_names)}), add names or fix the row"
        )
    return LabelRow(video, float(match.group(1)), None, class_names[number], line)


def _check_overlaps(name: str, rows: list[LabelRow]) -> None:
    # Sweep in start order against the interval reaching furthest: finds any overlap of different labels.
    by_video: dict[str, list[LabelRow]] = {}
    for r in rows:
        by_video.setdefault(r.video, []).append(r)
    for intervals in by_video.values():
        intervals.sort(key=lambda r: (r.start_s, r.line))
        reach = intervals[0]
        for r in intervals[1:]:
            if r.start_s < reach.end_s - TIME_TOLERANCE_S and r.label != reach.label:
                raise LabelsInvalid(
                    f"{name} lines {reach.line} and {r.line} overlap ({reach.start_s:g}-{reach.end_s:g} s {reach.label!r}, "
                    f"{r.start_s:g}-{r.end_s:g} s {r.label!r}) in {r.video!r}; make them meet end to start, "
                    "or pass --multi-label if both are on screen then"
                )
            if r.end_s > reach.end_s:
                reach = r


def _check_character_name(name: str, r: LabelRow, none_label: str) -> None:
    """Multi-label: one character per row, and the none label spelt as --none-label says."""
    if r.label != none_label and r.label.casefold() == none_label.casefold():
        raise LabelsInvalid(f"{name} line {r.line}: label {r.label!r} differs from the none label {none_label!r} only in case; "
                            f"write {none_label!r} (or pass --none-label {r.label})")
    if _SEVERAL.search(r.label):
        raise LabelsInvalid(f"{name} line {r.line}: label {r.label!r} names several characters; write one line per "
                            "character per interval (the same start and end twice, one label each)")


def _check_none_label_used(name: str, rows: list[LabelRow], none_label: str) -> None:
    """Multi-label: 'none' written for the none label would silently become a character; refuse it."""
    labels = {r.label for r in rows}
    if none_label in labels:
        return
    guess = next((r for r in rows if r.label.casefold() in _NONE_WORDS), None)
    if guess is not None:
        raise LabelsInvalid(f"{name} line {guess.line}: label {guess.label!r} looks like 'no character on screen', but the "
                            f"none label is {none_label!r} (not in the file); pass --none-label {guess.label} "
                            f"(or rename it if {guess.label!r} is a character)")


def _check_none_overlaps(name: str, rows: list[LabelRow], none_label: str) -> None:
    """Multi-label: a none interval may not overlap a character's (characters may overlap each other)."""
    by_video: dict[str, list[LabelRow]] = {}
    for r in rows:
        by_video.setdefault(r.video, []).append(r)
    for intervals in by_video.values():
        intervals.sort(key=lambda r: (r.start_s, r.line))
        reach: dict[bool, LabelRow] = {}  # is none -> the interval of that kind reaching furthest so far
        for r in intervals:
            is_none = r.label == none_label
            other = reach.get(not is_none)
            if other is not None and r.start_s < other.end_s - TIME_TOLERANCE_S:
                character, nothing = (other, r) if is_none else (r, other)
                raise LabelsInvalid(
                    f"{name} lines {other.line} and {r.line} overlap ({other.start_s:g}-{other.end_s:g} s {other.label!r}, "
                    f"{r.start_s:g}-{r.end_s:g} s {r.label!r}) in {r.video!r}, but {none_label!r} says no character is on "
                    f"screen; end the {none_label!r} interval (line {nothing.line}) where {character.label!r} appears"
                )
            if r.end_s > (reach[is_none].end_s if is_none in reach else -1.0):
                reach[is_none] = r


def _check_frame_set(name: str, none_label: str, labels: dict[str, int], time_s: float, video_id: str) -> None:
    """Multi-label: a frame may not be both 'no character' and some character (points, or intervals within tolerance)."""
    if none_label in labels and len(labels) > 1:
        character = next(c for c in labels if c != none_label)
        first, second = sorted((labels[none_label], labels[character]))
        raise LabelsInvalid(
            f"{name} lines {first} and {second} give the frame at {time_s:g} s of {video_id!r} both {none_label!r} "
            f"(no character on screen) and {character!r}; keep one"
        )


def _multi_label_frames(name: str, none_label: str, sets: dict, grids: Mapping[str, Grid], store_name: str,
                        check: bool = True) -> pd.DataFrame:
    """Multi-label frames, checked (unless not `check`): at least one character, each both on and off screen."""
    records = [
        (video_id, i, float(grids[video_id].requested_s[i]), tuple(sorted(c for c in labels if c != none_label)))
        for video_id, on_frame in sets.items()
        for i, labels in on_frame.items()
    ]
    frames = pd.DataFrame(records, columns=["video_id", "row", "requested_s", "labels"])
    if frames.empty:
        raise LabelsInvalid(f"no stored frame of {store_name} falls inside a label of {name}; check that times are in seconds and within each video's duration")
    if check:
        _check_multi_label_frames(name, none_label, frames)
    return frames.sort_values(["video_id", "requested_s"], kind="stable").reset_index(drop=True)


def _check_multi_label_frames(name: str, none_label: str, frames: pd.DataFrame) -> None:
    """At least one character, each both on and off screen in some labelled frame."""
    characters = sorted({c for labels in frames["labels"] for c in labels})
    if not characters:
        raise LabelsInvalid(f"{name} labels {len(frames)} stored frames, all {none_label!r} (no character on screen); "
                            "label the intervals where each character is on screen too")
    for c in characters:
        n_on = int(sum(c in labels for labels in frames["labels"]))
        if n_on == len(frames):
            raise LabelsInvalid(f"{name}: {c!r} is on screen in all {len(frames)} labelled frames; a classifier needs frames "
                                f"without it too, so label some intervals where it is not on screen (other characters, or {none_label!r})")


def matching_ids(name: str, stored: Iterable[str]) -> list[str]:
    """Stored ids a user's `name` may mean: itself, else those with its file name, else those with its stem.

    `clipB.mp4` matches a stored `/data/clipB.mp4` before a stored `clipB.mkv`; one match is an answer, several are
    ambiguous and none is absent (the caller says which).
    """
    stored = list(stored)
    if name in stored:
        return [name]
    wanted = PurePath(name)
    return ([v for v in stored if PurePath(v).name == wanted.name]
            or [v for v in stored if PurePath(v).stem == wanted.stem])


def _resolve_video(name: str, r: LabelRow, grids: Mapping[str, Grid], store_name: str) -> str:
    """Match a video named in a labels file to a stored id (see `matching_ids`)."""
    matches = matching_ids(r.video, grids)
    if len(matches) == 1:
        return matches[0]
    stored = ", ".join(sorted(grids)[:5]) + (", ..." if len(grids) > 5 else "") or "none"
    if matches:
        raise LabelsInvalid(f"{name} line {r.line}: video {r.video!r} could be any of {', '.join(sorted(matches)[:5])} "
                            f"in {store_name}; name it as stored")
    raise LabelsInvalid(f"{name} line {r.line}: video {r.video!r} is not in {store_name} (stored: {stored}); embed it first or fix the name")


def _nearest(grid: Grid, time_s: float) -> np.ndarray:
    """Index (0 or 1 of them) of the stored frame nearest `time_s`, if within half a sampling interval."""
    t = grid.requested_s
    if t.size == 0:
        return np.array([], dtype=int)
    j = int(np.clip(np.searchsorted(t, time_s), 1, t.size - 1)) if t.size > 1 else 0
    if t.size > 1 and abs(t[j - 1] - time_s) <= abs(t[j] - time_s):
        j -= 1
    if abs(t[j] - time_s) > 0.5 / grid.sample_fps + TIME_TOLERANCE_S:
        return np.array([], dtype=int)
    return np.array([j])
