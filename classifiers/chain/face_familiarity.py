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

Stored as plain floats, strings and lists (`to_dict`), which skops model files keep without trusting any type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featurestore.faces.quality import GOOD_QUALITY

from .familiarity import MARGIN

#: Faces below this quality (FaceTable.quality, 0-1) are left out of a video's distance: a good face, as clustering
#: gates them (`featurestore.faces.quality.GOOD_QUALITY`, measured there).
MIN_QUALITY = GOOD_QUALITY
#: Good faces of a video the distance is computed from (spread evenly over the video).
MAX_SCORED_FACES = 2000
#: Nor is a video unlike the training videos below this distance (half dlib's 0.6 same-person rule).
MIN_THRESHOLD = 0.3
_CHUNK = 2048  # faces per distance block


def good_faces(table, min_quality: float = MIN_QUALITY) -> np.ndarray:
    """The descriptors (n, d) float32 of `table`'s faces of quality >= `min_quality`, at most `MAX_SCORED_FACES`
    of them, spread evenly over the table's order (time)."""
    E = np.asarray(table.embedding, dtype=np.float32)
    if not len(E):
        return E.reshape(0, E.shape[1] if E.ndim == 2 else 0)
    E = E[np.asarray(table.quality, dtype=np.float64) >= min_quality]
    if len(E) > MAX_SCORED_FACES:
        E = E[np.unique(np.linspace(0, len(E) - 1, MAX_SCORED_FACES).round().astype(int))]
    return E


def nearest_distances(E: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Euclidean distance of each descriptor of `E` (n, d) to its nearest row of `reference` (m, d), shape (n,)."""
    from sklearn.metrics import pairwise_distances_argmin_min  # chunked: memory stays bounded

    E, reference = np.asarray(E, dtype=np.float32), np.asarray(reference, dtype=np.float32)
    if not len(E):
        return np.zeros(0)
    return np.asarray(pairwise_distances_argmin_min(E, reference)[1], dtype=np.float64)


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
    """

    threshold: float | None = None
    held_out: dict = field(default_factory=dict)
    X: np.ndarray | None = field(default=None, repr=False)
    margin: float = MARGIN
    min_quality: float = MIN_QUALITY

    @classmethod
    def from_held_out(cls, held_out: dict[str, float], X: np.ndarray | None = None) -> "FaceFamiliarity":
        """The familiarity of held-out videos' distances (None values left out; none left: no threshold)."""
        held_out = {str(k): float(v) for k, v in held_out.items() if v is not None}
        threshold = max(MARGIN * max(held_out.values()), MIN_THRESHOLD) if held_out else None
        return cls(threshold, held_out, None if X is None else np.asarray(X, dtype=np.float32))

    def is_unlike(self, distance: float | None) -> bool | None:
        """Whether a video at `distance` is unlike the training videos; None when the model cannot tell."""
        if distance is None or self.threshold is None:
            return None
        return bool(distance > self.threshold)

    def to_dict(self) -> dict:
        """What a model file keeps: floats, strings and lists (and the reference faces when kept here)."""
        d = {"threshold": None if self.threshold is None else float(self.threshold),
             "videos": list(self.held_out), "held_out": [float(v) for v in self.held_out.values()],
             "margin": float(self.margin), "min_quality": float(self.min_quality)}
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
        return cls(None if d.get("threshold") is None else float(d["threshold"]),
                   {str(v): float(x) for v, x in zip(videos, distances)}, X,
                   float(d.get("margin", MARGIN)), float(d.get("min_quality", MIN_QUALITY)))

    def describe(self) -> dict:
        """JSON-able summary for result files, in the shape of frame models' (`TrainingReference.describe`):
        the threshold, the held-out distances, the margin; ``faces`` says the distances are between faces."""
        return {"threshold": None if self.threshold is None else round(self.threshold, 4),
                "held_out": {k: round(v, 4) for k, v in self.held_out.items()}, "margin": self.margin, "faces": True,
                "method": f"median distance of the faces (quality >= {self.min_quality:g}) to the nearest training face"}
