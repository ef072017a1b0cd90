"""What faces add to score's JSON document (issue 24), beside the multi-label fields it keeps.

Per video: ``unknown_s`` (seconds with a face named as none of the actors), ``tracked_s`` ({actor: seconds seen or carried by
their tracks through missed detections}), ``n_faces``. Per sample, besides ``labels`` (the actors on screen, a list):
``unknown`` (how many such faces) and ``faces``: ``[{"box": [x, y, w, h] normalised, the part inside the frame, "label": actor or
"unknown", "p": probability, "track": id}]``; ``unknown_segments``, the stretches with unknown people
(``segments``' keys, label "unknown"); ``faces_unlike``: the checks for faces too degraded to be named
(`classifiers.chain.face_familiarity`): ``{"near_share": share of faces near an actor's training face,
"below_training": {quality part: share of faces below 19 in 20 training faces (and the part's full marks)}, "faults": [what fired: "far",
"few near", quality parts], "words": what is off, in plain words, or null}``. The document adds ``total_unknown_s``.
"""

from __future__ import annotations

import math

import numpy as np

from classifiers.chain.face_decide import UNKNOWN

from .notes import faces_degraded

SECONDS_DECIMALS = 3
FRACTION_DECIMALS = 4


def is_face_result(video) -> bool:
    """Whether a scored video came from a face model (`classifiers.chain.face_time.FaceScreenTime`)."""
    return getattr(video, "faces", None) is not None


def add_face_fields(doc: dict, video) -> dict:
    """`doc` (one video of score's JSON) with the face fields of `video` added; its samples' too."""
    calls = video.faces
    doc["unknown_s"] = _round(video.unknown_s, SECONDS_DECIMALS)
    doc["tracked_s"] = {str(a): _round(s, SECONDS_DECIMALS) for a, s in video.tracked_s.items()}
    doc["n_faces"] = int(len(calls.label))
    near = None if video.near_share is None else _round(video.near_share, FRACTION_DECIMALS)
    below = {str(k): _round(v, FRACTION_DECIMALS) for k, v in (video.poorer or {}).items()}
    doc["faces_unlike"] = {"near_share": near, "below_training": below, "faults": list(video.faults),
                           "words": faces_degraded(video) or None}
    doc["unknown_segments"] = [{"start": _round(g.start_s, SECONDS_DECIMALS), "end": _round(g.end_s, SECONDS_DECIMALS),
                                "label": g.label, "confidence": _round(g.confidence, FRACTION_DECIMALS)}
                               for g in video.unknown_segments]
    order = np.argsort(calls.sample, kind="stable")
    starts = np.searchsorted(calls.sample[order], np.arange(len(doc["samples"]) + 1))
    box = np.round(calls.box, FRACTION_DECIMALS).tolist()
    p = np.round(calls.p, FRACTION_DECIMALS).tolist()
    for k, sample in enumerate(doc["samples"]):
        rows = order[starts[k]:starts[k + 1]].tolist()
        sample["unknown"] = int(sum(calls.label[r] == UNKNOWN for r in rows))
        sample["faces"] = [{"box": box[r], "label": str(calls.label[r]), "p": p[r], "track": int(calls.track[r])}
                           for r in rows]
    return doc


def add_face_totals(doc: dict, videos) -> dict:
    """`doc` (score's JSON) with ``total_unknown_s`` when every video came from a face model."""
    if videos and all(is_face_result(v) for v in videos):
        doc["total_unknown_s"] = _round(sum(v.unknown_s for v in videos), SECONDS_DECIMALS)
    return doc


def segments_with_unknown(video) -> list:
    """A video's segments, and for a face-scored one its `unknown_segments` too, in time order (the segments CSV's
    and `Score.to_pandas().segments`' rows)."""
    if not is_face_result(video):
        return list(video.segments)
    return sorted([*video.segments, *video.unknown_segments], key=lambda g: g.start_s)


def _round(value, decimals: int):
    value = float(value)
    return round(value, decimals) if math.isfinite(value) else None
