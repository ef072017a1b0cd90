"""Label Studio tasks whose predictions are the model's guesses, and the labelling config of their project.

One task per stored video: ``data`` holds ``video`` (its URL), ``fps`` (its frame rate, which the config's
``<Video frameRate="$fps">`` reads) and ``video_id`` (the stored id, so an export matches it exactly); one
prediction (a pre-annotation to correct) with ``model_version`` (the model file), ``score`` (the mean confidence
of its regions) and ``result``: ``timelinelabels`` regions, ``value.ranges`` in Label Studio's frames (from 1,
`classifiers.data.label_studio`). The URL is ``--url-prefix`` + the file name, else the source file served by
Label Studio's local storage (``/data/local-files/?d=`` + its path under the default document root ``/``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from urllib.parse import quote

import numpy as np

from classifiers.chain.presence import character_runs
from classifiers.chain.timeline import VideoScreenTime
from classifiers.data.label_studio import RESULT_TYPE, seconds_to_range
from featurestore.errors import StoreMismatch

FROM_NAME = "characters"  # the TimelineLabels control
TO_NAME = "video"  # the Video object, and the task data key of its URL
LOCAL_FILES = "/data/local-files/?d="


@dataclass
class VideoGuess:
    """The model's guess over parts of one stored video: regions (start_s, end_s, label, confidence), seconds."""

    video_id: str
    source_path: str
    fps: float
    regions: list[tuple[float, float, str, float]] = field(default_factory=list)


def task_url(source_path: str, url_prefix: str | None = None) -> str:
    """The video's URL in a task: `url_prefix` + its file name, else Label Studio's local files URL of its path."""
    if url_prefix is not None:
        return url_prefix + quote(PurePath(source_path).name)
    return LOCAL_FILES + quote(str(PurePath(source_path)).lstrip("/"), safe="/")


def label_studio_tasks(guesses: list[VideoGuess], model_version: str, *, url_prefix: str | None = None) -> list[dict]:
    """Label Studio's import JSON: one task per video, its regions as one prediction (frames from 1, both included)."""
    tasks = []
    for g in guesses:
        result = []
        for i, (start_s, end_s, label, _) in enumerate(g.regions):
            start, end = seconds_to_range(start_s, end_s, g.fps)
            result.append({"id": f"{i + 1}", "from_name": FROM_NAME, "to_name": TO_NAME, "type": RESULT_TYPE,
                           "value": {"ranges": [{"start": start, "end": end}], RESULT_TYPE: [label]}})
        confidence = [c for *_, c in g.regions]
        prediction = {"model_version": model_version, "result": result}
        if confidence:
            prediction["score"] = round(sum(confidence) / len(confidence), 4)
        tasks.append({"data": {TO_NAME: task_url(g.source_path, url_prefix), "fps": round(g.fps, 6), "video_id": g.video_id},
                      "predictions": [prediction]})
    return tasks


def labelling_config(labels: list[str], *, header: str = "") -> str:
    """The project's labelling config: the task's video at its own frame rate, and a TimelineLabels of `labels`."""
    view = ElementTree.Element("View")
    if header:
        ElementTree.SubElement(view, "Header", value=header)
    ElementTree.SubElement(view, "Video", name=TO_NAME, value=f"${TO_NAME}", frameRate="$fps")
    timeline = ElementTree.SubElement(view, "TimelineLabels", name=FROM_NAME, toName=TO_NAME)
    for label in labels:
        ElementTree.SubElement(timeline, "Label", value=label)
    ElementTree.indent(view)
    return ElementTree.tostring(view, encoding="unicode") + "\n"


def config_path_for(tasks_path: str | Path) -> Path:
    """Where the labelling config goes beside the tasks: tasks.json -> tasks.config.xml."""
    tasks_path = Path(tasks_path)
    return tasks_path.with_name(f"{tasks_path.stem}.config.xml")


def label_studio_files(tasks_path: str | Path, guesses: list[VideoGuess], labels: list[str], *, model_version: str,
                       url_prefix: str | None = None, header: str = "") -> list[tuple[Path, object]]:
    """The tasks JSON and its labelling config (`config_path_for`) as ``(path, write(tmp))`` pairs, for the
    caller to write together with its other outputs (`featurestore.files.write_together`)."""
    tasks = json.dumps(label_studio_tasks(guesses, model_version, url_prefix=url_prefix), indent=1, ensure_ascii=False)
    config = labelling_config(labels, header=header)
    return [(Path(tasks_path), lambda tmp: tmp.write_text(tasks + "\n", encoding="utf-8")),
            (config_path_for(tasks_path), lambda tmp: tmp.write_text(config, encoding="utf-8"))]


def score_task_files(result, path, url_prefix=None) -> list[tuple[Path, object]]:
    """Each video of a `ScoreResult` as a Label Studio task whose prediction is the model's segments (`score
    --label-studio`), with the labelling config: ``(path, write)`` pairs as `label_studio_files`.

    Raises StoreMismatch, before anything is written, for a video whose frame rate the store does not record.
    """
    guesses = []
    none_label = result.model_info.get("none_label", "neither")
    for video in result.videos:
        info = result.video_info.get(video.video_id, {})
        if not info.get("fps"):
            raise StoreMismatch(f"the store does not record the frame rate of {video.video_id!r}, which Label Studio counts "
                                "frames at; score it again with --replace")
        regions = [(s.start_s, s.end_s, s.label, s.confidence) for s in video.segments]
        if video.multi_label:  # frames with no character are labelled too, with the none label
            regions += _none_runs(video, none_label)
        guesses.append(VideoGuess(video.video_id, str(info.get("source_path") or video.video_id), float(info["fps"]),
                                  sorted(regions)))
    labels = list(result.classes) + ([none_label] if result.multi_label and none_label not in result.classes else [])
    model = Path(result.model_info.get("path", "model")).name
    return label_studio_files(path, guesses, labels, model_version=model, url_prefix=url_prefix,
                              header=f"Correct {model}'s guesses on the timeline, then submit")


def _none_runs(video: VideoScreenTime, none_label: str) -> list[tuple[float, float, str, float]]:
    """Multi-label: (start_s, end_s, none_label, confidence) for each run of samples with no character on screen."""
    if not len(video.sample_s):
        return []
    empty = np.array([len(labels) == 0 for labels in video.labels], dtype=bool)
    bounds = np.minimum(np.r_[video.sample_s, video.sample_s[-1] + 1.0 / video.sample_fps], video.duration_s)
    return [(s.start_s, s.end_s, s.label, s.confidence)
            for s in character_runs(bounds, empty, 1.0 - np.max(video.proba, axis=1), none_label)]
