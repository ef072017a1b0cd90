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
import warnings
import xml.etree.ElementTree as ElementTree
from pathlib import Path, PurePath

from featurestore.errors import LabelsInvalid, LabelsWarning, quoted

from .strict import MAX_FRAME, MAX_LABEL_CHARS, MAX_NAME_CHARS, checked_name, whole_number
from .table import NONE_LABEL, LabelRow, LabelTable
from .timecode import FrameTime

_WHAT = "export the task from CVAT as 'CVAT for video 1.1'"
_STEP = re.compile(r"step\s*=\s*0*([1-9][0-9]{0,8})\b", re.ASCII)
FORMAT_VERSION = "1.1"


def parse_cvat(path: Path, text: str, *, multi_label: bool = False, none_label: str = NONE_LABEL) -> LabelTable:
    """A CVAT for video 1.1 file as a table of rows in frames (resolved to seconds at the join).

    Raises
    ------
    LabelsInvalid
        In one line naming the file and the place (meta field, track, shape): not well-formed XML, not CVAT
        annotations, a version other than 1.x, no track (an export 'for images'), a track label its task does not
        declare, a shape without a frame number, a frame that is not a whole number from 0 (at most `MAX_FRAME`),
        two shapes of a track at one frame, a shape on screen outside the task's frames, ``outside`` not 0 or 1,
        start_frame after stop_frame, a ``size`` or ``stop_frame`` that is not a number, a name with control
        characters.

    Warns
    -----
    LabelsWarning
        A version other than 1.1 (or none): read as 1.1.
    """
    name = path.name
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as err:
        raise LabelsInvalid(f"{name} line {err.position[0]}: not well-formed XML ({str(err).split(':')[0]}); {_WHAT}") from None
    if root.tag != "annotations":
        raise LabelsInvalid(f"{name} is XML but not CVAT annotations (its root is <{quoted(root.tag)[1:-1]}>, not "
                            f"<annotations>), nor a labels CSV or Label Studio JSON; {_WHAT}")
    task = next((t for t in (root.find("meta/task"), root.find("meta/job")) if t is not None), None)
    tracks = root.findall("track")
    if not tracks:
        kind = "images" if root.find("image") is not None else "no annotation"
        raise LabelsInvalid(f"{name} has no <track> ({'CVAT for images: one <image> per frame' if kind == 'images' else kind}); "
                            f"{_WHAT}, whose tracks follow each label through the video's frames")
    _check_version(name, root.findtext("version"))
    video = (root.findtext("meta/source") or (task.findtext("source") if task is not None else None)
             or (task.findtext("name") if task is not None else None) or PurePath(name).stem)
    video = _name(name, "meta: the video's name (<source>)", video, MAX_NAME_CHARS)
    declared = {_name(name, "meta: a label's <name>", n.text, MAX_LABEL_CHARS)
                for n in root.iterfind("meta/*/labels/label/name") if n.text and n.text.strip()}
    first, stop = task_frames(name, task)
    rows: list[LabelRow] = []
    covered: list[tuple[int, int]] = []
    for n, track in enumerate(tracks):
        track_id = track.get("id", "")
        track_id = track_id if re.fullmatch(r"[0-9]{1,15}", track_id, re.ASCII) else f"#{n}"
        label = _name(name, f"track {track_id}: its label", track.get("label") or "", MAX_LABEL_CHARS)
        where = f"track {track_id} ({label})"
        if declared and label not in declared:
            raise LabelsInvalid(f"{name} {where}: label {label!r} is not one of the task's labels "
                                f"({', '.join(sorted(declared))}); fix the track's label in CVAT and export again")
        for start, end in _visible(name, where, track, first, stop):
            covered.append((start, end))
            rows.append(_row(video, start, end, label, len(rows) + 1, f"{where}, frames {start}-{end - 1}"))
    if first is not None and stop is not None:
        for start, end in _gaps(covered, first, stop + 1):
            rows.append(_row(video, start, end, none_label, len(rows) + 1, f"frames {start}-{end - 1} (no track)"))
    if not rows:
        raise LabelsInvalid(f"{name}: every shape of its tracks is outside the frame; label the frames where each is on screen")
    return LabelTable(path, "cvat", rows, multi_label, none_label)


def _check_version(name: str, version: str | None) -> None:
    """Refuse another major version; read 1.x (and a file without <version>) as 1.1, with a warning."""
    version = (version or "").strip()
    if version == FORMAT_VERSION:
        return
    if version and not re.fullmatch(r"1\.[0-9]{1,3}", version, re.ASCII):
        raise LabelsInvalid(f"{name}: <version> {quoted(version)} is not CVAT for video {FORMAT_VERSION}, the format this "
                            f"reads; {_WHAT}")
    said = f"<version> {version}" if version else "no <version>"
    warnings.warn(f"{name} has {said}; read as CVAT for video {FORMAT_VERSION}, check the labels it gives",
                  LabelsWarning, stacklevel=3)


def _name(name: str, place: str, value, limit: int) -> str:
    try:
        return checked_name(value, limit=limit)
    except ValueError as err:
        raise LabelsInvalid(f"{name} {place} {err}; fix it in CVAT and export again") from None


def _meta_number(name: str, task, field: str, low: int = 0) -> int | None:
    """A whole number of the task's meta (start_frame, stop_frame, size), or None where it is absent or empty."""
    text = task.findtext(field)
    if text is None or not text.strip():
        return None
    try:
        return whole_number(text, low=low)
    except ValueError as err:
        raise LabelsInvalid(f"{name} meta: <{field}> {err}; {_WHAT}") from None


def task_frames(name: str, task) -> tuple[int | None, int | None]:
    """The task's first and last frame numbers (of the video), or None where its meta does not say."""
    if task is None:
        return None, None
    first = _meta_number(name, task, "start_frame") or 0
    stop = _meta_number(name, task, "stop_frame")
    if stop is None:
        size = _meta_number(name, task, "size", low=1)
        frame_filter = task.findtext("frame_filter") or ""
        step = _STEP.search(frame_filter)
        if step is None and "step" in frame_filter:
            raise LabelsInvalid(f"{name} meta: <frame_filter> {quoted(frame_filter)} is not step=N; {_WHAT}")
        step = int(step.group(1)) if step else 1
        stop = None if size is None else first + (size - 1) * step
    if stop is not None and stop < first:
        raise LabelsInvalid(f"{name} meta: <start_frame> {first} is after <stop_frame> {stop}; {_WHAT}")
    if stop is not None and stop > MAX_FRAME:
        raise LabelsInvalid(f"{name} meta: the task's last frame {stop} is more than {MAX_FRAME}; {_WHAT}")
    return first, stop


def _visible(name: str, where: str, track, first: int | None, stop: int | None) -> list[tuple[int, int]]:
    """The frames [start, end) of a track whose shapes are not outside, merged where they meet."""
    shapes, seen = [], {}
    for j, shape in enumerate(track, start=1):
        here = f"{where}, shape {j} (<{quoted(shape.tag)[1:-1]}>)"
        if shape.get("frame") is None:
            raise LabelsInvalid(f"{name} {here}: it has no frame attribute, so when it is on screen is unknown; {_WHAT}")
        try:
            frame = whole_number(shape.get("frame"))
        except ValueError as err:
            raise LabelsInvalid(f"{name} {here}: frame {err} (CVAT counts a video's frames from 0); {_WHAT}") from None
        outside = shape.get("outside", "0").strip()
        if outside not in ("0", "1"):
            raise LabelsInvalid(f"{name} {here}: outside {quoted(outside)} is not 0 or 1; {_WHAT}")
        if frame in seen:
            raise LabelsInvalid(f"{name} {here}: a second shape at frame {frame} (shape {seen[frame]} is the first); "
                                f"a track has one shape per frame, {_WHAT}")
        seen[frame] = j
        if outside == "0" and ((first is not None and frame < first) or (stop is not None and frame > stop)):
            raise LabelsInvalid(f"{name} {here}: on screen at frame {frame}, outside the task's frames {first or 0}-{stop}; "
                                f"{_WHAT}")
        shapes.append((frame, outside == "1"))
    if not shapes:
        raise LabelsInvalid(f"{name} {where}: the track has no shape with a frame number; {_WHAT}")
    shapes.sort()
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
