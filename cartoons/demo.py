"""The whole job on generated cartoons, offline: make videos, embed, compare models, score held-out videos.

Used by `python cli.py demo`; the truth is known exactly, so the screen time can be printed next to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from classifiers.compare import ComparisonResult, compare_models
from classifiers.score import ScoreResult, score_videos
from featurestore.embed import EmbeddingConfig, VGG16Embedder
from featurestore.errors import WeightsUnavailable
from featurestore.pipeline import embed_videos
from cartoons.synthetic import make_dataset, true_screen_time, write_interval_labels


@dataclass
class DemoResult:
    """What the demo made and measured; `truth[video][label]` is the true screen time in seconds."""

    out_dir: Path
    weights: str
    comparison: ComparisonResult
    score: ScoreResult
    truth: dict[str, dict[str, float]]


def run_demo(
    out_dir: str | Path,
    *,
    n_train: int = 3,
    n_test: int = 1,
    duration_s: float = 60.0,
    image_size_px: int = 224,
    weights: str = "auto",
    models: list[str] | None = None,
    n_splits: int = 3,
    progress=None,
    on_step: Callable[[str], None] = lambda message: None,
    on_plan: Callable | None = None,
) -> DemoResult:
    """Generate `n_train` labelled and `n_test` held-out cartoons in `out_dir`, then embed, compare, score.

    Parameters
    ----------
    weights : str
        'auto' tries ImageNet and falls back to seeded random weights (with a notice through `on_step`);
        otherwise as `embed --weights`.
    duration_s : float
        Length of each generated video, in seconds (sampled at 1 frame/s).
    """
    out_dir = Path(out_dir)
    on_step(f"generating {n_train} training and {n_test} held-out cartoons of {duration_s:g} s in {out_dir}")
    train, test = make_dataset(out_dir / "videos", n_train=n_train, n_test=n_test, duration_s=duration_s)
    labels_path = write_interval_labels(out_dir / "labels.csv", train)

    embedder = _embedder(weights, image_size_px, on_step)
    config = embedder.config
    if config.weights == "random":
        on_step("NOTICE: VGG16 runs with seeded RANDOM weights: features are not pretrained, accuracy is lower")
    store_path = out_dir / f"features-{config.identity()['weights'].split(':')[0]}-{image_size_px}px.h5"
    on_step(f"embedding the training videos into {store_path} ({embedder.device})")
    embed_videos([v.path for v in train], store_path, config=config, progress=progress, make_embedder=lambda _: embedder)

    on_step("comparing models by cross-validation grouped by video")
    comparison = compare_models(store_path, labels_path, out_path=out_dir / "best.joblib", models=models,
                                n_splits=min(n_splits, n_train), on_plan=on_plan)

    on_step(f"scoring the held-out videos with {comparison.best_name} (smoothing {comparison.best_smoother.name})")
    score = score_videos([v.path for v in test], model_path=out_dir / "best.joblib", store_path=store_path,
                         weights=config.weights, progress=progress, make_embedder=lambda _: embedder)
    truth = {v.path.name: true_screen_time(v) for v in test}
    return DemoResult(out_dir, config.identity()["weights"], comparison, score, truth)


def _embedder(weights: str, image_size_px: int, on_step: Callable[[str], None]) -> VGG16Embedder:
    if weights != "auto":
        return VGG16Embedder(EmbeddingConfig(weights=weights, image_size_px=image_size_px))
    try:
        return VGG16Embedder(EmbeddingConfig(weights="imagenet", image_size_px=image_size_px))
    except WeightsUnavailable:
        on_step("ImageNet weights are not available offline; falling back to random weights "
                "(pass --weights FILE for pretrained ones)")
        return VGG16Embedder(EmbeddingConfig(weights="random", image_size_px=image_size_px))
