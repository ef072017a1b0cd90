"""A fitted model as one object that owns the whole chain: `SavedModel.predict_video(t, X)` is the one path from
a video's stored features to its screen time: per-video normalisation -> temporal context -> classifier ->
smoothing -> the labels rule (decision.py) -> screen time (with an interval), and how far the video is from
the training samples (familiarity.py). `score`, cross-validation's held-out scoring, suggest-labels and Python
users all call it. Files: persist.py.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from .decision import on_screen, threshold_vector
from .familiarity import TrainingReference, power_normalise
from .intervals import INTERVAL_LEVEL, claimed_level, in_use, method_of, screen_time_interval
from .presence import summarize_presence
from .smoothing import Smoother
from .stages import MIN_SAMPLES_FOR_CENTER, video_features
from .timeline import VideoScreenTime, summarize_video


def training_store_record(store_path, sample_fps) -> dict:
    """What `score` needs to find the training features again (`SavedModel.training_store`): the store's absolute
    path and the sample rates of the training samples (samples per second, one per sample or per video)."""
    return {"path": str(Path(store_path).absolute()), "sample_fps": sorted({round(float(r), 6) for r in np.unique(sample_fps)})}


@dataclass
class SavedModel:
    """A fitted model: per-video stages, classifier, smoothing and interval, used through `predict_video`.

    Its state is the fitted scikit-learn `pipeline` plus plain JSON-able values (the smoother as its
    `to_dict`), so it can be written in any format that stores scikit-learn objects.

    Attributes
    ----------
    pipeline : fitted sklearn classifier
        ``predict_proba`` of per-video-staged features, shape (n_samples, n_staged_features).
    classes : list of str
        Class names: the column order of every probability this model returns.
    embedding_config : dict
        Config of the store the training features came from.
    smoother : Smoother
        Smoothing chosen by cross-validation; applied per video, frames in time order.
    feature_norm : {"none", "center", "standardize"}
        Per-video normalisation (`classifiers.chain.stages.VideoNormalizer`).
    context_s : float
        Temporal context window, +-seconds (`classifiers.chain.stages.TemporalContext`); 0 = none.
    interval : dict
        Held-out screen-time errors (`classifiers.chain.intervals.error_spread`); {} if unknown.
    multi_label : bool
        Characters, not classes (issue 11): `pipeline` is a `classifiers.chain.estimators.MultiLabelClassifier`
        whose ``predict_proba`` gives each character's probability of being on screen; `classes` are the
        characters; smoothing is per character (`Smoother.transform_each`); a character is on screen where
        its probability reaches its threshold in `thresholds`.
    thresholds : dict of str to float
        Multi-label: decision threshold per character, chosen by cross-validation for screen-time error.
    none_label : str
        Multi-label: the name of "no character on screen".
    weights_path : str or None
        The weights file the training store recorded, when its features came from one (scoring finds it there).
    fold_pipelines : list of fitted classifiers
        The cross-validation fold models (fold k at index k - 1), for CV+ intervals (`classifiers.chain.intervals`):
        run with this model's stages, smoothing and thresholds on each new video.
    familiarity : TrainingReference or None
        The training samples as new videos are compared to them, with the threshold from cross-validation
        (`classifiers.chain.familiarity`); None for model files saved before issue 18 (no check, no flag).
    """

    pipeline: object
    classes: list[str]
    embedding_config: dict
    smoother: Smoother
    model_name: str = ""
    cv: dict = field(default_factory=dict)
    scores: dict = field(default_factory=dict)
    training_videos: list[str] = field(default_factory=list)
    versions: dict = field(default_factory=dict)
    created_at: str = ""
    path: Path | None = None
    feature_norm: str = "none"
    context_s: float = 0.0
    interval: dict = field(default_factory=dict)
    multi_label: bool = False
    thresholds: dict = field(default_factory=dict)
    none_label: str = "neither"
    weights_path: str | None = None
    fold_pipelines: list = field(default_factory=list, repr=False)
    familiarity: TrainingReference | None = None

    @property
    def training_store(self) -> tuple[Path | None, float | None]:
        """(the feature store the training features came from, their sample rate in samples per second) as
        compare-models recorded them (``cv["training_store"]``); None where unknown: older model files, or
        training videos sampled at several rates."""
        record = self.cv.get("training_store") if isinstance(self.cv, dict) else None
        if not isinstance(record, dict):
            return None, None
        path = record.get("path") if isinstance(record.get("path"), str) and record.get("path") else None
        rates = record.get("sample_fps") if isinstance(record.get("sample_fps"), list) else []
        rates = {float(r) for r in rates if isinstance(r, (int, float)) and not isinstance(r, bool) and np.isfinite(r) and r > 0}
        return (Path(path) if path else None), (rates.pop() if len(rates) == 1 else None)

    @property
    def threshold_array(self) -> np.ndarray | None:
        """Multi-label: each character's threshold in `classes` order; None for a single-label model."""
        return threshold_vector(self.thresholds, self.classes) if self.multi_label else None

    def on_screen(self, proba: np.ndarray) -> np.ndarray:
        """Which classes each sample shows (`classifiers.chain.decision.on_screen`), shape (n_samples, n_classes)."""
        return on_screen(proba, self.threshold_array)

    @property
    def interval_in_use(self) -> dict:
        """The held-out errors as `predict_video` turns them into intervals: `interval`, except that a ``cv-plus``
        one whose fold models are gone (or do not cover its folds) is ``conformal`` (`intervals.in_use`)."""
        return in_use(self.interval, len(self.fold_pipelines))

    def _uses_folds(self, n_samples: int) -> bool:
        return n_samples > 0 and method_of(self.interval_in_use) == "cv-plus"

    def _proba(self, pipeline, staged: np.ndarray) -> np.ndarray:
        """Per-sample probabilities of `pipeline` (this model's or a fold's), columns in `classes` order."""
        proba = np.zeros((len(staged), len(self.classes)))
        if len(staged) and self.multi_label:
            proba[:] = pipeline.predict_proba(staged)
        elif len(staged):
            seen = [str(c) for c in pipeline.classes_]  # a fold's model may lack a class: its column stays 0
            proba[:, [self.classes.index(c) for c in seen]] = pipeline.predict_proba(staged)
        return proba

    def _summarize(self, proba, smoother: Smoother, video_id, t, duration_s, sample_fps, actual_s=None) -> VideoScreenTime:
        """Smoothing, the labels rule and screen time of one video's probabilities."""
        if self.multi_label:
            smoothed = smoother.transform_each(proba, step_s=1.0 / sample_fps) if len(t) else proba
            return summarize_presence(video_id, t, smoothed, self.classes, self.threshold_array, float(duration_s),
                                      float(sample_fps), none_label=self.none_label, actual_s=actual_s)
        smoothed = smoother.transform(proba, step_s=1.0 / sample_fps) if len(t) else proba
        return summarize_video(video_id, t, smoothed, self.classes, float(duration_s), float(sample_fps), actual_s=actual_s)

    def training_distance(self, t, X) -> float | None:
        """How far ONE video's samples are from the training samples (`TrainingReference.video_distance`), after
        the per-video stages; None when the model keeps no reference. `predict_video` reports the same number."""
        if self.familiarity is None or len(t) == 0:
            return None
        t = np.asarray(t, dtype=np.float64)
        return self.familiarity.video_distance(video_features(np.asarray(X), t, feature_norm=self.feature_norm,
                                                              context_s=self.context_s))

    def raw_training_distance(self, X) -> float | None:
        """How far ONE video's samples, as embedded (no per-video stage, power-normalised), are from the training
        samples as embedded (`TrainingReference.raw`, issue 26); None when the model keeps no such reference."""
        if self.familiarity is None or self.familiarity.raw is None or len(X) == 0:
            return None
        return self.familiarity.raw.video_distance(power_normalise(X))

    def predict_video(
        self,
        t,
        X,
        *,
        duration_s: float | None = None,
        sample_fps: float | None = None,
        video_id: str = "video",
        smoother: Smoother | Sequence[Smoother] | None = None,
        interval_level: float = INTERVAL_LEVEL,
        stretch: slice | None = None,
        actual_s=None,
    ) -> VideoScreenTime | list[VideoScreenTime]:
        """Screen time per class of ONE video from all of its stored samples.

        Parameters
        ----------
        t : ndarray of shape (n_samples,), float, seconds
            Sample times (the store's ``requested_s``), strictly increasing.
        X : ndarray of shape (n_samples, n_features)
            The video's stored features, as embedded (the per-video stages are applied here).
        duration_s : float, optional
            Length of the video in seconds; default: one sampling interval after the last sample.
        sample_fps : float, optional
            Samples per second; default: from the median spacing of `t`.
        video_id : str
        smoother : Smoother or sequence of Smoother, optional
            Override the model's smoothing. A sequence gives one result per smoother, in order, for the
            price of one classifier pass (cross-validation tries its smoothing candidates this way).
        interval_level : float
            Level of the screen-time intervals asked for, in (0, 1); a result's `interval_level` is the level its
            intervals claim, lower when the held-out videos cannot support the one asked for
            (`classifiers.chain.intervals.claimed_level`).
        stretch : slice, optional
            Report only the samples ``t[stretch]`` (a contiguous stretch, as a video on its own, times from
            its first sample): the per-video stages still see every sample, as they do when the whole
            video is scored; smoothing and screen time see the stretch only. Cross-validation uses it to
            test time blocks of a video whose other blocks were trained on.
        actual_s : ndarray of shape (n_samples,), optional
            Presentation time of the frame behind each sample (the store's ``actual_s``), carried into the result.

        Returns
        -------
        VideoScreenTime (a list of them for a sequence of smoothers)
            Per-sample smoothed probabilities (columns in `classes` order) and labels, seconds, share,
            segments, and ``screen_time_interval_s`` (None when the model cannot give intervals). For a
            multi-label model, per character (they may overlap), with time together and with no character
            (`classifiers.chain.presence.summarize_presence`). ``training_distance`` (staged features),
            ``raw_training_distance`` (as embedded) and ``unlike_training`` say how far the video is from the
            training samples (`training_distance`, `raw_training_distance`; None without a reference, or for a
            stretch).
        """
        t = np.asarray(t, dtype=np.float64)
        X = np.asarray(X)
        if X.ndim != 2 or len(X) != len(t):
            raise ValueError(f"X must have shape ({len(t)}, n_features) for {len(t)} sample times, got {X.shape}")
        if sample_fps is None:
            sample_fps = 1.0 / float(np.median(np.diff(t))) if len(t) > 1 else 1.0
        if duration_s is None:
            duration_s = float(t[-1]) + 1.0 / sample_fps if len(t) else 0.0
        if self.feature_norm != "none" and 0 < len(X) < MIN_SAMPLES_FOR_CENTER:
            warnings.warn(f"{video_id}: only {len(X)} samples; its per-video feature normalisation "
                          f"({self.feature_norm}) is unreliable below {MIN_SAMPLES_FOR_CENTER}", stacklevel=2)
        staged = video_features(X, t, feature_norm=self.feature_norm, context_s=self.context_s) if len(t) else X
        distance = raw_distance = None
        if self.familiarity is not None and stretch is None and len(t):
            distance, raw_distance = self.familiarity.video_distance(staged), self.raw_training_distance(X)
        if stretch is not None:
            start_s = float(t[stretch][0]) if len(t[stretch]) else 0.0
            staged, t = staged[stretch], t[stretch] - start_s
            actual_s = None if actual_s is None else np.asarray(actual_s)[stretch] - start_s
            duration_s = float(t[-1]) + 1.0 / sample_fps if len(t) else 0.0
        proba = self._proba(self.pipeline, staged)
        smoothers = [smoother or self.smoother] if smoother is None or isinstance(smoother, Smoother) else list(smoother)
        folds = [self._proba(f, staged) for f in self.fold_pipelines] if self._uses_folds(len(t)) else []
        claimed = claimed_level(self.interval, interval_level)
        videos = []
        for each in smoothers:
            video = self._summarize(proba, each, video_id, t, duration_s, sample_fps, actual_s)
            fold_s = [self._summarize(f, each, video_id, t, duration_s, sample_fps).screen_time_s for f in folds]
            video.screen_time_interval_s = screen_time_interval(video.screen_time_s, video.duration_s, self.interval_in_use,
                                                                interval_level, min_half_width_s=1.0 / sample_fps,
                                                                fold_screen_time_s=fold_s or None)
            video.interval_level = float(interval_level if claimed is None else claimed)  # what the intervals claim
            video.training_distance, video.raw_training_distance = distance, raw_distance
            video.unlike_training = None if self.familiarity is None else self.familiarity.is_unlike(distance, raw_distance)
            videos.append(video)
        return videos if smoother is not None and not isinstance(smoother, Smoother) else videos[0]
