"""The figures issues 24 and 25 are judged by, on composed footage whose truth is known (`cartoons.actors`).

`evaluate` takes what a pipeline predicted for each held-out video (`Predicted`) and the videos' truth and gives:
each actor's screen-time error as % of the videos' duration (and the worst), per-second accuracy per actor,
extras counted as cast (% of their seconds), and the coverage of the error bars. `cluster_figures` gives issue
25's: cluster purity and the names a person types to cover 90% of the cast's faces (`true_people` says who
each stored face really is).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cartoons.actors import ActorVideo
from cartoons.cast import CAST, EXTRA_PREFIX

MATCH_IOU = 0.3  # a predicted face is the truth's face when their boxes overlap this much (intersection over union)


@dataclass
class Predicted:
    """One held-out video as a pipeline saw it.

    times_s : (m,) sample times, seconds (the sampling grid); labels : m sets of the actors said to be on screen;
    screen_time_s : actor -> seconds; interval_s : actor -> (low, high) seconds, or None when the pipeline gives
    no error bars; faces : per-face predictions, (time_s, box (4,) px x, y, w, h, label) with label an actor or
    anything else for 'not cast' -- or None when the pipeline does not say which face is whose.
    """

    video_id: str
    times_s: np.ndarray
    labels: list
    screen_time_s: dict
    interval_s: dict | None = None
    faces: list | None = None


def from_screen_time(video, *, cast=CAST) -> Predicted:
    """A `Predicted` from one of score's `VideoScreenTime` (multi-label: a tuple of labels per sample)."""
    labels = [frozenset(x if isinstance(x, (tuple, list, set, frozenset)) else (x,)) & set(cast) for x in video.labels]
    calls, faces = getattr(video, "faces", None), None
    if calls is not None:  # a face model says which face is whose: (time_s, box in px, label) per face
        w, h = calls.frame_size
        times = np.asarray(video.sample_s, np.float64)[calls.sample]
        faces = [(float(t), np.asarray(b, np.float64) * [w, h, w, h], str(label))
                 for t, b, label in zip(times, calls.box, calls.label)]
    return Predicted(video.video_id, np.asarray(video.sample_s, np.float64), labels,
                     {a: float(video.screen_time_s.get(a, 0.0)) for a in cast},
                     {a: tuple(video.screen_time_interval_s[a]) for a in cast if a in video.screen_time_interval_s}
                     if video.screen_time_interval_s else None, faces)


def evaluate(predicted: list[Predicted], truth: list[ActorVideo], *, cast=CAST) -> dict:
    """Issue 24's figures over held-out videos (lists in the same order).

    Returns a dict: ``error_pct`` per actor (sum over videos of |predicted - true| s / total duration, %),
    ``worst_error_pct``; ``accuracy`` per actor (share of samples where the actor's presence is right) and
    ``worst_accuracy``; ``extras_as_cast_pct`` (per face when the pipeline gives faces: of the sampled seconds
    of each extra's face, those whose matching predicted face got an actor's name; else per sample: of the
    samples showing an extra, those where an actor not on screen was named) and ``extras_method``;
    ``coverage`` (share of (video, actor) true times inside the interval) and ``n_intervals``; per video figures.
    """
    total_s = sum(v.duration_s for v in truth)
    abs_err = dict.fromkeys(cast, 0.0)
    right = dict.fromkeys(cast, 0)
    n_samples = 0
    extra_hits = extra_n = 0
    per_face = all(p.faces is not None for p in predicted)
    inside, videos = [], []
    for p, v in zip(predicted, truth):
        if p.video_id != v.video_id:
            raise ValueError(f"predictions for {p.video_id} are not for {v.video_id}")
        true_s = v.screen_time_s()
        for a in cast:
            abs_err[a] += abs(p.screen_time_s.get(a, 0.0) - true_s[a])
            if p.interval_s is not None and a in p.interval_s:
                lo, hi = p.interval_s[a]
                inside.append(lo - 1e-6 <= true_s[a] <= hi + 1e-6)
        on_screen = v.on_screen(p.times_s, extras=True)
        for got, want in zip(p.labels, on_screen):
            for a in cast:
                right[a] += (a in got) == (a in want)
        n_samples += len(p.labels)
        hits, n = _extras_per_face(p, v, cast) if per_face else _extras_per_sample(p, on_screen, cast)
        extra_hits, extra_n = extra_hits + hits, extra_n + n
        videos.append({"video": v.video_id, "duration_s": v.duration_s, "true_s": true_s,
                       "predicted_s": {a: p.screen_time_s.get(a, 0.0) for a in cast}, "interval_s": p.interval_s})
    error_pct = {a: 100.0 * e / total_s for a, e in abs_err.items()}
    accuracy = {a: r / max(n_samples, 1) for a, r in right.items()}
    return {
        "worst_error_pct": max(error_pct.values()), "error_pct": error_pct,
        "worst_accuracy": min(accuracy.values()), "accuracy": accuracy,
        "extras_as_cast_pct": 100.0 * extra_hits / extra_n if extra_n else None, "extras_seconds": extra_n,
        "extras_method": "per face" if per_face else "per sample",
        "coverage": float(np.mean(inside)) if inside else None, "n_intervals": len(inside), "videos": videos,
    }


def cluster_figures(cluster, actor, *, cast=CAST, apart=(-1,), share: float = 0.9) -> dict:
    """Issue 25's figures from one row per face: its `cluster` id and its true `actor` (a cast name, or anything
    else for extras and false faces).

    purity : share of the clustered faces (clusters in `apart`, e.g. the blurred / small bin, left out) that
        belong to their cluster's majority person;
    names_to_cover : how many clusters a person must name, largest first by their majority actor's faces, until
        the named clusters hold `share` of all cast faces (each named cluster counts its majority actor's faces;
        None when the clusters can never get there); ``names_limit`` = 2 x the number of actors seen.
    """
    cluster, actor = np.asarray(cluster), np.asarray(actor).astype(str)
    kept = ~np.isin(cluster, list(apart))
    is_cast = np.isin(actor, list(cast))
    n_cast = int(is_cast.sum())
    majority_faces, cast_gains = 0, []
    for c in np.unique(cluster[kept]):
        members = actor[kept & (cluster == c)]
        names, counts = np.unique(members, return_counts=True)
        top = int(np.argmax(counts))
        majority_faces += int(counts[top])
        if names[top] in cast:
            cast_gains.append(int(counts[top]))
    covered, names = 0, None
    for k, gain in enumerate(sorted(cast_gains, reverse=True), 1):
        covered += gain
        if covered >= share * n_cast:
            names = k
            break
    n_actors = len(set(actor[is_cast]))
    return {"purity": majority_faces / max(int(kept.sum()), 1), "names_to_cover": names, "names_limit": 2 * n_actors,
            "n_clusters": len(np.unique(cluster[kept])), "n_faces": len(actor), "n_apart": int((~kept).sum()),
            "n_cast_faces": n_cast}


def true_people(video: ActorVideo, times_s, boxes_px) -> np.ndarray:
    """Who each found face really is: (n,) str, the truth's person (a `CAST` name or ``extra:<name>``) whose box at
    that time overlaps the face's box (x, y, w, h px) best, at IoU >= `MATCH_IOU`, else ``"none"`` (a false face).
    For `cluster_figures`: pass the stored faces' times and `FaceTable.box_px()`."""
    out = np.full(len(times_s), "none", dtype=object)
    for i, (t, box) in enumerate(zip(times_s, np.asarray(boxes_px, np.float64))):
        scored = [(iou(box, b), p) for p, b in video.faces_at(float(t))]
        best = max(scored, default=(0.0, "none"))
        if best[0] >= MATCH_IOU:
            out[i] = best[1]
    return out.astype(str)


def _extras_per_face(p: Predicted, v: ActorVideo, cast) -> tuple[int, int]:
    hits = n = 0
    by_time: dict[float, list] = {}
    for t, box, label in p.faces:
        by_time.setdefault(round(float(t), 6), []).append((np.asarray(box, np.float64), label))
    for t in p.times_s:
        faces = by_time.get(round(float(t), 6), [])
        for person, box in v.faces_at(t):
            if not person.startswith(EXTRA_PREFIX):
                continue
            n += 1
            best = max(faces, key=lambda f: iou(f[0], box), default=None)
            hits += best is not None and iou(best[0], box) >= MATCH_IOU and best[1] in cast
    return hits, n


def _extras_per_sample(p: Predicted, on_screen: list, cast) -> tuple[int, int]:
    hits = n = 0
    for got, want in zip(p.labels, on_screen):
        if any(x.startswith(EXTRA_PREFIX) for x in want):
            n += 1
            hits += bool((set(got) & set(cast)) - set(want))
    return hits, n


def iou(a, b) -> float:
    """Intersection over union of two (x, y, w, h) boxes (`featurestore.faces.boxes.box_iou`)."""
    from featurestore.faces.boxes import box_iou

    return float(box_iou(a, b)[0, 0])
