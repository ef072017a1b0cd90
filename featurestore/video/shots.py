"""Shot boundaries: the times of the cuts in a video, by PySceneDetect's ContentDetector, on the video's clock.

The video is decoded by PySceneDetect's PyAV backend, whose times are presentation timestamps less the stream's
start time (scenedetect.backends.pyav: `_normalized_pts`), so cut times hold for variable-frame-rate videos too;
the stream's start on the players' clock (`featurestore.video.clock.clock_origin`: a picture that starts after
its sound) is added, which makes them times on the clock of featurestore.video.pyav. A cut at time c is the presentation time of the first frame of
the new shot: a sample at t >= c sees the new shot (the frame on screen at t is the last one with time <= t).

This second decode runs beside `embed --faces`, so its cost is the command's. ContentDetector compares frames
`DETECTION_WIDTH_PX` wide (a cut changes the whole frame's hue, saturation and luma; PySceneDetect's automatic
downscale keeps 256), and a 4:2:0 frame's planes are shrunk bilinearly where the decoder left them and converted
to BGR at that size by OpenCV (`small_bgr`), not converted at full size first: on bench/faces.py's hour video and a
MPEG-4 1080p clip (24 cuts) the same cuts, for 45% less CPU there (18% on H.264 1080p, where decoding is most of
the cost). Its decoder skips H.264's deblocking filter (`DECODER_OPTIONS`): 15% less CPU at 1080p, the same cuts
(docs/faces.md, 1080p and 4K).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from featurestore.errors import FacesUnavailable, InvalidParameter, VideoUnreadable
from featurestore.faces.config import INSTALL_HINT

from .clock import picture_start_s

#: ContentDetector's defaults: mean HSV change (0..255) that makes a cut, and the shortest shot.
DEFAULT_THRESHOLD = 27.0
DEFAULT_MIN_SHOT_S = 0.5
#: Frames are shrunk to this width (height in proportion) before ContentDetector.
DETECTION_WIDTH_PX = 128
_PLANAR_420 = ("yuv420p", "yuvj420p")
#: FFmpeg decoder options of this decode: H.264/HEVC frames without the deblocking filter (the cuts stay those of
#: deblocked frames at this width: the same on bench/faces.py's hour video in H.264 and a 1080p clip; 15% less CPU
#: at 1080p, where the decoding is most of the cost).
DECODER_OPTIONS = {"skip_loop_filter": "all"}


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
        video = _small_frames(str(path))
        frames_per_s = float(video.frame_rate) or 25.0
        manager = scenedetect.SceneManager()
        manager.auto_downscale = False  # the frames come small
        manager.add_detector(ContentDetector(threshold=threshold, min_scene_len=max(1, round(min_shot_s * frames_per_s))))
        manager.detect_scenes(video=video)
        cuts = [start for start, _ in manager.get_scene_list()[1:]]  # each shot after the first starts at a cut
    except scenedetect.VideoOpenFailure as err:
        raise VideoUnreadable(f"{path}: cannot be decoded to find its shots ({err})") from err
    return np.array(sorted(float(cut.seconds) + video.start_s for cut in cuts if float(cut.seconds) > 0), dtype=np.float64)


def _small_frames(path: str):
    """PySceneDetect's PyAV stream of `path` whose frames are DETECTION_WIDTH_PX wide (raises as `open_video`)."""
    from scenedetect.backends.pyav import VideoStreamAv

    class _SmallFrames(VideoStreamAv):
        def __init__(self, path: str):
            super().__init__(path)
            width, height = super().frame_size
            factor = max(1.0, width / DETECTION_WIDTH_PX)
            self._small = (max(1, round(width / factor)), max(1, round(height / factor)))
            self.start_s = picture_start_s(self._container, self._video_stream)  # its times start at 0
            self._codec_context.options = dict(DECODER_OPTIONS)  # before the decoder opens (on the first read)

        @property
        def frame_size(self) -> tuple[int, int]:
            return self._small

        def read(self, decode: bool = True):
            if not hasattr(self, "_frame"):  # not PySceneDetect 0.7's reader: its own BGR frames, shrunk
                image = super().read(decode)
                return image if image is False or not decode else cv2.resize(image, self._small, interpolation=cv2.INTER_LINEAR)
            got = super().read(decode=False)
            if got is False or not decode:
                return got
            return small_bgr(self._frame, self._small)  # the av.VideoFrame just decoded

    return _SmallFrames(path)


def small_bgr(frame, size: tuple[int, int]) -> np.ndarray:
    """(height, width, 3) uint8 BGR image of an av.VideoFrame shrunk to `size` (width, height) bilinearly.

    A 4:2:0 frame's planes are shrunk where they lie in the decoder's buffers (no copy of the whole frame) and
    converted at the small size by OpenCV; any other frame is converted by FFmpeg at full size, then shrunk.
    """
    width, height = size
    if frame.format.name in _PLANAR_420 and width % 2 == 0 and height % 2 == 0:
        small = np.empty((height * 3 // 2, width), np.uint8)  # I420: Y, then U and V of half the size each
        flat = small.reshape(-1)
        at = 0
        for plane, (w, h) in zip(frame.planes, ((width, height), (width // 2, height // 2), (width // 2, height // 2))):
            full = np.frombuffer(plane, np.uint8).reshape(plane.height, plane.line_size)[:, : plane.width]
            flat[at : at + w * h] = cv2.resize(full, (w, h), interpolation=cv2.INTER_LINEAR).reshape(-1)
            at += w * h
        return cv2.cvtColor(small, cv2.COLOR_YUV2BGR_I420)
    return cv2.resize(frame.to_ndarray(format="bgr24"), size, interpolation=cv2.INTER_LINEAR)
