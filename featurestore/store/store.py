"""FeatureStore: VGG16 features keyed by video and timestamp, in HDF5, safe against crashes and damage.

Layout (readable with plain h5py; the index follows external links into the shards)::

    features.h5                     the index; replaced atomically (write a copy, rename) on every change
        attrs  screentime_store=1, config=<JSON of the embedding config>, weights_path (weights-file stores)
        /videos/<key>               external link -> features.h5.d/<shard>.h5:/video
    features.h5.d/<shard>.h5        one video, written once, checksummed and self-describing (see shards.py)
    features.h5.d/<stem>.part/      checkpoints of an embedding in progress (<stem>: video_stem; see checkpoint.py)
    features.h5.d/.lock             serialises index updates between processes
    features.h5.d/damaged/          shards that `repair` left out of the index

`<key>` is the video id with '%' and '/' percent-encoded (and '.'/'..' spelled '%2E', '%2E%2E').
The store is the index plus the folder named after it: move or copy the two together. Shards are found by
their file name in that folder, so a renamed store reads as before (the link paths that plain h5py
follows are rewritten on its next change, or by `repair`). No store exists until it holds a video: opening
for writing creates nothing, the first `put` writes the index, and an empty store takes the settings of
the next video put into it. A killed writer leaves the previous index and every published shard untouched.
"""

from __future__ import annotations

import hashlib
import os
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .embed import describe_config
from .errors import NotEmbedded, StoreCorrupt, StoreMismatch, StoreUnwritable, VideoDamaged
from .files import temporary_sibling
from .index import StoreIndex, unwritable, video_id_from_key, video_key  # noqa: F401  (re-exported)
from .locks import file_lock
from .shards import ShardDamaged, read_header, read_shard, write_shard

_CONFIG_KEYS = ("model", "weights", "pooling", "image_size_px", "n_features", "precision")
_CONFIG_DEFAULTS = {"precision": "float32"}  # stores made before the key existed


def config_identity(config: dict) -> dict:
    """The settings that decide the numbers, with defaults for keys older stores lack: equal means same features."""
    return {k: config.get(k, _CONFIG_DEFAULTS.get(k)) for k in _CONFIG_KEYS}


def shard_name(video_id: str) -> str:
    """A fresh shard file name for `video_id`: '<sha1 of the id, 16 hex>-<random, 8 hex>.h5'."""
    return f"{video_stem(video_id)}-{uuid.uuid4().hex[:8]}.h5"


def video_stem(video_id: str) -> str:
    """Short file-name-safe tag of a video id, shared by its shards, checkpoint folder and lock."""
    return hashlib.sha1(video_id.encode()).hexdigest()[:16]


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
        'r' opens an existing store; 'a' allows `put` and `remove` (then `config` is required). Opening
        with 'a' writes nothing: the index is created by the first `put`.
    config : dict, optional
        Embedding config (EmbeddingConfig.identity()). It must equal the store's, unless the store is empty.
    weights_path : str, optional
        The weights file the config's 'sha256:' weights come from, recorded so later runs can name it.
    """

    def __init__(self, path: str | os.PathLike, mode: str = "r", config: dict | None = None,
                 weights_path: str | None = None):
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        self.path = Path(path)
        self.shard_dir = self.path.with_name(self.path.name + ".d")
        self.index = StoreIndex(self.path, self.shard_dir)
        self.mode = mode
        self.weights_path = weights_path
        if mode == "a" and config is None:
            raise ValueError("config is required to open a store for writing")
        if self.index.exists():
            self.config, stored_weights_path = self.index.read_attrs()
            self.weights_path = stored_weights_path or weights_path
            if config is not None:
                if not self._links():
                    self.config, self.weights_path = dict(config), weights_path  # an empty store adopts these
                else:
                    self.check_config(config)
        else:
            if mode == "r" or any(self.shard_dir.glob("*.h5")):
                self._refuse_missing_index()
            self.config = dict(config)
        if mode == "a":
            self._check_writable()

    @classmethod
    def _unchecked(cls, path: str | os.PathLike) -> "FeatureStore":
        """A handle that reads nothing yet (for verify and repair, which must open damaged stores)."""
        store = cls.__new__(cls)
        store.path = Path(path)
        store.shard_dir = store.path.with_name(store.path.name + ".d")
        store.index = StoreIndex(store.path, store.shard_dir)
        store.mode, store.config, store.weights_path = "a", {}, None
        return store

    # -- reading ---------------------------------------------------------------------------------
    def _refuse_missing_index(self) -> None:
        n = len(list(self.shard_dir.glob("*.h5"))) if self.shard_dir.is_dir() else 0
        if n:
            raise StoreCorrupt(f"{self.path}: the store index is missing but {self.shard_dir.name}/ holds {n} video shards; "
                               f"rebuild it with `python cli.py check-store --store {self.path} --repair`")
        raise StoreCorrupt(f"{self.path}: no such store; create it with `python cli.py embed VIDEO --store {self.path}`")

    def _links(self) -> dict[str, str]:
        """video_id -> shard file name in `shard_dir` ({} before the first video)."""
        return self.index.links()

    def video_ids(self) -> list[str]:
        """Ids of all completely embedded videos, sorted (damaged ones included: see `videos`, `verify`)."""
        return sorted(self._links())

    def __contains__(self, video_id: object) -> bool:
        return isinstance(video_id, str) and video_id in self._links()

    def __len__(self) -> int:
        return len(self._links())

    def __iter__(self) -> Iterator[str]:
        return iter(self.video_ids())

    def shard_path(self, video_id: str) -> Path:
        """The shard file that holds `video_id`; raises NotEmbedded."""
        links = self._links()
        if video_id not in links:
            known = ", ".join(repr(v) for v in sorted(links)[:5]) or "none"
            raise NotEmbedded(f"{self.path}: has no video {video_id!r} (stored: {known}); embed it first")
        return self.shard_dir / links[video_id]

    def _damaged(self, video_id: str, reason: str) -> VideoDamaged:
        return VideoDamaged(f"{self.path}: video {video_id!r} is damaged ({reason}); embed its video again "
                            f"(no --replace needed), or drop it with `python cli.py check-store --store {self.path} --repair`",
                            video_id, reason)

    def _from_shard(self, video_id: str, read):
        """`read(shard path)` of the shard holding `video_id`, following the index if another process
        replaced or removed the video meanwhile; VideoDamaged (a StoreCorrupt) if its shard is damaged."""
        for _ in range(3):
            shard = self.shard_path(video_id)  # NotEmbedded once it is gone from the index
            try:
                return read(shard)
            except ShardDamaged as err:
                if shard.exists():
                    raise self._damaged(video_id, str(err)) from None
                problem = str(err)  # its shard went away under us: look again
        raise self._damaged(video_id, problem)

    def info(self, video_id: str) -> dict:
        """Provenance of one video (the keys of `VideoFeatures.info`); cheap: reads no features.

        Raises NotEmbedded, or VideoDamaged (a StoreCorrupt) naming the video when its shard is damaged.
        """
        return self._from_shard(video_id, read_header).info

    def read(self, video_id: str) -> VideoFeatures:
        """Everything stored for `video_id`, verified against its checksum.

        Raises NotEmbedded if it is not in the store, VideoDamaged (a StoreCorrupt) if its data changed on disk.
        """
        header, requested_s, actual_s, features = self._from_shard(video_id, read_shard)
        return VideoFeatures(video_id, requested_s, actual_s, features, header.info)

    def problem(self, video_id: str) -> str | None:
        """None if `video_id` reads back intact (every byte checked), else what is wrong, in a few words."""
        try:
            self.read(video_id)
        except VideoDamaged as err:
            return err.reason
        return None

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
        """One row per video: duration, samples, sampling rate, frame count, fps, size, source, the store's config.

        Returns a pandas DataFrame indexed by video id. A video whose shard is damaged keeps its row, with
        the reason in column `problem` ('' when the video's description reads back intact).
        """
        import pandas as pd

        cols = ["duration_s", "n_samples", "sample_fps", "frame_count", "fps", "width", "height", "source_path",
                "embedded_at"]
        rows = []
        links = self._links()
        for video_id in sorted(links):
            try:
                info, problem = read_header(self.shard_dir / links[video_id]).info, ""
            except ShardDamaged as err:
                info, problem = {}, str(err)
            rows.append({"video": video_id, **{k: info.get(k) for k in cols}, "problem": problem})
        df = pd.DataFrame(rows, columns=["video", *cols, "problem"]).set_index("video")
        for key, value in self.config.items():
            df[f"config_{key}"] = value
        return df

    def to_pandas(self, video_ids: list[str] | None = None):
        """All samples as a DataFrame indexed by (video, time_s), time_s being the frame's presentation time.

        Columns: requested_s, then f0 ... f{n_features-1} (float32). Without `video_ids`, damaged videos are
        left out with a warning naming them; a damaged video asked for by id raises VideoDamaged.
        """
        import pandas as pd

        frames, skipped = [], []
        for video_id in video_ids if video_ids is not None else self.video_ids():
            try:
                v = self.read(video_id)
            except VideoDamaged:
                if video_ids is not None:
                    raise
                skipped.append(video_id)
                continue
            df = pd.DataFrame(v.features, columns=[f"f{i}" for i in range(v.features.shape[1])])
            df.insert(0, "requested_s", v.requested_s)
            df.index = pd.MultiIndex.from_arrays([[video_id] * len(v.actual_s), v.actual_s], names=["video", "time_s"])
            frames.append(df)
        if skipped:
            warnings.warn(f"{self.path}: left out {len(skipped)} damaged videos ({', '.join(map(repr, skipped[:5]))}); "
                          f"see `python cli.py check-store --store {self.path}`", stacklevel=2)
        if not frames:
            n = int(self.config.get("n_features", 0))
            cols = ["requested_s"] + [f"f{i}" for i in range(n)]
            return pd.DataFrame(columns=cols, index=pd.MultiIndex.from_arrays([[], []], names=["video", "time_s"]))
        return pd.concat(frames)

    def check_config(self, config: dict) -> None:
        """Raise StoreMismatch if `config` would give other numbers than the store's features."""
        mine, theirs = config_identity(self.config), config_identity(config)
        if mine != theirs:
            diff = ", ".join(f"{k} {mine[k]!r} vs {theirs[k]!r}" for k in _CONFIG_KEYS if mine[k] != theirs[k])
            raise StoreMismatch(
                f"{self.path}: holds features of {describe_config(self.config, self.weights_path)}, this run asked for "
                f"{describe_config(config)} ({diff}); use another --store or the store's settings"
            )

    def verify(self):
        """Check every stored video byte for byte and look for leftovers; changes nothing.

        Returns a `featurestore.integrity.StoreCheck`. For a store whose index cannot be opened, call
        `featurestore.verify_store(path)` (what `python cli.py check-store` does).
        """
        from .integrity import verify_store

        return verify_store(self.path)

    def repair(self):
        """Rebuild the index from the shards, leaving damaged videos out, and remove proven leftovers.

        Returns a `featurestore.integrity.StoreCheck` of the repaired store, listing what was done. For a
        store whose index cannot be opened, call `featurestore.repair_store(path)`.
        """
        from .integrity import repair_store

        return repair_store(self.path)

    # -- writing ---------------------------------------------------------------------------------
    def lock(self, name: str = ".lock", blocking: bool = True, remove: bool = False):
        """Hold an exclusive inter-process lock on a file in the shard folder; yields whether it is held.

        With `remove`, the lock file is deleted on release (see `featurestore.locks.file_lock`).
        """
        return file_lock(self.shard_dir / name, blocking=blocking, remove=remove)

    def _check_writable(self) -> None:
        """Fail now, in one line, where the index or a shard could not be written later."""
        for folder in (self.path.parent, self.shard_dir):
            if folder == self.shard_dir and not folder.is_dir():
                continue
            probe = temporary_sibling(folder / "probe", "write-test")
            try:
                os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                probe.unlink()
            except OSError as err:
                raise StoreUnwritable(f"{self.path}: cannot write the store here ({err.strerror}: {folder}); "
                                      "choose another --store") from None

    def discard_if_unused(self) -> None:
        """Remove the shard folder when no index exists and nothing is in it (after a failed first run)."""
        if not self.path.exists():
            try:
                self.shard_dir.rmdir()
            except OSError:  # not empty (a checkpoint to resume, another writer) or not there
                pass

    def _write_index(self, links: dict[str, str]) -> None:
        """Replace the index with one naming `links`; call with the lock held."""
        self.index.write(links, self.config, self.weights_path)

    def _links_for_update(self) -> dict[str, str]:
        """The index's links, read with the lock held; refuses a config other than that of the stored videos
        (another process may have created the store since this one was opened)."""
        if not self.path.exists():
            return {}
        config, weights_path = self.index.read_attrs()
        links = self._links()
        if links:
            mine = self.config
            self.config, self.weights_path = config, weights_path or self.weights_path
            self.check_config(mine)
        return links

    def put(self, video_id: str, *, requested_s, actual_s, features, info: dict) -> None:
        """Publish one video atomically, replacing a stored video of the same id.

        Parameters
        ----------
        requested_s, actual_s : array-like of shape (n,), seconds
        features : array-like of shape (n, n_features)
        info : dict
            JSON-able provenance; must hold 'sample_fps' and 'duration_s'.

        Raises
        ------
        StoreFull, StoreUnwritable
            The shard or the index could not be written; nothing was changed.
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
        name = shard_name(video_id)
        shard, tmp = self.shard_dir / name, self.shard_dir / f".{name}.tmp"
        try:
            self.shard_dir.mkdir(exist_ok=True)
        except OSError as err:
            raise unwritable(self.path, f"cannot create {self.shard_dir.name}/", err) from None
        with self.lock(f".{name}.lock", remove=True):  # tells the leftover sweep that `tmp` is being written
            try:
                try:
                    write_shard(tmp, video_id, requested_s=requested_s, actual_s=actual_s, features=features, info=info,
                                config=self.config)
                except OSError as err:
                    raise unwritable(self.path, f"cannot write the shard of {video_id!r}", err) from None
                with self.lock():
                    links = self._links_for_update()
                    os.replace(tmp, shard)
                    old = links.get(video_id)
                    links[video_id] = name
                    from .integrity import adopt_orphans, sweep

                    adopt_orphans(self, links)
                    try:
                        self._write_index(links)
                    except StoreUnwritable:
                        shard.unlink(missing_ok=True)
                        raise
                    if old and old != name:  # a 32-bit name clash would have replaced it in place
                        (self.shard_dir / old).unlink(missing_ok=True)
                    sweep(self, links)
            finally:
                tmp.unlink(missing_ok=True)

    def remove(self, video_id: str) -> None:
        """Drop one video from the store (its shard is deleted once the index no longer names it)."""
        if self.mode != "a":
            raise ValueError("store was opened read-only; open it with mode='a' to write")
        with self.lock():
            links = self._links()
            old = links.pop(video_id, None)
            if old is None:
                raise NotEmbedded(f"{self.path}: has no video {video_id!r}")
            shard = self.shard_dir / old
            # A marker first: a writer killed after the new index is written leaves the shard unindexed, and the
            # marker tells the sweep to delete it rather than take it for a lost video and put it back.
            marker = self.shard_dir / f".{old}.removed"
            marker.touch()
            try:
                self._write_index(links)
            except StoreUnwritable:
                marker.unlink(missing_ok=True)
                raise
            shard.unlink(missing_ok=True)
            marker.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, {len(self)} videos, {describe_config(self.config, self.weights_path)})"
