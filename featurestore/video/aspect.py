"""The shape of a video's frames as players show them (the stream's sample aspect ratio and display rotation applied)."""

from __future__ import annotations

import os

import numpy as np

from .container import probe


def display_aspect(path: str | os.PathLike) -> float:
    """Width / height of `path`'s frames as players show them: the stored size with the stream's sample aspect ratio
    applied (anamorphic video: 720 x 576 stored, 16:9 shown; issue 26), then its display rotation (a portrait phone
    video stored 1280 x 720 with rotate=90: 9:16). Raises VideoUnreadable."""
    return probe(path).display_aspect


def square_pixels(frame: np.ndarray, pixel_aspect: float) -> np.ndarray:
    """`frame` (H, W, C) resized to the width players show it at (W * `pixel_aspect`; the height kept), so that faces
    have their shape: squeezed 4:3 on an anamorphic DVD, one actor's face descriptors were 0.25-0.30 apart from
    the square-pixel copy's (median), 0.08-0.11 once resized, as for any re-encode. The frame itself if square."""
    height, width = frame.shape[:2]
    shown = max(1, round(width * pixel_aspect))
    if abs(shown - width) < 1 or abs(pixel_aspect - 1.0) < 0.01:
        return frame
    import cv2

    return cv2.resize(frame, (shown, height), interpolation=cv2.INTER_AREA if shown < width else cv2.INTER_LINEAR)
