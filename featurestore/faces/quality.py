"""Face quality: size, sharpness and detector score -> one number in [0, 1], so poor faces can be left out.

    quality = (q_size * q_sharp * score) ** (1/3)          (geometric mean: any poor part pulls it down)
    q_size  = min(1, size_px / FULL_SIZE_PX)               box height in the video's pixels
    q_sharp = min(1, sharpness / FULL_SHARPNESS)           variance of the Laplacian of the aligned grey chip

Measured on cartoons/photos (docs/faces.md): dlib descriptors of a face shown 80 px high lie a median 0.11 from
the same face at full resolution (40 px: 0.23, 24 px: 0.42; dlib calls < 0.6 the same person), and a chip blurred
by a Gaussian of 1 chip pixel (sharpness ~40) 0.12 away (2 px, sharpness ~13: 0.24). So 80 px and sharpness 50
are where a face stops losing much; below, quality falls towards 0.
"""

from __future__ import annotations

import cv2
import numpy as np

FULL_SIZE_PX = 80.0
FULL_SHARPNESS = 50.0
#: A good face: quality at least this. Clustering leaves the others to the blurred / small bin, and a face model
#: measures how far a video is from its training faces on good faces alone. Measured on composed footage of real
#: faces (bench/cluster_footage.py, docs/cluster.md): at 0.3 the clusters stayed 99.7-100% pure and 7-8 names
#: covered 90% of the cast's faces; at 0.4 the blurred / small bin held over 10% of them.
GOOD_QUALITY = 0.3


def sharpness(chips_rgb: np.ndarray) -> np.ndarray:
    """(n,) float32 variance of the Laplacian of each (n, h, w, 3) uint8 RGB aligned chip in grey (higher: sharper)."""
    values = [cv2.Laplacian(cv2.cvtColor(chip, cv2.COLOR_RGB2GRAY), cv2.CV_64F).var() for chip in chips_rgb]
    return np.asarray(values, dtype=np.float32)


def quality(size_px: np.ndarray, sharpness: np.ndarray, score: np.ndarray) -> np.ndarray:
    """(n,) float32 in [0, 1] from (n,) face heights in px, chip sharpness and detector scores (formula above)."""
    q_size = np.clip(np.asarray(size_px, np.float64) / FULL_SIZE_PX, 0.0, 1.0)
    q_sharp = np.clip(np.asarray(sharpness, np.float64) / FULL_SHARPNESS, 0.0, 1.0)
    q_score = np.clip(np.asarray(score, np.float64), 0.0, 1.0)
    return np.cbrt(q_size * q_sharp * q_score).astype(np.float32)
