"""Store integrity: verify every stored video, rebuild a damaged or lost index from the shards, sweep leftovers.

A leftover is removed only when it is proven dead: a file that only a writer holding the store lock
creates (temporary index copies, the shard `remove` marked and no longer indexes), a temporary shard whose
own lock no living process holds, a checkpoint nobody holds of a video that is already published (or that
can never be resumed into this store), a shard the index replaced, a lock file nobody holds. A shard holding a whole video of this store's
config that the index does not name is put back into the index, never deleted.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .errors import StoreCorrupt
from .shards import ShardDamaged, read_header, read_shard
from .store import FeatureStore, config_identity, video_stem

DAMAGED_DIR = "damaged"


@dataclass
class VideoCheck:
    """One shard as found: its video id ('' when unreadable), file name, and problem (None when intact)."""

    video_id: str
    shard: str
    problem: str | None = None


@dataclass
class StoreCheck:
    """What `verify_store` found (and, after `repair_store`, what it did).

    Attributes
    ----------
    index_problem : str or None
        Why the index cannot be read, or None.
    videos : list of VideoCheck
        Every indexed video; when the index is unreadable, every shard found instead.
    unindexed : list of VideoCheck
        Intact shards the index does not name (a repair puts back those of this store's config).
    leftovers : list of Path
        Files of interrupted runs that a repair removes.
    stale_links : bool
        The index's links name another folder than `<store>.d` (the store was moved): screentime reads
        it as it is; plain h5py needs the repair (or any change to the store) to follow them.
    actions : list of str
        What the repair did, one phrase each.
    """

    path: Path
    index_problem: str | None = None
    videos: list[VideoCheck] = field(default_factory=list)
    unindexed: list[VideoCheck] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    leftover_bytes: int = 0
    stale_links: bool = False
    actions: list[str] = field(default_factory=list)

    @property
    def damaged(self) -> list[VideoCheck]:
        return [v for v in self.videos if v.problem]

    @property
    def is_intact(self) -> bool:
        """The index reads and every video it names reads back exactly as written."""
        return self.index_problem is None and not self.damaged


def _open(path: Path) -> tuple[FeatureStore, dict | None, str | None]:
    """(store, links, index_problem); links is None when the index is missing or unreadable."""
    store = FeatureStore._unchecked(path)
    if not store.index.exists():
        if not store.shard_dir.is_dir():
            raise StoreCorrupt(f"{store.path}: no such store (and no {store.shard_dir.name}/ folder next to it)")
        return store, None, "the store index is missing"
    try:
        store.config, store.weights_path = store.index.read_attrs()
        return store, store._links(), None
    except StoreCorrupt as err:
        if not store.shard_dir.is_dir():
            raise  # a foreign file, not a store of ours: nothing to check or rebuild
        return store, None, str(err).split(": ", 1)[-1].split("; ")[0]


def verify_store(path: str | os.PathLike) -> StoreCheck:
    """Read every stored video back and check it against its checksums; list leftovers. Changes nothing."""
    store, links, index_problem = _open(Path(path))
    check = StoreCheck(store.path, index_problem)
    shards = sorted(p.name for p in store.shard_dir.glob("*.h5")) if store.shard_dir.is_dir() else []
    if links is None:
        check.videos = [_check_shard(store, name, None) for name in shards]
        return check
    for video_id, name in sorted(links.items()):
        check.videos.append(_check_shard(store, name, video_id))
    for name in sorted(set(shards) - set(links.values())):
        found = _check_shard(store, name, None)
        if found.problem is None and found.video_id not in links:
            check.unindexed.append(found)
    check.stale_links = store.index.has_stale_links()
    check.leftovers = [p for p, _ in _leftovers(store, links, probe_only=True)]
    check.leftover_bytes = sum(_size(p) for p in check.leftovers)
    return check


def repair_store(path: str | os.PathLike) -> StoreCheck:
    """Rebuild the index from the shards, leaving damaged videos out, and remove proven leftovers.

    With a readable index, its videos that fail their checks are dropped (their shards are moved to
    `<store>.d/damaged/`) and intact shards it lost are put back. With a missing or unreadable index, a
    new one is built from every intact shard (the newest per video id, of the newest shard's config).
    Every intact video's shard is left as it is, so its features stay bit-identical.

    Returns the StoreCheck of the repaired store, with `actions` saying what was done.

    Raises
    ------
    StoreCorrupt
        When there is nothing to rebuild from (no intact shard) or the path is not a store.
    """
    store, links, index_problem = _open(Path(path))
    actions = []
    with store.lock():
        if links is not None:
            try:  # another process may have changed it since
                links = store._links()
            except StoreCorrupt:
                links = None
        if links is None:
            links = _rebuild(store, actions, index_problem)
        else:
            for video_id, name in sorted(links.items()):
                problem = _check_shard(store, name, video_id).problem
                if problem:
                    del links[video_id]
                    _move_damaged(store, name)
                    actions.append(f"left out {video_id!r} ({problem}); its shard is kept in "
                                   f"{store.shard_dir.name}/{DAMAGED_DIR}/")
            for video_id, name in adopt_orphans(store, links):
                actions.append(f"put back {video_id!r}, whose shard {name} the index had lost")
        store._write_index(links)
        removed, n_bytes = sweep(store, links)
        if removed:
            actions.append(f"removed {removed} {'leftover' if removed == 1 else 'leftovers'} of interrupted runs "
                           f"({n_bytes / 1e6:.1f} MB)")
    check = verify_store(store.path)
    check.actions = actions
    return check


def _rebuild(store: FeatureStore, actions: list[str], index_problem: str | None) -> dict[str, str]:
    """Links of a new index from the shards alone (lock held); sets the store's config from them."""
    found = []
    for shard in sorted(store.shard_dir.glob("*.h5")):
        try:
            header = read_shard(shard)[0]
        except ShardDamaged as err:
            video_id = _named_video(shard)
            _move_damaged(store, shard.name)
            actions.append(f"left out {video_id or 'the video'!r} of shard {shard.name} ({err}); the shard is kept in "
                           f"{store.shard_dir.name}/{DAMAGED_DIR}/")
            continue
        found.append((header.written_ns, shard.name, header))
    if not found:
        raise StoreCorrupt(f"{store.path}: {index_problem or 'the index is unreadable'}, and {store.shard_dir.name}/ holds no "
                           "intact video to rebuild it from; embed the videos into a new store")
    found.sort(key=lambda item: (item[0], item[1]))
    newest = found[-1][2]
    store.config = newest.config
    source = str(newest.info.get("weights_source", ""))
    store.weights_path = source if str(newest.config.get("weights", "")).startswith("sha256:") and source else None
    links: dict[str, str] = {}
    for _, name, header in found:
        if _same_config(header.config, store.config):
            links[header.video_id] = name  # the newest shard of each id wins
        else:
            actions.append(f"left out shard {name} of {header.video_id!r} (embedded with other settings)")
    actions.append(f"rebuilt the index from the {len(links)} intact shards")
    return links


def _check_shard(store: FeatureStore, name: str, video_id: str | None) -> VideoCheck:
    """Read one shard completely and check it; `video_id` is the id the index gives it, if any."""
    try:
        header = read_shard(store.shard_dir / name)[0]
    except ShardDamaged as err:
        return VideoCheck(video_id or _named_video(store.shard_dir / name), name, str(err))
    if video_id is not None and header.video_id != video_id:
        return VideoCheck(video_id, name, f"its shard holds video {header.video_id!r}")
    if store.config and not _same_config(header.config, store.config):
        return VideoCheck(header.video_id, name, "its shard was embedded with other settings than the store's")
    return VideoCheck(header.video_id, name)


def _named_video(shard: Path) -> str:
    """The video id a damaged shard names, when its description still reads ('' otherwise)."""
    try:
        return read_header(shard).video_id
    except ShardDamaged:
        return ""


def _same_config(a: dict, b: dict) -> bool:
    return config_identity(a) == config_identity(b)


def _move_damaged(store: FeatureStore, name: str) -> None:
    """Keep a damaged shard out of the way (never deleted: it may be worth a look)."""
    shard = store.shard_dir / name
    if shard.exists():
        (store.shard_dir / DAMAGED_DIR).mkdir(exist_ok=True)
        os.replace(shard, store.shard_dir / DAMAGED_DIR / name)


def adopt_orphans(store: FeatureStore, links: dict[str, str]) -> list[tuple[str, str]]:
    """Add to `links` the intact shards of this store's config whose video id the index lacks (lock held).

    Such a shard is a whole video whose writer was killed between publishing it and indexing it (or one
    an older copy of the index never knew). Returns the (video_id, shard name) pairs added.
    """
    named = set(links.values())
    best: dict[str, tuple[int, str]] = {}
    for shard in store.shard_dir.glob("*.h5"):
        if shard.name in named or (store.shard_dir / f".{shard.name}.removed").exists():
            continue
        try:
            header = read_header(shard)
        except ShardDamaged:
            continue
        if header.video_id in links or not _same_config(header.config, store.config):
            continue
        if header.video_id not in best or (header.written_ns, shard.name) > best[header.video_id]:
            best[header.video_id] = (header.written_ns, shard.name)
    for video_id, (_, name) in best.items():
        links[video_id] = name
    return [(video_id, name) for video_id, (_, name) in sorted(best.items())]


def sweep(store: FeatureStore, links: dict[str, str]) -> tuple[int, int]:
    """Remove proven leftovers (call with the store lock held, `links` being the index just written).

    Returns (number of files and folders removed, bytes freed).
    """
    removed = freed = 0
    for path, lock in _leftovers(store, links, probe_only=False):
        if lock is not None:
            with store.lock(lock.name, blocking=False, remove=True) as held:
                if held:
                    n = _size(path)
                    removed, freed = removed + _delete(path), freed + n
            continue
        if path.name.endswith(".removed"):  # a marker of `remove`: its shard goes unless still indexed (kill before the index)
            name = path.name[1:-len(".removed")]
            if name not in links.values():
                n = _size(store.shard_dir / name)
                removed, freed = removed + _delete(store.shard_dir / name), freed + n
        n = _size(path)
        removed, freed = removed + _delete(path), freed + n
    return removed, freed


def _leftovers(store: FeatureStore, links: dict[str, str], probe_only: bool):
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
        except ShardDamaged:
            candidates.append((shard, None))  # unindexed and unreadable: never a whole video
            continue
        if header.video_id in links and _same_config(header.config, store.config):
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


def _is_spent_checkpoint(store: FeatureStore, links: dict[str, str], part: Path) -> bool:
    """Whether checkpoint folder `part` can never be resumed: unreadable, other settings, or already published."""
    try:
        meta = json.loads((part / "meta.json").read_text())
        video_id = meta["video_id"]
    except (OSError, ValueError, KeyError, TypeError):
        return True
    if part.name != video_stem(str(video_id)) + ".part":
        return True
    if links and not _same_config(meta.get("config", {}), store.config):
        return True
    if video_id not in links:
        return False  # work to resume
    try:
        info = read_header(store.shard_dir / links[video_id]).info
    except ShardDamaged:
        return False
    return info.get("fingerprint") == meta.get("fingerprint") and info.get("sample_fps") == meta.get("sample_fps")


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


def _size(path: Path) -> int:
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
        return 1
    except OSError:
        return 0
