"""OpenCV's FFmpeg reader, kept as an independent reference: the tests check that `AvVideoReader` gives the very
frames and times it gives. screentime itself never decodes with it."""

from __future__ import annotations

import os
from collections.abc import Iterator

import cv2
import numpy as np

from featurestore.errors import VideoUnreadable

from .clock import PTS_TOLERANCE_S, check_sample_fps, requested_time
from .paths import check_video_path
from .reader import VideoInfo

# A damaged packet makes grab() fail once; this many failures in a row mean the end of the stream.
_MAX_FAILED_GRABS = 25

# FFmpeg and OpenCV would print their own lines about damaged files; errors are ours to report, once.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)


class Cv2VideoReader:
    """Decode a video with OpenCV's FFmpeg backend and pick frames by presentation time.

    Parameters
    ----------
    path : path-like
        Any container/codec FFmpeg reads (mp4, avi, mkv, mov; constant or variable frame rate).
    """

    def __init__(self, path: str | os.PathLike):
        self.path = check_video_path(path)
        cap = self._open()
        try:
            self.info = VideoInfo(
                path=str(self.path),
                size_bytes=self.path.stat().st_size,
                fps=_finite(cap.get(cv2.CAP_PROP_FPS)),
                frame_count=max(0, int(_finite(cap.get(cv2.CAP_PROP_FRAME_COUNT)))),
                width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)),
            )
        finally:
            cap.release()
        #: After `sample` is exhausted: frames decoded, end of the decoded clock, and whether decoding stopped early.
        self.frames_decoded = 0
        self.decoded_duration_s = 0.0
        self.n_decode_errors = 0  # failed grabs that were followed by readable frames

    def _open(self) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            raise VideoUnreadable(f"{self.path}: not a readable video (FFmpeg could not open it)")
        return cap

    def sample(self, sample_fps: float, start_index: int = 0) -> Iterator[tuple[float, float, np.ndarray]]:
        """Yield (requested_s, actual_s, frame) for t = k / sample_fps, k = start_index, start_index + 1, ...

        `frame` is the BGR uint8 image (height, width, 3) on screen at requested_s; actual_s is its
        presentation time in seconds (relative to the stream start). Frames before sample `start_index`
        are decoded but not converted (used to resume an interrupted run).
        """
        sample_fps = check_sample_fps(sample_fps)
        nominal_s = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
        cap = self._open()
        k = start_index
        t = requested_time(k, sample_fps)
        held: np.ndarray | None = None  # decoded frame that is on screen at t, if retrieved
        held_pts = prev_pts = None
        max_gap_s = nominal_s
        n_frames = 0
        try:
            while self._grab(cap):
                pts = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
                if prev_pts is not None:
                    if pts <= prev_pts:  # broken timestamps: fall back to the nominal rate
                        pts = prev_pts + nominal_s
                    max_gap_s = max(max_gap_s, pts - prev_pts)
                n_frames += 1
                # Targets that end before this frame starts belong to the frame held so far.
                while held_pts is not None and t + PTS_TOLERANCE_S < pts:
                    if held is None:  # its frame was skipped (a longer gap than any seen): use this one
                        ok, frame = cap.retrieve()
                        if not ok:
                            return
                        yield t, pts, frame
                    else:
                        yield t, held_pts, held
                    k += 1
                    t = requested_time(k, sample_fps)
                # Convert only a frame that may still be on screen at t: grab() decodes, retrieve() converts.
                window_s = max(1.5 * nominal_s, 1.25 * max_gap_s)
                if pts <= t + PTS_TOLERANCE_S < pts + window_s or held_pts is None:
                    ok, frame = cap.retrieve()
                    held = frame if ok else None
                else:
                    held = None
                held_pts = prev_pts = pts
            if held_pts is None:
                return
            end_s = held_pts + nominal_s  # the last frame stays on screen for one nominal frame duration
            while t < end_s - PTS_TOLERANCE_S and held is not None:
                yield t, held_pts, held
                k += 1
                t = requested_time(k, sample_fps)
        finally:
            self.frames_decoded = n_frames
            if prev_pts is not None:
                self.decoded_duration_s = prev_pts + nominal_s
            cap.release()

    def _grab(self, cap: cv2.VideoCapture) -> bool:
        """grab() that steps over damaged packets; False only at the end of what can be decoded."""
        for attempt in range(_MAX_FAILED_GRABS):
            if cap.grab():
                self.n_decode_errors += attempt
                return True
        return False


def _finite(x: float) -> float:
    return float(x) if np.isfinite(x) and x > 0 else 0.0
