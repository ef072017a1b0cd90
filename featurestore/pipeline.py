"""embed_videos: sample, embed and store videos, once each.

Decoding (with resizing and preprocessing) runs in a producer thread that feeds batches to the model
through a short queue, so decoding and inference overlap; both release the GIL.
"""

from __future__ import annotations

import os
import queue
import shutil
import threading
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .checkpoint import Checkpoint
from .embed import DEFAULT_IMAGE_SIZE_PX, EmbeddingConfig, VGG16Embedder
from .errors import NotEmbedded, StoreFull, StoreMismatch, StoreUnwritable, VideoDamaged, VideoUnreadable, WeightsUnavailable
from .files import is_disk_full
from .provenance import library_versions
from .sampling import check_sample_fps
from .reuse import ContentIndex, EmbedWarning, refuse_conflict, stored_rate, stored_state
from .store import FeatureStore, video_stem
from .video import Cv2VideoReader, check_video_path, fingerprint


EMBED_LIBRARIES = ("numpy", "opencv-python-headless", "h5py", "tensorflow", "keras")  # recorded with each video


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
    """Outcome for one video: status is 'new' (embedded now), 'resumed', 'replaced', 'copied' (features taken
    from a byte-identical video stored under another id) or 'stored' (nothing to do)."""

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


def resolve_embedding_config(store_path: str | os.PathLike, *, weights: str | None = None, pooling: str | None = None,
                             image_size_px: int | None = None) -> EmbeddingConfig:
    """The settings to embed into `store_path` with: each one given, else the store's own, else the defaults.

    Defaults are ImageNet weights, avg pooling and 224 px. A store embedded with a weights file gives
    the file it recorded (it must still be there and unchanged).

    Raises
    ------
    WeightsUnavailable
        The store's weights file is gone or changed; StoreCorrupt for a damaged store.
    """
    path = Path(store_path)
    stored, weights_path = None, None
    if path.exists():
        store = FeatureStore(path)
        if len(store):
            stored, weights_path = store.config, store.weights_path
    if stored is None:
        return EmbeddingConfig(weights=weights or "imagenet", pooling=pooling or "avg",
                               image_size_px=image_size_px or DEFAULT_IMAGE_SIZE_PX)
    weights_id = str(stored.get("weights"))
    from_store = weights is None
    if from_store:
        if weights_id == "imagenet" or weights_id.startswith("random:"):
            weights = weights_id.split(":")[0]
        elif not weights_path or not Path(weights_path).is_file():
            raise WeightsUnavailable(
                f"{path}: was embedded with the weights file {weights_path or '(not recorded)'} ({weights_id[:19]}...), "
                "which is not there; pass it with --weights FILE")
        else:
            weights = weights_path
    config = EmbeddingConfig(weights=weights, pooling=pooling or stored["pooling"],
                             image_size_px=image_size_px or int(stored["image_size_px"]))
    if from_store and config.weights_id != weights_id:
        raise WeightsUnavailable(
            f"{weights}: has changed since {path} was embedded with it ({weights_id[:19]}... then, "
            f"{config.weights_id[:19]}... now); pass the original file with --weights FILE")
    return config


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

    A video whose content (fingerprint) is stored under another id at the same rate is copied from it:
    no decoding, no inference. A store that already holds every video is only read, so it may be read-only.
    No store is created until a video is stored in it.

    Parameters
    ----------
    paths : list of path-like
        Video files. All are checked before any work starts.
    config : EmbeddingConfig, optional
        Weights, pooling and input size; must match the store's (one config per store). Default: the
        store's own (see `resolve_embedding_config`).
    sample_fps : float or None
        Samples per second of video time: frames on screen at t = 0, 1/sample_fps, ... None: the rate a
        video is already stored at (same content), else 1.0.
    names : list of str, optional
        Video ids, one per path; default: each file's name.
    replace : bool
        Re-embed a video whose id is stored with other content or another sample rate (else StoreMismatch).
        A stored video whose data is damaged is embedded again without it.

    Returns
    -------
    list of EmbedReport, one per distinct video id, in order.

    Raises
    ------
    VideoUnreadable, StoreMismatch, StoreCorrupt, StoreUnwritable, StoreFull, WeightsUnavailable
    """
    config = config or resolve_embedding_config(store_path)
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
    jobs = list(dict(zip(ids, paths)).items())  # one job per id, in order

    store = _open_store(store_path, config)
    fingerprints = {p: fingerprint(p) for p in paths}
    copies = ContentIndex(store)
    rates, states = {}, {}
    for video_id, path in jobs:  # refuse conflicts before spending any time
        rates[video_id] = stored_rate(store, video_id, fingerprints[path], sample_fps, copies)
        states[video_id] = stored_state(store, video_id, fingerprints[path], rates[video_id])
        refuse_conflict(store, video_id, path, rates[video_id], states[video_id], replace, warn=True)
    if all(state[0] == "stored" for state in states.values()):  # nothing to write: a read-only store will do
        return [_stored_report(video_id, path, states[video_id][1]) for video_id, path in jobs]
    if store.mode != "a":
        store = FeatureStore(store_path, mode="a", config=config.identity(), weights_path=_weights_path(config))
        copies = ContentIndex(store)
    for video_id, path in jobs:
        if states[video_id][0] != "stored":
            Cv2VideoReader(path)  # opens each once: an unreadable file fails now, not after hours

    embedder: Embedder | None = None
    reports = []
    try:
        for video_id, path in jobs:
            if states[video_id][0] == "stored":
                reports.append(_stored_report(video_id, path, states[video_id][1]))
                continue
            fp, rate = fingerprints[path], rates[video_id]
            with store.lock(video_stem(video_id) + ".lock", blocking=False, remove=True) as held:
                if not held and on_wait:
                    on_wait(f"waiting for another screentime process embedding {video_id!r} into {store.path}")
            with store.lock(video_stem(video_id) + ".lock", remove=True):
                state, info = stored_state(store, video_id, fp, rate)  # another process may have stored it
                if state == "stored":
                    reports.append(_stored_report(video_id, path, info))
                    continue
                refuse_conflict(store, video_id, path, rate, (state, info), replace, warn=False)
                status = "new" if state == "new" else "replaced"
                report = _copy_one(store, video_id, path, fp, rate, copies.find(fp, rate, exclude=video_id))
                if report is None:
                    if embedder is None:
                        embedder = make_embedder(config)
                    report = _embed_one(store, embedder, video_id, path, fp, config, rate, batch_size, status, progress)
                copies.add(fp, rate, video_id)
                reports.append(report)
    finally:
        store.discard_if_unused()
    return reports


def _open_store(store_path: str | os.PathLike, config: EmbeddingConfig) -> FeatureStore:
    """The store opened read-only when it exists (its config checked), else opened for writing (nothing created)."""
    path = Path(store_path)
    if path.exists() or path.is_symlink():
        store = FeatureStore(path)
        if len(store):
            store.check_config(config.identity())
        return store
    return FeatureStore(path, mode="a", config=config.identity(), weights_path=_weights_path(config))


def _weights_path(config: EmbeddingConfig) -> str | None:
    """The absolute path of the weights file, recorded in the store so that later runs can name it."""
    return None if config.weights in ("imagenet", "random") else str(Path(config.weights).resolve())


def _stored_report(video_id: str, path: Path, info: dict) -> EmbedReport:
    return EmbedReport(video_id, str(path), "stored", info["n_samples"], info["duration_s"])


def _copy_one(store: FeatureStore, video_id: str, path: Path, fp: str, sample_fps: float, source: str | None) -> EmbedReport | None:
    """Store `video_id` with the features of `source`, a byte-identical video already stored (None: no source)."""
    if source is None:
        return None
    t0 = time.perf_counter()
    try:
        v = store.read(source)
    except (VideoDamaged, NotEmbedded):
        return None  # a damaged (or just removed) source: embed the video instead
    if v.info.get("fingerprint") != fp or abs(float(v.info["sample_fps"]) - sample_fps) >= 1e-9:
        return None
    info = {k: value for k, value in v.info.items() if k not in ("video_id", "n_samples")}
    info.update(source_path=str(path.resolve()), copied_from=source,
                copied_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    store.put(video_id, requested_s=v.requested_s, actual_s=v.actual_s, features=v.features, info=info)
    return EmbedReport(video_id, str(path), "copied", len(v.requested_s), float(v.info["duration_s"]),
                       time.perf_counter() - t0, 0, "", "")


def _embed_one(store, embedder, video_id, path, fp, config, sample_fps, batch_size, status, progress) -> EmbedReport:
    reader = Cv2VideoReader(path)
    meta = {"video_id": video_id, "fingerprint": fp, "config": config.identity(), "sample_fps": sample_fps}
    ckpt = Checkpoint(store.shard_dir / (video_stem(video_id) + ".part"), meta)
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
    try:
        for requested_s, actual_s, batch in _batches(reader, embedder, sample_fps, start_index, batch_size):
            features = embedder.embed(batch)
            _append(ckpt, store, video_id, requested_s, actual_s, features)
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
            "weights_source": _weights_path(config) or str(config.weights),
            "versions": library_versions(EMBED_LIBRARIES),
        }
        store.put(video_id, requested_s=requested, actual_s=actual, features=features, info=info)
    except StoreFull:
        n_done = sum(len(p[0]) for p in parts)
        freed = ckpt.size_bytes()
        ckpt.clear()  # else it keeps the disk full and every later run fails (issue 8)
        n_total = max(total or 0, n_done)
        need_mb = 2 * n_total * (4 * config.n_features + 16) / 1e6 + 1  # checkpoint and shard, side by side
        free_mb = shutil.disk_usage(store.path.parent).free / 1e6
        raise StoreFull(
            f"{store.path}: the disk is full (No space left on device) after {n_done} of {total or '?'} samples of "
            f"{video_id!r}; its checkpoint ({freed / 1e6:.1f} MB) was removed so the disk is as before this run: "
            f"free about {need_mb:.0f} MB ({free_mb:.0f} MB are free) and run again") from None
    ckpt.clear()
    return EmbedReport(video_id, str(path), status, len(requested), duration_s, wall_s, n_embedded, embedder.device, warning)


def _append(ckpt: Checkpoint, store: FeatureStore, video_id: str, requested_s, actual_s, features) -> None:
    """Checkpoint one batch; a failed write becomes one line (StoreFull when the disk is full)."""
    try:
        ckpt.append(requested_s, actual_s, features)
    except OSError as err:
        if is_disk_full(err):
            raise StoreFull(f"{store.path}: the disk is full") from None
        raise StoreUnwritable(f"{store.path}: cannot write the checkpoint of {video_id!r} "
                              f"({err.strerror or err}: {err.filename or ckpt.path})") from None


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

