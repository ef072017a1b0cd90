"""compare-models --faces (issue 24): labelled faces -> the same interchangeable classifiers over face descriptors,
scored by cross-validation over whole videos through the chain `score --faces` runs -> leaderboard with per-actor
screen-time error -> the winner refitted on all labelled faces, its unknown threshold chosen on faces of held-out
actors, saved with the held-out errors behind its intervals and the face config it was trained on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
from sklearn.base import clone

from classifiers.chain.face_decide import SMOOTHINGS
from classifiers.chain.face_familiarity import FaceFamiliarity, near_share, training_low, video_face_distance
from classifiers.chain.face_model import FaceModel
from classifiers.chain.face_open_set import MAX_DISTANCE
from classifiers.chain.model import training_store_record
from classifiers.chain.face_persist import save_face_model
from classifiers.chain.intervals import DEFAULT_METHOD, METHODS, error_spread
from classifiers.choices import DEFAULT_SELECTION
from classifiers.data.face_assign import DEFAULT_ROUNDS
from classifiers.data.face_boxes import MIN_IOU
from classifiers.data.face_dataset import DEFAULT_MIN_QUALITY, LabelledFaces, load_labelled_faces
from classifiers.data.table import NONE_LABEL
from classifiers.output.leaderboard import check_report_path, write_report
from classifiers.selection.choice import SELECTIONS, best_mean, choose, model_simplicity
from classifiers.selection.cv import CVPlan, plan_folds
from classifiers.selection.face_heldout import face_fold_scores, held_out_faces, summarise_face_folds
from classifiers.selection.face_unknown import (DEFAULT_RULE, DISTANCE_GRID, RULES, fold_reference, fold_thresholds,
                                                inner_folds)
from classifiers.selection.metrics import METRICS, metric_key
from classifiers.selection.options import build_estimators, check_models
from classifiers.selection.pool import run_folds
from featurestore.errors import AllModelsFailed, InvalidParameter
from featurestore.files import refusing_unwritable, written_together
from featurestore.progress import Progress, step
from featurestore.provenance import json_safe


@dataclass
class FaceComparison:
    """Outcome of `compare_face_models`; the fields `classifiers.output` reads as a `ComparisonResult`'s.

    `classes` are the actors; `threshold` the saved model's unknown threshold; `label_counts` how the labelled
    faces got their labels (`classifiers.data.face_assign.label_counts`, plus ``low_quality``); `held_out` the
    winner's held-out videos (`classifiers.selection.face_heldout.HeldOutFaces`); `familiarity` each whole held-out
    video's face distance to its fold's training faces, and the threshold from them
    (`classifiers.chain.face_familiarity`).
    """

    leaderboard: pd.DataFrame
    best_name: str
    smoothing: str
    cv: CVPlan
    classes: list[str]
    metric: str
    wall_s: float
    threshold: float = 0.5
    threshold_why: str = ""
    model_path: Path | None = None
    training_videos: list[str] = field(default_factory=list)
    held_out: list = field(default_factory=list, repr=False)
    interval: dict = field(default_factory=dict)
    choice: dict = field(default_factory=dict)
    label_counts: dict = field(default_factory=dict)
    min_quality: float = DEFAULT_MIN_QUALITY
    face_config: dict = field(default_factory=dict)
    fold_models: list = field(default_factory=list, repr=False)
    fold_thresholds: list = field(default_factory=list)
    multi_label: bool = False  # the leaderboard's layout: one row per model, "F1 raw" without track smoothing
    none_label: str = "no actor"
    feature_norm: str = "none"  # frames' per-video stages: none for faces
    context_s: float = 0.0
    stage_scores: list = field(default_factory=list)
    faces: bool = True
    familiarity: FaceFamiliarity | None = None

    @property
    def best_smoother(self):
        """The chosen smoothing, as the leaderboard file names it ('none' or 'track'), and as `to_dict` of result
        files (`screentime.Comparison.to_json`) gives it."""
        return SimpleNamespace(name=self.smoothing, to_dict=lambda: {"name": self.smoothing, "faces": True})

    @property
    def thresholds(self) -> dict[str, float]:
        return {a: self.threshold for a in self.classes}

    @property
    def folds(self) -> pd.DataFrame:
        return self.cv.summary


def compare_face_models(
    store,
    labels_path,
    *,
    out_path: str | Path | None = None,
    report_path: str | Path | None = None,
    models: Sequence[str] | str | Mapping[str, object] | None = None,
    n_splits: int = 5,
    split: str = "auto",
    gap_s: float = 5.0,
    allow_leaky_split: bool = False,
    metric: str = "macro_f1",
    timeout_s: float | None = None,
    n_jobs: int = -1,
    random_state: int = 0,
    selection: str = DEFAULT_SELECTION,
    interval_method: str = DEFAULT_METHOD,
    none_label: str | None = None,
    min_quality: float | None = DEFAULT_MIN_QUALITY,
    smoothings: Sequence[str] = SMOOTHINGS,
    rounds: int = DEFAULT_ROUNDS,
    min_iou: float = MIN_IOU,
    max_distance: float | str | None = "cv",
    unknown_rule: str = DEFAULT_RULE,
    unknown_novel: bool = False,
    on_plan: Callable[[CVPlan], None] | None = None,
    progress: Progress | None = None,
) -> FaceComparison:
    """Compare classifiers on the labelled faces of a store; save the winner to `out_path`.

    `store` is a FeatureStore, its path, or any object with its face contract (``video_ids``, ``info``, ``faces``,
    ``has_faces``). Labels: any labels file of today (intervals: which actors are on screen when; faces are
    assigned as `classifiers.data.face_labels` says), Label Studio or CVAT boxes, or track names
    (`classifiers.data.face_boxes`); several are joined. Faces of quality below `min_quality` are left out of
    training. Folds as in `classifiers.selection.cv.plan_folds`, over faces grouped by video; every model
    (registry names of `classifiers.selection.registry`, or a mapping of name to scikit-learn classifier, as for
    frames: `classifiers.selection.options.build_estimators`) with every smoothing (`classifiers.chain.face_decide.SMOOTHINGS`) is scored
    on the held-out videos (`classifiers.selection.face_heldout`), with an unknown threshold chosen inside each
    training fold (`classifiers.selection.face_unknown`, by `unknown_rule`; faces of `UNKNOWN` count as novel there
    only with `unknown_novel`) and the open-set check: a face (its track) may be an actor's only within
    `max_distance` of that actor's training faces (`classifiers.chain.face_open_set`; ``"cv"``, the default: the
    distance chosen with the threshold, or none; None: no check). The winner is chosen by `selection`, each model's
    smoothing by its best mean. With `out_path`, the winner is refitted on all labelled faces, its threshold chosen
    on all of them, and saved (`classifiers.chain.face_persist`); `report_path` gets the leaderboard (.csv/.json).

    Raises
    ------
    LabelsInvalid, NotEmbedded, TooFewSamples, StoreMismatch, AllModelsFailed, OutputUnwritable
    """
    if metric not in METRICS:
        raise InvalidParameter("metric", f"must be one of {', '.join(METRICS)}, got {metric!r}")
    if selection not in SELECTIONS:
        raise InvalidParameter("selection", f"must be one of {', '.join(SELECTIONS)}, got {selection!r}")
    if interval_method not in METHODS:
        raise InvalidParameter("interval_method", f"must be one of {', '.join(METHODS)}, got {interval_method!r}")
    bad = [s for s in smoothings if s not in SMOOTHINGS] or ([] if smoothings else ["nothing"])
    if bad:
        raise InvalidParameter("smoothings", f"{', '.join(bad)} is not in {', '.join(SMOOTHINGS)}")
    if unknown_rule not in RULES:
        raise InvalidParameter("unknown_rule", f"must be one of {', '.join(RULES)}, got {unknown_rule!r}")
    if max_distance == "cv":
        distances = DISTANCE_GRID
    elif max_distance is None or (isinstance(max_distance, (int, float)) and max_distance > 0):
        distances = (max_distance,)
    else:
        raise InvalidParameter("max_distance", f"must be a positive descriptor distance, 'cv' or None, "
                                               f"got {max_distance!r}")
    check_report_path(report_path)
    estimators = build_estimators(check_models(models), random_state)  # as frames take them: names or a mapping
    names = list(estimators)
    open_set = {"distances": distances, "rule": unknown_rule, "unknown_novel": unknown_novel}
    start = time.perf_counter()
    if isinstance(store, (str, Path)):
        from featurestore.store.store import FeatureStore

        store = FeatureStore(store)
    min_quality = DEFAULT_MIN_QUALITY if min_quality is None else min_quality
    data = load_labelled_faces(store, labels_path, none_label=none_label or NONE_LABEL, min_quality=min_quality,
                               min_iou=min_iou, rounds=rounds, seed=random_state, progress=progress)
    plan = plan_folds(data.video_ids, data.time_s, data.y, n_splits=n_splits, split=split, gap_s=gap_s,
                      allow_leaky_split=allow_leaky_split, random_state=random_state)
    if on_plan is not None:
        on_plan(plan)
    inner = [f for k, (train, _) in enumerate(plan.folds) for f in inner_folds(data, train, outer=k, seed=random_state)]
    folds = plan.folds + [(f.train, f.test) for f in inner]
    with step(progress, f"CV {', '.join(names)}: fits ({len(plan.folds)} folds, {len(inner)} inner)",
              len(names) * len(folds)) as advance:
        runs = run_folds(estimators, data.X, data.y, folds, timeout_s=timeout_s, n_jobs=n_jobs, on_fit=advance)
    with step(progress, "CV: unknown thresholds (inner folds), held-out folds", len(names) * len(folds)) as advance:
        rows = [_score_model(name, outcome, plan, inner, data, smoothings, metric, open_set, advance)
                for name, outcome in runs.items()]
    ok = sorted((r for r in rows if r["status"] == "ok"), key=lambda r: metric_key(r, metric))
    if not ok:
        reasons = "; ".join(f"{r['model']}: {r['error']}" for r in rows)
        raise AllModelsFailed(f"every model failed in cross-validation ({reasons}); fix the cause or raise --timeout")
    winner, why = choose(ok, metric, model_simplicity(names), selection)
    board = pd.DataFrame(ok + [r for r in rows if r["status"] == "failed"])
    board.insert(0, "rank", range(1, len(board) + 1))
    board.insert(3, "winner", board["model"] == winner["model"])
    actors = data.actors
    records = [h.error_record(actors) for h in winner["_held_out"]]
    with step(progress, "held-out videos' distances to the training faces", 1):
        familiarity = _familiarity(data, plan.folds)
    result = FaceComparison(
        leaderboard=board.drop(columns=[c for c in board.columns if c.startswith("_")]), best_name=winner["model"],
        smoothing=winner["smoothing"], cv=plan, classes=actors, metric=metric, wall_s=0.0,
        training_videos=sorted(data.videos), held_out=winner["_held_out"],
        interval=error_spread(records, actors, plan.scheme, multi_label=True, method=interval_method),
        choice={"model": f"{winner['model']}: {why}", "smoothing": winner["smoothing_choice"]},
        label_counts=dict(data.counts), min_quality=data.min_quality, face_config=dict(data.face_config),
        fold_models=winner["_fold_models"], fold_thresholds=winner["_thresholds"],
        familiarity=familiarity,
    )
    with written_together(out_path, report_path) as (model_tmp, report_tmp):
        if model_tmp is not None:
            model = _final_model(result, estimators[result.best_name], data, store, random_state, timeout_s, n_jobs,
                                 open_set, progress)
            with step(progress, f"writing {Path(out_path).name}", 1), refusing_unwritable(out_path):  # a full disk names
                save_face_model(model_tmp, model)  # the model, not the report
            result.model_path = Path(out_path)
        result.wall_s = time.perf_counter() - start
        if report_tmp is not None:
            with refusing_unwritable(report_path):
                write_report(result, report_tmp, suffix=Path(report_path).suffix)
    result.wall_s = time.perf_counter() - start
    return result


def _score_model(name: str, outcome, plan: CVPlan, inner: list, data: LabelledFaces, smoothings, metric: str,
                 open_set: dict, on_fold=None) -> dict:
    """One leaderboard row: the model's folds scored with each smoothing, the best mean kept; `on_fold(1)` as each
    inner fold's threshold evidence, then each outer fold, is done."""
    if isinstance(outcome, str):
        return {"model": name, "status": "failed", "error": outcome}
    n_outer = len(plan.folds)
    fold_models = [run["model"] for run in outcome[:n_outer]]
    thresholds = fold_thresholds(inner, [run["model"] for run in outcome[n_outer:]], data, data.actors, smoothings,
                                 range(n_outer), on_fold=on_fold, **open_set)
    held, predict_s = held_out_faces(fold_models, {key: (t, d) for key, (t, d, _) in thresholds.items()}, data,
                                     plan.folds, data.actors, smoothings, on_fold=on_fold)
    candidates = []
    for smoothing in smoothings:
        row = summarise_face_folds(face_fold_scores(held[smoothing], data.actors, n_outer), data.actors)
        chosen = [thresholds[(k, smoothing)][0] for k in range(n_outer)]
        row["unknown_threshold"] = float(np.median(chosen))
        distances = [d for k in range(n_outer) if (d := thresholds[(k, smoothing)][1]) is not None]
        row["max_distance"] = float(np.median(distances)) if distances else float("nan")
        row.update({f"threshold_{a}": row["unknown_threshold"] for a in data.actors})
        candidates.append({**row, "_smoothing": smoothing, "_held_out": held[smoothing], "_thresholds": chosen})
    chosen, why = best_mean(candidates, metric)
    plain = next((c for c in candidates if c["_smoothing"] == "none"), candidates[0])
    chosen.update({f"{k}_unsmoothed": plain[k] for k in ("macro_f1", "balanced_accuracy", "screen_time_error_pct")})
    n_test = sum(len(h.result.faces.label) for h in chosen["_held_out"]) or 1
    return {"model": name, "status": "ok", "smoothing": chosen["_smoothing"],
            **{k: v for k, v in chosen.items() if not k.startswith("_")}, "smoothing_choice": why,
            "fit_s": float(np.mean([r["fit_s"] for r in outcome[:n_outer]])),
            "predict_s_per_1000": 1000.0 * predict_s / n_test, "error": "",
            "_held_out": chosen["_held_out"], "_thresholds": chosen["_thresholds"], "_fold_models": fold_models}


def _familiarity(data: LabelledFaces, folds) -> FaceFamiliarity:
    """What the model keeps to tell a video unlike its training videos: the held-out videos' distances and near
    shares, and the training faces' low quality parts (`classifiers.chain.face_familiarity`)."""
    distances, near = held_out_face_distances(data, folds)
    # every face of the training videos, as a scored video's every face is compared (extras, small ones included)
    low = training_low([(data.videos[v].table, np.arange(len(data.videos[v].table))) for v in np.unique(data.video_ids)])
    return FaceFamiliarity.from_held_out(distances, held_out_near=near, low=low)


def held_out_face_distances(data: LabelledFaces, folds) -> tuple[dict[str, float], dict[str, float]]:
    """Each whole held-out video's face distance to its fold's training faces (`video_face_distance` against the
    faces `fold_reference` keeps of the fold's training rows), by video; {} when no fold holds out a whole video.
    Second: their shares of faces near an actor there (`near_share`), the lowest over folds."""
    out, near = {}, {}
    for train, test in folds:
        trained = set(np.unique(data.video_ids[train]).tolist())
        whole = [v for v in np.unique(data.video_ids[test]).tolist() if v not in trained]
        if not whole:
            continue
        reference = fold_reference(data, train, data.actors, MAX_DISTANCE).X
        for video_id in whole:
            d = video_face_distance(data.videos[video_id].table, reference)
            if d is not None:
                out[video_id] = max(out.get(video_id, 0.0), d)
            share = near_share(data.videos[video_id].table, reference)
            if share is not None:
                near[video_id] = min(near.get(video_id, 1.0), share)
    return out, near


def _training_store(store, video_ids) -> dict:
    """``{"training_store": ...}`` for the model's cv (score finds the store again), where the store has a path."""
    if getattr(store, "path", None) is None:
        return {}
    rates = [store.info(v).get("sample_fps") for v in video_ids]
    return {"training_store": training_store_record(store.path, [float(r) for r in rates if r])}


def _final_model(result: FaceComparison, estimator, data: LabelledFaces, store, seed: int, timeout_s, n_jobs,
                 open_set: dict, progress=None) -> FaceModel:
    """The winner refitted on every labelled face, its threshold chosen by leave-one-actor-out over all of them."""
    every = np.arange(len(data.y))
    inner = inner_folds(data, every, outer=-1, seed=seed)
    with step(progress, f"final model: {result.best_name}, all faces", 2 * len(inner) + 1) as advance:
        runs = run_folds({"winner": clone(estimator)}, data.X, data.y, [(every, every)] + [(f.train, f.test) for f in inner],
                         timeout_s=timeout_s, n_jobs=n_jobs, on_fit=advance)["winner"]
        if isinstance(runs, str):
            raise AllModelsFailed(f"{result.best_name} failed when refitted on all labelled faces ({runs})")
        threshold, max_distance, why = fold_thresholds(inner, [r["model"] for r in runs[1:]], data, data.actors,
                                                       [result.smoothing], [-1], on_fold=advance,
                                                       **open_set)[(-1, result.smoothing)]
    result.threshold, result.threshold_why = threshold, why
    result.choice["unknown threshold"] = why
    row = result.leaderboard.set_index("model").loc[result.best_name]
    reference = fold_reference(data, every, data.actors, max_distance)
    return FaceModel(
        pipeline=runs[0]["model"], actors=list(data.actors), threshold=threshold, smoothing=result.smoothing,
        face_config=dict(data.face_config), embedding_config=dict(getattr(store, "config", {}) or {}),
        model_name=result.best_name, cv={**result.cv.to_dict(), **_training_store(store, result.training_videos)},
        scores=json_safe(row.to_dict()),
        training_videos=list(result.training_videos), interval=result.interval,
        fold_pipelines=list(result.fold_models), fold_thresholds=list(result.fold_thresholds),
        min_quality=data.min_quality, label_counts=dict(data.counts),
        reference=reference, familiarity=replace(  # the training faces kept here when no reference shares them
            result.familiarity, X=None if reference is not None else fold_reference(data, every, data.actors,
                                                                                    MAX_DISTANCE).X),
    )
