"""A fitted face model as one object (issue 24): `FaceModel.predict_video(table)` is the one path from a video's
stored faces to each actor's screen time -- face classifier -> smoothing over tracks -> whose each face is, unknown
people included (`face_decide`) -> seconds (`face_time`) -> an interval. `score --faces`, cross-validation's
held-out scoring and Python users all call it. Files: face_persist.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .face_decide import SMALL_FACE_MIN_P, SMALL_FACE_PX, SMOOTHINGS, actor_columns, decide, face_thresholds, smooth
from .face_familiarity import MIN_QUALITY, FaceFamiliarity, near_share, poorer_shares, video_face_distance
from .face_open_set import FaceReference
from .face_time import FaceScreenTime, summarize_faces
from .intervals import INTERVAL_LEVEL, claimed_level, in_use, method_of, screen_time_interval

_OWN = object()  # FaceModel.decide: compute the open-set check itself


@dataclass
class FaceModel:
    """A face classifier, its unknown threshold and smoothing, and what it was trained on.

    Attributes
    ----------
    pipeline : fitted scikit-learn classifier
        ``predict_proba`` of face descriptors (n_faces, d); its classes are actors, and `UNKNOWN` when it was
        trained on faces of people nobody labelled.
    actors : list of str
        The actors, in the column order of every result.
    threshold : float
        The unknown threshold: an actor's probability must reach it for a face to be theirs (chosen by
        cross-validation on faces whose actor was held out, `classifiers.selection.face_unknown`).
    smoothing : {"none", "track"}
        Whether each face takes the mean probabilities of its track before the decision.
    face_config : dict
        The face config identity of the training faces (`FaceTable.config`); scoring refuses others.
    embedding_config : dict
        The frame embedding config of the training store (new videos are embedded with it).
    interval : dict
        Held-out screen-time errors behind the intervals (`classifiers.chain.intervals.error_spread`).
    fold_pipelines, fold_thresholds : lists
        The cross-validation fold models and their thresholds, for CV+ intervals.
    min_quality : float
        Faces below this quality were left out of training (all faces are scored).
    label_counts : dict
        How the training faces got their labels (`classifiers.data.face_assign`).
    reference : FaceReference, optional
        Training faces per actor for the open-set check (`classifiers.chain.face_open_set`): a face (its track,
        with smoothing) may be an actor's only within `reference.max_distance` of that actor's; None: no check.
        The fold models of the CV+ intervals are checked against it too.
    small_face : (float, float) or None
        (height px, probability): a face under that height is named only at that probability or more (or the
        threshold, if higher; `classifiers.chain.face_decide.face_thresholds`). None: no such rule (model files
        saved before it load so).
    familiarity : FaceFamiliarity, optional
        The held-out videos' distances to their fold's training faces and the threshold beyond which a video is
        unlike the training videos (`classifiers.chain.face_familiarity`); None: no such check (model files saved
        before it load so).
    """

    pipeline: object
    actors: list[str]
    threshold: float
    smoothing: str = "track"
    face_config: dict = field(default_factory=dict)
    embedding_config: dict = field(default_factory=dict)
    model_name: str = ""
    cv: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    training_videos: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    created_at: str = ""
    path: Path | None = None
    interval: dict = field(default_factory=dict)
    fold_pipelines: list = field(default_factory=list, repr=False)
    fold_thresholds: list = field(default_factory=list)
    min_quality: float = 0.0
    label_counts: dict = field(default_factory=dict)
    reference: FaceReference | None = field(default=None, repr=False)
    small_face: tuple[float, float] | None = (SMALL_FACE_PX, SMALL_FACE_MIN_P)
    familiarity: FaceFamiliarity | None = field(default=None, repr=False)

    def __post_init__(self):
        if self.smoothing not in SMOOTHINGS:
            raise ValueError(f"smoothing must be one of {', '.join(SMOOTHINGS)}, got {self.smoothing!r}")

    def face_proba(self, table, pipeline=None) -> tuple[np.ndarray, np.ndarray]:
        """(actors' probabilities (n_faces, n_actors), unknown probability (n_faces,)) of `table`'s faces, smoothed."""
        pipeline = self.pipeline if pipeline is None else pipeline
        n = len(table)
        if n == 0:
            return np.zeros((0, len(self.actors))), np.zeros(0)
        raw = pipeline.predict_proba(np.asarray(table.embedding, dtype=np.float32))
        both = np.column_stack(actor_columns(raw, pipeline.classes_, self.actors))
        both = smooth(both, np.asarray(table.track), self.smoothing)
        return both[:, :-1], both[:, -1]

    def admissible(self, table) -> np.ndarray | None:
        """(n_faces, n_actors) bool: the actors each face may be by the open-set check; None without a reference."""
        if self.reference is None:
            return None
        return self.reference.admissible(np.asarray(table.embedding), np.asarray(table.track), len(self.actors),
                                         self.smoothing)

    def decide(self, table, pipeline=None, threshold: float | None = None, *, proba=None,
               admissible=_OWN) -> tuple[np.ndarray, np.ndarray]:
        """(each face's actor index or -1 for unknown (n_faces,), actors' probabilities (n_faces, n_actors)).

        `proba`: ``face_proba(table, pipeline)`` when already computed; `admissible`: ``admissible(table)``, which
        depends on the table alone (a caller deciding with the fold models too computes it once)."""
        p_actor, p_unknown = self.face_proba(table, pipeline) if proba is None else proba
        if not len(p_actor):
            admissible = None
        elif admissible is _OWN:
            admissible = self.admissible(table)
        sample = table.sample
        thresholds = face_thresholds(self.threshold if threshold is None else threshold, table.size_px, self.small_face)
        return decide(p_actor, p_unknown, sample, thresholds, admissible, np.asarray(table.embedding)), p_actor

    def training_faces(self) -> np.ndarray | None:
        """The training faces (m, d) a video's faces are measured against: the familiarity's own, else the open-set
        reference's; None for a model that keeps none."""
        own = None if self.familiarity is None else self.familiarity.X
        return own if own is not None else (None if self.reference is None else self.reference.X)

    def training_distance(self, table) -> float | None:
        """Median distance of `table`'s good faces to the nearest training face (`classifiers.chain.face_familiarity`);
        None without a good face, or for a model that keeps no training faces."""
        return video_face_distance(table, self.training_faces(),
                                   self.familiarity.min_quality if self.familiarity else MIN_QUALITY)

    @property
    def interval_in_use(self) -> dict:
        """The held-out errors as `predict_video` turns them into intervals: `interval`, except that a ``cv-plus``
        one whose fold models (with their thresholds) are gone or do not cover its folds is ``conformal``
        (`classifiers.chain.intervals.in_use`, as frame models decide)."""
        n_folds = len(self.fold_pipelines) if len(self.fold_pipelines) == len(self.fold_thresholds) else 0
        return in_use(self.interval, n_folds)

    def predict_video(self, table, *, duration_s: float | None = None, sample_fps: float | None = None,
                      video_id: str | None = None, interval_level: float = INTERVAL_LEVEL) -> FaceScreenTime:
        """Screen time per actor of ONE video from its stored faces.

        Parameters
        ----------
        table : FaceTable
            All the video's faces (`featurestore.faces.table.FaceTable`, as `FeatureStore.faces` returns it).
        duration_s : float, optional
            Length of the video in seconds; default: the end of the sampling grid (samples / sample_fps).
        sample_fps : float, optional
            Samples per second (what the store's info says; score passes it); default: `_grid_rate`'s guess.
        video_id : str, optional
            Default: the table's.
        interval_level : float
            Level of the screen-time intervals asked for, in (0, 1) (`classifiers.chain.intervals`).

        Returns
        -------
        FaceScreenTime
            Per actor: seconds seen, share, segments, appearances, ``screen_time_interval_s``; ``tracked_s``,
            ``unknown_s``, ``together_s``, ``none_s``; every face and whose it is (``faces``); ``training_distance``
            and ``unlike_training`` (`training_distance`, against `familiarity`; None when the model cannot tell);
            ``near_share``, ``poorer`` and ``faults``: the checks for faces too degraded to be named.
        """
        t = np.asarray(table.sample_times_s, dtype=np.float64)
        if sample_fps is None:
            sample_fps = _grid_rate(t)
        if duration_s is None:
            duration_s = len(t) / sample_fps  # the grid's end
        admissible = self.admissible(table) if len(table) else None
        actor, p_actor = self.decide(table, admissible=admissible)
        video = summarize_faces(video_id or table.video_id, table, actor, p_actor, self.actors, duration_s, sample_fps)
        folds, spread = [], self.interval_in_use
        if method_of(spread) == "cv-plus" and len(t):
            for pipeline, threshold in zip(self.fold_pipelines, self.fold_thresholds):
                fold_actor, fold_p = self.decide(table, pipeline, threshold, admissible=admissible)
                folds.append(summarize_faces(video.video_id, table, fold_actor, fold_p, self.actors, duration_s,
                                             sample_fps).screen_time_s)
        video.screen_time_interval_s = screen_time_interval(video.screen_time_s, video.duration_s, spread,
                                                            interval_level, min_half_width_s=1.0 / sample_fps,
                                                            fold_screen_time_s=folds or None)
        claimed = claimed_level(self.interval, interval_level)
        if self.familiarity is not None:
            fam = self.familiarity
            video.training_distance = self.training_distance(table)
            video.near_share = near_share(table, self.training_faces(), fam.near_distance)
            video.poorer = poorer_shares(table, fam.low)
            video.faults = fam.faults(video.near_share, video.poorer, video.training_distance)
            video.unlike_training = fam.is_unlike(video.training_distance, video.near_share, video.poorer)
        video.interval_level = float(interval_level if claimed is None else claimed)
        return video


def _grid_rate(t: np.ndarray) -> float:
    """A guess at the sampling rate of presentation times `t` (s): the largest rate whose grid k / rate no sample's
    frame comes after (sample k shows the frame on screen at k / rate: held frames repeat a time, a first frame
    may come late), snapped to a whole rate or its inverse within 5% (29.97 fps footage sampled at 1/s: 1.007 -> 1)."""
    k = np.arange(len(t))
    ok = (k > 0) & (t > 0)
    if not ok.any():
        return 1.0
    rate = float(np.min(k[ok] / t[ok]))
    nice = np.r_[np.arange(1, 121), 1.0 / np.arange(2, 121)]
    best = float(nice[np.argmin(np.abs(nice - rate) / nice)])
    return best if abs(best - rate) <= 0.05 * best else rate
