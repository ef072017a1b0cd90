"""A video's display rotation: the quarter turns players give its frames (a phone's portrait video is stored
landscape with rotate=90 in its display matrix), and frames turned so (as OpenCV turns them)."""

from __future__ import annotations

import numpy as np


def quarter_turns(container, stream) -> int:
    """Quarter turns counter-clockwise (0-3) that players give the frames of `stream` (PyAV): its display matrix,
    read from the first frame (FFmpeg attaches the stream's matrix to every decoded frame); 0 where none decodes.
    Decodes from the current position of `container`: call it on a container about to be closed."""
    import av

    try:
        for frame in container.decode(stream):
            return turns(frame)
    except av.error.FFmpegError:  # a first frame that does not decode is reported by the decoding itself
        return 0
    return 0


def turns(frame) -> int:
    """Quarter turns counter-clockwise (0-3) that show an av.VideoFrame as players do (0 without a display matrix)."""
    return int(round(getattr(frame, "rotation", 0) / 90.0)) % 4


def bgr_image(frame) -> np.ndarray:
    """(height, width, 3) uint8 BGR image of an av.VideoFrame, turned as players show it (`turns`)."""
    image = frame.to_ndarray(format="bgr24")
    k = turns(frame)
    return np.ascontiguousarray(np.rot90(image, k)) if k else image
