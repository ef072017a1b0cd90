"""screentime command line: each command parses options, calls one library function, prints.

    python cli.py embed VIDEO... --store features.h5
    python cli.py compare-models --store features.h5 --labels labels.csv --out best.joblib
    python cli.py score VIDEO... --model best.joblib --store features.h5
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path

import typer
from rich.console import Console

from classifiers.cv import SPLITS
from classifiers.features import FEATURE_NORMS
from classifiers.metrics import METRICS
from featurestore.embed import POOLINGS
from featurestore.errors import ScreentimeError

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    help="Measure how long each character is on screen: embed videos once, compare classifiers, score new videos.",
)
console = Console(stderr=True)
out = Console()

DEFAULT_STORE = Path("features.h5")



def _choices(name: str, values) -> type[Enum]:
    """An Enum of the library's own list of values, so the CLI cannot drift from what the library accepts."""
    return Enum(name, [(v, v) for v in values], type=str)


Pooling = _choices("Pooling", POOLINGS)
Split = _choices("Split", SPLITS)
Metric = _choices("Metric", METRICS)
FeatureNorm = _choices("FeatureNorm", ("auto", *FEATURE_NORMS))


class RichProgress:
    """One progress bar per video (sampled frames, rate, time left); use as a context manager."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console,
        )
        self._task = None
        self._t0 = 0.0
        self._done = 0

    def __enter__(self) -> "RichProgress":
        self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        self._progress.stop()

    def start(self, video_id: str, total: int | None) -> None:
        import time

        self._task = self._progress.add_task(video_id, total=total, rate="")
        self._t0, self._done = time.perf_counter(), 0

    def advance(self, n: int) -> None:
        import time

        self._done += n
        elapsed = time.perf_counter() - self._t0
        self._progress.update(self._task, advance=n, rate=f"{self._done / elapsed:.1f} frames/s" if elapsed > 0 else "")

    def finish(self) -> None:
        self._progress.update(self._task, total=self._done)


def _show_warnings() -> None:
    """Library warnings become one 'warning: ...' line each on stderr."""
    import warnings

    warnings.showwarning = lambda message, category, *args, **kwargs: console.print(
        f"[yellow]warning:[/] {message}", highlight=False, soft_wrap=True)


@app.command()
def embed(
    videos: list[Path] = typer.Argument(..., help="Video files (mp4, avi, mkv, mov, ...)."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", help="Feature store file (created if missing; shards go to STORE.d/)."),
    fps: float = typer.Option(1.0, "--fps", help="Samples per second of video time: frames on screen at t = 0, 1/fps, 2/fps, ..."),
    weights: str = typer.Option("imagenet", "--weights", "-w", help="'imagenet' (Keras download, cached), 'random' (seeded, not pretrained) or a Keras VGG16 weights file (.weights.h5 or Keras 2 .h5)."),
    pooling: Pooling = typer.Option("avg", "--pooling", help="avg (512 values), max (512) or flatten (7x7x512 = 25088 at 224 px)."),
    image_size: int = typer.Option(224, "--image-size", min=32, help="Frames are resized to this many pixels square before VGG16 (at least 32)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Frames per VGG16 batch."),
    name: list[str] = typer.Option(None, "--name", help="Video id to store under, one per video (default: the file name)."),
    replace: bool = typer.Option(False, "--replace", help="Re-embed a video stored under the same id with other content or another --fps."),
) -> None:
    """Sample VIDEOS by their clock, embed each frame with VGG16 and keep the features in STORE.

    A video already in the store with the same content and settings costs nothing; an interrupted run, started again, resumes where it stopped.
    """
    from featurestore import EmbeddingConfig, embed_videos

    if not fps > 0:
        raise typer.BadParameter(f"{fps} is not a positive rate", param_hint="--fps")
    _show_warnings()
    config = EmbeddingConfig(weights=weights, pooling=pooling.value, image_size_px=image_size)
    if weights == "random":
        console.print("[yellow]warning:[/] --weights random: features are not pretrained (seeded, reproducible)")
    with RichProgress() as progress:
        reports = embed_videos(videos, store, config=config, sample_fps=fps, batch_size=batch_size, names=name or None,
                               replace=replace, progress=progress, on_wait=lambda msg: console.print(msg))
    from classifiers.report import embed_tables

    for renderable in embed_tables(reports, store):
        out.print(renderable)


@app.command("compare-models")
def compare_models_command(
    labels: Path = typer.Option(..., "--labels", "-l", help="Labels CSV: video,start,end,label (intervals [start,end), seconds), video,time,label (points) or the tutorial's Image_ID,Class."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", help="Feature store written by `embed`."),
    out_path: Path = typer.Option(Path("best.joblib"), "--out", "-o", help="Where to save the winner, refitted on all labelled frames (a pickle: share only with people who trust you)."),
    video: str = typer.Option(None, "--video", help="Stored video an Image_ID,Class file describes (frameN.jpg = the frame at N s)."),
    classes: str = typer.Option(None, "--classes", help="Names of the Image_ID,Class class numbers 0,1,2,..., comma-separated [default: 0,1,2]."),
    models: str = typer.Option(None, "--models", "-m", help="Comma-separated subset of the registry [default: all]."),
    folds: int = typer.Option(5, "--folds", "-k", min=2, help="Number of cross-validation folds."),
    split: Split = typer.Option("auto", "--split", help="auto (grouped by video with >= --folds labelled videos, leave-one-video-out with 2 or more, blocks within a single video), grouped, leave-one-video-out, blocks, or shuffled (leaky; needs --allow-leaky-split)."),
    gap_s: float = typer.Option(5.0, "--gap-s", min=0.0, help="Blocks split: training frames within this many seconds of a test block are dropped."),
    allow_leaky_split: bool = typer.Option(False, "--allow-leaky-split", help="Permit --split shuffled, whose scores are optimistic."),
    metric: Metric = typer.Option("macro_f1", "--metric", help="Sort by macro_f1, balanced_accuracy, log_loss or screen_time_error_pct."),
    timeout: float = typer.Option(None, "--timeout", min=0.0, help="Seconds one fold of one model may take to fit; slower models are shown as failed [default: no limit]."),
    report: Path = typer.Option(None, "--report", help="Also write the leaderboard to this .csv or .json file."),
    jobs: int = typer.Option(-1, "--jobs", "-j", help="Processes for the folds (-1: all cores)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the splits and models."),
    feature_norm: FeatureNorm = typer.Option("auto", "--feature-norm", help="Per-video feature normalisation: auto (chosen by cross-validation), none, or center (subtract each video's mean feature)."),
    context: str = typer.Option("auto", "--context-s", help="Temporal context: append each feature's mean and std over +-SECONDS around every sample; auto (chosen by cross-validation from 0, 2, 4) or SECONDS (0: none)."),
) -> None:
    """Compare classifiers on labelled stored frames by leakage-free cross-validation; save the best."""
    from classifiers.compare import compare_models
    from classifiers.registry import MODELS
    from classifiers.report import (REPORT_SUFFIXES, class_table, cv_notes, failure_lines, feature_norm_line, folds_table,
                                    leaderboard_table, write_report)

    model_names = [m.strip() for m in models.split(",") if m.strip()] if models else None
    unknown = [m for m in model_names or [] if m not in MODELS]
    if unknown or model_names == []:
        raise typer.BadParameter(f"{','.join(unknown) or 'nothing'} is not in {','.join(MODELS)}", param_hint="--models")
    if report is not None and report.suffix.lower() not in REPORT_SUFFIXES:
        raise typer.BadParameter(f"{report.name!r} does not end in .csv or .json", param_hint="--report")
    try:
        context_s = "auto" if context.strip().lower() == "auto" else float(context)
    except ValueError:
        context_s = -1.0
    if context_s != "auto" and not context_s >= 0:
        raise typer.BadParameter(f"{context!r} is not auto or a number of seconds >= 0", param_hint="--context-s")
    _show_warnings()
    result = compare_models(
        store, labels, out_path=out_path, models=model_names, video=video,
        classes=[c.strip() for c in classes.split(",")] if classes else None, n_splits=folds, split=split.value, gap_s=gap_s,
        allow_leaky_split=allow_leaky_split, metric=metric.value, timeout_s=timeout, n_jobs=jobs, random_state=seed,
        feature_norm=feature_norm.value, context_s=context_s, on_plan=lambda plan: out.print(folds_table(plan)),
    )
    out.print(feature_norm_line(result))
    out.print(leaderboard_table(result))
    out.print(class_table(result))
    for line in cv_notes(result):
        out.print(line, highlight=False, soft_wrap=True)
    for line in failure_lines(result):
        console.print(f"[red]{line}[/red]", highlight=False)
    if report is not None:
        write_report(result, report)
        out.print(f"leaderboard written to {report}")
    out.print(f"saved {result.best_name} (smoothing {result.best_smoother.name}), refitted on all labelled frames, to {result.model_path}")


@app.command()
def score(
    videos: list[Path] = typer.Argument(..., help="Videos to score (embedded into --store unless already there)."),
    model: Path = typer.Option(Path("best.joblib"), "--model", "-m", help="Model saved by compare-models (a pickle: load only files you trust)."),
    store: Path = typer.Option(DEFAULT_STORE, "--store", "-s", help="Feature store; new videos are embedded into it with the model's settings."),
    fps: float = typer.Option(None, "--fps", help="Samples per second (default: the stored rate, else 1.0)."),
    smooth: str = typer.Option(None, "--smooth", help="Override the model's smoothing: none, median:SECONDS, mean:SECONDS or hmm:SECONDS."),
    weights: str = typer.Option(None, "--weights", "-w", help="Weights file, needed only if the model was trained on features from one."),
    json_path: Path = typer.Option(None, "--json", help="Write the full result (screen time, segments, per-sample probabilities) as JSON."),
    csv_path: Path = typer.Option(None, "--csv", help="Write one row per segment: video,start,end,label,confidence."),
    plot_path: Path = typer.Option(None, "--plot", help="Write a timeline PNG: a band per class over time, probabilities under it."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Frames per VGG16 batch."),
    interval_level: float = typer.Option(0.9, "--interval-level", min=0.01, max=0.99, help="Level of the screen-time intervals, from how wrong whole held-out videos were in cross-validation."),
) -> None:
    """Report each class's screen time in VIDEOS: seconds, share, appearances, first and last appearance."""
    from classifiers.score import score_videos
    from classifiers.smoothing import parse_smoother

    if fps is not None and not fps > 0:
        raise typer.BadParameter(f"{fps} is not a positive rate", param_hint="--fps")
    smoother = None
    if smooth is not None:
        try:
            smoother = parse_smoother(smooth)
        except ValueError as err:
            raise typer.BadParameter(str(err), param_hint="--smooth") from None
    _show_warnings()
    with RichProgress() as progress:
        result = score_videos(videos, model_path=model, store_path=store, sample_fps=fps, smooth=smoother,
                              weights=weights, batch_size=batch_size, progress=progress,
                              on_wait=lambda msg: console.print(msg), interval_level=interval_level)
    from classifiers.report import screen_time_tables
    from classifiers.results import write_outputs

    for table in screen_time_tables(result):
        out.print(table)
    for path in write_outputs(result, json_path=json_path, csv_path=csv_path, plot_path=plot_path):
        console.print(f"wrote {path}")


@app.command()
def demo(
    out_dir: Path = typer.Option(Path("demo_out"), "--out", help="Folder for the generated videos, labels, store and model."),
    weights: str = typer.Option("auto", "--weights", "-w", help="auto (ImageNet if available, else random with a notice), imagenet, random or a weights FILE."),
    duration_s: float = typer.Option(60.0, "--duration-s", min=5.0, help="Length of each generated video, seconds."),
    n_train: int = typer.Option(3, "--train-videos", min=2, help="Labelled training videos."),
    n_test: int = typer.Option(1, "--test-videos", min=1, help="Held-out videos to score."),
    image_size: int = typer.Option(224, "--image-size", help="VGG16 input size in pixels (smaller is faster, less accurate)."),
    quick: bool = typer.Option(False, "--quick", help="Tiny settings for a smoke test: 2 + 1 videos of 20 s, 32 px, two models."),
) -> None:
    """Run the whole job on generated cartoons: embed, compare models, score held-out videos, show the truth."""
    from cartoons.demo import run_demo
    from classifiers.report import feature_norm_line, leaderboard_table, screen_time_tables, truth_tables

    models = None
    if quick:
        duration_s, n_train, n_test, image_size, models = 20.0, 2, 1, 32, ["logreg", "lightgbm"]
    _show_warnings()
    with RichProgress() as progress:
        result = run_demo(out_dir, n_train=n_train, n_test=n_test, duration_s=duration_s, image_size_px=image_size,
                          weights=weights, models=models, progress=progress,
                          on_step=lambda message: console.print(f"[bold cyan]>[/] {message}", highlight=False))
    out.print(feature_norm_line(result.comparison))
    out.print(leaderboard_table(result.comparison))
    for table in screen_time_tables(result.score) + truth_tables(result):
        out.print(table)


@app.callback()
def _root() -> None:
    """Measure how long each character is on screen: embed videos once, compare classifiers, score new videos."""


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a ScreentimeError becomes one line on stderr and exit status 1."""
    try:
        app(args=argv)  # standalone mode: usage errors print themselves and raise SystemExit
    except ScreentimeError as err:
        typer.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main(sys.argv[1:])
