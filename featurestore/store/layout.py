"""Where a store keeps its files, and `StoreFiles`: a store's files with no check made.

Layout (readable with plain h5py; the index follows external links into the shards)::

    features.h5                     the index; replaced atomically (write a copy, rename) on every change
        attrs  screentime_store=1, config=<JSON of the embedding config>, weights_path (weights-file stores),
               revision=<random hex, new on every write: readers keep what they read of one revision>,
               layout=<where /videos links lead, in words>
        /videos/<key>               external link -> features.h5.d/<shard>.h5:/video
        attrs  faces_config=<JSON of the face config>, faces_layout (once a video's faces are stored)
        /faces/<key>                external link -> features.h5.d/<shard>.h5:/video/faces (see faces.py)
        /contents                   each video's fingerprint and sample rate, a cache of its shard's (contents.py)
    features.h5.d/<shard>.h5        one video, written once, checksummed and self-describing (see shards.py)
    features.h5.d/<stem>.part/      checkpoints of an embedding in progress (<stem>: video_stem; see checkpoint.py)
    features.h5.d/<stem>.lock       held while a process embeds that video
    features.h5.d/.lock             serialises index updates between processes
    features.h5.d/damaged/          shards that `repair` left out of the index

`<key>` is the video id with '%' and '/' percent-encoded (and '.'/'..' spelled '%2E', '%2E%2E'; see index.py).
The store is the index plus the folder named after it: move or copy the two together. Shards are found by
their file name in that folder, so a renamed store reads as before.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path

from featurestore.errors import StoreUnwritable
from featurestore.files import temporary_sibling

from . import contents
from .index import StoreIndex
from .locks import file_lock

DAMAGED_DIR = "damaged"


def video_stem(video_id: str) -> str:
    """Short file-name-safe tag of a video id, shared by its shards, checkpoint folder and lock."""
    return hashlib.sha1(video_id.encode()).hexdigest()[:16]


def shard_name(video_id: str) -> str:
    """A fresh shard file name for `video_id`: '<sha1 of the id, 16 hex>-<random, 8 hex>.h5'."""
    return f"{video_stem(video_id)}-{uuid.uuid4().hex[:8]}.h5"


def video_lock_name(video_id: str) -> str:
    """The lock a process holds while it embeds `video_id` into the store."""
    return video_stem(video_id) + ".lock"


def checkpoint_name(video_id: str) -> str:
    """The folder of `video_id`'s checkpoints in the shard folder."""
    return video_stem(video_id) + ".part"


class StoreFiles:
    """The files of the store whose index is `path`: nothing is read or checked when it is made.

    `FeatureStore` is the checked, public face; verification and repair (integrity.py) and the leftover
    sweep (sweep.py) work on these files directly, since they must open damaged stores.

    Attributes
    ----------
    path : Path
        The index file (a symlink's target: the store it links to).
    shard_dir : Path
        '<path>.d', the folder of shards, checkpoints and locks.
    index : StoreIndex
    config : dict
        The store's embedding config as read (empty until read).
    weights_path : str or None
        The weights file a 'sha256:' config came from, as recorded.
    faces_config : dict or None
        The face config of the stored face tables (None while no video's faces are stored).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if self.path.is_symlink():  # a link to a store elsewhere (a team's folder): its shards lie beside the real
            self.path = Path(os.path.realpath(self.path))  # index, and a write must replace that file, not the link
        self.shard_dir = self.path.with_name(self.path.name + ".d")
        self.index = StoreIndex(self.path, self.shard_dir)
        self.config: dict = {}
        self.weights_path: str | None = None
        self.faces_config: dict | None = None

    def lock(self, name: str = ".lock", blocking: bool = True, remove: bool = False):
        """Hold an exclusive inter-process lock on a file in the shard folder; yields whether it is held.

        With `remove`, the lock file is deleted on release (see `featurestore.store.locks.file_lock`).
        """
        return file_lock(self.shard_dir / name, blocking=blocking, remove=remove)

    def write_index(self, links: dict[str, str], faced: set[str] | None = None) -> None:
        """Replace the index with one naming `links`, with this store's config; call with the lock held.

        `faced`: the videos whose face tables the index names (with `faces_config`); None keeps those it names now.
        """
        if faced is None:
            self.faces_config, faced = self.index.read_faces()
        self.index.write(links, self.config, self.weights_path, faced, self.faces_config)

    def create_index(self) -> bool:
        """Write an empty index where none exists yet (lock held); whether it did. Written before a new store's
        first shard is published, so that a writer killed before indexing that shard leaves an index the next
        writer adopts the shard into (`sweep.adopt_orphans`), not a folder of shards without an index."""
        if self.path.exists():
            return False
        self.write_index({}, set())
        return True

    def contents(self) -> dict[str, tuple[str, float]]:
        """(fingerprint, sample_fps) of each stored video by id: what the index records of its shard, else read
        from the shard's description (indexes written before recorded none); damaged shards are left out."""
        entries = contents.record(self.shard_dir, self.index.links(), self.index.contents())
        return {video_id: (entry[3], entry[4]) for video_id, entry in entries.items() if entry[3] is not None}

    def _check_writable(self, to_do: str = "") -> None:
        """Fail now, in one line, where the index or a shard could not be written later; `to_do`: what the user can do
        instead, for a store they may read but not write (default: how to add videos)."""
        name = self.path.name
        to_do = to_do or f"to add videos, copy {name} and {self.shard_dir.name}/ together to a folder you can write and use that --store"
        for folder in (self.path.parent, self.shard_dir):
            if folder == self.shard_dir and not folder.is_dir():
                continue
            if not folder.is_dir():
                raise StoreUnwritable(f"{self.path}: cannot write the store here (the folder {folder} does not exist); "
                                      "create it or choose another --store")
            probe = temporary_sibling(folder / "probe", "write-test")
            try:
                os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
                probe.unlink()
            except OSError as err:
                raise StoreUnwritable(f"{self.path}: cannot write the store here ({err.strerror}: {folder}): it is read-only "
                                      f"here, commands that only read it work; {to_do}") from None
        if self.path.is_file() and not self.path.stat().st_mode & 0o222:
            # replaced by a rename, the file would be written whatever its mode; no write bit at all is its owner's wish
            # (another member's 0644 index in a team's shared folder is not: umask 022 gives every file that mode)
            raise StoreUnwritable(f"{self.path}: the store file is write-protected (mode {self.path.stat().st_mode & 0o777:o}): "
                                  f"it is read, never changed; chmod u+w it to write it, or {to_do}")

    def discard_if_unused(self) -> None:
        """Remove the shard folder when no index exists and nothing is in it (after a failed first run)."""
        if not self.path.exists():
            try:
                self.shard_dir.rmdir()
            except OSError:  # not empty (a checkpoint to resume, another writer) or not there
                pass
