"""Reading videos with PyAV: the frame on screen at each sampling time, for a whole video or a time range of it.

`AvVideoReader.sample` decodes from the start (or from a keyframe before a range) and yields, for each sample
k = start_index, start_index + 1, ..., the frame whose presentation time is the last one <= k / sample_fps.
Frames are converted to BGR only when they are used, so memory does not grow with the video's length.

Decode modes (`DECODE_MODES`):

- ``exact``: every frame is decoded; frames are bit-identical to OpenCV's reader (times are on the file's clock,
  OpenCV's on the picture's: the same where the picture starts with the file).
- ``fast``: frames no other frame refers to are not decoded (FFmpeg ``skip_frame=NONREF``: most B-frames, but not
  those of a B-pyramid that other frames refer to, as x264's and x265's defaults write; skipping every B-frame,
  ``BIDIR``, left the frames decoded from them damaged); the frame used for a sample is the decoded frame nearest
  its time (before or after it), and ``actual_s`` says which one it was.
- ``hw``: NVDEC (CUDA) decodes every frame; where it cannot open, software decoding takes over with a warning.

Frames are turned as players show them: a phone's portrait video stored landscape with a rotation in its display
matrix (`rotate=90`) gives upright portrait frames, and `probe` its shown width and height, as OpenCV does.

A range [start_index, stop_index) decoded by one process gives exactly the samples a sequential run gives
for those indices: decoding starts at a keyframe at or before the range and frames are attributed to samples
by their presentation times alone.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import numpy as np

from featurestore.errors import InvalidParameter, VideoUnreadable

from .clock import (PTS_TOLERANCE_S, check_sample_fps, clock_origin, interval_of_time, last_frame_end_s,
                    requested_time)
from .container import av_quiet, open_video, probe, reason
from .fields import DEINTERLACER, Deinterlacing, deinterlaced
from .paths import check_video_path
from .reader import Sample, VideoInfo
from .turns import bgr_image as _bgr

__all__ = ["AvVideoReader", "DECODE_MODES", "DEFAULT_DECODE", "SKIP_FRAME", "check_decode_mode", "probe"]

DECODE_MODES = ("exact", "fast", "hw")
#: What `embed` uses for a video not stored yet (see README: chosen by bench/scale.py's decode table).
DEFAULT_DECODE = "exact"
#: What FFmpeg's decoder skips in each mode (AVDiscard names).
SKIP_FRAME = {"exact": "DEFAULT", "fast": "NONREF", "hw": "DEFAULT"}
# A damaged packet fails to decode once; this many failures in a row mean the end of what can be decoded.
_MAX_FAILED_PACKETS = 25
_NO_LIMIT = 2**62
_SEEK_BACK_S = 2.0  # frames_at seeks this far before the first time, then decodes forward
#: frames_at decodes times closer than this in one pass; after a longer gap it seeks again.
SEEK_GAP_S = 10.0


def check_decode_mode(decode: str) -> str:
    if decode not in DECODE_MODES:
        raise InvalidParameter("decode", f"must be one of {', '.join(DECODE_MODES)}, got {decode!r}")
    return decode


class _SeekOvershoot(Exception):
    """The first frame after a seek comes after the range's start: seek further back."""


class _HardwareFailed(Exception):
    """NVDEC opened but decodes nothing: decode in software instead."""


class AvVideoReader:
    """Decode a video with PyAV and pick the frame on screen at each sampling time.

    Parameters
    ----------
    path : path-like
        Any container/codec FFmpeg reads (mp4, avi, mkv, mov; constant or variable frame rate).
    decode : {'exact', 'fast', 'hw'}
        See the module docstring.
    threads : int
        Decoder threads; 0 lets FFmpeg choose (all cores). Worker processes pass their share.
    info : VideoInfo, optional
        What `probe(path)` said, when the caller has it already (each time range of a video is decoded by a
        reader of its own: the file is probed once per embed, not once per range).
    """

    def __init__(self, path: str | os.PathLike, decode: str = "exact", threads: int = 0, *, info: VideoInfo | None = None):
        self.path = check_video_path(path) if info is None else Path(path)
        self.decode = check_decode_mode(decode)
        self.threads = int(threads)
        self.info = probe(self.path) if info is None else info
        #: After `sample` is exhausted: frames decoded, whether the end of the video was reached and where the
        #: last frame leaves the screen, damaged packets stepped over, and what decoded (e.g. 'h264_cuvid').
        self.frames_decoded = 0
        self.reached_end = False
        self.end_s: float | None = None
        self.n_decode_errors = 0
        self.decoder = ""
        self.hw_error = ""  # why NVDEC could not be used, when decode='hw' fell back to software
        self.n_interlaced = 0  # frames the decoder marked interlaced (deinterlaced: `decoder` ends in ' + bwdif')
        self.deinterlace_error = ""  # why interlaced frames were left as decoded ('' if none were)

    def _open_for_decoding(self):
        if self.decode == "hw" and not self.hw_error:
            try:
                container, stream = open_video(self.path, hw=True)
                self.decoder = f"{stream.codec_context.name} (cuda)"
                return container, stream
            except Exception as err:  # no CUDA, no NVDEC for this codec, driver missing: software it is
                self.hw_error = reason(err)
        container, stream = open_video(self.path)
        ctx = stream.codec_context
        ctx.skip_frame = skip = SKIP_FRAME[self.decode]
        ctx.thread_type = "AUTO"
        ctx.thread_count = self.threads
        self.decoder = ctx.name if skip == "DEFAULT" else f"{ctx.name} (skip {skip.lower()})"  # 'h264 (skip nonref)'
        return container, stream

    def sample(self, sample_fps: float, start_index: int = 0, stop_index: int | None = None) -> Iterator[Sample]:
        """Yield a Sample for k = start_index, start_index + 1, ... < stop_index (or until the end of the video).

        The frame for sample k is the last decoded frame whose presentation time is <= k / sample_fps (the first
        frame for times before it, if it is shown before the next sample's time; else black, with actual_s =
        requested_s: a picture that starts seconds after its sound); after the last frame, samples continue
        until it leaves the screen (one nominal frame, or where the stream says it ends). Decoding starts at a keyframe at or before `start_index`'s time
        (of interlaced video, before the frame shown then: the deinterlacer reads the frame before too).
        """
        sample_fps = check_sample_fps(sample_fps)
        stop = _NO_LIMIT if stop_index is None else int(stop_index)
        self.frames_decoded, self.reached_end, self.end_s, self.n_decode_errors = 0, False, None, 0
        self.n_interlaced = 0
        start_s = requested_time(start_index, sample_fps)
        back_s = 0.0
        while True:
            seek_s = start_s - back_s if start_index > 0 else 0.0
            container, stream = self._open_for_decoding()
            try:
                if seek_s > 0:
                    _seek(container, stream, seek_s)
                yield from self._sample(container, stream, sample_fps, start_index, stop,
                                        start_s if seek_s > 0 else None)
                return
            except _SeekOvershoot:  # the keyframe index led past the range's start: seek further back
                back_s = 1.0 if back_s == 0 else back_s * 4
                self.n_decode_errors = self.n_interlaced = 0
            except _HardwareFailed:
                self.hw_error = f"{self.decoder} decoded no frame"
                self.n_decode_errors = 0
            finally:
                container.close()

    def frames_at(self, times_s: Sequence[float]) -> list[np.ndarray]:
        """The frames on screen at `times_s` (seconds on the video's clock; stored ``actual_s`` give the very frames
        that were embedded; a requested time before the picture's first frame gives black, though a sample there
        embedded that frame), in the order asked (`iter_frames_at` decodes them).

        Returns BGR uint8 arrays of shape (height, width, 3). Raises VideoUnreadable if nothing decodes.
        """
        found = dict(self.iter_frames_at(times_s))
        return [found[float(t)] for t in times_s]

    def iter_frames_at(self, times_s: Sequence[float]) -> Iterator[tuple[float, np.ndarray]]:
        """(time, frame) for each distinct time of `times_s`, in time order, each frame yielded as soon as it is
        decoded (thumbnails of a 2-hour film never sit in memory together): decoded forward from a keyframe before
        the earliest, with a seek of its own for each group of times more than `SEEK_GAP_S` after the previous one.

        Every frame is decoded whatever the mode, so a frame `fast` mode embedded is found at its time too.
        """
        wanted = sorted(set(float(t) for t in times_s))
        if not wanted:
            return
        for group in np.split(np.asarray(wanted), np.flatnonzero(np.diff(wanted) > SEEK_GAP_S) + 1):
            yield from self._frames_after_seek(group.tolist())

    def _frames_after_seek(self, wanted: list[float]) -> Iterator[tuple[float, np.ndarray]]:
        """(time, frame) for sorted `wanted`, after one seek before the first (further back until a keyframe is)."""
        back_s = _SEEK_BACK_S
        while True:
            seek_s = max(0.0, wanted[0] - back_s)
            container, stream = open_video(self.path)
            stream.codec_context.thread_type = "AUTO"
            stream.codec_context.thread_count = self.threads
            try:
                if seek_s > 0:
                    _seek(container, stream, seek_s)
                yield from self._pick(self._frames(container, stream), wanted, check_start=seek_s > 0)
                return
            except _SeekOvershoot:
                back_s *= 4  # the keyframe before the seek time came after the first time wanted
            finally:
                container.close()

    def _pick(self, frames, wanted: list[float], check_start: bool) -> Iterator[tuple[float, np.ndarray]]:
        """(time, the last frame at or before it) for sorted `wanted`, from (pts, frame) in order; `_SeekOvershoot`,
        before anything is yielded, when the first frame comes after the first time."""
        held = None
        i = 0
        for pts, frame in frames:
            if held is None and check_start and pts > wanted[0] + PTS_TOLERANCE_S:
                raise _SeekOvershoot
            if held is None and not check_start and wanted[0] < pts - PTS_TOLERANCE_S:
                black = np.zeros_like(_bgr(frame))  # what players show before the picture, as `sample` embeds it
                while i < len(wanted) and wanted[i] < pts - PTS_TOLERANCE_S:
                    yield wanted[i], black
                    i += 1
            if held is not None and pts > wanted[i] + PTS_TOLERANCE_S:
                image = _bgr(held)
                while i < len(wanted) and pts > wanted[i] + PTS_TOLERANCE_S:
                    yield wanted[i], image
                    i += 1
            if i == len(wanted):
                return
            held = frame
        if held is None and check_start:  # a seek past the last keyframe (a cut-off file): none decodes
            raise _SeekOvershoot
        if held is None:
            raise VideoUnreadable(f"{self.path}: no frame could be decoded")
        image = _bgr(held)  # the last frame stays on screen to the end
        for t in wanted[i:]:
            yield t, image

    def _frames(self, container, stream) -> Iterator[tuple[float, object]]:
        """(presentation time s on the players' clock, av.VideoFrame) in presentation order, interlaced frames
        deinterlaced (`featurestore.video.fields`; `decoder` then says so: 'h264 + bwdif'); steps over damaged packets."""
        done = Deinterlacing()
        counted = 0
        for item in deinterlaced(self._timed(container, stream), done):
            if done.n_interlaced > counted:  # said as it happens: a range's decoding stops without finishing this loop
                self.n_interlaced += done.n_interlaced - counted
                counted = done.n_interlaced
                if not done.error and DEINTERLACER not in self.decoder:
                    self.decoder = f"{self.decoder} + {DEINTERLACER}"
            self.deinterlace_error = self.deinterlace_error or done.error
            yield item

    def _timed(self, container, stream) -> Iterator[tuple[float, object]]:
        """(presentation time s on the players' clock, av.VideoFrame) as decoded, in presentation order."""
        av = av_quiet()
        tb = stream.time_base or Fraction(1, 1000)
        r2d = tb.numerator / tb.denominator
        origin = clock_origin(container, stream)
        nominal_s = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
        prev = None
        for frame in self._decoded(av, container, stream):
            ts = frame.pts if frame.pts is not None else frame.dts
            # OpenCV's arithmetic (seconds from the origin, via milliseconds), for bit-identical times
            pts = ((ts - origin) * r2d) * 1000.0 / 1000.0 if ts is not None else None
            if pts is None or (prev is not None and pts <= prev):  # broken timestamps: the nominal rate
                pts = (prev + nominal_s) if prev is not None else 0.0
            prev = pts
            yield pts, frame

    def _decoded(self, av, container, stream) -> Iterator[object]:
        """av.VideoFrames in presentation order, damaged packets stepped over (counted), then the decoder drained."""
        failed = 0
        decoded_any = False
        packets = container.demux(stream)
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError:  # a read error in the middle of the file: what follows is unreachable
                break
            try:
                frames = packet.decode()
            except av.error.FFmpegError:
                failed += 1
                if not decoded_any and failed >= 3 and self.decode == "hw" and not self.hw_error:
                    raise _HardwareFailed from None
                if failed >= _MAX_FAILED_PACKETS:
                    break
                continue
            if frames and failed:
                self.n_decode_errors += failed
                failed = 0
            decoded_any = decoded_any or bool(frames)
            yield from frames
        yield from _flush(stream)

    def _sample(self, container, stream, sample_fps, k0, stop, range_start_s) -> Iterator[Sample]:
        # Frame counts: a frame shown at p counts for the sample whose interval [t_k, t_k+1) holds p, so a
        # range [k0, stop) counts exactly the frames shown from t_k0 to t_stop whoever decodes the neighbours.
        nominal_s = 1.0 / self.info.fps if self.info.fps > 0 else 0.04
        k = k0
        t = requested_time(k, sample_fps)
        counts: dict[int, int] = defaultdict(int)
        held = held_pts = None
        images: dict[int, np.ndarray] = {}  # BGR conversions of the (at most two) frames in play, by id
        nearest = self.decode == "fast"  # skipped frames leave gaps: use the decoded frame nearest in time

        def image(f) -> np.ndarray:
            if id(f) not in images:
                images[id(f)] = _bgr(f)
            return images[id(f)]

        pending: Sample | None = None  # yielded once its interval's frames are all counted
        n_frames = 0
        first = True
        for pts, frame in self._frames(container, stream):
            if first:
                first = False
                if range_start_s is not None and pts > range_start_s + PTS_TOLERANCE_S:
                    raise _SeekOvershoot
                # deinterlaced frames are made of the frame before too: the frame shown at the range's start needs it
                if range_start_s is not None and self.n_interlaced and pts > range_start_s - nominal_s + PTS_TOLERANCE_S:
                    raise _SeekOvershoot
                if range_start_s is None:  # from the start: black where players show no picture yet (after its
                    while k < stop and interval_of_time(pts, sample_fps) > k:  # sound), in a sample's whole interval
                        if pending is not None:
                            pending.n_frames = counts.pop(pending.index, 0)
                            yield pending
                        pending = Sample(k, t, t, np.zeros_like(image(frame)), 0)
                        k += 1
                        t = requested_time(k, sample_fps)
            n_frames += 1
            j = interval_of_time(pts, sample_fps)
            if k >= stop:  # the range is sampled; count the last interval's frames, then stop
                if j >= stop:
                    break
                counts[j] += 1
                continue
            if j >= k0 or k0 == 0:
                counts[max(j, k0)] += 1
            while held is not None and t + PTS_TOLERANCE_S < pts:
                if k >= stop:
                    break
                if pending is not None:
                    pending.n_frames = counts.pop(pending.index, 0)
                    yield pending
                if nearest and pts - t < t - held_pts:
                    pending = Sample(k, t, pts, image(frame), 0)
                else:
                    pending = Sample(k, t, held_pts, image(held), 0)
                k += 1
                t = requested_time(k, sample_fps)
            if held is not None:
                images.pop(id(held), None)
            held, held_pts = frame, pts
        else:
            self.reached_end = True
            if first and range_start_s is not None:  # a seek past the last keyframe (a cut-off file): none decodes
                raise _SeekOvershoot
        self.frames_decoded = n_frames
        if self.reached_end and held is not None:
            self.end_s = last_frame_end_s(held_pts, nominal_s, container, stream, clock_origin(container, stream))
            while t < self.end_s - PTS_TOLERANCE_S and k < stop:
                if pending is not None:
                    pending.n_frames = counts.pop(pending.index, 0)
                    yield pending
                pending = Sample(k, t, held_pts, image(held), 0)
                k += 1
                t = requested_time(k, sample_fps)
        if pending is not None:
            last = stop if k >= stop else _NO_LIMIT  # at the end of the video, later frames join the last sample
            pending.n_frames = sum(n for key, n in counts.items() if pending.index <= key < last)
            yield pending


def _seek(container, stream, time_s: float) -> None:
    """Seek to the keyframe at or before `time_s` (seconds on the players' clock, `clock_origin`)."""
    tb = stream.time_base or Fraction(1, 1000)
    target = int(math.floor(time_s / tb)) if time_s > 0 else 0
    container.seek(target + clock_origin(container, stream), stream=stream, backward=True, any_frame=False)


def _flush(stream):
    """Frames the decoder still holds at the end of the stream (FFmpeg's draining)."""
    av = av_quiet()
    try:
        return stream.codec_context.decode(None)
    except av.error.FFmpegError:
        return []
