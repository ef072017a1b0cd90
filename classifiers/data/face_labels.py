"""Labels for faces from the intervals users already have (issue 24): `video,start,end,label` says that actor is on
screen then, not which face is theirs.

Every labels file of today (intervals, points, a Label Studio timeline, CVAT tracks without boxes) is read as
multi-label (`classifiers.data.labels`, `classifiers.data.join`): each labelled sample gets its set of actors
(the none label: nobody labelled on screen). Then, per labelled sample:

- a sample with one face and one actor: the face is the actor's (``single``);
- an interval of one actor that exactly one track (one person's faces in a shot) spans, a face at every sample of
  it: the track's faces there are the actor's (``track``);
- a sample of the none label: its faces are `UNKNOWN` (``none``);
- faces and actors left over together are *pending*: `classifiers.data.face_assign` assigns them under a first
  model; faces left over where every actor has a face are `UNKNOWN` (``leftover``), and actors left without a face
  are counted as ``missed``.

Faces outside labelled samples get no label. Box and track-name files: `classifiers.data.face_boxes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from featurestore.errors import LabelsInvalid, NotEmbedded, arg, command

from .join import Grid, join_label_tables
from .names import resolve_all
from .resolve import resolve_table
from .table import TIME_TOLERANCE_S, LabelTable


@dataclass
class VideoFaceLabels:
    """The labels of one video's faces, and what its labelled samples show.

    Attributes
    ----------
    table : FaceTable
        The video's faces.
    label : ndarray of shape (n_faces,), object
        The actor, `UNKNOWN` (someone nobody labelled) or '' (no label).
    how : ndarray of shape (n_faces,), object
        Why: 'single', 'track', 'assigned', 'leftover', 'none', 'box', 'named', 'cluster', or ''.
    labelled : ndarray of shape (n_samples,), bool
        Samples whose actors on screen are known.
    actors_at : list of tuple of str
        The actors on screen at each sample (empty where none are, or where not labelled).
    pending : list of (face rows, actors)
        Faces and actors of one sample still to be assigned to each other (`classifiers.data.face_assign`).
    missed : int
        Actor-sample pairs without a face for the actor (missed detections, faces turned away).
    """

    video_id: str
    table: object
    duration_s: float
    sample_fps: float
    label: np.ndarray
    how: np.ndarray
    labelled: np.ndarray
    actors_at: list
    pending: list = field(default_factory=list)
    missed: int = 0

    @classmethod
    def empty(cls, video_id: str, table, info: Mapping) -> "VideoFaceLabels":
        m = len(table.sample_times_s)
        return cls(video_id, table, float(info["duration_s"]), float(info["sample_fps"]),
                   np.full(len(table), "", dtype=object), np.full(len(table), "", dtype=object), np.zeros(m, bool),
                   [()] * m)

    @property
    def sample(self) -> np.ndarray:
        """Each face's sample index, shape (n_faces,)."""
        return self.table.sample

    def truth(self, actors: list[str]) -> np.ndarray:
        """(n_samples, n_actors) bool: each actor on screen at each sample (False where not labelled)."""
        out = np.zeros((len(self.actors_at), len(actors)), bool)
        index = {a: j for j, a in enumerate(actors)}
        for i, present in enumerate(self.actors_at):
            for a in present:
                out[i, index[a]] = True
        return out

    def claim(self, rows, label: str, how: str) -> None:
        self.label[rows] = label
        self.how[rows] = how

    def mark_named(self, samples) -> None:
        """Each of `samples` whose every face is claimed is labelled, its actors those named there (not `UNKNOWN`)."""
        sample = self.sample
        for i in samples:
            faces = np.flatnonzero(sample == i)
            if np.all(self.label[faces] != ""):
                self.labelled[i] = True
                self.actors_at[i] = tuple(sorted(set(self.label[faces].tolist()) - {UNKNOWN}))


class FaceGrids(Mapping):
    """Lazy mapping video_id -> `classifiers.data.join.Grid` of a store's face samples; each table, info and grid
    read once (the joins look a grid up per labelled sample).

    `store` keeps the face contract: ``video_ids()``, ``info(video_id)``, ``has_faces(video_id)``, ``faces(video_id)``.
    """

    def __init__(self, store):
        self.store = store
        self._ids = list(store.video_ids())
        self.tables: dict = {}
        self._infos: dict = {}
        self._grids: dict = {}
        self.name = Path(str(getattr(store, "path", "the store"))).name

    def table(self, video_id: str):
        """The video's FaceTable; NotEmbedded, naming `embed --faces`, when its faces are not stored."""
        if video_id not in self.tables:
            if not self.store.has_faces(video_id):
                store_path = getattr(self.store, "path", "STORE")
                raise NotEmbedded(f"{self.name}: video {video_id!r} has no faces stored; find them with "
                                  f"`{command(f'embed --faces VIDEO --store {arg(store_path)}')}` (VIDEO: its file)")
            self.tables[video_id] = self.store.faces(video_id)
        return self.tables[video_id]

    def info(self, video_id: str) -> dict:
        if video_id not in self._infos:
            self._infos[video_id] = self.store.info(video_id)
        return self._infos[video_id]

    def __getitem__(self, video_id: str) -> Grid:
        if video_id not in self._ids:
            raise KeyError(video_id)
        if video_id not in self._grids:
            info = self.info(video_id)
            fps = info.get("fps")
            self._grids[video_id] = Grid(np.asarray(self.table(video_id).sample_times_s, dtype=np.float64),
                                         float(info["sample_fps"]), float(info["duration_s"]),
                                         float(fps) if fps else None)
        return self._grids[video_id]

    def __contains__(self, video_id: object) -> bool:
        return video_id in self._ids

    def __iter__(self):
        return iter(self._ids)

    def __len__(self) -> int:
        return len(self._ids)


def check_actor_names(name: str, actors) -> None:
    """No actor may be called `UNKNOWN`, in any case: that is the name of the faces of people nobody labelled."""
    called = next((a for a in actors if a.casefold() == UNKNOWN), None)
    if called is not None:
        raise LabelsInvalid(f"{name}: label {called!r} is what screentime calls the faces of people nobody labelled "
                            f"({UNKNOWN!r}); name that actor otherwise (or drop the rows)")


def interval_face_labels(tables: list[LabelTable], grids: FaceGrids) -> dict[str, VideoFaceLabels]:
    """Face labels of every video the multi-label `tables` label (see the module docstring), pending groups included.

    Raises
    ------
    LabelsInvalid, NotEmbedded
    """
    frames = join_label_tables(tables, grids, store_name=grids.name)
    check_actor_names(", ".join(t.path.name for t in tables), {a for labels in frames["labels"] for a in labels})
    videos: dict[str, VideoFaceLabels] = {}
    for video_id, part in frames.groupby("video_id", sort=True):
        v = VideoFaceLabels.empty(video_id, grids.table(video_id), grids.info(video_id))
        for row, labels in zip(part["row"].to_numpy(), part["labels"]):
            v.labelled[row] = True
            v.actors_at[row] = tuple(labels)
        videos[video_id] = v
    for video_id, spans in _actor_spans(tables, grids).items():
        if video_id in videos:
            _claim_tracks(videos[video_id], spans)
    for v in videos.values():
        _settle(v)
    return videos


def _actor_spans(tables: list[LabelTable], grids: FaceGrids) -> dict[str, list[tuple[str, np.ndarray]]]:
    """Per video, (actor, sample indices) of each interval row (points and none-label rows have no span)."""
    spans: dict[str, list] = {}
    for table in tables:
        ids = resolve_all(table.path.name, table.rows, grids, grids.name, folder=table.path.parent)  # once a name
        for r in resolve_table(table, grids, grids.name).rows:
            if r.end_s is None or r.label == table.none_label:
                continue
            video_id = ids[r.video]
            t = grids.table(video_id).sample_times_s
            idx = np.flatnonzero((t >= r.start_s - TIME_TOLERANCE_S) & (t < r.end_s - TIME_TOLERANCE_S))
            if len(idx) > 1:  # one sample is the single-face rule's
                spans.setdefault(video_id, []).append((r.label, idx))
    return spans


def _claim_tracks(v: VideoFaceLabels, spans: list[tuple[str, np.ndarray]]) -> None:
    """An actor's interval where exactly one track has faces, at every sample of it: its faces there are the actor's
    (another person's faces there too would make the track the actor's only by chance, when a detection of the actor
    was missed); a face two actors claim this way is left to the assignment."""
    sample, track = v.sample, np.asarray(v.table.track)
    claims: dict[int, set] = {}
    for actor, idx in spans:
        inside = np.isin(sample, idx)
        present = np.unique(track[inside])
        if len(present) != 1 or present[0] < 0 or not np.array_equal(np.unique(sample[inside]), idx):
            continue
        for row in np.flatnonzero(inside).tolist():
            claims.setdefault(row, set()).add(actor)
    for row, actors in claims.items():
        if len(actors) == 1:
            v.claim(row, next(iter(actors)), "track")


def _settle(v: VideoFaceLabels) -> None:
    """Per labelled sample: single faces, none-label faces, leftovers; the rest pending (module docstring)."""
    sample = v.sample
    order = np.argsort(sample, kind="stable")
    starts = np.searchsorted(sample[order], np.arange(len(v.labelled) + 1))
    for i in np.flatnonzero(v.labelled).tolist():
        faces = order[starts[i]:starts[i + 1]]
        actors = v.actors_at[i]
        if not actors:
            v.claim(faces, UNKNOWN, "none")
            continue
        taken = {v.label[f] for f in faces if v.label[f]}
        doubled = [a for a in taken if sum(v.label[f] == a for f in faces) > 1 or a not in actors]
        for f in faces:  # a track claim clashing with another claim here is no claim
            if v.label[f] in doubled:
                v.claim(f, "", "")
        free = [f for f in faces if not v.label[f]]
        left = [a for a in actors if a not in {v.label[f] for f in faces}]
        if len(free) == 1 and len(left) == 1 and len(actors) == 1:
            v.claim(free[0], left[0], "single")
        elif free and left:
            v.pending.append((np.asarray(free, dtype=np.intp), tuple(left)))
        elif free:
            v.claim(np.asarray(free, dtype=np.intp), UNKNOWN, "leftover")
        else:
            v.missed += len(left)
