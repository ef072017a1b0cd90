"""Leftovers of interrupted runs, and shards the index lost: what every write to the store cleans up.

A leftover is removed only when it is proven dead: a file that only a writer holding the store lock
creates (temporary index copies, the shard `remove` marked and no longer indexes), a temporary shard whose
own lock no living process holds, a checkpoint nobody holds of a video that is already published (or that
can never be resumed into this store), a shard the index replaced, a lock file nobody holds. A shard holding
a whole video of this store's config that the index does not name is put back into the index, never deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from pathlib import Path

from featurestore.embedding.config import config_identity
from featurestore.errors import StoreBusy, StoreCorrupt

from .faces import read_faces_config
from .layout import StoreFiles, checkpoint_name
from .shards import ShardDamaged, read_header


def same_config(a: dict, b: dict) -> bool:
    """Whether configs `a` and `b` give the same features (`config_identity`)."""
    return config_identity(a) == config_identity(b)


def adopt_orphans(store: StoreFiles, links: dict[str, str], faced: set[str] | None = None) -> list[tuple[str, str]]:
    """Add to `links` the intact shards of this store's config whose video id the index lacks (lock held).

    Such a shard is a whole video whose writer was killed between publishing it and indexing it (or one
    an older copy of the index never knew). With `faced` (the videos whose faces the index will name), an
    adopted shard's face table of the store's face config (or the first one, in a store without faces) is
    added to it. Returns the (video_id, shard name) pairs added.
    """
    named = set(links.values())
    best: dict[str, tuple[int, str]] = {}
    for shard in store.shard_dir.glob("*.h5"):
        if shard.name in named or (store.shard_dir / f".{shard.name}.removed").exists():
            continue
        try:
            header = read_header(shard)
        except (ShardDamaged, StoreBusy):  # a shard another program holds open waits for a later write
            continue
        if header.video_id in links or not same_config(header.config, store.config):
            continue
        if header.video_id not in best or (header.written_ns, shard.name) > best[header.video_id]:
            best[header.video_id] = (header.written_ns, shard.name)
    for video_id, (_, name) in best.items():
        links[video_id] = name
        if faced is not None:
            adopt_faces(store, video_id, name, faced)
    return [(video_id, name) for video_id, (_, name) in sorted(best.items())]


def adopt_faces(store: StoreFiles, video_id: str, name: str, faced: set[str]) -> bool:
    """Add `video_id` to `faced` if shard `name` holds a readable face table the store's face config allows."""
    try:
        config = read_faces_config(store.shard_dir / name)
    except (ShardDamaged, StoreBusy):
        return False
    if faced and store.faces_config is not None and config != store.faces_config:
        return False
    if not faced:
        store.faces_config = config
    faced.add(video_id)
    return True


def sweep(store: StoreFiles, links: dict[str, str]) -> tuple[int, int]:
    """Remove proven leftovers (call with the store lock held, `links` being the index just written).

    Returns (number of files and folders removed, bytes freed).
    """
    removed = freed = 0
    for path, lock in leftovers(store, links, probe_only=False):
        if lock is not None:
            with store.lock(lock.name, blocking=False, remove=True) as held:
                if held:
                    n = size_bytes(path)
                    removed, freed = removed + _delete(path), freed + n
            continue
        if path.name.endswith(".removed"):  # a marker of `remove`: its shard goes unless still indexed (kill before the index)
            name = path.name[1:-len(".removed")]
            if name not in links.values():
                n = size_bytes(store.shard_dir / name)
                removed, freed = removed + _delete(store.shard_dir / name), freed + n
        n = size_bytes(path)
        removed, freed = removed + _delete(path), freed + n
    return removed, freed


def leftovers(store: StoreFiles, links: dict[str, str], probe_only: bool):
    """Yield (path, lock or None): leftovers of killed or finished runs.

    A path with a lock is a leftover only while nobody holds that lock: `sweep` takes it before deleting;
    with `probe_only`, such paths are yielded only if the lock is free now (for `verify_store`).
    """
    d = store.shard_dir
    candidates = []
    if probe_only and _is_held(d / ".lock"):
        return  # a writer is at work: everything it owns may be in use
    candidates += [(p, None) for p in store.path.parent.glob(f".{store.path.name}.tmp-*")]  # index copies
    if not d.is_dir():
        yield from candidates
        return
    candidates += [(p, None) for p in d.glob(".*.removed")]
    candidates += [(p, None) for p in d.glob(".*.trash-*")]
    named = set(links.values())
    for shard in d.glob("*.h5"):
        if shard.name in named:
            continue
        try:
            header = read_header(shard)
        except StoreBusy:
            continue  # open in another program: not ours to judge now
        except ShardDamaged:
            candidates.append((shard, None))  # unindexed and unreadable: never a whole video
            continue
        if header.video_id in links and same_config(header.config, store.config):
            candidates.append((shard, None))  # replaced by the shard the index names
    for tmp in d.glob(".*.h5.tmp"):
        candidates.append((tmp, d / (tmp.name[: -len(".tmp")] + ".lock")))
    for part in d.glob("*.part"):
        if _is_spent_checkpoint(store, links, part):
            candidates.append((part, d / (part.name[: -len(".part")] + ".lock")))
    guarded = {lock for _, lock in candidates if lock is not None}
    for lock in d.glob("*.lock"):  # a lock file nobody holds: its process was killed (or never cleaned up)
        if lock.name != ".lock" and lock not in guarded:
            candidates.append((lock, lock))
    for path, lock in candidates:
        if probe_only and lock is not None and _is_held(lock):
            continue
        yield path, lock


def _is_spent_checkpoint(store: StoreFiles, links: dict[str, str], part: Path) -> bool:
    """Whether checkpoint folder `part` can never be resumed: unreadable, other settings, or already published."""
    try:
        meta = json.loads((part / "meta.json").read_text())
        video_id = meta["video_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    if part.name != checkpoint_name(str(video_id)):
        return True
    if links and not same_config(meta.get("config", {}), store.config):
        return True
    if video_id not in links:
        return False  # work to resume
    try:
        info = read_header(store.shard_dir / links[video_id]).info
    except (ShardDamaged, StoreBusy):
        return False
    if info.get("fingerprint") != meta.get("fingerprint") or info.get("sample_fps") != meta.get("sample_fps"):
        return False
    if "faces" in meta:  # faces in progress: spent once the video's faces of that config are stored
        try:
            faces_config, faced = store.index.read_faces()
        except (StoreCorrupt, StoreBusy):
            return False
        return video_id in faced and faces_config == meta["faces"]
    return True


def _is_held(lock: Path) -> bool:
    """Whether some process holds `lock` now; creates nothing (works on a read-only store)."""
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # releases the probe's lock if it got it


def size_bytes(path: Path) -> int:
    """Bytes a file or a folder's files take (0 if gone)."""
    try:
        if path.is_dir():
            return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
        return path.stat().st_size
    except OSError:
        return 0


def _delete(path: Path) -> int:
    """Remove a file, or a folder (renamed aside first, so a kill never leaves half of it under its name)."""
    try:
        if path.is_dir():
            if ".trash-" not in path.name:
                aside = path.with_name(f".{path.name}.trash-{uuid.uuid4().hex[:8]}")
                os.replace(path, aside)
                path = aside
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        return 0 if path.exists() else 1  # another user's leftover may stay: not counted as removed
    except OSError:
        return 0
