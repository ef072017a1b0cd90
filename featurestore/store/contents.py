"""What each shard holds, recorded in the index: the video's fingerprint and sample rate per stored video, so a
byte-identical copy finds its source from one read of the index instead of opening every shard.

A cache, nothing more: each entry names the shard file with its size and modification time when recorded, and it
is used (by a reader, or kept by the next index write: both through `record`) only while the shard it links to still
has them; else the shard's own description is read (a stat per video instead of opening each shard). The copy checks its source's
description again before copying (`featurestore.reuse.copy_stored`). Indexes written before have none: every
shard is read, as before, and the next write records them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import h5py
import numpy as np

from featurestore.errors import StoreBusy

from .shards import READ_ERRORS, ShardDamaged, read_header

#: The index's dataset: UTF-8 JSON {video_id: [shard, size_bytes, mtime_ns, fingerprint or null, sample_fps]}.
DATASET = "contents"


def read(f: h5py.File) -> dict[str, list]:
    """The entries recorded in the open index `f` ({} when it has none or they cannot be read)."""
    try:
        data = f.get(DATASET)
        entries = {} if data is None else json.loads(bytes(np.asarray(data[()], np.uint8)).decode("utf-8"))
    except (*READ_ERRORS, ValueError, TypeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _unchanged(entry, name: str, stat: os.stat_result) -> bool:
    return isinstance(entry, list) and len(entry) == 5 and entry[:3] == [name, stat.st_size, stat.st_mtime_ns]


def record(shard_dir: Path, links: dict[str, str], old: dict[str, list]) -> dict[str, list]:
    """The entries for `links` (video_id -> shard name): `old`'s where its shard is unchanged, else read from the
    shard's description; damaged shards are left out. A description without a fingerprint (a video put from
    Python) is recorded with None, so that it is not read again on every write (which made n puts cost n²)."""
    out = {}
    for video_id, name in links.items():
        try:
            stat = os.stat(shard_dir / name)
        except OSError:
            continue
        if _unchanged(old.get(video_id), name, stat):
            out[video_id] = old[video_id]
            continue
        try:
            info = read_header(shard_dir / name).info
        except (ShardDamaged, StoreBusy):
            continue
        if "sample_fps" in info:
            fingerprint = info.get("fingerprint")
            out[video_id] = [name, stat.st_size, stat.st_mtime_ns, None if fingerprint is None else str(fingerprint),
                             float(info["sample_fps"])]
    return out


def write(f: h5py.File, entries: dict[str, list]) -> None:
    """Put `entries` into the index being built in `f`."""
    f.create_dataset(DATASET, data=np.frombuffer(json.dumps(entries, sort_keys=True).encode("utf-8"), np.uint8))
