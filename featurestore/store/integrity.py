"""Store integrity: verify every stored video (and face table), and rebuild a damaged or lost index from the shards.

Verification reads every byte back against its checksums and lists leftovers of interrupted runs;
repair leaves damaged videos out (their shards kept in `damaged/`), keeps the features of a video whose face
table alone is damaged (without its faces), puts back intact shards the index lost, and removes proven
leftovers (sweep.py). Both work on the store's files (`StoreFiles`), since they must
open stores that `StoreFiles` refuses.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from featurestore.errors import StoreCorrupt, StoreUnwritable, arg, command

from .faces import read_faces, read_faces_config
from .layout import DAMAGED_DIR, StoreFiles, shard_name
from .shards import ShardDamaged, read_header, read_shard, write_shard
from .sweep import adopt_orphans, leftovers, same_config, size_bytes, sweep


@dataclass
class VideoCheck:
    """One shard as found: its video id ('' when unreadable), file name, and problem (None when intact);
    `faces_only`: the problem is in its face table alone (its features are intact)."""

    video_id: str
    shard: str
    problem: str | None = None
    faces_only: bool = False


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
    n_with_faces : int
        Indexed videos whose face table the index names (`embed --faces`); each is checked with its video.
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
    n_with_faces: int = 0
    stale_links: bool = False
    actions: list[str] = field(default_factory=list)

    @property
    def damaged(self) -> list[VideoCheck]:
        return [v for v in self.videos if v.problem]

    @property
    def is_intact(self) -> bool:
        """The index reads and every video it names reads back exactly as written."""
        return self.index_problem is None and not self.damaged


def _open(path: Path) -> tuple[StoreFiles, dict | None, set[str], str | None]:
    """(store, links, faced, index_problem); links is None when the index is missing or unreadable."""
    store = StoreFiles(path)
    if not store.index.exists():
        if not store.shard_dir.is_dir():
            raise StoreCorrupt(f"{store.path}: no such store (and no {store.shard_dir.name}/ folder next to it)")
        return store, None, set(), "the store index is missing"
    try:
        store.config, store.weights_path = store.index.read_attrs()
        store.faces_config, faced = store.index.read_faces()
        return store, store.index.links(), faced, None
    except StoreCorrupt as err:
        if not store.shard_dir.is_dir():
            raise  # a foreign file, not a store of ours: nothing to check or rebuild
        return store, None, set(), str(err).split(": ", 1)[-1].split("; ")[0]


def verify_store(path: str | os.PathLike) -> StoreCheck:
    """Read every stored video (and face table) back and check it against its checksums; list leftovers. Changes
    nothing."""
    store, links, faced, index_problem = _open(Path(path))
    check = StoreCheck(store.path, index_problem)
    shards = sorted(p.name for p in store.shard_dir.glob("*.h5")) if store.shard_dir.is_dir() else []
    if links is None:
        check.videos = [_check_shard(store, name, None) for name in shards]
        return check
    for video_id, name in sorted(links.items()):
        found = _check_shard(store, name, video_id, video_id in faced)
        if found.problem and not (store.shard_dir / name).exists():
            found = _as_indexed_now(store, video_id, found)
        if found is not None:
            check.videos.append(found)
    check.n_with_faces = len(faced & {v.video_id for v in check.videos})
    for name in sorted(set(shards) - set(links.values())):
        found = _check_shard(store, name, None)
        if found.problem is None and found.video_id not in links:
            check.unindexed.append(found)
    if check.unindexed:  # published by another writer since the index was read: indexed by now
        named = set(_links_now(store, links).values())
        check.unindexed = [found for found in check.unindexed if found.shard not in named]
    check.stale_links = store.index.has_stale_links()
    check.leftovers = [p for p, _ in leftovers(store, links, probe_only=True)]
    check.leftover_bytes = sum(size_bytes(p) for p in check.leftovers)
    return check


def repair_store(path: str | os.PathLike) -> StoreCheck:
    """Rebuild the index from the shards, leaving damaged videos out, and remove proven leftovers.

    With a readable index, its videos that fail their checks are dropped (their shards are moved to
    `<store>.d/damaged/`) and intact shards it lost are put back. With a missing or unreadable index, a
    new one is built from every intact shard (the newest per video id, of the newest shard's config).
    Every intact video's shard is left as it is, so its features stay bit-identical. A video whose face table
    alone is damaged keeps its features, bit-identical, in a new shard without faces.

    Returns the StoreCheck of the repaired store, with `actions` saying what was done.

    Raises
    ------
    StoreCorrupt
        When there is nothing to rebuild from (no intact shard) or the path is not a store.
    """
    store, links, faced, index_problem = _open(Path(path))
    store._check_writable(to_do=f"`{command(f'check-store --store {arg(store.path)}')}` checks it as it is; to repair it, "
                                f"copy {store.path.name} and {store.shard_dir.name}/ together to a folder you can write")
    try:
        actions = _repair(store, links, faced, index_problem)
    except PermissionError as err:
        names = [os.path.relpath(name, store.path.parent) for name in (err.filename, err.filename2) if name]
        where = " -> ".join(names) or store.shard_dir.name
        raise StoreUnwritable(f"{store.path}: the repair stopped ({err.strerror}: {where}); every video is safe, "
                              "run it again as a user who may write every file of the store (the files' owner)") from None
    check = verify_store(store.path)
    check.actions = actions
    return check


def _repair(store: StoreFiles, links: dict | None, faced: set[str], index_problem: str | None) -> list[str]:
    """`repair_store`'s work on the opened store; what was done, one phrase each."""
    actions = []
    with store.lock():
        if links is not None:
            try:  # another process may have changed it since
                links = store.index.links()
                store.faces_config, faced = store.index.read_faces()
            except StoreCorrupt:
                links = None
        dropped = []  # shards whose face table was dropped: moved aside once the index no longer names them
        if links is None:
            links, faced = _rebuild(store, actions, index_problem)
        else:  # every shard is read before any is moved: one open in another program (StoreBusy) changes nothing
            checks = [(video_id, name, _check_shard(store, name, video_id, video_id in faced))
                      for video_id, name in sorted(links.items())]
            for video_id, name, found in checks:
                if found.faces_only:
                    dropped.append(_drop_faces(store, links, faced, video_id, found.problem, actions))
                elif found.problem:
                    del links[video_id]
                    faced.discard(video_id)  # a shard of it put back below has its face config read anew
                    _move_damaged(store, name)
                    actions.append(f"left out {video_id!r} ({found.problem}); its shard is kept in "
                                   f"{store.shard_dir.name}/{DAMAGED_DIR}/")
            for video_id, name in adopt_orphans(store, links, faced):
                actions.append(f"put back {video_id!r}, whose shard {name} the index had lost")
        store.write_index(links, faced)
        for name in dropped:
            _move_damaged(store, name)
        removed, n_bytes = sweep(store, links)
        if removed:
            actions.append(f"removed {removed} {'leftover' if removed == 1 else 'leftovers'} of interrupted runs "
                           f"({n_bytes / 1e6:.1f} MB)")
    return actions


def _links_now(store: StoreFiles, default: dict[str, str]) -> dict[str, str]:
    try:
        return store.index.links()
    except StoreCorrupt:
        return default


def _as_indexed_now(store: StoreFiles, video_id: str, found: VideoCheck) -> VideoCheck | None:
    """`video_id` checked as the index names it now, its shard `found` having gone: another writer replaced the video
    (its new shard is checked) or removed it (None: no longer part of the store) since the index was read."""
    for _ in range(3):
        name = _links_now(store, {video_id: found.shard}).get(video_id)
        if name is None:
            return None
        if name == found.shard:
            return found
        found = _check_shard(store, name, video_id, video_id in store.index.read_faces()[1])
        if not found.problem or (store.shard_dir / name).exists():
            return found
    return found


def _rebuild(store: StoreFiles, actions: list[str], index_problem: str | None) -> tuple[dict[str, str], set[str]]:
    """Links and faced videos of a new index from the shards alone (lock held); sets the store's configs from them
    (the face config of the newest intact face table)."""
    found, read = [], []
    for shard in sorted(store.shard_dir.glob("*.h5")):  # all read before any is moved (StoreBusy changes nothing)
        try:
            read.append((shard, read_shard(shard)[0], None))
        except ShardDamaged as err:
            read.append((shard, None, err))
    for shard, header, err in read:
        if err is not None:
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
        if same_config(header.config, store.config):
            links[header.video_id] = name  # the newest shard of each id wins
        else:
            actions.append(f"left out shard {name} of {header.video_id!r} (embedded with other settings)")
    actions.append(f"rebuilt the index from the {len(links)} intact shards")
    faced: set[str] = set()
    store.faces_config = None
    for _, name, header in reversed(found):
        if links.get(header.video_id) != name or not header.has_faces:
            continue
        problem = _faces_problem(store, name, header, None)  # the newest intact face table sets the face config
        if problem is None:
            store.faces_config = store.faces_config or read_faces_config(store.shard_dir / name)
            faced.add(header.video_id)
        else:
            _move_damaged(store, _drop_faces(store, links, faced, header.video_id, problem, actions))
    return links, faced


def _check_shard(store: StoreFiles, name: str, video_id: str | None, has_faces: bool = False) -> VideoCheck:
    """Read one shard completely and check it; `video_id` is the id the index gives it, if any; `has_faces`: the
    index names its face table, checked too."""
    try:
        header, _, actual_s, _ = read_shard(store.shard_dir / name)
    except ShardDamaged as err:
        return VideoCheck(video_id or _named_video(store.shard_dir / name), name, str(err))
    if video_id is not None and header.video_id != video_id:
        return VideoCheck(video_id, name, f"its shard holds video {header.video_id!r}")
    if store.config and not same_config(header.config, store.config):
        return VideoCheck(header.video_id, name, "its shard was embedded with other settings than the store's")
    problem = _faces_problem(store, name, header, actual_s) if has_faces else None
    return VideoCheck(header.video_id, name, problem, faces_only=problem is not None)


def _faces_problem(store: StoreFiles, name: str, header, actual_s) -> str | None:
    """What is wrong with the face table of shard `name` (None: intact, of the store's face config)."""
    if not header.has_faces:
        return "the index names its faces, its shard holds none"
    try:
        table = read_faces(store.shard_dir / name)
    except ShardDamaged as err:
        return str(err)
    if table.video_id != header.video_id:
        return f"its face table is of video {table.video_id!r}"
    if actual_s is not None and not np.array_equal(table.sample_times_s, actual_s):
        return "its face table's sample times are not the video's"
    if store.faces_config is not None and table.config != store.faces_config:
        return "its faces were made with other face settings than the store's"
    return None


def _drop_faces(store: StoreFiles, links: dict[str, str], faced: set[str], video_id: str, problem: str,
                actions: list[str]) -> str:
    """Keep the features of `video_id` in a new shard without its damaged face table (lock held); returns the old
    shard's name, for the caller to move into damaged/ once the index no longer names it."""
    old = links[video_id]
    header, requested_s, actual_s, features = read_shard(store.shard_dir / old)
    name = shard_name(video_id)
    tmp = store.shard_dir / f".{name}.tmp"
    try:
        write_shard(tmp, video_id, requested_s=requested_s, actual_s=actual_s, features=features, info=header.info,
                    config=header.config)
        os.replace(tmp, store.shard_dir / name)
    finally:
        tmp.unlink(missing_ok=True)
    links[video_id] = name
    faced.discard(video_id)
    actions.append(f"dropped the faces of {video_id!r} ({problem}), kept its features; `embed --faces` finds its "
                   f"faces again; the old shard is kept in {store.shard_dir.name}/{DAMAGED_DIR}/")
    return old


def _named_video(shard: Path) -> str:
    """The video id a damaged shard names, when its description still reads ('' otherwise)."""
    try:
        return read_header(shard).video_id
    except ShardDamaged:
        return ""


def _move_damaged(store: StoreFiles, name: str) -> None:
    """Keep a damaged shard out of the way (never deleted: it may be worth a look)."""
    shard = store.shard_dir / name
    if shard.exists():
        (store.shard_dir / DAMAGED_DIR).mkdir(exist_ok=True)
        os.replace(shard, store.shard_dir / DAMAGED_DIR / name)
