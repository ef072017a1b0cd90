"""The Python API: the functions the command line calls, for notebooks and scripts (issue 18).

    import screentime
    screentime.embed(["ep1.mp4", "ep2.mp4"], store="features.h5")
    best = screentime.compare_models("features.h5", "labels.csv", out="best.skops")
    result = screentime.score(["ep3.mp4"], model="best.skops", store="features.h5")
    frames = result.to_pandas()      # samples, segments, characters, videos, totals

Errors are the command line's (`featurestore.errors`: a `ScreentimeError` names the file and the problem;
`InvalidParameter` names the parameter). Progress bars are off unless ``progress=True`` (drawn on stderr).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Sequence

from .results import Comparison, EmbedResult, Score

PathLike = str | os.PathLike


def embed(paths: PathLike | Sequence[PathLike], *, store: PathLike = "features.h5", fps: float = 1.0,
          weights: str | None = None, pooling: str | None = None, image_size_px: int | None = None,
          precision: str | None = None, runtime: str | None = None, batch_size: int = 32,
          names: list[str] | None = None, replace: bool = False, workers: int | None = None,
          decode: str | None = None, progress: bool = False) -> EmbedResult:
    """Embed videos (files, or folders of them) into the feature store, as `screentime embed`.

    Settings not given are the store's own, else the defaults (`weights`: 'imagenet', 'random' or a weights
    file). A video already stored costs nothing. Returns one report per video (`EmbedResult.to_pandas()`).
    """
    from featurestore.pipeline import check_embed_paths, embed_videos, resolve_embedding_config
    from featurestore.video.paths import expand_folders

    videos = expand_folders(_paths(paths))
    check_embed_paths(videos, store, weights)
    config = resolve_embedding_config(store, weights=weights, pooling=pooling, image_size_px=image_size_px,
                                      precision=precision, runtime=runtime)
    with _progress(progress) as bar:
        reports = embed_videos(videos, store, config=config, sample_fps=fps, batch_size=batch_size,
                               names=names, replace=replace, progress=bar, workers=workers, decode=decode)
    return EmbedResult(reports, Path(store))


def compare_models(store: PathLike, labels: PathLike | Sequence[PathLike], *, out: PathLike | None = "best.skops",
                   models: str | Sequence[str] | None = None, folds: int = 5, split: str = "auto",
                   multi_label: bool = False, none_label: str | None = None, metric: str = "macro_f1",
                   feature_norm: str = "auto", context_s: float | str = "auto", report: PathLike | None = None,
                   video: str | None = None, classes: str | list[str] | None = None, n_jobs: int = -1,
                   seed: int = 0, **options) -> Comparison:
    """Compare classifiers by cross-validation on the labelled stored frames and save the winner to `out`
    (None: save nothing), as `screentime compare-models`. `options` go to `classifiers.compare.compare_models`.
    """
    from classifiers.compare import compare_models as compare

    return Comparison(compare(store, labels, out_path=out, report_path=report, models=models, video=video,
                              classes=classes, n_splits=folds, split=split, metric=metric, n_jobs=n_jobs,
                              random_state=seed, feature_norm=feature_norm, context_s=context_s,
                              multi_label=multi_label, none_label=none_label, **options))


def score(paths: PathLike | Sequence[PathLike], *, model: PathLike = "best.skops", store: PathLike | None = None,
          fps: float | None = None, smooth: str | None = None, weights: str | None = None,
          names: list[str] | None = None, replace: bool = False, batch_size: int = 32,
          interval_level: float = 0.9, progress: bool = False) -> Score:
    """Screen time per class of each video (files, folders, or stored names whose file is gone), as
    `screentime score`: new videos are embedded into `store` with the model's settings (default: the store the
    model was trained on; features.h5 for model files that do not name theirs).

    Returns a `Score`: ``.to_pandas()`` (samples, segments, characters, videos, totals), ``.to_json()`` (the ``--json`` document),
    ``.write(report="r.html", vtt="subs/")`` for the files `score` writes.
    """
    from classifiers.score import score_videos
    from featurestore.video.paths import expand_folders

    with _progress(progress) as bar:
        result = score_videos(expand_folders(_paths(paths)), model_path=model, store_path=store, sample_fps=fps,
                              smooth=smooth, weights=weights, batch_size=batch_size, names=names, replace=replace,
                              progress=bar, interval_level=interval_level)
    return Score(result)


def _paths(paths) -> list:
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


@contextmanager
def _progress(wanted: bool):
    if not wanted:
        yield None
        return
    from rich.console import Console

    from classifiers.output.progress import RichProgress

    with RichProgress(Console(stderr=True)) as bar:
        yield bar
