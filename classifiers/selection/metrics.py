"""Scores of one model on cross-validation folds: per-fold metrics, then one leaderboard row.

Screen-time error is what `score` will get wrong in the end: per test video and class, the absolute
difference between predicted and labelled seconds on screen, summed over folds, as a percentage of the
class's labelled seconds. Each frame stands for the seconds of video it covers in `score`'s arithmetic
(`classifiers.chain.timeline`): 1 / sample_fps, the last one what is left of the video.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.metrics import balanced_accuracy_score, f1_score, log_loss

from classifiers.chain.decision import on_screen
from classifiers.choices import METRICS

from .choice import standard_error


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
    pred_idx = on_screen(proba).argmax(axis=1)
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
        row[f"{name}_se"] = standard_error(values)
    row["screen_time_error_pct_se"] = standard_error([_fold_error_pct(s) for s in fold_scores])
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


def _fold_error_pct(fold: dict) -> float:
    """One fold's screen-time error: mean over classes of |error| as % of the class's labelled seconds."""
    true_s, abs_error_s = np.asarray(fold["true_s"], dtype=float), np.asarray(fold["abs_error_s"], dtype=float)
    pct = 100.0 * abs_error_s[true_s > 0] / true_s[true_s > 0]
    return float(pct.mean()) if len(pct) else float("nan")


def metric_key(row: dict, metric: str) -> float:
    """Sort key: smaller is better, whatever the metric's direction."""
    value = row[metric]
    return -value if METRICS[metric] else value


def score_fold_multilabel(Y_true: np.ndarray, proba: np.ndarray, thresholds: np.ndarray, video_ids: np.ndarray,
                          sample_duration_s: np.ndarray) -> dict:
    """Metrics of one test fold of a multi-label model (one binary problem per character).

    Parameters
    ----------
    Y_true : ndarray of shape (n_frames, n_characters), 0/1
    proba : ndarray of shape (n_frames, n_characters), float
        Probability that each character is on screen.
    thresholds : ndarray of shape (n_characters,)
        A character counts as on screen where its probability reaches its threshold.
    video_ids : ndarray of shape (n_frames,), str
    sample_duration_s : ndarray of shape (n_frames,), float

    Returns
    -------
    dict with macro_f1, balanced_accuracy, log_loss (means over characters), and, summed over the fold:
    per-character arrays tp, fp, fn (frames), true_s, abs_error_s (seconds, per test video); together_true_s,
    together_abs_error_s (two or more characters on screen), none_true_s, none_abs_error_s (no character),
    n_exact (frames whose whole set of characters is right), n_frames.
    """
    truth = np.asarray(Y_true).astype(bool)
    on = on_screen(proba, thresholds)
    tp, fp = (on & truth).sum(axis=0), (on & ~truth).sum(axis=0)
    fn, tn = (~on & truth).sum(axis=0), (~on & ~truth).sum(axis=0)
    f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / np.maximum(2 * tp + fp + fn, 1), 0.0)
    both = np.vstack([np.where(tp + fn > 0, tp / np.maximum(tp + fn, 1), np.nan),
                      np.where(tn + fp > 0, tn / np.maximum(tn + fp, 1), np.nan)])
    known = np.isfinite(both)
    # a character the fold never (or always) shows has one rate only: its balanced accuracy is that rate
    balanced = np.where(known.any(axis=0), np.where(known, both, 0).sum(axis=0) / np.maximum(known.sum(axis=0), 1), np.nan)
    p = np.clip(np.asarray(proba, dtype=np.float64), 1e-15, 1 - 1e-15)
    losses = -(truth * np.log(p) + ~truth * np.log(1 - p)).mean(axis=0)
    k = truth.shape[1]
    true_s, abs_error_s = np.zeros(k), np.zeros(k)
    sums = {"together_true_s": 0.0, "together_abs_error_s": 0.0, "none_true_s": 0.0, "none_abs_error_s": 0.0}
    for video in np.unique(video_ids):
        m = video_ids == video
        d = sample_duration_s[m]
        t, pr = d @ truth[m], d @ on[m]
        true_s += t
        abs_error_s += np.abs(pr - t)
        for name, n_true, n_pred in (("together", truth[m].sum(1) >= 2, on[m].sum(1) >= 2),
                                     ("none", truth[m].sum(1) == 0, on[m].sum(1) == 0)):
            sums[f"{name}_true_s"] += float(d @ n_true)
            sums[f"{name}_abs_error_s"] += abs(float(d @ n_pred) - float(d @ n_true))
    return {
        "macro_f1": float(f1.mean()), "balanced_accuracy": float(np.mean(balanced[np.isfinite(balanced)])) if np.any(np.isfinite(balanced)) else float("nan"),
        "log_loss": float(losses.mean()), "tp": tp, "fp": fp, "fn": fn, "true_s": true_s, "abs_error_s": abs_error_s,
        **sums, "n_exact": int(np.sum((on == truth).all(axis=1))), "n_frames": int(len(truth)),
    }


def summarise_folds_multilabel(fold_scores: list[dict], classes: list[str]) -> dict:
    """One leaderboard row from per-fold multi-label scores (means and std over folds; counts and seconds pooled).

    Keys: macro_f1, balanced_accuracy, log_loss (+ ``_std``), screen_time_error_pct (mean over characters
    of % of that character's labelled seconds), together_error_pct, none_error_pct (% of the labelled seconds
    with two or more / no characters on screen; NaN where there were none), exact_set_accuracy (share of
    frames whose set of characters is exactly right), and per character f1_<c>, recall_<c>,
    screen_time_error_pct_<c>.
    """
    row: dict = {}
    for name in ("balanced_accuracy", "macro_f1", "log_loss"):
        values = np.array([s[name] for s in fold_scores])
        values = values[np.isfinite(values)]
        row[name] = float(values.mean()) if len(values) else float("nan")
        row[f"{name}_std"] = float(values.std()) if len(values) else float("nan")
        row[f"{name}_se"] = standard_error(values)
    row["screen_time_error_pct_se"] = standard_error([_fold_error_pct(s) for s in fold_scores])
    tp, fp, fn = (sum(s[key] for s in fold_scores) for key in ("tp", "fp", "fn"))
    true_s, abs_error_s = sum(s["true_s"] for s in fold_scores), sum(s["abs_error_s"] for s in fold_scores)

    def pct(error: float, true: float) -> float:
        return 100.0 * error / true if true > 0 else float("nan")

    error_pct = np.array([pct(e, t) for e, t in zip(abs_error_s, true_s)])
    row["screen_time_error_pct"] = float(np.nanmean(error_pct)) if np.any(np.isfinite(error_pct)) else float("nan")
    for name in ("together", "none"):
        row[f"{name}_error_pct"] = pct(sum(s[f"{name}_abs_error_s"] for s in fold_scores), sum(s[f"{name}_true_s"] for s in fold_scores))
    row["exact_set_accuracy"] = sum(s["n_exact"] for s in fold_scores) / max(1, sum(s["n_frames"] for s in fold_scores))
    for j, c in enumerate(classes):
        row[f"f1_{c}"] = float(2 * tp[j] / (2 * tp[j] + fp[j] + fn[j])) if 2 * tp[j] + fp[j] + fn[j] > 0 else float("nan")
        row[f"recall_{c}"] = float(tp[j] / (tp[j] + fn[j])) if tp[j] + fn[j] > 0 else float("nan")
        row[f"screen_time_error_pct_{c}"] = float(error_pct[j])
    return row
