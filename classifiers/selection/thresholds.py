"""Characters, not classes (issue 11): one binary classifier per character, and its decision threshold.

`MultiLabelClassifier` wraps any registry model: one clone per character, fitted on "is this character
on screen?" with that model's own class weights, so each character's rare frames count as much as its
common ones. Its ``predict_proba`` gives, per frame, the probability that each character is on screen;
the probabilities do not sum to 1 (two characters can both be on screen, or none).

A character counts as on screen where its (smoothed) probability reaches its threshold. The threshold is
chosen by cross-validation for screen-time error, not fixed at 0.5: balanced class weights move the
probabilities, and what a user reads is seconds. `score_multilabel` scores each fold with thresholds chosen
on the *other* folds' held-out videos (so the leaderboard is not flattered by the choice), and returns the
thresholds chosen on all folds, which the saved model uses.
"""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.utils.validation import check_is_fitted

from classifiers.metrics import score_fold_multilabel, summarise_folds_multilabel

#: Thresholds cross-validation chooses from, per character (small on purpose: few labelled videos).
THRESHOLD_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DEFAULT_THRESHOLD = 0.5


class MultiLabelClassifier(ClassifierMixin, BaseEstimator):
    """One clone of `estimator` per character, each a binary "on screen?" problem with its own class weights.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier with ``predict_proba`` (a registry model).

    Attributes
    ----------
    estimators_ : list of fitted classifiers (None where a character's training column was constant)
    constant_proba_ : list of float
        For a constant column, its value (the character was always, or never, on screen in training): the
        probability predicted for it; -1.0 where a classifier was fitted.
    n_outputs_ : int
        Number of characters.
    """

    def __init__(self, *, estimator=None):
        self.estimator = estimator

    def fit(self, X, Y):
        """Fit one classifier per column of `Y`, shape (n_samples, n_characters), 1 = on screen."""
        if self.estimator is None:
            raise ValueError("MultiLabelClassifier needs an estimator")
        Y = np.asarray(Y)
        if Y.ndim != 2 or len(Y) != len(X):
            raise ValueError(f"Y must have shape ({len(X)}, n_characters) of 0/1, got {Y.shape}")
        self.estimators_, self.constant_proba_ = [], []
        for j in range(Y.shape[1]):
            yj = (Y[:, j] > 0).astype(np.int64)
            if yj.min() == yj.max():  # a fold without this character (or only with it): nothing to learn
                self.estimators_.append(None)
                self.constant_proba_.append(float(yj[0]))
            else:
                self.estimators_.append(clone(self.estimator).fit(X, yj))
                self.constant_proba_.append(-1.0)
        self.n_outputs_ = Y.shape[1]
        return self

    def predict_proba(self, X):
        """Probability that each character is on screen, shape (n_samples, n_characters), float64."""
        check_is_fitted(self, "estimators_")
        out = np.empty((len(X), self.n_outputs_))
        for j, (est, constant) in enumerate(zip(self.estimators_, self.constant_proba_)):
            if est is None:
                out[:, j] = constant
            else:
                out[:, j] = est.predict_proba(X)[:, list(est.classes_).index(1)]
        return out

    def predict(self, X):
        """On screen (1) or not (0) per character at `DEFAULT_THRESHOLD`, shape (n_samples, n_characters)."""
        return (self.predict_proba(X) >= DEFAULT_THRESHOLD).astype(np.int64)


def threshold_vector(thresholds: dict, classes: list[str]) -> np.ndarray:
    """Thresholds in `classes` order, shape (n_classes,); a character without one gets `DEFAULT_THRESHOLD`."""
    return np.array([float(thresholds.get(c, DEFAULT_THRESHOLD)) for c in classes])


def choose_thresholds(held_out: list, Y: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Per character, the threshold in `THRESHOLD_GRID` with the smallest held-out screen-time error.

    The error is summed over the held-out videos: |seconds predicted on screen - seconds labelled on screen|
    over each video's labelled frames. Ties go to the threshold nearest 0.5.

    Parameters
    ----------
    held_out : list of HeldOutVideo
        Smoothed per-character probabilities of held-out frames (`classifiers.heldout`).
    Y : ndarray of shape (n_frames, n_characters), 0/1
        Labels of all labelled frames (`HeldOutVideo.frames` index it).
    classes : list of str
        The characters, in the column order of `Y` and of the probabilities.
    """
    grid = np.asarray(THRESHOLD_GRID)
    chosen = {}
    for j, c in enumerate(classes):
        error_s = np.zeros(len(grid))
        for h in held_out:
            d = h.sample_duration_s
            predicted_s = ((h.proba[:, j][:, None] >= grid[None, :]) * d[:, None]).sum(axis=0)
            error_s += np.abs(predicted_s - float(d @ Y[h.frames, j]))
        best = np.lexsort((np.round(np.abs(grid - 0.5), 9), np.round(error_s, 9)))[0]
        chosen[c] = float(grid[best])
    return chosen


def score_multilabel(held_out: list, data, classes: list[str], n_folds: int) -> tuple[dict, dict[str, float]]:
    """Leaderboard scores of one model and smoother from its held-out predictions, and its thresholds.

    Fold k is scored with thresholds chosen on the held-out videos of the other folds; the returned
    thresholds are chosen on every fold's held-out videos (the saved model's).

    Returns
    -------
    (row, thresholds) : dict of scores (`classifiers.metrics.summarise_folds_multilabel`, plus
    ``threshold_<character>``), and character -> threshold.
    """
    Y = data.Y
    scores = []
    for k in range(1, n_folds + 1):
        others = [h for h in held_out if h.fold != k] or held_out
        thresholds = threshold_vector(choose_thresholds(others, Y, classes), classes)
        parts = [h for h in held_out if h.fold == k]
        frames = np.concatenate([h.frames for h in parts])
        scores.append(score_fold_multilabel(Y[frames], np.concatenate([h.proba for h in parts]), thresholds,
                                            data.video_ids[frames], np.concatenate([h.sample_duration_s for h in parts])))
    row = summarise_folds_multilabel(scores, classes)
    thresholds = choose_thresholds(held_out, Y, classes)
    row.update({f"threshold_{c}": thresholds[c] for c in classes})
    return row, thresholds
