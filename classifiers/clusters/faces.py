"""The units of face clustering: tracks (one person's faces in one shot), each a mean descriptor.

A track's mean is taken over its good faces (quality and size at least the gates); a track without one goes to the
"blurred / small" bin, with the faces nobody should name from a blur. A face without a track is a track of its own.
Two tracks with faces in one sample are two people: a cannot-link. Faces a labels file already names are left out
(they give the suggestions instead: `actor_units`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featurestore.faces.quality import GOOD_QUALITY as MIN_QUALITY

#: Faces below `MIN_QUALITY` (FaceTable.quality, 0-1: `featurestore.faces.quality.GOOD_QUALITY`, measured there) or
#: this height go to the blurred / small bin unless their track has a good face. Under 24 px a face's descriptor is
#: 0.42 from the same face sharp (docs/faces.md).
MIN_SIZE_PX = 24.0


@dataclass
class FaceUnits:
    """The tracks of a collection's faces, in a fixed order (video, then first appearance).

    Attributes
    ----------
    tables : dict of video_id -> FaceTable
    step_s : dict of video_id -> float
        Seconds one sample stands for (1 / sample_fps).
    video : ndarray of shape (u,), object
    track : ndarray of shape (u,), int
        The stored track id (`FaceTable.track`; -1: a face without one).
    rows : list of u ndarrays of int
        Each unit's faces: rows of its video's table.
    mean : ndarray of shape (u, d), float64
        The mean descriptor of its good faces (of all its faces where none is good).
    good : ndarray of shape (u,), bool
        Whether it has a good face (else: the blurred / small bin).
    cannot_link : ndarray of shape (p, 2), int
        Pairs of units with faces in one sample.
    n_left_out : int
        Faces left out because a label names them.
    """

    kind = "track"
    tables: dict
    step_s: dict
    video: np.ndarray
    track: np.ndarray
    rows: list
    mean: np.ndarray
    good: np.ndarray
    cannot_link: np.ndarray
    n_left_out: int = 0
    best_row: np.ndarray = field(default_factory=lambda: np.zeros(0, np.intp))

    def __len__(self) -> int:
        return len(self.video)

    @property
    def number(self) -> np.ndarray:
        """(u,) int: the number a person sees and types for each unit (1, 2, ...; the members file's `track`)."""
        return np.arange(1, len(self) + 1)

    def n_items(self, units) -> int:
        return int(sum(len(self.rows[u]) for u in units))

    def seconds(self, units) -> float:
        """Seconds with a face of `units` on screen: distinct samples times their step."""
        total = 0.0
        by_video: dict[str, list] = {}
        for u in units:
            by_video.setdefault(self.video[u], []).append(self.rows[u])
        for video_id, rows in by_video.items():
            samples = self.tables[video_id].sample  # not time_s: a held frame's samples share it
            total += len(np.unique(samples[np.concatenate(rows)])) * self.step_s[video_id]
        return total


def face_units(tables: dict, step_s: dict, *, exclude: dict | None = None, min_quality: float = MIN_QUALITY,
               min_size_px: float = MIN_SIZE_PX) -> FaceUnits:
    """The tracks of `tables` (video_id -> FaceTable), videos in sorted order.

    `exclude`: video_id -> (n_faces,) bool, faces to leave out (labelled already).
    """
    video, track, rows, mean, good, best, pairs = [], [], [], [], [], [], []
    left_out = 0
    dim = next((t.embedding.shape[1] for t in tables.values() if t.embedding.ndim == 2), 0)
    for video_id in sorted(tables):
        t = tables[video_id]
        keep = np.ones(len(t), bool) if exclude is None or video_id not in exclude else ~np.asarray(exclude[video_id], bool)
        left_out += int(len(t) - keep.sum())
        idx = np.flatnonzero(keep)
        tr = np.asarray(t.track)[idx]
        key = np.where(tr >= 0, tr.astype(np.int64), -2 - idx.astype(np.int64))  # an untracked face: its own unit
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")  # units by first appearance (rows are sorted by time)
        base = len(video)
        rank = np.empty(len(order), np.intp)
        rank[order] = np.arange(len(order))
        unit_of = rank[inverse.reshape(-1)] + base
        is_good = (np.asarray(t.quality)[idx] >= min_quality) & (np.asarray(t.size_px)[idx] >= min_size_px)
        emb = np.asarray(t.embedding, np.float64)
        quality = np.asarray(t.quality, np.float64)
        inv = inverse.reshape(-1)
        by_unit = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[by_unit], np.arange(len(first) + 1))
        for k in order:
            at = by_unit[bounds[k]:bounds[k + 1]]
            members, members_good = idx[at], idx[at[is_good[at]]]
            video.append(video_id)
            track.append(int(t.track[members[0]]))
            rows.append(members)
            used = members_good if len(members_good) else members
            mean.append(emb[used].mean(axis=0))
            good.append(len(members_good) > 0)
            best.append(int(used[np.argmax(quality[used])]))
        pairs.append(_same_sample_pairs(t.sample[idx], unit_of))  # a held frame's time is several samples'
    return FaceUnits(tables=dict(tables), step_s=dict(step_s), video=np.array(video, dtype=object),
                     track=np.array(track, np.int64), rows=rows,
                     mean=np.array(mean, np.float64).reshape(len(video), dim), good=np.array(good, bool),
                     cannot_link=np.concatenate(pairs) if pairs else np.zeros((0, 2), np.intp), n_left_out=left_out,
                     best_row=np.array(best, np.intp))


def _same_sample_pairs(sample: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """(p, 2) pairs of distinct units with faces in one sample (`sample`: each face's sample index)."""
    order = np.lexsort((unit, sample))
    t, u = sample[order], unit[order]
    bounds = np.flatnonzero(np.diff(t)) + 1
    out = []
    for part in np.split(u, bounds):
        part = np.unique(part)
        if len(part) > 1:
            a, b = np.triu_indices(len(part), 1)
            out.append(np.column_stack([part[a], part[b]]))
    return np.concatenate(out).astype(np.intp) if out else np.zeros((0, 2), np.intp)


def actor_units(videos: dict, *, min_quality: float = MIN_QUALITY, min_size_px: float = MIN_SIZE_PX,
                skip=("", "unknown")) -> dict[str, np.ndarray]:
    """Per actor, the mean descriptors (k, d) of their labelled tracks' good faces, from labelled videos
    (video_id -> `classifiers.data.face_labels.VideoFaceLabels`): what a cluster is compared with for a name."""
    means: dict[str, list] = {}
    for video_id in sorted(videos):
        v = videos[video_id]
        t = v.table
        label = np.asarray(v.label, dtype=object)
        ok = (np.asarray(t.quality) >= min_quality) & (np.asarray(t.size_px) >= min_size_px) & ~np.isin(label, list(skip))
        tr = np.asarray(t.track)
        emb = np.asarray(t.embedding, np.float64)
        for name in sorted(set(label[ok].tolist())):
            faces = np.flatnonzero(ok & (label == name))
            key = np.where(tr[faces] >= 0, tr[faces].astype(np.int64), -2 - faces.astype(np.int64))
            for k in np.unique(key):
                means.setdefault(name, []).append(emb[faces[key == k]].mean(axis=0))
    return {name: np.array(m) for name, m in means.items()}
