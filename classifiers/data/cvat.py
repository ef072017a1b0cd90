"""CVAT's "CVAT for video 1.1" XML -> a labels table: a track's frames with a shape not ``outside`` are the frames
its label is on screen.

A track lists shapes (``<box frame=.. outside=0|1 keyframe=..>``, or polygons, points, ...) at frame numbers of the
source video, counted from 0 (CVAT writes ``start_frame + i * step``). A shape not outside puts the label on screen
from its frame until the track's next shape; after the last one, until the task's stop frame. Several tracks may
be on screen at once (characters together: ``--multi-label``), and frames of the task that no track covers are
labelled with the none label (no character on screen). The video is the file named in ``<meta><source>``. Frame f
is [f / fps, (f + 1) / fps) seconds at the stored video's frame rate.

The XML is read with the standard library's ElementTree: its expat (2.4.1 and later) refuses entity-expansion
bombs, and ElementTree never fetches external entities.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from pathlib import Path, PurePath

from featurestore.errors import LabelsInvalid

from .table import NONE_LABEL, LabelRow, LabelTable
from .timecode import FrameTime

_WHAT = "export the task from CVAT as 'CVAT for video 1.1'"
_STEP = re.compile(r"step\s*=\s*(\d+)")


def parse_cvat(path: Path, text: str, *, multi_label: bool = False, none_label: str = NONE_LABEL) -> LabelTable:
    """A CVAT for video 1.1 file as a table of rows in frames (resolved to seconds at the join).

    Raises
    ------
    LabelsInvalid
        In one line naming the file and the track: not well-formed XML, not CVAT annotations, no track (an
        export 'for images'), a track label its task does not declare, a shape without a frame number.
    """
    name = path.name
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise LabelsInvalid(f"{name} line {err.position[0]}: not well-formed XML ({str(err).split(':')[0]}); {_WHAT}") from None
    if root.tag != "annotations":
        raise LabelsInvalid(f"{name} is XML but not CVAT annotations (its root is <{root.tag}>, not <annotations>), nor a "
                            f"labels CSV or Label Studio JSON; {_WHAT}")
    task = next((t for t in (root.find("meta/task"), root.find("meta/job")) if t is not None), None)
    tracks = root.findall("track")
    if not tracks:
        kind = "images" if root.find("image") is not None else "no annotation"
        raise LabelsInvalid(f"{name} has no <track> ({'CVAT for images: one <image> per frame' if kind == 'images' else kind}); "
                            f"{_WHAT}, whose tracks follow each label through the video's frames")
    video = (root.findtext("meta/source") or (task.findtext("source") if task is not None else None)
             or (task.findtext("name") if task is not None else None) or PurePath(name).stem).strip()
    declared = {n.text.strip() for n in root.iterfind("meta/*/labels/label/name") if n.text}
    first, stop = _frame_range(task)
    rows: list[LabelRow] = []
    covered: list[tuple[int, int]] = []
    for track in tracks:
        label = (track.get("label") or "").strip()
        where = f"track {track.get('id', len(rows))} ({label or 'no label'})"
        if not label or (declared and label not in declared):
            listed = ", ".join(sorted(declared)) or "none"
            raise LabelsInvalid(f"{name} {where}: label {label!r} is not one of the task's labels ({listed}); fix the "
                                "track's label in CVAT and export again")
        for start, end in _visible(name, where, track, stop):
            covered.append((start, end))
            rows.append(_row(video, start, end, label, len(rows) + 1, f"{where}, frames {start}-{end - 1}"))
    if first is not None and stop is not None:
        for start, end in _gaps(covered, first, stop + 1):
            rows.append(_row(video, start, end, none_label, len(rows) + 1, f"frames {start}-{end - 1} (no track)"))
    if not rows:
        raise LabelsInvalid(f"{name}: every shape of its tracks is outside the frame; label the frames where each is on screen")
    return LabelTable(path, "cvat", rows, multi_label, none_label)


def _frame_range(task) -> tuple[int | None, int | None]:
    """The task's first and last frame numbers (of the video), or None where its meta does not say."""
    if task is None:
        return None, None
    first = int(task.findtext("start_frame") or 0)
    if task.findtext("stop_frame"):
        return first, int(task.findtext("stop_frame"))
    size = task.findtext("size")
    step = _STEP.search(task.findtext("frame_filter") or "")
    return (first, first + (int(size) - 1) * (int(step.group(1)) if step else 1)) if size else (first, None)


def _visible(name: str, where: str, track, stop: int | None) -> list[tuple[int, int]]:
    """The frames [start, end) of a track whose shapes are not outside, merged where they meet."""
    try:
        shapes = sorted((int(s.get("frame")), s.get("outside", "0") == "1") for s in track if s.get("frame") is not None)
    except ValueError:
        raise LabelsInvalid(f"{name} {where}: a shape's frame is not a whole number; {_WHAT}") from None
    if not shapes:
        raise LabelsInvalid(f"{name} {where}: the track has no shape with a frame number; {_WHAT}")
    spans: list[tuple[int, int]] = []
    for i, (frame, outside) in enumerate(shapes):
        if outside:
            continue
        end = shapes[i + 1][0] if i + 1 < len(shapes) else max(frame, stop if stop is not None else frame) + 1
        if spans and spans[-1][1] >= frame:
            spans[-1] = (spans[-1][0], max(end, spans[-1][1]))
        else:
            spans.append((frame, end))
    return spans


def _gaps(covered: list[tuple[int, int]], first: int, end: int) -> list[tuple[int, int]]:
    """The frames of [first, end) that no span of `covered` holds."""
    gaps, at = [], first
    for start, stop in sorted(covered):
        if start > at:
            gaps.append((at, min(start, end)))
        at = max(at, stop)
    if at < end:
        gaps.append((at, end))
    return [(a, b) for a, b in gaps if b > a]


def _row(video: str, start: int, end: int, label: str, line: int, where: str) -> LabelRow:
    return LabelRow(video, 0.0, float("nan"), label, line, where=where,
                    start_at=FrameTime(0, start, f"frame {start}"), end_at=FrameTime(0, end, f"frame {end}"))
