"""Shot boundaries: the times of the cuts in a video, by PySceneDetect's ContentDetector, on the video's clock.

The video is decoded by PySceneDetect's PyAV backend, whose times are presentation timestamps less the stream's
start time (scenedetect.backends.pyav: `_normalized_pts`), the same clock as featurestore.video.pyav, so cut
times hold for variable-frame-rate videos too. A cut at time c is the presentation time of the first frame of
the new shot: a sample at t >= c sees the new shot (the frame on screen at t is the last one with time <= t).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from featurestore.errors import FacesUnavailable, InvalidParameter, VideoUnreadable
from featurestore.faces.config import INSTALL_HINT

#: ContentDetector's defaults: mean HSV change (0..255) that makes a cut, and the shortest shot.
DEFAULT_THRESHOLD = 27.0
DEFAULT_MIN_SHOT_S = 0.5


def detect_cuts(path, *, threshold: float = DEFAULT_THRESHOLD, min_shot_s: float = DEFAULT_MIN_SHOT_S) -> np.ndarray:
    """Cut times of the video at `path`.

    Parameters
    ----------
    threshold : float
        ContentDetector's threshold: the weighted mean change of hue, saturation and luma between frames
        (0..255) above which a frame starts a new shot. Lower finds more cuts.
    min_shot_s : float
        No two cuts closer than this, in seconds.

    Returns
    -------
    cuts_s : ndarray of shape (k,), float64
        Ascending times of the cuts, seconds on the video's clock (0 < cut); shot k spans [cuts_s[k-1], cuts_s[k])
        (featurestore.faces.tracks.shot_of).

    Raises
    ------
    FacesUnavailable
        PySceneDetect (scenedetect-headless) is not installed.
    VideoUnreadable
        The file is missing or cannot be decoded.
    """
    if not threshold > 0:
        raise InvalidParameter("threshold", f"must be a positive change in pixel values, got {threshold}")
    if not min_shot_s >= 0:
        raise InvalidParameter("min_shot_s", f"must be >= 0 seconds, got {min_shot_s}")
    try:
        import scenedetect
        from scenedetect.detectors import ContentDetector
    except ImportError as err:
        raise FacesUnavailable(f"finding shots needs PySceneDetect (scenedetect-headless), which is not installed; run {INSTALL_HINT}") from err
    if not Path(path).is_file():
        raise VideoUnreadable(f"{path}: no such video file")
    try:
        video = scenedetect.open_video(str(path), backend="pyav")
        frames_per_s = float(video.frame_rate) or 25.0
        manager = scenedetect.SceneManager()
        manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=max(1, round(min_shot_s * frames_per_s))))
        manager.detect_scenes(video=video)
        cuts = [start for start, _ in manager.get_scene_list()[1:]]  # each shot after the first starts at a cut
    except scenedetect.VideoOpenFailure as err:
        raise VideoUnreadable(f"{path}: cannot be decoded to find its shots ({err})") from err
    return np.array(sorted(float(cut.seconds) for cut in cuts if float(cut.seconds) > 0), dtype=np.float64)

