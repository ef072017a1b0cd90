"""Videos the speed benches make: dense H.264 (every frame new, as real footage costs to decode) with PyAV's own
x264, long ones by repeating a clip without re-encoding, and a generated cartoon with B-frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def encode(frames, path: Path, fps: int, size: tuple[int, int], preset: str, crf: int = 23) -> Path:
    """Encode BGR frames to H.264 (x264 with its default B-frames) with PyAV."""
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": preset, "crf": str(crf)}
        for frame in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="bgr24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def dense_frames(seconds: float, fps: int, size: tuple[int, int], seed: int = 0):
    """A moving colour pattern with sensor noise: every frame new, so decoding costs what real footage costs."""
    rng = np.random.default_rng(seed)
    w, h = size
    y, x = np.mgrid[0:h, 0:2 * w].astype(np.float32)
    pattern = np.stack([128 + 100 * np.sin(x / 37), 128 + 100 * np.sin(y / 23), 128 + 100 * np.sin((x + y) / 51)],
                       axis=-1).astype(np.int16)
    noise = rng.normal(0, 12, (8, h, w, 1)).astype(np.int16)  # a bank reused at random: drawing it per frame is slow
    for i in range(int(seconds * fps)):
        shift = (7 * i) % w
        frame = pattern[:, shift:shift + w] + noise[rng.integers(8)]
        yield np.clip(frame, 0, 255).astype(np.uint8)


def repeat(clip: Path, path: Path, times: int) -> Path:
    """`clip` played `times` times in one file, without re-encoding."""
    import av

    with av.open(str(clip)) as inp, av.open(str(path), "w") as out:
        src = inp.streams.video[0]
        dst = out.add_stream_from_template(src)
        length = None
        for k in range(times):
            inp.seek(0)
            end = 0
            for packet in inp.demux(src):
                if packet.dts is None:
                    continue
                offset = k * length if length else 0
                end = max(end, packet.pts + (packet.duration or 0))
                packet.pts += offset
                packet.dts += offset
                packet.stream = dst
                out.mux(packet)
            length = length or end
    return path


def make_collection(folder: Path, n: int, seconds: float, size: tuple[int, int], fps: int) -> list[Path]:
    clip_s = min(seconds, 20.0)
    clip = encode(dense_frames(clip_s, fps, size), folder / "clip.mp4", fps, size, "veryfast")
    return [repeat(clip, folder / f"episode{i}.mp4", max(1, round(seconds / clip_s))) for i in range(n)]


def make_cartoon(folder: Path, seconds: float, size: tuple[int, int] = (640, 360), name: str = "cartoon") -> Path:
    """A generated cartoon (cartoons.synthetic, 30 fps) encoded as H.264 with B-frames (x264 medium)."""
    from cartoons.synthetic import make_video

    raw = folder / f"{name}-mp4v.mp4"
    make_video(raw, duration_s=seconds, seed=3, fps=30.0, size=size)

    def frames():
        with __import__("av").open(str(raw)) as c:
            for frame in c.decode(video=0):
                yield frame.to_ndarray(format="bgr24")

    return encode(frames(), folder / f"{name}.mp4", 30, size, "medium")
