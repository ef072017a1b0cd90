"""How far a video's samples are from the training samples, in the classifier's staged feature space (issue 18).

A model trained on test patterns says "100% alice" about Big Buck Bunny at 0.97 confidence: its probabilities
cannot tell that it has never seen anything like the video. Distances can. The saved model keeps a small
`TrainingReference` of its training samples (after the per-video stages, what the classifier saw): their
mean, the top principal axes, and up to `MAX_REFERENCES` samples projected on them.

- A sample's distance is to its nearest reference sample along those axes, plus what of it lies off them
  (so a video that varies in directions training never did is not hidden by the projection), in units of
  the training cloud's spread (the RMS distance of training samples to their mean).
- A video's distance is the median over its samples (at most `MAX_SCORED_SAMPLES`, spread evenly): a few
  odd frames do not flag a video, a video mostly unlike training does.
- Centring removes each video's mean (`classifiers.chain.stages`), and with it much of what makes a video of
  another kind look different: a live-action phone call, centred, sat among centred cartoons (issue 26). So the
  model keeps a second reference, `raw`, of the features as embedded (no stage), power-normalised (the signed
  square root of each value, `power_normalise`: the few large ReLU activations no longer drown the many small
  ones that tell footage kinds apart), with its own threshold from the same held-out videos; a video is unlike
  the training videos when either distance is beyond its threshold (bench/unlike.py).
- The threshold comes from cross-validation: every whole held-out video's distance to the reference of
  its fold's training samples (in the units of the reference of all of them: a fold without its most unusual
  video has a smaller spread, and in its own units the held-out video would look further than it is), the
  very computation `score` makes for a new video against the reference of
  all training samples (`SavedModel.training_distance`). A new video is unlike the training videos when
  its distance exceeds ``MARGIN`` x the furthest held-out video's (and `MIN_THRESHOLD`): one held-out video
  of a few is the furthest by chance, and a fold's reference has fewer videos than the final model's, so
  the margin is small. A blocks split (one labelled video) holds out no whole video: no threshold.

Stored as NumPy arrays and floats (`to_dict`), which skops model files keep without trusting any type.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Principal axes kept (fewer when training has fewer samples or features).
N_COMPONENTS = 32
#: Training samples kept as references (a random subset, the same for a seed).
MAX_REFERENCES = 2000
#: Samples of a scored video the distance is computed from (spread evenly over the video).
MAX_SCORED_SAMPLES = 2000
#: A video is unlike the training videos beyond this many times the furthest held-out video's distance.
MARGIN = 1.25
#: Nor below this distance (a tenth of the training samples' spread): where held-out videos sat on the training
#: samples (features that hardly vary), rounding would otherwise tell videos apart.
MIN_THRESHOLD = 0.1
_FIT_ROWS = 3000  # training samples the axes are computed from (a random subset)


@dataclass
class TrainingReference:
    """The training samples as `score` compares new videos to them.

    Attributes
    ----------
    mean : ndarray of shape (n_features,), float32
    components : ndarray of shape (n_components, n_features), float32
        Principal axes of the training samples (rows orthonormal).
    references : ndarray of shape (n_references, n_components), float32
        Training samples projected on the axes.
    scale : float
        RMS distance of training samples to `mean`: distances are in these units.
    threshold : float or None
        Distance above which a video is unlike the training videos (`MARGIN` x the furthest held-out video's,
        at least `MIN_THRESHOLD`); None when cross-validation held out no whole video.
    held_out : dict of str to float
        Each whole held-out video's distance to its fold's training samples.
    raw : TrainingReference or None
        The same of the features as embedded, before the per-video stages, power-normalised (`power_normalise`,
        issue 26); None in model files saved before.
    """

    mean: np.ndarray
    components: np.ndarray
    references: np.ndarray
    scale: float
    threshold: float | None = None
    held_out: dict = field(default_factory=dict)
    raw: "TrainingReference | None" = None

    def sample_distances(self, staged: np.ndarray) -> np.ndarray:
        """Distance of each row of `staged` (n, n_features) to the training samples, shape (n,), in spread units."""
        from sklearn.metrics import pairwise_distances_argmin_min  # chunked: memory stays bounded

        x = np.asarray(staged, dtype=np.float32) - self.mean
        z = x @ self.components.T
        off_axes = np.maximum(np.einsum("ij,ij->i", x, x) - np.einsum("ij,ij->i", z, z), 0.0)
        _, nearest = pairwise_distances_argmin_min(z, self.references)
        return np.sqrt(np.square(nearest) + off_axes) / self.scale

    def video_distance(self, staged: np.ndarray) -> float | None:
        """Median distance of a video's samples (at most `MAX_SCORED_SAMPLES` of them, evenly spread); None if none."""
        if len(staged) == 0:
            return None
        pick = np.unique(np.linspace(0, len(staged) - 1, min(len(staged), MAX_SCORED_SAMPLES)).round().astype(int))
        return float(np.median(self.sample_distances(np.asarray(staged)[pick])))

    def is_unlike(self, distance: float | None, raw_distance: float | None = None) -> bool | None:
        """Whether a video of `distance` (staged features), or of `raw_distance` (as embedded, against `raw`), is
        unlike the training videos; None when the model cannot tell."""
        said = [bool(d > ref.threshold) for ref, d in ((self, distance), (self.raw, raw_distance))
                if ref is not None and d is not None and ref.threshold is not None]
        return any(said) if said else None

    def with_threshold(self, held_out: dict[str, float], raw: "TrainingReference | None" = None) -> "TrainingReference":
        """This reference with the threshold from the held-out videos' distances (none: no threshold), and `raw`."""
        held_out = {str(k): float(v) for k, v in held_out.items() if v is not None}
        threshold = max(MARGIN * max(held_out.values()), MIN_THRESHOLD) if held_out else None
        return TrainingReference(self.mean, self.components, self.references, self.scale, threshold, held_out, raw)

    def to_dict(self) -> dict:
        """What a model file keeps: NumPy arrays and plain values (`raw` as a dict of the same, when there is one)."""
        d = {"mean": self.mean, "components": self.components, "references": self.references,
             "scale": float(self.scale), "threshold": self.threshold, "held_out": dict(self.held_out),
             "margin": MARGIN, "method": "median nearest-training-sample distance, staged features"}
        if self.raw is not None:
            d["raw"] = {**self.raw.to_dict(), "method": "median nearest-training-sample distance, features as embedded, "
                                                        "signed square root"}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "TrainingReference":
        return cls(np.asarray(d["mean"], dtype=np.float32), np.asarray(d["components"], dtype=np.float32),
                   np.asarray(d["references"], dtype=np.float32), float(d["scale"]),
                   None if d.get("threshold") is None else float(d["threshold"]),
                   {str(k): float(v) for k, v in dict(d.get("held_out", {})).items()},
                   cls.from_dict(d["raw"]) if isinstance(d.get("raw"), dict) else None)

    def describe(self) -> dict:
        """JSON-able summary for result files: the threshold and the held-out distances (and the same for `raw`)."""
        d = {"threshold": None if self.threshold is None else round(self.threshold, 4),
             "held_out": {k: round(v, 4) for k, v in self.held_out.items()}, "margin": MARGIN}
        if self.raw is not None:
            d["raw"] = {k: v for k, v in self.raw.describe().items() if k != "margin"}
        return d


def power_normalise(features: np.ndarray) -> np.ndarray:
    """The signed square root of each value, shape kept, float32: what the `raw` reference compares (issue 26)."""
    x = np.asarray(features, dtype=np.float32)
    return np.sign(x) * np.sqrt(np.abs(x))


def fit_reference(staged: np.ndarray, *, seed: int = 0, scale: float | None = None) -> TrainingReference:
    """The reference of training samples `staged` (n, n_features): mean, principal axes, projected samples.

    `scale`: the unit of distance, when it must be another reference's (a fold's reference measures in the units of
    the reference of all training samples, so that held-out distances and a new video's compare); default: the RMS
    distance of these samples to their mean."""
    from sklearn.utils.extmath import randomized_svd

    X = np.asarray(staged, dtype=np.float32)
    if X.ndim != 2 or len(X) == 0:
        raise ValueError(f"staged must have shape (n_samples, n_features) with n_samples > 0, got {X.shape}")
    rng = np.random.default_rng(seed)
    mean = X.mean(axis=0)
    centred = X - mean
    rms = float(np.sqrt(np.mean(np.einsum("ij,ij->i", centred, centred))))
    fit_rows = centred[rng.choice(len(X), _FIT_ROWS, replace=False)] if len(X) > _FIT_ROWS else centred
    k = max(1, min(N_COMPONENTS, fit_rows.shape[0] - 1, fit_rows.shape[1]))
    _, _, vt = randomized_svd(fit_rows, n_components=k, n_iter=2, random_state=seed)  # rough axes: off-axis parts count too
    keep = rng.choice(len(X), MAX_REFERENCES, replace=False) if len(X) > MAX_REFERENCES else np.arange(len(X))
    components = vt.astype(np.float32)
    own = rms if rms > 0 else 1.0
    return TrainingReference(mean, components, (centred[np.sort(keep)] @ components.T).astype(np.float32),
                             own if scale is None else float(scale))
