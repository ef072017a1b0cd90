"""What faces add to score's HTML report (issue 24): named boxes over the thumbnails, and each actor's appearances.

For a video scored by a face model, every segment thumbnail (`classifiers.output.thumbnails`: the sampled frames
themselves) gets the boxes of the faces found in it, named with the actor or 'unknown', drawn by the template as
SVG rectangles over the image; and each actor gets a list of appearances (segments) with first and last time, seconds
seen and carried by tracks, and the first thumbnail of each. Nothing is decoded here: the segment thumbnails are
reused.
"""

from __future__ import annotations

import numpy as np

from classifiers.chain.face_decide import UNKNOWN

from .face_results import is_face_result

UNKNOWN_COLOUR = "#9e9e9e"
MAX_APPEARANCES = 24  # thumbnails per actor in the appearances list


def add_face_context(contexts: list[dict], result, colours: dict) -> None:
    """Add ``faces`` (totals, appearances) to each face-scored video's report context, and ``boxes`` to its thumbnails.

    `contexts` are the report's per-video contexts (`classifiers.output.report`), in `result.videos` order.
    """
    for ctx, video in zip(contexts, result.videos):
        if not is_face_result(video):
            continue
        calls = video.faces
        width, height = (float(x) for x in calls.frame_size) if all(calls.frame_size) else (16.0, 9.0)
        for seg in ctx["segments"]:
            for th in seg["thumbs"]:
                k = int(np.argmin(np.abs(video.sample_s - th["time_s"]))) if len(video.sample_s) else 0
                th["frame_w"], th["frame_h"] = width, height
                th["boxes"] = [_box(calls, r, width, height, colours) for r in calls.at(k).tolist()]
        _add_unknown_lane(ctx, video)
        ctx["faces"] = {
            "unknown_s": video.unknown_s, "n_faces": int(len(calls.label)), "frame_w": width, "frame_h": height,
            "actors": [_appearances(video, ctx, a, colours) for a in video.classes],
        }


def _add_unknown_lane(ctx: dict, video) -> None:
    """A grey band under the actors' rows of the timeline: when a face of nobody labelled is on screen (no probability
    line: it is what is left unnamed)."""
    d = ctx["data"]

    def x(t: float) -> float:
        return round(d["x0"] + d["width"] * min(max(t, 0.0), d["end_s"]) / d["end_s"], 2)

    ctx["rows"].append({"label": UNKNOWN, "colour": UNKNOWN_COLOUR, "top": ctx["axis_y"] + ctx["name_h"], "proba_top": None, "path": "",
                        "threshold_y": None, "threshold": None,
                        "segments": [{"index": None, "x": x(g.start_s), "w": max(round(x(g.end_s) - x(g.start_s), 2), 0.3)}
                                     for g in video.unknown_segments]})
    grow = ctx["name_h"] + ctx["band_h"] + ctx["row_gap"]
    ctx["axis_y"] += grow
    ctx["height"] += grow


def _box(calls, r: int, width: float, height: float, colours: dict) -> dict:
    x, y, w, h = (float(v) for v in calls.box[r])
    label = str(calls.label[r])
    return {"x": round(x * width, 1), "y": round(y * height, 1), "w": round(w * width, 1), "h": round(h * height, 1),
            "label": label, "p": round(float(calls.p[r]), 2),
            "colour": UNKNOWN_COLOUR if label == UNKNOWN else colours.get(label, UNKNOWN_COLOUR)}


def _appearances(video, ctx: dict, actor: str, colours: dict) -> dict:
    segments = [s for s in ctx["segments"] if s["label"] == actor]
    return {"label": actor, "colour": colours.get(actor, UNKNOWN_COLOUR), "seconds": video.screen_time_s.get(actor, 0.0),
            "tracked_s": video.tracked_s.get(actor, 0.0), "n": len(segments), "first": video.first_s.get(actor),
            "last": video.last_s.get(actor),
            "shown": [{"start_s": s["start_s"], "end_s": s["end_s"], "thumb": s["thumbs"][0] if s["thumbs"] else None}
                      for s in segments[:MAX_APPEARANCES]],
            "more": max(0, len(segments) - MAX_APPEARANCES)}
