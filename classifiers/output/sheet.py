"""Contact sheet of suggested spans: a few thumbnails per span, decoded from the source video, to label from.

The source of each stored video is the file recorded in the store when it was embedded (``source_path``,
checked against the stored content fingerprint), or a file of the same name in a folder the user names
when the videos have moved. Thumbnails are the very frames that were embedded: the decoder seeks a little
before the span and reads forward to each sample's recorded presentation time (``actual_s``).
Drawn with matplotlib's Agg canvas (no display needed).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import cv2
import numpy as np

from featurestore.errors import SourceVideoMoved, VideoUnreadable
from featurestore.files import atomic_output
from featurestore.video import check_video_path, fingerprint

THUMBS_PER_SPAN = 4
THUMB_HEIGHT_IN = 1.35
TEXT_WIDTH_IN = 3.3
HEADER_IN = 0.6
DPI = 100
_SEEK_BACK_S = 2.0  # seek this far before the first wanted frame, then decode forward to it
_PTS_TOLERANCE_S = 1e-3


def find_source(video_id: str, info: dict, *, video_dir: str | os.PathLike | None = None) -> Path:
    """The file a stored video was embedded from: its recorded path, else ``video_dir``/its file name.

    A file found is checked against the stored content fingerprint, so a different video of the same
    name is never shown as this one.

    Raises
    ------
    SourceVideoMoved
        In one line: the stored id, where it was, and what to do (put it back or pass ``--video-dir``).
    """
    recorded = str(info.get("source_path") or "")
    names = [n for n in dict.fromkeys([Path(recorded).name if recorded else "", Path(video_id).name]) if n]
    candidates = ([Path(video_dir) / n for n in names] if video_dir is not None else []) + ([Path(recorded)] if recorded else [])
    wanted = info.get("fingerprint")
    changed = []
    for path in candidates:
        if not path.is_file():
            continue
        try:
            if wanted and fingerprint(path) != wanted:
                changed.append(path)
                continue
        except OSError:
            continue
        return path
    where = f" (looked in {video_dir} too)" if video_dir is not None else ""
    if changed:
        raise SourceVideoMoved(f"{video_id}: {changed[0]} is not the video that was embedded (its content differs){where}; "
                               "put the original back or pass --video-dir with the folder that holds it")
    if not recorded:
        raise SourceVideoMoved(f"{video_id}: the store does not record which file it was embedded from; "
                               "pass --video-dir with the folder that holds it")
    raise SourceVideoMoved(f"{video_id}: its source video {recorded} has moved or been deleted{where}; "
                           "put it back or pass --video-dir with the folder it is in now")


def read_frames(path: str | os.PathLike, times_s: Sequence[float]) -> list[np.ndarray]:
    """The frames on screen at `times_s` (presentation times, seconds, increasing), decoded after one seek.

    Each is the last frame whose presentation time is <= the time asked (what embedding sampled); BGR
    uint8 arrays of shape (height, width, 3).

    Raises
    ------
    VideoUnreadable
        If the file cannot be opened or ends before a time asked.
    """
    path = check_video_path(path)
    times = sorted(float(t) for t in times_s)
    if not times:
        return []
    for seek_s in (max(0.0, times[0] - _SEEK_BACK_S), 0.0):
        frames = _decode_from(path, seek_s, times)
        if frames is not None:
            return frames
    raise VideoUnreadable(f"{path}: cannot decode the frames at {times[0]:g}-{times[-1]:g} s")


def _decode_from(path: Path, seek_s: float, times: list[float]) -> list[np.ndarray] | None:
    """Frames at `times` after seeking to `seek_s`; None if the seek landed after the first time."""
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise VideoUnreadable(f"{path}: not a readable video (FFmpeg could not open it)")
    try:
        if seek_s > 0:
            cap.set(cv2.CAP_PROP_POS_MSEC, seek_s * 1000.0)
        out: list[np.ndarray] = []
        held = None
        first = True
        while len(out) < len(times) and cap.grab():
            pts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            if first and pts > times[0] + _PTS_TOLERANCE_S and seek_s > 0:
                return None
            first = False
            while len(out) < len(times) and held is not None and pts > times[len(out)] + _PTS_TOLERANCE_S:
                out.append(held)
            if len(out) == len(times):
                break
            ok, frame = cap.retrieve()
            if ok:
                held = frame
        while len(out) < len(times) and held is not None:  # the last frame stays on screen to the end
            out.append(held)
        if len(out) < len(times):
            if seek_s > 0:
                return None
            raise VideoUnreadable(f"{path}: ends before {times[len(out)]:g} s")
        return out
    finally:
        cap.release()


def thumbnail_times(sample_s: np.ndarray, n: int = THUMBS_PER_SPAN) -> np.ndarray:
    """Indices of up to `n` samples spread evenly over a span's samples (first and last included)."""
    k = len(sample_s)
    if k <= n:
        return np.arange(k)
    return np.unique(np.round(np.linspace(0, k - 1, n)).astype(int))


def draw_sheet(path: str | os.PathLike, rows: list[dict], *, title: str) -> Path:
    """Write the contact sheet PNG: a header line, then one row per span.

    Parameters
    ----------
    rows : list of dict
        Per span, in the order shown: ``"heading"`` (str: rank, video), ``"lines"`` (list of str: time range,
        guess, why), ``"thumbs"`` (list of BGR uint8 images), ``"captions"`` (list of str, one per thumb).
    title : str
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n_thumbs = max([len(r["thumbs"]) for r in rows] + [1])
    aspect = _aspect(rows)
    thumb_w_in = THUMB_HEIGHT_IN * aspect
    row_h_in = THUMB_HEIGHT_IN + 0.45
    width_in = TEXT_WIDTH_IN + n_thumbs * (thumb_w_in + 0.1) + 0.2
    height_in = HEADER_IN + row_h_in * max(len(rows), 1)
    fig = Figure(figsize=(width_in, height_in), dpi=DPI)
    FigureCanvasAgg(fig)
    fig.text(0.1 / width_in, 1 - 0.35 / height_in, title, fontsize=11, weight="bold", va="center")
    for i, row in enumerate(rows):
        top_in = height_in - HEADER_IN - i * row_h_in
        fig.text(0.1 / width_in, (top_in - 0.2) / height_in, row["heading"], fontsize=10, weight="bold", va="top")
        for j, line in enumerate(row["lines"]):
            fig.text(0.1 / width_in, (top_in - 0.5 - 0.25 * j) / height_in, line, fontsize=9, va="top")
        for j, (thumb, caption) in enumerate(zip(row["thumbs"], row["captions"])):
            left_in = TEXT_WIDTH_IN + j * (thumb_w_in + 0.1)
            ax = fig.add_axes([left_in / width_in, (top_in - 0.1 - THUMB_HEIGHT_IN) / height_in,
                               thumb_w_in / width_in, THUMB_HEIGHT_IN / height_in])
            ax.imshow(cv2.cvtColor(thumb, cv2.COLOR_BGR2RGB), aspect="auto", interpolation="antialiased")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_xlabel(caption, fontsize=8, labelpad=2)
    if not rows:
        fig.text(0.1 / width_in, 0.5, "no span to suggest", fontsize=10)
    path = Path(path)
    with atomic_output(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    return path


def _aspect(rows: list[dict]) -> float:
    for r in rows:
        for thumb in r["thumbs"]:
            h, w = thumb.shape[:2]
            return min(max(w / h, 0.5), 2.5) if h else 4 / 3
    return 4 / 3
