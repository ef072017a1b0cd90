"""A fitted model as one object that owns the whole chain, and its file.

`SavedModel.predict_video(t, X)` is the one path from a video's stored features to its screen time:
per-video normalisation -> temporal context -> classifier -> smoothing -> screen time (with an interval).
`score`, cross-validation's held-out scoring and Python users all call it.

A model file is a skops archive (see `classifiers.modelfile`): loading one builds only trusted types and
cannot run code, so model files can be shared. It holds a plain dict tagged ``format="screentime-model"``:
the fitted classifier pipeline (the only non-JSON value), class names, the embedding config of the training
features, the per-video stages, the chosen smoother, the held-out errors behind the intervals, CV scheme and
scores, training videos, library versions and creation time; for a multi-label model (issue 11), the
per-character thresholds and the none label.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Sequence

import numpy as np

from classifiers.features import MIN_SAMPLES_FOR_CENTER, video_features
from classifiers.intervals import INTERVAL_LEVEL, screen_time_interval
from classifiers.modelfile import dump_model_file, load_model_file
from classifiers.multilabel import threshold_vector
from classifiers.presence import summarize_presence
from classifiers.smoothing import Smoother
from classifiers.timeline import VideoScreenTime, summarize_video
from featurestore.errors import ModelFileRefused, StoreMismatch
from featurestore.provenance import library_versions

FORMAT = "screentime-model"
FORMAT_VERSION = 2  # 2: skops archive (1 was a joblib pickle, refused since)
MODEL_LIBRARIES = ("scikit-learn", "lightgbm", "numpy", "skops")  # whose objects are stored in a model file
_CHECKED = ("scikit-learn", "lightgbm")  # fitted state of these may change across minor versions


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
    feature_norm : {"none", "center"}
        Per-video normalisation (`classifiers.features.VideoNormalizer`).
    context_s : float
        Temporal context window, +-seconds (`classifiers.features.TemporalContext`); 0 = none.
    interval : dict
        Held-out screen-time errors (`classifiers.intervals.error_spread`); {} if unknown.
    multi_label : bool
        Characters, not classes (issue 11): `pipeline` is a `classifiers.multilabel.MultiLabelClassifier`
        whose ``predict_proba`` gives each character's probability of being on screen; `classes` are the
        characters; smoothing is per character (`Smoother.transform_each`); a character is on screen where
        its probability reaches its threshold in `thresholds`.
    thresholds : dict of str to float
        Multi-label: decision threshold per character, chosen by cross-validation for screen-time error.
    none_label : str
        Multi-label: the name of "no character on screen".
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
            Level of the screen-time intervals, in (0, 1).
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
            (`classifiers.presence.summarize_presence`).
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
        if stretch is not None:
            start_s = float(t[stretch][0]) if len(t[stretch]) else 0.0
            staged, t = staged[stretch], t[stretch] - start_s
            actual_s = None if actual_s is None else np.asarray(actual_s)[stretch] - start_s
            duration_s = float(t[-1]) + 1.0 / sample_fps if len(t) else 0.0
        proba = np.zeros((len(t), len(self.classes)))
        if len(t) and self.multi_label:
            proba[:] = self.pipeline.predict_proba(staged)
        elif len(t):
            seen = [str(c) for c in self.pipeline.classes_]  # a fold's model may lack a class: its column stays 0
            proba[:, [self.classes.index(c) for c in seen]] = self.pipeline.predict_proba(staged)
        smoothers = [smoother or self.smoother] if smoother is None or isinstance(smoother, Smoother) else list(smoother)
        videos = []
        for each in smoothers:
            if self.multi_label:
                smoothed = each.transform_each(proba, step_s=1.0 / sample_fps) if len(t) else proba
                video = summarize_presence(video_id, t, smoothed, self.classes, threshold_vector(self.thresholds, self.classes),
                                           float(duration_s), float(sample_fps), none_label=self.none_label, actual_s=actual_s)
            else:
                smoothed = each.transform(proba, step_s=1.0 / sample_fps) if len(t) else proba
                video = summarize_video(video_id, t, smoothed, self.classes, float(duration_s), float(sample_fps), actual_s=actual_s)
            video.screen_time_interval_s = screen_time_interval(video.screen_time_s, video.duration_s, self.interval,
                                                                interval_level, min_half_width_s=1.0 / sample_fps)
            video.interval_level = float(interval_level)
            videos.append(video)
        return videos if smoother is not None and not isinstance(smoother, Smoother) else videos[0]


def save_model(
    path: str | Path,
    *,
    pipeline,
    classes: list[str],
    embedding_config: dict,
    smoother: Smoother,
    model_name: str = "",
    cv: dict | None = None,
    scores: dict | None = None,
    training_videos: list[str] | None = None,
    feature_norm: str = "none",
    context_s: float = 0.0,
    interval: dict | None = None,
    multi_label: bool = False,
    thresholds: dict | None = None,
    none_label: str = "neither",
) -> Path:
    """Write a fitted model and its metadata to `path` atomically (write a temporary file, rename).

    `multi_label`, `thresholds` and `none_label` as in `SavedModel` (written only for a multi-label model).

    Returns the path written.
    """
    path = Path(path)
    payload = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "pipeline": pipeline, "classes": [str(c) for c in classes],
        "embedding_config": dict(embedding_config), "smoother": smoother.to_dict(), "model_name": model_name,
        "cv": cv or {}, "scores": scores or {}, "training_videos": list(training_videos or []),
        "versions": library_versions(MODEL_LIBRARIES), "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "feature_norm": feature_norm, "context_s": float(context_s), "interval": interval or {},
    }
    if multi_label:
        payload.update({"multi_label": True, "thresholds": {str(c): float(v) for c, v in (thresholds or {}).items()},
                        "none_label": str(none_label)})
    return dump_model_file(payload, path)


def load_model(path: str | Path) -> SavedModel:
    """Load a model file written by `save_model`; loading builds only trusted types, never runs code from it.

    Warns if it was saved with another major.minor version of scikit-learn or LightGBM.

    Raises
    ------
    ModelFileRefused
        The file is missing, unreadable, a pickle, names an untrusted type, or is not a screentime model.
    """
    path = Path(path)
    if path.is_dir():
        raise ModelFileRefused(f"model file {path} is a folder; give the file written by `python cli.py compare-models --out`")
    if not path.is_file():
        raise ModelFileRefused(f"model file {path} does not exist; train one with `python cli.py compare-models --out {path}`")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn's per-estimator version warnings; ours below is one line
        payload = load_model_file(path)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ModelFileRefused(
            f"model file {path} holds a {type(payload).__name__}, not a screentime model; "
            "use a file written by `python cli.py compare-models --out`"
        )
    if payload.get("format_version") != FORMAT_VERSION:
        raise ModelFileRefused(
            f"model file {path} has format version {payload.get('format_version')}, this screentime reads {FORMAT_VERSION}; retrain it with compare-models"
        )
    try:
        saved = SavedModel(
            pipeline=payload["pipeline"], classes=list(payload["classes"]), embedding_config=dict(payload["embedding_config"]),
            smoother=Smoother.from_dict(payload["smoother"]), model_name=payload.get("model_name", ""),
            cv=payload.get("cv", {}), scores=payload.get("scores", {}), training_videos=payload.get("training_videos", []),
            versions=payload.get("versions", {}), created_at=payload.get("created_at", ""), path=path,
            feature_norm=payload.get("feature_norm", "none"), context_s=float(payload.get("context_s", 0.0)),
            interval=dict(payload.get("interval", {})), multi_label=bool(payload.get("multi_label", False)),
            thresholds={str(c): float(v) for c, v in payload.get("thresholds", {}).items()},
            none_label=str(payload.get("none_label", "neither")),
        )
    except (KeyError, TypeError, ValueError) as err:
        raise ModelFileRefused(f"model file {path} is a screentime model with missing or broken fields ({err}); retrain it with compare-models") from None
    if not hasattr(saved.pipeline, "predict_proba"):
        raise ModelFileRefused(f"model file {path} holds no classifier with predict_proba; retrain it with compare-models")
    _warn_versions(path, saved.versions)
    return saved


def check_config(saved: SavedModel, store_config: dict, *, store_path: str | Path | None = None) -> None:
    """Refuse features embedded differently from those the model was trained on.

    Compares the keys both configs have (model, weights, pooling, image_size_px, n_features, ...).

    Raises
    ------
    StoreMismatch
        Naming each differing setting and how to fix it.
    """
    trained = saved.embedding_config
    shared = [k for k in trained if k in store_config]
    diff = [f"{k} {trained[k]!r} vs {store_config[k]!r}" for k in shared if trained[k] != store_config[k]]
    if diff:
        model = saved.path.name if saved.path else "the model"
        store = Path(store_path).name if store_path else "the store"
        raise StoreMismatch(
            f"{model} was trained on features unlike those in {store} (model vs store: {', '.join(diff)}); "
            "re-embed the videos with matching --weights/--pooling into a new store, or retrain with compare-models on this store"
        )


def _warn_versions(path: Path, saved_versions: dict) -> None:
    now = library_versions(MODEL_LIBRARIES)
    for name in _CHECKED:
        then = saved_versions.get(name)
        if then and now.get(name) and then.split(".")[:2] != now[name].split(".")[:2]:
            warnings.warn(
                f"model file {path.name} was saved with {name} {then}, this is {now[name]}; "
                "its predictions may differ or fail, retrain with compare-models if in doubt",
                stacklevel=3,
            )
