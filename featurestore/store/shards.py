"""One video's shard file: written once, then only read; it describes itself and carries checksums.

    /video/features      (n, n_features) float32
    /video/requested_s   (n,) float64, seconds
    /video/actual_s      (n,) float64, seconds
    /video attrs         screentime_shard=1, video_id, config (JSON), info (JSON), written_ns,
                         arrays_sha256 (of the three arrays' little-endian bytes, in that order),
                         meta_sha256 (of video_id, config and info), and the scalar info values
    /video/faces/        the video's face table, when its faces are stored (with its own checksums: faces.py)

A shard holds everything needed to put it back in an index (`FeatureStore.repair`), and its checksums
let every read refuse features that changed on disk. Shards written before checksums existed are read
unverified.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np

from featurestore.errors import StoreBusy


SHARD_FORMAT = 1
#: The group of a shard's `/video` that holds the video's face table (faces.py).
FACES = "faces"

# What h5py and HDF5 raise on a damaged file: truncated, flipped bytes in metadata, missing objects.
READ_ERRORS = (OSError, KeyError, ValueError, RuntimeError, TypeError, AttributeError)


class ShardDamaged(Exception):
    """A shard cannot be read or fails its checksum; the message says how, in a few words."""


def open_hdf5(path: str | os.PathLike) -> h5py.File:
    """`h5py.File(path, "r")`, every read of a store's files; StoreBusy when HDF5 cannot lock it for reading.

    HDF5 locks a file while it is open (shared for reading, exclusive for writing; `HDF5_USE_FILE_LOCKING` and
    h5py's `locking=` change that), so a store file another program holds open for writing (`h5py.File(p, "a")`,
    also through the index's links) cannot be opened: busy, not damaged. screentime never writes a file in place
    (it writes a new one and renames it), so its own writers never hold such a lock.
    """
    try:
        return h5py.File(path, "r")
    except OSError as err:
        if "unable to lock file" not in str(err):
            raise
        if err.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
            raise StoreBusy(f"{path}: is open for writing in another program (HDF5 locks it while it is open); close it "
                            "there, or open it read-only (h5py.File(path, 'r')), and run again") from None
        raise StoreBusy(f"{path}: HDF5 cannot lock it for reading ({first_line(err)}); on a file system without locks "
                        "(some NFS), set HDF5_USE_FILE_LOCKING=BEST_EFFORT and run again") from None


@contextlib.contextmanager
def shard_file(path: str | os.PathLike, unreadable: str = "unreadable"):
    """`open_hdf5(path)` for the body of a with; a missing file, or one the body cannot read (`READ_ERRORS`), raises
    ShardDamaged: "its shard file is missing", or "`unreadable`: <the error's first line>"."""
    try:
        with open_hdf5(path) as f:
            yield f
    except FileNotFoundError:
        raise ShardDamaged("its shard file is missing") from None
    except READ_ERRORS as err:
        raise ShardDamaged(f"{unreadable}: {first_line(err)}") from None


def arrays_digest(requested_s: np.ndarray, actual_s: np.ndarray, features: np.ndarray) -> str:
    """'sha256:<hex>' of the arrays' bytes (little-endian float64, float64, float32; C order)."""
    digest = hashlib.sha256()
    for array, dtype in ((requested_s, "<f8"), (actual_s, "<f8"), (features, "<f4")):
        digest.update(np.ascontiguousarray(array, dtype=dtype).data)
    return "sha256:" + digest.hexdigest()


def meta_digest(video_id: str, config_json: str, info_json: str) -> str:
    """'sha256:<hex>' of a shard's id, config and info, as stored."""
    return "sha256:" + hashlib.sha256("\0".join((video_id, config_json, info_json)).encode("utf-8")).hexdigest()


@dataclass
class ShardHeader:
    """What a shard says about itself, read from its attributes alone (cheap).

    `is_checked` is False for shards written before checksums existed; `has_faces`: it holds a face table.
    """

    video_id: str
    config: dict
    info: dict
    written_ns: int
    is_checked: bool
    has_faces: bool = False


def _describe(g, video_id: str, info: dict, config_json: str, info_json: str, arrays_sha256: str) -> None:
    """The `/video` group's attributes: the description's plain values, its JSON, the format, and the checksums."""
    for key, value in info.items():
        if isinstance(value, (str, int, float, bool)):
            g.attrs[key] = value
    g.attrs["screentime_shard"] = SHARD_FORMAT
    g.attrs["video_id"] = video_id
    g.attrs["config"] = config_json
    g.attrs["info"] = info_json
    g.attrs["written_ns"] = time.time_ns()
    g.attrs["arrays_sha256"] = arrays_sha256
    g.attrs["meta_sha256"] = meta_digest(video_id, config_json, info_json)


def write_shard(path: Path, video_id: str, *, requested_s: np.ndarray, actual_s: np.ndarray, features: np.ndarray,
                info: dict, config: dict, extra=None) -> None:
    """Write a complete shard to `path` and flush it to disk (the caller renames it into place).

    `extra(group)`, if given, adds to the `/video` group before it is written (the face table: faces.py).

    Raises OSError (errno ENOSPC when the disk is full) with nothing half-done in HDF5.
    """
    n = len(requested_s)
    config_json = json.dumps(config, sort_keys=True)
    info_json = json.dumps(info, sort_keys=True)

    def fill(f: h5py.File) -> None:
        g = f.create_group("video")
        g.create_dataset("features", data=features, chunks=(min(max(n, 1), 256), features.shape[1]) if n else None)
        g.create_dataset("requested_s", data=requested_s)
        g.create_dataset("actual_s", data=actual_s)
        _describe(g, video_id, info, config_json, info_json, arrays_digest(requested_s, actual_s, features))
        if extra is not None:
            extra(g)

    write_image(path, hdf5_image(fill))


def copy_shard(source: Path, video_id: str, update_info) -> tuple[bytes, int]:
    """The file image of a shard of `video_id` holding the features of the shard `source` (`write_image` writes it).

    The arrays are copied by HDF5 itself (H5Ocopy: no NumPy round trip, the same bytes and layout) once they
    have passed the source's checksums; their `arrays_sha256` is carried over (the same bytes), the description
    is the source's `info` passed through `update_info(info, n_samples)` and checksummed anew. A face table is
    not copied (its description names its video: `FeatureStore.put` writes it). Returns (image, number of samples).

    Raises ShardDamaged when the source is unreadable or fails a checksum.
    """
    with shard_file(source) as src:
        s = src["video"]
        header = _header(s)
        expected = s.attrs.get("arrays_sha256")
        arrays = [s[name][()] for name in ("requested_s", "actual_s", "features")]
        n = len(arrays[0])
        if expected is None or arrays_digest(*arrays) != expected:
            raise ShardDamaged("its features fail their checksum (changed on disk)")
        if header.is_checked and header.info.get("n_samples", n) != n:
            raise ShardDamaged(f"it holds {n} samples, its description says {header.info.get('n_samples')}")
        config_json = str(s.attrs["config"])
        info = update_info(dict(header.info), n)
        info_json = json.dumps(info, sort_keys=True)

        def fill(f: h5py.File) -> None:
            g = f.create_group("video")
            for name in ("features", "requested_s", "actual_s"):
                src.copy(s[name], g, name=name)
            _describe(g, video_id, info, config_json, info_json, expected)

        return hdf5_image(fill), n


def hdf5_image(fill) -> bytes:
    """The bytes of an HDF5 file built in memory by `fill(h5py.File)`.

    HDF5 does not survive a failed disk write (with a full disk it reports errors from object destructors and
    can crash the process), so files are built in memory and written with plain file I/O.
    """
    with h5py.File(f"screentime-{uuid.uuid4().hex}.h5", "w", driver="core", backing_store=False) as f:
        fill(f)
        f.flush()
        return f.id.get_file_image()


def write_image(path: Path, image: bytes) -> None:
    """Write `image` to `path` and flush it to disk; on any error the partial file is removed and OSError raised."""
    try:
        with open(path, "wb") as fh:
            fh.write(image)
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        Path(path).unlink(missing_ok=True)
        raise


def _header(g: h5py.Group) -> ShardHeader:
    attrs = g.attrs
    config_json, info_json = str(attrs["config"]), str(attrs["info"])
    info = json.loads(info_json)
    video_id = str(attrs.get("video_id", info.get("video_id", "")))
    is_checked = "meta_sha256" in attrs
    if is_checked and meta_digest(video_id, config_json, info_json) != attrs["meta_sha256"]:
        raise ShardDamaged("its description fails its checksum")
    if not video_id:
        raise ShardDamaged("it does not name its video")
    return ShardHeader(video_id, json.loads(config_json), info, int(attrs.get("written_ns", 0)), is_checked,
                       FACES in g)


def read_header(path: Path) -> ShardHeader:
    """The shard's self-description, verified against its checksum; raises ShardDamaged."""
    with shard_file(path) as f:
        return _header(f["video"])


def read_shard(path: Path) -> tuple[ShardHeader, np.ndarray, np.ndarray, np.ndarray]:
    """(header, requested_s, actual_s, features), all verified against the shard's checksums; raises ShardDamaged."""
    with shard_file(path) as f:
        g = f["video"]
        header = _header(g)
        requested_s, actual_s, features = g["requested_s"][()], g["actual_s"][()], g["features"][()]
        expected = g.attrs.get("arrays_sha256")
    n = len(requested_s)
    if features.ndim != 2 or len(features) != n or actual_s.shape != (n,):
        raise ShardDamaged(f"its arrays disagree in length ({features.shape}, {actual_s.shape}, {requested_s.shape})")
    if expected is not None and arrays_digest(requested_s, actual_s, features) != expected:
        raise ShardDamaged("its features fail their checksum (changed on disk)")
    if header.is_checked and header.info.get("n_samples", n) != n:
        raise ShardDamaged(f"it holds {n} samples, its description says {header.info.get('n_samples')}")
    return header, requested_s, actual_s, features


def first_line(err: BaseException) -> str:
    """The first line of an error's message (at most 160 characters), or its type when it has none."""
    text = str(err).strip()
    return text.splitlines()[0][:160] if text else type(err).__name__
