"""The frames an int8 network is calibrated on: fixed, generated the same way on every machine and every run.

Post-training quantisation (NNCF) measures the range of every activation on calibration frames; frames like
the ones the network will see give ranges that fit. These are 64 crops of the two natural photographs that
scikit-learn ships (`sklearn.datasets.load_sample_images`: a temple in China, a flower), at scales from a
third of the picture to all of it, some mirrored, drawn from a seeded generator: natural images, no download,
and the same calibration everywhere, so the same config gives the same features on every run.
`featurestore.embedding.config.CALIBRATION` names this procedure in an int8 store's identity.
"""

from __future__ import annotations

import hashlib

import numpy as np

N_FRAMES = 64
SEED = 0


def calibration_frames(n: int = N_FRAMES, seed: int = SEED) -> list[np.ndarray]:
    """`n` BGR uint8 crops of scikit-learn's sample photographs, each of its own size (the preprocessor resizes)."""
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
        frames.append(np.ascontiguousarray(crop[:, ::-1] if k % 4 == 1 else crop))
    return frames


def digest(batch: np.ndarray) -> str:
    """'sha256:<16 hex>' of a preprocessed calibration batch (recorded with each int8 video)."""
    return "sha256:" + hashlib.sha256(np.ascontiguousarray(batch, dtype="<f4").data).hexdigest()[:16]
