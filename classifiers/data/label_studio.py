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
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, unquote, urlsplit

from featurestore.errors import LabelsInvalid, LabelsWarning, quoted

from .names import check_spelling_variants
from .strict import MAX_FRAME, MAX_NAME_CHARS, checked_name, load_json, positive_rate
from .table import NONE_LABEL, LabelRow, LabelTable, first_items
from .timecode import FrameTime

FIRST_FRAME = 1  # Label Studio's first frame: its frames count from 1
RESULT_TYPE = "timelinelabels"
_UPLOADED = re.compile(r"^[0-9a-f]{8}-")  # Label Studio prefixes an uploaded file's name with 8 hex digits and '-'
_WHAT = "export the project from Label Studio as JSON (Export > JSON)"
_PLAIN_ID = re.compile(r"[A-Za-z0-9_.:-]{1,40}", re.ASCII)


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
        In one line naming the file and the place (task, annotation, result, range): not JSON, nested too deep, not
        an export of tasks, a field of the wrong type (``"annotations": 5``, ``"result": 7``, a ``value`` that is not
        an object), a task without a video, no submitted annotation at all, a range that is not whole frames from 1
        (at most `MAX_FRAME`), a result without a label, several labels on one range without `multi_label`, two
        spellings of one label, a label or video name with control characters.

    Warns
    -----
    LabelsWarning
        Counting what was not read: tasks without a submitted annotation, results of other controls than
        TimelineLabels, and the tasks with several annotations (of each, the latest by time, then by id, is read).
    """
    name = path.name
    tasks = load_tasks(name, text, _WHAT, "a Label Studio export (a list of tasks, each with \"data\" and "
                                          "\"annotations\"), nor a labels CSV or CVAT XML")
    rows: list[LabelRow] = []
    several, no_fps, unannotated, other = [], 0, 0, Counter()
    for i, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            raise LabelsInvalid(f"{name} item {i} is not a Label Studio task (an object with \"data\"); {_WHAT}")
        task_id = shown_id(task.get("id"), i)
        annotations = submitted_annotations(name, f"task {task_id}", task.get("annotations"))
        if not annotations:
            unannotated += 1
            continue
        k, latest = latest_annotation(name, f"task {task_id}", annotations)
        if len(annotations) > 1:
            several.append(f"task {task_id} (annotation {shown_id(latest.get('id'), k)} of {len(annotations)})")
        video = _video(name, task_id, task["data"])
        fps = _fps(name, task_id, task["data"].get("fps"))
        no_fps += fps is None
        place = f"task {task_id}, annotation {shown_id(latest.get('id'), k)}"
        rows += _rows(name, place, task_id, video, fps, latest.get("result"), multi_label, len(rows) + 1, other)
    if not rows:
        said = (f"has {len(tasks)} task{'s' if len(tasks) > 1 else ''} and no submitted annotation (predictions are the "
                "model's guesses, not labels); label them in Label Studio, submit, then export again") \
            if unannotated == len(tasks) else f"has no {RESULT_TYPE} result in its annotations; label the video's " \
                                              "timeline with TimelineLabels"
        if other.get("videorectangle") and unannotated < len(tasks):  # boxes: whose each face is (issue 24)
            said = (f"has no {RESULT_TYPE} result but {other['videorectangle']} videorectangle boxes, which say whose "
                    "each face is: use it with --faces (or label the video's timeline with TimelineLabels)")
        raise LabelsInvalid(f"{name} {said}")
    _check_spellings(name, rows)
    if unannotated:
        _warn(f"{name}: {unannotated} of {len(tasks)} tasks {'have' if unannotated > 1 else 'has'} no submitted "
              "annotation and gave no labels (label and submit them in Label Studio to use them)")
    if other:
        kinds = ", ".join(f"{kind}: {n}" for kind, n in other.most_common(3))
        _warn(f"{name}: {sum(other.values())} results of other controls than {RESULT_TYPE} ({kinds}) were not read; "
              "only the timeline labels say who is on screen")
    if several:
        _warn(f"{name}: {len(several)} task{'s have' if len(several) > 1 else ' has'} several annotations; the "
              f"latest of each is used (by time, then by id as a number): {first_items(several)}")
    if no_fps:
        _warn(f"{name}: {no_fps} annotated task{'s give' if no_fps > 1 else ' gives'} no fps, so their frames are "
              "read at the stored video's frame rate; that is right only if the project's <Video frameRate> is that "
              "rate (Label Studio's default is 24)")
    return LabelTable(path, "label-studio", rows, multi_label, none_label)


def load_tasks(name: str, text: str, what: str, not_tasks: str) -> list:
    """The tasks of a Label Studio JSON export `text` (a list of tasks, or one task), else LabelsInvalid naming the
    file `name`: not JSON (its line), too deep or too large (`strict.load_json`), or "JSON but not `not_tasks`";
    `what` says how to export it right."""
    try:
        doc = load_json(text)
    except json.JSONDecodeError as err:
        raise LabelsInvalid(f"{name} line {err.lineno}: not valid JSON ({err.msg}); {what}") from None
    except ValueError as err:
        raise LabelsInvalid(f"{name} {err}; {what}") from None
    tasks = [doc] if isinstance(doc, dict) and "data" in doc else doc
    if not isinstance(tasks, list) or not tasks:
        raise LabelsInvalid(f"{name} is JSON but not {not_tasks}; {what}")
    return tasks


def _warn(message: str) -> None:
    warnings.warn(message, LabelsWarning, stacklevel=4)


def shown_id(value, position: int) -> str:
    """A task's or annotation's id for messages: a number or a short name as given, else '#<position>'."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**15:
        return str(value)
    if isinstance(value, str) and _PLAIN_ID.fullmatch(value):
        return value
    return f"#{position}"


def submitted_annotations(name: str, place: str, value) -> list[tuple[int, dict]]:
    """(position from 1, annotation) of a task's submitted annotations (cancelled ones are skipped tasks)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise LabelsInvalid(f"{name} {place}: \"annotations\" is {quoted(value)}, not a list of annotations; {_WHAT}")
    out = []
    for k, annotation in enumerate(value, start=1):
        if not isinstance(annotation, dict):
            raise LabelsInvalid(f"{name} {place}, annotation #{k}: {quoted(annotation)} is not an annotation (an object "
                                f"with \"result\"); {_WHAT}")
        cancelled = annotation.get("was_cancelled")
        if cancelled not in (None, True, False):
            raise LabelsInvalid(f"{name} {place}, annotation {shown_id(annotation.get('id'), k)}: was_cancelled "
                                f"{quoted(cancelled)} is not true or false; {_WHAT}")
        if not cancelled:
            out.append((k, annotation))
    return out


def latest_annotation(name: str, place: str, annotations: list[tuple[int, dict]]) -> tuple[int, dict]:
    """The annotation a task's labels come from: the latest by updated_at (else created_at) as ISO 8601 times, then
    the largest id as a number, then the last in the file."""
    if len(annotations) == 1:
        return annotations[0]

    def key(item):
        k, annotation = item
        at = f"{place}, annotation {shown_id(annotation.get('id'), k)}"
        number = annotation.get("id")
        if isinstance(number, str) and re.fullmatch(r"[0-9]{1,15}", number, re.ASCII):
            number = int(number)
        number = number if isinstance(number, int) and not isinstance(number, bool) and abs(number) < 10**15 else -1
        return _when(name, at, annotation), number, k

    return max(annotations, key=key)


def _when(name: str, place: str, annotation: dict) -> datetime:
    field = "updated_at" if annotation.get("updated_at") not in (None, "") else "created_at"
    value = annotation.get(field)
    if value in (None, ""):
        return datetime.min.replace(tzinfo=timezone.utc)
    try:
        if not isinstance(value, str) or len(value) > 64:
            raise ValueError
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        raise LabelsInvalid(f"{name} {place}: {field} {quoted(value)} is not an ISO 8601 time "
                            f"(2026-01-01T10:00:00.5Z); {_WHAT}") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


def _video(name: str, task_id: str, data: dict) -> str:
    try:
        video = video_name(data)
    except ValueError:  # urlsplit refuses some URLs ('http://[bad/ep1.mp4')
        video = None
    if video is None:
        raise LabelsInvalid(f"{name} task {task_id}: its data names no video (\"video\": the URL of the video); "
                            "label tasks made with the labelling config of a video")
    try:
        return checked_name(video, limit=MAX_NAME_CHARS)
    except ValueError as err:
        raise LabelsInvalid(f"{name} task {task_id}: its video {err}; fix the task's data") from None


def _fps(name: str, task_id: str, value) -> float | None:
    if value is None or value == "":
        return None
    try:
        return positive_rate(value)
    except ValueError as err:
        raise LabelsInvalid(f"{name} task {task_id}: fps {err}; give the video's frames per second") from None


def _rows(name: str, place: str, task_id: str, video: str, fps: float | None, results, multi_label: bool,
          start_line: int, other: Counter) -> list[LabelRow]:
    if results is None:
        results = []
    if not isinstance(results, list):
        raise LabelsInvalid(f"{name} {place}: \"result\" is {quoted(results)}, not a list of results; {_WHAT}")
    rows = []
    for k, result in enumerate(results, start=1):
        here = f"{place}, result {k}"
        if not isinstance(result, dict):
            raise LabelsInvalid(f"{name} {here}: {quoted(result)} is not a result (an object with \"type\" and "
                                f"\"value\"); {_WHAT}")
        value, kind = result.get("value"), result.get("type")
        if kind != RESULT_TYPE and not (isinstance(value, dict) and RESULT_TYPE in value):
            other[kind if isinstance(kind, str) and len(kind) < 40 else "no type"] += 1
            continue  # another control of the project (choices, text): not a timeline
        if not isinstance(value, dict):
            raise LabelsInvalid(f"{name} {here}: its value is {quoted(value)}, not an object {{\"ranges\": [...], "
                                f"\"{RESULT_TYPE}\": [...]}}; {_WHAT}")
        ranges = value.get("ranges")
        if not isinstance(ranges, list) or not ranges:
            raise LabelsInvalid(f"{name} {here}: a {RESULT_TYPE} result has no value.ranges; label a span of frames")
        labels = _labels(name, here, value.get(RESULT_TYPE))
        for j, rng in enumerate(ranges, start=1):
            start, end = _range(name, f"{here}, range {j}", rng)
            where = f"task {task_id}, frames {start}-{end}"
            if not FIRST_FRAME <= start <= end:
                raise LabelsInvalid(f"{name} {where}: a range is whole frames start <= end, counted from {FIRST_FRAME} as "
                                    "Label Studio numbers them; export the project again or fix the range")
            if len(labels) > 1 and not multi_label:
                raise LabelsInvalid(f"{name} {where}: {len(labels)} labels on one range ({', '.join(labels)}); keep one, or "
                                    "pass --multi-label if they are characters on screen together")
            for label in labels:
                rows.append(LabelRow(video, 0.0, float("nan"), label, start_line + len(rows), where=where,
                                     start_at=FrameTime(0, start - FIRST_FRAME, f"frame {start}"),
                                     end_at=FrameTime(0, end - FIRST_FRAME + 1, f"frame {end}"), fps=fps))
    return rows


def _labels(name: str, here: str, labels) -> list[str]:
    if not isinstance(labels, list) or not labels:
        raise LabelsInvalid(f"{name} {here}: value.{RESULT_TYPE} names no label; choose one in Label Studio")
    try:
        return [checked_name(label) for label in labels]
    except ValueError as err:
        raise LabelsInvalid(f"{name} {here}: a label {err}; choose one in Label Studio") from None


def _range(name: str, here: str, rng) -> tuple[int, int]:
    """A range's start and end frames, each a whole number (any sign here; `_rows` says the range rule)."""
    if not isinstance(rng, dict):
        raise LabelsInvalid(f"{name} {here}: {quoted(rng)} is not a range {{\"start\": frame, \"end\": frame}}; {_WHAT}")
    frames = []
    for key in ("start", "end"):
        frame = rng.get(key)
        if not isinstance(frame, int) or isinstance(frame, bool) or abs(frame) > MAX_FRAME:
            raise LabelsInvalid(f"{name} {here}: {key} {quoted(frame)} is not a frame number (a whole number from "
                                f"{FIRST_FRAME} to {MAX_FRAME}); export the project again or fix the range")
        frames.append(frame)
    return frames[0], frames[1]


def _check_spellings(name: str, rows: list[LabelRow]) -> None:
    """Unknown label names: two spellings of one label ('Tom', 'tom ') are two classes, most likely by mistake --
    `names.check_spelling_variants`, saying where in the export each spelling is first used."""
    first: dict[str, str] = {}
    for r in rows:
        first.setdefault(r.label, r.place)
    check_spelling_variants(first, lambda group: f"{name} " + " and ".join(first[label] for label in group))
