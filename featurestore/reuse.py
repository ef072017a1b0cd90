"""What an embedding run can take from the store instead of decoding: stored videos (and faces), byte-identical
copies (with their faces).

Also refuses, before any work, a video id stored with other content, at another rate or with another decode mode.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

from featurestore.errors import EmbedWarning, NotEmbedded, StoreMismatch, VideoDamaged, VideoUnreadable
from featurestore.runners.work import EmbedReport
from featurestore.store.store import FeatureStore
from featurestore.video.pyav import DEFAULT_DECODE


class ContentIndex:
    """Stored videos by (fingerprint, sample rate): where a byte-identical copy can take its features from."""

    def __init__(self, store: FeatureStore):
        self.store = store
        self._by_content: dict[tuple[str, float], str] | None = None

    def _load(self) -> dict[tuple[str, float], str]:
        if self._by_content is None:
            self._by_content = {}
            stored = self.store.contents()  # what the index records: no shard opened (issue 27)
            for video_id in sorted(stored):
                self._by_content.setdefault(stored[video_id], video_id)
        return self._by_content

    def find(self, fp: str, sample_fps: float | None, exclude: str = "") -> str | None:
        for (stored_fp, rate), video_id in self._load().items():
            if stored_fp == fp and video_id != exclude and (sample_fps is None or abs(rate - sample_fps) < 1e-9):
                return video_id
        return None

    def rate(self, fp: str) -> float | None:
        video_id = self.find(fp, None)
        return None if video_id is None else next(r for (f, r), v in self._load().items() if v == video_id)

    def add(self, fp: str, sample_fps: float, video_id: str) -> None:
        self._load()[(fp, sample_fps)] = video_id


def stored_rate(store: FeatureStore, video_id: str, fp: str, sample_fps: float | None, copies: ContentIndex,
                default_fps: float = 1.0) -> float:
    """`sample_fps`, or when it is None the rate this content is stored at (under this id or another), else
    `default_fps`."""
    if sample_fps is not None:
        return sample_fps
    if video_id in store:
        try:
            info = store.info(video_id)
            if info.get("fingerprint") == fp:
                return float(info["sample_fps"])
        except (VideoDamaged, NotEmbedded):
            pass
    return copies.rate(fp) or default_fps


def stored_state(store: FeatureStore, video_id: str, fp: str, sample_fps: float | None) -> tuple[str, dict]:
    """('new' | 'stored' | 'damaged' | 'other content' | 'other rate', stored info or {} ) for `video_id`.

    'stored' (same content and rate) is decided after reading the stored features back in full.
    """
    if video_id not in store:
        return "new", {}
    try:
        info = store.info(video_id)
    except VideoDamaged as err:
        return "damaged", {"problem": err.reason}
    differs = stored_difference(info, fp, sample_fps)
    if differs:
        return differs, info
    problem = store.problem(video_id)
    return ("damaged", {**info, "problem": problem}) if problem else ("stored", info)


def stored_difference(info: dict, fp: str | None, sample_fps: float | None) -> str | None:
    """'other content' where a stored video's `info` has another fingerprint than `fp`, 'other rate' where another
    rate than `sample_fps` (None: any), else None."""
    if info.get("fingerprint") != fp:
        return "other content"
    if sample_fps is not None and abs(float(info.get("sample_fps", -1)) - sample_fps) >= 1e-9:
        return "other rate"
    return None


def refuse_gone_at_other_rate(path, video_id: str, info: dict, sample_fps: float | None, what: str = "features") -> None:
    """VideoUnreadable where the file at `path` is gone and `sample_fps` is not the rate `video_id` is stored at:
    its stored `what` can be scored, but nothing can be embedded at another rate."""
    if sample_fps is not None and abs(float(info["sample_fps"]) - sample_fps) >= 1e-9:
        raise VideoUnreadable(f"{path}: no such file, so it cannot be embedded at {sample_fps:g}/s; its {what} are "
                              f"stored as {video_id!r} at {float(info['sample_fps']):g}/s: drop --fps to score them")


def refuse_conflict(store: FeatureStore, video_id: str, path: Path, sample_fps: float, state: tuple[str, dict],
                     replace: bool, warn: bool) -> None:
    """StoreMismatch for other content or rate without `replace`; a warning when damaged data will be replaced."""
    kind, info = state
    if kind == "damaged" and warn:
        warnings.warn(f"{store.path}: the stored features of {video_id!r} are damaged ({info['problem']}); "
                      f"embedding {path} again", EmbedWarning, stacklevel=3)
    if kind == "other content" and not replace:
        raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} with other content (stored from "
                            f"{info.get('source_path')}); pass --replace to re-embed it or --name to store it under another id")
    if kind == "other rate" and not replace:
        stored_fps = float(info.get("sample_fps", 0))
        raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} at {stored_fps!r} samples/s, this run asks for "
                            f"{sample_fps!r}; pass --fps {stored_fps:g} to use the stored samples, --replace to re-embed "
                            f"it at {sample_fps:g} samples/s, or --name to store it under another id")


def stored_mode(store: FeatureStore, video_id: str, fp: str, decode: str | None) -> str:
    """`decode`, or when it is None the mode `video_id` is stored with (same content), else DEFAULT_DECODE."""
    if decode is not None:
        return decode
    if video_id in store:
        try:
            info = store.info(video_id)
        except (VideoDamaged, NotEmbedded):
            return DEFAULT_DECODE
        if info.get("fingerprint") == fp:
            return info.get("decode", "exact")  # stored before decode modes existed: every frame was decoded
    return DEFAULT_DECODE


def state_of(store: FeatureStore, video_id: str, fp: str, sample_fps: float, decode: str) -> tuple[str, dict]:
    """`stored_state`, where a video stored with another decode mode is 'other decode'."""
    state, info = stored_state(store, video_id, fp, sample_fps)
    if state == "stored" and info.get("decode", "exact") != decode:
        return "other decode", info
    return state, info


def refuse(store: FeatureStore, video_id: str, path: Path, sample_fps: float, decode: str, state: tuple[str, dict],
            replace: bool, warn: bool) -> None:
    """`refuse_conflict`, and StoreMismatch for another decode mode without `replace`."""
    refuse_conflict(store, video_id, path, sample_fps, state, replace, warn)
    kind, info = state
    if kind == "other decode" and not replace:
        stored = info.get("decode", "exact")
        raise StoreMismatch(f"{path}: {store.path} already holds {video_id!r} with --decode {stored}, this run asks for "
                            f"--decode {decode}; pass --decode {stored} to use the stored samples, --replace to re-embed "
                            "it, or --name to store it under another id")


def stored_faces(store: FeatureStore, video_id: str):
    """The face table of a stored video, read back intact (checksums); None when it has none or it is damaged."""
    if not store.has_faces(video_id):
        return None
    try:
        return store.faces(video_id)
    except (VideoDamaged, NotEmbedded):
        return None


def copy_stored(store: FeatureStore, video_id: str, path: Path, fp: str, sample_fps: float, decode: str,
              source: str | None) -> EmbedReport | None:
    """Store `video_id` with the features (and faces, if stored) of `source`, a byte-identical video already
    stored (None: no source). The report's `n_faces` is None when no faces were copied."""
    if source is None:
        return None
    t0 = time.perf_counter()

    def copied_info(info: dict) -> dict:  # the source's provenance, and where this copy came from
        info = {k: value for k, value in info.items() if k not in ("video_id", "n_samples")}
        return {**info, "source_path": str(path.resolve()), "copied_from": source,
                "copied_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    try:
        info = store.info(source)
        if (info.get("fingerprint") != fp or abs(float(info["sample_fps"]) - sample_fps) >= 1e-9
                or info.get("decode", "exact") != decode):
            return None
        faces = stored_faces(store, source)
        if faces is not None:  # faces name their video: written anew
            faces = dataclasses.replace(faces, video_id=video_id)
            v = store.read(source)
            store.put(video_id, requested_s=v.requested_s, actual_s=v.actual_s, features=v.features,
                      info=copied_info(v.info), faces=faces)
            n = len(v.requested_s)
        else:  # the shard's arrays copied by HDF5, their checksum carried over once it passed (no faces)
            n = store.put_copy(video_id, source, copied_info)
    except (VideoDamaged, NotEmbedded):
        return None  # a damaged (or just removed) source: embed the video instead
    return EmbedReport(video_id, str(path), "copied", n, float(info["duration_s"]),
                       time.perf_counter() - t0, 0, "", "", decode=decode, n_faces=None if faces is None else len(faces))
