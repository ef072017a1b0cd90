"""score --faces (issue 24): find the faces of new videos through the store, then `FaceModel.predict_video` on each:
each actor's screen time, unknown people's, time together, with error bars.

A video whose faces are stored (under the model's face config) costs no decoding; others are embedded with the
face config the model was trained on (`embed_videos(..., faces=FaceConfig.from_identity(model.face_config))`), so
model and faces always match. Faces stored under another face config are refused in one line.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from classifiers.chain.face_persist import (check_face_config, check_face_config_here, check_store_face_config,
                                            load_face_model)
from classifiers.chain.intervals import INTERVAL_LEVEL, claimed_level, interval_note, method_of
from classifiers.chain.timeline import total_screen_time
from classifiers.output.notes import faces_consequence, unlike_reason
from classifiers.output.score_files import check_outputs
from featurestore.errors import InvalidParameter, TrainingStoreMissing, UnlikeTrainingWarning
from featurestore.outputs import CallFiles
from featurestore.reuse import refuse_gone_at_other_rate, stored_difference
from featurestore.video.paths import check_video_path, fingerprint

#: The cross-validation scores of a face model that results and reports show.
CV_SCORES = ("macro_f1", "balanced_accuracy", "log_loss", "screen_time_error_pct", "worst_error_pct_of_video",
             "tracked_error_pct", "unknown_as_cast_pct", "face_accuracy")


@dataclass
class FaceScoreResult:
    """Screen time of each video scored from its faces, in input order: what `classifiers.score.ScoreResult` holds
    for frames (the writers of `classifiers.output` read either), `videos` being `FaceScreenTime`.

    `model_info` has ``"faces"``: the face config, unknown threshold, smoothing and how training faces got labels.
    """

    videos: list
    classes: list[str]
    model_info: dict
    embed_reports: list = field(default_factory=list)
    interval_level: float = INTERVAL_LEVEL
    interval_note: str = ""
    video_info: dict = field(default_factory=dict)
    store_path: Path | None = None
    inputs: CallFiles = field(default_factory=CallFiles)  # what the call read: no result file may go over them

    @property
    def total_screen_time_s(self) -> dict[str, float]:
        """Seconds seen per actor, summed over the videos."""
        return {c: total_screen_time(self.videos).get(c, 0.0) for c in self.classes}

    @property
    def multi_label(self) -> bool:
        return True  # actors share the screen


def face_config_of(identity: dict):
    """The FaceConfig that reproduces the faces a model was trained on (`featurestore.faces.config`)."""
    from featurestore.faces.config import FaceConfig

    return FaceConfig.from_identity(identity)


def _changed(store, video_id: str, path, sample_fps: float | None) -> bool:
    """Whether the file at `path` is not what `store` holds as `video_id`: other content (its fingerprint), or
    `sample_fps` another rate than the stored one. Such a video goes to embedding, which refuses it without `replace`
    (`featurestore.reuse.refuse_conflict`), as for frame models; stored faces of the old content were scored. A file
    gone is scored from its stored faces, at their rate only (VideoUnreadable for another); a store that keeps no
    fingerprint tells nothing of the content."""
    info = store.info(video_id)
    if not os.path.exists(path):  # a broken link too: the file is gone
        refuse_gone_at_other_rate(path, video_id, info, sample_fps, what="faces")
        return False
    fp = fingerprint(check_video_path(path)) if info.get("fingerprint") is not None else None  # none kept: no telling
    return stored_difference(info, fp, sample_fps) is not None


def score_face_videos(
    paths: list[str | os.PathLike],
    *,
    model_path: str | os.PathLike,
    store_path: str | os.PathLike | None = None,
    store=None,
    sample_fps: float | None = None,
    names: list[str] | None = None,
    replace: bool = False,
    batch_size: int = 32,
    progress=None,
    on_wait: Callable[[str], None] | None = None,
    interval_level: float = INTERVAL_LEVEL,
    embed: Callable | None = None,
    make_face_config: Callable = face_config_of,
    outputs: dict | None = None,
) -> FaceScoreResult:
    """Screen time per actor for each video, from its faces.

    Parameters
    ----------
    paths : list of path-like
        Videos to score; a video whose faces are stored under its id (its file name, or `names`) is scored from
        the store, even when its file is gone; the others are embedded into the store with the model's face config.
    model_path : path-like
        A face model saved by ``compare-models --faces``.
    store_path, store
        The feature store (a path), or an object with its face contract (``video_ids``, ``info``, ``faces``,
        ``has_faces``; tests and notebooks).
    sample_fps, names, replace, batch_size, progress, on_wait
        As in `embed_videos`, for the videos to embed.
    interval_level : float
        Level of the screen-time intervals, in (0, 1) (`classifiers.chain.intervals`).
    embed : callable, optional
        `featurestore.pipeline.embed_videos` (the default) or a stand-in with its signature.
    outputs : dict, optional
        The files the caller will write (`classifiers.output.score_files.write_outputs`' keyword arguments):
        checked before any work against the videos, the model and the store.

    Returns
    -------
    FaceScoreResult
        ``videos`` are `classifiers.chain.face_time.FaceScreenTime` (multi-label: actors share the screen);
        ``model_info`` has ``"faces"``: the face config, unknown threshold and smoothing; and ``"unlike_training"``
        (`FaceFamiliarity.describe`; None for a model saved without it). A video whose faces are further from the
        training faces than the held-out videos' were is ``unlike_training`` and warned about
        (`UnlikeTrainingWarning`, `classifiers.chain.face_familiarity`).

    Raises
    ------
    ModelFileRefused, StoreMismatch, NotEmbedded, VideoUnreadable
    """
    if not 0.0 < interval_level < 1.0:
        raise InvalidParameter("interval_level", f"must be between 0 and 1 (e.g. 0.9), got {interval_level}")
    if names is not None and len(names) != len(paths):
        raise InvalidParameter("names", f"give one name per video: {len(names)} names for {len(paths)} videos")
    model = load_face_model(model_path)
    if store is None and store_path is None:  # the store the model was trained on, as frame models do
        store_path = training_store_of(model)
    ids = [names[i] if names else Path(p).name for i, p in enumerate(paths)]
    inputs = CallFiles().read("the video", *paths).read("the model", model_path)
    if store_path is not None:
        inputs.store("store_path", store_path, written=True)
    if outputs is not None:
        check_outputs(**outputs, n_videos=len(paths), video_ids=ids, inputs=inputs)
    store = _open_store(store, store_path)
    store_name = Path(str(getattr(store, "path", store_path) if store is not None else store_path)).name
    todo, tables = [], {}  # tables: each stored video's faces, read (and checksummed) once for the check and scoring
    for i, (path, video_id) in enumerate(zip(paths, ids)):
        stored = store is not None and video_id in store and store.has_faces(video_id)
        if stored and not replace and not _changed(store, video_id, path, sample_fps):
            if video_id not in tables:
                tables[video_id] = store.faces(video_id)
                check_face_config(model, tables[video_id], store_name=store_name)
        else:
            todo.append(i)
    reports = []
    if todo:
        face_config = make_face_config(model.face_config)
        check_face_config_here(model, face_config.identity())
        if store is not None:
            check_store_face_config(model, store, store_name=store_name)
        if embed is None:
            from featurestore.pipeline import embed_videos as embed
        from featurestore.embedding.config import EmbeddingConfig

        config = EmbeddingConfig.from_identity(getattr(store, "config", None) or model.embedding_config,
                                               weights_path=getattr(store, "weights_path", None),
                                               source=model.path.name if model.path else "the model", made="trained")
        reports = embed([paths[i] for i in todo], store if store is not None else store_path, config=config,
                        faces=face_config, sample_fps=sample_fps, batch_size=batch_size,
                        names=[ids[i] for i in todo], replace=replace, progress=progress, on_wait=on_wait)
        store = store if store is not None else _open_store(None, store_path)
    videos, video_info = [], {}
    for video_id in dict.fromkeys(ids):
        table = tables.pop(video_id, None)  # no longer held once scored
        if table is None:  # embedded by this call
            table = store.faces(video_id)
            check_face_config(model, table, store_name=store_name)
        info = store.info(video_id)
        video_info[video_id] = {k: info.get(k) for k in ("fps", "source_path", "fingerprint")}
        videos.append(model.predict_video(table, duration_s=float(info["duration_s"]),
                                          sample_fps=float(info["sample_fps"]), video_id=video_id,
                                          interval_level=interval_level))
        _warn_if_unlike(videos[-1], model)
    claimed = claimed_level(model.interval, interval_level)
    used = model.interval_in_use  # a cv-plus model without its fold models scores by conformal: say that one
    model_info = {
        "path": str(Path(model_path)), "name": model.model_name, "classes": list(model.actors),
        "smoothing": {"method": model.smoothing}, "feature_norm": "none", "context_s": 0.0,
        "embedding_config": dict(model.embedding_config), "training_videos": list(model.training_videos),
        "created_at": model.created_at,
        "cv": {k: model.cv[k] for k in ("scheme", "n_splits", "description", "caveat") if k in model.cv},
        "scores": {k: float(model.scores[k]) for k in CV_SCORES if isinstance(model.scores.get(k), (int, float))},
        "intervals": ({"method": method_of(used), "n_videos": int(model.interval.get("n_videos", 0)),
                       "level_asked": interval_level, "level_claimed": claimed} if model.interval else None),
        "unlike_training": None if model.familiarity is None else model.familiarity.describe(),
        "multi_label": True, "thresholds": {a: model.threshold for a in model.actors},
        "none_label": "no actor",
        "faces": {"face_config": dict(model.face_config), "unknown_threshold": model.threshold,
                  "max_distance": None if model.reference is None else model.reference.max_distance,
                  "smoothing": model.smoothing, "min_quality": model.min_quality,
                  "label_counts": dict(model.label_counts)},
    }
    return FaceScoreResult(videos=videos, classes=list(model.actors), model_info=model_info, embed_reports=list(reports),
                       interval_level=interval_level if claimed is None else claimed,
                       interval_note=interval_note(used, interval_level), video_info=video_info,
                       store_path=Path(store_path) if store_path is not None else None, inputs=inputs)


def _warn_if_unlike(video, model) -> None:
    """One warning line for a video whose faces are further from the training faces than the held-out videos' were,
    or too degraded to be named (`classifiers.chain.face_familiarity`)."""
    if video.unlike_training:
        reason = unlike_reason(video, model.familiarity.describe())
        warnings.warn(f"{video.video_id}: unlike the training videos ({reason}): {faces_consequence(video)}; label some "
                      "of it and retrain with compare-models --faces", UnlikeTrainingWarning, stacklevel=3)


def training_store_of(model) -> Path:
    """The store a face model was trained on (compare-models records it in ``cv["training_store"]``), where it still
    is; else ``features.h5``.

    Raises
    ------
    TrainingStoreMissing
        The model names its training store and it is not there.
    """
    record = model.cv.get("training_store") if isinstance(model.cv, dict) else None
    path = record.get("path") if isinstance(record, dict) and isinstance(record.get("path"), str) else None
    if not path:
        return Path("features.h5")
    if not Path(path).is_file():
        name = model.path.name if model.path else "the model"
        raise TrainingStoreMissing(f"{name} was trained on the faces in {path}, which is not there; give --store: that "
                                   "store where it is now, or a new one to embed the videos into")
    return Path(path)


def _open_store(store, store_path):
    if store is not None:
        return store
    if store_path is None:
        raise InvalidParameter("store_path", "give the feature store")
    if not Path(store_path).exists():
        return None
    from featurestore.store.store import FeatureStore

    return FeatureStore(store_path)
