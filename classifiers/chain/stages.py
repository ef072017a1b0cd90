"""Per-video feature stages applied before any classifier: normalisation, then temporal context.

Both work on ONE video's stored samples at a time (all of them, labelled or not, in time order), so
nothing is ever looked up across videos, and `score` can compute them exactly as training did: a scored
video's own samples are all known when it is scored.

- `VideoNormalizer` ("center"): subtract the video's mean feature vector. Each episode has its own rooms
  and lighting, which dominate VGG16 features; what is left is what changes within the video: who is on
  screen. "standardize" also divides each feature by its spread over the video, so a dim, low-contrast
  video's changes weigh as much as a bright one's.
- `TemporalContext` (``window_s`` = k): append the mean and standard deviation of every feature over the
  samples within +-k seconds of each sample. A character seen from behind for one second is still the
  same character as the second before; the window lets the classifier use that. k = 0 appends nothing.

`CONTEXT_GRID_S` is the set of k compare-models chooses from, by the same cross-validation as the
normalisation. It is small on purpose: with a handful of labelled videos, every extra candidate is one
more chance to pick the one that fitted the noise of those folds (bench/accuracy.py, issue 7).
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from classifiers.choices import AUTO_FEATURE_NORMS, FEATURE_NORMS

#: Context windows (+-seconds) compare-models chooses from; 0 = no context. See bench/accuracy.py.
CONTEXT_GRID_S = (0.0, 2.0, 4.0)
#: Wider features than this are not given context (it triples them: 25088 -> 75264 with flatten pooling).
MAX_FEATURES_FOR_CONTEXT = 4096
#: Below this many samples a video's mean is a poor estimate of its background.
MIN_SAMPLES_FOR_CENTER = 30
#: "standardize": a feature's spread is floored at this share of the video's mean spread, so features that barely
#: move in a video (or never fire) are not blown up into noise.
STD_FLOOR = 1e-3
_TIME_TOLERANCE_S = 1e-6  # sample times are k / fps, computed in floating point


class _VideoStage(TransformerMixin, BaseEstimator):
    """A stateless per-video stage: `fit` only checks parameters; `transform(X, video_ids=, times_s=)` does the work."""

    def _check_params(self) -> None:
        raise NotImplementedError

    def fit(self, X, y=None, **params):
        self._check_params()
        self.n_features_in_ = np.asarray(X).shape[1]
        return self

    def fit_transform(self, X, y=None, **params):
        return self.fit(X).transform(X, **params)


class VideoNormalizer(_VideoStage):
    """Normalise features per video, using every sample of that video.

    Parameters
    ----------
    method : {"none", "center", "standardize"}
        "center" subtracts each video's mean feature vector; "standardize" then divides each feature by its
        standard deviation over the video's samples (floored at `STD_FLOOR` times their mean).
    """

    def __init__(self, *, method: str = "center"):
        self.method = method

    def _check_params(self) -> None:
        if self.method not in FEATURE_NORMS:
            raise ValueError(f"feature_norm must be one of {', '.join(FEATURE_NORMS)}, got {self.method!r}")

    def transform(self, X, *, video_ids=None, times_s=None):
        """Normalised features.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
            Every stored sample of each video.
        video_ids : ndarray of shape (n_samples,), optional
            Video of each sample; default: all samples are one video.
        times_s : ignored
            Accepted so that every per-video stage has the same signature.

        Returns
        -------
        ndarray of shape (n_samples, n_features), float32
        """
        check_is_fitted(self, "n_features_in_")
        X = np.asarray(X, dtype=np.float32)
        if self.method == "none" or len(X) == 0:
            return X
        out = np.empty_like(X)
        for rows in _video_rows(video_ids, len(X)):
            centred = X[rows] - X[rows].mean(axis=0, keepdims=True)
            if self.method == "standardize":
                spread = centred.std(axis=0, keepdims=True)
                centred /= np.maximum(spread, STD_FLOOR * float(spread.mean()) + 1e-12)
            out[rows] = centred
        return out


class TemporalContext(_VideoStage):
    """Append, to each sample, the mean and std of every feature over the samples within +-`window_s`.

    Windows are measured in seconds on each video's own clock, so they mean the same at any sampling
    rate; they never reach into another video, and shrink at a video's start and end.

    Parameters
    ----------
    window_s : float
        Half-width of the window, in seconds (>= 0). 0 returns the features unchanged.
    """

    def __init__(self, *, window_s: float = 4.0):
        self.window_s = window_s

    def _check_params(self) -> None:
        if not self.window_s >= 0:
            raise ValueError(f"window_s must be >= 0 seconds, got {self.window_s}")

    def transform(self, X, *, video_ids=None, times_s=None):
        """Features with window statistics appended.

        Parameters
        ----------
        X : ndarray of shape (n_samples, n_features)
        video_ids : ndarray of shape (n_samples,), optional
            Video of each sample; default: all samples are one video.
        times_s : ndarray of shape (n_samples,), seconds
            Time of each sample in its video; needed when `window_s` > 0. Rows may come in any order.

        Returns
        -------
        ndarray of shape (n_samples, 3 * n_features) -- [features, window mean, window std] -- or
        (n_samples, n_features) when `window_s` is 0; float32, rows in the input order.
        """
        check_is_fitted(self, "n_features_in_")
        X = np.asarray(X, dtype=np.float32)
        if self.window_s == 0:
            return X
        if times_s is None:
            raise ValueError("TemporalContext needs times_s, the time of each sample in seconds")
        times_s = np.asarray(times_s, dtype=np.float64)
        if times_s.shape != (len(X),):
            raise ValueError(f"times_s must have shape ({len(X)},), got {times_s.shape}")
        out = np.empty((len(X), 3 * X.shape[1]), dtype=np.float32)
        out[:, : X.shape[1]] = X
        for rows in _video_rows(video_ids, len(X)):
            rows = rows[np.argsort(times_s[rows], kind="stable")]
            mean, std = window_stats(X[rows], times_s[rows], self.window_s)
            out[rows, X.shape[1]: 2 * X.shape[1]] = mean
            out[rows, 2 * X.shape[1]:] = std
        return out


def window_stats(X: np.ndarray, times_s: np.ndarray, window_s: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std of each column over the rows within +-`window_s` seconds of each row (itself included).

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        One video's samples, in time order.
    times_s : ndarray of shape (n_samples,), non-decreasing, seconds
    window_s : float, seconds

    Returns
    -------
    mean, std : two ndarrays of shape (n_samples, n_features), float32
    """
    X = np.asarray(X, dtype=np.float64)
    lo = np.searchsorted(times_s, times_s - window_s - _TIME_TOLERANCE_S, side="left")
    hi = np.searchsorted(times_s, times_s + window_s + _TIME_TOLERANCE_S, side="right")
    zero = np.zeros((1, X.shape[1]))
    # Running sums of the centred values: exact enough in float64 over hours of 1/s samples.
    centred = X - X.mean(axis=0, keepdims=True) if len(X) else X
    s1 = np.vstack([zero, np.cumsum(centred, axis=0)])
    s2 = np.vstack([zero, np.cumsum(centred * centred, axis=0)])
    n = (hi - lo)[:, None].astype(np.float64)
    mean = (s1[hi] - s1[lo]) / n
    var = np.clip((s2[hi] - s2[lo]) / n - mean * mean, 0.0, None)
    mean += X.mean(axis=0, keepdims=True) if len(X) else 0.0
    return mean.astype(np.float32), np.sqrt(var).astype(np.float32)


def video_features(X: np.ndarray, times_s: np.ndarray, *, feature_norm: str = "none", context_s: float = 0.0,
                   video_ids: np.ndarray | None = None) -> np.ndarray:
    """The per-video stages in order: `VideoNormalizer(feature_norm)` then `TemporalContext(context_s)`.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Every stored sample of each video (the statistics are taken over them).
    times_s : ndarray of shape (n_samples,), seconds
    feature_norm : {"none", "center", "standardize"}
    context_s : float, seconds
    video_ids : ndarray of shape (n_samples,), optional
        Default: one video.

    Returns
    -------
    ndarray of shape (n_samples, n_features or 3 * n_features), float32
    """
    X = VideoNormalizer(method=feature_norm).fit(X).transform(X, video_ids=video_ids)
    return TemporalContext(window_s=context_s).fit(X).transform(X, video_ids=video_ids, times_s=times_s)


def context_grid(n_features: int) -> tuple[float, ...]:
    """The context windows worth trying for features `n_features` wide (only 0 above `MAX_FEATURES_FOR_CONTEXT`)."""
    return CONTEXT_GRID_S if n_features <= MAX_FEATURES_FOR_CONTEXT else (0.0,)


def normalize_video(features: np.ndarray, method: str) -> np.ndarray:
    """Normalise the features of ONE video (see `VideoNormalizer`); shape (n_samples, n_features), float32."""
    return VideoNormalizer(method=method).fit(features).transform(features)


def _video_rows(video_ids, n: int) -> list[np.ndarray]:
    if video_ids is None:
        return [np.arange(n)]
    video_ids = np.asarray(video_ids)
    if video_ids.shape != (n,):
        raise ValueError(f"video_ids must have shape ({n},), got {video_ids.shape}")
    _, inverse = np.unique(video_ids, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(order, bounds)
