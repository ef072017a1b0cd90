"""Multi-label models (issue 11): each character's decision threshold, chosen by cross-validation.

`classifiers.chain.estimators.MultiLabelClassifier` gives each character's probability of being on screen.
A character counts as on screen where its (smoothed) probability reaches its threshold. The threshold is
chosen by cross-validation for screen-time error, not fixed at 0.5: balanced class weights move the
probabilities, and what a user reads is seconds. `score_multilabel` scores each fold with thresholds chosen
on the *other* folds' held-out videos (so the leaderboard is not flattered by the choice), and returns the
thresholds chosen on all folds, which the saved model uses.
"""

from __future__ import annotations

import numpy as np

from classifiers.chain.decision import threshold_vector

from .metrics import score_fold_multilabel, summarise_folds_multilabel

#: Thresholds cross-validation chooses from, per character (small on purpose: few labelled videos).
THRESHOLD_GRID = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def choose_thresholds(held_out: list, Y: np.ndarray, classes: list[str]) -> dict[str, float]:
    """Per character, the threshold in `THRESHOLD_GRID` with the smallest held-out screen-time error.

    The error is summed over the held-out videos: |seconds predicted on screen - seconds labelled on screen|
    over each video's labelled frames. Ties go to the threshold nearest 0.5.

    Parameters
    ----------
    held_out : list of HeldOutVideo
        Smoothed per-character probabilities of held-out frames (`classifiers.selection.heldout`).
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
    (row, thresholds) : dict of scores (`classifiers.selection.metrics.summarise_folds_multilabel`, plus
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
