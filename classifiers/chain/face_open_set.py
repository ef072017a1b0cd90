"""The open-set check of a face model (issue 24): a face may be an actor's only where it lies near that actor's
training faces.

A classifier's probabilities say which actor a face is most like, not whether it is any of them: a face of someone
nobody labelled can get a high probability for the actor it least differs from. Face descriptors answer that
directly: dlib's descriptor puts two faces of one person less than 0.6 apart (Euclidean; dlib's rule, the
`face_recognition` package's default tolerance) and faces of two people further. So a face (with smoothing
``"track"``: its track, by the mean of its faces' distances -- one person) may be actor *a*'s only where its
distance to the nearest training face of *a* is at most `MAX_DISTANCE`. The training faces kept as the reference
are at most `MAX_REFERENCE_PER_ACTOR` per actor (an even, seeded choice), so a model of hours of footage stays small.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face_decide import track_mean

#: dlib's rule: two faces of one person lie less than 0.6 apart (its descriptors; Euclidean).
MAX_DISTANCE = 0.6
MAX_REFERENCE_PER_ACTOR = 500
_CHUNK = 2048  # faces per distance block: (chunk, reference) float32 stays a few MB


@dataclass
class FaceReference:
    """Training faces an actor's faces must lie near: descriptors `X` (m, d) float32 and their actor `actor` (m,)
    int (an index into the model's actors), and the largest distance allowed."""

    X: np.ndarray
    actor: np.ndarray
    max_distance: float = MAX_DISTANCE

    @classmethod
    def from_training(cls, X, y, actors: list[str], *, max_distance: float = MAX_DISTANCE,
                      per_actor: int = MAX_REFERENCE_PER_ACTOR, seed: int = 0) -> "FaceReference":
        """The reference of training faces `X` (n, d) labelled `y` (n,) (faces of `UNKNOWN` are left out), at most
        `per_actor` of each actor (a seeded choice)."""
        X, y = np.asarray(X, dtype=np.float32), np.asarray(y).astype(str)
        rng = np.random.default_rng(seed)
        keep, index = [], []
        for j, a in enumerate(actors):
            rows = np.flatnonzero(y == a)
            if len(rows) > per_actor:
                rows = np.sort(rng.choice(rows, per_actor, replace=False))
            keep.append(rows)
            index.append(np.full(len(rows), j, dtype=np.int32))
        rows = np.concatenate(keep) if keep else np.zeros(0, np.intp)
        return cls(X[rows], np.concatenate(index) if index else np.zeros(0, np.int32), float(max_distance))

    def distances(self, E: np.ndarray, n_actors: int) -> np.ndarray:
        """(n, n_actors) distance of each descriptor of `E` (n, d) to the nearest reference face of each actor
        (inf for an actor without any)."""
        E = np.asarray(E, dtype=np.float32)
        out = np.full((len(E), n_actors), np.inf)
        if not len(E) or not len(self.X):
            return out
        ref_sq = (self.X.astype(np.float64) ** 2).sum(axis=1)
        for start in range(0, len(E), _CHUNK):
            part = E[start:start + _CHUNK].astype(np.float64)
            sq = (part ** 2).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * part @ self.X.T.astype(np.float64)
            d = np.sqrt(np.clip(sq, 0.0, None))
            for j in np.unique(self.actor).tolist():
                out[start:start + len(part), j] = d[:, self.actor == j].min(axis=1)
        return out

    def pooled_distances(self, E: np.ndarray, track: np.ndarray, n_actors: int, smoothing: str) -> np.ndarray:
        """`distances`, with smoothing ``"track"`` each face's replaced by the mean over its track (no actor: 1e3)."""
        d = self.distances(E, n_actors)
        if smoothing == "track":
            d = track_mean(np.where(np.isfinite(d), d, 1e3), np.asarray(track))
        return d

    def admissible(self, E: np.ndarray, track: np.ndarray, n_actors: int, smoothing: str) -> np.ndarray:
        """(n, n_actors) bool: whether each face (its track, with smoothing ``"track"``) lies within `max_distance`
        of each actor's reference faces."""
        return self.pooled_distances(E, track, n_actors, smoothing) <= self.max_distance
