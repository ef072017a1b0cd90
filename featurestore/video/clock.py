"""Which timestamps to sample, and which frame is on screen at each: pure functions of times in seconds.

The frame on screen at time t is the last frame whose presentation time is <= t; frames are sampled at
t = 0, 1/F, 2/F, ... for every t before the end of the video.
"""

from __future__ import annotations

import math

import numpy as np

# Presentation times come from integer timestamps times a rational time base; a frame whose time is within
# this tolerance after t counts as on screen at t.
PTS_TOLERANCE_S = 1e-4


def check_sample_fps(sample_fps: float) -> float:
    """Return `sample_fps` as float, or raise ValueError if it is not a positive finite number."""
    sample_fps = float(sample_fps)
    if not (math.isfinite(sample_fps) and sample_fps > 0):
        raise ValueError(f"sample_fps must be a positive number of samples per second, got {sample_fps}")
    return sample_fps


def requested_time(k: int | np.ndarray, sample_fps: float) -> float | np.ndarray:
    """Time in seconds of sample number `k` at `sample_fps` (k / sample_fps, computed without drift)."""
    return k / sample_fps


def sample_times(duration_s: float, sample_fps: float) -> np.ndarray:
    """Requested times for a video lasting `duration_s` seconds.

    Returns
    -------
    requested_s : ndarray of shape (n,), float64
        k / sample_fps for every k with k / sample_fps < duration_s; always at least [0.0].
    """
    sample_fps = check_sample_fps(sample_fps)
    n = max(1, math.ceil(duration_s * sample_fps - 1e-9))
    return np.arange(n, dtype=np.float64) / sample_fps


def frames_on_screen(pts_s: np.ndarray, requested_s: np.ndarray) -> np.ndarray:
    """Index of the frame on screen at each requested time.

    Parameters
    ----------
    pts_s : ndarray of shape (n_frames,)
        Presentation time of each decoded frame in seconds, increasing.
    requested_s : ndarray of shape (n,)

    Returns
    -------
    frame_index : ndarray of shape (n,), int64
        Last frame with pts <= t (within `PTS_TOLERANCE_S`); the first frame for t before it.
    """
    pts_s = np.asarray(pts_s, dtype=np.float64)
    idx = np.searchsorted(pts_s, np.asarray(requested_s, dtype=np.float64) + PTS_TOLERANCE_S, side="right") - 1
    return np.clip(idx, 0, len(pts_s) - 1).astype(np.int64)
