"""Held-out scoring of cross-validation folds through `SavedModel.predict_video`, the path `score` uses.

A fold's fitted classifier is wrapped in a `SavedModel` with the per-video stages and a smoother, and run
on each of the fold's test videos: the whole video when none of its frames were trained on (grouped,
leave-one-video-out: exactly what `score` does with a new episode); else (blocks) the stretch of samples
spanning its test frames, with the per-video stages computed over the whole video as `score` would, and
smoothing kept inside the stretch so that it cannot borrow trained-on frames' predictions. `familiarity_record`
measures, once per fold, how far each whole held-out video is from that fold's training samples (issue 18), after
the per-video stages and, where they change the features, as embedded (issue 26).
"""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass

import numpy as np

from classifiers.chain.decision import on_screen, threshold_vector
from classifiers.chain.familiarity import TrainingReference, fit_reference, power_normalise
from classifiers.chain.model import SavedModel
from classifiers.chain.smoothing import Smoother
from classifiers.data.dataset import LabelledVideos


@dataclass
class HeldOutVideo:
    """One test video of one fold, after the whole chain.

    Attributes
    ----------
    fold : int
        1-based fold number.
    video_id : str
    frames : ndarray of shape (n_test,), int
        The fold's labelled test frames of this video (indices into the LabelledVideos frames).
    proba : ndarray of shape (n_test, n_classes), float64
        Smoothed probabilities at those frames, columns in `classes` order.
    sample_duration_s : ndarray of shape (n_test,), seconds each of those frames stands for.
    whole_video : bool
        True when the chain ran on the whole video (no frame of it was trained on in this fold).
    """

    fold: int
    video_id: str
    frames: np.ndarray
    proba: np.ndarray
    sample_duration_s: np.ndarray
    whole_video: bool

    def error_record(self, y: np.ndarray, classes: list[str], thresholds: dict | None = None) -> dict:
        """Labelled, true and predicted seconds per class over this video's test frames (for `classifiers.chain.intervals`).

        Multi-label: `y` of shape (n_frames, n_characters), 0/1, and a character counts as predicted on
        screen where its probability reaches its threshold in `thresholds`.
        """
        d = self.sample_duration_s
        multi_label = np.ndim(y) == 2
        on = on_screen(self.proba, threshold_vector(thresholds or {}, classes) if multi_label else None)
        if multi_label:
            truth = np.asarray(y)[self.frames].astype(bool)
        else:
            truth = np.asarray(y)[self.frames][:, None] == np.asarray(classes)[None, :]
        return {"video": self.video_id, "fold": self.fold, "labelled_s": float(d.sum()),
                "true_s": {c: float(d @ truth[:, j]) for j, c in enumerate(classes)},
                "predicted_s": {c: float(d @ on[:, j]) for j, c in enumerate(classes)}}


def score_held_out(fold_models: list, data: LabelledVideos, folds, classes: list[str], *, feature_norm: str,
                   context_s: float, smoothers: list[Smoother], on_fold=None) -> tuple[dict[Smoother, list[HeldOutVideo]], float]:
    """Run every fold's model on its test videos, once for all `smoothers`.

    Parameters
    ----------
    fold_models : list of fitted classifiers, one per fold (trained on that fold's staged training frames)
    data : LabelledVideos
    folds : list of (train_idx, test_idx) into the labelled frames
    classes : list of str
        Column order of the returned probabilities (sorted class names; the characters of a multi-label `data`).

    Returns
    -------
    (held_out, predict_s) : smoother -> list of HeldOutVideo in fold order; seconds spent in `predict_video`.
        `on_fold(1)` is called as each fold's test videos are scored.
    """
    held_out, predict_s = {s: [] for s in smoothers}, 0.0
    for k, (model, (train, test)) in enumerate(zip(fold_models, folds), start=1):
        chain = SavedModel(pipeline=model, classes=list(classes), embedding_config={}, smoother=smoothers[0],
                           feature_norm=feature_norm, context_s=context_s, multi_label=data.is_multi_label,
                           none_label=data.none_label)
        trained_videos = set(np.unique(data.video_ids[train]).tolist())
        for video_id in np.unique(data.video_ids[test]).tolist():
            frames = test[data.video_ids[test] == video_id]
            v = data.videos[video_id]
            rows = data.rows[frames]
            whole = video_id not in trained_videos
            lo, hi = (0, len(v.requested_s) - 1) if whole else (int(rows.min()), int(rows.max()))
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a short video's "few samples" warning, once per fold, model and smoother
                results = chain.predict_video(v.requested_s, v.features, duration_s=v.duration_s, sample_fps=v.sample_fps,
                                              video_id=video_id, smoother=smoothers, stretch=None if whole else slice(lo, hi + 1))
            predict_s += time.perf_counter() - t0
            for smoother, result in zip(smoothers, results):
                held_out[smoother].append(HeldOutVideo(k, video_id, frames, result.proba[rows - lo],
                                                       result.sample_duration_s[rows - lo], whole))
        if on_fold is not None:
            on_fold(1)
    return held_out, predict_s


def familiarity_record(data: LabelledVideos, folds, *, feature_norm: str, context_s: float, seed: int = 0) -> TrainingReference:
    """The saved model's `TrainingReference` (all labelled frames, staged), with its threshold from cross-validation.

    Each fold's reference is fitted on the fold's training frames; each of its test videos that no training
    frame came from is measured whole by `SavedModel.training_distance`, the very call `score` makes for a
    new video (`classifiers.chain.familiarity`). A blocks split holds out no whole video: no threshold.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # small matrices: one BLAS thread is several times faster than many that contend
        return _familiarity_record(data, folds, feature_norm=feature_norm, context_s=context_s, seed=seed)


def _familiarity_record(data: LabelledVideos, folds, *, feature_norm: str, context_s: float, seed: int) -> TrainingReference:
    staged = data.features(feature_norm, context_s)
    raw = power_normalise(data.features("none", 0.0))
    full = fit_reference(staged, seed=seed)
    full_raw = fit_reference(raw, seed=seed)
    held_out, raw_held_out = {}, {}
    for train, test in folds:
        trained_videos = set(np.unique(data.video_ids[train]).tolist())
        whole = [v for v in np.unique(data.video_ids[test]).tolist() if v not in trained_videos]
        if not whole:
            continue
        raw_ref = fit_reference(raw[train], seed=seed, scale=full_raw.scale)
        chain = SavedModel(pipeline=None, classes=[], embedding_config={}, smoother=Smoother(), feature_norm=feature_norm,
                           context_s=context_s, familiarity=fit_reference(staged[train], seed=seed, scale=full.scale)
                           .with_threshold({}, raw_ref))
        for video_id in whole:
            v = data.videos[video_id]
            held_out[video_id] = max(held_out.get(video_id, 0.0), chain.training_distance(v.requested_s, v.features))
            raw_held_out[video_id] = max(raw_held_out.get(video_id, 0.0), chain.raw_training_distance(v.features))
    return full.with_threshold(held_out, full_raw.with_threshold(raw_held_out))
