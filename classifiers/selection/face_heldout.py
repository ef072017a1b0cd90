"""Held-out scoring of face models (issue 24): each fold's model runs on its test videos through
`FaceModel.predict_video`, the path `score --faces` takes, and is scored on the videos' labelled samples.

A test video none of whose faces were trained on (grouped, leave-one-video-out) is scored on every labelled sample;
otherwise (blocks) on the labelled samples between its first and last test face. The scores are the multi-label
leaderboard's (`classifiers.selection.metrics.score_fold_multilabel`: an actor is on screen where one of their
faces is seen), plus what faces add: each actor's per-second accuracy, the worst screen-time error in a video as
a share of its labelled seconds, the error of ``tracked_s``, faces labelled unknown that were called an actor
(``unknown_as_cast_pct``), and the share of labelled faces named right.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.face_model import FaceModel
from classifiers.chain.face_time import FaceScreenTime

from .choice import standard_error
from .face_unknown import fold_reference
from .metrics import score_fold_multilabel, summarise_folds_multilabel


@dataclass
class HeldOutFaces:
    """One test video of one fold after the whole chain, and what its labels say.

    `samples` (s,): the labelled samples scored; `truth` (s, n_actors) bool: the actors on screen there; `faces`:
    rows (into the video's FaceTable) of the labelled faces of those samples, `face_labels` their labels.
    """

    fold: int
    video_id: str
    result: FaceScreenTime
    samples: np.ndarray
    truth: np.ndarray
    faces: np.ndarray
    face_labels: np.ndarray

    @property
    def durations(self) -> np.ndarray:
        return self.result.sample_duration_s[self.samples]

    def error_record(self, actors: list[str]) -> dict:
        """Labelled, true and predicted seconds per actor (for `classifiers.chain.intervals.error_spread`)."""
        d, on = self.durations, self.result.on_screen[self.samples]
        return {"video": self.video_id, "fold": self.fold, "labelled_s": float(d.sum()),
                "true_s": {a: float(d @ self.truth[:, j]) for j, a in enumerate(actors)},
                "predicted_s": {a: float(d @ on[:, j]) for j, a in enumerate(actors)}}


def held_out_faces(fold_models: list, thresholds: dict, data, folds, actors: list[str],
                   smoothings, on_fold=None) -> tuple[dict[str, list[HeldOutFaces]], float]:
    """Every fold's model on its test videos, once per smoothing, with that fold's threshold and open-set distance
    for it (the check against the fold's training faces; None: none); `on_fold(1)` as each fold is scored.

    `thresholds` maps (0-based fold, smoothing) to (unknown threshold, max_distance). Returns (smoothing ->
    HeldOutFaces in fold order, seconds spent in `FaceModel.predict_video`).
    """
    out: dict[str, list[HeldOutFaces]] = {s: [] for s in smoothings}
    spent = 0.0
    for k, (model, (train, test)) in enumerate(zip(fold_models, folds)):
        trained = set(np.unique(data.video_ids[train]).tolist())
        references = {d: fold_reference(data, train, actors, d) for d in {thresholds[(k, s)][1] for s in smoothings}}
        for video_id in np.unique(data.video_ids[test]).tolist():
            v = data.videos[video_id]
            samples = np.flatnonzero(v.labelled)
            if video_id in trained:  # blocks: the stretch of this fold's test faces
                times = data.time_s[test[data.video_ids[test] == video_id]]
                t = np.asarray(v.table.sample_times_s)[samples]
                samples = samples[(t >= times.min() - 1e-6) & (t <= times.max() + 1e-6)]
            sample = v.sample
            faces = np.flatnonzero(np.isin(sample, samples) & (v.label != ""))
            truth = v.truth(actors)[samples]
            for smoothing in smoothings:
                threshold, max_distance = thresholds[(k, smoothing)]
                chain = FaceModel(pipeline=model, actors=list(actors), threshold=threshold, smoothing=smoothing,
                                  reference=references[max_distance])
                t0 = time.perf_counter()
                result = chain.predict_video(v.table, duration_s=v.duration_s, sample_fps=v.sample_fps, video_id=video_id)
                spent += time.perf_counter() - t0
                out[smoothing].append(HeldOutFaces(k + 1, video_id, result, samples, truth, faces, v.label[faces]))
        if on_fold is not None:
            on_fold(1)
    return out, spent


def face_fold_scores(held_out: list[HeldOutFaces], actors: list[str], n_folds: int) -> list[dict]:
    """Per fold: `score_fold_multilabel` of its labelled samples (log loss from each actor's shown probability),
    and the counts behind what faces add (module docstring)."""
    scores = []
    k_actors = len(actors)
    for k in range(1, n_folds + 1):
        parts = [h for h in held_out if h.fold == k]
        truth = np.concatenate([h.truth for h in parts]).reshape(-1, k_actors)
        on = np.concatenate([h.result.on_screen[h.samples] for h in parts]).reshape(-1, k_actors)
        shown = np.concatenate([h.result.proba[h.samples] for h in parts]).reshape(-1, k_actors)
        d = np.concatenate([h.durations for h in parts])
        videos = np.concatenate([np.full(len(h.samples), h.video_id, dtype=object) for h in parts])
        fold = score_fold_multilabel(truth, on.astype(float), np.full(k_actors, 0.5), videos, d)
        p = np.clip(shown, 1e-6, 1 - 1e-6)
        fold["log_loss"] = float(-(truth * np.log(p) + ~truth * np.log(1 - p)).mean()) if len(d) else float("nan")
        fold["correct_s"] = d @ (on == truth) if len(d) else np.zeros(k_actors)
        fold["labelled_s"] = float(d.sum())
        fold["tracked_abs_error_s"] = np.zeros(k_actors)
        worst = 0.0
        for h in parts:
            dd = h.durations
            true_s = dd @ h.truth
            fold["tracked_abs_error_s"] += np.abs(dd @ h.result.tracked_on[h.samples] - true_s)
            if dd.sum() > 0:
                worst = max(worst, float(np.max(np.abs(dd @ h.result.on_screen[h.samples] - true_s))) / float(dd.sum()))
        fold["worst_video_error"] = worst
        called = [(h.result.faces.label[h.faces], h.face_labels) for h in parts]
        fold["n_unknown"] = sum(int(np.sum(lab == UNKNOWN)) for _, lab in called)
        fold["n_unknown_as_cast"] = sum(int(np.sum((lab == UNKNOWN) & (c != UNKNOWN))) for c, lab in called)
        fold["n_faces"] = sum(len(lab) for _, lab in called)
        fold["n_faces_right"] = sum(int(np.sum(c == lab)) for c, lab in called)
        scores.append(fold)
    return scores


def summarise_face_folds(fold_scores: list[dict], actors: list[str]) -> dict:
    """One leaderboard row: `summarise_folds_multilabel`, and per-second accuracy per actor (``second_accuracy_<a>``,
    ``worst_second_accuracy``), ``worst_error_pct_of_video``, ``tracked_error_pct``, ``unknown_as_cast_pct``,
    ``face_accuracy``."""
    row = summarise_folds_multilabel(fold_scores, actors)
    labelled_s = sum(s["labelled_s"] for s in fold_scores)
    correct_s = sum(s["correct_s"] for s in fold_scores)
    accuracy = correct_s / labelled_s if labelled_s > 0 else np.full(len(actors), np.nan)
    for a, acc in zip(actors, accuracy):
        row[f"second_accuracy_{a}"] = float(acc)
    row["worst_second_accuracy"] = float(np.min(accuracy)) if len(actors) else float("nan")
    row["worst_error_pct_of_video"] = 100.0 * max(s["worst_video_error"] for s in fold_scores)
    row["worst_error_pct_of_video_se"] = standard_error([100.0 * s["worst_video_error"] for s in fold_scores])
    true_s = sum(s["true_s"] for s in fold_scores)
    tracked = sum(s["tracked_abs_error_s"] for s in fold_scores)
    with np.errstate(invalid="ignore", divide="ignore"):
        pct = np.where(true_s > 0, 100.0 * tracked / np.where(true_s > 0, true_s, 1.0), np.nan)
    row["tracked_error_pct"] = float(np.nanmean(pct)) if np.any(np.isfinite(pct)) else float("nan")
    n_unknown = sum(s["n_unknown"] for s in fold_scores)
    row["unknown_as_cast_pct"] = 100.0 * sum(s["n_unknown_as_cast"] for s in fold_scores) / n_unknown if n_unknown else float("nan")
    n_faces = sum(s["n_faces"] for s in fold_scores)
    row["face_accuracy"] = sum(s["n_faces_right"] for s in fold_scores) / n_faces if n_faces else float("nan")
    return row
