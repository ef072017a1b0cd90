"""The winner refitted on all labelled frames, then checked against its own labels (issue 26).

Cross-validation scores fold models; the model saved is another fit, on every labelled frame. A model can do
well enough on the folds and still not reproduce the labels it was refitted on (an MLP of a few dozen frames
that stops before it has learnt anything says `bikes` for a whole video labelled half `cars`). So the refitted
model runs the chain `score` runs (`SavedModel.predict_video`, with its stages, smoothing and thresholds) on
each training video, and its labels at the labelled frames are compared with the labels: the *training
agreement*, macro F1 (the mean over characters for a multi-label model).

A training agreement below `AGREEMENT_FLOOR`, or more than `AGREEMENT_MARGIN` below the model's own
cross-validated macro F1, is a `TrainingDisagreesWarning` naming the model, and the choice falls to the next
candidate (by the same selection rule, without it). When none agrees, the one that agrees best is saved, with
the warning.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
from sklearn.base import clone
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from classifiers.chain.decision import on_screen
from classifiers.chain.model import SavedModel
from classifiers.data.dataset import LabelledVideos
from featurestore.errors import TrainingDisagreesWarning

from .choice import choose
from .pool import n_cpus, set_threads

#: Training agreement (macro F1 on the labelled frames) below this is a model that did not learn its labels.
AGREEMENT_FLOOR = 0.6
#: Nor this far below its own cross-validated macro F1: a refit should fit its labels at least as well as folds
#: fitted on fewer did on frames they never saw.
AGREEMENT_MARGIN = 0.2


def training_agreement(model: SavedModel, data: LabelledVideos) -> float:
    """Macro F1 of `model`'s labels (its whole chain on each whole training video) against the labels of
    `data`'s labelled frames; for a multi-label model, the mean over characters of each one's F1."""
    predicted, truth = [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a short video's "few samples" warning: compare-models said it once
        for video_id in np.unique(data.video_ids).tolist():
            v, mask = data.videos[video_id], data.video_ids == video_id
            video = model.predict_video(v.requested_s, v.features, duration_s=v.duration_s, sample_fps=v.sample_fps,
                                        video_id=video_id)
            predicted.append(on_screen(video.proba, model.threshold_array)[data.rows[mask]])
            truth.append(data.Y[mask] if data.is_multi_label else
                         data.y[mask][:, None] == np.asarray(model.classes)[None, :])
    on, true = np.concatenate(predicted).astype(bool), np.concatenate(truth).astype(bool)
    if data.is_multi_label:
        return float(np.mean([f1_score(true[:, j], on[:, j], zero_division=1.0) for j in range(true.shape[1])]))
    present = true.any(axis=0)  # classes with labelled frames; argmax is the one labels rule's single label
    return float(f1_score(true.argmax(axis=1), on.argmax(axis=1), labels=np.flatnonzero(present), average="macro",
                          zero_division=0))


def agrees(agreement: float, cv_macro_f1: float) -> bool:
    """Whether a refitted model's training agreement is neither below the floor nor far below its CV score."""
    cv = cv_macro_f1 if np.isfinite(cv_macro_f1) else 0.0
    return agreement >= AGREEMENT_FLOOR and agreement >= cv - AGREEMENT_MARGIN


def refit_winner(result, data: LabelledVideos, estimators: dict, *, simplicity: Callable, selection: str,
                 n_jobs: int):
    """Refit `result`'s winner on all labelled frames; while it does not agree with its labels, fall to the next
    candidate (`result.candidates`, by `selection`), and make that one `result`'s winner.

    `result` is a `classifiers.compare.ComparisonResult`; its `training_agreement` is set, and when the winner
    changes, its `best_name`, `best_smoother`, `held_out`, `thresholds`, `fold_models`, the leaderboard's
    `winner` column and `choice["model"]` (which says why). Returns the fitted pipeline to save.
    """
    X = data.features(result.feature_norm, result.context_s)
    first = next(r for r in result.candidates if r["model"] == result.best_name)
    tried, notes, row, remaining = [], [], first, list(result.candidates)
    while True:
        pipeline = clone(estimators[row["model"]])
        with threadpool_limits(n_cpus(n_jobs)):
            set_threads(pipeline, n_cpus(n_jobs)).fit(X, data.targets)
        chain = SavedModel(pipeline=pipeline, classes=list(result.classes), embedding_config={}, smoother=row["_smoother"],
                           feature_norm=result.feature_norm, context_s=result.context_s, multi_label=data.is_multi_label,
                           thresholds=row["_thresholds"], none_label=data.none_label)
        agreement = training_agreement(chain, data)
        tried.append((row, pipeline, agreement))
        if agrees(agreement, row.get("macro_f1", np.nan)):
            break
        note = (f"{row['model']} refitted on every labelled frame reproduces its own labels poorly (training macro F1 "
                f"{agreement:.2f}, cross-validated {row.get('macro_f1', np.nan):.2f})")
        remaining = [r for r in remaining if r is not row]
        if not remaining:
            row, pipeline, agreement = max(tried, key=lambda t: t[2])
            notes.append(f"{note}; no other model does better, so {row['model']} (training macro F1 {agreement:.2f}) "
                         "is saved anyway: label more frames, or check the labels")
        else:
            row, _ = choose(remaining, result.metric, simplicity, selection)
            notes.append(f"{note}; {row['model']} is chosen instead")
        warnings.warn(notes[-1], TrainingDisagreesWarning, stacklevel=3)
        if not remaining:
            break
    result.training_agreement = agreement
    if notes:
        result.choice["model"] = f"{row['model']}: " + "; ".join(notes)
    if row is not first:
        result.best_name, result.best_smoother, result.held_out = row["model"], row["_smoother"], row["_held_out"]
        result.thresholds, result.fold_models = row["_thresholds"], row["_fold_models"]
        result.leaderboard["winner"] = result.leaderboard["model"] == row["model"]
        result.choice["smoothing"] = row["smoothing_choice"]
    return pipeline
