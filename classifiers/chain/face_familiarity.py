"""How far a video's faces are from the labelled faces a face model was trained on (issues 18, 24).

A face model's error bars come from the videos cross-validation held out. A new video whose faces are unlike any
of those (other people, other light) can be off by more than they say. So, as for frame models
(`classifiers.chain.familiarity`), the model says when a video is further from its training faces than the
held-out videos were. It tells other people; it does not tell new photos of the same actors: on composed footage
(bench/faces_accuracy.py, seeds 0-2) held-out training videos sat 0.24-0.49 from their fold's training faces and new
videos of the same actors 0.40-0.48, and none was flagged, though on one seed 80% intervals covered 14 of 24 truths.

- A video's distance: the median, over its good faces (quality at least `MIN_QUALITY`; at most
  `MAX_SCORED_FACES`, spread evenly), of the Euclidean distance of the descriptor to the nearest reference face of
  any actor, in descriptor units (dlib's: one person's faces lie within 0.6). The reference is the training faces
  the open-set check keeps (`FaceReference.X`, `classifiers.chain.face_open_set`); a model without that check keeps
  the same faces here (`FaceFamiliarity.X`). None without a good face or a reference.
- The threshold comes from cross-validation: each whole held-out video's distance to its fold's training faces
  (the same choice of faces, `classifiers.selection.face_unknown.fold_reference`), the very computation `score
  --faces` makes for a new video against all training faces. A video is unlike the training videos beyond
  ``MARGIN`` x the furthest held-out video's: the frame models' margin (`familiarity.MARGIN`), for the same two
  reasons -- the furthest of a few held-out videos is the furthest by chance, and a fold's reference has fewer
  faces than the saved model's, so held-out distances run a little high. Nor below `MIN_THRESHOLD` (half dlib's
  same-person distance): a video whose typical face is that close to a training face is the training footage's
  people as it saw them. A split that holds out no whole video (one labelled video): no threshold.

Faces too degraded to be named (compressed, blurred, dark, small) are not far by that median: an actor's crf 40 face
lies 0.45-0.55 from the training faces, as far as new photos of the actors and nearer than other people (0.55-0.65),
so a compressed video scored every actor 0 s and every face "unknown people", unflagged. Two more checks say so:

- Few faces near an actor: the share of the video's faces (all of them, however poor; at most `MAX_SCORED_FACES`)
  within `NEAR_DISTANCE` of an actor's training face. Below `MIN_NEAR_SHARE`, and below `NEAR_FRACTION` of the
  lowest share of the videos cross-validation held out (footage whose own faces are seldom near an actor, or other
  descriptors than dlib's, is not flagged for it), the video is unlike the training videos.
  Measured (docs/faces.md): new videos read right held 34-100% of such faces (composed footage, seeds 0-2 and 10-14;
  the live scenes but the crowds, 49-100%); the same scenes at crf 40, blurred, dark or small 0-31%.
- Poorer faces than the training faces: per part of a face's quality (height, sharpness, detector score), the share
  of the video's faces below what 19 in 20 training faces had (`LOW_QUANTILE`, kept with the model as ``low``).
  At least `POOR_SHARE` below in one part: unlike the training videos ("blurrier", "smaller", "less clear to the
  detector"). Videos read right: at most 18% below in any one part; blurred or small scenes: 77-97%.

Both need `MIN_FACES` faces; the near check needs held-out videos (model files saved before it have none).

Stored as plain floats, strings and lists (`to_dict`), which skops model files keep without trusting any type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featurestore.faces.quality import FULL_SHARPNESS, FULL_SIZE_PX, GOOD_QUALITY

from .familiarity import MARGIN

#: Faces below this quality (FaceTable.quality, 0-1) are left out of a video's distance: a good face, as clustering
#: gates them (`featurestore.faces.quality.GOOD_QUALITY`, measured there).
MIN_QUALITY = GOOD_QUALITY
#: Good faces of a video the distance is computed from (spread evenly over the video).
MAX_SCORED_FACES = 2000
#: Nor is a video unlike the training videos below this distance (half dlib's 0.6 same-person rule).
MIN_THRESHOLD = 0.3
#: A face lies near an actor within this distance of one of the actor's training faces (3/4 of dlib's 0.6 rule).
NEAR_DISTANCE = 0.45
#: A video with fewer of its faces near an actor than this share is unlike the training videos.
MIN_NEAR_SHARE = 0.2
#: ... and fewer than this fraction of the lowest held-out video's share.
NEAR_FRACTION = 0.5
#: The training faces' quantile of each quality part that a video's faces are compared with, and the share of its
#: faces below it, in one part, that makes a video unlike the training videos.
LOW_QUANTILE, POOR_SHARE = 0.05, 0.5
#: The parts of a face's quality (FaceTable columns) and what a video whose faces fall below them has, in words.
QUALITY_PARTS = {"sharpness": "blurrier", "size_px": "smaller", "score": "less clear to the face detector"}
#: A face counts as poorer in a part only below this too, where its descriptor still loses detail (the quality's own
#: full marks): a few training photos all sharper than a new video's sharp faces are not a fault of the video.
FULL_MARKS = {"sharpness": FULL_SHARPNESS, "size_px": FULL_SIZE_PX}
#: Faces a video needs for the near and poorer checks to say anything.
MIN_FACES = 10
_CHUNK = 2048  # faces per distance block


def good_faces(table, min_quality: float = MIN_QUALITY) -> np.ndarray:
    """The descriptors (n, d) float32 of `table`'s faces of quality >= `min_quality`, at most `MAX_SCORED_FACES`
    of them, spread evenly over the table's order (time)."""
    E = np.asarray(table.embedding, dtype=np.float32)
    if not len(E):
        return E.reshape(0, E.shape[1] if E.ndim == 2 else 0)
    E = E[np.asarray(table.quality, dtype=np.float64) >= min_quality]
    return E[spread(len(E))]


def nearest_distances(E: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance of each descriptor of `E` (n, d) to its nearest row of `reference` (m, d), shape (n,)."""
    from sklearn.metrics import pairwise_distances_argmin_min  # chunked: memory stays bounded

    E, reference = np.asarray(E, dtype=np.float32), np.asarray(reference, dtype=np.float32)
    if not len(E):
        return np.zeros(0)
    return np.asarray(pairwise_distances_argmin_min(E, reference)[1], dtype=np.float64)


def spread(n: int, at_most: int = MAX_SCORED_FACES) -> np.ndarray:
    """Indices of at most `at_most` of `n` rows, spread evenly."""
    if n <= at_most:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, at_most).round().astype(int))


def near_share(table, reference: np.ndarray | None, near_distance: float = NEAR_DISTANCE) -> float | None:
    """Share (0-1) of `table`'s faces (all, at most `MAX_SCORED_FACES` spread evenly) within `near_distance` of a
    face of `reference` (m, d); None with fewer than `MIN_FACES` faces or no reference."""
    if reference is None or not len(reference) or len(table) < MIN_FACES:
        return None
    E = np.asarray(table.embedding, dtype=np.float32)[spread(len(table))]
    return float(np.mean(nearest_distances(E, reference) <= near_distance))


def training_low(tables_rows) -> dict[str, float] | None:
    """The `LOW_QUANTILE` of each quality part (`QUALITY_PARTS`) over training faces, from (FaceTable, rows) pairs;
    None without a face."""
    parts = {part: [np.asarray(getattr(table, part), dtype=np.float64)[rows] for table, rows in tables_rows]
             for part in QUALITY_PARTS}
    if not sum(len(x) for x in parts["score"]):
        return None
    return {part: float(np.quantile(np.concatenate(x), LOW_QUANTILE)) for part, x in parts.items()}


def poorer_shares(table, low: dict | None) -> dict[str, float] | None:
    """Per quality part, the share (0-1) of `table`'s faces below the training faces' `low` value (and below the
    part's `FULL_MARKS`); None with fewer than `MIN_FACES` faces or no `low`."""
    if not low or len(table) < MIN_FACES:
        return None
    cut = cut_offs(low)
    return {part: float(np.mean(np.asarray(getattr(table, part), dtype=np.float64) < cut[part])) for part in cut}


def cut_offs(low: dict) -> dict[str, float]:
    """Per quality part of `low` (the training faces' `LOW_QUANTILE`), the value a face is poorer under: that, or
    the part's `FULL_MARKS` where lower."""
    return {part: min(float(low[part]), FULL_MARKS.get(part, np.inf)) for part in QUALITY_PARTS if part in low}


def video_face_distance(table, reference: np.ndarray | None, min_quality: float = MIN_QUALITY) -> float | None:
    """Median distance of `table`'s good faces to the nearest face of `reference` (m, d); None without a good face
    or a reference."""
    if reference is None or not len(reference):
        return None
    E = good_faces(table, min_quality)
    if not len(E):
        return None
    return float(np.median(nearest_distances(E, reference)))


@dataclass
class FaceFamiliarity:
    """What a face model keeps to tell a video unlike its training videos.

    Attributes
    ----------
    threshold : float or None
        Distance above which a video is unlike the training videos (`MARGIN` x the furthest held-out video's, at
        least `MIN_THRESHOLD`); None when cross-validation held out no whole video.
    held_out : dict of str to float
        Each whole held-out video's distance to its fold's training faces.
    X : ndarray of shape (m, d), float32, or None
        The reference faces, kept only when the model has no open-set reference (`FaceModel.reference`) to share.
    margin, min_quality : float
        The margin the threshold was set with, and the quality a face needs to count (as saved with the model).
    held_out_near : dict of str to float
        Each whole held-out video's share of faces near an actor of its fold (`near_share`; for the words).
    low : dict of str to float, or None
        The training faces' `LOW_QUANTILE` of each quality part; None: no poorer-faces check (files before it).
    near_distance, min_near_share, poor_share : float
        The near and poorer checks' settings, as saved with the model.
    """

    threshold: float | None = None
    held_out: dict = field(default_factory=dict)
    X: np.ndarray | None = field(default=None, repr=False)
    margin: float = MARGIN
    min_quality: float = MIN_QUALITY
    held_out_near: dict = field(default_factory=dict)
    low: dict | None = None
    near_distance: float = NEAR_DISTANCE
    min_near_share: float = MIN_NEAR_SHARE
    poor_share: float = POOR_SHARE

    @classmethod
    def from_held_out(cls, held_out: dict[str, float], X: np.ndarray | None = None, *,
                      held_out_near: dict | None = None, low: dict | None = None) -> "FaceFamiliarity":
        """The familiarity of held-out videos' distances (None values left out; none left: no threshold), their
        near shares and the training faces' `low` quality parts (`training_low`)."""
        held_out = {str(k): float(v) for k, v in held_out.items() if v is not None}
        threshold = max(MARGIN * max(held_out.values()), MIN_THRESHOLD) if held_out else None
        near = {str(k): float(v) for k, v in (held_out_near or {}).items() if v is not None}
        return cls(threshold, held_out, None if X is None else np.asarray(X, dtype=np.float32), held_out_near=near,
                   low=None if low is None else {str(k): float(v) for k, v in low.items()})

    def is_unlike(self, distance: float | None, near: float | None = None, poorer: dict | None = None) -> bool | None:
        """Whether a video is unlike the training videos: its faces' `distance` beyond the threshold, its `near`
        share below `min_near_share`, or a part of `poorer` (`poorer_shares`) at least `poor_share`. None when the
        distance cannot tell and neither other check fired."""
        if self.faults(near, poorer):
            return True
        if distance is None or self.threshold is None:
            return None
        return bool(distance > self.threshold)

    @property
    def near_threshold(self) -> float | None:
        """The near share below which a video is unlike the training videos: `min_near_share`, or `NEAR_FRACTION` of
        the lowest held-out video's if less; None without held-out videos."""
        if not self.held_out_near:
            return None
        return min(self.min_near_share, NEAR_FRACTION * min(self.held_out_near.values()))

    def faults(self, near: float | None, poorer: dict | None, distance: float | None = None) -> list[str]:
        """What the checks found, in this order: ``"far"`` (`distance` beyond the threshold), ``"few near"`` and the
        `QUALITY_PARTS` whose share of faces below the training faces' is at least `poor_share`; [] when none."""
        threshold = self.near_threshold
        out = ["far"] if distance is not None and self.threshold is not None and distance > self.threshold else []
        out += ["few near"] if near is not None and threshold is not None and near < threshold else []
        return out + [part for part in QUALITY_PARTS if (poorer or {}).get(part, 0.0) >= self.poor_share]

    def to_dict(self) -> dict:
        """What a model file keeps: floats, strings and lists (and the reference faces when kept here)."""
        d = {"threshold": None if self.threshold is None else float(self.threshold),
             "videos": list(self.held_out), "held_out": [float(v) for v in self.held_out.values()],
             "margin": float(self.margin), "min_quality": float(self.min_quality),
             "near_videos": list(self.held_out_near), "held_out_near": [float(v) for v in self.held_out_near.values()],
             "near_distance": float(self.near_distance), "min_near_share": float(self.min_near_share),
             "poor_share": float(self.poor_share)}
        if self.low is not None:
            d["low_parts"], d["low"] = list(self.low), [float(v) for v in self.low.values()]
        if self.X is not None:
            d["X"] = np.asarray(self.X, dtype=np.float32)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FaceFamiliarity":
        videos, distances = list(d.get("videos", [])), list(d.get("held_out", []))
        if len(videos) != len(distances):
            raise ValueError("familiarity: held-out videos and distances of different lengths")
        X = d.get("X")
        if X is not None:
            X = np.asarray(X, dtype=np.float32)
            if X.ndim != 2:
                raise ValueError("familiarity: reference faces are not a matrix")
        near_videos, near = list(d.get("near_videos", [])), list(d.get("held_out_near", []))
        parts, low = list(d.get("low_parts", [])), list(d.get("low", []))
        if len(near_videos) != len(near) or len(parts) != len(low):
            raise ValueError("familiarity: held-out near shares or low quality parts of different lengths")
        return cls(None if d.get("threshold") is None else float(d["threshold"]),
                   {str(v): float(x) for v, x in zip(videos, distances)}, X,
                   float(d.get("margin", MARGIN)), float(d.get("min_quality", MIN_QUALITY)),
                   {str(v): float(x) for v, x in zip(near_videos, near)},
                   {str(p): float(x) for p, x in zip(parts, low)} if "low" in d else None,
                   float(d.get("near_distance", NEAR_DISTANCE)), float(d.get("min_near_share", MIN_NEAR_SHARE)),
                   float(d.get("poor_share", POOR_SHARE)))

    def describe(self) -> dict:
        """JSON-able summary for result files, in the shape of frame models' (`TrainingReference.describe`):
        the threshold, the held-out distances, the margin; ``faces`` says the distances are between faces."""
        return {"threshold": None if self.threshold is None else round(self.threshold, 4),
                "held_out": {k: round(v, 4) for k, v in self.held_out.items()}, "margin": self.margin, "faces": True,
                "method": f"median distance of the faces (quality >= {self.min_quality:g}) to the nearest training face",
                "near_distance": self.near_distance, "near_threshold": self.near_threshold,
                "held_out_near": {k: round(v, 4) for k, v in self.held_out_near.items()},
                "low": None if self.low is None else {k: round(v, 4) for k, v in self.low.items()},
                "cut": None if self.low is None else {k: round(v, 4) for k, v in cut_offs(self.low).items()},
                "low_quantile": LOW_QUANTILE, "poor_share": self.poor_share}
