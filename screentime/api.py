"""The Python API: the functions the command line calls, for notebooks and scripts (issue 18).

    import screentime
    screentime.embed(["ep1.mp4", "ep2.mp4"], store="features.h5")
    best = screentime.compare_models("features.h5", "labels.csv", out="best.skops")
    result = screentime.score(["ep3.mp4"], model="best.skops", store="features.h5")
    frames = result.to_pandas()      # samples, segments, characters, videos, totals

Errors are the command line's (`featurestore.errors`: a `ScreentimeError` names the file and the problem;
`InvalidParameter` names the parameter). Parameters are checked at the door (`screentime.params`): a value of the
wrong type raises `InvalidParameterType` (also a TypeError), one out of range `InvalidParameter` (a ValueError),
before any work; an empty list of videos is refused. Progress bars are off unless ``progress=True`` (on stderr).
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from . import params as check
from .results import Clusters, Comparison, EmbedResult, Score

PathLike = str | os.PathLike


def embed(paths: PathLike | Sequence[PathLike], *, store: PathLike = "features.h5", fps: float = 1.0,
          weights: str | None = None, pooling: str | None = None, image_size_px: int | None = None,
          precision: str | None = None, runtime: str | None = None, batch_size: int = 32,
          names: list[str] | None = None, replace: bool = False, workers: int | None = None,
          decode: str | None = None, progress: bool = False, backbone: str | None = None, faces: bool = False,
          face_min_score: float | None = None, face_min_size_px: float | None = None, ids: str = "name") -> EmbedResult:
    """Embed videos (files, or folders of them) into the feature store, as `screentime embed`; with `faces`,
    their faces too (`embed --faces`; read them with `FeatureStore.faces(video)`).

    Settings not given are the store's own, else the defaults (`weights`: 'auto', 'imagenet', 'random' or a
    weights file; `backbone`: 'vgg16', 'squeezenet', 'efficientnet-lite0', 'mobilenet-v2'). A video already stored costs nothing. Returns one report per video (`EmbedResult.to_pandas()`).
    Videos are stored under `names`, else their file names (`ids='name'`) or their paths as given (`ids='path'`).
    """
    from featurestore.pipeline import check_embed_paths, embed_videos, resolve_embedding_config, resolve_face_config
    from featurestore.video.paths import expand_folders

    paths, store = check.paths("paths", paths), check.path("store", store)
    fps = check.number("fps", fps, low=0.0, above_low=True)
    weights = _weights(weights)
    pooling, precision, runtime, decode = (check.text(p, v, optional=True) for p, v in
                                           (("pooling", pooling), ("precision", precision), ("runtime", runtime),
                                            ("decode", decode)))
    image_size_px = check.number("image_size_px", image_size_px, low=32, integer=True, optional=True)
    batch_size = check.number("batch_size", batch_size, low=1, integer=True)
    names = check.texts("names", names, optional=True)
    replace, progress = check.flag("replace", replace), check.flag("progress", progress)
    workers = check.number("workers", workers, low=0, integer=True, optional=True)
    videos = expand_folders(_paths(paths))
    check_embed_paths(videos, store, weights)
    config = resolve_embedding_config(store, weights=weights, pooling=pooling, image_size_px=image_size_px,
                                      precision=precision, runtime=runtime, backbone=backbone)
    face_config = resolve_face_config(store, min_score=face_min_score, min_size_px=face_min_size_px) if faces else None
    with _progress(progress) as bar:
        reports = embed_videos(videos, store, config=config, sample_fps=fps, batch_size=batch_size,
                               names=names, ids=ids, replace=replace, progress=bar, workers=workers, decode=decode,
                               faces=face_config)
    return EmbedResult(reports, Path(store))


def compare_models(store: PathLike, labels: PathLike | Sequence[PathLike], *, out: PathLike | None = "best.skops",
                   models: str | Sequence[str] | None = None, folds: int = 5, split: str = "auto",
                   multi_label: bool = False, none_label: str | None = None, metric: str = "macro_f1",
                   feature_norm: str = "auto", context_s: float | str = "auto", report: PathLike | None = None,
                   video: str | None = None, classes: str | list[str] | None = None, n_jobs: int = -1,
                   seed: int = 0, progress: bool = False, **options) -> Comparison:
    """Compare classifiers by cross-validation on the labelled stored frames and save the winner to `out`
    (None: save nothing), as `screentime compare-models`. `options` go to `classifiers.compare.compare_models`.
    """
    from classifiers.compare import compare_models as compare

    store, out, report = check.path("store", store), check.path("out", out, optional=True), \
        check.path("report", report, optional=True)
    labels = check.paths("labels", labels, what="labels file")
    labels = labels[0] if len(labels) == 1 else labels
    models = check.texts("models", models, optional=True, one=True)
    folds = check.number("folds", folds, low=2, integer=True)
    split, metric, feature_norm = check.text("split", split), check.text("metric", metric), \
        check.text("feature_norm", feature_norm)
    multi_label = check.flag("multi_label", multi_label)
    none_label, video = check.text("none_label", none_label, optional=True), check.text("video", video, optional=True)
    if context_s != "auto":
        context_s = check.number("context_s", context_s, low=0.0)
    classes = check.texts("classes", classes, optional=True, one=True)
    n_jobs = check.number("n_jobs", n_jobs, low=-math.inf, integer=True)
    seed, progress = check.number("seed", seed, low=0, high=2**32 - 1, integer=True), check.flag("progress", progress)
    with _progress(progress, steps=True) as bar:
        return Comparison(compare(store, labels, out_path=out, report_path=report, models=models, video=video,
                                  classes=classes, n_splits=folds, split=split, metric=metric, n_jobs=n_jobs,
                                  random_state=seed, feature_norm=feature_norm, context_s=context_s,
                                  multi_label=multi_label, none_label=none_label, progress=bar, **options))


def score(paths: PathLike | Sequence[PathLike], *, model: PathLike = "best.skops", store: PathLike | None = None,
          fps: float | None = None, smooth: str | None = None, weights: str | None = None,
          names: list[str] | None = None, replace: bool = False, batch_size: int = 32,
          interval_level: float = 0.9, progress: bool = False, faces: bool = False, ids: str = "name") -> Score:
    """Screen time per class of each video (files, folders, or stored names whose file is gone), as
    `screentime score`: new videos are embedded into `store` with the model's settings (default: the store the
    model was trained on; features.h5 for model files that do not name theirs).

    New videos are stored under `names`, else their file names (`ids='name'`) or their paths as given (`ids='path'`).
    With `faces`, a face model scores the videos' faces (``score --faces``). Returns a `Score`: ``.to_pandas()``
    (samples, segments, characters, videos, totals), ``.to_json()`` (the ``--json`` document),
    ``.write(report="r.html", vtt="subs/")`` for the files `score` writes.
    """
    from classifiers.score import score_videos
    from featurestore.video.paths import expand_folders

    paths, model, store = check.paths("paths", paths), check.path("model", model), check.path("store", store, optional=True)
    fps = check.number("fps", fps, low=0.0, above_low=True, optional=True)
    if not hasattr(smooth, "transform"):  # a Smoother is taken as it is
        smooth = check.text("smooth", smooth, optional=True)
    weights, names = _weights(weights), check.texts("names", names, optional=True)
    replace, progress = check.flag("replace", replace), check.flag("progress", progress)
    batch_size = check.number("batch_size", batch_size, low=1, integer=True)
    interval_level = check.number("interval_level", interval_level, low=0.0, high=1.0, above_low=True, below_high=True)
    videos = expand_folders(_paths(paths))
    with _progress(progress) as bar:
        result = score_videos(videos, model_path=model, store_path=store, sample_fps=fps, smooth=smooth, weights=weights,
                              batch_size=batch_size, names=names, ids=ids, replace=replace,
                              progress=bar, interval_level=interval_level, faces=faces)
    return Score(result)


def cluster(store: PathLike, *, out: PathLike = "clusters.csv", faces: bool = False,
            videos: Sequence[str] | None = None, labels: PathLike | Sequence[PathLike] | None = None,
            threshold: float | None = None, label_studio: PathLike | None = None,
            video_dir: PathLike | None = None, progress: bool = False) -> Clusters:
    """Group the stored videos' faces (`faces`: face tracks, `embed --faces`) or shots so that a person names each
    group once, as `screentime cluster`: writes `out` (clusters.csv), its members file and its page
    (clusters.html) beside it, and with `label_studio` a Label Studio task per cluster. `labels` already given
    leave their faces out and suggest names. Returns `Clusters`: ``.to_pandas()`` (one row per cluster, as
    clusters.csv), ``.members_to_pandas()`` (one row per face or shot), ``.paths`` (the files written)."""
    from classifiers.cluster import cluster_store

    store, out = check.path("store", store), check.path("out", out)
    label_studio = check.path("label_studio", label_studio, optional=True)
    video_dir = check.path("video_dir", video_dir, optional=True)
    labels = [] if labels is None else [check.path("labels", p) for p in _paths(labels)]
    videos = check.texts("videos", videos, optional=True, empty=False)  # [] clustered every video
    faces = check.flag("faces", faces)
    threshold = check.number("threshold", threshold, low=0.0, above_low=True, optional=True)
    with _progress(check.flag("progress", progress), steps=True) as bar:
        return Clusters(cluster_store(store, out, faces=faces, videos=videos, labels_paths=labels, threshold=threshold,
                                      label_studio_path=label_studio, video_dir=video_dir, progress=bar))


def _paths(paths) -> list:
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def _weights(weights) -> str | None:
    """'imagenet', 'random' or a weights file (a path is taken as its str)."""
    if isinstance(weights, os.PathLike):
        return os.fspath(check.path("weights", weights))
    return check.text("weights", weights, optional=True)


@contextmanager
def _progress(wanted: bool, steps: bool = False):
    """Embedding's bar (`steps`: a bar per step, `StepBars`) on stderr, or None."""
    if not wanted:
        yield None
        return
    from rich.console import Console

    from classifiers.output.progress import RichProgress, StepBars

    with (StepBars if steps else RichProgress)(Console(stderr=True)) as bar:
        yield bar
