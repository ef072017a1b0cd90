"""Embedding a collection on this machine: decoding workers feed one model, batches mix videos, and each
video is checkpointed as its samples come and published once it is whole (`run_local`). With faces, the
workers find them in the frames they decode; a pass for the faces alone runs no network.
"""

from __future__ import annotations

import itertools
import math
import os
import pickle
from collections import deque
from collections.abc import Callable

import numpy as np

from featurestore.errors import VideoUnreadable

from .collection import Candidate, Collection
from .work import VideoWork
from .workers import DecodePool, Job

#: A range is split for an idle worker only if both halves keep at least this much video (a split decodes
#: again from the keyframe before its start).
MIN_SPLIT_S = 20.0
#: Below this much video in all, `workers=None` decodes in a thread of this process (starting processes costs more).
AUTO_PROCESSES_MIN_S = 60.0
_MAX_WORKER_DEATHS = 3


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def choose_workers(workers: int | None, candidates: list[Candidate]) -> int:
    """Decoding processes to use: `workers` if given (0: a thread in this process), else every usable core
    when there is enough video to be worth starting processes for."""
    if workers is not None:
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        return workers
    seconds = sum(c.info.duration_estimate_s for c in candidates if c.status != "stored" and c.info is not None)
    return usable_cores() if seconds >= AUTO_PROCESSES_MIN_S else 0


def _is_picklable(obj) -> bool:
    try:
        pickle.dumps(obj)
        return True
    except Exception:  # noqa: BLE001 -- any failure means: keep it in this process
        return False


def run_local(coll: Collection, *, make_embedder: Callable, batch_size: int, workers: int,
              min_split_s: float = MIN_SPLIT_S) -> None:
    """Decode every pending video of `coll` with `workers` processes, embed in mixed batches, publish each."""
    first = coll.next_work()  # videos stored or copied meanwhile need no model and no decoder
    if first is None and not coll.has_more:
        return
    embedder = preprocessor = None
    needs_features = coll.needs_features or (first is not None and not first.faces_only)
    factory = getattr(make_embedder, "preprocessor_for", None)
    if needs_features and factory is not None:
        preprocessor = factory(coll.config)
    if needs_features and preprocessor is None:
        embedder = _build(make_embedder, coll, batch_size)
        preprocessor = getattr(embedder, "preprocessor", None) or embedder.preprocess
    analysers = coll.faces.factory(processes=True) if coll.faces is not None else None
    processes = workers > 0 and _is_picklable((preprocessor, analysers))
    if coll.faces is not None and not processes:
        analysers = coll.faces.factory(processes=False)  # the thread shares the analyser built here
    n_workers = workers if processes else 1
    threads = max(1, usable_cores() // n_workers) if processes else 0
    pool = DecodePool(n_workers, preprocessor, processes=processes, threads=threads, chunk=max(1, min(batch_size, 8)),
                      make_analyser=analysers)
    pool.start()
    job_ids = itertools.count()
    jobs: deque = deque()  # (work, start, stop) not yet running
    if first is not None:
        jobs.extend((first, a, b) for a, b in first.missing_ranges())
    running: dict[int, VideoWork] = {}
    buffer: deque = deque()  # (work, (index, requested_s, actual_s, n_frames, batch))
    buffered = 0
    deaths = 0
    replans: dict[str, int] = {}

    def submit(slot: int, work: VideoWork, start: int, stop: int | None) -> None:
        job = Job(next(job_ids), work.video_id, str(work.path), work.sample_fps, work.decode, start, stop, work.info,
                  features=not work.faces_only, faces=work.faces is not None)
        running[job.job_id] = work
        work.n_ranges += 1
        pool.submit(slot, job)

    def fill() -> None:
        for slot in pool.idle_slots:
            while not jobs:
                work = coll.next_work(block=not pool.busy and not buffered)
                if work is None:
                    break
                jobs.extend((work, a, b) for a, b in work.missing_ranges())
            while jobs and jobs[0][0].published:
                jobs.popleft()
            if jobs:
                submit(slot, *jobs.popleft())
                continue
            steal(slot)

    def steal(idle: int) -> None:
        """Give `idle` the second half of the running range with the most samples left."""
        best, best_left = None, 0
        for slot, job in pool.busy.items():
            work = running[job.job_id]
            left = pool.control.remaining(slot, _stop_estimate(job, work))
            if left > best_left and not work.published:
                best, best_left = slot, left
        if best is None:
            return
        job = pool.busy[best]
        work = running[job.job_id]
        min_samples = max(1, int(math.ceil(min_split_s * work.sample_fps)))
        cut = pool.control.split(best, _stop_estimate(job, work), min_samples)
        if cut is not None:
            submit(idle, work, *cut)

    def embed_some() -> None:
        nonlocal embedder, buffered
        take, n = [], 0
        while buffer and n < batch_size:
            work, arrays = buffer[0]
            m = len(arrays[0])
            if n + m <= batch_size:
                take.append(buffer.popleft())
                n += m
            else:
                cut = batch_size - n
                take.append((work, tuple(None if a is None else a[:cut] for a in arrays)))
                buffer[0] = (work, tuple(None if a is None else a[cut:] for a in arrays))
                n = batch_size
        buffered -= n
        if embedder is None:
            embedder = _build(make_embedder, coll, batch_size)
        features = embedder.embed(np.concatenate([arrays[4] for _, arrays in take]))
        offset, pieces = 0, {}
        for work, arrays in take:
            m = len(arrays[0])
            pieces.setdefault(id(work), (work, []))[1].append((*arrays[:4], features[offset:offset + m], arrays[5]))
            offset += m
        for work, parts in pieces.values():
            work.in_flight -= sum(len(p[0]) for p in parts)
            if not work.published:
                columns = list(zip(*parts))
                faces = None if columns[5][0] is None else [f for chunk in columns[5] for f in chunk]
                work.add(*(np.concatenate(x) for x in columns[:5]), faces)
                maybe_publish(work)
        coll._advance(n)

    def maybe_publish(work: VideoWork) -> None:
        """Publish a whole video; decode again what a video still lacks once nothing of it is under way."""
        if work.published or work.in_flight:
            return
        if work.is_complete:
            coll.publish(work)
        elif work not in running.values() and all(j[0] is not work for j in jobs):
            replans[work.video_id] = replans.get(work.video_id, 0) + 1
            if replans[work.video_id] > 3:  # the decoder keeps stopping short of samples it announced
                raise VideoUnreadable(f"{work.path}: samples {work.missing_ranges()[:3]} could not be decoded")
            jobs.extend((work, a, b) for a, b in work.missing_ranges())

    try:
        fill()
        if embedder is None and needs_features and (pool.busy or jobs):  # load the model while the workers decode
            embedder = _build(make_embedder, coll, batch_size)
        while pool.busy or jobs or buffered or coll.has_more:
            message = pool.get(timeout=0.02 if buffered else 0.25)
            if message is not None:
                kind, slot, job_id, payload = message
                work = running.get(job_id)
                if kind == "error":
                    raise payload
                if kind == "samples" and work is not None and not work.published and work.faces_only:
                    work.add(*payload[:4], None, payload[5])  # its faces alone: no network
                    coll._advance(len(payload[0]))
                    maybe_publish(work)
                elif kind == "samples" and work is not None and not work.published:
                    buffer.append((work, payload))
                    buffered += len(payload[0])
                    work.in_flight += len(payload[0])
                elif kind == "end":
                    pool.done(slot)
                    running.pop(job_id, None)
                    if work is not None and not work.published:
                        work.range_ended(payload)
                        maybe_publish(work)
            for slot in pool.dead_slots():
                job = pool.busy.pop(slot)
                deaths += 1
                if deaths > _MAX_WORKER_DEATHS:
                    raise VideoUnreadable(f"{job.path}: the decoding process died {deaths} times (near sample {job.start}); "
                                          "the file may crash FFmpeg: embed it alone with --workers 0 to see")
                jobs.appendleft((running.pop(job.job_id), job.start, job.stop))
            if buffered >= batch_size or (buffered and not pool.busy and not jobs):
                embed_some()
            fill()
    finally:
        pool.close()
    coll.device = getattr(embedder, "device", coll.device)


def _stop_estimate(job: Job, work: VideoWork) -> int:
    return job.stop if job.stop is not None else max(work.estimated_total, job.start + 1)


def _build(make_embedder: Callable, coll: Collection, batch_size: int):
    takes = getattr(make_embedder, "takes_batch_size", False)
    embedder = make_embedder(coll.config, batch_size=batch_size) if takes else make_embedder(coll.config)
    coll.describe(embedder)
    return embedder
