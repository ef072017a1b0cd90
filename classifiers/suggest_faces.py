"""suggest-labels with a face model (issue 25): the tracks worth naming next, least sure and largest first.

A track is one person in one shot, so naming it labels all its faces. Each unlabelled track of the stored videos
gets, from `FaceModel.face_proba` (the model's own smoothing), its mean probabilities over its faces: its
*uncertainty* is 1 minus the margin between the two most likely (actors and unknown), and its *disagreement* the
share of the model's saved cross-validation fold models whose guess for the track differs from the model's. Its
*value* is its seconds on screen times the larger of the two, so a long track the model hesitates over comes
first; tracks are taken by value until `budget_s` seconds. The todo CSV is ``video,track,label,start_s,end_s,guess``:
the track-name format compare-models --faces reads (`classifiers.data.face_boxes`), label empty to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from classifiers.chain.face_persist import check_face_config, load_face_model
from classifiers.data.face_dataset import label_store_faces
from classifiers.data.face_labels import FaceGrids
from classifiers.data.names import resolve_videos
from classifiers.output.cells import csv_cell, csv_text
from featurestore.errors import InvalidParameter, NotEmbedded, arg, command
from featurestore.progress import step
from featurestore.store.store import FeatureStore

TODO_HEADER = ("video", "track", "label", "start_s", "end_s", "guess")


@dataclass
class SuggestedTrack:
    """One track to name: where it is, the model's guess, and why it was picked (each measure 0-1)."""

    video_id: str
    track: int
    start_s: float
    end_s: float
    seconds: float
    guess: str
    uncertainty: float
    disagreement: float

    @property
    def value(self) -> float:
        return self.seconds * max(self.uncertainty, self.disagreement)


@dataclass
class TrackSuggestions:
    """Outcome of `suggest_tracks`: tracks best first, and what they were chosen from."""

    tracks: list
    budget_s: float
    classes: list
    videos: list
    available_s: float  # seconds of the unlabelled tracks of the considered videos
    committee_note: str
    model_path: Path | None = None
    store_path: Path | None = None
    labels_paths: list = field(default_factory=list)

    @property
    def total_s(self) -> float:
        return float(sum(t.seconds for t in self.tracks))


def suggest_tracks(store_path, model_path, budget_s: float, *, labels_paths=(), videos=None,
                   payload: dict | None = None, progress=None) -> TrackSuggestions:
    """The tracks of `store_path`'s videos (all, or `videos`) worth naming next under the face model `model_path`
    (`payload`: its content, when already read); `progress` (`featurestore.progress.Progress`) shows the steps.

    Raises
    ------
    ModelFileRefused, StoreMismatch, NotEmbedded, LabelsInvalid
    """
    if not budget_s > 0:
        raise InvalidParameter("budget_s", f"must be a positive number of seconds, got {budget_s:g}")
    model = load_face_model(model_path, payload)
    store = FeatureStore(store_path)
    ids = [v for v in resolve_videos(store, videos) if store.has_faces(v)]
    if not ids:
        raise NotEmbedded(f"{store.path.name} holds no faces of these videos; find them with "
                          f"`{command(f'embed VIDEO --faces --store {arg(store.path)}')}`")
    grids = FaceGrids(store)
    labelled = label_store_faces(store, labels_paths, grids=grids, progress=progress)[0] if labels_paths else {}
    folds = list(zip(model.fold_pipelines, model.fold_thresholds))
    candidates = []
    with step(progress, "measuring the videos' tracks", len(ids)) as advance:
        for video_id in ids:
            table = grids.table(video_id)
            check_face_config(model, table, store_name=store.path.name)
            step_s = 1.0 / float(store.info(video_id)["sample_fps"])
            free = np.ones(len(table), bool) if video_id not in labelled else labelled[video_id].label == ""
            candidates += _tracks(model, table, video_id, step_s, free, folds)
            advance()
    order = sorted(candidates, key=lambda t: (-t.value, t.video_id, t.track))
    picked, used = [], 0.0
    for t in order:
        if t.value > 0 and used + t.seconds <= budget_s:
            picked.append(t)
            used += t.seconds
    note = (f"{len(folds)} fold models saved in {Path(model_path).name} measure disagreement" if folds
            else f"{Path(model_path).name} keeps no fold models: no disagreement measured")
    return TrackSuggestions(picked, float(budget_s), list(model.actors), ids, float(sum(t.seconds for t in candidates)),
                            note, Path(model_path), Path(store_path), [Path(p) for p in labels_paths])


def _tracks(model, table, video_id: str, step_s: float, free: np.ndarray, folds: list) -> list[SuggestedTrack]:
    p_actor, p_unknown = model.face_proba(table)
    both = np.column_stack([p_actor, p_unknown]) if len(table) else np.zeros((0, len(model.actors) + 1))
    names = [*model.actors, UNKNOWN]
    admissible = model.admissible(table) if len(table) else None  # the table's alone: once for every fold
    guess = _guesses(model.decide(table, proba=(p_actor, p_unknown), admissible=admissible)[0], names)
    fold_guesses = [_guesses(model.decide(table, pipeline, threshold, admissible=admissible)[0], names)
                    for pipeline, threshold in folds]
    track, sample = np.asarray(table.track), table.sample  # not time_s: a held frame's samples share it
    out = []
    for k in np.unique(track[(track >= 0) & free]).tolist():
        rows = np.flatnonzero((track == k) & free)
        mean = np.sort(both[rows].mean(axis=0))[::-1]
        mine = _majority(guess[rows])
        times, samples = np.asarray(table.time_s)[rows], sample[rows]
        differ = [_majority(g[rows]) != mine for g in fold_guesses]
        out.append(SuggestedTrack(video_id, int(k), float(times.min()), float(times.max()) + step_s,
                                  len(np.unique(samples)) * step_s, mine,
                                  float(1.0 - (mean[0] - (mean[1] if len(mean) > 1 else 0.0))),
                                  float(np.mean(differ)) if differ else 0.0))
    return out


def _guesses(actor: np.ndarray, names: list[str]) -> np.ndarray:
    """Each face's guess as a name (an actor index, or -1 for unknown)."""
    return np.array([names[a] if a >= 0 else UNKNOWN for a in np.asarray(actor).tolist()], dtype=object)


def _majority(values: np.ndarray) -> str:
    names, counts = np.unique(values.astype(str), return_counts=True)
    return str(names[np.argmax(counts)])


def tracks_csv_text(suggestions: TrackSuggestions) -> str:
    """The todo CSV of tracks (module docstring), best first, label empty."""
    return csv_text(TODO_HEADER, ([csv_cell(t.video_id), t.track, "", f"{t.start_s:.6g}", f"{t.end_s:.6g}",
                                   csv_cell(t.guess)] for t in suggestions.tracks))
