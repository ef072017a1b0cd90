"""Labels that say which face is whose (issue 24): boxes drawn in Label Studio or CVAT, or a name per track.

- Label Studio's JSON export of video tasks labelled with ``VideoRectangle`` + ``Labels``: each ``videorectangle``
  result is one person's box over time, ``value.sequence`` its keyframes (frames from 1; x, y, width, height in % of
  the frame) and ``value.labels`` its name. As Label Studio draws it (its editor's ``isInLifespan`` and
  label_studio_tools' ``extract_key_frames``): every keyframe shows its box on its own frame; an enabled one, linearly
  interpolated, through the next keyframe's frame; a disabled one ends it there (alone: a box on one frame); after
  the last enabled keyframe the box stays until ``framesCount``. Frame f is shown from (f - 1) / fps.
- CVAT for video 1.1 XML with ``<box>`` shapes in its tracks (frames from 0, corners in pixels of
  ``original_size``; an ``<ellipse>`` or ``<polygon>`` track by its bounding box; tracks of other shapes are refused,
  as they would name no face): a box not ``outside`` holds, interpolated towards the next box, until the next shape; the file
  annotates the task's frames (``start_frame`` to ``stop_frame``), not the video's before or after them.
- A CSV ``video,track,label`` naming stored tracks (`FaceTable.track`); ``unknown`` names a track of nobody labelled.

Boxes are matched to the stored faces of each sample by their overlap (intersection over union, the Hungarian method
for the best total, at least `MIN_IOU`). A box file labels every person it means to: in its annotated frames a face
no box matches is `UNKNOWN`, and a box without a face is a missed actor. A track file labels the samples whose every
face is on a named track. Video names and files are read as `classifiers.data.label_studio` and
`classifiers.data.cvat` read them.
"""

from __future__ import annotations

import csv
import json
import math
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from featurestore.errors import LabelsInvalid, LabelsWarning
from featurestore.faces.boxes import box_iou

from .cluster_names import cluster_name
from .csv_records import by_column, column_index, csv_records, delimiter, header_line
from .cvat import parse_cvat, task_frames
from .face_labels import FaceGrids, VideoFaceLabels, check_actor_names
from .label_studio import FIRST_FRAME, latest_annotation, submitted_annotations, video_name
from .names import resolve_video
from .strict import MAX_NAME_CHARS, checked_name, positive_rate, unquoted
from .table import LabelRow, first_items

MIN_IOU = 0.3
#: CVAT shapes a face can be drawn as, matched to stored faces by their box, and the attributes that give it.
SHAPES = {"box": "corners xtl, ytl, xbr, ybr", "ellipse": "centre cx, cy and radii rx, ry", "polygon": "points"}
KINDS = ("label-studio-boxes", "cvat-boxes", "track-names")


def box_kind(text: str) -> str | None:
    """Which of `KINDS` a labels file's text is, or None (an intervals file for `classifiers.data.labels`)."""
    head = text.lstrip()[:1]
    if head in "[{" and head and "videorectangle" in text.lower():
        return "label-studio-boxes"
    if head == "<" and "<box" in text:
        return "cvat-boxes"
    if head not in "[{<":
        first = header_line(text)
        cells = [c.strip().lower() for c in next(csv.reader([first], delimiter=delimiter(text)))] if first else []
        if "track" in cells and "label" in cells:
            return "track-names"
    return None


def box_face_labels(path: Path, text: str, kind: str, grids: FaceGrids, *, min_iou: float = MIN_IOU) -> dict[str, VideoFaceLabels]:
    """Face labels of every video a box or track-name file labels.

    Raises
    ------
    LabelsInvalid, NotEmbedded
    """
    if kind == "track-names":
        return _named_tracks(path, text, grids)
    tracks = _ls_tracks(path, text, grids) if kind == "label-studio-boxes" else _cvat_tracks(path, text, grids)
    check_actor_names(path.name, {label for found, _ in tracks.values() for label, _ in found})
    return {video_id: _match(video_id, found, span_s, grids, min_iou) for video_id, (found, span_s) in tracks.items()}


def _match(video_id: str, tracks: list, span_s: tuple[float, float], grids: FaceGrids, min_iou: float) -> VideoFaceLabels:
    """Boxes -> face labels: per annotated sample (those in the seconds [from_s, until_s) = `span_s` the file
    annotates), boxes and faces paired by overlap (module docstring)."""
    from scipy.optimize import linear_sum_assignment

    table = grids.table(video_id)
    v = VideoFaceLabels.empty(video_id, table, grids.info(video_id))
    sample = v.sample
    from_s, until_s = span_s
    for i, t in enumerate(np.asarray(table.sample_times_s).tolist()):
        if not from_s - 1e-9 <= t < until_s:
            continue
        shown = [(label, box) for label, box_at in tracks for box in [box_at(t)] if box is not None]
        v.labelled[i] = True
        v.actors_at[i] = tuple(sorted({label for label, _ in shown}))
        faces = np.flatnonzero(sample == i)
        v.claim(faces, UNKNOWN, "leftover")
        if not shown:
            continue
        overlap = box_iou(table.box[faces], np.array([box for _, box in shown])) if len(faces) else np.zeros((0, len(shown)))
        rows, cols = linear_sum_assignment(-overlap) if len(faces) else (np.zeros(0, int), np.zeros(0, int))
        matched = [(r, c) for r, c in zip(rows, cols) if overlap[r, c] >= min_iou]
        for r, c in matched:
            v.claim(faces[r], shown[c][0], "box")
        v.missed += len(shown) - len(matched)
    return v


def _ls_tracks(path: Path, text: str, grids: FaceGrids) -> dict[str, tuple[list, tuple[float, float]]]:
    """video_id -> ([(label, time -> box or None)], (0, seconds annotated)) of a Label Studio export."""
    name = path.name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise LabelsInvalid(f"{name} line {err.lineno}: not valid JSON ({err.msg}); export the project from Label "
                            "Studio as JSON (Export > JSON)") from None
    tasks = [doc] if isinstance(doc, dict) else doc if isinstance(doc, list) else []
    out: dict[str, tuple[list, tuple[float, float]]] = {}
    for n, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise LabelsInvalid(f"{name} item {n} is not a Label Studio task (an object with \"data\")")
        task_id = task.get("id", n)
        annotations = submitted_annotations(name, f"task {task_id}", task.get("annotations"))
        if not annotations:
            continue
        _, latest = latest_annotation(name, f"task {task_id}", annotations)  # as for timelines: ISO times, ids as numbers
        regions = [r for r in latest.get("result") or [] if isinstance(r, dict) and r.get("type") == "videorectangle"]
        if not regions:
            continue
        video = video_name(task["data"])
        if video is None:
            raise LabelsInvalid(f"{name} task {task_id}: its data names no video (\"video\": the URL of the video)")
        video_id = resolve_video(name, LabelRow(video, 0.0, None, "", n, where=f"task {task_id}"), grids, grids.name,
                                 folder=path.parent)
        fps = _ls_rate(name, task_id, task["data"].get("fps"), regions, grids[video_id].fps)
        found, frames = [], []
        for region in regions:
            label, keys, count = _ls_region(name, task_id, region)
            found.append((label, lambda t, k=keys, c=count, f=fps: _ls_box(k, c, math.floor(t * f + 1e-6) + FIRST_FRAME)))
            frames.append(count)
        until_s = min(frames) / fps if all(frames) else math.inf
        out[video_id] = (out.get(video_id, ([], None))[0] + found, (0.0, until_s))
    if not out:
        raise LabelsInvalid(f"{name} has no submitted annotation with a videorectangle; draw the boxes in Label Studio, "
                            "submit, then export again")
    return out


def _ls_rate(name: str, task_id, given, regions: list, store_fps: float | None) -> float:
    """The frame rate Label Studio counted a task's frames at, frames per second.

    Label Studio numbers frames at its ``<Video frameRate>`` (24 where the config sets none) and writes the frames
    it counted in the video, ``framesCount`` = ceil(``duration`` x that rate), into each box: so where the task's
    ``fps`` (else the store's rate) cannot have given that count, the boxes were numbered at another rate, and
    framesCount / duration (within 1 / duration of it) is read instead, with a warning.
    """
    try:
        fps = positive_rate(given) if given not in (None, "") else store_fps
    except ValueError as err:
        raise LabelsInvalid(f"{name} task {task_id}: fps {err}; give the video's frames per second") from None
    if not fps or not fps > 0:
        raise LabelsInvalid(f"{name} task {task_id}: no frame rate (neither the task's fps nor the store's); give the "
                            "task an fps")
    value = next((r["value"] for r in regions if isinstance(r.get("value"), dict)), {})
    try:
        count, duration_s = int(value.get("framesCount") or 0), float(value.get("duration") or 0.0)
    except (TypeError, ValueError):
        count, duration_s = 0, 0.0
    if count > 0 and 0.0 < duration_s < math.inf and abs(count - math.ceil(duration_s * fps - 1e-6)) > 1:
        counted = count / duration_s
        warnings.warn(f"{name} task {task_id}: Label Studio counted {count} frames in {duration_s:g} s ({counted:.3g} "
                      f"frames/s), not the {fps:g} of {'the task' if given not in (None, '') else 'the stored video'}; "
                      f"its boxes are read at {counted:.3g} frames/s (the project's <Video frameRate>; Label Studio's "
                      "default is 24): give each task the video's fps and frameRate=\"$fps\"", LabelsWarning, stacklevel=5)
        return counted
    return float(fps)


def _ls_region(name: str, task_id, region: dict) -> tuple[str, list[dict], int]:
    value = region.get("value") if isinstance(region.get("value"), dict) else {}
    labels = value.get("labels")
    if not isinstance(labels, list) or len(labels) != 1 or not isinstance(labels[0], str) or not labels[0].strip():
        raise LabelsInvalid(f"{name} task {task_id}, region {region.get('id', '?')}: a box needs exactly one label "
                            f"(value.labels), got {labels!r}; choose one in Label Studio")
    keys = value.get("sequence")
    try:
        keys = sorted(({"frame": int(k["frame"]), "enabled": bool(k.get("enabled", True)),
                        **{c: float(k[c]) / 100.0 for c in ("x", "y", "width", "height")}} for k in keys),
                      key=lambda k: k["frame"])
    except (TypeError, KeyError, ValueError):
        raise LabelsInvalid(f"{name} task {task_id}, region {region.get('id', '?')} ({labels[0]}): its value.sequence is "
                            "not keyframes with frame, x, y, width and height; export the project again") from None
    if not keys:
        raise LabelsInvalid(f"{name} task {task_id}, region {region.get('id', '?')} ({labels[0]}): no keyframe")
    return labels[0].strip(), keys, int(value.get("framesCount") or 0)


def _ls_box(keys: list[dict], frames_count: int, frame: int) -> np.ndarray | None:
    """The box (x, y, w, h, fractions) of Label Studio keyframes `keys` at `frame` (from 1), or None where hidden."""
    k = int(np.searchsorted([key["frame"] for key in keys], frame, side="right")) - 1
    if k < 0:
        return None
    key = keys[k]
    if key["frame"] == frame:  # every keyframe shows its box on its own frame, a disabled one too (a one-frame box)
        return _box(key)
    if not key["enabled"]:  # a disabled keyframe ends the box after its frame
        return None
    if k + 1 < len(keys):
        nxt = keys[k + 1]
        share = (frame - key["frame"]) / max(nxt["frame"] - key["frame"], 1)
        return _box(key) * (1 - share) + _box(nxt) * share
    return _box(key) if not frames_count or frame <= frames_count else None


def _box(key: dict) -> np.ndarray:
    return np.array([key["x"], key["y"], key["width"], key["height"]])


def _cvat_tracks(path: Path, text: str, grids: FaceGrids) -> dict[str, tuple[list, tuple[float, float]]]:
    """video_id -> ([(label, time -> box or None)], (from_s, until_s) the task's frames) of a CVAT for video 1.1
    file with boxes."""
    rows = parse_cvat(path, text).rows  # its checks and its video name
    video_id = resolve_video(path.name, rows[0], grids, grids.name, folder=path.parent)
    root = ElementTree.fromstring(text)
    grid = grids[video_id]
    if not grid.fps:
        raise LabelsInvalid(f"{path.name}: the store does not record the frame rate of {video_id!r}, so CVAT's frames "
                            "cannot be read as seconds; embed it again with --replace")
    size = next((e for e in (root.find("meta/task/original_size"), root.find("meta/job/original_size")) if e is not None), None)
    w, h = ((float(size.findtext("width")), float(size.findtext("height"))) if size is not None
            else tuple(map(float, grids.table(video_id).frame_size)))
    first, stop = task_frames(path.name, next((t for t in (root.find("meta/task"), root.find("meta/job")) if t is not None), None))
    span_s = ((first or 0) / grid.fps, (stop + 1) / grid.fps if stop is not None else math.inf)
    found = []
    for track in root.findall("track"):
        shapes = []
        where = f"{path.name} track {track.get('id', '?')} ({track.get('label', '')})"
        for s in track:
            if s.tag not in SHAPES:
                kinds = ", ".join(sorted({f"<{e.tag}>" for e in track}))
                raise LabelsInvalid(f"{where}: its {kinds} shapes give no box to match a face by; draw each face as a "
                                    "rectangle (or an ellipse, a polygon) in CVAT and export the task again")
            try:
                x0, y0, x1, y1 = _cvat_corners(s)
                shapes.append((int(s.get("frame")), s.get("outside", "0") == "1", np.array([x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h])))
            except (TypeError, ValueError):
                raise LabelsInvalid(f"{where}: a <{s.tag}> lacks a whole frame number or its {SHAPES[s.tag]}; export "
                                    "the task again") from None
        if shapes:
            shapes.sort(key=lambda s: s[0])
            found.append((track.get("label", "").strip(),
                          lambda t, s=shapes: _cvat_box(s, math.floor(t * grid.fps + 1e-6))))
    return {video_id: (found, span_s)}


def _cvat_corners(shape) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 in pixels of a CVAT shape's box: a box's corners, an ellipse's or a polygon's bounding box."""
    if shape.tag == "box":
        return tuple(float(shape.get(c)) for c in ("xtl", "ytl", "xbr", "ybr"))
    if shape.tag == "ellipse":
        cx, cy, rx, ry = (float(shape.get(c)) for c in ("cx", "cy", "rx", "ry"))
        return cx - rx, cy - ry, cx + rx, cy + ry
    xy = np.array([[float(v) for v in point.split(",")] for point in shape.get("points").split(";")])
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ValueError("points are not x,y pairs")
    return (*xy.min(axis=0).tolist(), *xy.max(axis=0).tolist())


def _cvat_box(shapes: list, frame: int) -> np.ndarray | None:
    k = int(np.searchsorted([s[0] for s in shapes], frame, side="right")) - 1
    if k < 0 or shapes[k][1]:
        return None
    if k + 1 < len(shapes) and not shapes[k + 1][1]:
        share = (frame - shapes[k][0]) / max(shapes[k + 1][0] - shapes[k][0], 1)
        return shapes[k][2] * (1 - share) + shapes[k + 1][2] * share
    return shapes[k][2]


def _named_tracks(path: Path, text: str, grids: FaceGrids) -> dict[str, VideoFaceLabels]:
    """A CSV video,track,label: each named track's faces, and the samples whose every face is named."""
    name = path.name
    lines = csv_records(name, text)
    header = [c.strip().lower() for c in lines[0][1]]
    missing = [c for c in ("video", "track", "label") if c not in header]
    if missing:
        raise LabelsInvalid(f"{name} line 1: header {','.join(header)} lacks {','.join(missing)}; write video,track,label")
    col = column_index(name, header, ("video", "track", "label"))
    unfilled = [str(n) for n, cells in lines[1:] if not by_column(cells, col)["label"].strip()]
    if unfilled:  # a tracks.csv of suggest-labels not named yet
        raise LabelsInvalid(f"{name} line{'s' if len(unfilled) > 1 else ''} {first_items(unfilled, 5)}: label is empty; "
                            "name each track (unknown: someone not in the cast) or delete those lines")
    names: dict[str, dict[int, tuple[str, int]]] = {}
    ids: dict[str, str] = {}  # video name -> stored id, resolved once a name
    for n, cells in lines[1:]:
        video, track, label = map(by_column(cells, col).__getitem__, ("video", "track", "label"))
        video, track = unquoted(video), track.strip()  # as suggest-labels writes them ('=x.mp4 for =x.mp4)
        if not video or not track.isdigit():  # an empty label was refused above
            raise LabelsInvalid(f"{name} line {n}: needs a video, a track number (>= 0) and a label, got "
                                f"{video!r}, {track!r}, {label!r}")
        try:
            video, label = checked_name(video, limit=MAX_NAME_CHARS), cluster_name(unquoted(label))  # any case of unknown
        except ValueError as err:
            raise LabelsInvalid(f"{name} line {n}: {err}; fix the cell") from None
        if video not in ids:
            ids[video] = resolve_video(name, LabelRow(video, 0.0, None, label, n), grids, grids.name, folder=path.parent)
        video_id = ids[video]
        held = np.unique(np.asarray(grids.table(video_id).track))
        if int(track) not in held:
            raise LabelsInvalid(f"{name} line {n}: {video_id!r} has no stored track {track} (its tracks: "
                                f"{_number_ranges(held[held >= 0].tolist())}); name the store's track numbers (`track` in "
                                "score --faces JSON, suggest-labels' tracks.csv), not clusters.members.csv's, which number "
                                "one clustering's tracks: name those in clusters.csv as cluster,track,name")
        seen = names.setdefault(video_id, {}).setdefault(int(track), (label, n))
        if seen[0] != label:
            raise LabelsInvalid(f"{name} lines {seen[1]} and {n} name track {track} of {video_id!r} twice "
                                f"({seen[0]!r}, {label!r}); keep one")
    check_actor_names(name, {label for tracks in names.values() for label, _ in tracks.values()} - {UNKNOWN})
    out = {}
    for video_id, tracks in names.items():
        table = grids.table(video_id)
        v = VideoFaceLabels.empty(video_id, table, grids.info(video_id))
        track = np.asarray(table.track)
        for tr, (label, _) in tracks.items():
            v.claim(np.flatnonzero(track == tr), label, "named")
        v.mark_named(np.unique(v.sample).tolist())
        out[video_id] = v
    return out


def _number_ranges(numbers: list[int]) -> str:
    """Sorted whole numbers as ranges: [0, 1, 2, 5] -> '0-2, 5'; 'none' when empty."""
    spans: list[list[int]] = []
    for x in numbers:
        if spans and x == spans[-1][1] + 1:
            spans[-1][1] = x
        else:
            spans.append([x, x])
    return ", ".join(f"{a}-{b}" if b > a else f"{a}" for a, b in spans) or "none"
