"""compare-models: labelled stored videos -> per-video stages chosen by cross-validation -> every model
and smoother on the same leakage-free folds, scored through the chain `score` uses -> leaderboard ->
the winner refitted on all labelled frames and saved with the held-out errors behind its intervals.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from os import PathLike
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from classifiers.chain.model import training_store_record
from classifiers.chain.intervals import DEFAULT_METHOD, METHODS, error_spread
from classifiers.chain.persist import save_model
from classifiers.chain.smoothing import Smoother, candidate_smoothers
from classifiers.chain.stages import AUTO_FEATURE_NORMS, FEATURE_NORMS, context_grid
from classifiers.choices import DEFAULT_SELECTION
from classifiers.compare_faces import compare_face_models
from classifiers.data.dataset import LabelledVideos, load_labelled_videos, warn_if_memory_short
from classifiers.output.leaderboard import check_report_path, write_report
from classifiers.selection.cv import CVPlan
from classifiers.selection.face_unknown import DEFAULT_RULE
from classifiers.selection.few_labels import plan_folds_that_fit
from classifiers.selection.heldout import HeldOutVideo, familiarity_record, score_held_out
from classifiers.selection.options import build_estimators, check_models, check_none_label, parse_context
from classifiers.selection.metrics import METRICS, metric_key, score_fold, summarise_folds
from classifiers.selection.choice import (SELECTIONS, best_mean, choose, model_simplicity, stage_grid,
                                          stage_simplicity)
from classifiers.selection.pool import run_folds
from classifiers.selection.refit import refit_winner
from classifiers.selection.thresholds import score_multilabel
from featurestore.errors import AllModelsFailed, InvalidParameter
from featurestore.files import refusing_unwritable, written_together
from featurestore.outputs import CallFiles
from featurestore.progress import Progress, step
from featurestore.provenance import json_safe
from featurestore.store.store import FeatureStore


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
    feature_norm, context_s : the per-video stages used (`classifiers.chain.stages`).
    stage_scores : list of dict
        When the stages were chosen by cross-validation: one row per candidate, ``{"feature_norm",
        "context_s", <metric>}``, the probe model's (logreg) score.
    held_out : list of HeldOutVideo
        The winner's held-out predictions (with its smoother), one per fold and test video.
    interval : dict
        Held-out screen-time errors behind the saved model's intervals (`classifiers.chain.intervals.error_spread`).
    multi_label : bool
        Characters, not classes (issue 11): `classes` are the characters, each a binary problem.
    choice : dict of str to str
        Why the winner's stages, smoothing and model were chosen (`classifiers.selection.choice`).
    thresholds : dict of str to float
        Multi-label: the winner's decision threshold per character, chosen by cross-validation.
    familiarity : TrainingReference or None
        The labelled frames as `score` compares new videos to them, with the threshold from the held-out
        videos' distances (`classifiers.selection.heldout.familiarity_record`).
    training_agreement : float or None
        The saved model's macro F1 on its own labelled frames (`classifiers.selection.refit`); None unsaved.
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
    context_s: float = 0.0
    stage_scores: list = field(default_factory=list)
    held_out: list = field(default_factory=list, repr=False)
    interval: dict = field(default_factory=dict)
    multi_label: bool = False
    thresholds: dict = field(default_factory=dict)
    none_label: str = "neither"
    choice: dict = field(default_factory=dict)
    fold_models: list = field(default_factory=list, repr=False)
    familiarity: object = None
    candidates: list = field(default_factory=list, repr=False)
    training_agreement: float | None = None

    @property
    def folds(self) -> pd.DataFrame:
        return self.cv.summary


def compare_models(
    store_path: str | Path,
    labels_path: str | Path | Sequence[str | Path],
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
    context_s: float | str = "auto",
    on_plan: Callable[[CVPlan], None] | None = None,
    multi_label: bool = False,
    none_label: str | None = None,
    selection: str = DEFAULT_SELECTION,
    interval_method: str = DEFAULT_METHOD,
    faces: bool = False,
    min_face_quality: float | None = None,
    max_distance: float | str | None = "cv",
    unknown_rule: str = DEFAULT_RULE,
    unknown_novel: bool = False,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Compare classifiers on the labelled frames of a store; save the winner to `out_path`.

    `feature_norm` is "none", "center", "standardize" or "auto" (none or center); `context_s` a window in seconds or "auto" (a value of
    `classifiers.chain.stages.CONTEXT_GRID_S`). With "auto", logistic regression scores every normalisation x
    window pair on the same folds first, and the pair chosen is used for every model. `selection` ("best", the
    default: the best mean, stages one after the other; "one-se": the best mean of the joint stage grid and the
    simplest model within one standard error of the best; "one-se-all": the one-SE rule for the stages too)
    chooses the stages and the winner (`classifiers.selection.choice`); each model's smoothing is its best mean.
    `interval_method` is how the saved model's intervals are made (`classifiers.chain.intervals.METHODS`).

    Labels are read as in `classifiers.data.join.read_labels` (`video`, `classes` for the tutorial format;
    several files are joined as one, ``--labels L.csv --labels todo.csv``);
    folds as in `classifiers.selection.cv.plan_folds` (for a blocks split the gap is at least the widest context
    window, so no training frame's window reaches a test block; when the labelled time is too short for them,
    fewer windows, a smaller gap and fewer folds are tried, with a warning: `classifiers.selection.few_labels`);
    held-out scoring as in `compare_frames`.
    The winner is refitted on all labelled frames and saved with `classifiers.chain.persist.save_model`, with
    its held-out errors for screen-time intervals, when `out_path` is given; the leaderboard is written to
    `report_path` (.csv or .json, `classifiers.output.leaderboard.write_report`) when given. Both files are replaced
    together, after all the work, or neither is.

    With `multi_label` (issue 11), labels are characters that may share the screen (`none_label`: none on
    screen): every model becomes one binary problem per character (`classifiers.chain.estimators`), with the
    same folds, stages and smoothing (per character), and a threshold per character chosen by
    cross-validation for screen-time error.

    With `faces` (issue 24), the stored faces are classified: `classifiers.compare_faces.compare_face_models`
    (`max_distance`, `unknown_rule`, `unknown_novel`: how a face is told unknown; faces only).
    `progress` shows each step: reading, every cross-validation's fits and held-out folds, the final model.

    Raises
    ------
    LabelsInvalid, TooFewSamples, StoreCorrupt, AllModelsFailed, OutputUnwritable
    """
    if faces and (video is not None or classes is not None):
        raise InvalidParameter("video" if video is not None else "classes", "is for Image_ID,Class files, not --faces")
    labels_paths = [labels_path] if isinstance(labels_path, (str, PathLike)) else list(labels_path)
    files = CallFiles().read("the labels file", *labels_paths)
    if isinstance(store_path, (str, PathLike)):  # else a store-like object (tests, notebooks)
        files.store("store_path", store_path)
    files.write("out_path", out_path).write("report_path", report_path).check()  # none over an input or another output
    if faces:  # a sample kind of its own: faces, not frames
        return compare_face_models(store_path, labels_path, out_path=out_path, report_path=report_path, models=models,
                                   n_splits=n_splits, split=split, gap_s=gap_s, allow_leaky_split=allow_leaky_split,
                                   metric=metric, timeout_s=timeout_s, n_jobs=n_jobs, random_state=random_state,
                                   selection=selection, interval_method=interval_method, none_label=none_label,
                                   min_quality=min_face_quality, max_distance=max_distance, unknown_rule=unknown_rule,
                                   unknown_novel=unknown_novel, on_plan=on_plan, progress=progress)
    if feature_norm not in ("auto", *FEATURE_NORMS):
        raise InvalidParameter("feature_norm", f"must be auto or one of {', '.join(FEATURE_NORMS)}, got {feature_norm!r}")
    check_report_path(report_path)
    if selection not in SELECTIONS:
        raise InvalidParameter("selection", f"must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    if interval_method not in METHODS:
        raise InvalidParameter("interval_method", f"must be one of {', '.join(METHODS)}, got {interval_method!r}")
    context_s = parse_context(context_s)
    models = check_models(models)
    none_label = check_none_label(none_label, multi_label)
    store = FeatureStore(store_path)
    data = load_labelled_videos(store, labels_path, video=video, classes=classes, multi_label=multi_label, none_label=none_label,
                                progress=progress)
    norms = AUTO_FEATURE_NORMS if feature_norm == "auto" else (feature_norm,)
    contexts = context_grid(data.n_features) if context_s == "auto" else (float(context_s),)
    warn_if_memory_short(data, [(n, k) for n in norms for k in contexts], store.path.name)
    plan, contexts = plan_folds_that_fit(data.video_ids, data.requested_s, data.targets, data.step_s, n_splits=n_splits,
                                         split=split, gap_s=gap_s, contexts=contexts, allow_leaky_split=allow_leaky_split,
                                         random_state=random_state, classes=data.characters or None, none_label=none_label)
    if on_plan is not None:
        on_plan(plan)
    norm, k, stage_scores, stages_why = _choose_stages(data, plan, norms, contexts, metric=metric, n_jobs=n_jobs,
                                                       random_state=random_state, smoothers=smoothers, selection=selection,
                                                       progress=progress)
    result = compare_frames(data, plan, feature_norm=norm, context_s=k, models=models, metric=metric, timeout_s=timeout_s,
                            n_jobs=n_jobs, random_state=random_state, smoothers=smoothers, selection=selection, progress=progress)
    result.stage_scores = stage_scores
    if stages_why:
        result.choice = {"stages": f"{norm}, context {k:g} s: {stages_why}", **result.choice}
    estimators = build_estimators(models, random_state, multi_label=data.is_multi_label)
    what = "error bars, training reference" if out_path is None else f"final model: {result.best_name}, all samples"
    with step(progress, what, 2) as advance:
        winner = None if out_path is None else refit_winner(result, data, estimators, simplicity=model_simplicity(list(estimators)),
                                                            selection=selection, n_jobs=n_jobs)  # may fall to the next model
        advance()
        result.interval = error_spread([h.error_record(data.targets, result.classes, result.thresholds) for h in result.held_out],
                                       result.classes, plan.scheme, multi_label=data.is_multi_label, method=interval_method)
        result.familiarity = familiarity_record(data, plan.folds, feature_norm=norm, context_s=k, seed=random_state)
        advance()
    outputs = [Path(p).name for p in (out_path, report_path) if p is not None]
    with step(progress if outputs else None, f"writing {' and '.join(outputs)}", len(outputs)) as advance, \
            written_together(out_path, report_path) as (model_tmp, report_tmp):
        if model_tmp is not None:
            row = result.leaderboard.set_index("model").loc[result.best_name]
            with refusing_unwritable(out_path):  # a full disk names the model, not the report
                save_model(
                    model_tmp, pipeline=winner, classes=result.classes, embedding_config=store.config, smoother=result.best_smoother,
                    model_name=result.best_name, cv={**plan.to_dict(), "training_store": training_store_record(store_path, 1.0 / data.step_s)},
                    scores=json_safe({**row.to_dict(), "training_macro_f1": result.training_agreement}),
                    training_videos=result.training_videos, feature_norm=norm, context_s=k, interval=result.interval,
                    multi_label=data.is_multi_label, thresholds=result.thresholds, none_label=data.none_label,
                    weights_path=store.weights_path, fold_pipelines=result.fold_models if interval_method == "cv-plus" else None,
                    familiarity=result.familiarity,
                )
            result.model_path = Path(out_path)
            advance()
        if report_tmp is not None:
            with refusing_unwritable(report_path):
                write_report(result, report_tmp, suffix=Path(report_path).suffix)
    return result


def compare_frames(
    data: LabelledVideos,
    plan: CVPlan,
    *,
    feature_norm: str = "none",
    context_s: float = 0.0,
    models: Sequence[str] | Mapping[str, object] | None = None,
    metric: str = "macro_f1",
    timeout_s: float | None = None,
    n_jobs: int = -1,
    random_state: int = 0,
    smoothers: list[Smoother] | None = None,
    selection: str = DEFAULT_SELECTION,
    progress: Progress | None = None,
) -> ComparisonResult:
    """Score every model, with every smoother, on the folds of `plan`; return the leaderboard.

    Each fold's model is fitted on the fold's training frames after the per-video stages, then run on
    the fold's test videos by `SavedModel.predict_video` (see `classifiers.selection.heldout`): the chain `score` runs.

    The winner is chosen by `selection` (`classifiers.selection.choice`: the simplest within one standard error
    of the best, or the best mean), each model's smoothing by its best mean; the leaderboard is ranked by mean.

    Leaderboard columns: model, status, winner, smoothing (the smoother chosen by `metric`), macro_f1,
    balanced_accuracy, log_loss (mean over folds, with ``*_std`` and ``*_se``, the standard error of the
    mean; screen_time_error_pct_se too), screen_time_error_pct (mean over
    classes), the same unsmoothed as ``*_unsmoothed``, recall_<class>, screen_time_error_pct_<class>,
    fit_s and predict_s (mean per fold, seconds), predict_s_per_1000 (seconds of held-out scoring per 1,000 test frames:
    the whole chain, every smoothing candidate), error. Multi-label data (`classifiers.chain.estimators`):
    macro_f1, balanced_accuracy and log_loss are means over characters, with f1_<character>,
    threshold_<character>, together_error_pct, none_error_pct and exact_set_accuracy besides.

    Raises
    ------
    AllModelsFailed
        If no model completed every fold.
    """
    if metric not in METRICS:
        raise InvalidParameter("metric", f"must be one of {', '.join(METRICS)}, got {metric!r}")
    start = time.perf_counter()
    estimators = build_estimators(models, random_state, multi_label=data.is_multi_label)
    classes = data.classes
    smoothers = list(dict.fromkeys(smoothers or candidate_smoothers()))
    what = f"CV {', '.join(estimators)} ({feature_norm}, context {context_s:g} s): fits, held-out folds"
    with step(progress, what, 2 * len(estimators) * len(plan.folds)) as advance:  # held-out scoring takes as long
        runs = run_folds(estimators, data.features(feature_norm, context_s), data.targets, plan.folds, timeout_s=timeout_s,
                         n_jobs=n_jobs, on_fit=advance)
        held = {name: score_held_out([run["model"] for run in outcome], data, plan.folds, classes, feature_norm=feature_norm,
                                     context_s=context_s, smoothers=smoothers, on_fold=advance)
                for name, outcome in runs.items() if not isinstance(outcome, str)}
    n_test = sum(len(test) for _, test in plan.folds)
    rows = []
    for name, outcome in runs.items():
        if isinstance(outcome, str):
            rows.append({"model": name, "status": "failed", "error": outcome})
            continue
        fold_models = [run["model"] for run in outcome]
        held_out, predict_s = held[name]
        candidates, plain = [], None
        for smoother in smoothers:
            thresholds = {}
            if data.is_multi_label:
                summary, thresholds = score_multilabel(held_out[smoother], data, classes, len(plan.folds))
            else:
                summary = summarise_folds(_fold_scores(held_out[smoother], data, classes, len(plan.folds)), classes)
            if plain is None or smoother.method == "none":
                plain = summary
            candidates.append({**summary, "_smoother": smoother, "_held_out": held_out[smoother], "_thresholds": thresholds})
        # Smoothing by the best mean under either selection: the one-SE rule over smoothers was worse on held-out
        # episodes with both simplicity orders (docs/benchmarks.md, "Robust choices").
        chosen, why = best_mean(candidates, metric)
        best = (chosen["_smoother"], {k: v for k, v in chosen.items() if not k.startswith("_")}, chosen["_held_out"],
                chosen["_thresholds"])
        rows.append({
            "model": name, "status": "ok", "smoothing": best[0].name, **best[1], "smoothing_choice": why,
            **{f"{k}_unsmoothed": plain[k] for k in ("macro_f1", "balanced_accuracy", "screen_time_error_pct")},
            "fit_s": float(np.mean([r["fit_s"] for r in outcome])),
            "predict_s_per_1000": 1000.0 * predict_s / n_test, "predict_s": predict_s / len(plan.folds),  # whole chain, all smoothers
            "error": "", "_smoother": best[0], "_held_out": best[2], "_thresholds": best[3], "_fold_models": fold_models,
        })
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: metric_key(r, metric))
    if not ok:
        reasons = "; ".join(f"{r['model']}: {r['error']}" for r in rows)
        raise AllModelsFailed(f"every model failed in cross-validation ({reasons}); fix the cause or raise --timeout")
    winner, why = choose(ok, metric, model_simplicity(list(estimators)), selection)
    board = pd.DataFrame(ok + [r for r in rows if r["status"] == "failed"])
    board.insert(0, "rank", range(1, len(board) + 1))
    board.insert(3, "winner", board["model"] == winner["model"])
    return ComparisonResult(
        leaderboard=board.drop(columns=["_smoother", "_held_out", "_thresholds", "_fold_models"], errors="ignore"),
        best_name=winner["model"], fold_models=winner["_fold_models"], candidates=ok,
        best_smoother=winner["_smoother"], cv=plan, classes=classes, metric=metric, wall_s=time.perf_counter() - start,
        training_videos=sorted(np.unique(data.video_ids).tolist()), feature_norm=feature_norm, context_s=float(context_s),
        held_out=winner["_held_out"], multi_label=data.is_multi_label, thresholds=winner["_thresholds"],
        none_label=data.none_label, choice={"model": f"{winner['model']}: {why}", "smoothing": winner["smoothing_choice"]},
    )


def _choose_stages(data: LabelledVideos, plan: CVPlan, norms, contexts, *, metric: str, n_jobs: int, random_state: int,
                   smoothers, selection: str, progress=None) -> tuple[str, float, list[dict], str]:
    """Per-video stages by a cheap logreg run on the same folds, chosen on the joint normalisation x context grid
    (the best mean; 'one-se-all': the one-SE rule), or with 'best' each normalisation without context, then
    each window with the better one.

    Returns (feature_norm, context_s, one score row per candidate tried, why the choice won)."""
    scores: list[dict] = []

    def probe(norm: str, k: float) -> dict:
        board = compare_frames(data, plan, feature_norm=norm, context_s=k, models=["logreg"], metric=metric,
                               n_jobs=n_jobs, random_state=random_state, smoothers=smoothers,
                               selection=selection, progress=progress).leaderboard
        row = {"feature_norm": norm, "context_s": k, metric: float(board.iloc[0][metric]),
               f"{metric}_se": float(board.iloc[0].get(f"{metric}_se", np.nan))}
        scores.append(row)
        if isinstance(data, LabelledVideos):
            data.forget_features()  # one staged copy at a time (each is the labelled frames' size, 3x with a context)
        return row

    if len(norms) * len(contexts) == 1:
        return norms[0], contexts[0], scores, ""
    grid = stage_grid(norms, contexts, selection)
    if grid is not None:
        for norm, k in grid:
            probe(norm, k)
        chosen, why = choose(scores, metric, stage_simplicity, selection, axis="stages")
        return chosen["feature_norm"], chosen["context_s"], scores, why
    for norm in norms:
        probe(norm, contexts[0])
    norm_row, _ = best_mean(scores, metric)
    for k in contexts[1:]:
        probe(norm_row["feature_norm"], k)
    chosen, why = best_mean([r for r in scores if r["feature_norm"] == norm_row["feature_norm"]], metric)
    return chosen["feature_norm"], chosen["context_s"], scores, why


def _fold_scores(held_out: list[HeldOutVideo], data: LabelledVideos, classes: list[str], n_folds: int) -> list[dict]:
    """Metrics of each fold from its test videos' held-out predictions."""
    scores = []
    for k in range(1, n_folds + 1):
        parts = [h for h in held_out if h.fold == k]
        frames = np.concatenate([h.frames for h in parts])
        scores.append(score_fold(data.y[frames], np.concatenate([h.proba for h in parts]), classes, data.video_ids[frames],
                                 np.concatenate([h.sample_duration_s for h in parts])))
    return scores
