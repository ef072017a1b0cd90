"""The thumbnails of cluster's page: each picked track's best face cropped from its frame, or a shot's middle frame.

Decoded from each video's source file by the one frame reader (`featurestore.video.pyav.AvVideoReader.iter_frames_at`,
all of a video's times in one pass), as small base64 JPEGs (`classifiers.output.thumbnails.jpeg_data_uri`). A page
stays small: `MAX_THUMBS` at most, every cluster's first pick before any cluster's second.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from featurestore.errors import ScreentimeError
from featurestore.progress import step

from .thumbnails import jpeg_data_uri

MAX_THUMBS = 1500
FACE_WIDTH_PX = 96
SHOT_WIDTH_PX = 160
FACE_MARGIN = 0.35  # of the box's larger side, around the face


@dataclass
class ClusterThumbs:
    """The thumbnails of a clustering: cluster id -> units shown (`plan`), unit -> data URI, notes on those missing,
    and unit -> the thumbnail itself (`tiles`: a BGR array, for Label Studio's grids, `classifiers.output.cluster_tasks`)."""

    plan: dict
    uris: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    tiles: dict = field(default_factory=dict)


def cluster_thumbs(clustering, sources: dict, max_thumbs: int = MAX_THUMBS, progress=None) -> ClusterThumbs:
    """Plan and decode the thumbnails of `clustering`; `sources`: video_id -> source Path, or why there is none;
    `progress` (`featurestore.progress.Progress`) counts the videos decoded."""
    plan = plan_thumbs(clustering, max_thumbs)
    return ClusterThumbs(plan, *decode_thumbs(clustering, plan, sources, progress))


def plan_thumbs(clustering, max_thumbs: int = MAX_THUMBS) -> dict[str, list[int]]:
    """cluster id -> the units whose thumbnails it shows: its picks, in rounds (each cluster's first, then each one's
    second, ...), largest clusters first, until `max_thumbs`."""
    plan: dict[str, list[int]] = {c.id: [] for c in clustering.clusters}
    used, depth = 0, 0
    while used < max_thumbs and any(len(c.picks) > depth for c in clustering.clusters):
        for c in clustering.clusters:
            if len(c.picks) > depth and used < max_thumbs:
                plan[c.id].append(c.picks[depth])
                used += 1
        depth += 1
    return plan


def unit_time(clustering, unit: int) -> float:
    """The frame time of a unit's thumbnail: its best face's sample, or its shot's middle sample."""
    units = clustering.units
    if clustering.mode == "faces":
        return float(units.tables[units.video[unit]].time_s[units.best_row[unit]])
    return float(units.thumb_s[unit])


def decode_thumbs(clustering, plan: dict[str, list[int]], sources: dict,
                  progress=None) -> tuple[dict[int, str], list[str], dict]:
    """unit -> data URI of each planned unit whose video decodes, a note per video that gave none, and unit -> the
    thumbnail (BGR, `FACE_WIDTH_PX` or `SHOT_WIDTH_PX` wide).

    `sources`: video_id -> the source file's Path, or the reason (str) there is none.
    """
    units = clustering.units
    by_video: dict[str, list[int]] = {}
    for u in sorted({u for picks in plan.values() for u in picks}):
        by_video.setdefault(units.video[u], []).append(u)
    uris, notes, tiles = {}, [], {}
    with step(progress, "thumbnails", len(by_video)) as advance:
        for video_id in sorted(by_video):
            _decode_video(clustering, video_id, by_video[video_id], sources.get(video_id), uris, notes, tiles)
            advance()
    return uris, notes, tiles


def _decode_video(clustering, video_id: str, units: list[int], source, uris: dict, notes: list, tiles: dict) -> None:
    """The thumbnails of `units` of one video into `uris` and `tiles`, or a note why there are none."""
    from featurestore.video.pyav import AvVideoReader

    if not source or isinstance(source, str):
        notes.append(f"no thumbnails: {source}" if source else f"no thumbnails of {video_id}: its source is unknown")
        return
    at: dict[float, list[int]] = {}
    for u in units:
        at.setdefault(unit_time(clustering, u), []).append(u)
    try:
        for t, frame in AvVideoReader(source).iter_frames_at(list(at)):
            for u in at[t]:
                tiles[u] = _thumb(clustering, u, frame)
                uris[u] = jpeg_data_uri(tiles[u], tiles[u].shape[1])
    except ScreentimeError as err:
        notes.append(f"no thumbnails of {video_id}: {err}")


def _thumb(clustering, unit: int, frame: np.ndarray) -> np.ndarray:
    """The unit's thumbnail: its best face cropped with a margin (at least `FACE_WIDTH_PX` wide), or its frame."""
    import cv2

    if clustering.mode != "faces":
        h, w = frame.shape[:2]
        width = min(SHOT_WIDTH_PX, w)
        return cv2.resize(frame, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)
    units = clustering.units
    table = units.tables[units.video[unit]]
    h, w = frame.shape[:2]
    x, y, bw, bh = table.box[units.best_row[unit]].astype(np.float64) * np.array([w, h, w, h])
    side = max(bw, bh) * (1 + 2 * FACE_MARGIN)
    cx, cy = x + bw / 2, y + bh / 2
    x0, y0 = int(max(0, round(cx - side / 2))), int(max(0, round(cy - side / 2)))
    x1, y1 = int(min(w, round(cx + side / 2))), int(min(h, round(cy + side / 2)))
    crop = frame[y0:max(y1, y0 + 1), x0:max(x1, x0 + 1)]
    if crop.shape[1] != FACE_WIDTH_PX:  # every face at the page's size
        scale = FACE_WIDTH_PX / crop.shape[1]
        crop = cv2.resize(crop, (FACE_WIDTH_PX, max(1, round(crop.shape[0] * scale))),
                          interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA)
    return np.ascontiguousarray(crop)
