"""Intersection over union of face boxes, in either form the face pipeline uses: x, y, w, h (the FaceTable's,
labels' boxes) or corners xmin, ymin, xmax, ymax (the detector's). One formula; each form only says where a box
starts and ends and what its area is (w * h, or (xmax - xmin) * (ymax - ymin)), so each keeps its own numbers.
And `in_frame`: the part of a normalised box inside the frame (what score shows of a face cut by the frame's edge).
"""

from __future__ import annotations

import numpy as np


def box_iou(a, b) -> np.ndarray:
    """(m, n) float64 intersection over union of (m, 4) and (n, 4) x, y, w, h boxes (a single (4,) box is (1, 4))."""
    a = np.asarray(a, np.float64).reshape(-1, 4)[:, None, :]
    b = np.asarray(b, np.float64).reshape(-1, 4)[None, :, :]
    return _iou(a[..., :2], a[..., :2] + a[..., 2:], a[..., 2] * a[..., 3],
                b[..., :2], b[..., :2] + b[..., 2:], b[..., 2] * b[..., 3])


def corner_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of xmin, ymin, xmax, ymax boxes (..., 4), broadcast against each other (one (4,)
    box with (m, 4) others gives (m,)); computed in the boxes' own dtype."""
    return _iou(a[..., :2], a[..., 2:], (a[..., 2] - a[..., 0]) * (a[..., 3] - a[..., 1]),
                b[..., :2], b[..., 2:], (b[..., 2] - b[..., 0]) * (b[..., 3] - b[..., 1]))


def _iou(start_a, end_a, area_a, start_b, end_b, area_b) -> np.ndarray:
    """IoU from each box's start (..., 2), end (..., 2) and area (...); 0 where the union is empty."""
    side = np.clip(np.minimum(end_a, end_b) - np.maximum(start_a, start_b), 0, None)
    inter = side[..., 0] * side[..., 1]
    union = area_a + area_b - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def in_frame(box) -> np.ndarray:
    """(n, 4) float64 x, y, w, h normalised: the part of each (n, 4) normalised box inside the frame, [0, 1] on each
    axis. The detector boxes a face cut by the frame's edge as a whole face, reaching past the edge (the store keeps
    that box); this is the part of it on screen. A box wholly outside keeps its place on the edge with no width or
    height."""
    box = np.asarray(box, np.float64).reshape(-1, 4)
    start = np.clip(box[:, :2], 0.0, 1.0)
    end = np.clip(box[:, :2] + box[:, 2:], 0.0, 1.0)
    return np.hstack([start, np.maximum(end - start, 0.0)])
