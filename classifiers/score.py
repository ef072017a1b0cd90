"""score_videos: embed new videos through the store, then `SavedModel.predict_video` on each: screen time.

A video already in the store costs no decoding and no inference; the model's embedding config decides
how new videos are embedded, so model and features always match.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from classifiers.chain.intervals import INTERVAL_LEVEL, claimed_level, interval_note, method_of
from classifiers.chain.model import SavedModel
from classifiers.chain.persist import check_config, load_model
from classifiers.chain.smoothing import Smoother, parse_smoother
from classifiers.chain.timeline import VideoScreenTime, total_screen_time
from classifiers.data.table import first_items
from classifiers.score_faces import score_face_videos
from featurestore.embedding.config import EmbeddingConfig
from featurestore.embedding.runtime import build_embedder
from classifiers.output.notes import unlike_reason
from classifiers.output.score_files import check_outputs
from featurestore.errors import (EmbedWarning, InvalidParameter, TrainingStoreMissing, UnlikeTrainingWarning,
                                 VideoUnreadable, WeightsUnavailable, command)
from featurestore.outputs import CallFiles
from featurestore.pipeline import check_names, embed_videos
from featurestore.reuse import refuse_gone_at_other_rate, stored_state
from featurestore.runners.work import EmbedReport
from featurestore.store.store import FeatureStore
from featurestore.video.clock import check_sample_fps
from featurestore.video.paths import check_video_path, fingerprint, video_ids

#: Videos whose files are gone each get a warning up to this many; more get one line together.
GONE_LINES = 3
#: The store `score` uses when given none and the model names no training store.
DEFAULT_STORE = "features.h5"
#: The cross-validation scores of the model that results and reports show (`classifiers.selection.metrics`).
CV_SCORES = ("macro_f1", "balanced_accuracy", "log_loss", "screen_time_error_pct")


@dataclass
class ScoreResult:
    """Screen time of each scored video, in input order.

    `interval_level` is the level of every video's ``screen_time_interval_s``; `interval_note` says
    where the intervals come from, or why there are none. For a multi-label model, `classes` are the
    characters and each video also has ``together_s`` and ``none_s``.
    """

    videos: list[VideoScreenTime]
    classes: list[str]
    model_info: dict
    embed_reports: list[EmbedReport] = field(default_factory=list)
    interval_level: float = INTERVAL_LEVEL
    interval_note: str = ""
    video_info: dict = field(default_factory=dict)  # video_id -> stored {"fps", "source_path", "fingerprint"}
    store_path: Path | None = None
    inputs: CallFiles = field(default_factory=CallFiles)  # what the call read: no result file may go over them

    @property
    def total_screen_time_s(self) -> dict[str, float]:
        """Seconds on screen per class, summed over the videos."""
        return {c: total_screen_time(self.videos).get(c, 0.0) for c in self.classes}

    @property
    def multi_label(self) -> bool:
        return bool(self.model_info.get("multi_label", False))


def embedding_config_for(saved: SavedModel, weights: str | None = None) -> EmbeddingConfig:
    """The EmbeddingConfig that reproduces the features `saved` was trained on: every identity key survives.

    `weights` is needed only when the model was trained on features from a weights file that is no longer
    where the training store recorded it: pass that file.
    """
    return EmbeddingConfig.from_identity(saved.embedding_config, weights=weights, weights_path=saved.weights_path,
                                         source=saved.path.name if saved.path else "the model", made="trained")


def _stored_without_source(paths, names, store: FeatureStore | None, sample_fps: float | None,
                           replace: bool) -> dict[int, EmbedReport]:
    """Videos whose file is gone but whose features are stored under the id they would get: scored from the store.

    A frame is embedded once; the source file is not needed again. A warning names the file the features came from,
    since without it the content cannot be compared (one line for them all beyond `GONE_LINES` videos).
    """
    found, gone = {}, []
    if store is None:
        return found
    for i, path in enumerate(paths):
        if os.path.lexists(path):
            continue
        video_id = names[i]
        if video_id not in store:
            continue
        info = store.info(video_id)  # VideoDamaged when its shard is unusable: the file is needed to embed it again
        if replace:
            raise VideoUnreadable(f"{path}: no such file, so --replace cannot embed it again (its features are stored "
                                  f"as {video_id!r}; drop --replace to score them)")
        refuse_gone_at_other_rate(path, video_id, info, sample_fps)
        gone.append(f"{path}: no such file; scoring the features stored as {video_id!r} (embedded "
                    f"{info.get('embedded_at', '?')[:10]} from {info.get('source_path', '?')})")
        found[i] = EmbedReport.stored(video_id, path, info)
    for line in gone if len(gone) <= GONE_LINES else []:
        warnings.warn(line, EmbedWarning, stacklevel=3)
    if len(gone) > GONE_LINES:  # a moved collection: one line, not one per video
        warnings.warn(f"{len(gone)} videos' files are gone ({first_items([str(paths[i]) for i in found])}); scoring "
                      "the features stored for them", EmbedWarning, stacklevel=3)
    return found


def _already_stored(paths, names, store: FeatureStore | None, sample_fps: float | None,
                    replace: bool) -> list[EmbedReport] | None:
    """Reports of `paths` if every one is stored as is (same content, rate and decode mode), else None."""
    if store is None or replace:
        return None
    reports = []
    for i, path in enumerate(paths):
        video_id = names[i]
        check_video_path(path)
        state, info = stored_state(store, video_id, fingerprint(path), sample_fps)
        if state != "stored":
            return None
        reports.append(EmbedReport.stored(video_id, path, info))
    return reports


def _warn_if_unlike(video: VideoScreenTime, saved: SavedModel, store_path, model_path) -> None:
    """A warning for a video further from the training samples than cross-validation's held-out videos were."""
    if not video.unlike_training:
        return
    from shlex import quote

    suggest = command(f"suggest-labels --store {quote(str(store_path))} --model {quote(str(model_path))} --budget-s 60 "
                      f"--out todo.csv {quote(video.video_id)}")
    warnings.warn(f"{video.video_id}: unlike the training videos ({unlike_reason(video, saved.familiarity.describe())}); "
                  f"its screen time may be far off: label some of it, `{suggest}`, and retrain", UnlikeTrainingWarning,
                  stacklevel=3)


def store_for(saved: SavedModel, store_path: str | os.PathLike | None) -> Path:
    """The store to score through: `store_path`; when None, the store the model was trained on
    (`SavedModel.training_store`), else ``features.h5`` for model files that do not name theirs.

    Raises
    ------
    TrainingStoreMissing
        `store_path` is None and the model's training store is not where compare-models recorded it.
    """
    if store_path is not None:
        return Path(store_path)
    trained_on, rate = saved.training_store
    if trained_on is None:
        return Path(DEFAULT_STORE)
    if not trained_on.is_file():
        model = saved.path.name if saved.path else "the model"
        at = f" (sampled at {rate:g}/s)" if rate else ""
        raise TrainingStoreMissing(f"{model} was trained on the features in {trained_on}{at}, which is not there; give "
                                   "--store: that store where it is now, or a new one to embed the videos into")
    return trained_on


def _warn_other_rates(videos: list[VideoScreenTime], saved: SavedModel) -> None:
    """A warning per video sampled at another rate than the model's training videos were."""
    rate = saved.training_store[1]
    model = saved.path.name if saved.path else "the model"
    for video in videos:
        if rate and abs(video.sample_fps - rate) > 1e-6 * rate:
            warnings.warn(f"{video.video_id}: sampled at {video.sample_fps:g}/s, {model} was trained at {rate:g}/s; its "
                          f"smoothing and intervals were chosen at that rate (--fps {rate:g} --replace samples it so)",
                          EmbedWarning, stacklevel=3)


def score_videos(
    paths: list[str | os.PathLike],
    *,
    model_path: str | os.PathLike,
    store_path: str | os.PathLike | None = None,
    sample_fps: float | None = None,
    smooth: str | Smoother | None = None,
    weights: str | None = None,
    batch_size: int = 32,
    names: list[str] | None = None,
    ids: str = "name",
    replace: bool = False,
    progress=None,
    make_embedder: Callable = build_embedder,
    on_wait: Callable[[str], None] | None = None,
    interval_level: float = INTERVAL_LEVEL,
    outputs: dict | None = None,
    faces: bool = False,
) -> ScoreResult:
    """Screen time per class for each video.

    Parameters
    ----------
    paths : list of path-like
        Videos to score; each is embedded into `store_path` unless it is there already. A path that no longer
        exists is scored from the features stored under its id (file name or `names`), with an EmbedWarning.
    model_path : path-like
        A model saved by compare-models (a skops file: loading it cannot run code).
    store_path : path-like, optional
        The feature store; default: the one the model was trained on, if it names one (`store_for`).
    sample_fps : float, optional
        Samples per second; default: the rate a video is stored at, else the model's training rate, else 1.0.
        A video sampled at another rate than the model's gets an EmbedWarning.
    smooth : str or Smoother, optional
        Override the model's smoothing, e.g. 'none', 'median:5', 'hmm:10'.
    weights : str, optional
        The weights file, when the model was trained on features from one.
    names, ids, replace
        As in `embed_videos`: ids to store the videos under (else by `ids`: 'name' or 'path'), and whether to
        re-embed a stored id.
    interval_level : float
        Level of the screen-time intervals, in (0, 1) (see `classifiers.chain.intervals`).
    outputs : dict, optional
        The files the caller will write with `classifiers.output.score_files.write_outputs` (its keyword
        arguments): checked before any work (`check_outputs`), against the videos, the model and the store.
    faces : bool
        Score with a face model (``compare-models --faces``): `classifiers.score_faces.score_face_videos` (issue 24).

    A video further from the training samples than cross-validation's held-out videos were gets
    ``unlike_training`` True and an `UnlikeTrainingWarning` (`classifiers.chain.familiarity`).

    Raises
    ------
    ModelFileRefused, StoreMismatch, VideoUnreadable, WeightsUnavailable, StoreCorrupt, TrainingStoreMissing
    InvalidParameter, OutputRefused, OutputUnwritable
        An output of `outputs` that cannot be written where asked, or would overwrite an input or another output.
    """
    if not 0.0 < interval_level < 1.0:
        raise InvalidParameter("interval_level", f"must be between 0 and 1 (e.g. 0.9), got {interval_level}")
    if sample_fps is not None:
        sample_fps = check_sample_fps(sample_fps)
    check_names(names, paths)
    names = list(names) if names else video_ids(paths, ids)  # each video's id in the store
    if outputs is not None:  # where each output may go, before the model is read; against the inputs below
        check_outputs(**outputs, n_videos=len(paths))
    if faces:  # a sample kind of its own: faces, not frames (issue 24)
        if smooth is not None:
            raise InvalidParameter("smooth", "a face model smooths over tracks as chosen by cross-validation; drop --smooth")
        return score_face_videos(paths, model_path=model_path, store_path=store_path, sample_fps=sample_fps, names=names,
                                 replace=replace, batch_size=batch_size, progress=progress, on_wait=on_wait,
                                 interval_level=interval_level, outputs=outputs)
    override = parse_smoother(smooth) if isinstance(smooth, str) else smooth
    saved = load_model(model_path)  # cheap checks first: a bad model fails before any decoding
    smoother = override or saved.smoother
    try:
        config, unresolved = embedding_config_for(saved, weights), None
    except WeightsUnavailable as err:  # only needed to embed: videos already stored are scored from the store
        config, unresolved = None, err
    store_path = store_for(saved, store_path)
    inputs = CallFiles().read("the video", *paths).read("the model", model_path).store("store_path", store_path, written=True)
    inputs.read("the weights file", *[w for w in (weights, saved.weights_path) if w and w not in ("imagenet", "random")])
    if outputs is not None:
        check_outputs(**outputs, n_videos=len(paths), video_ids=names, inputs=inputs)
    store = FeatureStore(store_path) if store_path.exists() else None  # opened once (embed_videos takes it too)
    if store is not None:
        check_config(saved, store.config, store_path=store_path)
    kept = _stored_without_source(paths, names, store, sample_fps, replace)
    todo = [i for i in range(len(paths)) if i not in kept]
    reports = dict(kept)
    if todo and config is None:
        stored = _already_stored([paths[i] for i in todo], [names[i] for i in todo], store,
                                 sample_fps, replace)
        if stored is None:
            raise unresolved
        reports.update(zip(todo, stored))
    elif todo:
        embedded = embed_videos([paths[i] for i in todo], store if store is not None else store_path, config=config,
                                sample_fps=sample_fps, batch_size=batch_size,
                                names=[names[i] for i in todo], replace=replace, progress=progress,
                                make_embedder=make_embedder, on_wait=on_wait, default_fps=saved.training_store[1] or 1.0)
        by_id = {r.video_id: r for r in embedded}
        for i in todo:
            reports[i] = by_id[names[i]]
    reports = list({reports[i].video_id: reports[i] for i in range(len(paths))}.values())  # one per video, in order
    store = store if store is not None else FeatureStore(store_path)
    videos, video_info = [], {}
    for video_id in (r.video_id for r in reports):
        v = store.read(video_id)
        video_info[video_id] = {k: v.info.get(k) for k in ("fps", "source_path", "fingerprint")}
        videos.append(saved.predict_video(v.requested_s, v.features, duration_s=float(v.info["duration_s"]),
                                          sample_fps=float(v.info["sample_fps"]), video_id=video_id, smoother=smoother,
                                          interval_level=interval_level, actual_s=v.actual_s))
        _warn_if_unlike(videos[-1], saved, store_path, model_path)
    _warn_other_rates(videos, saved)
    inputs.read("the source video", *[info["source_path"] for info in video_info.values() if info.get("source_path")])
    model_info = {
        "path": str(Path(model_path)),
        "name": saved.model_name,
        "classes": list(saved.classes),
        "smoothing": smoother.to_dict(),
        "feature_norm": saved.feature_norm,
        "context_s": saved.context_s,
        "embedding_config": saved.embedding_config,
        "training_videos": list(saved.training_videos),
        "created_at": saved.created_at,
        "cv": {k: saved.cv[k] for k in ("scheme", "n_splits", "description", "caveat") if k in saved.cv},
        "scores": {k: float(saved.scores[k]) for k in CV_SCORES if isinstance(saved.scores.get(k), (int, float))},
    }
    claimed = claimed_level(saved.interval, interval_level)
    used = saved.interval_in_use  # a cv-plus model without its fold models scores by conformal: say that one
    model_info["intervals"] = ({"method": method_of(used), "n_videos": int(saved.interval.get("n_videos", 0)),
                                "level_asked": interval_level, "level_claimed": claimed} if saved.interval else None)
    model_info["unlike_training"] = saved.familiarity.describe() if saved.familiarity is not None else None
    if saved.multi_label:  # a single-label model's JSON stays as it was
        model_info.update({"multi_label": True, "thresholds": dict(saved.thresholds), "none_label": saved.none_label})
    return ScoreResult(videos=videos, classes=list(saved.classes), model_info=model_info, embed_reports=reports,
                       interval_level=interval_level if claimed is None else claimed,
                       interval_note=interval_note(used, interval_level), video_info=video_info,
                       store_path=store_path, inputs=inputs)

