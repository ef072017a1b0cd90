"""The cross-validation fold models of a saved model, refitted from the labels files: a committee whose
disagreement is one of suggest-labels' measures.

Fold models are refitted rather than stored in the model file: the registry's fold models take 41 KiB
(logreg) to 2.3 MiB (gboost) each, i.e. up to 11 MiB per model file for 5 folds, while refitting them
takes seconds for logreg and under a minute for gboost on a few thousand labelled frames -- and uses the
labels as they are now, including any added since the model was trained.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import clone

from classifiers.chain.model import SavedModel
from classifiers.data.dataset import load_labelled_videos
from classifiers.data.join import StoreGrids
from classifiers.selection.few_labels import plan_folds_that_fit
from classifiers.selection.pool import run_folds
from featurestore.progress import step
from featurestore.errors import TooFewSamples
from featurestore.store.store import FeatureStore


def refit_committee(saved: SavedModel, store: FeatureStore, labels_paths, *, video=None, classes=None, n_folds: int = 5,
                    n_jobs: int = -1, random_state: int = 0, grids: StoreGrids | None = None,
                    tables=None, progress=None) -> tuple[list[SavedModel], str]:
    """The cross-validation fold models of `saved`, refitted from the labels files: (models, a note saying how).

    Folds as compare-models planned them (whole videos when several are labelled, else time blocks; as many as the
    saved model's cross-validation had, at most `n_folds`, with its gap; for a short clip, fewer and closer as
    `classifiers.selection.few_labels` shrinks them); each fold model is a clone of the saved estimator with the saved per-video stages and
    smoothing. Frames labelled with a class the model does not know are left out (multi-label: characters it
    does not know are ignored). Returns no model (and a note saying why) without labels files, with
    `n_folds` below 2, or when the labels cannot be split in folds.
    `grids` and `tables`: the caller's `StoreGrids` of `store` and parsed labels files, so nothing is read twice.
    `progress` (`featurestore.progress.Progress`) shows the videos read and the fits.
    """
    if not labels_paths:
        return [], "no fold models (no labels file given): disagreement not used"
    if n_folds < 2:
        return [], f"no fold models ({n_folds} folds asked for): disagreement not used"
    multilabel = saved.multi_label
    data = load_labelled_videos(store, labels_paths, video=video, classes=classes, multi_label=multilabel,
                                none_label=saved.none_label, grids=grids, tables=tables, progress=progress)
    if multilabel:  # the model's characters, in its order; a character it does not know is left out
        columns = [data.characters.index(c) if c in data.characters else None for c in saved.classes]
        Y = np.stack([data.Y[:, j] if j is not None else np.zeros(len(data.Y), dtype=data.Y.dtype) for j in columns], axis=1)
        known = np.ones(len(Y), dtype=bool)
        y = Y
    else:
        known = np.isin(data.y, saved.classes)
        y = data.y[known]
    cv = saved.cv if isinstance(saved.cv, dict) else {}
    try:  # the folds compare-models made of the same labels: as many, the same gap, shrunk as it shrank them (issue 26)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # folds lacking a class: their models just never say it
            plan, _ = plan_folds_that_fit(data.video_ids[known], data.requested_s[known], y, data.step_s[known],
                                          n_splits=min(n_folds, int(cv.get("n_splits") or n_folds)), split="auto",
                                          gap_s=float(cv.get("gap_s") or max(5.0, saved.context_s)),
                                          contexts=(float(saved.context_s),), allow_leaky_split=False,
                                          random_state=random_state, classes=list(saved.classes) if multilabel else None,
                                          none_label=saved.none_label)
    except (TooFewSamples, ValueError) as err:
        return [], f"no fold models ({err}): disagreement not used"
    X = data.features(saved.feature_norm, saved.context_s)[known]
    with step(progress, f"fold models: {len(plan.folds)} fits", len(plan.folds)) as advance:
        runs = run_folds({"model": clone(saved.pipeline)}, X, y, plan.folds, n_jobs=n_jobs, on_fit=advance)["model"]
    if isinstance(runs, str):
        return [], f"no fold models (refitting failed: {runs}): disagreement not used"
    extra = dict(multi_label=True, thresholds=dict(saved.thresholds), none_label=saved.none_label) if multilabel else {}
    committee = [SavedModel(pipeline=r["model"], classes=list(saved.classes), embedding_config=saved.embedding_config,
                            smoother=saved.smoother, feature_norm=saved.feature_norm, context_s=saved.context_s, **extra)
                 for r in runs]
    return committee, f"{len(committee)} fold models refitted ({plan.description})"
