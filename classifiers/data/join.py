"""Labels tables joined to a store: one label (or, multi-label, one set of characters) per stored frame.

Labels are joined on each frame's *requested* time (the regular grid k / sample_fps), not on the
presentation time of the decoded frame: the grid is what a user sees in the store and what a labels
file written at "1 frame per second" refers to, and it does not move when a codec shifts a frame.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from featurestore.errors import LabelsInvalid

from .labels import parse_label_files
from .names import differs_in_case, matching_ids, resolve_all, same_name
from .resolve import resolve_table
from .table import NONE_LABEL, TIME_TOLERANCE_S, LabelRow, LabelTable, first_items, places

__all__ = ["Grid", "StoreGrids", "read_labels", "join_labels", "join_label_tables", "labelled_time", "matching_ids"]


@dataclass(frozen=True)
class Grid:
    """Sampling grid of one stored video: `requested_s` of shape (n_frames,), float64, its rate, the video's
    length in seconds and its frame rate (None if unknown; timecodes in frames are read at it)."""

    requested_s: np.ndarray
    sample_fps: float
    duration_s: float | None = None
    fps: float | None = None


class StoreGrids(Mapping):
    """Lazy mapping video_id -> Grid over a FeatureStore; each video is read once and kept in `videos`."""

    def __init__(self, store):
        self.store = store
        self._ids = list(store.video_ids())
        self.videos: dict = {}  # video_id -> VideoFeatures, for callers that need the features too
        self.on_read = None  # called with 1 as each video is read (a progress bar's advance)

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._ids

    def __getitem__(self, video_id: str) -> Grid:
        if video_id not in self._ids:
            raise KeyError(video_id)
        if video_id not in self.videos:
            self.videos[video_id] = self.store.read(video_id)
            if self.on_read is not None:
                self.on_read(1)
        v = self.videos[video_id]
        fps = v.info.get("fps")
        return Grid(np.asarray(v.requested_s, dtype=np.float64), float(v.info["sample_fps"]), float(v.info["duration_s"]),
                    float(fps) if fps else None)

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
        Recognised from the content: a Label Studio JSON export (`classifiers.data.label_studio`), CVAT for
        video 1.1 XML (`classifiers.data.cvat`), or a CSV (comma-, semicolon- or tab-separated, recognised from
        the header line): intervals ``video,start,end,label`` ([start, end)), points ``video,time,label``
        (nearest frame within half a sampling interval), or the tutorial's ``Image_ID,Class`` where
        ``frameN.jpg`` is the frame at N seconds (``frame0.jpg`` is t = 0 s). CSV times are seconds, mm:ss,
        hh:mm:ss or SMPTE hh:mm:ss:ff (at the stored video's frame rate).
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
        When a video name was matched to a stored id by file name or stem (``clipB.mp4`` -> ``clipB.mkv``) or
        ignoring case (``CLIP2.MP4`` -> ``clip2.mp4``),
        when intervals run past their video's end (cut there) or start after it (ignored), and when
        points are not near any stored frame (ignored).
    """
    tables = parse_label_files(labels_path, video=video, classes=classes, multi_label=multi_label, none_label=none_label)
    return join_label_tables(tables, StoreGrids(store), store_name=Path(str(getattr(store, "path", "the store"))).name)


def join_labels(table: LabelTable, grids: Mapping[str, Grid], *, store_name: str = "the store",
                min_classes: int = 2) -> pd.DataFrame:
    """Give each stored frame the label of the interval or point that covers it (see `read_labels`);
    for a multi-label table, the set of characters of the rows that cover it.

    Refuses a file whose frames carry fewer than `min_classes` classes (multi-label: with `min_classes`
    below 2 the per-character checks are skipped; `join_label_tables` checks the union of several files).
    """
    name = table.path.name
    ids = resolve_all(name, table.rows, grids, store_name, folder=table.path.parent)  # all failing names in one message
    table = resolve_table(table, grids, store_name)
    per_video: dict[str, dict[int, tuple[str, LabelRow]]] = {}
    sets: dict[str, dict[int, dict[str, LabelRow]]] = {}  # multi-label: video -> frame -> {label: first row}
    unmatched: list[str] = []  # points no stored frame is near
    matched: dict[str, str] = {}  # name in the file -> stored id, where they differ
    clipped: list[str] = []
    ignored: list[str] = []
    between: list[str] = []  # intervals holding no stored sample
    for r in table.rows:
        video_id = ids[r.video]
        if not same_name(r.video, video_id):
            matched[r.video] = video_id
        grid = grids[video_id]
        assigned = per_video.setdefault(video_id, {})
        if r.end_s is not None:
            hit = np.flatnonzero((grid.requested_s >= r.start_s - TIME_TOLERANCE_S) & (grid.requested_s < r.end_s - TIME_TOLERANCE_S))
            if grid.duration_s is not None and r.end_s > grid.duration_s + 1.0 / grid.sample_fps:
                where = f"{r.place} ({r.start_s:g}-{r.end_s:g} s; {video_id!r} is {grid.duration_s:.1f} s long)"
                (clipped if r.start_s < grid.duration_s else ignored).append(where)
            elif hit.size == 0:  # inside the video, between two samples: shorter than the sampling interval
                between.append(f"{r.place} ({r.start_s:g}-{r.end_s:g} s; {video_id!r} sampled every {1 / grid.sample_fps:g} s)")
        else:
            hit = _nearest(grid, r.start_s)
            if hit.size == 0:
                length = "" if grid.duration_s is None else f"; {video_id!r} is {grid.duration_s:.1f} s long"
                unmatched.append(f"{r.place} ({r.start_s:g} s{length})")
        if table.multi_label:
            on_frame = sets.setdefault(video_id, {})
            for i in hit.tolist():
                labels = on_frame.setdefault(i, {})
                labels.setdefault(r.label, r)
                _check_frame_set(name, table.none_label, labels, grid.requested_s[i], video_id)
            continue
        for i in hit.tolist():
            previous = assigned.setdefault(i, (r.label, r))
            if previous[0] != r.label:
                raise LabelsInvalid(
                    f"{name} {places(previous[1], r)} give the frame at {grid.requested_s[i]:g} s of {video_id!r} "
                    f"two labels ({previous[0]!r}, {r.label!r}); keep one, or pass --multi-label if both are on screen then"
                )
    by_content = {given: stored for given, stored in matched.items() if not matching_ids(given, [stored])}
    by_case = {given: stored for given, stored in matched.items() if given not in by_content and differs_in_case(given, stored)}
    if by_content:
        pairs = [f"{given!r} -> {stored!r}" for given, stored in by_content.items()]
        warnings.warn(f"{name}: matched {len(pairs)} video name{'s' if len(pairs) > 1 else ''} to stored ids by the content of "
                      f"the file {'they name' if len(pairs) > 1 else 'it names'} (renamed, moved or linked since embedding): "
                      f"{first_items(pairs)}; write the stored id to silence this", stacklevel=2)
    if len(matched) > len(by_case) + len(by_content):
        pairs = [f"{given!r} -> {stored!r}" for given, stored in matched.items() if given not in by_case and given not in by_content]
        warnings.warn(f"{name}: matched {len(pairs)} video name{'s' if len(pairs) > 1 else ''} to stored ids by file name: "
                      f"{first_items(pairs)}; write the stored id to silence this", stacklevel=2)
    if by_case:
        pairs = [f"{given!r} -> {stored!r}" for given, stored in by_case.items()]
        warnings.warn(f"{name}: {len(pairs)} video name{'s differ' if len(pairs) > 1 else ' differs'} from the stored id "
                      f"only in case, matched: {first_items(pairs)}; write the stored id to silence this", stacklevel=2)
    if clipped:
        one = len(clipped) == 1
        warnings.warn(f"{name}: {'1 interval runs' if one else f'{len(clipped)} intervals run'} past the end of the video, "
                      f"so only the part inside it is used: {first_items(clipped)}", stacklevel=2)
    if ignored:
        one = len(ignored) == 1
        warnings.warn(f"{name}: {'1 interval starts' if one else f'{len(ignored)} intervals start'} after the video ends "
                      f"and {'labels' if one else 'label'} nothing: {first_items(ignored)}", stacklevel=2)
    if between:
        one = len(between) == 1
        warnings.warn(f"{name}: {'1 interval holds' if one else f'{len(between)} intervals hold'} no stored sample (shorter "
                      f"than the sampling interval), so {'it labels' if one else 'they label'} nothing: "
                      f"{first_items(between)}; embed with a higher --fps to use such short spans", stacklevel=2)
    if unmatched:
        warnings.warn(f"{len(unmatched)} of {len(table.rows)} labelled points in {name} are not within half a sampling "
                      f"interval of a stored frame (past the video's end, or between samples) and were ignored: "
                      f"{first_items(unmatched)}", stacklevel=2)
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
        ids = resolve_all(table.path.name, table.rows, grids, "the store", folder=table.path.parent)  # once a name
        for r in resolve_table(table, grids).rows:
            video_id = ids[r.video]
            if r.end_s is not None:
                spans.setdefault(video_id, []).append((r.start_s, r.end_s))
                continue
            grid = grids[video_id]
            for i in _nearest(grid, r.start_s).tolist():
                t = float(grid.requested_s[i])
                spans.setdefault(video_id, []).append((t, t + 1.0 / grid.sample_fps))
    return spans


def _check_frame_set(name: str, none_label: str, labels: dict[str, LabelRow], time_s: float, video_id: str) -> None:
    """Multi-label: a frame may not be both 'no character' and some character (points, or intervals within tolerance)."""
    if none_label in labels and len(labels) > 1:
        character = next(c for c in labels if c != none_label)
        first, second = sorted((labels[none_label], labels[character]), key=lambda r: r.line)
        raise LabelsInvalid(
            f"{name} {places(first, second)} give the frame at {time_s:g} s of {video_id!r} both {none_label!r} "
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
