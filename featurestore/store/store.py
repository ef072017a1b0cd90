"""FeatureStore: VGG16 features keyed by video and timestamp, in HDF5, safe against crashes and damage.

The files and how plain h5py reads them are described in layout.py. No store exists until it holds a video:
opening for writing creates nothing, the first `put` writes the index, and an empty store takes the settings
of the next video put into it. A killed writer leaves the previous index and every published shard untouched.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from featurestore.embedding.config import describe_config, identity_differences
from featurestore.errors import NotEmbedded, StoreCorrupt, StoreMismatch, StoreUnwritable, VideoDamaged, arg, command
from featurestore.faces.table import FaceTable

from .faces import StoreFaces
from .frames import features_frame, videos_frame
from .index import unwritable
from .layout import StoreFiles, shard_name
from .shards import ShardDamaged, copy_shard, read_header, read_shard, write_image, write_shard
from .sweep import adopt_orphans, sweep

if TYPE_CHECKING:
    import pandas as pd


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

    def __repr__(self) -> str:  # a notebook shows the sizes, not every number
        span = f", {self.actual_s[0]:.3f}-{self.actual_s[-1]:.3f} s" if len(self.actual_s) else ""
        return f"<VideoFeatures {self.video_id!r}: {self.features.shape[0]} samples x {self.features.shape[1]} features{span}>"


class FeatureStore(StoreFaces, StoreFiles):
    """An HDF5 feature store: video id -> stored features (and faces: `StoreFaces`), written one whole video at a time.

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
                 weights_path: str | None = None, to_do: str = ""):
        if mode not in ("r", "a"):
            raise ValueError(f"mode must be 'r' or 'a', got {mode!r}")
        super().__init__(path)
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
            self._check_writable(to_do)  # `to_do`: what the user can do instead where the store is read-only

    # -- reading ---------------------------------------------------------------------------------
    def _refuse_missing_index(self) -> None:
        n = len(list(self.shard_dir.glob("*.h5"))) if self.shard_dir.is_dir() else 0
        if n:
            raise StoreCorrupt(f"{self.path}: the store index is missing but {self.shard_dir.name}/ holds {n} video shards; "
                               f"rebuild it with `{command(f'check-store --store {arg(self.path)} --repair')}`")
        raise StoreCorrupt(f"{self.path}: no such store; create it with `{command(f'embed VIDEO --store {arg(self.path)}')}`")

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
            known = (", ".join(repr(v) for v in sorted(links)[:5]) + (", ..." if len(links) > 5 else "")) or "none"
            raise NotEmbedded(f"{self.path}: has no video {video_id!r} (stored: {known}); embed it first")
        return self.shard_dir / links[video_id]

    def _damaged(self, video_id: str, reason: str) -> VideoDamaged:
        return VideoDamaged(f"{self.path}: video {video_id!r} is damaged ({reason}); embed its video again "
                            f"(no --replace needed), or drop it with `{command(f'check-store --store {arg(self.path)} --repair')}`",
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

    def videos(self, *, verify: bool = False) -> pd.DataFrame:
        """One row per video: duration, samples, sampling rate, frame count, fps, size, source, the store's config.

        Returns a pandas DataFrame indexed by video id. A video whose shard is damaged keeps its row, with
        the reason in column `problem` ('' when intact). Without `verify` only each video's description is read
        and checked (cheap); with `verify` every byte is read back and checked, so features that fail their
        checksum are flagged too (what `check-store` does).
        """
        rows = []
        for video_id in self.video_ids():
            try:
                header = self._from_shard(video_id, read_shard if verify else read_header)
                rows.append((video_id, (header[0] if verify else header).info, ""))
            except NotEmbedded:
                continue  # another process removed it since the listing
            except VideoDamaged as err:
                rows.append((video_id, {}, err.reason))
        return videos_frame(rows, self.config)

    def to_pandas(self, video_ids: str | list[str] | None = None, *, faces: bool = False) -> pd.DataFrame:
        """All samples as a DataFrame indexed by (video, time_s), time_s being the frame's presentation time.

        Columns: requested_s (s, the sampling grid), then f0 ... f{n_features-1} (float32). `video_ids`: a list,
        or one id. Without them, damaged videos (and any removed meanwhile by another process) are left out, the
        damaged with a warning naming them; a damaged video asked for by id raises VideoDamaged. With `faces`,
        one row per stored face instead (`StoreFaces.faces_to_pandas`). Typed alike when empty.
        """
        if faces:
            return self.faces_to_pandas(video_ids)
        video_ids = [video_ids] if isinstance(video_ids, str) else video_ids  # one id, not its letters
        videos, skipped = [], []
        for video_id in video_ids if video_ids is not None else self.video_ids():
            v = self._read_or_skip(self.read, video_id, video_ids, skipped)
            if v is not None:
                videos.append(v)
        self._warn_skipped(skipped)
        return features_frame(videos, int(self.config.get("n_features", 0)))

    def _read_or_skip(self, read, video_id: str, asked: list[str] | None, skipped: list[str]):
        """`read(video_id)`, or None (noted in `skipped`) for a damaged video that was not `asked` for by id."""
        try:
            return read(video_id)
        except NotEmbedded:
            if asked is not None:
                raise
            return None  # another process removed it since the listing: no longer part of the store
        except VideoDamaged:
            if asked is not None:
                raise
            skipped.append(video_id)
            return None

    def _warn_skipped(self, skipped: list[str]) -> None:
        if skipped:
            warnings.warn(f"{self.path}: left out {len(skipped)} damaged videos ({', '.join(map(repr, skipped[:5]))}); "
                          f"see `{command(f'check-store --store {arg(self.path)}')}`", stacklevel=3)

    def check_config(self, config: dict) -> None:
        """Raise StoreMismatch if `config` would give other numbers than the store's features."""
        differences = identity_differences(self.config, config)
        if differences:
            raise StoreMismatch(f"{self.path}: holds features of {describe_config(self.config, self.weights_path)}, this run "
                                f"asked for {describe_config(config)} ({', '.join(differences)}); use another --store or the store's settings")

    def verify(self):
        """Check every stored video byte for byte and look for leftovers; changes nothing.

        Returns a `featurestore.store.integrity.StoreCheck`. For a store whose index cannot be opened, call
        `featurestore.verify_store(path)` (what `check-store` does).
        """
        from .integrity import verify_store

        return verify_store(self.path)

    def repair(self):
        """Rebuild the index from the shards, leaving damaged videos out, and remove proven leftovers.

        Returns a `featurestore.store.integrity.StoreCheck` of the repaired store, listing what was done. For a
        store whose index cannot be opened, call `featurestore.repair_store(path)`.
        """
        from .integrity import repair_store

        return repair_store(self.path)

    # -- writing ---------------------------------------------------------------------------------
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

    def put(self, video_id: str, *, requested_s, actual_s, features, info: dict, faces: FaceTable | None = None) -> None:
        """Publish one video atomically, replacing a stored video of the same id.

        Parameters
        ----------
        requested_s, actual_s : array-like of shape (n,), seconds
        features : array-like of shape (n, n_features)
        info : dict
            JSON-able provenance; must hold 'sample_fps' and 'duration_s'.
        faces : FaceTable, optional
            The video's faces, published with its features (its `sample_times_s` are `actual_s`); without
            it the video is stored without faces.

        Raises
        ------
        StoreFull, StoreUnwritable
            The shard or the index could not be written; nothing was changed.
        StoreMismatch
            `faces` were made with another face config than the store's.
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
        extra = None if faces is None else self._faces_writer(video_id, faces, actual_s)
        self._publish(video_id, lambda tmp: write_shard(tmp, video_id, requested_s=requested_s, actual_s=actual_s,
                                                        features=features, info=info, config=self.config, extra=extra),
                      None if faces is None else faces.config)

    def put_copy(self, video_id: str, source: str, update_info) -> int:
        """Publish `video_id` with the features of the stored `source` (`shards.copy_shard`: copied by HDF5 once their checksums
        pass; info `update_info(info)`), without faces; the number of samples. Raises as `read` (of `source`) and `put`."""
        if self.mode != "a":
            raise ValueError("store was opened read-only; open it with mode='a' to write")
        image, n = self._from_shard(source, lambda src: copy_shard(
            src, video_id, lambda info, k: {**update_info(info), "video_id": video_id, "n_samples": k}))
        self._publish(video_id, lambda tmp: write_image(tmp, image), None)
        return n

    def _publish(self, video_id: str, write, faces_config: dict | None, expect: str | None = None) -> bool:
        """Write a new shard of `video_id` with `write(path)` and index it (with its faces when `faces_config`).

        With `expect`, nothing is published (False) if the index no longer names that shard for the video.
        """
        name = shard_name(video_id)
        shard, tmp = self.shard_dir / name, self.shard_dir / f".{name}.tmp"
        try:
            self.shard_dir.mkdir(exist_ok=True)
        except OSError as err:
            raise unwritable(self.path, f"cannot create {self.shard_dir.name}/", err) from None
        with self.lock(f".{name}.lock", remove=True):  # tells the leftover sweep that `tmp` is being written
            try:
                try:
                    write(tmp)
                except OSError as err:
                    raise unwritable(self.path, f"cannot write the shard of {video_id!r}", err) from None
                with self.lock():
                    links = self._links_for_update()
                    if expect is not None and links.get(video_id) != expect:
                        return False
                    self.faces_config, faced = self.index.read_faces()
                    if faces_config is not None:
                        self._refuse_faces_config(faces_config, faced, self.faces_config)
                        self.faces_config = faces_config
                    created = self.create_index()  # a new store: its index first, which the shard is adopted into
                    os.replace(tmp, shard)
                    old = links.get(video_id)
                    links[video_id] = name
                    faced.discard(video_id)
                    if faces_config is not None:
                        faced.add(video_id)
                    adopt_orphans(self, links, faced)
                    try:
                        self.write_index(links, faced)
                    except StoreUnwritable:
                        for path in (shard, self.path) if created else (shard,):
                            path.unlink(missing_ok=True)
                        raise
                    if old and old != name:  # a 32-bit name clash would have replaced it in place
                        (self.shard_dir / old).unlink(missing_ok=True)
                    sweep(self, links)
            finally:
                tmp.unlink(missing_ok=True)
        return True

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
                self.write_index(links)
            except StoreUnwritable:
                marker.unlink(missing_ok=True)
                raise
            shard.unlink(missing_ok=True)
            marker.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"FeatureStore({str(self.path)!r}, {len(self)} videos, {describe_config(self.config, self.weights_path)})"
