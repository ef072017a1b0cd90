"""Opening a video file with PyAV: FFmpeg kept quiet, the stream that is its picture (not an album's cover picture),
and what the container says about it before decoding (`probe`). Every failure is one VideoUnreadable line."""

from __future__ import annotations

import math
import os
from pathlib import Path

from featurestore.errors import VideoUnreadable

from .clock import picture_start_s
from .paths import check_video_path
from .reader import VideoInfo
from .turns import quarter_turns


def av_quiet():
    import av

    # Damaged packets are counted and reported once, by us. FFmpeg's own quiet level, not PyAV's Python log
    # callback: that one takes the GIL from decoder threads and can deadlock a multi-threaded decoder's close.
    av.logging.set_level(None)
    av.logging.set_libav_level(av.logging.PANIC)
    return av


def open_video(path: Path, hw: bool = False):
    """Open `path` with PyAV; returns (container, its picture: the first video stream that is not a cover picture).
    VideoUnreadable if FFmpeg cannot, or if it has no picture (a sound file with an album cover)."""
    av = av_quiet()
    kwargs = {}
    if hw:
        from av.codec.hwaccel import HWAccel

        kwargs["hwaccel"] = HWAccel("cuda", allow_software_fallback=False)
    try:
        container = av.open(str(path), **kwargs)
    except av.error.FFmpegError as err:
        if hw:
            raise
        if _mp4_without_index(path):
            raise VideoUnreadable(f"{path}: not a readable video: an MP4/MOV file without its index (no 'moov' box), "
                                  "a recording stopped before it was finished or a copy cut short; copy it again") from None
        raise VideoUnreadable(f"{path}: not a readable video (FFmpeg could not open it: {reason(err)})") from None
    pictures = [s for s in container.streams.video if not s.disposition & av.stream.Disposition.attached_pic]
    if not pictures:
        cover = " (only a cover picture: a sound file?)" if container.streams.video else ""
        container.close()
        raise VideoUnreadable(f"{path}: has no video stream{cover}")
    if container.format.name == "gif" and pictures[0].frames == 1:  # an animated GIF is a video, a still one not
        container.close()
        raise VideoUnreadable(f"{path}: is a GIF image (one frame), not a video")
    return container, pictures[0]


def _mp4_without_index(path: Path) -> bool:
    """Whether `path` is an ISO media file (MP4, MOV: an 'ftyp' box first) whose top-level boxes hold no 'moov', the
    index a camera or encoder writes last (FFmpeg says only "Invalid data found when processing input")."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8 or head[4:8] != b"ftyp":
            return False
        offset = 0
        while offset + 8 <= size:
            fh.seek(offset)
            box = fh.read(16)
            length, kind = int.from_bytes(box[:4], "big"), box[4:8]
            if kind == b"moov":
                return False
            if length == 1 and len(box) == 16:  # a 64-bit size follows
                length = int.from_bytes(box[8:16], "big")
            if length < 8:  # to the end of the file (0), or not a box: no index found
                break
            offset += length
    return True


def reason(err: BaseException) -> str:
    return getattr(err, "strerror", None) or str(err).splitlines()[0] or type(err).__name__


def probe(path: str | os.PathLike) -> VideoInfo:
    """What the container says about `path` (the numbers OpenCV reports, where the picture starts on the players'
    clock, and the shape of its pixels); its first frame is decoded only to read a display rotation
    (`featurestore.video.turns`), so width and height are those of upright frames, as players turn them.

    Raises VideoUnreadable if it is not a video FFmpeg can open.
    """
    path = check_video_path(path)
    container, stream = open_video(path)
    try:
        fps = _fps(stream)
        start_s = picture_start_s(container, stream)
        frame_count = stream.frames
        if frame_count <= 0:  # as OpenCV: the container's duration (the picture's part of it) times the rate
            duration_s = container.duration / 1e6 - start_s if container.duration else 0.0
            if duration_s <= 0 and stream.duration and stream.time_base:
                duration_s = float(stream.duration * stream.time_base)
            frame_count = int(math.floor(duration_s * fps + 0.5))
        width, height = stream.codec_context.width, stream.codec_context.height
        sar = stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio
        pixel_aspect = float(sar) if sar and float(sar) > 0 else 1.0
        if quarter_turns(container, stream) % 2:
            width, height, pixel_aspect = height, width, 1.0 / pixel_aspect
        return VideoInfo(path=str(path), size_bytes=path.stat().st_size, fps=fps, frame_count=max(0, frame_count),
                         width=width, height=height, start_s=start_s, pixel_aspect=pixel_aspect)
    finally:
        container.close()


def _fps(stream) -> float:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    return fps if math.isfinite(fps) and fps > 0 else 0.0
