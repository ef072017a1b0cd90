"""Named clusters of faces as per-face labels (issue 25): a filled ``clusters.csv`` of `cluster --faces`, its members
file (`classifiers.data.clusters`) matched to the store's faces by video, time and box.

A face of a named cluster (or track) gets the name (``how`` 'cluster'; ``unknown``: `UNKNOWN`, someone not in the
cast); a sample whose every face is named is labelled, with those actors on screen, so held-out scoring knows who is
there; faces left out (an empty name) get no label.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from classifiers.chain.face_decide import UNKNOWN
from featurestore.errors import LabelsInvalid

from .clusters import BOX_MATCH_PX, TIME_MATCH_S, ClusterNames, read_cluster_names
from .face_labels import VideoFaceLabels, check_actor_names
from .names import resolve_all
from .table import LabelRow


def cluster_face_labels(path: str | Path, text: str, grids) -> dict:
    """A faces clusters file as per-face labels: video_id -> `classifiers.data.face_labels.VideoFaceLabels`.

    A face of a named cluster (or track) gets the name (``how`` 'cluster'); a sample whose every face is named is
    labelled, with those names on screen. A clusters file of shots is read as intervals instead
    (`classifiers.data.clusters.cluster_label_table`).
    """
    names = read_cluster_names(path, text)
    if not names.names:
        raise LabelsInvalid(f"{names.path.name} names no cluster; {names.how_to_name}")
    check_actor_names(names.path.name, set(names.names) - {UNKNOWN})
    by_video: dict[str, list] = {}
    named = [(m, name) for m, name in zip(names.members, names.name) if name]
    ids = resolve_all(names.members_path.name, [LabelRow(m.video, 0.0, None, name, m.line, where=m.where)
                                                for m, name in named], grids, grids.name, folder=names.members_path.parent)
    for m, name in named:
        by_video.setdefault(ids[m.video], []).append((m, name))
    out = {}
    for video_id in sorted(by_video):
        table = grids.table(video_id)
        v = VideoFaceLabels.empty(video_id, table, grids.info(video_id))
        found = by_video[video_id]
        rows = member_rows(names, table, video_id, [m for m, _ in found])
        for row, (_, name) in zip(rows.tolist(), found):
            v.claim(row, name, "cluster")
        v.mark_named(np.unique(v.sample[rows]).tolist())
        out[video_id] = v
    return out


def member_rows(names: ClusterNames, table, video_id: str, members: list) -> np.ndarray:
    """The rows of `table` (the video's FaceTable) that `members` (face members of `video_id`) are.

    Raises LabelsInvalid naming the line of a member the store holds no face for.
    """
    time_s = np.asarray(table.time_s, np.float64)
    box = table.box_px()
    out = np.empty(len(members), np.intp)
    taken: set[int] = set()
    for k, m in enumerate(members):
        lo, hi = np.searchsorted(time_s, [m.time_s - TIME_MATCH_S, m.time_s + TIME_MATCH_S])
        near = np.arange(lo, hi)
        gap = np.abs(box[near] - np.asarray(m.box)).max(axis=1) if len(near) else np.zeros(0)
        if not len(near) or gap.min() > BOX_MATCH_PX:
            raise LabelsInvalid(f"{names.members_path.name} {m.where}: the store holds no face of {video_id!r} at "
                                f"{m.time_s:g} s in box {', '.join(f'{v:g}' for v in m.box)}; its faces changed since "
                                "`cluster` wrote it: run `cluster` again")
        # a frame held over several samples repeats its faces (same time, same box): each line takes the next one
        free = [int(near[i]) for i in np.argsort(gap, kind="stable")
                if gap[i] <= BOX_MATCH_PX and int(near[i]) not in taken]
        if not free:
            raise LabelsInvalid(f"{names.members_path.name}: lists a face of {video_id!r} twice; write it again with "
                                "`cluster`")
        out[k] = free[0]
        taken.add(free[0])
    return out
