"""The progress bars of long work: embedding's one bar for the collection (this run's rate, the time left); the
steps of compare-models, suggest-labels and cluster, a bar each.

Both implement `featurestore.progress.Progress`; the CLI draws them on stderr.
"""

from __future__ import annotations

import time


class RichProgress:
    """One progress bar per video (samples, this run's rate, time left); use as a context manager.

    On Ctrl-C it says where the run stopped and leaves the bar there; the KeyboardInterrupt goes on (exit 130).
    """

    def __init__(self, console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._console = console
        self._progress = Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"), TimeRemainingColumn(), console=console,
        )
        self._task = None
        self._video_id = ""
        self._total: int | None = None
        self._t0 = 0.0
        self._done = 0  # samples stored for the current video, from earlier runs and this one
        self._new = 0  # samples embedded by this run
        self._running = False
        self._drawn = False

    def __enter__(self) -> "RichProgress":
        return self  # the bar is drawn by the first `start`: work refused before it draws nothing

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._drawn:
            self._progress.stop()
        if exc_type is not None and issubclass(exc_type, KeyboardInterrupt):
            self._console.print(self.interrupted_message(), highlight=False, soft_wrap=True)
            exc.told = True  # the CLI adds no second line

    def interrupted_message(self) -> str:
        """'interrupted at 192/421 of long.mp4; run the same command to resume' (or without a video)."""
        if not self._running:
            return "interrupted; run the same command to resume (videos already embedded are kept)"
        where = f"{self._done}/{self._total}" if self._total else f"{self._done} samples"
        return f"interrupted at {where} of {self._video_id}; run the same command to resume"

    def start(self, video_id: str, total: int | None, n_done: int = 0) -> None:
        self._video_id, self._total, self._done, self._new, self._running = video_id, total, n_done, 0, True
        if not self._drawn:
            self._progress.start()
            self._drawn = True
        # The samples of an earlier run start the bar but add no sample to rich's speed estimate (ETA).
        self._task = self._progress.add_task(video_id, total=total, completed=n_done, rate="")
        self._t0 = time.perf_counter()

    def advance(self, n: int) -> None:
        self._done += n
        self._new += n
        elapsed = time.perf_counter() - self._t0
        rate = f"{self._new / elapsed:.1f} samples/s" if elapsed > 0 else ""
        self._progress.update(self._task, advance=n, rate=rate)

    def finish(self) -> None:
        self._running = False
        self._progress.update(self._task, total=self._done)  # the duration was an estimate: end the bar where it ended


class StepBars:
    """The steps of compare-models, suggest-labels and cluster (`featurestore.progress.step`), a bar each: its
    count, time taken and time left; use as a context manager.

    Each bar is drawn only while its step runs (then left as it ended), so what a command prints between steps
    on stdout (compare-models' folds table) never goes through the bar's display: stdout keeps the results alone.
    Like embed's bar, on a terminal it redraws; elsewhere (a pipe, a log) each step is one line, printed when the
    work is done: a refusal found after some steps is still the one line on stderr.
    """

    def __init__(self, console) -> None:
        self._console = console
        self._progress = None
        self._task = None
        self._ended: list = []  # not on a terminal: the steps' bars, printed once all went well

    def __enter__(self) -> "StepBars":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self._stop()  # an error or Ctrl-C: on a terminal the bar stays where the work stopped, the CLI says why below
        if exc_type is None:
            for ended in self._ended:
                self._console.print(ended.get_renderable())

    def start(self, what: str, total: int | None, n_done: int = 0) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        self._stop()
        self._progress = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=self._console,
                                  redirect_stdout=False)
        self._task = self._progress.add_task(what, total=total, completed=n_done)
        if self._live:  # elsewhere its count is kept, not drawn
            self._progress.start()

    def advance(self, n: int) -> None:
        self._progress.update(self._task, advance=n)

    def finish(self) -> None:
        task = self._progress.tasks[0]
        done = task.completed or task.total or 0  # a one-unit step its block did not count is done: 1/1, not 0/0
        if done:
            self._progress.update(self._task, completed=done, total=done)  # a step that skipped work ends full
        else:  # nothing was there to do (all read before): no bar, no line
            self._progress.remove_task(self._task)
        self._stop()

    @property
    def _live(self) -> bool:
        """Redrawn where a person watches: a terminal, or a Jupyter notebook (rich's console is no terminal there)."""
        return self._console.is_terminal or self._console.is_jupyter

    def _stop(self) -> None:
        if self._progress is not None:
            if self._live:
                self._progress.stop()
            elif self._progress.tasks:
                self._ended.append(self._progress)
            self._progress = None
