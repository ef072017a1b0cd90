"""Embedding on a Ray cluster: one task per video or time range, decoded and embedded wherever Ray has a CPU
(and a share of a GPU); each task returns its features (~2 KB a sample) -- and with faces, the faces it found
in the frames it decoded -- to this process, which checkpoints them and writes the store, so the cluster needs
no shared filesystem.

A task whose worker dies is retried by Ray; an interrupted command resumes from its checkpoints like a local
run. Ray is optional: ``pip install -e '.[ray]'``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np

from featurestore.errors import ClusterUnavailable, ScreentimeError

from .collection import Collection
from .work import VideoWork
from .workers import Job, decode_range

#: A task decodes at most this much video, so results stay small and an interrupted run loses little.
MAX_TASK_S = 600.0
TASK_RETRIES = 3
_EMBEDDERS: dict = {}  # per Ray worker process: the model stays loaded between tasks
_ANALYSERS: dict = {}  # per Ray worker process: the face analyser, likewise
_OWNER_VAR = "SCREENTIME_RAY_OWNER"
# Waits for the command to end (its stdin closes, even after kill -9), then kills every process of the local Ray
# cluster it started: those that inherited the owner mark in their environment, and Ray's agents, which get a
# fresh environment but keep files open in the cluster's session folder (sent on stdin once it exists).
_REAPER = """
import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
command = os.getppid()
session = sys.stdin.buffer.read().decode().strip()
mark = ("%s=" % sys.argv[1] + sys.argv[2]).encode()
for pid in os.listdir("/proc"):
    if not pid.isdigit() or int(pid) in (os.getpid(), command):
        continue
    try:
        with open("/proc/%s/environ" % pid, "rb") as fh:
            ours = mark in fh.read().split(b"\\0")
        if not ours and session:
            fds = "/proc/%s/fd" % pid
            ours = any(os.readlink(os.path.join(fds, fd)).startswith(session + "/") for fd in os.listdir(fds))
        if ours:
            os.kill(int(pid), signal.SIGKILL)
    except OSError:
        pass
"""


def import_ray():
    try:
        import ray
    except ImportError:
        raise ClusterUnavailable("--ray needs Ray, which is not installed: pip install -e '.[ray]'") from None
    return ray


def connect(address: str):
    """Start ('local') or join ('auto', 'ray://host:port', 'host:port') a Ray cluster; returns the ray module.

    A Ray already initialised in this process (a notebook, a test) is used as it is.
    """
    if address == "local" and sys.platform.startswith("linux") and "ray" not in sys.modules:
        _start_reaper()  # before Ray is imported: it copies the environment its processes get then
    ray = import_ray()
    if ray.is_initialized():
        return ray
    env = {"env_vars": {"KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "tensorflow"),
                        "XLA_PYTHON_CLIENT_PREALLOCATE": "false", "TF_FORCE_GPU_ALLOW_GROWTH": "true"}}
    if address != "local":  # other machines get this package's code from here (their Python has the libraries)
        import featurestore

        env["py_modules"] = [featurestore]
    try:
        ray.init(address=address, runtime_env=env, include_dashboard=False, log_to_driver=False,
                 configure_logging=True, logging_level="error")
    except (ConnectionError, RuntimeError, ValueError) as err:
        raise ClusterUnavailable(f"--ray {address}: cannot reach a Ray cluster ({str(err).splitlines()[0][:120]}); "
                                 "start one with `ray start --head` and pass --ray auto, or use --ray local") from None
    reaper_fd = getattr(_start_reaper, "fd", None)
    if reaper_fd is not None:
        try:
            os.write(reaper_fd, ray._private.worker._global_node.get_session_dir_path().encode() + b"\n")
        except (AttributeError, OSError):  # a Ray without that private handle: the environment mark still works
            pass
    return ray


def _start_reaper() -> None:
    """Make sure the local cluster this command starts dies with it, kill -9 included."""
    mark = uuid.uuid4().hex
    read_end, write_end = os.pipe()  # not inherited by Ray's processes; the kernel closes it when we exit
    subprocess.Popen([sys.executable, "-c", _REAPER, _OWNER_VAR, mark], stdin=read_end, stdout=subprocess.DEVNULL,
                     stderr=subprocess.DEVNULL, start_new_session=True)
    os.close(read_end)
    os.environ[_OWNER_VAR] = mark  # inherited by every Ray process started from here on
    _start_reaper.fd = write_end


def plan_ranges(work: VideoWork, piece_samples: int) -> list[tuple[int, int | None]]:
    """The video's missing samples as ranges of about `piece_samples` (the last one open-ended)."""
    pieces = []
    estimated = work.estimated_total
    for start, stop in work.missing_ranges():
        end = stop if stop is not None else max(estimated, start + 1)
        cuts = list(range(start, end, max(1, piece_samples)))[1:]
        bounds = [start, *cuts]
        for a, b in zip(bounds, [*cuts, stop]):
            pieces.append((a, b))
    return pieces


def run_ray(coll: Collection, *, address: str, batch_size: int, min_split_s: float) -> None:
    """Embed every pending video of `coll` with Ray tasks; publish each video once all its ranges are back."""
    ray = connect(address)
    resources = ray.cluster_resources()
    cpus, gpus = max(1, int(resources.get("CPU", 1))), resources.get("GPU", 0.0)
    options = {"num_cpus": 1, "max_retries": TASK_RETRIES}
    if gpus:
        options["num_gpus"] = gpus / cpus  # every CPU slot may run a task; they share the GPUs
    task = ray.remote(_embed_range).options(**options)
    weights_ref = None
    if Path(str(coll.config.weights)).is_file():  # a weights file travels with the tasks
        weights_ref = ray.put(Path(coll.config.weights).read_bytes())
    faces = None if coll.faces is None else (coll.faces.config, coll.faces.make_analyser)
    while True:  # videos another process holds come last, one at a time
        works = []
        while (work := coll.next_work()) is not None:
            works.append(work)
        if not works and coll.has_more and (work := coll.next_work(block=True)) is not None:
            works.append(work)
        if not works:
            return
        _run_round(ray, task, coll, works, cpus=cpus, batch_size=batch_size, min_split_s=min_split_s,
                   weights_ref=weights_ref, faces=faces)


def _run_round(ray, task, coll: Collection, works: list[VideoWork], *, cpus: int, batch_size: int, min_split_s: float,
               weights_ref, faces) -> None:
    config, refs, job_ids = coll.config, {}, 0
    total_s = sum(w.estimated_total / w.sample_fps for w in works)
    piece_s = min(MAX_TASK_S, max(min_split_s, total_s / (2 * cpus)))

    def submit(work: VideoWork, start: int, stop: int | None) -> None:
        nonlocal job_ids
        job = Job(job_ids, work.video_id, str(work.path.resolve()), work.sample_fps, work.decode, start, stop, work.info,
                  features=not work.faces_only, faces=work.faces is not None)
        job_ids += 1
        refs[task.remote(job, config, weights_ref, batch_size, faces)] = (job, work)
        work.n_ranges += 1

    for work in works:
        for start, stop in plan_ranges(work, int(math.ceil(piece_s * work.sample_fps))):
            submit(work, start, stop)
    try:
        while refs:
            ready, _ = ray.wait(list(refs), num_returns=1)
            job, work = refs.pop(ready[0])
            try:
                result = ray.get(ready[0])
            except ray.exceptions.RayTaskError as err:
                cause = getattr(err, "cause", None)
                if isinstance(cause, ScreentimeError):
                    raise cause from None
                raise
            if job.features:
                coll.device, coll.backend = result["device"], result["backend"]
                coll.runtime, coll.calibration = result["runtime"], result["calibration"]
            if result["index"].size:
                work.add(result["index"], result["requested_s"], result["actual_s"], result["n_frames"],
                         result["features"] if job.features else None, result["faces"])
                coll._advance(int(result["index"].size))
            work.range_ended(result["end"])
            if work.is_complete and not work.published:
                coll.publish(work)
            elif not any(w is work for _, w in refs.values()) and not work.published:
                for start, stop in work.missing_ranges():  # the estimate was short: the rest of the video
                    submit(work, start, stop)
    finally:
        for ref in refs:
            ray.cancel(ref, force=True)


def _embed_range(job: Job, config, weights_blob, batch_size: int, faces=None) -> dict:
    """Ray task: decode and embed one range (with `faces`, (FaceConfig, analyser factory), find their faces too);
    returns its samples, features, faces and how the range ended."""
    embedder = _embedder(config, weights_blob, batch_size) if job.features else None
    parts = []

    def emit(index, requested_s, actual_s, n_frames, batch, frame_faces):
        features = embedder.embed(batch) if embedder is not None else batch
        parts.append((index, requested_s, actual_s, n_frames, features, frame_faces))

    preprocessor = None if embedder is None else getattr(embedder, "preprocessor", None) or embedder.preprocess
    end = decode_range(job, preprocessor, emit, threads=1, chunk=batch_size,
                       analyser=None if faces is None else lambda: _analyser(*faces))
    if parts:
        index, requested, actual, n_frames, features = (np.concatenate([p[i] for p in parts]) for i in range(5))
    else:
        index, n_frames = np.zeros(0, np.int64), np.zeros(0, np.int64)
        requested = actual = np.zeros(0)
        features = np.zeros((0, config.n_features if job.features else 0), np.float32)
    return {"index": index, "requested_s": requested, "actual_s": actual, "n_frames": n_frames, "features": features,
            "faces": [f for p in parts for f in p[5]] if job.faces else None,
            "end": end, "device": f"{getattr(embedder, 'device', '')} on {os.uname().nodename}",
            "backend": getattr(embedder, "backend", ""), "runtime": getattr(embedder, "runtime", ""),
            "calibration": getattr(embedder, "calibration", "")}


def _analyser(config, make_analyser):
    key = json.dumps(dataclasses.asdict(config), sort_keys=True, default=str)
    if key not in _ANALYSERS:
        _ANALYSERS[key] = make_analyser(config)
    return _ANALYSERS[key]


def _embedder(config, weights_blob, batch_size: int):
    key = (config, batch_size)
    if key not in _EMBEDDERS:
        import cv2

        cv2.setNumThreads(1)
        if weights_blob is not None and not Path(str(config.weights)).is_file():
            digest = hashlib.sha256(weights_blob).hexdigest()[:16]
            path = Path(tempfile.gettempdir()) / f"screentime-{digest}-{Path(str(config.weights)).name}"
            if not path.exists():
                path.write_bytes(weights_blob)
            from dataclasses import replace

            config = replace(config, weights=str(path), weights_id=config.weights_id)
        from featurestore.embedding.runtime import build_embedder

        _EMBEDDERS[key] = build_embedder(config, batch_size=batch_size)
    return _EMBEDDERS[key]
