"""compare-models: labelled stored frames -> every model and smoother on the same leakage-free folds
-> leaderboard -> the winner refitted on all labelled frames and saved.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from classifiers.cv import CVPlan, plan_folds
from classifiers.dataset import LabelledFrames, load_labelled_variants
from classifiers.features import FEATURE_NORMS
from classifiers.metrics import METRICS, metric_key, score_fold, summarise_folds
from classifiers.persist import save_model
from classifiers.pool import n_cpus, run_folds, set_threads
from classifiers.registry import MODELS, build_model
from classifiers.report import REPORT_SUFFIXES, write_report
from classifiers.smoothing import Smoother, candidate_smoothers
from featurestore.errors import AllModelsFailed, OutputUnwritable, ScreentimeError
from featurestore.files import atomic_output
from featurestore.provenance import json_safe
from featurestore.store import FeatureStore


@dataclass
class ComparisonResult:
    """Outcome of `compare_models`.

    Attributes
    ----------
    leaderboard : DataFrame
        One row per model, best first (failed models last, with `error`); see `compare_frames`.
    best_name : str
    best_smoother : Smoother
    cv : CVPlan
        The folds every model was scored on; ``cv.summary`` has per-fold counts.
    """

    leaderboard: pd.DataFrame
    best_name: str
    best_smoother: Smoother
    cv: CVPlan
    classes: list[str]
    metric: str
    wall_s: float
    model_path: Path | None = None
    training_videos: list[str] = field(default_factory=list)
    feature_norm: str = "none"
    #: With feature_norm="auto": the probe model's score for each normalisation, e.g. {"none": 0.5, "center": 0.87}.
    feature_norm_scores: dict = field(default_factory=dict)

    @property
    def folds(self) -> pd.DataFrame:
        return self.cv.summary


def compare_models(
    store_path: str | Path,
    labels_path: str | Path,
    *,
    out_path: str | Path | None = None,
    report_path: str | Path | None = None,
    models: Sequence[str] | Mapping[str, object] | None = None,
    video: str | None = None,
    classes: list[str] | None = None,
    n_splits: int = 5,
    split: str = "auto",
    gap_s: float = 5.0,
    allow_leaky_split: bool = False,
    metric: str = "macro_f1",
    timeout_s: float | None = None,
    n_jobs: int = -1,
    random_state: int = 0,
    smoothers: list[Smoother] | None = None,
    feature_norm: str = "auto",
    on_plan: Callable[[CVPlan], None] | None = None,
) -> ComparisonResult:
    """Compare classifiers on the labelled frames of a store; save the winner to `out_path`.

    `feature_norm` is "none", "center" (see `classifiers.features`) or "auto": both are scored with
    logistic regression on the same folds first, and the better one is used for every model.

    Labels are read as in `featurestore.labels.read_labels` (`video`, `classes` for the tutorial format);
    folds as in `classifiers.cv.plan_folds`; scoring as in `compare_frames`. The winner is refitted on
    all labelled frames and saved with `classifiers.persist.save_model` when `out_path` is given; the
    leaderboard is written to `report_path` (.csv or .json, `classifiers.report.write_report`) when given.
    Both files are replaced together, after all the work, or neither is.

    Raises
    ------
    LabelsInvalid, TooFewSamples, StoreCorrupt, AllModelsFailed, OutputUnwritable
    """
    if feature_norm not in ("auto", *FEATURE_NORMS):
        raise ValueError(f"feature_norm must be auto or one of {', '.join(FEATURE_NORMS)}, got {feature_norm!r}")
    if report_path is not None and Path(report_path).suffix.lower() not in REPORT_SUFFIXES:
        raise ValueError(f"report_path must end in {' or '.join(REPORT_SUFFIXES)}, got {Path(report_path).name!r}")
    store = FeatureStore(store_path)
    norms = FEATURE_NORMS if feature_norm == "auto" else (feature_norm,)
    variants = load_labelled_variants(store, labels_path, video=video, classes=classes, feature_norms=norms)
    data = variants[norms[0]]
    plan = plan_folds(data.video_ids, data.requested_s, data.y, n_splits=n_splits, split=split, gap_s=gap_s,
                      allow_leaky_split=allow_leaky_split, random_state=random_state)
    if on_plan is not None:
        on_plan(plan)
    norm_scores = {}
    if len(norms) > 1:  # a cheap probe decides the normalisation, on the same folds
        for norm, variant in variants.items():
            probe = compare_frames(variant, plan, models=["logreg"], metric=metric, n_jobs=n_jobs,
                                   random_state=random_state, smoothers=smoothers)
            norm_scores[norm] = float(probe.leaderboard.iloc[0][metric])
        chosen = min(norms, key=lambda n: metric_key({metric: norm_scores[n]}, metric))
    else:
        chosen = norms[0]
    data = variants[chosen]
    result = compare_frames(data, plan, models=models, metric=metric, timeout_s=timeout_s, n_jobs=n_jobs,
                            random_state=random_state, smoothers=smoothers)
    result.feature_norm, result.feature_norm_scores = chosen, norm_scores
    with _written_together(out_path, report_path) as (model_tmp, report_tmp):
        if model_tmp is not None:
            estimators = _estimators(models, random_state)
            best = clone(estimators[result.best_name])
            with threadpool_limits(n_cpus(n_jobs)):
                set_threads(best, n_cpus(n_jobs)).fit(data.X, data.y)
            row = result.leaderboard.set_index("model").loc[result.best_name]
            save_model(
                model_tmp, pipeline=best, classes=result.classes, embedding_config=store.config, smoother=result.best_smoother,
                model_name=result.best_name, cv=plan.to_dict(), scores=json_safe(row.to_dict()),
                training_videos=result.training_videos, feature_norm=chosen,
            )
            result.model_path = Path(out_path)
        if report_tmp is not None:
            write_report(result, report_tmp, suffix=Path(report_path).suffix)
    return result


@contextmanager
def _written_together(*paths: str | Path | None) -> Iterator[tuple[Path | None, ...]]:
    """Temporary paths for the given outputs (None stays None); all replace their targets only if every one
    was written, one rename after the other, so an interrupted run never leaves a new model with an old or
    missing report (issue 8)."""
    with ExitStack() as stack:
        yield tuple(None if p is None else stack.enter_context(_atomic_output_or_refuse(Path(p))) for p in paths)


@contextmanager
def _atomic_output_or_refuse(path: Path) -> Iterator[Path]:
    try:
        with atomic_output(path) as tmp:
            yield tmp
    except OSError as err:
        if isinstance(err, ScreentimeError):
            raise
        raise OutputUnwritable(f"{path}: cannot write it ({err.strerror or err}); choose another path") from None


def compare_frames(
    data: LabelledFrames,
    plan: CVPlan,
    *,
    models: Sequence[str] | Mapping[str, object] | None = None,
    metric: str = "macro_f1",
    timeout_s: float | None = None,
    n_jobs: int = -1,
    random_state: int = 0,
    smoothers: list[Smoother] | None = None,
) -> ComparisonResult:
    """Score every model, with every smoother, on the folds of `plan`; return the leaderboard.

    Leaderboard columns: model, status, winner, smoothing (best smoother by `metric`), macro_f1,
    balanced_accuracy, log_loss (mean over folds, with ``*_std``), screen_time_error_pct (mean over
    classes), the same unsmoothed as ``*_unsmoothed``, recall_<class>, screen_time_error_pct_<class>,
    fit_s (mean per fold, seconds), predict_s_per_1000 (seconds per 1,000 frames), error.

    Raises
    ------
    AllModelsFailed
        If no model completed every fold.
    """
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
    start = time.perf_counter()
    estimators = _estimators(models, random_state)
    classes = sorted(np.unique(data.y).tolist())
    smoothers = smoothers or candidate_smoothers()
    runs = run_folds(estimators, data.X, data.y, plan.folds, classes, timeout_s=timeout_s, n_jobs=n_jobs)
    rows = []
    for name, outcome in runs.items():
        if isinstance(outcome, str):
            rows.append({"model": name, "status": "failed", "error": outcome})
            continue
        best = None
        for smoother in smoothers:
            scores = [score_fold(data.y[test], _smooth(run["proba"], smoother, data, test), classes,
                                 data.video_ids[test], data.step_s[test]) for (_, test), run in zip(plan.folds, outcome)]
            summary = summarise_folds(scores, classes)
            if smoother.method == "none":
                plain = summary
            if best is None or metric_key(summary, metric) < metric_key(best[1], metric):
                best = (smoother, summary)
        n_test = sum(len(test) for _, test in plan.folds)
        rows.append({
            "model": name, "status": "ok", "smoothing": best[0].name, **best[1],
            **{f"{k}_unsmoothed": plain[k] for k in ("macro_f1", "balanced_accuracy", "screen_time_error_pct")},
            "fit_s": float(np.mean([r["fit_s"] for r in outcome])),
            "predict_s_per_1000": 1000.0 * sum(r["predict_s"] for r in outcome) / n_test,
            "error": "", "_smoother": best[0],
        })
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: metric_key(r, metric))
    if not ok:
        reasons = "; ".join(f"{r['model']}: {r['error']}" for r in rows)
        raise AllModelsFailed(f"every model failed in cross-validation ({reasons}); fix the cause or raise --timeout")
    board = pd.DataFrame(ok + [r for r in rows if r["status"] == "failed"])
    board.insert(0, "rank", range(1, len(board) + 1))
    board.insert(3, "winner", board["rank"] == 1)
    return ComparisonResult(
        leaderboard=board.drop(columns="_smoother"), best_name=ok[0]["model"], best_smoother=ok[0]["_smoother"], cv=plan,
        classes=classes, metric=metric, wall_s=time.perf_counter() - start, training_videos=sorted(np.unique(data.video_ids).tolist()),
    )


def _smooth(proba: np.ndarray, smoother: Smoother, data: LabelledFrames, test: np.ndarray) -> np.ndarray:
    """Smooth a fold's probabilities per test video, frames in time order."""
    if smoother.method == "none":
        return proba
    out = np.empty_like(proba)
    videos = data.video_ids[test]
    for video in np.unique(videos):
        pos = np.flatnonzero(videos == video)
        pos = pos[np.argsort(data.requested_s[test][pos], kind="stable")]
        out[pos] = smoother.transform(proba[pos], float(data.step_s[test][pos[0]]))
    return out


def _estimators(models, random_state: int) -> dict:
    if models is None:
        models = list(MODELS)
    if isinstance(models, Mapping):
        return dict(models)
    return {name: build_model(name, random_state=random_state) for name in models}

