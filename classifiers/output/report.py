"""score's HTML report: one self-contained page to check screen time by looking (issue 18).

Per video: the screen-time table with intervals; an interactive timeline (one band per class with its
segments, each class's probability under it with its threshold; hover for time and probabilities, click a
segment for its frames), drawn as inline SVG by the template; each segment's thumbnails (first, middle, last
sample, `classifiers.output.thumbnails`); then the totals, the model's provenance and every warning in plain
sight (random weights, no interval, unlike the training videos, no thumbnails and why). Rendered by Jinja2
from ``report.html.j2`` beside this module; the page loads nothing (no CDN, no server, no network request).
Its one script (``report.js``, inlined) runs by its hash in the page's Content-Security-Policy, which allows no
other script (no 'unsafe-inline'): escaping is not the only guard against a name that smuggles one in.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import numpy as np

from classifiers.chain.timeline import VideoScreenTime
from featurestore.errors import SourceVideoMoved

from .colours import TAB10, class_colours
from .face_report import add_face_context
from .numbers import clock_ticks, format_clock
from .notes import (UNSURE_WARN_SHARE, faces_unlike_words, likely_range_words, unlike_reason, unsure_how, unsure_share,
                    unsure_words)
from .thumbnails import VideoThumbnails, plan_thumbnails, video_thumbnails

TEMPLATE = "report.html.j2"
SCRIPT = "report.js"  # the page's one script, allowed by its hash in the page's CSP: no other script can run
# Timeline geometry, in SVG user units (the SVG scales to the page width).
# 860 units wide: drawn at 770-1070 px (an 800 px window to the page's widest), its 12-unit text is 11-15 px (issue 26).
WIDTH, LEFT, RIGHT = 860.0, 100.0, 16.0
# Each row: its name on a line of its own over the whole width (a long name, "Sir Patrick Stewart as Captain Jean-Luc
# Picard", is read whole, not cut by the plot), then its band, then its probability.
NAME_H, BAND_H, PROBA_H, ROW_GAP, AXIS_H = 15.0, 16.0, 40.0, 8.0, 22.0


def report_html(result, *, thumbnails: bool = True) -> str:
    """The report page of a `ScoreResult` (`classifiers.score.ScoreResult`) as HTML text.

    With `thumbnails`, each video's segment frames are decoded from its source file (found as
    `featurestore.video.sources.find_source` says); a video whose source is gone gets a note instead.
    """
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from markupsafe import Markup

    env = Environment(loader=FileSystemLoader(Path(__file__).parent), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    script = (Path(__file__).parent / SCRIPT).read_text(encoding="utf-8")
    env.filters["seconds"] = format_seconds
    env.filters["clock"] = format_clock
    classes = list(result.classes)
    colours = class_colours(classes)  # as in the timeline PNG: a class keeps its colour
    plans = plan_thumbnails(result.videos) if thumbnails else [{} for _ in result.videos]
    thumbs = [_thumbnails(result, video, plan, thumbnails) for video, plan in zip(result.videos, plans)]
    videos = [_video_context(v, t, colours, result.model_info) for v, t in zip(result.videos, thumbs)]
    add_face_context(videos, result, colours)  # score --faces: named boxes, appearances (issue 24)
    return env.get_template(TEMPLATE).render(
        title=", ".join(v.video_id for v in result.videos) or "no video", videos=videos, classes=classes, colours=colours,
        multi_label=result.multi_label, model=result.model_info, totals=_totals(result), about=model_about(result),
        warnings=page_warnings(result, thumbs, [v["unsure"] for v in videos]), interval_level=result.interval_level, interval_note=result.interval_note,
        range_words=likely_range_words(result.interval_level) if any(v.screen_time_interval_s for v in result.videos) else "",
        data={"videos": [v["data"] for v in videos]}, script=Markup(script), script_hash=Markup(script_source(script)),
        frames=FramesOnce(),
    )


class FramesOnce:
    """Each thumbnail's JPEG goes into the page once: a frame shown again (overlapping segments of a multi-label
    model share their samples: 2.5 copies a frame with 12 characters) names the first by its id, and the page's
    script (an <img>) or an SVG <use> (a face thumbnail) shows it from there."""

    def __init__(self) -> None:
        self._ids: dict[str, str] = {}

    def place(self, uri: str) -> dict:
        """{"id": the frame's id in the page, "first": whether this is its first place (which holds the JPEG)}."""
        first = uri not in self._ids
        frame_id = self._ids.setdefault(uri, f"frame-{len(self._ids)}")
        return {"id": frame_id, "first": first}


def script_source(script: str) -> str:
    """The CSP source that lets `script`, and no other inline script, run: ``'sha256-<base64 digest>'``."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def page_warnings(result, thumbs: list[VideoThumbnails], unsure: list[float | None]) -> list[str]:
    """Everything a reader must not miss, one sentence each: weights, intervals, unlike videos, unsure videos (`unsure`:
    each video's `unsure_share`, as its context holds it), missing frames."""
    out = []
    faces = bool(result.model_info.get("faces"))  # a face model (issue 24) uses no VGG16; it keeps training faces
    weights = str(result.model_info.get("embedding_config", {}).get("weights", ""))
    if weights.startswith("random") and not faces:
        out.append("VGG16 ran with random weights (not pretrained): the features, and so the screen times, are less "
                   "reliable than with the ImageNet weights.")
    if not result.interval_note or result.interval_note.startswith("no interval"):
        out.append(f"No error bars: {result.interval_note or 'the model gives none'}.")
    retrain = "compare-models --faces" if faces else "compare-models"
    if result.model_info.get("unlike_training") is None:
        out.append(f"This model file keeps no record of its training {'faces' if faces else 'samples'} (saved before "
                   f"this check existed), so nothing says whether a video is unlike the training videos; retrain it "
                   f"with {retrain}.")
    elif result.model_info["unlike_training"].get("threshold") is None:
        out.append("Cross-validation held out no whole video, so nothing says whether a video is unlike the training "
                   "videos; label at least two videos.")
    for video, t, share in zip(result.videos, thumbs, unsure):
        if video.unlike_training:
            out.append(f"{video.video_id} is unlike the training videos: "
                       f"{faces_unlike_words(video) if faces else 'its screen time may be far off'}; label some of it"
                       f"{'' if faces else ' (suggest-labels)'} and retrain.")
        if share is not None and share >= UNSURE_WARN_SHARE:
            out.append(unsure_words(video, share))
        if t.note.startswith("no thumbnails"):
            out.append(f"{video.video_id}: {t.note}.")
    return out


def _thumbnails(result, video: VideoScreenTime, plan: dict, wanted: bool) -> VideoThumbnails:
    if not wanted:
        return VideoThumbnails()
    if not video.segments:
        return VideoThumbnails(note="no segment to show")
    source, note = source_of(result, video.video_id)
    return video_thumbnails(video, plan, source, missing_note=note)


def source_of(result, video_id: str) -> tuple[Path | None, str]:
    """(the file a scored video's frames can be decoded from, or None; why not)."""
    from featurestore.video.sources import find_source

    for report in getattr(result, "embed_reports", []):
        if report.video_id == video_id and report.path and Path(report.path).is_file():
            return Path(report.path), ""
    info = getattr(result, "video_info", {}).get(video_id)
    if info is None:
        return None, "no thumbnails: the feature store is not known, so neither is the source video"
    try:
        return find_source(video_id, info), ""
    except SourceVideoMoved:
        recorded = info.get("source_path") or "(not recorded)"
        return None, (f"no thumbnails: its source video {recorded} has moved, changed or been deleted (its stored "
                      "features were scored); put the file back there to see its frames")


def _video_context(video: VideoScreenTime, thumbs: VideoThumbnails, colours: dict, model_info: dict) -> dict:
    end_s = max(video.duration_s, float(video.sample_s[-1]) if len(video.sample_s) else 0.0) or 1.0
    plot_w = WIDTH - LEFT - RIGHT

    def x(t: float) -> float:
        return round(LEFT + plot_w * min(max(t, 0.0), end_s) / end_s, 2)

    rows = []
    thresholds = model_info.get("thresholds", {}) if video.multi_label else {}
    for j, c in enumerate(video.classes):
        top = j * (NAME_H + BAND_H + PROBA_H + ROW_GAP) + NAME_H  # the band's top; the name is over it
        segs = [{"index": i, "x": x(s.start_s), "w": max(round(x(s.end_s) - x(s.start_s), 2), 0.3)}
                for i, s in enumerate(video.segments) if s.label == c]
        rows.append({"label": c, "colour": colours.get(c, TAB10[0]), "top": top, "segments": segs,
                     "proba_top": top + BAND_H, "path": _step_path(video, j, x, top + BAND_H),
                     "threshold_y": None if c not in thresholds else round(top + BAND_H + PROBA_H * (1 - thresholds[c]), 2),
                     "threshold": thresholds.get(c)})
    height = len(rows) * (NAME_H + BAND_H + PROBA_H + ROW_GAP)
    segments = []
    for i, s in enumerate(video.segments):
        segments.append({"index": i, "start_s": s.start_s, "end_s": s.end_s, "label": s.label, "confidence": s.confidence,
                         "colour": colours.get(s.label, TAB10[0]),
                         "thumbs": [{"uri": uri, "time_s": float(video.sample_s[k]), "p": _p(video, k, s.label)}
                                    for k, uri in thumbs.by_segment.get(i, [])]})
    interval = video.screen_time_interval_s or {}
    table = [{"label": c, "seconds": video.screen_time_s.get(c, 0.0), "share": video.share.get(c, 0.0),
              "interval": interval.get(c), "n": video.n_appearances.get(c, 0), "first": video.first_s.get(c),
              "last": video.last_s.get(c), "colour": colours.get(c, TAB10[0])} for c in video.classes]
    return {"id": video.video_id, "duration_s": video.duration_s, "sample_fps": video.sample_fps, "n_samples": len(video.sample_s),
            "table": table, "seconds_of": dict(video.screen_time_s), "together_s": video.together_s, "none_s": video.none_s, "none_label": video.none_label,
            "multi_label": video.multi_label, "rows": rows, "height": height + AXIS_H, "axis_y": height, "width": WIDTH,
            "name_h": NAME_H, "band_h": BAND_H, "proba_h": PROBA_H, "row_gap": ROW_GAP,
            "ticks": [{"x": x(t), "label": format_clock(t)} for t in clock_ticks(end_s)], "x0": LEFT, "x1": WIDTH - RIGHT,
            "segments": segments, "thumb_note": thumbs.note, "source": thumbs.source,
            "unsure": unsure_share(video, thresholds), "unsure_how": unsure_how(video),
            "unlike_training": video.unlike_training, "training_distance": video.training_distance,
            "unlike_reason": unlike_reason(video, model_info.get("unlike_training")) if video.unlike_training else "",
            "data": {"id": video.video_id, "end_s": end_s, "x0": LEFT, "width": plot_w, "classes": list(video.classes),
                     "times": np.round(video.sample_s, 3).tolist(),
                     # in hundredths, as the tooltip shows them; each sample's answer as an index into its names
                     "proba_pct": (np.rint(100 * np.clip(video.proba.T, 0, 1)).astype(int).tolist() if len(video.sample_s)
                                   else [[] for _ in video.classes]),
                     **_sample_labels(video)}}


def _sample_labels(video: VideoScreenTime) -> dict:
    """{"names": each distinct answer once, "label_at": per sample, its answer's index in names}."""
    if video.multi_label:
        labels = [" + ".join(x) or (video.none_label or "none") for x in video.labels]
    else:
        labels = [str(x) for x in video.labels]
    names = list(dict.fromkeys(labels))
    index = {name: i for i, name in enumerate(names)}
    return {"names": names, "label_at": [index[label] for label in labels]}


def _p(video: VideoScreenTime, k: int, label: str) -> float | None:
    return float(video.proba[k, video.classes.index(label)]) if label in video.classes else None


def _step_path(video: VideoScreenTime, j: int, x, top: float) -> str:
    """SVG path of class `j`'s probability as steps (each sample holds over its interval). A step that goes on draws
    nothing; changes inside one unit of width (a 2-hour video has 10 samples a unit) draw their range there, as a
    vertical line, then the last value: a spike stays in sight, and the path has at most ~4 commands a unit."""
    if not len(video.sample_s):
        return ""
    starts = [x(t) for t in video.sample_s.tolist()]
    ys = np.round(top + PROBA_H * (1 - np.clip(video.proba[:, j], 0, 1)), 1).tolist()
    parts = [f"M{starts[0]},{ys[0]}"]
    column = None  # [x where the changes inside one unit begin, lowest, highest, last value]

    def flush() -> None:
        cx, low, high, last = column
        steps = [low, high] if low != high else []
        parts.append(f"H{cx}" + "".join(f"V{y}" for y in steps + ([last] if not steps or steps[-1] != last else [])))

    previous = ys[0]
    for x0, y in zip(starts[1:], ys[1:]):
        if y == previous:
            continue
        previous = y
        if column is not None and int(x0) == int(column[0]):
            column[1:] = [min(column[1], y), max(column[2], y), y]
            continue
        if column is not None:
            flush()
        column = [x0, y, y, y]
    if column is not None:
        flush()
    parts.append(f"H{x(video.sample_s[-1] + video.sample_duration_s[-1])}")
    return "".join(parts)


def _totals(result) -> dict:
    from classifiers.chain.timeline import total_interval

    total = result.total_screen_time_s
    out = {"screen_time_s": total, "duration_s": sum(v.duration_s for v in result.videos),
           "interval": total_interval(result.videos) or {}, "appearances": {c: sum(v.n_appearances.get(c, 0) for v in result.videos)
                                                                          for c in result.classes},
           "none_label": result.model_info.get("none_label") or "none"}
    if result.multi_label:
        out["together_s"] = sum(v.together_s or 0.0 for v in result.videos)
        out["none_s"] = sum(v.none_s or 0.0 for v in result.videos)
    return out


def model_about(result) -> list[dict]:
    """The model in plain words, one line each, with the statistics behind it for a details line:
    [{"what", "words", "details"}] (issue 26)."""
    m = result.model_info
    scores, cv = m.get("scores") or {}, m.get("cv") or {}
    f1 = scores.get("macro_f1")
    rows = [{"what": "how well it did", "words": (f"on videos it had not seen in training, it named who was on screen "
                                                   f"with an F1 score of {f1:.2f} (1 is perfect, 0 is always wrong)")
             if f1 is not None else "not measured", "details": ", ".join(f"{k} {v:.3f}" for k, v in scores.items())
             + (f"; {cv.get('description') or cv.get('scheme')}" if cv else "") + (f" — {cv['caveat']}" if cv.get("caveat") else "")}]
    norm, context_s = m.get("feature_norm", "none"), float(m.get("context_s") or 0.0)
    words = ("each video's average look (its rooms, its lighting) is taken away first, so what changes inside it counts"
             if norm in ("center", "standardize") else "each frame is read as it is")
    words += "; each feature is then scaled by how much it changes in that video" if norm == "standardize" else ""
    words += f"; every moment is read with the {context_s:g} s around it" if context_s else "; every moment is read alone"
    rows.append({"what": "how it reads a video", "words": words,
                 "details": f"per-video feature normalisation {norm}, temporal context ±{context_s:g} s"})
    smoothing = m.get("smoothing") or {}
    window = smoothing.get("window_s")
    rows.append({"what": "smoothing", "words": (f"answers are smoothed over about {window:g} s, so a blink does not make an "
                                                "appearance") if window and smoothing.get("method") != "none" else "none",
                 "details": f"{smoothing.get('method')}{f' {window:g} s' if window else ''}"})
    rows.append(_unlike_row(m.get("unlike_training") or {}))
    return rows


def _unlike_row(unlike: dict) -> dict:
    """The about-box's row on the unlike-the-training-videos check: each check the model file holds (the distance;
    a face model's near and poorer checks, which older files lack), or "not checked"."""
    words, details = [], []
    if unlike.get("threshold") is not None:
        words.append("its faces are further from the labelled faces than any video held out in cross-validation was"
                     if unlike.get("faces") else
                     "it is further from the training videos than any video held out in cross-validation was")
        details.append(f"distance beyond {unlike['threshold']:.2f} ({unlike['margin']} × the furthest of "
                       f"{len(unlike['held_out'])} held-out videos)" + (
                           f"; as embedded, before the per-video stages, beyond {unlike['raw']['threshold']:.2f}"
                           if (unlike.get("raw") or {}).get("threshold") is not None else ""))
    degraded = []
    if unlike.get("near_threshold") is not None:
        degraded.append("few come near an actor's labelled faces")
        details.append(f"fewer than {100 * unlike['near_threshold']:.0f}% of its faces within "
                       f"{unlike['near_distance']:g} of an actor's training face")
    if unlike.get("low"):
        degraded.append("poorer than the training videos': blurrier, smaller or less clear to the detector")
        details.append(f"at least {100 * unlike['poor_share']:.0f}% of its faces below 19 in 20 training faces' "
                       "sharpness, height or detector score (and where faces lose detail: sharpness 50, 80 px)")
    if degraded:
        words.append(f"its faces are too degraded to be named ({', or '.join(degraded)})")
    return {"what": "unlike the training videos?",
            "words": "a video is flagged when " + ", or ".join(words) if words else "not checked",
            "details": "; or ".join(details)}


def format_seconds(value) -> str:
    """'81.0 s' (None: '–')."""
    return "–" if value is None else f"{float(value):.1f} s"
