"""The store's index file: which shard holds which video, and the store's embedding config; which videos' faces are
stored, and the store's face config.

It is small and always replaced whole (built in memory, written to a temporary file, renamed over), so a
reader or a crash sees the old index or the new one. Links name `<store>.d/<shard>` for plain h5py;
screentime itself uses only the shard's file name, so a renamed store reads as before.
"""

from __future__ import annotations

import copy
import json
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import h5py

from featurestore.errors import StoreCorrupt, StoreFull, StoreUnwritable, arg, command
from featurestore.files import atomic_write, is_disk_full

from . import contents
from .shards import READ_ERRORS, first_line, hdf5_image, open_hdf5

FORMAT_VERSION = 1
#: Index files held open at most, over every store object of a process (each holds the one it read last): beyond it,
#: a store object opens its index on every read, as off POSIX, rather than use up the process's file descriptors.
MAX_HELD = 64


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


class StoreIndex:
    """The index file at `path` of the store whose shards live in `shard_dir`."""

    def __init__(self, path: Path, shard_dir: Path):
        self.path, self.shard_dir = path, shard_dir
        self._read: dict[str, tuple[str, object]] = {}  # what was read, by the index's revision
        self._held = None  # the index file last read, kept open (POSIX), and its revision: see `_held_revision`

    def _cached(self, what: str, read):
        """`read(f)` on the open index, or what it gave for this revision of the file: every write gives the index a
        new random `revision`, so a store object, which reads its index often, reads each revision once (an index
        without one: every time). On POSIX the file read last is held open (`MAX_HELD` in a process): while the path
        still names it, its revision is known without opening it as HDF5 (a copy of a video into a store of one
        opened the index 32 times, now 6)."""
        known = self._held_revision()
        hit = self._read.get(what)
        if known is not None and hit is not None and hit[0] == known:
            return hit[1]
        held = None
        if known is None:  # changed, or never held: let go of the old file before holding the new one
            self._swap_held(None)
            held = _hold(self.path)
        with self.open() as f:
            revision = str(f.attrs["revision"]) if "revision" in f.attrs else None
            value = hit[1] if revision is not None and hit is not None and hit[0] == revision else read(f)
        if held is not None:
            held.revision = revision
            self._swap_held(held if revision is not None else None)
        if revision is not None:
            self._read[what] = (revision, value)
        return value

    def _held_revision(self) -> str | None:
        """The revision of the file held, if the path still names it as it was when opened (device, inode, size,
        mtime and ctime); else None. screentime only ever replaces the index whole, and the file held keeps its inode
        from being reused; a rewrite in place by another program changes its size or times (unseen only within one
        tick of the clock the file system stamps times with, at the same size)."""
        if self._held is None:
            return None
        try:
            return self._held.revision if _signature(os.stat(self.path)) == self._held.signature else None
        except OSError:
            return None

    def __getstate__(self) -> dict:  # a store object sent to a worker process reads its index anew
        return {**self.__dict__, "_read": {}, "_held": None}

    def _swap_held(self, held) -> None:
        if self._held is not None and self._held is not held:
            self._held.close()
        self._held = held

    def exists(self) -> bool:
        if self.path.is_dir():
            raise StoreCorrupt(f"{self.path}: is a directory, not a screentime store; {_store_in(self.path)}")
        return self.path.exists()

    def damaged(self, err: BaseException) -> StoreCorrupt:
        return StoreCorrupt(f"{self.path}: the store index is damaged ({first_line(err)}); its videos are safe in "
                            f"{self.shard_dir.name}/: rebuild the index with `{command(f'check-store --store {arg(self.path)} --repair')}`")

    @contextmanager
    def open(self) -> Iterator[h5py.File]:
        try:
            f = open_hdf5(self.path)
        except FileNotFoundError:
            raise StoreCorrupt(f"{self.path}: no such store") from None
        except OSError as err:
            if any(self.shard_dir.glob("*.h5")):
                raise self.damaged(err) from None
            raise StoreCorrupt(f"{self.path}: not a screentime store (not an HDF5 file: {first_line(err)}); choose another --store") from None
        try:
            if "screentime_store" not in f.attrs or "config" not in f.attrs:
                raise StoreCorrupt(f"{self.path}: an HDF5 file but not a screentime store (no 'screentime_store' attribute); choose another --store")
            yield f
        finally:
            f.close()

    def read_attrs(self) -> tuple[dict, str | None]:
        """(config, weights_path or None)."""
        config, weights_path = self._cached("attrs", self._read_attrs)
        return copy.deepcopy(config), weights_path

    def _read_attrs(self, f: h5py.File) -> tuple[dict, str | None]:
        try:
            return json.loads(f.attrs["config"]), (str(f.attrs["weights_path"]) if "weights_path" in f.attrs else None)
        except READ_ERRORS as err:
            raise self.damaged(err) from None

    def _raw_links(self) -> dict[str, str]:
        if not self.path.exists():
            return {}
        return dict(self._cached("links", self._read_links))

    def _read_links(self, f: h5py.File) -> dict[str, str]:
        try:
            group = f.get("videos")
            return {} if group is None else {video_id_from_key(k): group.get(k, getlink=True).filename for k in group}
        except READ_ERRORS as err:
            raise self.damaged(err) from None

    def read_faces(self) -> tuple[dict | None, set[str]]:
        """(the store's face config, or None while no video's faces are stored; ids of the videos with faces)."""
        if not self.path.exists():
            return None, set()
        config, faced = self._cached("faces", self._read_faces)
        return copy.deepcopy(config), set(faced)

    def _read_faces(self, f: h5py.File) -> tuple[dict | None, set[str]]:
        try:
            group = f.get("faces")
            faced = set() if group is None else {video_id_from_key(k) for k in group}
            config = json.loads(f.attrs["faces_config"]) if faced and "faces_config" in f.attrs else None
        except READ_ERRORS as err:
            raise self.damaged(err) from None
        return config, faced

    def contents(self) -> dict[str, list]:
        """What the index records of each shard's content (`featurestore.store.contents`; {} if nothing)."""
        if not self.path.exists():
            return {}
        return dict(self._cached("contents", contents.read))

    def links(self) -> dict[str, str]:
        """video_id -> shard file name in `shard_dir` ({} before the first video)."""
        return {video_id: target.rsplit("/", 1)[-1] for video_id, target in self._raw_links().items()}  # written with "/"

    def has_stale_links(self) -> bool:
        """Whether links name another folder than `shard_dir` (the store was moved since its last change)."""
        return any(Path(target).parent.name != self.shard_dir.name for target in self._raw_links().values())

    def write(self, links: dict[str, str], config: dict, weights_path: str | None, faced=(),
              faces_config: dict | None = None) -> None:
        """Replace the index atomically; call with the store lock held. Raises StoreFull or StoreUnwritable.

        `faced`: the videos (of `links`) whose shards hold their face table, all of face config `faces_config`.
        """
        faced = sorted(v for v in faced if v in links)
        if faced and faces_config is None:
            raise ValueError("faces_config is required with faced videos")
        try:
            recorded = contents.record(self.shard_dir, links, self.contents())
        except StoreCorrupt:  # a damaged index is being replaced: read every shard
            recorded = contents.record(self.shard_dir, links, {})

        def fill(f: h5py.File) -> None:
            f.attrs["screentime_store"] = FORMAT_VERSION
            f.attrs["revision"] = uuid.uuid4().hex  # new on every write: readers keep what they read of a revision
            f.attrs["config"] = json.dumps(config, sort_keys=True)
            if weights_path:
                f.attrs["weights_path"] = weights_path
            f.attrs["layout"] = "videos/<video key> -> external link to <store>.d/<shard>.h5:/video"
            group = f.create_group("videos")
            for video_id, name in sorted(links.items()):
                group[video_key(video_id)] = h5py.ExternalLink(f"{self.shard_dir.name}/{name}", "/video")
            contents.write(f, recorded)
            if faced:
                f.attrs["faces_config"] = json.dumps(faces_config, sort_keys=True)
                f.attrs["faces_layout"] = "faces/<video key> -> external link to <store>.d/<shard>.h5:/video/faces"
                faces = f.create_group("faces")
                for video_id in faced:
                    faces[video_key(video_id)] = h5py.ExternalLink(f"{self.shard_dir.name}/{links[video_id]}",
                                                                   "/video/faces")

        try:
            atomic_write(self.path, hdf5_image(fill))
        except OSError as err:
            raise unwritable(self.path, "cannot write the store index", err) from None


def _store_in(folder: Path) -> str:
    """What to pass instead of `folder`: the store whose shard folder it is, or the stores in it (index files beside
    their shard folder), else a file name."""
    index = folder.with_name(folder.name[:-2]) if folder.name.endswith(".d") else None
    if index is not None and index.is_file():
        return f"it is the shard folder of the store {index}: pass --store {arg(index)}"
    try:
        stores = sorted(p for p in folder.glob("*.h5") if p.is_file() and p.with_name(p.name + ".d").is_dir())
    except OSError:
        stores = []
    if stores:
        return "pass the store's index file in it: " + ", ".join(f"--store {arg(p)}" for p in stores[:3])
    return "pass a file path such as features.h5"


def _hold(path: Path) -> _Held | None:
    """The file at `path` held open, with its signature then (None off POSIX, where an open file cannot be renamed
    over, or if it cannot be opened: then every read opens the index)."""
    if os.name != "posix" or _Held.count >= MAX_HELD:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    held = _Held(fd)
    try:
        held.signature = _signature(os.fstat(fd))
    except OSError:
        held.close()
        return None
    return held


def _signature(st: os.stat_result) -> tuple:
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns


class _Held:
    """An open file descriptor, the signature of its file when opened and the index revision read from it; closed by
    `close` or when dropped."""

    count = 0  # open now, in this process

    def __init__(self, fd: int):
        self.fd, self.signature, self.revision = fd, (), None
        _Held.count += 1

    def close(self) -> None:
        fd, self.fd = self.fd, -1
        if fd >= 0:
            _Held.count -= 1
            try:
                os.close(fd)
            except OSError:
                pass

    def __del__(self):
        self.close()


def unwritable(store: Path, what: str, err: OSError) -> StoreUnwritable:
    """One line for a failed write: StoreFull when the disk is full."""
    if is_disk_full(err):
        return StoreFull(f"{store}: {what}: the disk is full (No space left on device); nothing was changed, free some space and run again")
    return StoreUnwritable(f"{store}: {what} ({err.strerror or first_line(err)}); nothing was changed")

