"""screentime command line: each command parses options, calls one library function, prints.

    python cli.py embed VIDEO... --store features.h5
    python cli.py compare-models --store features.h5 --labels labels.csv --out best.joblib
    python cli.py score VIDEO... --model best.joblib --store features.h5
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.console import Console

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
    pooling: str = typer.Option("avg", "--pooling", help="avg (512 values), max (512) or flatten (7x7x512 = 25088 at 224 px)."),
    image_size: int = typer.Option(224, "--image-size", help="Frames are resized to this many pixels square before VGG16 (at least 32)."),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Frames per VGG16 batch."),
    name: list[str] = typer.Option(None, "--name", help="Video id to store under, one per video (default: the file name)."),
    replace: bool = typer.Option(False, "--replace", help="Re-embed a video stored under the same id with other content or another --fps."),
) -> None:
    """Sample VIDEOS by their clock, embed each frame with VGG16 and keep the features in STORE.

    A video already in the store with the same content and settings costs nothing; an interrupted run, started again, resumes where it stopped.
    """
    from featurestore import EmbeddingConfig, embed_videos

    if pooling not in ("avg", "max", "flatten"):
        raise typer.BadParameter(f"{pooling!r} is not one of avg, max, flatten", param_hint="--pooling")
    if image_size < 32:
        raise typer.BadParameter(f"{image_size} is below 32", param_hint="--image-size")
    if not fps > 0:
        raise typer.BadParameter(f"{fps} is not a positive rate", param_hint="--fps")
    _show_warnings()
    config = EmbeddingConfig(weights=weights, pooling=pooling, image_size_px=image_size)
    if weights == "random":
        console.print("[yellow]warning:[/] --weights random: features are not pretrained (seeded, reproducible)")
    with RichProgress() as progress:
        reports = embed_videos(videos, store, config=config, sample_fps=fps, batch_size=batch_size, names=name or None,
                               replace=replace, progress=progress, on_wait=lambda msg: console.print(msg))
    print_embed_table(reports, store)


def print_embed_table(reports, store: Path) -> None:
    from rich.table import Table

    table = Table(title=f"embedded into {store}")
    for col, justify in (("video", "left"), ("status", "left"), ("samples", "right"), ("duration s", "right"),
                         ("new samples", "right"), ("frames/s", "right"), ("device", "left")):
        table.add_column(col, justify=justify)
    for r in reports:
        status = "stored before" if r.status == "stored" else r.status
        if r.warning:
            status += " (incomplete)"
        table.add_row(r.video_id, status, str(r.n_samples), f"{r.duration_s:.1f}", str(r.n_embedded),
                      f"{r.frames_per_s:.1f}" if r.n_embedded else "-", r.device or "-")
    out.print(table)
    n_stored = sum(r.status == "stored" for r in reports)
    if n_stored:
        out.print(f"{n_stored} of {len(reports)} videos were already in {store} with the same content and settings: no decoding, no inference.")


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
