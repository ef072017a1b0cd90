"""The videos of one embedding run: which need work, each held under its lock while it is in flight (so two
`embed` processes never embed the same video at once), and published once whole.

`run_local` (local.py) and `run_ray` (cluster.py) both run a `Collection`.
"""

from __future__ import annotations

import math
import warnings
from collections import deque
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass

from featurestore.errors import EmbedWarning, StoreFull
from featurestore.store.layout import video_lock_name
from featurestore.video.reader import VideoInfo

from .work import EmbedReport, VideoWork, checkpoint_for


@dataclass
class Candidate:
    """A video the caller asked for, checked against the store: status 'new', 'replaced', 'stored' or 'faces'
    (stored, its faces to find)."""

    video_id: str
    path: object
    fingerprint: str
    sample_fps: float
    decode: str
    status: str
    info: VideoInfo | None  # None: not probed yet (a byte-identical copy of a stored video)


class Collection:
    """The videos of one `embed_videos` call: activated one by one, each under its lock, until published.

    Parameters
    ----------
    recheck : callable(Candidate) -> str or EmbedReport
        Once the video's lock is held: 'new' or 'replaced' to embed it, or the report of a video that needs
        no embedding any more (stored by another process meanwhile, copied from a byte-identical one).
    on_stored : callable(Candidate), optional
        Told of each video this run stores.
    faces : FaceAnalysis, optional
        Find the faces of every video too (`embed --faces`).
    """

    def __init__(self, store, candidates: list[Candidate], config, *, recheck: Callable, progress=None,
                 on_wait: Callable[[str], None] | None = None, on_stored: Callable | None = None, faces=None):
        self.store, self.config, self.recheck, self.progress, self.on_wait = store, config, recheck, progress, on_wait
        self.on_stored, self.faces = on_stored, faces
        self.current = ""  # a video in progress, for messages
        self._active: dict[str, VideoWork] = {}
        self._candidates: dict[str, Candidate] = {}
        self.reports: dict[str, EmbedReport] = {}
        self.pending: deque[Candidate] = deque()
        self.deferred: list[Candidate] = []
        self._locks: dict[str, ExitStack] = {}
        self.device = self.backend = self.runtime = ""
        self.calibration = ""
        self._hw_warned = False
        for cand in candidates:
            if cand.status == "stored":
                self._report_stored(cand)
            else:
                self.pending.append(cand)
        self.total = sum(_estimate(c) for c in self.pending)
        self._bar: tuple | None = None  # the bar's (label, total, samples done), drawn when a video is decoded
        if self.progress and self.pending:
            names = [c.video_id for c in self.pending]
            n_done = sum(checkpoint_for(store, c.video_id, c.fingerprint, config, c.sample_fps, c.decode, faces,
                                        c.status == "faces").n_samples() for c in self.pending)
            self._bar = (names[0] if len(names) == 1 else f"{len(names)} videos", self.total, n_done)

    def _draw_bar(self) -> None:
        """Start the progress bar once something is decoded: copies and stored videos alone draw none (an instant
        bar costs more than the copy itself; issue 27)."""
        if self._bar is not None:
            self.progress.start(*self._bar)
            self._bar = None

    @property
    def has_more(self) -> bool:
        return bool(self.pending or self.deferred)

    @property
    def needs_features(self) -> bool:
        """Whether a video to do needs the network (not only its faces found)."""
        return any(c.status != "faces" for c in (*self.pending, *self.deferred)) or any(
            not w.faces_only for w in self._active.values())

    def _report_stored(self, cand: Candidate) -> None:
        n_faces = len(self.store.faces(cand.video_id)) if self.faces is not None else None
        self.reports[cand.video_id] = EmbedReport.stored(cand.video_id, cand.path, self.store.info(cand.video_id), n_faces)

    def next_work(self, block: bool = False) -> VideoWork | None:
        """Activate the next video that needs decoding; None when there is none (or only locked ones, unless
        `block`). Videos whose checkpoints already hold every sample are published on the way."""
        while self.pending or (block and self.deferred):
            waiting = not self.pending
            cand = self.pending.popleft() if self.pending else self.deferred.pop(0)
            stack = ExitStack()
            if not stack.enter_context(self.store.lock(video_lock_name(cand.video_id), blocking=False, remove=True)):
                stack.close()
                if not waiting:
                    self.deferred.append(cand)  # another process is on it: come back when nothing else is left
                    continue
                if self.on_wait:
                    self.on_wait(f"waiting for another screentime process embedding {cand.video_id!r} into {self.store.path}")
                stack.enter_context(self.store.lock(video_lock_name(cand.video_id), remove=True))
            try:
                status = self.recheck(cand)
            except BaseException:
                stack.close()
                raise
            if isinstance(status, EmbedReport):  # stored meanwhile, or copied: nothing to decode
                stack.close()
                self.reports[cand.video_id] = status
                if status.status == "copied" and self.on_stored:
                    self.on_stored(cand)
                self._advance(_estimate(cand))
                continue
            self._locks[cand.video_id] = stack
            self.current = cand.video_id
            if cand.info is None:  # its copy failed: it is embedded after all
                from featurestore.video.pyav import probe

                cand.info = probe(cand.path)
            work = VideoWork(self.store, cand.video_id, cand.path, cand.fingerprint, self.config, cand.sample_fps,
                             cand.decode, status, cand.info, self.faces)
            work.find_cuts()
            self._active[cand.video_id] = work
            self._candidates[cand.video_id] = cand
            if work.is_complete:
                self.publish(work)
                continue
            self._draw_bar()
            return work
        return None

    def _advance(self, n: int) -> None:
        if self.progress and n and self._bar is not None:  # not drawn yet: what is done starts the bar there
            label, total, n_done = self._bar
            self._bar = (label, total, n_done + n)
        elif self.progress and n:
            self.progress.advance(n)

    def publish(self, work: VideoWork) -> None:
        self.current = work.video_id
        try:
            self.reports[work.video_id] = work.publish(self.device, self.backend, self.runtime, self.calibration)
        except StoreFull:
            raise  # stays in flight, under its lock, so that `clear_checkpoints` removes its checkpoint too
        except BaseException:
            self._done(work)
            raise
        self._done(work)
        if self.on_stored:
            self.on_stored(self._candidates[work.video_id])
        if work.hw_error and not self._hw_warned:
            self._hw_warned = True
            warnings.warn(f"--decode hw: NVDEC could not decode {work.path} ({work.hw_error}); decoded in software "
                          "(frames as --decode exact)", EmbedWarning, stacklevel=3)
        if work.deinterlace_error:
            warnings.warn(f"{work.path}: interlaced frames could not be deinterlaced ({work.deinterlace_error}); stored "
                          "as decoded, two fields woven: moving faces and features are less reliable", EmbedWarning,
                          stacklevel=3)

    def _done(self, work: VideoWork) -> None:
        """`work` is out of flight: published, or failed for good; its lock released."""
        work.published = True
        self._active.pop(work.video_id, None)
        stack = self._locks.pop(work.video_id, None)
        if stack is not None:
            stack.close()

    def describe(self, embedder) -> None:
        """Record what embeds: its device, Keras backend (or 'openvino'), runtime and int8 calibration."""
        self.device = getattr(embedder, "device", "")
        self.backend = getattr(embedder, "backend", "")
        self.runtime = getattr(embedder, "runtime", "")
        self.calibration = getattr(embedder, "calibration", "")

    def clear_checkpoints(self) -> int:
        """Delete the checkpoints of the videos in flight (the disk is full); returns the bytes freed."""
        freed = 0
        for work in self._active.values():
            freed += work.checkpoint.size_bytes()
            work.checkpoint.clear()
        return freed

    def finish(self) -> None:
        """Every video is stored: end the progress bar (after an exception it stays where the run stopped)."""
        if self.progress and self.total and self._bar is None:
            self.progress.finish()

    def close(self) -> None:
        """Release the locks of the videos still in flight."""
        for stack in self._locks.values():
            stack.close()
        self._locks.clear()


def _estimate(cand: Candidate) -> int:
    estimate = cand.info.duration_estimate_s if cand.info is not None else 0.0
    return max(1, int(math.ceil(estimate * cand.sample_fps - 1e-9))) if estimate > 0 else 1
