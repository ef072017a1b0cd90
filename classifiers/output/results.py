"""Writers for score results: the JSON document other programs read, and one CSV row per segment.

JSON schema (keys may be added, never renamed)::

    {"model": {..., "intervals": {"method", "n_videos", "level_asked", "level_claimed"} | null},
     "videos": [{"video", "duration_s", "sample_fps",
                 "screen_time_s": {label: seconds}, "share": {label: fraction},
                 "n_appearances": {label: count}, "first_s": {label: seconds|null},
                 "last_s": {label: seconds|null},
                 "screen_time_interval_s": {label: [low, high]} | null,
                 "segments": [{"start", "end", "label", "confidence"}],
                 "samples": [{"time", "actual_s", "label", "proba": {label: p}}],
                 "unlike_training": true | false | null, "training_distance": float | null,
                 "raw_training_distance": float | null, "warning": str | null}],
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
`interval_note` then says why. `interval_level` is the level the intervals claim: the level asked for
(``--interval-level``), or less where the held-out videos cannot support it (``model.intervals``:
at most n/(n+1) with n of them; `classifiers.chain.intervals`). `unlike_training` is true for a video further from the training samples than
the videos held out in cross-validation were (`training_distance`, `model.unlike_training.threshold`; or, as
embedded, before the per-video stages, `raw_training_distance`, `model.unlike_training.raw.threshold`;
`classifiers.chain.familiarity`), null when the model cannot tell (older model files, one labelled video);
`warning` then says so in words (null otherwise).
A face model (``score --faces``, issue 24) adds ``unknown_s``, ``tracked_s`` and per sample ``faces`` and ``unknown``
(`classifiers.output.face_results`). Seconds are rounded to 3 decimals, shares and probabilities to 4.
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
from classifiers.output.face_results import add_face_fields, add_face_totals, is_face_result, segments_with_unknown
from featurestore.files import atomic_output, atomic_write
from featurestore.provenance import json_safe

from .cells import csv_row
from .notes import unlike_note

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
    add_face_totals(doc, results)  # score --faces (issue 24)
    return {**doc, "interval_level": levels[0] if levels else None, "interval_note": interval_note}


def is_stdout(path: str | os.PathLike | None) -> bool:
    """True for the path '-', which the writers take to mean standard output."""
    return path is not None and os.fspath(path) == "-"


def write_json(path: str | os.PathLike, results: Sequence[VideoScreenTime], model_info: dict | None = None, *,
               interval_note: str = "") -> Path:
    """Write `results_to_dict(results, model_info, interval_note=...)` to `path` ('-': stdout) as UTF-8 JSON.

    Returns the path. A file is written next to `path` first and renamed, so a failure leaves no half-written file.
    """
    text = json_text(results, model_info, interval_note=interval_note)
    if is_stdout(path):
        sys.stdout.write(text)
        sys.stdout.flush()
        return Path(path)
    return atomic_write(path, text)


def json_text(results: Sequence[VideoScreenTime], model_info: dict | None = None, *, interval_note: str = "") -> str:
    """The JSON document of `results_to_dict` as text, one line per video header, segment and sample."""
    return _dumps(results_to_dict(results, model_info, interval_note=interval_note))


def write_csv(path: str | os.PathLike, results: Sequence[VideoScreenTime]) -> Path:
    """Write one row per segment, header `video,start,end,label,confidence`, to `path` ('-': stdout); text that a
    spreadsheet would run as a formula gets a leading ' (`classifiers.output.cells`)."""
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
        for seg in segments_with_unknown(result):  # a face model's unknown people too, in time order
            writer.writerow(csv_row((result.video_id, _round(seg.start_s, SECONDS_DECIMALS),
                                     _round(seg.end_s, SECONDS_DECIMALS), seg.label, _round(seg.confidence, FRACTION_DECIMALS))))


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
    doc = {
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
        "unlike_training": result.unlike_training,
        "training_distance": _round(result.training_distance, FRACTION_DECIMALS),
        "raw_training_distance": _round(result.raw_training_distance, FRACTION_DECIMALS),
        "warning": unlike_note(result),
    }
    return add_face_fields(doc, result) if is_face_result(result) else doc  # score --faces (issue 24)


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
