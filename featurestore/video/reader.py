"""The reader interface: what a video reader says about a file, and the samples it yields.

`featurestore.video.pyav.AvVideoReader` is the reader screentime decodes with (every container and codec
FFmpeg reads, three decode modes, time ranges); `featurestore.video.opencv.Cv2VideoReader` is an independent
reference the tests compare it with. Embedding, contact sheets and reports read frames only through
`AvVideoReader`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class VideoInfo:
    """What the container says before decoding (estimates; the decoded clock is the truth)."""

    path: str
    size_bytes: int
    fps: float  # nominal frames per second, 0.0 when unknown
    frame_count: int  # container's estimate, 0 when unknown
    width: int
    height: int
    start_s: float = 0.0  # where the picture starts on the players' clock (after its sound: 2.0), s
    pixel_aspect: float = 1.0  # a pixel's width / height as shown (anamorphic: 32/27 for a 16:9 NTSC DVD), upright

    @property
    def display_aspect(self) -> float:
        """Width / height of the frames as players show them (the pixels' aspect applied, upright); 4/3 unknown."""
        return self.width * self.pixel_aspect / self.height if self.height else 4 / 3

    @property
    def duration_estimate_s(self) -> float:
        """Where the picture ends on the players' clock, s (0.0 when the rate is unknown)."""
        return self.start_s + self.frame_count / self.fps if self.fps > 0 else 0.0


@dataclass
class Sample:
    """One sampled frame: sample number, requested and presentation time (s), BGR image, frames it stands for."""

    index: int
    requested_s: float
    actual_s: float
    frame: np.ndarray  # (height, width, 3) uint8, BGR
    n_frames: int  # decoded frames whose presentation time falls in this sample's interval


class VideoReader(Protocol):
    """What the decoding workers need of a reader.

    After `sample` is exhausted: `frames_decoded`, `reached_end` (the end of the video was decoded), `end_s`
    (where its last frame leaves the screen, s), `n_decode_errors` (damaged packets stepped over), `decoder`
    (what decoded, e.g. 'h264') and `hw_error` (why hardware decoding was not used, '' if it was or was not asked).
    """

    info: VideoInfo
    frames_decoded: int
    reached_end: bool
    end_s: float | None
    n_decode_errors: int
    decoder: str
    hw_error: str

    def sample(self, sample_fps: float, start_index: int = 0, stop_index: int | None = None) -> Iterator[Sample]: ...
