"""Temporal smoothing of per-frame class probabilities before the label is chosen.

A `Smoother` is a small value object: `method` plus one parameter. It is a candidate inside
compare-models' cross-validation, saved with the model, and applied by score.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

METHODS = ("none", "median")


@dataclass(frozen=True)
class Smoother:
    """Smooth probabilities of one video over time.

    Parameters
    ----------
    method : {"none", "median"}
        "median": running median of each class's probability over a centred window.
    window_s : float
        Window length in seconds (ignored by "none").
    """

    method: str = "none"
    window_s: float = 0.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise ValueError(f"unknown smoothing method {self.method!r}; known: {', '.join(METHODS)}")
        if self.method != "none" and not self.window_s > 0:
            raise ValueError(f"smoothing {self.method!r} needs window_s > 0, got {self.window_s}")

    @property
    def name(self) -> str:
        """Short label such as 'none' or 'median:5s' (also accepted by `parse_smoother`)."""
        return "none" if self.method == "none" else f"{self.method}:{self.window_s:g}s"

    def transform(self, proba: np.ndarray, step_s: float) -> np.ndarray:
        """Smooth `proba` of shape (n_frames, n_classes), frames in time order `step_s` seconds apart.

        Returns an array of the same shape whose rows sum to 1.
        """
        proba = np.asarray(proba, dtype=np.float64)
        if self.method == "none" or len(proba) < 2:
            return proba
        half = max(0, int(round(self.window_s / step_s / 2)))
        if half == 0:
            return proba
        from scipy.ndimage import median_filter

        out = median_filter(proba, size=(2 * half + 1, 1), mode="nearest")
        out /= np.clip(out.sum(axis=1, keepdims=True), 1e-12, None)
        return out

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Smoother":
        return cls(**d)


def parse_smoother(text: str) -> Smoother:
    """Parse 'none', 'median:5' or 'median:5s' into a Smoother."""
    method, _, arg = text.strip().partition(":")
    return Smoother(method=method, window_s=float(arg.rstrip("s")) if arg else (0.0 if method == "none" else 5.0))


def candidate_smoothers() -> list[Smoother]:
    """The smoothers compare-models tries for every model, on the same folds."""
    return [Smoother("none"), Smoother("median", 3.0), Smoother("median", 5.0), Smoother("median", 9.0)]
