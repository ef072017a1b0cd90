"""The frames an int8 network is calibrated on: fixed, generated the same way on every machine and every run.

Post-training quantisation (NNCF) measures the range of every activation on calibration frames; an activation
that footage drives beyond that range is clipped. Natural photographs alone leave out what test patterns,
cartoons and screen captures are made of (saturated flat colours, hard edges, colour bars, text, pure black
and white), which drive activations further (issue 27: VGG16 int8 fell to a cosine of 0.9984 to float32 on
ffmpeg's testsrc2). So the set is both, drawn from a seeded generator:

- 64 crops of the two natural photographs scikit-learn ships (`load_sample_images`: a temple, a flower), at
  scales from a third of the picture to all of it, some mirrored, some darkened with sensor noise;
- 64 synthetic frames: colour bars, hue and grey ramps, stripes and checkerboards, flat saturated shapes
  with black outlines (cartoons), large text, uniform colours and noise.

With both, VGG16 int8 keeps a cosine of at least 0.9999 to float32 on every kind of footage bench/scale.py
shows (testsrc2, SMPTE bars, mandelbrot, cartoons, photographs, low light). Ranges are NNCF's default (the mean
over batches of each batch's extremes). No download, and the same calibration everywhere, so the same config
gives the same features on every run; `featurestore.embedding.config.CALIBRATION` names this procedure in an
int8 store's identity.
"""

from __future__ import annotations

import hashlib

import numpy as np

N_NATURAL = 64
N_SYNTHETIC = 64
N_FRAMES = N_NATURAL + N_SYNTHETIC
SEED = 0


def calibration_frames(seed: int = SEED) -> list[np.ndarray]:
    """The calibration frames, BGR uint8, each of its own size (the preprocessor resizes): natural, then synthetic."""
    return natural_frames(N_NATURAL, seed) + synthetic_frames(N_SYNTHETIC, seed)


def natural_frames(n: int = N_NATURAL, seed: int = SEED) -> list[np.ndarray]:
    """`n` crops of scikit-learn's sample photographs; every eighth darkened (x 0.15-0.4) with Gaussian noise."""
    import cv2
    from sklearn.datasets import load_sample_images

    images = [cv2.cvtColor(image, cv2.COLOR_RGB2BGR) for image in load_sample_images().images]
    rng = np.random.default_rng(seed)
    frames = []
    for k in range(n):
        image = images[k % len(images)]
        h, w = image.shape[:2]
        scale = rng.uniform(0.33, 1.0)
        ch = max(32, int(h * scale))
        cw = min(w, max(32, int(ch * rng.uniform(1.0, 16 / 9))))
        y, x = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        crop = image[y:y + ch, x:x + cw]
        crop = np.ascontiguousarray(crop[:, ::-1] if k % 4 == 1 else crop)
        if k % 8 == 7:  # low light: dark and noisy
            dark = crop * rng.uniform(0.15, 0.4) + rng.normal(0, 6, crop.shape)
            crop = np.clip(dark, 0, 255).astype(np.uint8)
        frames.append(crop)
    return frames


_SATURATED = np.array([[255, 255, 255], [0, 255, 255], [255, 255, 0], [0, 255, 0], [255, 0, 255], [0, 0, 255],
                       [255, 0, 0], [0, 0, 0]], dtype=np.uint8)  # BGR: white, yellow, cyan, green, magenta, red, blue, black


def synthetic_frames(n: int = N_SYNTHETIC, seed: int = SEED) -> list[np.ndarray]:
    """`n` frames of what natural photographs lack, eight kinds in turn, sizes from 320 x 240 to 1280 x 720."""
    import cv2

    rng = np.random.default_rng(seed + 1)
    frames = []
    for k in range(n):
        h = int(rng.integers(240, 721))
        w = int(h * rng.uniform(4 / 3, 16 / 9))
        kind = k % 8
        if kind == 0:  # colour bars (SMPTE-like), a grey ramp below
            bars = _SATURATED[rng.permutation(8)] if k % 16 else _SATURATED
            frame = np.repeat(bars[None, np.arange(w) * 8 // w], h, axis=0)
            frame[int(h * 0.75):] = np.linspace(0, 255, w, dtype=np.uint8)[None, :, None]
        elif kind == 1:  # a full-saturation hue ramp, brightness falling down the frame
            hue = (np.linspace(0, 180, w) + rng.uniform(0, 180)) % 180
            hsv = np.stack(np.broadcast_arrays(hue[None, :], 255, np.linspace(255, 40, h)[:, None]), -1)
            frame = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2BGR)
        elif kind == 2:  # stripes or a checkerboard of two saturated colours
            a, b = _SATURATED[rng.choice(8, 2, replace=False)]
            period = int(rng.integers(2, 40))
            yy, xx = np.mgrid[0:h, 0:w]
            mask = ((xx // period + yy // period) % 2 if k % 16 == 2 else (xx // period) % 2).astype(bool)
            frame = np.where(mask[..., None], a, b).astype(np.uint8)
        elif kind == 3:  # a cartoon: flat saturated shapes with thick black outlines on a flat background
            frame = np.empty((h, w, 3), np.uint8)
            frame[:] = rng.integers(0, 256, 3)
            for _ in range(int(rng.integers(3, 9))):
                colour = tuple(int(c) for c in _SATURATED[rng.integers(0, 7)])
                centre = (int(rng.integers(0, w)), int(rng.integers(0, h)))
                axes = (int(rng.integers(10, w // 3)), int(rng.integers(10, h // 3)))
                cv2.ellipse(frame, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1)
                cv2.ellipse(frame, centre, axes, 0, 0, 360, (0, 0, 0), int(rng.integers(2, 8)))
        elif kind == 4:  # large text and a timecode, as on test patterns and screen captures
            frame = np.empty((h, w, 3), np.uint8)
            frame[:] = _SATURATED[rng.integers(0, 8)]
            for row in range(3):
                text = f"{int(rng.integers(0, 100)):02d}:{int(rng.integers(0, 60)):02d}:{int(rng.integers(0, 60)):02d}"
                colour = tuple(int(c) for c in _SATURATED[rng.integers(0, 8)])
                cv2.putText(frame, text, (int(w * 0.05), int(h * (0.3 + 0.3 * row))), cv2.FONT_HERSHEY_SIMPLEX,
                            h / 150, colour, max(1, h // 60))
        elif kind == 5:  # one uniform colour (black, white, primaries, a random one)
            frame = np.empty((h, w, 3), np.uint8)
            frame[:] = _SATURATED[(k // 8) % 8] if k < 64 else rng.integers(0, 256, 3)
        elif kind == 6:  # uniform colour noise
            frame = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        else:  # a radial gradient between two saturated colours
            a, b = _SATURATED[rng.choice(8, 2, replace=False)].astype(np.float32)
            yy, xx = np.mgrid[0:h, 0:w]
            r = np.hypot(yy - h * rng.uniform(0, 1), xx - w * rng.uniform(0, 1)) / np.hypot(h, w)
            frame = (a + (b - a) * np.clip(r, 0, 1)[..., None]).astype(np.uint8)
        frames.append(np.ascontiguousarray(frame))
    return frames


def digest(batch: np.ndarray) -> str:
    """'sha256:<16 hex>' of a preprocessed calibration batch (recorded with each int8 video)."""
    return "sha256:" + hashlib.sha256(np.ascontiguousarray(batch, dtype="<f4").data).hexdigest()[:16]
