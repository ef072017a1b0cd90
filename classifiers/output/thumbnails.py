"""Thumbnails of the report's segments: the first, middle and last sample of each, as small base64 JPEGs.

They are the very frames that were embedded: decoded from each video's source file at the samples' stored
presentation times by the one frame reader (`featurestore.video.pyav.AvVideoReader.iter_frames_at`, which seeks only
across long gaps and holds few frames at a time), all of a video's in one call. A page stays small: `MAX_FRAMES` distinct
frames at most per report, `THUMB_WIDTH_PX` wide; beyond that the longest segments get theirs first.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from classifiers.chain.timeline import VideoScreenTime
from featurestore.errors import ScreentimeError

THUMB_WIDTH_PX = 160
JPEG_QUALITY = 70
#: Distinct frames decoded for one report (about 4-8 kB each): the page stays under ~10 MB.
MAX_FRAMES = 1000


@dataclass
class VideoThumbnails:
    """Thumbnails of one video's segments.

    Attributes
    ----------
    by_segment : dict of int to list of (sample index, data URI)
        Per segment index (into ``VideoScreenTime.segments``): its first, middle and last sample's frame.
    note : str
        Why some or all segments have none ('' when all have theirs).
    source : str
        The file they were decoded from ('' when none was found).
    """

    by_segment: dict = field(default_factory=dict)
    note: str = ""
    source: str = ""


def segment_samples(video: VideoScreenTime, index: int) -> list[int]:
    """Sample indices of segment `index`'s first, middle and last sample (fewer for a short segment)."""
    seg = video.segments[index]
    eps = 1e-9
    lo = int(np.searchsorted(video.sample_s, seg.start_s - eps))
    hi = max(lo + 1, int(np.searchsorted(video.sample_s, seg.end_s - eps)))
    lo = min(lo, len(video.sample_s) - 1)
    hi = min(hi, len(video.sample_s))
    return list(dict.fromkeys([lo, (lo + hi - 1) // 2, hi - 1]))


def plan_thumbnails(videos: list[VideoScreenTime], max_frames: int = MAX_FRAMES) -> list[dict[int, list[int]]]:
    """Per video, segment index -> its sample indices to show; the longest segments first until `max_frames`."""
    order = sorted(((seg.duration_s, v, i) for v, video in enumerate(videos) for i, seg in enumerate(video.segments)),
                   key=lambda x: -x[0])
    plans: list[dict[int, list[int]]] = [{} for _ in videos]
    seen: list[set] = [set() for _ in videos]
    used = 0
    for _, v, i in order:
        picks = segment_samples(videos[v], i)
        new = [p for p in picks if p not in seen[v]]
        if used + len(new) > max_frames:
            continue
        plans[v][i] = picks
        seen[v].update(new)
        used += len(new)
    return plans


def video_thumbnails(video: VideoScreenTime, plan: dict[int, list[int]], source: str | os.PathLike | None,
                     missing_note: str = "") -> VideoThumbnails:
    """Decode the planned samples' frames from `source` (None: no thumbnails, `missing_note` says why)."""
    if source is None:
        return VideoThumbnails(note=missing_note)
    from featurestore.video.pyav import AvVideoReader

    wanted = sorted({i for picks in plan.values() for i in picks})
    times = video.actual_s if video.actual_s is not None else video.sample_s
    try:
        at = {}  # time -> the samples shown at it
        for i in wanted:
            at.setdefault(float(times[i]), []).append(i)
        reader = AvVideoReader(Path(source))
        uris, aspect = {}, reader.info.display_aspect  # as players show it: anamorphic video too (issue 26)
        for t, frame in reader.iter_frames_at(list(at)):  # encoded as decoded: few frames held
            uris.update(dict.fromkeys(at[t], jpeg_data_uri(frame, aspect=aspect)))
    except ScreentimeError as err:
        return VideoThumbnails(note=f"no thumbnails: {err}", source=str(source))
    by_segment = {s: [(i, uris[i]) for i in picks] for s, picks in plan.items()}
    left = len(video.segments) - len(by_segment)
    note = (f"thumbnails for the {len(by_segment)} longest of {len(video.segments)} segments, to keep the page small"
            if left > 0 else "")
    return VideoThumbnails(by_segment, note, str(source))


def jpeg_data_uri(frame_bgr: np.ndarray, width_px: int = THUMB_WIDTH_PX, aspect: float | None = None) -> str:
    """A BGR frame as a `width_px`-wide JPEG data URI, `aspect` (width / height as shown) kept; default: the frame's."""
    import cv2

    h, w = frame_bgr.shape[:2]
    aspect = aspect or w / h
    if w > width_px or abs(aspect - w / h) > 0.01:
        width = min(width_px, w)
        frame_bgr = cv2.resize(frame_bgr, (width, max(1, round(width / aspect))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", frame_bgr, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise ValueError("OpenCV could not encode a thumbnail as JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode("ascii")
