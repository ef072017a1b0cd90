"""What an embedding run can take from the store instead of decoding: stored videos, byte-identical copies.

Also refuses, before any work, a video id stored with other content or at another rate.
"""

from __future__ import annotations

import warnings
from pathlib import Path

from .errors import NotEmbedded, StoreMismatch, VideoDamaged
from .store import FeatureStore


class EmbedWarning(UserWarning):
    """Something was embedded, but not all of it (e.g. a truncated video), or stored data had to be replaced."""


class ContentIndex:
    """Stored videos by (fingerprint, sample rate): where a byte-identical copy can take its features from."""

    def __init__(self, store: FeatureStore):
        self.store = store
        self._by_content: dict[tuple[str, float], str] | None = None

    def _load(self) -> dict[tuple[str, float], str]:
        if self._by_content is None:
            self._by_content = {}
            for video_id in self.store.video_ids():
                try:
                    info = self.store.info(video_id)
                except (VideoDamaged, NotEmbedded):
                    continue
                self._by_content.setdefault((str(info.get("fingerprint")), float(info["sample_fps"])), video_id)
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


def stored_rate(store: FeatureStore, video_id: str, fp: str, sample_fps: float | None, copies: ContentIndex) -> float:
    """`sample_fps`, or when it is None the rate this content is stored at (under this id or another), else 1.0."""
    if sample_fps is not None:
        return sample_fps
    if video_id in store:
        try:
            info = store.info(video_id)
            if info.get("fingerprint") == fp:
                return float(info["sample_fps"])
        except (VideoDamaged, NotEmbedded):
            pass
    return copies.rate(fp) or 1.0


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
    if info.get("fingerprint") != fp:
        return "other content", info
    if sample_fps is not None and abs(float(info.get("sample_fps", -1)) - sample_fps) >= 1e-9:
        return "other rate", info
    problem = store.problem(video_id)
    return ("damaged", {**info, "problem": problem}) if problem else ("stored", info)


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
