"""embed_videos: sample, embed and store videos, once each.

Decoding (with resizing and preprocessing) runs in worker processes -- or a thread, for little work -- that
feed one model (schedule.py), or in Ray tasks on a cluster (cluster.py); this process alone writes the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from .collect import EmbedReport, EmbedWarning  # noqa: F401 -- re-exported
from .decode import DEFAULT_DECODE, check_decode_mode, probe
from .embed import EmbeddingConfig, VGG16Embedder
from .errors import StoreMismatch, VideoUnreadable
from .sampling import check_sample_fps
from .schedule import MIN_SPLIT_S, Candidate, Collection, choose_workers, run_local
from .store import FeatureStore
from .video import check_video_path, fingerprint


class Embedder(Protocol):
    device: str

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray: ...
    def embed(self, batch: np.ndarray) -> np.ndarray: ...


class Progress(Protocol):
    """What embed_videos reports while it works (the CLI draws it with rich)."""

    def start(self, video_id: str, total: int | None) -> None: ...
    def advance(self, n: int) -> None: ...
    def finish(self) -> None: ...


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
    workers: int | None = None,
    decode: str | None = None,
    ray: str | None = None,
    min_split_s: float = MIN_SPLIT_S,
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
        Re-embed a video whose id is stored with other content, sample rate or decode mode (else StoreMismatch).
    workers : int or None
        Decoding processes feeding the model (batches mix videos; a long video is split into time ranges
        decoded in parallel). 0: one thread in this process. None: every usable core, or a thread when there
        is under a minute of video to decode.
    decode : {'exact', 'fast', 'hw'} or None
        How frames are decoded (decode.py); recorded per video like the sample rate. None: the mode a video is
        already stored with (same content), else DEFAULT_DECODE.
    ray : str or None
        Run on a Ray cluster instead: 'local' starts one here, 'auto' or 'ray://host:port' joins one. The
        tasks return features; this process writes the store. `workers` and `make_embedder` do not apply.
    min_split_s : float
        A video is split for an idle worker only into ranges of at least this many seconds.

    Returns
    -------
    list of EmbedReport, one per path, in order.
    """
    config = config or EmbeddingConfig()
    sample_fps = None if sample_fps is None else check_sample_fps(sample_fps)
    decode = None if decode is None else check_decode_mode(decode)
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
    modes = {video_id: _mode(store, video_id, fingerprints[path], decode) for video_id, path in zip(ids, paths)}
    for video_id, path in zip(ids, paths):  # refuse conflicts before spending any time
        _check_conflict(store, video_id, path, fingerprints[path], rates[video_id], replace, modes[video_id])
    infos = {path: probe(path) for path in paths}  # opens each once: an unreadable file fails now, not after hours

    candidates: dict[str, Candidate] = {}
    for video_id, path in zip(ids, paths):
        if video_id not in candidates:
            status = _check_conflict(store, video_id, path, fingerprints[path], rates[video_id], replace, modes[video_id])
            candidates[video_id] = Candidate(video_id, path, fingerprints[path], rates[video_id], modes[video_id],
                                             status, infos[path])

    def recheck(c: Candidate) -> str:
        return _check_conflict(store, c.video_id, c.path, c.fingerprint, c.sample_fps, replace, c.decode)

    collection = Collection(store, list(candidates.values()), config, recheck=recheck, progress=progress, on_wait=on_wait)
    try:
        if collection.has_more and ray is not None:
            from .cluster import run_ray

            run_ray(collection, address=ray, batch_size=batch_size, min_split_s=min_split_s)
        elif collection.has_more:
            run_local(collection, make_embedder=make_embedder, batch_size=batch_size,
                      workers=choose_workers(workers, list(candidates.values())), min_split_s=min_split_s)
    finally:
        collection.close()
    return [collection.reports[video_id] for video_id in candidates]


def _rate(store: FeatureStore, video_id: str, fp: str, sample_fps: float | None) -> float:
    """`sample_fps`, or when it is None the rate `video_id` is stored at with the same content, else 1.0."""
    if sample_fps is not None:
        return sample_fps
    if video_id in store:
        info = store.info(video_id)
        if info.get("fingerprint") == fp:
            return float(info["sample_fps"])
    return 1.0


def _mode(store: FeatureStore, video_id: str, fp: str, decode: str | None) -> str:
    """`decode`, or when it is None the mode `video_id` is stored with (same content), else DEFAULT_DECODE."""
    if decode is not None:
        return decode
    if video_id in store:
        info = store.info(video_id)
        if info.get("fingerprint") == fp:
            return info.get("decode", "exact")  # stored before decode modes existed: every frame was decoded
    return DEFAULT_DECODE


def _check_conflict(store: FeatureStore, video_id: str, path: Path, fp: str, sample_fps: float, replace: bool,
                    decode: str = "exact") -> str:
    """'new', 'stored' (same content, rate and decode mode: nothing to do) or 'replaced'; StoreMismatch if not allowed."""
    if video_id not in store:
        return "new"
    info = store.info(video_id)
    same_content = info.get("fingerprint") == fp
    same_rate = abs(float(info.get("sample_fps", -1)) - sample_fps) < 1e-9
    same_mode = info.get("decode", "exact") == decode
    if same_content and same_rate and same_mode:
        return "stored"
    if not replace:
        what = (f"other content (stored from {info.get('source_path')})" if not same_content
                else f"{info.get('sample_fps')} samples/s, this run asks for {sample_fps}" if not same_rate
                else f"--decode {info.get('decode', 'exact')}, this run asks for --decode {decode}")
        raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} with {what}; pass --replace to re-embed it or --name to store it under another id")
    return "replaced"
