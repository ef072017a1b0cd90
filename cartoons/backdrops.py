"""Backgrounds of the composed live-action footage: real photos (scikit-image's and scikit-learn's sample images)
and the cartoons' drawn rooms, blurred as a camera focused on the people would see them.

Training videos and held-out videos draw from disjoint lists (`BACKDROPS`), so a classifier that learnt the
backgrounds rather than the faces shows it on held-out videos.
"""

from __future__ import annotations

from functools import lru_cache

import cv2
import numpy as np

from .drawing import draw_room
from .synthetic import STYLES

#: split -> backdrop names: 'sklearn:<file>', 'skimage:<name>' or 'room:<cartoons.synthetic style>'.
BACKDROPS = {
    "train": ("sklearn:china.jpg", "skimage:coffee", "skimage:rocket", "skimage:brick", "skimage:camera",
              "room:kitchen", "room:parlour", "room:study"),
    "test": ("sklearn:flower.jpg", "skimage:grass", "skimage:gravel", "skimage:hubble_deep_field", "skimage:coins",
             "room:cellar", "room:garden", "room:nursery"),
}


def backdrop(name: str, width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """(height, width, 3) uint8 BGR: the named backdrop scaled to cover the size, a random part of it, tinted when
    grey, slightly defocused (Gaussian sigma 0.5-3 px)."""
    kind, _, what = name.partition(":")
    if kind == "room":
        image = draw_room(STYLES[what], width, height, rng)
    else:
        source = _sample_image(kind, what)
        s = max(width / source.shape[1], height / source.shape[0]) * rng.uniform(1.0, 1.4)
        scaled = cv2.resize(source, (int(np.ceil(source.shape[1] * s)), int(np.ceil(source.shape[0] * s))),
                            interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC)
        x0 = int(rng.integers(0, scaled.shape[1] - width + 1))
        y0 = int(rng.integers(0, scaled.shape[0] - height + 1))
        image = scaled[y0:y0 + height, x0:x0 + width]
        if rng.random() < 0.5:
            image = image[:, ::-1]
    image = image.astype(np.float32)
    if float(np.ptp(image.reshape(-1, 3).mean(axis=0))) < 1.0:  # a grey photo: give it a colour
        image *= rng.uniform(0.75, 1.15, 3).astype(np.float32)
    image = cv2.GaussianBlur(image, (0, 0), rng.uniform(0.5, 3.0))
    return np.clip(image, 0, 255).astype(np.uint8)


@lru_cache(maxsize=16)
def _sample_image(kind: str, what: str) -> np.ndarray:
    """(h, w, 3) uint8 BGR of a library's sample image."""
    if kind == "sklearn":
        from sklearn.datasets import load_sample_image

        rgb = load_sample_image(what)
    elif kind == "skimage":
        try:
            import skimage.data
        except ImportError as err:
            raise ImportError("composed footage reads scikit-image's sample photos: pip install scikit-image") from err
        rgb = getattr(skimage.data, what)()
    else:
        raise ValueError(f"unknown backdrop source {kind!r}")
    if rgb.ndim == 2:
        rgb = np.stack([rgb] * 3, axis=-1)
    return np.ascontiguousarray(rgb[..., 2::-1])
