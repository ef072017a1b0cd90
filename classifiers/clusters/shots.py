"""The units of frame clustering (`cluster` without --faces): shots, each the mean of its samples' frame features.

A shot is the samples between two cuts (`featurestore.video.shots.detect_cuts`, or the cuts a stored face table
keeps). Each sample's VGG16 features are scaled to unit length, averaged over the shot and scaled again, so two
shots are compared by direction (Euclidean distance of unit vectors, 0-2), not by how bright they are. A shot with a
labelled sample is left out: a label covers it (its labelled samples suggest names instead: `class_units`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class StoredFrames:
    """What frame clustering reads of one stored video: grid and frame times (n,), features (n, d), cut times,
    the seconds one sample stands for."""

    requested_s: np.ndarray
    actual_s: np.ndarray
    features: np.ndarray
    cuts_s: np.ndarray
    step_s: float

    def shot_of(self) -> np.ndarray:
        """(n,) int: each sample's shot, by the time of the frame it shows."""
        return np.searchsorted(np.asarray(self.cuts_s, np.float64), np.asarray(self.actual_s, np.float64),
                               side="right").astype(np.int64)


@dataclass
class ShotUnits:
    """The shots of a collection, in a fixed order (video, then time).

    Attributes
    ----------
    video : ndarray of shape (u,), object
    shot : ndarray of shape (u,), int: its index in its video (0: before the first cut)
    rows : list of u ndarrays of int: its samples, rows of the video's stored arrays
    start_s, end_s : ndarray of shape (u,), seconds on the sampling grid: the shot is [start_s, end_s)
    thumb_s : ndarray of shape (u,), seconds: the frame time of its middle sample (its thumbnail)
    mean : ndarray of shape (u, d): its unit-length mean direction
    """

    kind = "shot"
    video: np.ndarray
    shot: np.ndarray
    rows: list
    start_s: np.ndarray
    end_s: np.ndarray
    thumb_s: np.ndarray
    mean: np.ndarray
    step_s: dict
    n_left_out: int = 0

    def __len__(self) -> int:
        return len(self.video)

    @property
    def good(self) -> np.ndarray:
        return np.ones(len(self), bool)

    @property
    def cannot_link(self) -> np.ndarray:
        return np.zeros((0, 2), np.intp)

    @property
    def number(self) -> np.ndarray:
        return np.arange(1, len(self) + 1)

    def n_items(self, units) -> int:
        return int(sum(len(self.rows[u]) for u in units))

    def seconds(self, units) -> float:
        return float(sum(len(self.rows[u]) * self.step_s[self.video[u]] for u in units))


def _directions(features: np.ndarray) -> np.ndarray:
    x = np.asarray(features, np.float64)
    norm = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.where(norm > 0, norm, 1.0)


def _pieces(directions: np.ndarray, members: np.ndarray, split: float | None) -> list[np.ndarray]:
    """`members` (one shot's rows, in time order) cut where a sample's direction is further than `split` from the
    unit-length mean of its piece so far: who is on screen changes without a cut (a character walks in)."""
    if split is None:
        return [members]
    pieces, start, total = [], 0, directions[members[0]].copy()
    for j in range(1, len(members)):
        x = directions[members[j]]
        if np.linalg.norm(x - _directions(total)) > split:
            pieces.append(members[start:j])
            start, total = j, x.copy()
        else:
            total += x
    return pieces + [members[start:]]


def shot_units(videos: dict[str, StoredFrames], *, exclude: dict | None = None, split: float | None = None,
               on_video=None) -> ShotUnits:
    """The shots of `videos` (video_id -> StoredFrames), sorted by video id then time; `on_video(1)` after each.

    `exclude`: video_id -> (n,) bool, labelled samples; a unit holding one is left out. `split`: a distance (0-2)
    beyond which a sample starts a new unit inside its shot (`_pieces`); None keeps whole shots.
    """
    video, shot, rows, start, end, thumb, mean = [], [], [], [], [], [], []
    left_out = 0
    dim = next((v.features.shape[1] for v in videos.values() if np.ndim(v.features) == 2), 0)
    for video_id in sorted(videos):
        v = videos[video_id]
        of = v.shot_of()
        labelled = np.zeros(len(of), bool) if exclude is None or video_id not in exclude else np.asarray(exclude[video_id], bool)
        directions = _directions(v.features)
        for k, members in ((k, m) for k in np.unique(of) for m in _pieces(directions, np.flatnonzero(of == k), split)):
            if labelled[members].any():
                left_out += 1
                continue
            video.append(video_id)
            shot.append(int(k))
            rows.append(members)
            start.append(float(v.requested_s[members[0]]))
            end.append(float(v.requested_s[members[-1]]) + v.step_s)
            thumb.append(float(v.actual_s[members[len(members) // 2]]))
            mean.append(_directions(directions[members].mean(axis=0)))
        if on_video is not None:
            on_video(1)
    return ShotUnits(np.array(video, dtype=object), np.array(shot, np.int64), rows, np.array(start), np.array(end),
                     np.array(thumb), np.array(mean, np.float64).reshape(len(video), dim),
                     {k: v.step_s for k, v in videos.items()}, left_out)


def class_units(videos: dict[str, StoredFrames], labels: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per label, the mean directions (k, d) of its labelled stretch of each shot (labels: video_id -> (n,)
    object, '' where a sample has none): what a cluster of shots is compared with for a name."""
    means: dict[str, list] = {}
    for video_id in sorted(labels):
        v = videos[video_id]
        label = np.asarray(labels[video_id], dtype=object)
        of = v.shot_of()
        directions = _directions(v.features)
        for name in sorted(set(label.tolist()) - {""}):
            for k in np.unique(of[label == name]):
                means.setdefault(name, []).append(_directions(directions[(label == name) & (of == k)].mean(axis=0)))
    return {name: np.array(m) for name, m in means.items()}
