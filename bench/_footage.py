"""Kinds of footage for fidelity checks (bench/scale.py's int8 table, bench/backbones.py): frames of ffmpeg's test
sources, a generated cartoon, natural photographs unlike the calibration ones, and the same photographs in low light.

Every kind is BGR uint8 frames in memory; ffmpeg (Debian's) renders the lavfi sources, scikit-image gives the photos
(a kind is left out, with the reason, when its tool is missing).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

#: lavfi source -> seconds rendered at 1 frame/s (testsrc2: the issue's 60 s clip).
LAVFI = {"testsrc2": 60, "smptehdbars": 10, "mandelbrot": 30}
PHOTOS = ("chelsea", "coffee", "rocket", "astronaut", "hubble_deep_field")


def lavfi(source: str, seconds: int, size: tuple[int, int] = (640, 360)) -> list[np.ndarray]:
    w, h = size
    out = subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", f"{source}=size={w}x{h}:rate=1", "-t", str(seconds),
                          "-f", "rawvideo", "-pix_fmt", "bgr24", "-"], capture_output=True, check=True).stdout
    return list(np.frombuffer(out, np.uint8).reshape(-1, h, w, 3))


def cartoon(seconds: float = 40.0) -> list[np.ndarray]:
    """One frame a second of a generated cartoon (cartoons.synthetic), as the benches' videos."""
    from cartoons.synthetic import make_video
    from featurestore.video.pyav import AvVideoReader

    with tempfile.TemporaryDirectory() as tmp:
        path = make_video(Path(tmp) / "cartoon.mp4", duration_s=seconds, seed=11, size=(640, 360)).path
        return list(AvVideoReader(path).frames_at([float(t) for t in range(int(seconds))]))


def photos(n: int = 40, seed: int = 1) -> list[np.ndarray]:
    """`n` crops of scikit-image's photographs (none of them is a calibration photograph)."""
    import cv2
    from skimage import data

    images = [cv2.cvtColor(getattr(data, name)(), cv2.COLOR_RGB2BGR) for name in PHOTOS]
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        image = images[i % len(images)]
        h, w = image.shape[:2]
        scale = rng.uniform(0.4, 1.0)
        ch, cw = int(h * scale), int(w * scale)
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        out.append(np.ascontiguousarray(image[y:y + ch, x:x + cw]))
    return out


def footage() -> tuple[dict[str, list[np.ndarray]], dict[str, str]]:
    """{kind: frames} for every kind this machine can make, and {kind: why not} for the others."""
    kinds, skipped = {}, {}
    for source, seconds in LAVFI.items():
        if shutil.which("ffmpeg") is None:
            skipped[source] = "ffmpeg is not installed"
            continue
        kinds[f"{source} ({seconds} s)"] = lavfi(source, seconds)
    kinds["cartoon (40 s)"] = cartoon()
    try:
        natural = photos()
    except ImportError:
        skipped["photos"] = skipped["low light"] = "scikit-image is not installed (pip install -e '.[test]')"
    else:
        rng = np.random.default_rng(2)
        kinds["photos (40)"] = natural
        kinds["low light (20)"] = [np.clip(f * 0.2 + rng.normal(0, 8, f.shape), 0, 255).astype(np.uint8)
                                   for f in natural[:20]]
    return kinds, skipped


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row cosine of two (n, d) arrays."""
    return np.sum(a * b, axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
