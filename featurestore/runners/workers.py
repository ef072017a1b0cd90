"""Decoding workers: processes (or one thread) that decode time ranges of videos and preprocess the sampled
frames -- and with `embed --faces` find the faces in each at full resolution -- streaming them to the one process
that runs the model and writes the store.

A worker's range can be cut short while it runs (`Control.split`): an idle worker then takes the rest, so
one long film keeps every core busy. A range decoded in pieces gives the same samples as one decoder would
(see featurestore/video/pyav.py).
"""

from __future__ import annotations

import ctypes
import os
import queue
import signal
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from featurestore.errors import ScreentimeError, WorkersUnstartable
from featurestore.video.reader import VideoInfo

from .work import RangeEnd

_NO_STOP = 2**62


@dataclass(frozen=True)
class Job:
    """Decode samples [start, stop) of one video (stop None: to the end of the video); `features`: preprocess the
    frames for the network, `faces`: analyse their faces."""

    job_id: int
    video_id: str
    path: str
    sample_fps: float
    decode: str
    start: int
    stop: int | None
    info: VideoInfo | None = None  # what probing the file said (the pipeline probed it once): not probed again
    features: bool = True
    faces: bool = False


def decode_range(job: Job, preprocessor: Callable | None, emit: Callable, *, threads: int = 0,
                 may_emit: Callable[[int], bool] | None = None, chunk: int = 8,
                 analyser: Callable[[], object] | None = None) -> RangeEnd:
    """Decode `job`'s range and call `emit(index, requested_s, actual_s, n_frames, batch, faces)` every `chunk`
    samples: `batch` the preprocessed frames ((n, 0) without `job.features`), `faces` a FrameFaces per sample
    from the analyser `analyser()` gives (None without `job.faces`).

    `may_emit(k)` is asked before sample k is kept; False ends the range there (another worker takes the rest).
    Returns where the range stopped and what the decoder saw.
    """
    from featurestore.video.aspect import square_pixels
    from featurestore.video.pyav import AvVideoReader

    reader = AvVideoReader(job.path, decode=job.decode, threads=threads, info=job.info)
    samples = reader.sample(job.sample_fps, job.start, job.stop)
    buf, faces, next_index, cut = [], [], job.start, False
    preprocessor = preprocessor if job.features else None
    analyse = analyser().analyse if job.faces else None
    try:
        for s in samples:
            if may_emit is not None and not may_emit(s.index):
                cut = True
                break
            buf.append(s)
            if analyse is not None:  # faces keep their shape: anamorphic frames as players show them
                faces.append(analyse(square_pixels(s.frame, reader.info.pixel_aspect)))
            next_index = s.index + 1
            if len(buf) >= chunk:
                emit(*_pack(buf, preprocessor), faces if analyse is not None else None)
                buf, faces = [], []
    finally:
        samples.close()
    if buf:
        emit(*_pack(buf, preprocessor), faces if analyse is not None else None)
    return RangeEnd(next_index, reader.reached_end and not cut, reader.end_s, reader.n_decode_errors,
                    reader.frames_decoded, reader.decoder, reader.hw_error, reader.deinterlace_error)


def _pack(buf, preprocessor):
    batch = np.asarray(preprocessor([s.frame for s in buf])) if preprocessor is not None else np.zeros((len(buf), 0), np.float32)
    return (np.array([s.index for s in buf], np.int64), np.array([s.requested_s for s in buf]),
            np.array([s.actual_s for s in buf]), np.array([s.n_frames for s in buf], np.int64), batch)


class Control:
    """Per-worker range bounds shared with the workers: the next sample each may keep, and where it must stop."""

    def __init__(self, n_slots: int, ctx=None):
        self.n = n_slots
        if ctx is None:
            self._values = [0] * (2 * n_slots)
            self._lock = threading.Lock()
        else:
            self._values = ctx.Array("q", 2 * n_slots, lock=True)
            self._lock = self._values.get_lock()

    def start(self, slot: int, job: Job) -> None:
        with self._lock:
            self._values[slot] = job.start
            self._values[self.n + slot] = _NO_STOP if job.stop is None else job.stop

    def may_emit(self, slot: int, k: int) -> bool:
        with self._lock:
            if k >= self._values[self.n + slot]:
                return False
            self._values[slot] = k + 1
            return True

    def split(self, slot: int, estimated_stop: int, min_samples: int) -> tuple[int, int | None] | None:
        """Cut the range running in `slot` in two; returns the second half (start, stop) for another worker."""
        with self._lock:
            position, stop = self._values[slot], self._values[self.n + slot]
            end = min(stop, estimated_stop)
            if end - position < 2 * min_samples:
                return None
            cut = position + (end - position) // 2
            self._values[self.n + slot] = cut
            return cut, (None if stop == _NO_STOP else stop)

    def stop_all(self) -> None:
        with self._lock:
            for slot in range(self.n):
                self._values[self.n + slot] = 0

    def remaining(self, slot: int, estimated_stop: int) -> int:
        with self._lock:
            return min(self._values[self.n + slot], estimated_stop) - self._values[slot]


def _run_jobs(slot: int, jobs, results, control: Control, preprocessor, threads: int, chunk: int,
              make_analyser: Callable | None = None) -> None:
    """A worker's loop: take jobs until None; report samples, the end of each range, or the error. The face
    analyser is built by `make_analyser()` once, for the first job that analyses faces."""
    built = []

    def analyser():
        if not built:
            built.append(make_analyser())
        return built[0]

    while True:
        job = jobs.get()
        if job is None:
            return
        try:
            end = decode_range(job, preprocessor, lambda *arrays: results.put(("samples", slot, job.job_id, arrays)),
                               threads=threads, may_emit=lambda k: control.may_emit(slot, k), chunk=chunk,
                               analyser=analyser)
            results.put(("end", slot, job.job_id, end))
        except ScreentimeError as err:
            results.put(("error", slot, job.job_id, err))
        except Exception as err:  # noqa: BLE001 -- sent to the main process, which raises it with this traceback
            results.put(("error", slot, job.job_id, RuntimeError(f"{type(err).__name__}: {err}\n{traceback.format_exc()}")))


def _process_main(slot, jobs, results, control, preprocessor, threads, chunk, make_analyser) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle; it stops us
    _die_with_parent()
    import cv2

    cv2.setNumThreads(1)  # one core per worker: resizing must not oversubscribe the machine
    _run_jobs(slot, jobs, results, control, preprocessor, threads, chunk, make_analyser)


def _die_with_parent() -> None:
    """Linux: be killed when the main process dies, even by kill -9 (no orphan decoders left running)."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() == 1:
        os._exit(0)


class DecodePool:
    """`n_workers` decoding processes (or, with processes=False, one thread in this process).

    Messages from `get`: ('samples', slot, job_id, (index, requested_s, actual_s, n_frames, batch, faces)),
    ('end', slot, job_id, RangeEnd) and ('error', slot, job_id, exception). `make_analyser()` gives a worker
    its face analyser (built once per worker, for the first job with faces).
    """

    def __init__(self, n_workers: int, preprocessor: Callable | None, *, processes: bool = True, threads: int = 0,
                 chunk: int = 8, make_analyser: Callable | None = None):
        self.processes = processes and n_workers > 0
        self.n = max(1, n_workers)
        self.preprocessor, self.threads, self.chunk = preprocessor, threads, chunk
        self.make_analyser = make_analyser
        if self.processes:
            import multiprocessing as mp

            self._ctx = mp.get_context("spawn")  # the main process runs TensorFlow/JAX threads: never fork it
            self.control = Control(self.n, self._ctx)
            self._results = self._ctx.Queue(maxsize=4 * self.n)
        else:
            self._ctx = None
            self.control = Control(self.n)
            self._results = queue.Queue(maxsize=4)
        self._jobs: list = []
        self._workers: list = []
        self.busy: dict[int, Job] = {}
        self._heard: set[int] = set()  # slots whose current process has sent a message

    def start(self) -> "DecodePool":
        for slot in range(self.n):
            self._start_worker(slot)
        return self

    def _start_worker(self, slot: int) -> None:
        if self.processes:
            jobs = self._ctx.Queue()
            worker = self._ctx.Process(target=_process_main, name=f"screentime-decode-{slot}", daemon=True,
                                       args=(slot, jobs, self._results, self.control, self.preprocessor,
                                             self.threads, self.chunk, self.make_analyser))
        else:
            jobs = queue.Queue()
            worker = threading.Thread(target=_run_jobs, name=f"decode-{slot}", daemon=True,
                                      args=(slot, jobs, self._results, self.control, self.preprocessor,
                                            self.threads, self.chunk, self.make_analyser))
        worker.start()
        self._heard.discard(slot)
        if slot < len(self._workers):
            self._jobs[slot], self._workers[slot] = jobs, worker
        else:
            self._jobs.append(jobs)
            self._workers.append(worker)

    @property
    def idle_slots(self) -> list[int]:
        return [slot for slot in range(self.n) if slot not in self.busy]

    def submit(self, slot: int, job: Job) -> None:
        self.control.start(slot, job)
        self.busy[slot] = job
        self._jobs[slot].put(job)

    def done(self, slot: int) -> None:
        self.busy.pop(slot, None)

    def get(self, timeout: float):
        """The next message, or None after `timeout` seconds."""
        try:
            message = self._results.get(timeout=timeout)
        except queue.Empty:
            return None
        self._heard.add(message[1])
        return message

    def dead_slots(self) -> list[int]:
        """Busy workers whose process died (killed, crashed); they are restarted, their job is lost.

        A process that exited with a Python error status (not killed by a signal, as FFmpeg crashing or
        kill -9 would) before sending anything did not get to decode: `WorkersUnstartable`, since restarting it
        would fail alike. One that had decoded is restarted like any other.
        """
        dead = [slot for slot in list(self.busy) if not self._workers[slot].is_alive()]
        for slot in dead:
            status = getattr(self._workers[slot], "exitcode", None)
            # messages still queued may be its own: then it had started, and is restarted (a second death is judged anew)
            if status is not None and status > 0 and slot not in self._heard and self._results.empty():
                raise WorkersUnstartable(
                    f"a decoding process exited with status {status} before decoding (its Python error is above on "
                    "stderr); if screentime is called from a script, put the calls under "
                    "`if __name__ == \"__main__\":` (each decoding process is started by running the script "
                    "again), or decode in this process with workers=0 (--workers 0)")
            self._start_worker(slot)
        return dead

    def close(self) -> None:
        """Stop every worker (a running range ends at its next sample) and release the queues."""
        self.control.stop_all()
        for jobs in self._jobs:
            try:
                jobs.put(None)
            except (OSError, ValueError):
                pass
        if self.processes:
            for worker in self._workers:
                worker.join(timeout=0.5)
                if worker.is_alive():
                    worker.terminate()
                    worker.join(timeout=5)
            self._results.cancel_join_thread()
            self._results.close()
            return
        for worker in self._workers:  # a thread blocked on a full queue needs the queue drained to see the stop
            while worker.is_alive():
                self.get(timeout=0.05)
                worker.join(timeout=0.05)
