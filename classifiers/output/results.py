"""Writers for score results: the JSON document other programs read, and one CSV row per segment.

JSON schema (keys may be added, never renamed)::

    {"model": {...},
     "videos": [{"video", "duration_s", "sample_fps",
                 "screen_time_s": {label: seconds}, "share": {label: fraction},
                 "n_appearances": {label: count}, "first_s": {label: seconds|null},
                 "last_s": {label: seconds|null},
                 "screen_time_interval_s": {label: [low, high]} | null,
                 "segments": [{"start", "end", "label", "confidence"}],
                 "samples": [{"time", "actual_s", "label", "proba": {label: p}}]}],
     "total_screen_time_s": {label: seconds},
     "interval_level": 0.9,
     "interval_note": "where the intervals come from, or why there are none"}

A multi-label model (issue 11; ``model.multi_label`` true) reports characters, not classes: per video,
``screen_time_s``, ``share``, ``n_appearances``, ``first_s``, ``last_s`` and ``screen_time_interval_s``
have one entry per character (not the none label), the time each is on screen, so they may add up to more
than the duration; ``together_s`` (two or more characters on screen) and ``none_s`` (no character) are
added; segments are per character and may overlap; a sample has ``labels`` (the characters on screen, a
list) instead of ``label``, and ``proba`` per character (each in [0, 1], not summing to 1). The document
adds ``total_together_s`` and ``total_none_s``.

`time` is the sampling grid k / sample_fps (what labels files and segments use); `actual_s` is the
presentation time of the frame that was used (what `FeatureStore.load` returns), present when known.
`screen_time_interval_s` is null when the model cannot give intervals (too few labelled videos);
`interval_note` then says why. Seconds are rounded to 3 decimals, shares and probabilities to 4.
The path '-' means stdout.
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from classifiers.chain.timeline import VideoScreenTime, total_screen_time
from featurestore.errors import InvalidParameter, StoreMismatch
from featurestore.files import atomic_output, atomic_write, refusing_unwritable
from featurestore.provenance import json_safe

SECONDS_DECIMALS = 3
FRACTION_DECIMALS = 4
CSV_HEADER = ("video", "start", "end", "label", "confidence")


def results_to_dict(results: Sequence[VideoScreenTime], model_info: dict | None = None, *, interval_note: str = "") -> dict:
    """The JSON document for `results`, as plain Python values (no NumPy types, no NaN).

    Parameters
    ----------
    results : sequence of VideoScreenTime
        One per video, in the order they are reported.
    model_info : dict, optional
        Whatever describes the model (path, name, smoother, classes); made JSON-safe.
    interval_note : str
        Where the screen-time intervals come from, or why there are none.
    """
    levels = [r.interval_level for r in results if r.interval_level is not None]
    doc = {
        "model": json_safe(model_info or {}),
        "videos": [_video_to_dict(r) for r in results],
        "total_screen_time_s": _round_map(total_screen_time(results), SECONDS_DECIMALS),
    }
    if results and all(r.multi_label for r in results):
        doc["total_together_s"] = _round(sum(r.together_s for r in results), SECONDS_DECIMALS)
        doc["total_none_s"] = _round(sum(r.none_s for r in results), SECONDS_DECIMALS)
    return {**doc, "interval_level": levels[0] if levels else None, "interval_note": interval_note}


def is_stdout(path: str | os.PathLike | None) -> bool:
    """True for the path '-', which the writers take to mean standard output."""
    return path is not None and os.fspath(path) == "-"


def write_json(path: str | os.PathLike, results: Sequence[VideoScreenTime], model_info: dict | None = None, *,
               interval_note: str = "") -> Path:
    """Write `results_to_dict(results, model_info, interval_note=...)` to `path` ('-': stdout) as UTF-8 JSON.

    Returns the path. A file is written next to `path` first and renamed, so a failure leaves no half-written file.
    """
    text = _dumps(results_to_dict(results, model_info, interval_note=interval_note))
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return Path(path)
    return atomic_write(path, text)


def write_csv(path: str | os.PathLike, results: Sequence[VideoScreenTime]) -> Path:
    """Write one row per segment, header `video,start,end,label,confidence`, to `path` ('-': stdout)."""
    path = Path(path)
    if is_stdout(path):
        _write_csv_rows(sys.stdout, results)
        sys.stdout.flush()
        return path
    with atomic_output(path) as tmp:
        with open(tmp, "w", newline="", encoding="utf-8") as fh:
            _write_csv_rows(fh, results)
    return path


def _write_csv_rows(fh, results: Sequence[VideoScreenTime]) -> None:
    writer = csv.writer(fh)
    writer.writerow(CSV_HEADER)
    for result in results:
        for seg in result.segments:
            writer.writerow((result.video_id, _round(seg.start_s, SECONDS_DECIMALS), _round(seg.end_s, SECONDS_DECIMALS),
                             seg.label, _round(seg.confidence, FRACTION_DECIMALS)))


def _video_to_dict(result: VideoScreenTime) -> dict:
    proba_rows = np.round(result.proba, FRACTION_DECIMALS).tolist()
    times = np.round(result.sample_s, SECONDS_DECIMALS).tolist()
    classes = result.classes
    key = "labels" if result.multi_label else "label"
    labels = [list(x) for x in result.labels] if result.multi_label else result.labels.tolist()
    if result.actual_s is None:
        samples = [{"time": t, key: label, "proba": dict(zip(classes, row))}
                   for t, label, row in zip(times, labels, proba_rows)]
    else:
        actual = np.round(result.actual_s, SECONDS_DECIMALS).tolist()
        samples = [{"time": t, "actual_s": a, key: label, "proba": dict(zip(classes, row))}
                   for t, a, label, row in zip(times, actual, labels, proba_rows)]
    together = {"together_s": _round(result.together_s, SECONDS_DECIMALS), "none_s": _round(result.none_s, SECONDS_DECIMALS)}
    return {
        "video": result.video_id,
        "duration_s": _round(result.duration_s, SECONDS_DECIMALS),
        "sample_fps": _round(result.sample_fps, 6),
        "screen_time_s": _round_map(result.screen_time_s, SECONDS_DECIMALS),
        "share": _round_map(result.share, FRACTION_DECIMALS),
        **(together if result.multi_label else {}),
        "n_appearances": {k: int(v) for k, v in result.n_appearances.items()},
        "first_s": _round_map(result.first_s, SECONDS_DECIMALS),
        "last_s": _round_map(result.last_s, SECONDS_DECIMALS),
        "screen_time_interval_s": None if result.screen_time_interval_s is None else {
            str(c): [_round(lo, SECONDS_DECIMALS), _round(hi, SECONDS_DECIMALS)] for c, (lo, hi) in result.screen_time_interval_s.items()},
        "segments": [
            {
                "start": _round(s.start_s, SECONDS_DECIMALS),
                "end": _round(s.end_s, SECONDS_DECIMALS),
                "label": s.label,
                "confidence": _round(s.confidence, FRACTION_DECIMALS),
            }
            for s in result.segments
        ],
        "samples": samples,
    }


def _dumps(doc: dict) -> str:
    """JSON text with one line per video header, segment and sample: readable, and C-encoder fast."""

    def enc(value: Any) -> str:
        return json.dumps(value, allow_nan=False, ensure_ascii=False)

    def enc_list(items: list, indent: str) -> str:
        return "[" + ",".join("\n" + indent + enc(x) for x in items) + ("\n" + indent[:-1] + "]" if items else "]")

    videos = []
    for video in doc["videos"]:
        fields = [f"  {enc(k)}: {enc(v)}" for k, v in video.items() if k not in ("segments", "samples")]
        fields += [f"  {enc(k)}: {enc_list(video[k], '   ')}" for k in ("segments", "samples") if k in video]
        videos.append(" {\n" + ",\n".join(fields) + "\n }")
    top = [f'"model": {enc(doc["model"])}', '"videos": [\n' + ",\n".join(videos) + "\n]"]
    top += [f"{enc(k)}: {enc(v)}" for k, v in doc.items() if k not in ("model", "videos")]
    return "{\n" + ",\n".join(top) + "\n}\n"


def _round(value: float | None, decimals: int) -> float | None:
    if value is None:
        return None
    value = float(value)
    return round(value, decimals) if math.isfinite(value) else None


def _round_map(mapping: dict[str, float | None], decimals: int) -> dict[str, float | None]:
    return {str(k): _round(v, decimals) for k, v in mapping.items()}




def check_outputs(*, json_path=None, csv_path=None, plot_path=None, label_studio_path=None, url_prefix=None) -> None:
    """Refuse, before any work, outputs that cannot go where asked: two of them to stdout ('-'), a PNG or Label
    Studio tasks to stdout, a URL prefix without Label Studio tasks.

    Raises InvalidParameter naming the option.
    """
    to_stdout = [name for name, path in (("json_path", json_path), ("csv_path", csv_path)) if is_stdout(path)]
    if len(to_stdout) > 1:
        raise InvalidParameter("csv_path", "only one of --json and --csv can go to stdout (-)")
    if is_stdout(plot_path):
        raise InvalidParameter("plot_path", "a PNG cannot go to stdout; give a file name")
    if is_stdout(label_studio_path):
        raise InvalidParameter("label_studio_path", "the tasks go with their labelling config beside them; give a file name")
    if url_prefix is not None and label_studio_path is None:
        raise InvalidParameter("url_prefix", "is the start of the video URLs of Label Studio tasks; give --label-studio too")


def write_outputs(result, *, json_path=None, csv_path=None, plot_path=None, label_studio_path=None,
                  url_prefix=None) -> list[Path]:
    """Write the requested files of a `ScoreResult` (JSON, segments CSV, timeline PNG, Label Studio tasks with
    their labelling config); returns the paths written.

    JSON or CSV go to stdout when their path is '-'.

    Raises
    ------
    OutputUnwritable
        If a file cannot be written (the others already written stay).
    StoreMismatch
        For Label Studio tasks of a video whose frame rate the store does not record.
    """
    from classifiers.output.plot import plot_timelines

    writers = ((json_path, lambda p: write_json(p, result.videos, result.model_info, interval_note=result.interval_note)),
               (csv_path, lambda p: write_csv(p, result.videos)),
               (plot_path, lambda p: plot_timelines(p, result.videos, classes=result.classes)))
    written = []
    for path, write in writers:
        if path is None:
            continue
        with refusing_unwritable(path):
            write(path)
        written.append(Path(path))
    if label_studio_path is not None:
        written += _write_label_studio(result, label_studio_path, url_prefix)
    return written


def _write_label_studio(result, path, url_prefix) -> list[Path]:
    """Each scored video as a Label Studio task whose prediction is the model's segments (`classifiers.output.label_studio`)."""
    from classifiers.output.label_studio import VideoGuess, write_label_studio

    guesses = []
    for video in result.videos:
        info = result.video_info.get(video.video_id, {})
        if not info.get("fps"):
            raise StoreMismatch(f"the store does not record the frame rate of {video.video_id!r}, which Label Studio counts "
                                "frames at; score it again with --replace")
        regions = [(s.start_s, s.end_s, s.label, s.confidence) for s in video.segments]
        if video.multi_label:  # frames with no character are labelled too, with the none label
            regions += _none_runs(video, result.model_info.get("none_label", "neither"))
        guesses.append(VideoGuess(video.video_id, str(info.get("source_path") or video.video_id), float(info["fps"]),
                                  sorted(regions)))
    none_label = result.model_info.get("none_label")
    labels = list(result.classes) + ([none_label] if result.multi_label and none_label not in result.classes else [])
    model = Path(result.model_info.get("path", "model")).name
    return write_label_studio(path, guesses, labels, model_version=model, url_prefix=url_prefix,
                              header=f"Correct {model}'s guesses on the timeline, then submit")


def _none_runs(video: VideoScreenTime, none_label: str) -> list[tuple[float, float, str, float]]:
    """Multi-label: (start_s, end_s, none_label, confidence) for each run of samples with no character on screen."""
    empty = np.array([len(labels) == 0 for labels in video.labels], dtype=bool)
    step = 1.0 / video.sample_fps
    runs, i = [], 0
    while i < len(empty):
        if not empty[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(empty) and empty[j + 1]:
            j += 1
        confidence = float(np.mean(1.0 - np.max(video.proba[i:j + 1], axis=1)))
        runs.append((float(video.sample_s[i]), min(float(video.sample_s[j]) + step, video.duration_s), none_label, confidence))
        i = j + 1
    return runs
