"""compare-models: labelled stored frames -> every model and smoother on the same leakage-free folds
-> leaderboard -> the winner refitted on all labelled frames and saved.

Folds run in worker processes (loky) when more than one core is used or a `timeout_s` is set, so a
fold that overruns can be abandoned by killing its worker; each worker gets cores // workers threads.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import joblib
import numpy as np
import pandas as pd
from sklearn.base import clone
from threadpoolctl import threadpool_limits

from classifiers.cv import CVPlan, plan_folds
from classifiers.features import FEATURE_NORMS, normalize_video
from classifiers.metrics import METRICS, metric_key, score_fold, summarise_folds
from classifiers.persist import save_model
from classifiers.registry import MODELS, build_model
from classifiers.smoothing import Smoother, candidate_smoothers
from featurestore.errors import AllModelsFailed
from featurestore.labels import StoreGrids, join_labels, parse_labels
from featurestore.store import FeatureStore

_GRACE_S = 1.0  # predict time and polling, before the parent kills an overrunning fold


@dataclass
class LabelledFrames:
    """Labelled frames gathered from a store: X (n, n_features) float32, y/video_ids (n,) str,
    requested_s (n,) seconds, step_s (n,) seconds per frame (1 / sample_fps)."""

    X: np.ndarray
    y: np.ndarray
    video_ids: np.ndarray
    requested_s: np.ndarray
    step_s: np.ndarray


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
    all labelled frames and saved with `classifiers.persist.save_model` when `out_path` is given.

    Raises
    ------
    LabelsInvalid, TooFewSamples, StoreCorrupt, AllModelsFailed
    """
    if feature_norm not in ("auto", *FEATURE_NORMS):
        raise ValueError(f"feature_norm must be auto or one of {', '.join(FEATURE_NORMS)}, got {feature_norm!r}")
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
    if out_path is not None:
        estimators = _estimators(models, random_state)
        best = clone(estimators[result.best_name])
        with threadpool_limits(_n_cpus(n_jobs)):
            _set_threads(best, _n_cpus(n_jobs)).fit(data.X, data.y)
        row = result.leaderboard.set_index("model").loc[result.best_name]
        result.model_path = save_model(
            out_path, pipeline=best, classes=result.classes, embedding_config=store.config, smoother=result.best_smoother,
            model_name=result.best_name, cv=plan.to_dict(), scores={k: _plain(v) for k, v in row.items()},
            training_videos=result.training_videos, feature_norm=chosen,
        )
    return result


def load_labelled_frames(store: FeatureStore, labels_path, *, video=None, classes=None, feature_norm="none") -> LabelledFrames:
    """Join a labels file to a store and gather the features of the labelled frames (each video read once).

    Features are normalised per video with `feature_norm` over all of the video's stored samples first.
    """
    return load_labelled_variants(store, labels_path, video=video, classes=classes, feature_norms=(feature_norm,))[feature_norm]


def load_labelled_variants(store: FeatureStore, labels_path, *, video=None, classes=None,
                           feature_norms: Sequence[str] = ("none",)) -> dict[str, LabelledFrames]:
    """`load_labelled_frames` for several per-video normalisations at once, reading each video only once."""
    grids = StoreGrids(store)
    frames = join_labels(parse_labels(labels_path, video=video, classes=classes), grids, store_name=Path(store.path).name)
    features: dict[str, list[np.ndarray]] = {norm: [] for norm in feature_norms}
    step_s = []
    for video_id, rows in frames.groupby("video_id", sort=True):
        v = grids.videos[video_id]
        for norm in feature_norms:
            features[norm].append(normalize_video(v.features, norm)[rows["row"].to_numpy()])
        step_s.append(np.full(len(rows), 1.0 / float(v.info["sample_fps"])))
    frames = frames.sort_values(["video_id", "requested_s"], kind="stable")
    y = frames["label"].to_numpy().astype(str)
    video_ids = frames["video_id"].to_numpy().astype(str)
    requested_s = frames["requested_s"].to_numpy(dtype=np.float64)
    step_s = np.concatenate(step_s)
    return {norm: LabelledFrames(X=np.ascontiguousarray(np.concatenate(parts), dtype=np.float32), y=y, video_ids=video_ids,
                                 requested_s=requested_s, step_s=step_s)
            for norm, parts in features.items()}


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


def run_folds(estimators: Mapping[str, object], X, y, folds, classes, *, timeout_s=None, n_jobs=-1) -> dict:
    """Fit and predict every estimator on every fold.

    Returns name -> list (one per fold) of {"proba" (n_test, n_classes), "fit_s", "predict_s"}, or a
    one-line reason (str) if any fold of that model raised or took longer than `timeout_s` to fit.
    """
    tasks = deque((name, k) for name in estimators for k in range(len(folds)))
    n_workers = min(_n_cpus(n_jobs), len(tasks))
    results: dict[str, list | str] = {name: [None] * len(folds) for name in estimators}
    if n_workers == 1 and timeout_s is None:
        with threadpool_limits(_n_cpus(n_jobs)):
            for name, k in tasks:
                if isinstance(results[name], str):
                    continue
                try:
                    results[name][k] = _fit_fold(estimators[name], X, y, *folds[k], classes, _n_cpus(n_jobs))
                except Exception as err:  # a failing model is reported, the others go on
                    results[name] = f"fold {k + 1}: {_reason(err)}"
        return results
    threads = max(1, _n_cpus(n_jobs) // n_workers)
    with tempfile.TemporaryDirectory(prefix="screentime-cv-") as tmp:
        x_path = Path(tmp) / "X.joblib"
        joblib.dump(np.asarray(X), x_path)
        _run_pool(estimators, x_path, y, folds, classes, tasks, results, n_workers, threads, timeout_s)
    return results


def _run_pool(estimators, x_path, y, folds, classes, tasks, results, n_workers, threads, timeout_s) -> None:
    """Run tasks in loky workers; a fold still fitting `timeout_s` (+ grace) after it started gets its pool killed.

    A worker touches a marker file when it starts fitting, so time spent starting workers is not charged.
    """
    from joblib.externals.loky.process_executor import ProcessPoolExecutor

    env = {var: str(threads) for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    make_pool = lambda: ProcessPoolExecutor(max_workers=n_workers, env=env)  # noqa: E731
    pool, running, n_submitted = make_pool(), {}, 0
    try:
        while tasks or running:
            while tasks and len(running) < n_workers:
                name, k = tasks.popleft()
                if not isinstance(results[name], str):
                    marker = x_path.with_name(f"task-{n_submitted}.started")
                    n_submitted += 1
                    future = pool.submit(_fit_fold_file, estimators[name], str(x_path), y, *folds[k], classes, threads, str(marker))
                    running[future] = (name, k, marker)
            if not running:
                continue
            done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
            for future in done:
                name, k, _ = running.pop(future)
                err = future.exception()
                if isinstance(results[name], str):
                    continue
                if err is not None:
                    results[name] = f"fold {k + 1}: {_reason(err)}"
                elif timeout_s is not None and future.result()["fit_s"] > timeout_s:
                    results[name] = f"fold {k + 1} took {future.result()['fit_s']:.3g} s to fit, over the {timeout_s:g} s timeout"
                else:
                    results[name][k] = future.result()
            late = [f for f, (_, _, marker) in running.items() if timeout_s is not None and _running_s(marker) > timeout_s + _GRACE_S]
            if late:
                for f in late:
                    name, k, _ = running.pop(f)
                    results[name] = f"fold {k + 1} did not finish fitting within the {timeout_s:g} s timeout"
                tasks.extendleft((name, k) for name, k, _ in running.values())  # innocent bystanders run again
                running = {}
                pool.shutdown(wait=False, kill_workers=True)
                pool = make_pool()
    finally:
        pool.shutdown(wait=True, kill_workers=True)


def _running_s(marker: Path) -> float:
    """Seconds since a worker touched `marker` (0 if it has not started)."""
    try:
        return time.time() - marker.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _fit_fold_file(estimator, x_path: str, y, train, test, classes, threads: int, marker: str) -> dict:
    X = joblib.load(x_path, mmap_mode="r")
    with threadpool_limits(threads):
        Path(marker).touch()
        return _fit_fold(estimator, X, y, train, test, classes, threads)


def _fit_fold(estimator, X, y, train, test, classes, threads: int) -> dict:
    """Fit a clone on `train`, predict `test`; proba columns follow `classes` (zeros for unseen ones)."""
    model = _set_threads(clone(estimator), threads)
    t0 = time.perf_counter()
    model.fit(np.asarray(X[train]), y[train])
    t1 = time.perf_counter()
    proba_seen = model.predict_proba(np.asarray(X[test]))
    t2 = time.perf_counter()
    proba = np.zeros((len(test), len(classes)))
    proba[:, np.searchsorted(classes, [str(c) for c in model.classes_])] = proba_seen
    return {"proba": proba, "fit_s": t1 - t0, "predict_s": t2 - t1}


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


def _set_threads(estimator, threads: int):
    """Give every `n_jobs` parameter that is set (LightGBM) the worker's share of cores; None ones stay unset."""
    params = [p for p, v in estimator.get_params(deep=True).items() if (p == "n_jobs" or p.endswith("__n_jobs")) and v is not None]
    return estimator.set_params(**{p: threads for p in params}) if params else estimator


def _n_cpus(n_jobs: int) -> int:
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return available if n_jobs is None or n_jobs < 1 else min(n_jobs, available)


def _reason(err: BaseException) -> str:
    text = str(err).splitlines()[0] if str(err) else ""
    return f"{type(err).__name__}: {text}"[:200]


def _plain(value):
    return value.item() if hasattr(value, "item") else value
