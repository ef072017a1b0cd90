"""Face tracks: the faces of one person followed from sample to sample inside a shot, never across a cut;
and `assemble`, which turns one video's analysed samples into its FaceTable (shots, then tracks).

Linking, sample by sample in time order: each track still open in the same shot (last seen at most `max_gap_s`
ago) may take one face of the new sample. A pair may link when its descriptors are close (Euclidean distance
<= max_distance; dlib's same-person rule is < 0.6) and the face overlaps the track's last box (IoU >= min_iou),
or, without overlap (a face that moved far between samples), when the descriptors are very close
(<= max_distance_alone). Among allowed pairs, the Hungarian assignment (scipy) minimises
distance + (1 - IoU). Faces left over start new tracks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .boxes import box_iou
from .table import COLUMNS, DTYPES, FRAME_COLUMNS, FaceTable, column_shape

if TYPE_CHECKING:  # analyser.py imports OpenCV; assembling needs only the arrays
    from .analyser import FrameFaces

#: A frame whose presentation time is this little after a sample's time counts as on screen at it (as
#: featurestore.video.clock.PTS_TOLERANCE_S): a cut within it of a sample belongs to that sample.
PTS_TOLERANCE_S = 1e-4
MAX_GAP_S = 3.0  # at 1 sample/s: a track survives two samples where its face was missed
MAX_DISTANCE = 0.6
MAX_DISTANCE_ALONE = 0.4
MIN_IOU = 0.1
_FORBIDDEN = 1e6


def shot_of(times_s: np.ndarray, cuts_s: np.ndarray) -> np.ndarray:
    """(n,) int32 index of the shot each time lies in: the number of cuts at or before it."""
    times = np.asarray(times_s, np.float64) + PTS_TOLERANCE_S
    return np.searchsorted(np.asarray(cuts_s, np.float64), times, side="right").astype(np.int32)


def link_tracks(time_s, box, embedding, shot, *, max_gap_s: float = MAX_GAP_S, max_distance: float = MAX_DISTANCE,
                max_distance_alone: float = MAX_DISTANCE_ALONE, min_iou: float = MIN_IOU, sample=None) -> np.ndarray:
    """Track ids of faces.

    Parameters
    ----------
    time_s : (n,) float64 sample time of each face, seconds
    box : (n, 4) x, y, w, h (normalised or pixels: only overlaps are used)
    embedding : (n, d) face descriptors
    shot : (n,) int shot of each face
    sample : (n,) int sample of each face, optional [default: one per time]; samples that show one held frame (a
        variable frame rate) share its time, and their faces are still one face per sample each

    Returns
    -------
    track : (n,) int32, 0, 1, ... in order of first appearance; faces of one track share a shot and never a sample.
    """
    from scipy.optimize import linear_sum_assignment

    time_s, shot = np.asarray(time_s, np.float64), np.asarray(shot)
    box, embedding = np.asarray(box, np.float64), np.asarray(embedding, np.float64)
    track = np.full(len(time_s), -1, np.int32)
    open_tracks: list[dict] = []  # id, shot, time_s, box, embedding of the track's last face
    n_tracks = 0
    key = time_s if sample is None else np.asarray(sample)
    order = np.lexsort((np.arange(len(time_s)), key, time_s))
    _, starts = np.unique(key[order], return_index=True)
    for group in np.split(order, np.sort(starts)[1:]) if len(order) else []:
        t = time_s[group[0]]
        s = shot[group[0]]
        if np.any(shot[group] != s):
            raise ValueError(f"faces of the sample at {t} s lie in different shots")
        open_tracks = [tr for tr in open_tracks if tr["shot"] == s and t - tr["time_s"] <= max_gap_s + PTS_TOLERANCE_S]
        taken = np.zeros(len(group), bool)
        if open_tracks:
            cost = _link_cost(open_tracks, box[group], embedding[group], max_distance, max_distance_alone, min_iou)
            rows, cols = linear_sum_assignment(cost)
            for r, c in zip(rows, cols):
                if cost[r, c] < _FORBIDDEN:
                    track[group[c]] = open_tracks[r]["id"]
                    taken[c] = True
        for c in np.flatnonzero(~taken):
            track[group[c]] = n_tracks
            open_tracks.append({"id": n_tracks, "shot": s})
            n_tracks += 1
        by_id = {tr["id"]: tr for tr in open_tracks}
        for c, face in enumerate(group):
            by_id[track[face]].update(time_s=t, box=box[face], embedding=embedding[face])
    return _renumber(track, order)


def _link_cost(tracks: list[dict], boxes: np.ndarray, embeddings: np.ndarray, max_distance: float,
               max_distance_alone: float, min_iou: float) -> np.ndarray:
    """(tracks, faces) distance + (1 - IoU) where a link is allowed, else _FORBIDDEN."""
    last_boxes = np.stack([tr["box"] for tr in tracks])
    last_embeddings = np.stack([tr["embedding"] for tr in tracks])
    iou = box_iou(last_boxes, boxes)
    distance = np.linalg.norm(last_embeddings[:, None, :] - embeddings[None, :, :], axis=-1)
    allowed = (distance <= max_distance) & ((iou >= min_iou) | (distance <= max_distance_alone))
    return np.where(allowed, distance + (1.0 - iou), _FORBIDDEN)


def _renumber(track: np.ndarray, order: np.ndarray) -> np.ndarray:
    """Track ids 0, 1, ... in order of first appearance (in time, then face order)."""
    first = {}
    for face in order:
        first.setdefault(int(track[face]), len(first))
    return np.array([first[int(t)] for t in track], dtype=np.int32)


def assemble(video_id: str, identity: dict, sample_times_s, frames: "list[FrameFaces]", cuts_s, frame_size,
             **link_options) -> FaceTable:
    """One video's FaceTable from the faces of each sample (`frames[i]` at `sample_times_s[i]`).

    Rows are in sample order (time_s, then face: a held frame's samples each number theirs from 0); each face gets
    the shot its sample lies in (from `cuts_s`, seconds) and a track (link_tracks, with `link_options`).
    `frame_size` is (width, height) in pixels.
    """
    sample_times_s = np.asarray(sample_times_s, np.float64)
    if len(frames) != len(sample_times_s):
        raise ValueError(f"{len(frames)} analysed frames for {len(sample_times_s)} sample times")
    cuts_s = np.sort(np.asarray(cuts_s, np.float64))
    order = np.argsort(sample_times_s, kind="stable")
    dim = frames[0].embedding.shape[1] if frames else 0
    picked = [frames[i] for i in order]
    columns = {
        name: np.concatenate([getattr(f, name) for f in picked]) if picked else np.zeros((0, *column_shape(name, dim)))
        for name in FRAME_COLUMNS
    }
    counts = np.array([len(f) for f in picked], dtype=np.int64)
    time_s = np.repeat(sample_times_s[order], counts)
    face = np.concatenate([np.arange(n, dtype=np.int32) for n in counts]) if len(counts) else np.zeros(0, np.int32)
    shot = shot_of(time_s, cuts_s)
    track = link_tracks(time_s, columns["box"], columns["embedding"], shot, sample=np.repeat(np.arange(len(counts)), counts),
                        **link_options)
    values = {"time_s": time_s, "face": face, "shot": shot, "track": track, **columns}
    values = {name: np.asarray(values[name], dtype=DTYPES[name]) for name in COLUMNS}
    return FaceTable(video_id=video_id, config=dict(identity), sample_times_s=sample_times_s[order], cuts_s=cuts_s,
                     frame_size=(int(frame_size[0]), int(frame_size[1])), **values)
