"""Label Studio's JSON export of video tasks labelled with `TimelineLabels` -> a labels table; and its frames.

An export is a list of tasks: ``{"id", "data": {"video": URL, ...}, "annotations": [{"result": [...], ...}]}``. A
``timelinelabels`` result says which labels (``value.timelinelabels``) are on screen over which frames
(``value.ranges``: ``[{"start", "end"}]``). Label Studio numbers a video's frames from 1 and counts them at the
``frameRate`` of its labelling config (24 when the config sets none; the config this tool exports declares
``frameRate="$fps"``, each task's own ``data.fps``): frame f is on screen from (f - 1) / fps to f / fps, so a range
{start: s, end: e} (both frames labelled, as Label Studio draws it) is [(s - 1) / fps, e / fps) seconds.
Predictions are the model's guesses and never labels; a task's latest submitted annotation is its labels.
"""

from __future__ import annotations

import json
import math
import re
import warnings
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from featurestore.errors import LabelsInvalid

from .table import NONE_LABEL, LabelRow, LabelTable, first_items
from .timecode import FrameTime

FIRST_FRAME = 1  # Label Studio's first frame: its frames count from 1
RESULT_TYPE = "timelinelabels"
_UPLOADED = re.compile(r"^[0-9a-f]{8}-")  # Label Studio prefixes an uploaded file's name with 8 hex digits and '-'
_WHAT = "export the project from Label Studio as JSON (Export > JSON)"


def range_to_seconds(start: int, end: int, fps: float) -> tuple[float, float]:
    """The seconds [start_s, end_s) of Label Studio's range of frames start..end (both included, from 1) at `fps`."""
    return (start - FIRST_FRAME) / fps, (end - FIRST_FRAME + 1) / fps


def seconds_to_range(start_s: float, end_s: float, fps: float) -> tuple[int, int]:
    """Label Studio's frames start..end (from 1, both included) of the frames shown in [start_s, end_s) at `fps`."""
    start = math.floor(start_s * fps + 1e-6) + FIRST_FRAME
    return start, max(start, math.ceil(end_s * fps - 1e-6) + FIRST_FRAME - 1)


def video_name(data: dict) -> str | None:
    """The video a task's data names: its ``video_id`` (written by this tool), else the file of its ``video`` URL
    (``/data/local-files/?d=videos/ep1.mp4``, ``https://host/ep1.mp4``, an upload's ``/data/upload/3/1a2b3c4d-ep1.mp4``)."""
    if isinstance(data.get("video_id"), str) and data["video_id"]:
        return data["video_id"]
    url = data.get("video")
    if not isinstance(url, str) or not url.strip():
        urls = [v for v in data.values() if isinstance(v, str) and re.search(r"\.\w{2,4}(\?|$)", v)]
        if len(urls) != 1:
            return None
        url = urls[0]
    parts = urlsplit(url.strip())
    local = parse_qs(parts.query).get("d")
    path = PurePosixPath(unquote(local[0] if local else parts.path))
    if "/data/upload/" in parts.path:
        return _UPLOADED.sub("", path.name)
    return str(path) if local else path.name


def parse_label_studio(path: Path, text: str, *, multi_label: bool = False, none_label: str = NONE_LABEL) -> LabelTable:
    """A Label Studio JSON export as a table of rows in frames (resolved to seconds at the join).

    Raises
    ------
    LabelsInvalid
        In one line naming the file and the task: not JSON, not an export of tasks, a task without a video, no
        submitted annotation at all, a range that is not frames from 1, a result without a label, several labels
        on one range without `multi_label`, two spellings of one label.
    """
    name = path.name
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as err:
        raise LabelsInvalid(f"{name} line {err.lineno}: not valid JSON ({err.msg}); {_WHAT}") from None
    tasks = [doc] if isinstance(doc, dict) and "data" in doc else doc
    if not isinstance(tasks, list) or not tasks:
        raise LabelsInvalid(f"{name} is JSON but not a Label Studio export (a list of tasks, each with \"data\" and "
                            f"\"annotations\"), nor a labels CSV or CVAT XML; {_WHAT}")
    rows: list[LabelRow] = []
    several, no_fps, n_annotated = [], 0, 0
    for i, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise LabelsInvalid(f"{name} item {i} is not a Label Studio task (an object with \"data\"); {_WHAT}")
        task_id = task.get("id", i)
        annotations = [a for a in task.get("annotations") or [] if isinstance(a, dict) and not a.get("was_cancelled")]
        if not annotations:
            continue
        n_annotated += 1
        latest = max(annotations, key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), str(a.get("id"))))
        if len(annotations) > 1:
            several.append(f"task {task_id} (annotation {latest.get('id')} of {len(annotations)})")
        video = video_name(task["data"])
        if video is None:
            raise LabelsInvalid(f"{name} task {task_id}: its data names no video (\"video\": the URL of the video); "
                                "label tasks made with the labelling config of a video")
        fps = _fps(name, task_id, task["data"].get("fps"))
        no_fps += fps is None
        rows += _rows(name, task_id, video, fps, latest.get("result") or [], multi_label, start_line=len(rows) + 1)
    if not rows:
        said = (f"has {len(tasks)} task{'s' if len(tasks) > 1 else ''} and no submitted annotation (predictions are the "
                "model's guesses, not labels); label them in Label Studio, submit, then export again") if not n_annotated \
            else f"has no {RESULT_TYPE} result in its annotations; label the video's timeline with TimelineLabels"
        raise LabelsInvalid(f"{name} {said}")
    _check_spellings(name, rows)
    if several:
        warnings.warn(f"{name}: {len(several)} task{'s have' if len(several) > 1 else ' has'} several annotations; the "
                      f"latest of each is used: {first_items(several)}", stacklevel=3)
    if no_fps:
        warnings.warn(f"{name}: {no_fps} annotated task{'s give' if no_fps > 1 else ' gives'} no fps, so their frames are "
                      "read at the stored video's frame rate; that is right only if the project's <Video frameRate> is that "
                      "rate (Label Studio's default is 24)", stacklevel=3)
    return LabelTable(path, "label-studio", rows, multi_label, none_label)


def _fps(name: str, task_id, value) -> float | None:
    if value is None or value == "":
        return None
    try:
        fps = float(value)
    except (TypeError, ValueError):
        fps = float("nan")
    if not math.isfinite(fps) or fps <= 0:
        raise LabelsInvalid(f"{name} task {task_id}: fps {value!r} is not a frame rate; give the video's frames per second")
    return fps


def _rows(name: str, task_id, video: str, fps: float | None, results: list, multi_label: bool, start_line: int) -> list[LabelRow]:
    rows = []
    for result in results:
        value = result.get("value") if isinstance(result, dict) else None
        if not isinstance(value, dict) or (result.get("type") != RESULT_TYPE and RESULT_TYPE not in value):
            continue  # another control of the project (choices, text): not a timeline
        labels = value.get(RESULT_TYPE)
        ranges = value.get("ranges")
        if not isinstance(ranges, list) or not ranges:
            raise LabelsInvalid(f"{name} task {task_id}: a {RESULT_TYPE} result has no value.ranges; label a span of frames")
        for rng in ranges:
            start, end = (rng.get("start"), rng.get("end")) if isinstance(rng, dict) else (None, None)
            where = f"task {task_id}, frames {start}-{end}"
            if not all(isinstance(f, int) and not isinstance(f, bool) for f in (start, end)) or not FIRST_FRAME <= start <= end:
                raise LabelsInvalid(f"{name} {where}: a range is whole frames start <= end, counted from {FIRST_FRAME} as "
                                    "Label Studio numbers them; export the project again or fix the range")
            if not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x.strip() for x in labels):
                raise LabelsInvalid(f"{name} {where}: value.timelinelabels names no label; choose one in Label Studio")
            if len(labels) > 1 and not multi_label:
                raise LabelsInvalid(f"{name} {where}: {len(labels)} labels on one range ({', '.join(labels)}); keep one, or "
                                    "pass --multi-label if they are characters on screen together")
            for label in labels:
                rows.append(LabelRow(video, 0.0, float("nan"), label.strip(), start_line + len(rows), where=where,
                                     start_at=FrameTime(0, start - FIRST_FRAME, f"frame {start}"),
                                     end_at=FrameTime(0, end - FIRST_FRAME + 1, f"frame {end}"), fps=fps))
    return rows


def _check_spellings(name: str, rows: list[LabelRow]) -> None:
    """Unknown label names: two spellings of one label ('Tom', 'tom ') are two classes, most likely by mistake."""
    first: dict[str, LabelRow] = {}
    for r in rows:
        seen = first.setdefault(r.label.casefold(), r)
        if seen.label != r.label:
            raise LabelsInvalid(f"{name} {r.place}: label {r.label!r} differs from {seen.label!r} ({seen.place}) only in "
                                "case; use one spelling (the labelling config's) for both")
