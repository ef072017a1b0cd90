"""Interlaced frames deinterlaced as they are decoded: FFmpeg's bwdif on the frames the decoder marks interlaced.

Broadcast captures (1080i / 576i / 480i MPEG-TS, DV, H.264 PAFF/MBAFF) weave two fields 1/50-1/60 s apart into
each frame, so whatever moves is combed. On composed 576i footage of real faces (bench/interlace.py, docs/faces.md)
a face's descriptor was 0.50 from the progressive frame's as decoded (dlib's same-person threshold is 0.6), 0.22-0.24 once
deinterlaced, and frame features' cosine to the progressive frame 0.94 as decoded, 0.995 once deinterlaced.

`deinterlaced` wraps a reader's (time s, av.VideoFrame) stream: until the first frame marked interlaced
(`frame.interlaced_frame`) nothing is touched (progressive video gives the very frames it gave before); from there
on every frame goes through one ``bwdif`` graph (``deint=interlaced``: frames not marked interlaced pass unchanged,
``parity=auto``: each frame's own field order, ``mode=send_frame``: one frame out per frame in, the first field's
instant). Frames keep the times they were decoded with, so sampling and the video's clock do not change.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from fractions import Fraction

#: What deinterlaces, as a reader's `decoder` names it ('h264 + bwdif') and the store records per video.
DEINTERLACER = "bwdif"
FILTER_ARGS = "mode=send_frame:parity=auto:deint=interlaced"


class Deinterlacing:
    """Counts what `deinterlaced` did for one reader: frames marked interlaced, and why it could not (else '')."""

    def __init__(self) -> None:
        self.n_interlaced = 0
        self.error = ""


def deinterlaced(frames: Iterator[tuple[float, object]], done: Deinterlacing) -> Iterator[tuple[float, object]]:
    """(time s, av.VideoFrame) of `frames`, in order and with their times, interlaced frames deinterlaced (bwdif).

    The filter holds one frame back (it looks at the next); the last is let out at the end of `frames`. Where
    FFmpeg cannot filter a frame (a hardware frame, say), frames pass as decoded and `done.error` says why.
    """
    import av

    graph = shape = None
    times: deque[float] = deque()
    for t, frame in frames:
        if frame.interlaced_frame:
            done.n_interlaced += 1
        if graph is None and (not frame.interlaced_frame or done.error):
            yield t, frame
            continue
        if graph is not None and _shape(frame) != shape:  # a new picture size mid-stream: a graph of its own
            yield from _drain(graph, times, end=True)
            graph = None
        try:
            if graph is None:
                graph, shape = _graph(frame), _shape(frame)
            graph.push(frame)
        except (av.error.FFmpegError, ValueError) as err:
            done.error = f"{DEINTERLACER} could not filter a {_shape(frame)} frame: {err}"
            if graph is not None:
                yield from _drain(graph, times, end=True)
            graph = None
            yield t, frame
            continue
        times.append(t)
        yield from _drain(graph, times, end=False)
    if graph is not None:
        yield from _drain(graph, times, end=True)


def _shape(frame) -> tuple:
    return frame.width, frame.height, frame.format.name


def _graph(frame):
    import av

    graph = av.filter.Graph()
    source = graph.add_buffer(width=frame.width, height=frame.height, format=frame.format.name,
                              time_base=frame.time_base or Fraction(1, 1000))
    node = graph.add(DEINTERLACER, FILTER_ARGS)
    sink = graph.add("buffersink")
    source.link_to(node)
    node.link_to(sink)
    graph.configure()
    return graph


def _drain(graph, times: deque, end: bool) -> Iterator[tuple[float, object]]:
    """What `graph` lets out now (everything it holds when `end`), each with the time its frame was decoded at."""
    import av

    if end:
        try:
            graph.push(None)
        except av.error.FFmpegError:
            pass
    while times:
        try:
            out = graph.pull()
        except (av.BlockingIOError, av.EOFError):
            break
        yield times.popleft(), out
    if end:
        times.clear()
