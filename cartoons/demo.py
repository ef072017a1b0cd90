"""The whole job on generated cartoons, offline: make videos, embed, compare models, score held-out videos.

Used by `python cli.py demo`; the truth is known exactly, so the screen time can be printed next to it.
It writes what `score` writes (JSON, segments CSV, timeline PNG, the HTML report and WebVTT subtitles beside
the held-out videos), so every file a user will meet is there.
The cartoons have scenes with tom and jerry together, labelled one line per character per interval, and
the demo trains a multi-label model (issue 11): each character's time counts when they share the screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from cartoons.synthetic import make_dataset, true_presence, true_screen_time, write_interval_labels
from classifiers.compare import ComparisonResult, compare_models
from classifiers.output.score_files import write_outputs
from classifiers.score import ScoreResult, score_videos
from featurestore.embedding.auto import resolve_auto
from featurestore.embedding.config import EmbeddingConfig
from featurestore.embedding.runtime import build_embedder
from featurestore.pipeline import embed_videos

#: `quick=True`: tiny settings for a smoke test (2 + 1 videos of 20 s, 96 px: a pretrained backbone reads little at 32,
#: two models, a sample a second; the normalisation chosen by cross-validation: 20 samples are too few to scale by).
QUICK = {"duration_s": 20.0, "n_train": 2, "n_test": 1, "image_size_px": 96, "models": ["logreg", "lightgbm"], "sample_fps": 1.0,
         "train_duration_s": 20.0, "feature_norm": "auto"}
#: Samples per second of the demo's videos. Two, not `embed`'s default one: on held-out cartoons of 6 seeds (bench/demo_seeds.py,
#: docs/backbones.md) twice the labelled samples and a finer clock lowered the mean error of the worse character.
SAMPLE_FPS = 2.0
#: The demo's labelled cartoons (one per training room: all four), each `TRAIN_DURATION_FACTOR` times as long as the
#: held-out ones, and the per-video normalisation it trains with: on the held-out cartoons of seeds 1-8
#: (bench/demo_seeds.py, docs/backbones.md) four rooms, twice the labelled shots per room and features scaled per video
#: ("standardize") held both characters within 5% on 5 of 8 seeds, against 2 of 8 before (3 rooms, 60 s, auto).
N_TRAIN = 4
TRAIN_DURATION_FACTOR = 2.0
FEATURE_NORM = "standardize"


@dataclass
class DemoResult:
    """What the demo made and measured; `truth[video][label]` is the true screen time in seconds (multi-label:
    per character, "together" and "neither"; `cartoons.synthetic.true_presence`).

    `weights` is the store's weights identity ('imagenet', 'imagenet:sha256:...', 'random:seed=0', 'sha256:...');
    `weights_arg` what to pass as --weights to use them again, `backbone` the network. `outputs` maps 'json', 'csv', 'plot' and 'report' to the files
written, and 'vtt' to the folder of the held-out videos' subtitles.
    """

    out_dir: Path
    weights: str
    comparison: ComparisonResult
    score: ScoreResult
    truth: dict[str, dict[str, float]]
    weights_arg: str = "random"
    backbone: str = "vgg16"
    labels_path: Path | None = None
    store_path: Path | None = None
    model_path: Path | None = None
    train_videos: list[Path] = field(default_factory=list)
    test_videos: list[Path] = field(default_factory=list)
    outputs: dict[str, Path] = field(default_factory=dict)
    faces: bool = False  # the faces demo (`cartoons.demo_faces`): its commands take --faces


def demo_sizes(base: dict, n_train, n_test, duration_s, image_size_px) -> tuple[int, int, float, int]:
    """(n_train, n_test, duration_s, image_size_px): each as given, else `base`'s (a demo's defaults, or its QUICK
    settings), else 1 held-out video of 60 s at 224 px."""
    base = {"n_test": 1, "duration_s": 60.0, "image_size_px": 224, **base}
    given = {"n_train": n_train, "n_test": n_test, "duration_s": duration_s, "image_size_px": image_size_px}
    return tuple(base[k] if v is None else v for k, v in given.items())


def demo_store_path(out_dir: Path, prefix: str, config, image_size_px: int) -> Path:
    """The demo's store: named by backbone, weights, input size and pooling (when not 'avg'), so runs with other features
    never share one."""
    pooling = "" if getattr(config, "pooling", "avg") == "avg" else f"-{config.pooling}"
    return out_dir / f"{prefix}-{config.backbone}-{config.identity()['weights'].split(':')[0]}-{image_size_px}px{pooling}.h5"


def write_demo_outputs(score, out_dir: Path) -> dict[str, Path]:
    """Everything `score` writes, in `out_dir` (subtitles beside the videos); what -> path."""
    outputs = {"json": out_dir / "result.json", "csv": out_dir / "segments.csv", "plot": out_dir / "timeline.png",
               "report": out_dir / "report.html", "vtt": out_dir / "videos"}
    write_outputs(score, json_path=outputs["json"], csv_path=outputs["csv"], plot_path=outputs["plot"],
                  report_path=outputs["report"], vtt_path=outputs["vtt"])
    return outputs


def run_demo(
    out_dir: str | Path,
    *,
    n_train: int | None = None,
    n_test: int | None = None,
    duration_s: float | None = None,
    image_size_px: int | None = None,
    weights: str = "auto",
    backbone: str | None = None,
    models: list[str] | None = None,
    n_splits: int = 3,
    progress=None,
    on_step: Callable[[str], None] = lambda message: None,
    on_plan: Callable | None = None,
    multi_label: bool = True,
    quick: bool = False,
    seed: int = 0,
    sample_fps: float = SAMPLE_FPS,
    pooling: str = "avg",
    train_duration_s: float | None = None,
    feature_norm: str = FEATURE_NORM,
) -> DemoResult:
    """Generate `n_train` labelled and `n_test` held-out cartoons in `out_dir`, then embed, compare, score.

    Parameters
    ----------
    weights : str
        'auto' (`featurestore.embedding.auto`): ImageNet VGG16 when Keras has them cached or can download them,
        else a pretrained backbone installed with screentime (said through `on_step`); otherwise as
        `embed --weights` ('random': seeded, not pretrained).
    backbone : str, optional
        As `embed --backbone` (default: vgg16, or what 'auto' finds).
    duration_s : float
        Length of each held-out video, in seconds.
    train_duration_s : float or None
        Length of each labelled video (None: `TRAIN_DURATION_FACTOR` × `duration_s`).
    feature_norm : str
        compare-models' per-video normalisation (`FEATURE_NORM`; "auto": chosen by cross-validation).
    pooling : str
        How the backbone's map becomes one vector ('avg', 'max'; `embed --pooling`).
    multi_label : bool
        True (the default): cartoons with shared scenes, labels with one line per character per interval,
        a multi-label model. False: the single-label demo (one class per shot, no shared scenes).
    n_train, n_test, duration_s, image_size_px : optional
        Labelled and held-out cartoons, the held-out ones' length (s), the network's input (px); None: the demo's
        (`N_TRAIN`, 1, 60 s, 224 px), or `QUICK`'s with `quick`.
    quick : bool
        `QUICK`'s tiny settings (a smoke test) for what is not given.
    seed : int
        The cartoons' seed (`cartoons.synthetic.make_dataset`): 0 is the demo's; benches try others
        (`bench/demo_seeds.py`), so that a change is judged on more than one held-out cartoon.
    sample_fps : float
        Samples per second of every video (`SAMPLE_FPS`); the held-out videos are scored at the model's rate.
    """
    n_train, n_test, duration_s, image_size_px = demo_sizes(QUICK if quick else {"n_train": N_TRAIN}, n_train, n_test,
                                                            duration_s, image_size_px)
    if quick:
        models, sample_fps, train_duration_s, feature_norm = (
            QUICK[k] for k in ("models", "sample_fps", "train_duration_s", "feature_norm"))
    out_dir = Path(out_dir)
    train_s = TRAIN_DURATION_FACTOR * duration_s if train_duration_s is None else train_duration_s
    on_step(f"generating {n_train} training cartoons of {train_s:g} s and {n_test} held-out cartoon{'s' if n_test != 1 else ''} "
            f"of {duration_s:g} s in {out_dir}")
    train, test = make_dataset(out_dir / "videos", n_train=n_train, n_test=n_test, duration_s=duration_s,
                               shared=multi_label, seed=seed, train_duration_s=train_s)
    labels_path = write_interval_labels(out_dir / "labels.csv", train, multi_label=multi_label)

    embedder = demo_embedder(weights, image_size_px, on_step, backbone, pooling=pooling)
    config = embedder.config
    if config.weights == "random":
        on_step(f"NOTICE: {config.backbone} runs with seeded RANDOM weights: features are not pretrained, accuracy is lower")
    store_path = demo_store_path(out_dir, "features", config, image_size_px)
    on_step(f"embedding the training videos, {sample_fps:g} samples/s, with {config.backbone} ({config.weights} weights) into {store_path} "
            f"({embedder.device})")
    embed_videos([v.path for v in train], store_path, config=config, sample_fps=sample_fps, progress=progress,
                 make_embedder=lambda _: embedder)

    on_step("comparing models by cross-validation grouped by video"
            + (", one classifier per character (multi-label)" if multi_label else ""))
    model_path = out_dir / "best.skops"
    comparison = compare_models(store_path, labels_path, out_path=model_path, models=models, feature_norm=feature_norm,
                                n_splits=min(n_splits, n_train), on_plan=on_plan, multi_label=multi_label)

    on_step(f"scoring the held-out video{'s' if n_test != 1 else ''} with {comparison.best_name} (smoothing {comparison.best_smoother.name})")
    score = score_videos([v.path for v in test], model_path=model_path, store_path=store_path,
                         weights=config.weights, progress=progress, make_embedder=lambda _: embedder)
    outputs = write_demo_outputs(score, out_dir)
    truth = {v.path.name: true_presence(v) if multi_label else true_screen_time(v) for v in test}
    return DemoResult(out_dir, config.identity()["weights"], comparison, score, truth, weights_arg=config.weights,
                      backbone=config.backbone,
                      labels_path=labels_path, store_path=store_path, model_path=model_path,
                      train_videos=[v.path for v in train], test_videos=[v.path for v in test], outputs=outputs)


def demo_embedder(weights: str, image_size_px: int, on_step: Callable[[str], None], backbone: str | None = None,
                  pooling: str = "avg"):
    """The embedder of the demos (`weights` and `backbone` as `run_demo` takes them): with 'auto', ImageNet VGG16
    where it can be had, else a pretrained backbone that ships in a package; says through `on_step` what it chose."""
    if weights == "auto":
        choice = resolve_auto(backbone)
        if choice.note:
            on_step(f"NOTICE: {choice.note}")
        weights, backbone = choice.weights, choice.backbone
    config = EmbeddingConfig(weights=weights, image_size_px=image_size_px, backbone=backbone or "vgg16", pooling=pooling)
    build_embedder.check(config)  # ImageNet VGG16 not cached: downloaded now, with a progress bar
    return build_embedder(config)
