"""Scores of one model on cross-validation folds: per-fold metrics, then one leaderboard row.

Screen-time error is what `score` will get wrong in the end: per test video and class, the absolute
difference between predicted and labelled seconds on screen, summed over folds, as a percentage of the
class's labelled seconds. Each frame stands for the seconds of video it covers in `score`'s arithmetic
(`classifiers.timeline`): 1 / sample_fps, the last one what is left of the video.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, log_loss

# name -> True if higher is better
METRICS = {"macro_f1": True, "balanced_accuracy": True, "log_loss": False, "screen_time_error_pct": False}


def score_fold(y_true: np.ndarray, proba: np.ndarray, classes: list[str], video_ids: np.ndarray,
               sample_duration_s: np.ndarray) -> dict:
    """Metrics of one test fold.

    Parameters
    ----------
    y_true : ndarray of shape (n_frames,), str
    proba : ndarray of shape (n_frames, n_classes), float
        Columns in the order of `classes`.
    classes : list of str
    video_ids : ndarray of shape (n_frames,), str
    sample_duration_s : ndarray of shape (n_frames,), float
        Seconds each frame stands for.

    Returns
    -------
    dict with balanced_accuracy, macro_f1, log_loss (floats), and per-class arrays of shape (n_classes,):
    n_true, n_correct (frames), true_s, abs_error_s (seconds, summed over the fold's test videos).
    """
    classes_arr = np.asarray(classes)
    y_true = np.asarray(y_true)
    true_idx = np.searchsorted(classes_arr, y_true)
    pred_idx = np.argmax(proba, axis=1)
    k = len(classes)
    n_true = np.bincount(true_idx, minlength=k)
    n_correct = np.bincount(true_idx[pred_idx == true_idx], minlength=k)
    true_s = np.zeros(k)
    abs_error_s = np.zeros(k)
    for video in np.unique(video_ids):
        m = video_ids == video
        t = np.bincount(true_idx[m], weights=sample_duration_s[m], minlength=k)
        p = np.bincount(pred_idx[m], weights=sample_duration_s[m], minlength=k)
        true_s += t
        abs_error_s += np.abs(p - t)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a fold may predict a class its test frames lack; recall is over true classes
        balanced_accuracy = balanced_accuracy_score(true_idx, pred_idx)
    return {
        "balanced_accuracy": float(balanced_accuracy),
        "macro_f1": float(f1_score(true_idx, pred_idx, average="macro", zero_division=0)),
        # rows are renormalised: float32 models sum to 1 only within 1e-7, which log_loss warns about
        "log_loss": float(log_loss(true_idx, proba / np.clip(proba.sum(axis=1, keepdims=True), 1e-12, None), labels=np.arange(k))),
        "n_true": n_true, "n_correct": n_correct, "true_s": true_s, "abs_error_s": abs_error_s,
    }


def summarise_folds(fold_scores: list[dict], classes: list[str]) -> dict:
    """Combine per-fold scores into one flat leaderboard row (means and std over folds, pooled per class)."""
    row: dict = {}
    for name in ("balanced_accuracy", "macro_f1", "log_loss"):
        values = np.array([s[name] for s in fold_scores])
        row[name] = float(values.mean())
        row[f"{name}_std"] = float(values.std())
    n_true = sum(s["n_true"] for s in fold_scores)
    n_correct = sum(s["n_correct"] for s in fold_scores)
    true_s = sum(s["true_s"] for s in fold_scores)
    abs_error_s = sum(s["abs_error_s"] for s in fold_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        recall = np.where(n_true > 0, n_correct / np.maximum(n_true, 1), np.nan)
        error_pct = np.where(true_s > 0, 100.0 * abs_error_s / np.where(true_s > 0, true_s, 1.0), np.nan)
    row["screen_time_error_pct"] = float(np.nanmean(error_pct)) if np.any(true_s > 0) else float("nan")
    for c, r in zip(classes, recall):
        row[f"recall_{c}"] = float(r)
    for c, e in zip(classes, error_pct):
        row[f"screen_time_error_pct_{c}"] = float(e)
    return row


def metric_key(row: dict, metric: str) -> float:
    """Sort key: smaller is better, whatever the metric's direction."""
    value = row[metric]
    return -value if METRICS[metric] else value
