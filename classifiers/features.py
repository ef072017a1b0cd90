"""Per-video feature normalisation, applied before any model.

Each episode has its own rooms and lighting, which dominate VGG16 features; subtracting a video's mean
feature vector (over all its stored samples, no labels used) leaves what changes within the video: who
is on screen. The statistics of a scored video are known when it is scored, so this does not leak.
"""

from __future__ import annotations

import numpy as np

FEATURE_NORMS = ("none", "center")
#: Below this many samples a video's mean is a poor estimate of its background.
MIN_SAMPLES_FOR_CENTER = 30


def normalize_video(features: np.ndarray, method: str) -> np.ndarray:
    """Normalise the features of ONE video.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
        Every stored sample of the video, labelled or not.
    method : {"none", "center"}
        "center" subtracts the video's mean feature vector.

    Returns
    -------
    ndarray of shape (n_samples, n_features), float32
    """
    if method not in FEATURE_NORMS:
        raise ValueError(f"feature_norm must be one of {', '.join(FEATURE_NORMS)}, got {method!r}")
    features = np.asarray(features, dtype=np.float32)
    if method == "none" or len(features) == 0:
        return features
    return features - features.mean(axis=0, keepdims=True)
