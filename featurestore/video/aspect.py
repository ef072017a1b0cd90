"""The shape of a video's frames as players show them (the stream's sample aspect ratio and display rotation applied)."""

from __future__ import annotations

import os

from .paths import check_video_path
from .container import open_video
from .turns import quarter_turns


def display_aspect(path: str | os.PathLike) -> float:
    """Width / height of `path`'s frames as players show them: the stored size with the stream's sample aspect ratio
    applied (anamorphic video: 720 x 576 stored, 16:9 shown; issue 26), then its display rotation (a portrait phone
    video stored 1280 x 720 with rotate=90: 9:16). Raises VideoUnreadable."""
    container, stream = open_video(check_video_path(path))
    try:
        width, height = stream.codec_context.width, stream.codec_context.height
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        aspect = width * (float(sar) if sar and float(sar) > 0 else 1.0) / height if height else 4 / 3
        return 1.0 / aspect if quarter_turns(container, stream) % 2 else aspect
    finally:
        container.close()
