"""The one rule for which labels a sample gets from its (smoothed) probabilities.

Single-label models: the likeliest class. Multi-label models (characters that may share the screen): every
character whose probability reaches its threshold (none, one or several). Screen time, segments, held-out
errors, cross-validation metrics and suggested spans all decide through `on_screen`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

DEFAULT_THRESHOLD = 0.5


def threshold_vector(thresholds: Mapping[str, float], classes: Sequence[str]) -> np.ndarray:
    """Thresholds in `classes` order, shape (n_classes,); a character without one gets `DEFAULT_THRESHOLD`."""
    return np.array([float(thresholds.get(c, DEFAULT_THRESHOLD)) for c in classes])


def on_screen(proba: np.ndarray, thresholds: np.ndarray | None = None) -> np.ndarray:
    """Which classes each sample shows, shape (n_samples, n_classes), bool.

    Parameters
    ----------
    proba : ndarray of shape (n_samples, n_classes)
        Smoothed probabilities (single-label rows sum to 1; multi-label columns are separate characters).
    thresholds : ndarray of shape (n_classes,), optional
        Multi-label: a character is on screen where its probability is at least its threshold. None
        (single-label): exactly one class per sample, the likeliest (the first of equals).
    """
    proba = np.asarray(proba)
    if thresholds is not None:
        return proba >= np.asarray(thresholds, dtype=np.float64)[None, :]
    on = np.zeros(proba.shape, dtype=bool)
    if len(proba):
        on[np.arange(len(proba)), np.argmax(proba, axis=1)] = True
    return on


def label_texts(on: np.ndarray, classes: Sequence[str], none_label: str) -> np.ndarray:
    """Each sample's labels as one string: the class, or the characters '+'-joined ('jerry+tom'), or `none_label`."""
    names = np.asarray(classes, dtype=object)
    return np.array(["+".join(names[row]) or none_label for row in np.asarray(on, dtype=bool)], dtype=object)
