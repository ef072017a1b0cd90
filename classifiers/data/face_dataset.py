"""Labelled faces for training (issue 24): labels files joined to a store's faces, every face of each video kept.

A labels file is read as a frame one is (`classifiers.data.labels.read_labels_text`: its encodings, its size cap),
then by what it holds: boxes or track names (`classifiers.data.face_boxes`), named clusters of
faces (`classifiers.data.face_clusters`), else intervals and
the other files of today, read as multi-label (`classifiers.data.face_labels`); several files are joined (a face
two files label differently refuses them). Pending faces are then assigned (`classifiers.data.face_assign`).
The training faces are the labelled ones -- actors and `UNKNOWN` -- of at least `min_quality`; the videos stay
whole, for held-out scoring on every face of a video.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePath

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from featurestore.errors import LabelsInvalid, StoreMismatch, TooFewSamples
from featurestore.progress import step

from .clusters import clusters_mode
from .face_clusters import cluster_face_labels
from .face_assign import DEFAULT_ROUNDS, assign_pending, label_counts
from .face_boxes import MIN_IOU, box_face_labels, box_kind
from .face_labels import FaceGrids, VideoFaceLabels, interval_face_labels
from .labels import parse_labels, read_labels_text
from .names import check_spelling_variants
from .table import NONE_LABEL

#: Faces below this quality are left out of training by default (FaceTable.quality, 0..1): 0, as measured on
#: synthetic faces by bench/faces_classify.py (docs/benchmarks.md) until real footage says otherwise.
DEFAULT_MIN_QUALITY = 0.0


@dataclass
class LabelledFaces:
    """The training faces of a store and the labelled videos they come from.

    Attributes
    ----------
    videos : dict of video_id -> VideoFaceLabels
    actors : list of str
        Sorted; every label but `UNKNOWN`.
    counts : dict of str to int
        How faces got their labels (`classifiers.data.face_assign.label_counts`), and ``low_quality``: labelled
        faces left out of training by `min_quality`.
    video_ids, y : ndarray of shape (n,), str
        Per training face: its video and its label (an actor or `UNKNOWN`).
    rows : ndarray of shape (n,), int
        Its row in its video's FaceTable.
    time_s : ndarray of shape (n,), seconds
    X : ndarray of shape (n, d), float32
        Its descriptor.
    face_config : dict
        The face config identity every video's faces share.
    """

    videos: dict[str, VideoFaceLabels]
    actors: list[str]
    counts: dict
    min_quality: float
    video_ids: np.ndarray
    rows: np.ndarray
    time_s: np.ndarray
    X: np.ndarray
    y: np.ndarray
    face_config: dict = field(default_factory=dict)

    @property
    def classes(self) -> list[str]:
        return sorted(np.unique(self.y).tolist())


def load_labelled_faces(store, labels_paths, *, none_label: str = NONE_LABEL, min_quality: float = DEFAULT_MIN_QUALITY,
                        min_iou: float = MIN_IOU, rounds: int = DEFAULT_ROUNDS, seed: int = 0,
                        grids: FaceGrids | None = None, progress=None) -> LabelledFaces:
    """Join labels files (a path or a sequence) to the faces of `store` (an object with the store's face contract);
    `progress` (`featurestore.progress.Progress`) shows the reading and the assignment of faces to actors.

    Raises
    ------
    LabelsInvalid, NotEmbedded, StoreMismatch, TooFewSamples
    """
    if not 0.0 <= min_quality <= 1.0:
        from featurestore.errors import InvalidParameter

        raise InvalidParameter("min_quality", f"must be between 0 and 1, got {min_quality}")
    videos, actors = label_store_faces(store, labels_paths, none_label=none_label, min_iou=min_iou, rounds=rounds,
                                       seed=seed, grids=grids, progress=progress)
    return _training_faces(videos, actors, min_quality)


def label_store_faces(store, labels_paths, *, none_label: str = NONE_LABEL, min_iou: float = MIN_IOU,
                      rounds: int = DEFAULT_ROUNDS, seed: int = 0,
                      grids: FaceGrids | None = None, progress=None) -> tuple[dict[str, VideoFaceLabels], list[str]]:
    """The labels of the faces of every video the files label (video_id -> VideoFaceLabels, pending faces assigned),
    and the actors, sorted: `load_labelled_faces` before the training faces are chosen.

    Raises
    ------
    LabelsInvalid, NotEmbedded
    """
    paths = [labels_paths] if isinstance(labels_paths, (str, PurePath)) else list(labels_paths)
    if not paths:
        raise ValueError("give at least one labels file")
    grids = grids if grids is not None else FaceGrids(store)
    tables, parts = [], []
    with step(progress, "reading the labels and the labelled videos' faces", None):
        for path in map(Path, paths):
            text = read_labels_text(path)  # read once, as every labels file is: encodings, size cap
            kind = box_kind(text)
            if clusters_mode(path, text) == "faces":
                parts.append((path.name, cluster_face_labels(path, text, grids)))
            elif kind is None:
                tables.append(parse_labels(path, multi_label=True, none_label=none_label, text=text))
            else:
                parts.append((path.name, box_face_labels(path, text, kind, grids, min_iou=min_iou)))
        if tables:
            parts.insert(0, (", ".join(t.path.name for t in tables), interval_face_labels(tables, grids)))
    videos: dict[str, VideoFaceLabels] = {}
    for name, found in parts:
        for video_id, v in found.items():
            videos[video_id] = _merge(videos[video_id], v, name) if video_id in videos else v
    actors = sorted({a for v in videos.values() for a in (*v.label.tolist(), *(x for at in v.actors_at for x in at))}
                    - {"", UNKNOWN})
    _check_spellings(parts, actors)
    assign_pending(videos, actors, rounds=rounds, seed=seed, progress=progress)
    return videos, actors


def _check_spellings(parts: list, actors: list[str]) -> None:
    """Refuse one actor written two ways, in one file or in several ('Obama' in one, 'obama ' in another): two
    actors (`names.check_spelling_variants`, naming the files that hold each spelling)."""
    def files(group) -> str:
        return " and ".join(dict.fromkeys(
            name for name, found in parts for spelling in group
            if any(spelling in v.label or any(spelling in at for at in v.actors_at) for v in found.values())))

    check_spelling_variants(actors, files, what="actor")


def _merge(a: VideoFaceLabels, b: VideoFaceLabels, name: str) -> VideoFaceLabels:
    """One video's labels from two sources: labels agree where both have one; samples, actors and misses add up."""
    clash = np.flatnonzero((a.label != "") & (b.label != "") & (a.label != b.label))
    if len(clash):
        f = int(clash[0])
        raise LabelsInvalid(f"{name} and the labels before it disagree on the face at {float(a.table.time_s[f]):g} s of "
                            f"{a.video_id!r} ({a.label[f]!r}, {b.label[f]!r}); keep one")
    given = b.label != ""
    a.label[given], a.how[given] = b.label[given], b.how[given]
    a.labelled |= b.labelled
    a.actors_at = [tuple(sorted(set(x) | set(y))) for x, y in zip(a.actors_at, b.actors_at)]
    a.missed += b.missed
    pending = []
    for rows, actors in a.pending + b.pending:
        done = {a.label[r] for r in rows if a.label[r]}
        rows = np.asarray([r for r in rows if not a.label[r]], dtype=np.intp)
        actors = tuple(x for x in actors if x not in done)
        if len(rows) and actors:
            pending.append((rows, actors))
        elif len(rows):
            a.claim(rows, UNKNOWN, "leftover")
    a.pending = pending
    return a


def _training_faces(videos: dict[str, VideoFaceLabels], actors: list[str], min_quality: float) -> LabelledFaces:
    configs = {}
    for v in videos.values():
        configs.setdefault(repr(sorted(dict(v.table.config).items())), v.video_id)
    if len(configs) > 1:
        raise StoreMismatch(f"the faces of {', '.join(sorted(configs.values())[:2])} were found with different face "
                            "settings; embed every labelled video with one (embed --faces)")
    counts = label_counts(videos)
    ids, rows, times, X, y = [], [], [], [], []
    counts["low_quality"] = 0
    for video_id in sorted(videos):
        v = videos[video_id]
        labelled = v.label != ""
        keep = labelled & (np.asarray(v.table.quality) >= min_quality)
        counts["low_quality"] += int(labelled.sum() - keep.sum())
        idx = np.flatnonzero(keep)
        ids.append(np.full(len(idx), video_id, dtype=object))
        rows.append(idx)
        times.append(np.asarray(v.table.time_s, dtype=np.float64)[idx])
        X.append(np.asarray(v.table.embedding, dtype=np.float32)[idx])
        y.append(v.label[idx].astype(str))
    if not videos or not actors:
        raise LabelsInvalid("the labels name no actor on screen at any stored face; label when each actor is on screen")
    y_all = np.concatenate(y)
    if len(np.unique(y_all)) < 2:
        raise TooFewSamples(f"every labelled face is {y_all[0] if len(y_all) else 'missing'}; a face model needs faces of "
                            "two people or more (actors, or people nobody labelled) -- label more, or lower --min-face-quality")
    first = next(iter(videos.values()))
    return LabelledFaces(videos=videos, actors=actors, counts=counts, min_quality=float(min_quality),
                         video_ids=np.concatenate(ids).astype(str), rows=np.concatenate(rows).astype(np.intp),
                         time_s=np.concatenate(times), X=np.concatenate(X), y=y_all,
                         face_config=dict(first.table.config))
