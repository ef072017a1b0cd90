"""cluster: group the appearances no label covers, across a store's videos, so a person names each group once
(issue 25).

With `faces`: each stored video's face tracks (`classifiers.clusters.faces`), clustered across videos with a
cannot-link between tracks seen in one frame; without: each video's shots by their frame features
(`classifiers.clusters.shots`; cuts from the stored face table, else PySceneDetect on the source video). Clusters
matching a labelled name get it as a suggestion (`classifiers.clusters.groups`). Writes ``X.csv`` (to fill in),
``X.members.csv`` and ``X.html`` (thumbnails decoded from the source videos), and with `label_studio_path` a Label
Studio task per cluster (`classifiers.output.cluster_tasks`), all together or none.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.clusters.faces import MIN_QUALITY, MIN_SIZE_PX, actor_units, face_units
from classifiers.clusters.groups import Clustering, group_units, suggest_names
from classifiers.clusters.linkage import METHODS
from classifiers.clusters.shots import StoredFrames, class_units, shot_units
from classifiers.data.clusters import members_path
from classifiers.data.face_labels import FaceGrids
from classifiers.data.join import StoreGrids, join_labels
from classifiers.data.labels import parse_label_files
from classifiers.data.names import resolve_videos
from classifiers.output.cluster_console import cluster_lines  # noqa: F401  (the command line's: one import)
from classifiers.output.cluster_files import clusters_csv_text, members_csv_text
from classifiers.output.cluster_tasks import cluster_task_files
from classifiers.output.cluster_thumbs import cluster_thumbs
from classifiers.output.clusters_page import clusters_html
from classifiers.output.label_studio import config_path_for
from featurestore.errors import InvalidParameter, NotEmbedded, ScreentimeError, VideoDamaged, arg, command
from featurestore.files import write_together
from featurestore.outputs import CallFiles
from featurestore.progress import step
from featurestore.store.store import FeatureStore

#: Average-linkage distance under which groups merge. Faces: dlib descriptors of one person lie under 0.6, and a
#: track's mean is less noisy than a face (docs/cluster.md); frames: unit-length mean VGG16 features.
FACE_THRESHOLD = 0.5
FRAME_THRESHOLD = 0.35  # measured: bench/cluster_frames.py, docs/cluster.md


@dataclass
class ClusterRun:
    """What `cluster_store` did: the clustering, the files written (not the grids) and notes (videos without
    thumbnails); `label_studio`: the tasks file, if written; `labels_paths`: the --labels files it was given."""

    clustering: Clustering
    paths: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    video_ids: list = field(default_factory=list)
    label_studio: Path | None = None
    labels_paths: list = field(default_factory=list)


def output_paths(out_path: str | os.PathLike) -> tuple[Path, Path, Path]:
    """clusters.csv, its members file and its page: ``X.csv``, ``X.members.csv``, ``X.html``."""
    out = Path(out_path)
    return out, members_path(out), out.with_suffix(".html")


def check_cluster_outputs(out_path, *, store_path, labels_paths=(), label_studio_path=None) -> None:
    """Refuse, before any work, outputs over an input (the store, a labels file and its members file) or each other."""
    if out_path is None or str(out_path) == "-" or Path(out_path).suffix.lower() != ".csv":
        raise InvalidParameter("out_path", f"give a .csv file name (its members file and page go beside it), got {out_path}")
    out, members, page = output_paths(out_path)
    calls = CallFiles().store("store_path", store_path).read("the labels file", *labels_paths)
    calls.read("the members file of a labels file", *(members_path(p) for p in labels_paths))
    calls.write("out_path", out).write("out_path", members, what="its members file").write("out_path", page, what="its page")
    if label_studio_path is not None:
        if Path(label_studio_path).suffix.lower() != ".json":
            raise InvalidParameter("label_studio_path", f"give a .json file name, got {label_studio_path}")
        calls.write("label_studio_path", label_studio_path)
        calls.write("label_studio_path", config_path_for(label_studio_path), what="its labelling config")
    calls.check()


def cluster_store(store_path, out_path, *, faces: bool = False, videos=None, labels_paths=(), threshold: float | None = None,
                  method: str = "average", min_quality: float = MIN_QUALITY, min_size_px: float = MIN_SIZE_PX,
                  video_dir=None, thumbnails: bool = True, label_studio_path=None, url_prefix: str | None = None,
                  progress=None) -> ClusterRun:
    """Cluster the appearances of `store_path`'s videos (all, or `videos`) and write the three files of `out_path`.

    Parameters
    ----------
    faces : bool
        Cluster face tracks (`embed --faces`), else shots by their frame features.
    labels_paths : sequence of paths
        Labels already given: what they cover is left out, and they suggest names.
    threshold : float, optional
        Average-linkage distance under which groups merge [default: `FACE_THRESHOLD` or `FRAME_THRESHOLD`].
    min_quality, min_size_px : float
        Faces: the gates of the blurred / small bin.
    video_dir : path, optional
        Where the source videos are now, if they moved since they were embedded (thumbnails, cuts).
    label_studio_path : path, optional
        Also write a Label Studio task per cluster here (.json), its grids in ``NAME.images/`` and the labelling
        config ``NAME.config.xml``; `url_prefix` + a grid's file name is its URL [default: Label Studio's local files].
    progress : featurestore.progress.Progress, optional
        Shows each step: the videos read, the clustering, the thumbnails decoded.

    Raises
    ------
    InvalidParameter, NotEmbedded, LabelsInvalid, StoreCorrupt, OutputRefused
    """
    threshold = (FACE_THRESHOLD if faces else FRAME_THRESHOLD) if threshold is None else float(threshold)
    if not threshold > 0:
        raise InvalidParameter("threshold", f"must be a positive distance, got {threshold}")
    if method not in METHODS:
        raise InvalidParameter("method", f"must be one of {', '.join(METHODS)}, got {method!r}")
    if not 0.0 <= min_quality <= 1.0:
        raise InvalidParameter("min_quality", f"must be between 0 and 1, got {min_quality}")
    labels_paths = [Path(p) for p in labels_paths or ()]
    check_cluster_outputs(out_path, store_path=store_path, labels_paths=labels_paths, label_studio_path=label_studio_path)
    store = FeatureStore(store_path)
    ids = resolve_videos(store, videos)
    notes: list[str] = []
    sources = _sources(store, ids, video_dir)
    if faces:
        clustering, clustered, damaged = _cluster_faces(store, ids, labels_paths, threshold, method, min_quality,
                                                        min_size_px, progress)
        without = [v for v in ids if v not in clustered and v not in damaged]
        for left, why, then in ((damaged, "faces damaged", f"see `{command(f'check-store --store {arg(store.path)}')}`, "
                                 "then embed them with --faces again"),  # one damaged table must not stop the others
                                (without, "no faces stored", "find them with "  # "from 6 tracks in 3 videos" read as if
                                 f"`{command(f'embed VIDEO --faces --store {arg(store.path)}')}`")):  # all were clustered
            if left:
                notes.append(f"{len(left)} video{'s' if len(left) != 1 else ''} left out, {why}: "
                             f"{', '.join(left[:5])}{', ...' if len(left) > 5 else ''}; {then}")
        ids = clustered
    else:
        clustering = _cluster_shots(store, ids, labels_paths, threshold, method, sources, notes, progress)
    out, members, page = output_paths(out_path)
    thumbs = cluster_thumbs(clustering, sources, progress=progress) if thumbnails else None
    with step(progress, f"writing {out.name}, its members and page", 1):
        html = clusters_html(clustering, thumbs, clusters_name=out.name, notes=notes)
        texts = [(out, clusters_csv_text(clustering)), (members, members_csv_text(clustering)), (page, html)]
        files = [(path, lambda tmp, text=text: tmp.write_text(text, encoding="utf-8")) for path, text in texts]
        if label_studio_path is not None:
            files += cluster_task_files(clustering, thumbs, label_studio_path, url_prefix=url_prefix)
        written = write_together(files)[:len(texts) + 2 * (label_studio_path is not None)]  # not each grid
    return ClusterRun(clustering, written, notes + (thumbs.notes if thumbs is not None else []), list(ids),
                      None if label_studio_path is None else Path(label_studio_path), list(labels_paths))


def _sources(store, ids: list[str], video_dir) -> dict:
    """video_id -> its source file, or why there is none (str)."""
    from featurestore.video.sources import find_source

    out = {}
    for video_id in ids:
        try:
            out[video_id] = find_source(video_id, store.info(video_id), video_dir=video_dir)
        except ScreentimeError as err:
            out[video_id] = str(err)
    return out


def _cluster_faces(store, ids, labels_paths, threshold, method, min_quality, min_size_px,
                   progress) -> tuple[Clustering, list, list]:
    """The clustering of the faces of `ids`, the videos clustered, and those left out for a damaged face table."""
    from classifiers.data.face_dataset import label_store_faces

    ids = [v for v in ids if store.has_faces(v)]
    if not ids:
        raise NotEmbedded(f"{store.path.name} holds no faces of these videos; find them first with "
                          f"`{command(f'embed VIDEO --faces --store {arg(store.path)}')}`")
    grids = FaceGrids(store)
    tables, damaged, first = {}, [], None
    with step(progress, "reading the face tables", len(ids)) as advance:
        for v in ids:
            try:
                tables[v] = grids.table(v)
            except VideoDamaged as err:
                damaged.append(v)
                first = first or err
            advance()
    if not tables:
        raise first
    ids = list(tables)
    with step(progress, "clustering the tracks: labels, tracks, groups, names", 4) as advance:
        labelled = label_store_faces(store, labels_paths, grids=grids)[0] if labels_paths else {}
        advance()
        step_s = {v: 1.0 / float(store.info(v)["sample_fps"]) for v in ids}
        exclude = {v: np.asarray(labelled[v].label != "") for v in ids if v in labelled}
        units = face_units(tables, step_s, exclude=exclude, min_quality=min_quality, min_size_px=min_size_px)
        advance()
        clusters = group_units(units, threshold, method=method)
        advance()
        references = actor_units(labelled, min_quality=min_quality, min_size_px=min_size_px)
        suggest_names(clusters, units, references, threshold)
    return (Clustering("faces", units, clusters, threshold, method, min_quality, min_size_px, sorted(references)), ids,
            damaged)


def _cluster_shots(store, ids, labels_paths, threshold, method, sources, notes, progress) -> Clustering:
    grids = StoreGrids(store)
    labels: dict[str, np.ndarray] = {}  # video_id -> each sample's label ('' where none)
    for table in parse_label_files(labels_paths) if labels_paths else []:
        joined = join_labels(table, grids, store_name=store.path.name, min_classes=1)
        for video_id, part in joined.groupby("video_id"):  # the first file's label where two give one
            out = labels.setdefault(video_id, np.full(len(grids[video_id].requested_s), "", dtype=object))
            rows, given = part["row"].to_numpy(), part["label"].to_numpy(dtype=object)
            free = out[rows] == ""
            out[rows[free]] = given[free]
    frames, todo = {}, sorted(set(ids) | set(labels))  # labelled videos not clustered still suggest names
    with step(progress, "reading the videos and their cuts", len(todo)) as advance:
        for video_id in todo:
            v = grids.videos[video_id] if video_id in grids.videos else store.read(video_id)
            if video_id in sources:
                cuts = _cuts(store, video_id, sources[video_id], notes)
            else:  # its labelled stretches per stored shot (no decoding for cuts of a video not clustered)
                cuts = _stored_cuts(store, video_id)
            frames[video_id] = StoredFrames(np.asarray(v.requested_s, np.float64), np.asarray(v.actual_s, np.float64),
                                            np.asarray(v.features), cuts, 1.0 / float(v.info["sample_fps"]))
            advance()
    clustered = {v: frames[v] for v in ids}
    with step(progress, "each video's shots", len(clustered)) as advance:
        units = shot_units(clustered, exclude={v: lab != "" for v, lab in labels.items() if v in clustered}, split=threshold,
                           on_video=advance)
    with step(progress, "clustering the shots: each video's (if many), then together", len(clustered) + 1) as advance:
        clusters = group_units(units, threshold, method=method, on_video=advance)
        advance()
        references = class_units(frames, labels)
        suggest_names(clusters, units, references, threshold)
    return Clustering("frames", units, clusters, threshold, method, names=sorted(references))


def _cuts(store, video_id: str, source, notes: list) -> np.ndarray:
    """A video's cut times: its stored face table's, else PySceneDetect's on its source (none without one)."""
    if store.has_faces(video_id):
        return _stored_cuts(store, video_id)
    if isinstance(source, Path):
        from featurestore.video.shots import detect_cuts

        return detect_cuts(source)
    notes.append(f"{video_id} is one shot: no cuts are stored (embed --faces keeps them) and its source video is "
                 f"not found ({source})")
    return np.zeros(0)


def _stored_cuts(store, video_id: str) -> np.ndarray:
    """(k,) the cut times its face table keeps, none without one."""
    return np.asarray(store.faces(video_id).cuts_s, np.float64) if store.has_faces(video_id) else np.zeros(0)
