"""Which timestamps to sample, and which frame is on screen at each: pure functions of times in seconds.

The frame on screen at time t is the last frame whose presentation time is <= t; frames are sampled at
t = 0, 1/F, 2/F, ... for every t before the end of the video.

The clock is the one players show (VLC, mpv, ffprobe's times less the file's ``start_time``): 0 is where the
container starts (`clock_origin`), not where the picture does. A broadcast recording's picture that starts 0.5 s
after its sound is first shown at 0.5 s, as in the player where its labels were typed.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from featurestore.errors import InvalidParameter

# Presentation times come from integer timestamps times a rational time base; a frame whose time is within
# this tolerance after t counts as on screen at t.
PTS_TOLERANCE_S = 1e-4


def check_sample_fps(sample_fps: float) -> float:
    """Return `sample_fps` as float, or raise InvalidParameter (a ValueError) if it is not a positive finite number."""
    sample_fps = float(sample_fps)
    if not (math.isfinite(sample_fps) and sample_fps > 0):
        raise InvalidParameter("sample_fps", f"{sample_fps:g} is not a positive rate; give samples per second, e.g. 1 or 0.5")
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


def interval_of_time(pts_s: float, sample_fps: float) -> int:
    """The sample k whose interval [k / sample_fps, (k + 1) / sample_fps) holds time `pts_s` (0 before it)."""
    k = max(0, math.floor(pts_s * sample_fps))
    while k > 0 and requested_time(k, sample_fps) > pts_s:
        k -= 1
    while requested_time(k + 1, sample_fps) <= pts_s:
        k += 1
    return k


def n_samples_until(end_s: float, sample_fps: float) -> int:
    """Number of samples of a video whose last frame leaves the screen at `end_s`: k with k / fps < end_s."""
    k = max(0, math.ceil((end_s - PTS_TOLERANCE_S) * sample_fps))
    while k > 0 and requested_time(k - 1, sample_fps) >= end_s - PTS_TOLERANCE_S:
        k -= 1
    while requested_time(k, sample_fps) < end_s - PTS_TOLERANCE_S:
        k += 1
    return k


def clock_origin(container, stream) -> int:
    """The timestamp of PyAV `stream` (in its time base) that players show as 0 s: the container's start time (the
    earliest of its streams', as FFmpeg computes it), or the stream's own where the container has none or starts
    later. A picture that starts 2 s after its sound thus starts at 2 s, as players show it (OpenCV starts it at 0)."""
    origin = stream.start_time
    tb = stream.time_base
    if container.start_time is not None and tb:
        start = math.floor(Fraction(container.start_time, 1_000_000) / Fraction(tb))
        origin = start if origin is None else min(origin, start)
    return origin or 0


def picture_start_s(container, stream) -> float:
    """Where PyAV `stream`'s picture starts on the players' clock (`clock_origin`), s, never before 0."""
    tb = stream.time_base or Fraction(1, 1000)
    return max(0.0, float(((stream.start_time or 0) - clock_origin(container, stream)) * tb))


def last_frame_end_s(last_pts_s: float, nominal_s: float, container, stream, origin: int) -> float:
    """Where the last frame (shown at `last_pts_s`, s from timestamp `origin`) leaves the screen, s: one nominal frame
    later, or earlier where the PyAV stream (else its container) says the video ends. A variable-rate video's average
    rate is no frame's: slides at 0, 3, 7 and 10 s of a 10.04 s video average 0.4 fps, and 2.5 s after the last made
    samples past the end."""
    tb = stream.time_base
    if stream.duration and tb:
        known = float((stream.duration + (stream.start_time or 0) - origin) * tb)
    elif container.duration and tb:  # from the container's start
        known = (container.duration + (container.start_time or 0)) / 1e6 - float(origin * tb)
    else:
        known = math.inf
    return min(last_pts_s + nominal_s, known) if known > last_pts_s + PTS_TOLERANCE_S else last_pts_s + nominal_s
