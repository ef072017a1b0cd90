"""embed_videos: sample, embed and store videos, once each.

Decoding (with resizing and preprocessing) runs in worker processes -- or a thread, for little work -- that
feed one model (runners/local.py), or in Ray tasks on a cluster (runners/cluster.py); this process alone
writes the store. What the store already holds is reused (reuse.py). With a face config, the workers find the
faces in the frames they decode, in the same pass (runners/faces.py).
"""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path
from typing import Callable, Protocol

import numpy as np

from featurestore.embedding.backbones import DEFAULT_BACKBONE, backbone_of_model
from featurestore.embedding.config import DEFAULT_IMAGE_SIZE_PX, EmbeddingConfig, config_identity
from featurestore.embedding.runtime import build_embedder
from featurestore.errors import EmbedWarning, InvalidParameter, StoreFull, StoreMismatch, VideoUnreadable
from featurestore.faces.config import FaceConfig
from featurestore.progress import Progress
from featurestore.runners.collection import Candidate, Collection
from featurestore.runners.faces import FaceAnalysis
from featurestore.runners.local import MIN_SPLIT_S, choose_workers, run_local
from featurestore.runners.work import EmbedReport
from featurestore.store.faces import differing_keys
from featurestore.store.store import FeatureStore
from featurestore.video.clock import check_sample_fps
from featurestore.video.paths import check_video_path, fingerprint, video_ids
from featurestore.video.pyav import check_decode_mode, probe

from .outputs import CallFiles
from .reuse import ContentIndex, copy_stored, refuse, state_of, stored_faces, stored_mode, stored_rate


class Embedder(Protocol):
    device: str

    def preprocess(self, frames_bgr: list[np.ndarray]) -> np.ndarray: ...
    def embed(self, batch: np.ndarray) -> np.ndarray: ...


def check_embed_paths(paths, store_path: str | os.PathLike, weights: str | None = None) -> None:
    """Refuse (`OutputRefused` naming `store_path`) a store that is one of the videos or the weights file, or whose
    shard folder holds one (`featurestore.outputs.CallFiles`): before any work, also before reading the store."""
    weights = [weights] if weights and weights not in ("imagenet", "random") else []
    CallFiles().read("the video", *paths).read("the weights file", *weights).store("store_path", store_path, written=True).check()


def resolve_embedding_config(store_path: str | os.PathLike | FeatureStore, *, weights: str | None = None,
                             pooling: str | None = None, image_size_px: int | None = None, precision: str | None = None,
                             runtime: str | None = None, backbone: str | None = None) -> EmbeddingConfig:
    """The settings to embed into `store_path` with: each one given, else the store's own, else the defaults.

    Defaults are `--weights auto` (ImageNet VGG16, cached or downloaded; offline, a packaged pretrained backbone,
    with an EmbedWarning saying so: `featurestore.embedding.auto`), avg pooling, 224 px and float32. A store
    embedded with a weights file gives the file it recorded (it must still be there and unchanged). `runtime`
    (not part of a store's settings) defaults to the precision's: openvino for int8, else keras.

    Raises
    ------
    WeightsUnavailable
        The store's weights file is gone or changed; StoreCorrupt for a damaged store.
    """
    path = store_path.path if isinstance(store_path, FeatureStore) else Path(store_path)
    stored, weights_path = None, None
    if path.exists():
        store = store_path if isinstance(store_path, FeatureStore) else FeatureStore(path)
        if len(store):
            stored, weights_path = store.config, store.weights_path
    stored_net = backbone_of_model(str(stored.get("model"))) if stored else None
    other_backbone = backbone is not None and stored is not None and (stored_net is None or backbone != stored_net.name)
    if stored is None or weights not in (None, "auto") or other_backbone:
        # a config of its own: one other than the store's is refused later, naming what differs
        if weights in (None, "auto"):
            from featurestore.embedding.auto import resolve_auto

            choice = resolve_auto(backbone)
            if choice.note:
                warnings.warn(choice.note, EmbedWarning, stacklevel=2)
            weights, backbone = choice.weights, choice.backbone
        defaults = stored or {}
        return EmbeddingConfig(weights=weights, pooling=pooling or defaults.get("pooling", "avg"),
                               image_size_px=image_size_px or int(defaults.get("image_size_px", DEFAULT_IMAGE_SIZE_PX)),
                               precision=precision or (config_identity(stored)["precision"] if stored else "float32"),
                               runtime=runtime or "",
                               backbone=backbone or (stored_net.name if stored_net else DEFAULT_BACKBONE))
    config = EmbeddingConfig.from_identity(stored, weights_path=weights_path, source=str(path))
    return dataclasses.replace(config, pooling=pooling or config.pooling, image_size_px=image_size_px or config.image_size_px,
                               precision=precision or config.precision, runtime=runtime or "")


def resolve_face_config(store_path: str | os.PathLike | FeatureStore, *, min_score: float | None = None,
                        min_size_px: float | None = None) -> FaceConfig:
    """The face settings to find faces with in `store_path`: each one given, else the store's own (the config of
    the faces it holds), else FaceConfig's defaults."""
    path = store_path.path if isinstance(store_path, FeatureStore) else Path(store_path)
    stored = None
    if path.exists():
        store = store_path if isinstance(store_path, FeatureStore) else FeatureStore(path)
        stored = store.index.read_faces()[0]
    config = FaceConfig.from_identity(stored) if stored else FaceConfig()
    changes = {k: v for k, v in (("min_score", min_score), ("min_size_px", min_size_px)) if v is not None}
    return dataclasses.replace(config, **changes)


def embed_videos(
    paths: list[str | os.PathLike],
    store_path: str | os.PathLike | FeatureStore,
    *,
    config: EmbeddingConfig | None = None,
    sample_fps: float | None = 1.0,
    batch_size: int = 32,
    names: list[str] | None = None,
    ids: str = "name",
    replace: bool = False,
    progress: Progress | None = None,
    make_embedder: Callable[[EmbeddingConfig], Embedder] = build_embedder,
    on_wait: Callable[[str], None] | None = None,
    workers: int | None = None,
    decode: str | None = None,
    ray: str | None = None,
    min_split_s: float = MIN_SPLIT_S,
    default_fps: float = 1.0,
    faces: FaceConfig | None = None,
    make_face_analyser: Callable | None = None,
) -> list[EmbedReport]:
    """Embed each video into the store at `store_path`, skipping those already stored.

    A video whose content (fingerprint) is stored under another id at the same rate is copied from it:
    no decoding, no inference. A store that already holds every video is only read, so it may be read-only.
    No store is created until a video is stored in it.

    Parameters
    ----------
    paths : list of path-like
        Video files. All are checked before any work starts.
    store_path : path-like or FeatureStore
        The store's index file, or the store itself when the caller has it open already.
    config : EmbeddingConfig, optional
        Weights, pooling and input size; must match the store's (one config per store). Default: the
        store's own (see `resolve_embedding_config`).
    sample_fps : float or None
        Samples per second of video time: frames on screen at t = 0, 1/sample_fps, ... None: the rate a
        video is already stored at (same content), else `default_fps` (score: the model's training rate).
    names : list of str, optional
        Video ids, one per path; default: `ids`, each file's name ('name') or its path as given ('path',
        `featurestore.video.paths.video_ids`).
    replace : bool
        Re-embed a video whose id is stored with other content or another sample rate (else StoreMismatch).
        A stored video whose data is damaged is embedded again without it.
    workers : int or None
        Decoding processes feeding the model (batches mix videos; a long video is split into time ranges
        decoded in parallel). 0: one thread in this process. None: every usable core, or a thread when there
        is under a minute of video to decode.
    decode : {'exact', 'fast', 'hw'} or None
        How frames are decoded (featurestore/video/pyav.py); recorded per video like the sample rate. None: the mode a video is
        already stored with (same content), else DEFAULT_DECODE.
    ray : str or None
        Run on a Ray cluster instead: 'local' starts one here, 'auto' or 'ray://host:port' joins one. The
        tasks return features (and faces); this process writes the store. `workers` and `make_embedder` do not apply.
    min_split_s : float
        A video is split for an idle worker only into ranges of at least this many seconds.
    faces : FaceConfig, optional
        Find the faces in every sample too, in the same decoding pass (`embed --faces`): stored as the video's
        `FaceTable` with its features. A video stored without faces gets a pass for its faces alone (decoded
        again, no network). One face config per store. Default: no faces.
    make_face_analyser : callable(FaceConfig) -> FaceAnalyser, optional
        Builds the face analyser, once here and once in each decoding process (so it must pickle); default
        `featurestore.faces.analyser.build_face_analyser`.

    Returns
    -------
    list of EmbedReport, one per distinct video id, in order.

    Raises
    ------
    VideoUnreadable, StoreMismatch, StoreCorrupt, StoreUnwritable, StoreFull, WeightsUnavailable
    FacesUnavailable
        Faces were asked for, but the face packages are not installed.
    """
    if isinstance(store_path, FeatureStore):
        given, store_path = store_path, store_path.path
    else:
        given = None
    config = config or resolve_embedding_config(given or store_path)
    sample_fps = None if sample_fps is None else check_sample_fps(sample_fps)
    decode = None if decode is None else check_decode_mode(decode)
    if batch_size < 1:
        raise InvalidParameter("batch_size", f"must be >= 1, got {batch_size}")
    check_names(names, paths)
    paths = [check_video_path(p) for p in paths]
    check_embed_paths(paths, store_path, config.weights_path)
    names = list(names) if names else video_ids(paths, ids)
    seen: dict[str, Path] = {}
    for video_id, path in zip(names, paths):
        if not video_id.strip():
            raise VideoUnreadable(f"{path}: the video id is empty; pass a non-empty --name")
        if video_id in seen and seen[video_id].resolve() != path.resolve():
            raise StoreMismatch(f"{path}: has the same id {video_id!r} as {seen[video_id]}; give each a distinct --name, "
                                "or store every video under its path (--ids path)")
        seen[video_id] = path
    jobs = list(dict(zip(names, paths)).items())  # one job per id, in order

    store = _open_store(given or store_path, config)
    face_identity = None if faces is None else faces.identity()
    stored_faces_config = None if face_identity is None else store.face_config()
    upgraded = stored_faces_config is not None and differing_keys(stored_faces_config, face_identity) == {"libraries"}
    # after a face-library upgrade, refused below only if there is work: stored faces stay as found
    if face_identity is not None and not upgraded:
        store.check_faces_config(face_identity)
    fingerprints = {p: fingerprint(p) for p in paths}
    copies = ContentIndex(store)
    rates, modes, states, tables = {}, {}, {}, {}
    for video_id, path in jobs:  # refuse conflicts before spending any time
        rates[video_id] = stored_rate(store, video_id, fingerprints[path], sample_fps, copies, default_fps)
        modes[video_id] = stored_mode(store, video_id, fingerprints[path], decode)
        states[video_id] = state_of(store, video_id, fingerprints[path], rates[video_id], modes[video_id])
        refuse(store, video_id, path, rates[video_id], modes[video_id], states[video_id], replace, warn=True)
        if faces is not None and states[video_id][0] == "stored":
            tables[video_id] = stored_faces(store, video_id)  # read once: its size is the report's
            if tables[video_id] is None:
                states[video_id] = ("faces", states[video_id][1])
    if all(state[0] == "stored" for state in states.values()):  # nothing to write: a read-only store will do
        return [EmbedReport.stored(video_id, path, states[video_id][1],
                                   None if faces is None else len(tables[video_id])) for video_id, path in jobs]
    if upgraded:
        store.check_faces_config(face_identity)  # new faces would be of other library versions than the stored ones
    analysis = None
    if faces is not None:
        if make_face_analyser is None:
            from featurestore.faces.analyser import build_face_analyser as make_face_analyser
        analysis = FaceAnalysis.build(faces, make_face_analyser, face_identity)  # FacesUnavailable before any work
    if store.mode != "a":
        new = [v for v, _ in jobs if states[v][0] not in ("stored", "faces")]
        faceless = [v for v, _ in jobs if states[v][0] == "faces"]

        def listed(ids: list[str], one: str, many: str) -> list[str]:
            return [f"{', '.join(map(repr, ids[:3]))}{' ...' if len(ids) > 3 else ''} {one if len(ids) == 1 else many}"] if ids else []

        todo = listed(new, "is not stored yet", "are not stored yet") + listed(faceless, "has no faces stored yet",
                                                                               "have no faces stored yet")
        to_do = (f"{'; '.join(todo)}: to add {'it' if len(new + faceless) == 1 else 'them'}, copy {store.path.name} and "
                 f"{store.shard_dir.name}/ together to a folder you can write and use that --store")
        store = FeatureStore(store_path, mode="a", config=config.identity(), weights_path=config.weights_path, to_do=to_do)
        copies = ContentIndex(store)
    copyable = {video_id: copies.find(fingerprints[path], rates[video_id], exclude=video_id) is not None
                for video_id, path in jobs}  # a byte-identical copy is probed only if its copy fails (issue 27)
    infos = {path: probe(path) for video_id, path in jobs
             if states[video_id][0] != "stored" and not copyable[video_id]}  # unreadable: fails now
    for video_id, path in jobs:
        fps = infos[path].fps if path in infos else 0.0
        if fps > 0 and rates[video_id] > fps * 1.01:
            warnings.warn(f"{path}: sampling {rates[video_id]:g} times a second, above its frame rate ({fps:g}/s), "
                          f"embeds each frame about {rates[video_id] / fps:.2g} times; --fps {fps:g} or less stores "
                          "every frame once", EmbedWarning, stacklevel=2)
    candidates = [Candidate(video_id, path, fingerprints[path], rates[video_id], modes[video_id],
                            states[video_id][0] if states[video_id][0] in ("stored", "faces") else "new", infos.get(path))
                  for video_id, path in jobs]

    def recheck(c: Candidate) -> str | EmbedReport:
        """Under the video's lock: stored meanwhile, copied from a byte-identical video, or to embed (or to find
        its faces: 'faces')."""
        state, info = state_of(store, c.video_id, c.fingerprint, c.sample_fps, c.decode)  # another process may have stored it
        if state == "stored":
            if analysis is None:
                return EmbedReport.stored(c.video_id, c.path, info, None)
            table = stored_faces(store, c.video_id)
            return "faces" if table is None else EmbedReport.stored(c.video_id, c.path, info, len(table))
        if c.status == "faces":  # this run planned no network for it
            raise StoreMismatch(f"{c.path}: {c.video_id!r} was replaced or removed in {store.path} while this run waited "
                                "for it; run the same command again")
        refuse(store, c.video_id, c.path, c.sample_fps, c.decode, (state, info), replace, warn=False)
        report = copy_stored(store, c.video_id, c.path, c.fingerprint, c.sample_fps, c.decode,
                             copies.find(c.fingerprint, c.sample_fps, exclude=c.video_id))
        if report is not None and analysis is not None and report.n_faces is None:
            return "faces"  # copied without faces: find them
        return report or ("new" if state == "new" else "replaced")

    check = getattr(make_embedder, "check", None)
    if check is not None and ray is None and any(c.status not in ("stored", "faces") and not copyable[c.video_id]
                                                 for c in candidates):  # a copy needs no network (issue 27)
        check(config)  # a precision the machine cannot run: one line now, not after the progress bar
    collection = Collection(store, candidates, config, recheck=recheck, progress=progress, on_wait=on_wait,
                            on_stored=lambda c: copies.add(c.fingerprint, c.sample_fps, c.video_id), faces=analysis)
    try:
        if collection.has_more and ray is not None:
            from featurestore.runners.cluster import run_ray

            run_ray(collection, address=ray, batch_size=batch_size, min_split_s=min_split_s)
        elif collection.has_more:
            run_local(collection, make_embedder=make_embedder, batch_size=batch_size,
                      workers=choose_workers(workers, candidates), min_split_s=min_split_s)
        collection.finish()
    except StoreFull:
        freed = collection.clear_checkpoints()  # else they keep the disk full and every later run fails (issue 8)
        raise StoreFull(
            f"{store.path}: the disk is full (No space left on device) while embedding {collection.current!r}; "
            f"the checkpoints of this run ({freed / 1e6:.1f} MB) were removed so the disk is as before it: free some "
            "space and run again") from None
    finally:
        collection.close()
        store.discard_if_unused()
    return [collection.reports[video_id] for video_id, _ in jobs]


def _open_store(store_path: str | os.PathLike | FeatureStore, config: EmbeddingConfig) -> FeatureStore:
    """The store opened read-only when it exists (its config checked), else opened for writing (nothing created)."""
    if isinstance(store_path, FeatureStore):
        if len(store_path):
            store_path.check_config(config.identity())
        return store_path
    path = Path(store_path)
    if path.exists() or path.is_symlink():
        store = FeatureStore(path)
        if len(store):
            store.check_config(config.identity())
        return store
    return FeatureStore(path, mode="a", config=config.identity(), weights_path=config.weights_path)


def check_names(names: list[str] | None, paths: list) -> None:
    """InvalidParameter unless `names` is None or gives one video id per path."""
    if names and len(names) != len(paths):
        def n(k: int, word: str) -> str:
            return f"{k} {word}" if k == 1 else f"{k} {word}s"

        raise InvalidParameter("names", f"{n(len(names), 'name')} for {n(len(paths), 'video')}; give one --name per "
                                        "video, in the same order")
