"""embed_videos: sample, embed and store videos, once each.

Decoding (with resizing and preprocessing) runs in a producer thread that feeds batches to the model
through a short queue, so decoding and inference overlap; both release the GIL.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .checkpoint import Checkpoint
from .embed import EmbeddingConfig, VGG16Embedder
from .errors import StoreMismatch, VideoUnreadable
from .provenance import library_versions
from .sampling import check_sample_fps
from .store import FeatureStore
from .video import Cv2VideoReader, check_video_path, fingerprint


EMBED_LIBRARIES = ("numpy", "opencv-python-headless", "h5py", "tensorflow", "keras")  # recorded with each video


class EmbedWarning(UserWarning):
    """Something was embedded, but not all of it (e.g. a truncated video)."""


class Embedder(Protocol):
    device: str

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray: ...
    def embed(self, batch: np.ndarray) -> np.ndarray: ...


class Progress(Protocol):
    """What embed_videos reports while it works (the CLI draws it with rich).

    Per video: `start` with the estimated number of samples (None if unknown) and `n_done`, the samples
    an interrupted earlier run already checkpointed (not embedded now: a rate must not count them);
    `advance` by the samples of each batch once they are checkpointed; `finish` only when the video is
    stored. An exception (Ctrl-C) leaves the count where it stopped, at the samples a rerun keeps.
    """

    def start(self, video_id: str, total: int | None, n_done: int = 0) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


@dataclass
class EmbedReport:
    """Outcome for one video: status is 'new' (embedded now), 'resumed', 'replaced' or 'stored' (nothing to do)."""

    video_id: str
    path: str
    status: str
    n_samples: int
    duration_s: float
    wall_s: float = 0.0
    n_embedded: int = 0  # samples that went through the network in this run
    device: str = ""
    warning: str = ""

    @property
    def frames_per_s(self) -> float:
        """Sampled frames embedded per second of wall time in this run (not the video's frame rate)."""
        return self.n_embedded / self.wall_s if self.wall_s > 0 else 0.0


def embed_videos(
    paths: list[str | os.PathLike],
    store_path: str | os.PathLike,
    *,
    config: EmbeddingConfig | None = None,
    sample_fps: float | None = 1.0,
    batch_size: int = 32,
    names: list[str] | None = None,
    replace: bool = False,
    progress: Progress | None = None,
    make_embedder: Callable[[EmbeddingConfig], Embedder] = VGG16Embedder,
    on_wait: Callable[[str], None] | None = None,
) -> list[EmbedReport]:
    """Embed each video into the store at `store_path`, skipping those already stored.

    Parameters
    ----------
    paths : list of path-like
        Video files. All are checked before any work starts.
    config : EmbeddingConfig
        Weights, pooling and input size; must match the store's (one config per store).
    sample_fps : float or None
        Samples per second of video time: frames on screen at t = 0, 1/sample_fps, ... None: the rate a
        video is already stored at (same content), else 1.0.
    names : list of str, optional
        Video ids, one per path; default: each file's name.
    replace : bool
        Re-embed a video whose id is stored with other content or another sample rate (else StoreMismatch).

    Returns
    -------
    list of EmbedReport, one per path, in order.
    """
    config = config or EmbeddingConfig()
    sample_fps = None if sample_fps is None else check_sample_fps(sample_fps)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    paths = [check_video_path(p) for p in paths]
    ids = list(names) if names else [p.name for p in paths]
    if len(ids) != len(paths):
        raise ValueError(f"got {len(ids)} names for {len(paths)} videos; give one --name per video")
    seen: dict[str, Path] = {}
    for video_id, path in zip(ids, paths):
        if not video_id.strip():
            raise VideoUnreadable(f"{path}: the video id is empty; pass a non-empty --name")
        if video_id in seen and seen[video_id].resolve() != path.resolve():
            raise StoreMismatch(f"{path}: has the same id {video_id!r} as {seen[video_id]}; give each a distinct --name")
        seen[video_id] = path

    store = FeatureStore(store_path, mode="a", config=config.identity())
    fingerprints = {p: fingerprint(p) for p in paths}
    rates = {video_id: _rate(store, video_id, fingerprints[path], sample_fps) for video_id, path in zip(ids, paths)}
    for video_id, path in zip(ids, paths):  # refuse conflicts before spending any time
        _check_conflict(store, video_id, path, fingerprints[path], rates[video_id], replace)
    for path in paths:
        Cv2VideoReader(path)  # opens each once: an unreadable file fails now, not after hours

    embedder: Embedder | None = None
    reports = []
    done: set[str] = set()
    for video_id, path in zip(ids, paths):
        if video_id in done:
            continue
        done.add(video_id)
        lock_name = hashlib.sha1(video_id.encode()).hexdigest()[:16] + ".lock"
        with store.lock(lock_name, blocking=False) as held:
            if not held:
                if on_wait:
                    on_wait(f"waiting for another screentime process embedding {video_id!r} into {store.path}")
        with store.lock(lock_name):
            status = _check_conflict(store, video_id, path, fingerprints[path], rates[video_id], replace)
            if status == "stored":
                info = store.info(video_id)
                reports.append(EmbedReport(video_id, str(path), "stored", info["n_samples"], info["duration_s"]))
                continue
            if embedder is None:
                embedder = make_embedder(config)
            reports.append(_embed_one(store, embedder, video_id, path, fingerprints[path], config, rates[video_id],
                                      batch_size, status, progress))
    return reports


def _rate(store: FeatureStore, video_id: str, fp: str, sample_fps: float | None) -> float:
    """`sample_fps`, or when it is None the rate `video_id` is stored at with the same content, else 1.0."""
    if sample_fps is not None:
        return sample_fps
    if video_id in store:
        info = store.info(video_id)
        if info.get("fingerprint") == fp:
            return float(info["sample_fps"])
    return 1.0


def _check_conflict(store: FeatureStore, video_id: str, path: Path, fp: str, sample_fps: float, replace: bool) -> str:
    """'new', 'stored' (same content and rate: nothing to do) or 'replaced'; StoreMismatch if not allowed."""
    if video_id not in store:
        return "new"
    info = store.info(video_id)
    same_content = info.get("fingerprint") == fp
    same_rate = abs(float(info.get("sample_fps", -1)) - sample_fps) < 1e-9
    if same_content and same_rate:
        return "stored"
    if not replace:
        if not same_content:
            raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} with other content (stored from "
                                f"{info.get('source_path')}); pass --replace to re-embed it or --name to store it under another id")
        stored_fps = float(info.get("sample_fps", 0))
        raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} at {stored_fps!r} samples/s, this run asks for "
                            f"{sample_fps!r}; pass --fps {stored_fps:g} to use the stored samples, --replace to re-embed "
                            f"it at {sample_fps:g} samples/s, or --name to store it under another id")
    return "replaced"


def _embed_one(store, embedder, video_id, path, fp, config, sample_fps, batch_size, status, progress) -> EmbedReport:
    reader = Cv2VideoReader(path)
    meta = {"video_id": video_id, "fingerprint": fp, "config": config.identity(), "sample_fps": sample_fps}
    ckpt = Checkpoint(store.shard_dir / (hashlib.sha1(video_id.encode()).hexdigest()[:16] + ".part"), meta)
    previous = ckpt.load()
    start_index = 0 if previous is None else len(previous[0])
    if previous is not None and status == "new":
        status = "resumed"
    estimate = reader.info.duration_estimate_s
    total = max(1, int(np.ceil(estimate * sample_fps))) if estimate > 0 else None
    if progress:
        progress.start(video_id, total, start_index)

    t0 = time.perf_counter()
    n_embedded = 0
    parts = [previous] if previous is not None else []
    for requested_s, actual_s, batch in _batches(reader, embedder, sample_fps, start_index, batch_size):
        features = embedder.embed(batch)
        ckpt.append(requested_s, actual_s, features)
        parts.append((requested_s, actual_s, features))
        n_embedded += len(requested_s)
        if progress:
            progress.advance(len(requested_s))
    if progress:
        progress.finish()
    wall_s = time.perf_counter() - t0

    if not parts:
        raise VideoUnreadable(f"{path}: no frame could be decoded")
    requested, actual, features = (np.concatenate(x) for x in zip(*parts))
    duration_s = max(reader.decoded_duration_s, float(actual[-1]))
    warning = ""
    expected_s = reader.info.duration_estimate_s
    if expected_s > 0 and duration_s < expected_s - max(1.0, 2.0 / sample_fps):
        warning = (f"{path}: decoding stopped at {duration_s:.1f} s of {expected_s:.1f} s (truncated or corrupt file?); "
                   f"stored the {len(requested)} samples that could be read")
    elif reader.n_decode_errors:
        warning = (f"{path}: {reader.n_decode_errors} damaged packets were skipped while decoding (corrupt file?); "
                   f"samples near them show the last good frame")
    if warning:
        warnings.warn(warning, EmbedWarning, stacklevel=3)
    info = {
        "source_path": str(path.resolve()),
        "size_bytes": reader.info.size_bytes,
        "fingerprint": fp,
        "fps": reader.info.fps,
        "frame_count": reader.frames_decoded,
        "frame_count_container": reader.info.frame_count,
        "width": reader.info.width,
        "height": reader.info.height,
        "duration_s": duration_s,
        "sample_fps": sample_fps,
        "is_complete": not warning,
        "embedded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "device": embedder.device,
        "weights_source": str(config.weights),
        "versions": library_versions(EMBED_LIBRARIES),
    }
    store.put(video_id, requested_s=requested, actual_s=actual, features=features, info=info)
    ckpt.clear()
    return EmbedReport(video_id, str(path), status, len(requested), duration_s, wall_s, n_embedded, embedder.device, warning)


_END = object()


def _batches(reader: Cv2VideoReader, embedder: Embedder, sample_fps: float, start_index: int, batch_size: int):
    """Yield (requested_s, actual_s, preprocessed batch) while a thread decodes ahead."""
    q: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            req, act, frames = [], [], []
            for requested_s, actual_s, frame in reader.sample(sample_fps, start_index):
                req.append(requested_s)
                act.append(actual_s)
                frames.append(embedder.preprocess([frame])[0])  # keep only the small image
                if len(req) == batch_size:
                    if not put((np.array(req), np.array(act), np.stack(frames))):
                        return
                    req, act, frames = [], [], []
            if req and not put((np.array(req), np.array(act), np.stack(frames))):
                return
            put(_END)
        except BaseException as err:  # handed to the consumer, which re-raises it
            put(err)

    thread = threading.Thread(target=produce, name=f"decode:{reader.path.name}", daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _END:
                break
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)

