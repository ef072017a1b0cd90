"""What long work reports while it runs: the `Progress` protocol (the CLI draws it with rich) and `step`, one
counted step of it (compare-models' fits, cluster's tracks), or nothing when no one is watching.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Progress(Protocol):
    """What embed_videos (and compare-models, suggest-labels, cluster) report while they work.

    Embedding draws one bar for the whole collection: `start` once with the videos' name (one video's id, else
    'N videos'), the estimated number of samples to store (None if unknown) and `n_done`, the samples interrupted
    earlier runs already checkpointed (not embedded now: a rate must not count them); `advance` by the samples of
    each batch once they are checkpointed; `finish` when every video is stored. An exception (Ctrl-C) leaves the
    count where it stopped, at the samples a rerun keeps. Other work calls `start` once per `step`.
    """

    def start(self, video_id: str, total: int | None, n_done: int = 0) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


Advance = Callable[..., None]  # advance(n=1)


def _nothing(n: int = 1) -> None:
    pass


@contextmanager
def step(progress: Progress | None, what: str, total: int | None) -> Iterator[Advance]:
    """One step of long work shown on `progress` as `what`, `total` units (None: unknown); yields ``advance(n=1)``.

    The step is finished when the block ends without an error (an error leaves the count where it stopped); with
    `progress` None it shows nothing and ``advance`` does nothing.
    """
    if progress is None:
        yield _nothing
        return
    progress.start(what, total)

    def advance(n: int = 1) -> None:
        progress.advance(n)

    yield advance
    progress.finish()
