"""FeatureStore: VGG16 features keyed by video and timestamp, in HDF5, safe against crashes.

Layout (readable with plain h5py; the index follows external links into the shards)::

    features.h5                     the index; replaced atomically (write a copy, rename) on every change
        attrs  screentime_store=1, config=<JSON of the embedding config>
        /videos/<key>               external link -> features.h5.d/<shard>.h5:/video
    features.h5.d/<shard>.h5        one video, written once then published by rename
        /video/features             (n, n_features) float32
        /video/requested_s          (n,) float64   sampling grid k / sample_fps
        /video/actual_s             (n,) float64   presentation time of the frame used
        /video attrs                video_id, sample_fps, duration_s, fps, frame_count, width, height,
                                    source_path, size_bytes, fingerprint, config, versions, info (JSON of all)
    features.h5.d/<shard>.part/     checkpoints of an embedding in progress (see checkpoint.py)
    features.h5.d/.lock             serialises index updates between processes

`<key>` is the video id with '%' and '/' percent-encoded (and '.'/'..' spelled '%2E', '%2E%2E').
A killed writer leaves the previous index and every published shard untouched.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from .embed import describe_config
from .errors import NotEmbedded, StoreCorrupt, StoreMismatch, StoreUnwritable
from .files import atomic_output, fsync_path

FORMAT_VERSION = 1
_CONFIG_KEYS = ("model", "weights", "pooling", "image_size_px", "n_features", "precision")
_CONFIG_DEFAULTS = {"precision": "float32"}  # stores made before the key existed


def video_key(video_id: str) -> str:
    """HDF5-safe link name for `video_id` (reversible, see `video_id_from_key`)."""
    if not video_id:
        raise ValueError("video_id must be a non-empty string")
    if video_id in (".", ".."):
        return video_id.replace(".", "%2E")
    return video_id.replace("%", "%25").replace("/", "%2F")


def video_id_from_key(key: str) -> str:
    if key in ("%2E", "%2E%2E"):
        return key.replace("%2E", ".")
    return key.replace("%2F", "/").replace("%25", "%")


@dataclass
class VideoFeatures:
    """One stored video: its samples and provenance.

    Attributes
    ----------
    requested_s : ndarray (n,), float64
    actual_s : ndarray (n,), float64
    features : ndarray (n, n_features), float32
    info : dict
        Provenance: sample_fps, duration_s, fps, frame_count, width, height, source_path, fingerprint, ...
    """

    video_id: str
    requested_s: np.ndarray
    actual_s: np.ndarray
    features: np.ndarray
    info: dict


class FeatureStore:
    """An HDF5 feature store: a mapping of video id -> stored features, written one whole video at a time.

    Parameters
    ----------
    path : path-like
        The index file, e.g. 'features.h5'; shards live in '<path>.d/'.
    mode : {'r', 'a'}
        'r' opens an existing store; 'a' creates it if needed (then `config` is required) and allows `put`.
    config : dict, optional
        Embedding config (EmbeddingConfig.identity()). In 'a' mode it must equal the store's.
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r", config: dict | None = None):
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        self.path = Path(path)
        self.shard_dir = self.path.with_name(self.path.name + ".d")
        self.mode = mode
        if mode == "a":
            if config is None:
                raise ValueError("config is required to open a store for writing")
            self._create_or_check(config)
        elif not self.path.exists():
            raise StoreCorrupt(f"{self.path}: no such store; create it with `python cli.py embed VIDEO --store {self.path}`")
        self.config = self._read_config()
        if config is not None:
            self.check_config(config)

    # -- reading ---------------------------------------------------------------------------------
    def _read_config(self) -> dict:
        with self._open_index() as f:
            return json.loads(f.attrs["config"])

    @contextmanager
    def _open_index(self) -> Iterator[h5py.File]:
        if self.path.is_dir():
            raise StoreCorrupt(f"{self.path}: is a directory, not a screentime store; pass a file path such as features.h5")
        try:
            f = h5py.File(self.path, "r")
        except FileNotFoundError:
            raise StoreCorrupt(f"{self.path}: no such store") from None
        except OSError as err:
            raise StoreCorrupt(f"{self.path}: not a screentime store (not an HDF5 file: {_first_line(err)}); choose another --store") from None
        try:
            if "screentime_store" not in f.attrs or "config" not in f.attrs:
                raise StoreCorrupt(f"{self.path}: an HDF5 file but not a screentime store (no 'screentime_store' attribute); choose another --store")
            yield f
        finally:
            f.close()

    def _links(self) -> dict[str, str]:
        """video_id -> shard file name (relative to the index's folder)."""
        with self._open_index() as f:
            group = f.get("videos")
            if group is None:
                return {}
            return {video_id_from_key(k): group.get(k, getlink=True).filename for k in group}

    def video_ids(self) -> list[str]:
        """Ids of all completely embedded videos, sorted."""
        return sorted(self._links())

    def __contains__(self, video_id: object) -> bool:
        return isinstance(video_id, str) and video_id in self._links()

    def __len__(self) -> int:
        return len(self._links())

    def __iter__(self) -> Iterator[str]:
        return iter(self.video_ids())

    def _shard(self, video_id: str) -> Path:
        links = self._links()
        if video_id not in links:
            known = ", ".join(repr(v) for v in sorted(links)[:5]) or "none"
            raise NotEmbedded(f"{self.path}: has no video {video_id!r} (stored: {known}); embed it first")
        return self.path.parent / links[video_id]

    @contextmanager
    def _open_video(self, video_id: str) -> Iterator[h5py.Group]:
        shard = self._shard(video_id)
        try:
            f = h5py.File(shard, "r")
        except OSError as err:
            raise StoreCorrupt(f"{self.path}: shard {shard.name} of video {video_id!r} is unreadable ({_first_line(err)})") from None
        try:
            yield f["video"]
        finally:
            f.close()

    def info(self, video_id: str) -> dict:
        """Provenance of one video (see the module docstring for the keys)."""
        with self._open_video(video_id) as g:
            return json.loads(g.attrs["info"])

    def read(self, video_id: str) -> VideoFeatures:
        """Everything stored for `video_id`; raises NotEmbedded if it is not in the store."""
        with self._open_video(video_id) as g:
            return VideoFeatures(
                video_id=video_id,
                requested_s=g["requested_s"][()],
                actual_s=g["actual_s"][()],
                features=g["features"][()],
                info=json.loads(g.attrs["info"]),
            )

    def load(self, video_id: str) -> tuple[np.ndarray, np.ndarray]:
        """Timestamps and features of one video.

        Returns
        -------
        actual_s : ndarray of shape (n,), float64
            Presentation time of each sampled frame, in seconds.
        features : ndarray of shape (n, n_features), float32
        """
        v = self.read(video_id)
        return v.actual_s, v.features

    def videos(self):
        """One row per video: duration, samples, frame count, sampling rate, source, and the store's config.

        Returns a pandas DataFrame indexed by video id.
        """
        import pandas as pd

        rows = []
        for video_id in self.video_ids():
            info = self.info(video_id)
            rows.append({"video": video_id, **{k: info.get(k) for k in (
                "duration_s", "n_samples", "sample_fps", "frame_count", "fps", "width", "height", "source_path", "embedded_at")}})
        cols = ["video", "duration_s", "n_samples", "sample_fps", "frame_count", "fps", "width", "height", "source_path", "embedded_at"]
        df = pd.DataFrame(rows, columns=cols).set_index("video")
        for key, value in self.config.items():
            df[f"config_{key}"] = value
        return df

    def to_pandas(self, video_ids: list[str] | None = None):
        """All samples as a DataFrame indexed by (video, time_s), time_s being the frame's presentation time.

        Columns: requested_s, then f0 ... f{n_features-1} (float32).
        """
        import pandas as pd

        frames = []
        for video_id in video_ids if video_ids is not None else self.video_ids():
            v = self.read(video_id)
            df = pd.DataFrame(v.features, columns=[f"f{i}" for i in range(v.features.shape[1])])
            df.insert(0, "requested_s", v.requested_s)
            df.index = pd.MultiIndex.from_arrays([[video_id] * len(v.actual_s), v.actual_s], names=["video", "time_s"])
            frames.append(df)
        if not frames:
            n = int(self.config.get("n_features", 0))
            cols = ["requested_s"] + [f"f{i}" for i in range(n)]
            return pd.DataFrame(columns=cols, index=pd.MultiIndex.from_arrays([[], []], names=["video", "time_s"]))
        return pd.concat(frames)

    def check_config(self, config: dict) -> None:
        """Raise StoreMismatch if `config` would give other numbers than the store's features."""
        mine = {k: self.config.get(k, _CONFIG_DEFAULTS.get(k)) for k in _CONFIG_KEYS}
        theirs = {k: config.get(k, _CONFIG_DEFAULTS.get(k)) for k in _CONFIG_KEYS}
        if mine != theirs:
            diff = ", ".join(f"{k} {mine[k]!r} vs {theirs[k]!r}" for k in _CONFIG_KEYS if mine[k] != theirs[k])
            raise StoreMismatch(
                f"{self.path}: holds features of {describe_config(self.config)}, this run asked for "
                f"{describe_config(config)} ({diff}); use another --store or the store's settings"
            )

    # -- writing ---------------------------------------------------------------------------------
    @contextmanager
    def lock(self, name: str = ".lock", blocking: bool = True) -> Iterator[bool]:
        """Hold an exclusive inter-process lock on a file in the shard folder; yields whether it is held."""
        path = self.shard_dir / name
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
                held = True
            except BlockingIOError:
                held = False
            yield held
        finally:
            os.close(fd)  # closing releases the lock

    def _create_or_check(self, config: dict) -> None:
        if self.path.exists():
            self.config = self._read_config()  # raises StoreCorrupt for a foreign file, which stays untouched
            self.check_config(config)
        try:
            self.shard_dir.mkdir(parents=False, exist_ok=True)
            probe = self.shard_dir / f".write-test-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError as err:
            raise StoreUnwritable(f"{self.path}: cannot write the store here ({err.strerror}: {err.filename}); choose another --store") from None
        with self.lock():
            if not self.path.exists():
                self._write_index({}, config)

    def _write_index(self, links: dict[str, str], config: dict) -> None:
        """Write a complete new index next to the old one and rename it over; call with the lock held."""
        try:
            with atomic_output(self.path) as tmp, h5py.File(tmp, "w") as f:
                f.attrs["screentime_store"] = FORMAT_VERSION
                f.attrs["config"] = json.dumps(config, sort_keys=True)
                f.attrs["layout"] = "videos/<video key> -> external link to <store>.d/<shard>.h5:/video"
                group = f.create_group("videos")
                for video_id, shard in sorted(links.items()):
                    group[video_key(video_id)] = h5py.ExternalLink(shard, "/video")
        except OSError as err:
            raise StoreUnwritable(f"{self.path}: cannot write the store index ({err.strerror or err})") from None

    def put(self, video_id: str, *, requested_s, actual_s, features, info: dict) -> None:
        """Publish one video atomically, replacing a stored video of the same id.

        Parameters
        ----------
        requested_s, actual_s : array-like of shape (n,), seconds
        features : array-like of shape (n, n_features)
        info : dict
            JSON-able provenance; must hold 'sample_fps' and 'duration_s'.
        """
        if self.mode != "a":
            raise ValueError("store was opened read-only; open it with mode='a' to write")
        features = np.ascontiguousarray(features, dtype=np.float32)
        requested_s = np.asarray(requested_s, dtype=np.float64)
        actual_s = np.asarray(actual_s, dtype=np.float64)
        n = len(requested_s)
        if features.ndim != 2 or features.shape != (n, self.config["n_features"]) or actual_s.shape != (n,):
            raise ValueError(f"expected features ({n}, {self.config['n_features']}) and times ({n},), got {features.shape}, {actual_s.shape}")
        if "sample_fps" not in info or "duration_s" not in info:
            raise ValueError("info must hold 'sample_fps' and 'duration_s'")
        info = {**info, "video_id": video_id, "n_samples": n}
        name = f"{hashlib.sha1(video_id.encode()).hexdigest()[:16]}-{uuid.uuid4().hex[:8]}.h5"
        shard = self.shard_dir / name
        tmp = self.shard_dir / f".{name}.tmp"
        try:
            with h5py.File(tmp, "w") as f:
                g = f.create_group("video")
                g.create_dataset("features", data=features, chunks=(min(max(n, 1), 256), features.shape[1]) if n else None)
                g.create_dataset("requested_s", data=requested_s)
                g.create_dataset("actual_s", data=actual_s)
                for key, value in info.items():
                    if isinstance(value, (str, int, float, bool)):
                        g.attrs[key] = value
                g.attrs["config"] = json.dumps(self.config, sort_keys=True)
                g.attrs["info"] = json.dumps(info, sort_keys=True)
            fsync_path(tmp)
        except OSError as err:
            tmp.unlink(missing_ok=True)
            raise StoreUnwritable(f"{self.path}: cannot write shard for {video_id!r} ({err.strerror or err})") from None
        with self.lock():
            links = self._links()
            old = links.get(video_id)
            os.replace(tmp, shard)
            links[video_id] = f"{self.shard_dir.name}/{name}"
            self._write_index(links, self.config)
            if old:
                (self.path.parent / old).unlink(missing_ok=True)
            self._remove_orphans(set(links.values()))

    def _remove_orphans(self, referenced: set[str]) -> None:
        """Delete shards a killed writer published but never indexed (lock held)."""
        for shard in self.shard_dir.glob("*.h5"):
            if f"{self.shard_dir.name}/{shard.name}" not in referenced:
                shard.unlink(missing_ok=True)

    def remove(self, video_id: str) -> None:
        """Drop one video from the store (its shard is deleted after the index no longer names it)."""
        if self.mode != "a":
            raise ValueError("store was opened read-only; open it with mode='a' to write")
        with self.lock():
            links = self._links()
            old = links.pop(video_id, None)
            if old is None:
                raise NotEmbedded(f"{self.path}: has no video {video_id!r}")
            self._write_index(links, self.config)
            (self.path.parent / old).unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, {len(self)} videos, {describe_config(self.config)})"


def _first_line(err: BaseException) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__

