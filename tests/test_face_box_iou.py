"""featurestore.faces.boxes: one IoU for both box forms, with the very numbers of the three formulas it replaced
(tracks' and the labels' x, y, w, h matrices, the detector's corners, in float32 there)."""

from __future__ import annotations

import numpy as np
import pytest

from featurestore.faces.boxes import box_iou, corner_iou


def old_xywh_iou(a, b):
    """featurestore/faces/tracks.py::box_iou before (classifiers/data/face_boxes.py::iou computed the same)."""
    a, b = np.asarray(a, np.float64)[:, None, :], np.asarray(b, np.float64)[None, :, :]
    ix = np.clip(np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2]) - np.maximum(a[..., 0], b[..., 0]), 0, None)
    iy = np.clip(np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3]) - np.maximum(a[..., 1], b[..., 1]), 0, None)
    inter = ix * iy
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def old_labels_iou(a, b):
    """classifiers/data/face_boxes.py::iou before."""
    a, b = np.asarray(a, dtype=np.float64).reshape(-1, 4), np.asarray(b, dtype=np.float64).reshape(-1, 4)
    x0, y0 = np.maximum(a[:, None, 0], b[None, :, 0]), np.maximum(a[:, None, 1], b[None, :, 1])
    x1 = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    y1 = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    union = a[:, None, 2] * a[:, None, 3] + b[None, :, 2] * b[None, :, 3] - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1.0), 0.0)


def old_corner_iou(box, boxes):
    """featurestore/faces/detector.py::iou before."""
    ix = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    iy = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = ix * iy
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    union = area + areas - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def random_xywh(rng, n, dtype=np.float64):
    """Boxes that overlap, are disjoint, share an edge, or have no area (w or h 0, or both)."""
    box = np.column_stack([rng.uniform(0, 1, (n, 2)), rng.uniform(0, 0.5, (n, 2))]).astype(dtype)
    box[::5, 2] = 0
    box[1::7, 3] = 0
    box[2::11, 2:] = 0
    box[3::13] = box[0]  # the same box twice
    box[4::9, 0] = box[0, 0] + box[0, 2]  # touching box 0's right edge
    box[5] = [5, 5, 0.1, 0.1]  # far from every other
    return box


@pytest.mark.parametrize("seed", range(5))
def test_box_iou_equals_both_old_xywh_formulas_to_the_bit(seed):
    rng = np.random.default_rng(seed)
    a = random_xywh(rng, 40)
    b = np.concatenate([random_xywh(rng, 30), a[:10]])  # some boxes of b are boxes of a
    got = box_iou(a, b)
    assert got.shape == (40, 40) and got.dtype == np.float64
    assert np.array_equal(got, old_xywh_iou(a, b))
    assert np.array_equal(got, old_labels_iou(a, b))
    assert np.array_equal(box_iou(a[0], b), old_labels_iou(a[0], b))  # one box alone, as the labels pass it
    assert (got == 0).any() and (got == 1).any() and ((got > 0) & (got < 1)).any()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", range(5))
def test_corner_iou_equals_the_old_detector_formula_to_the_bit(seed, dtype):
    rng = np.random.default_rng(seed)
    xywh = random_xywh(rng, 50, dtype)
    corners = np.concatenate([xywh[:, :2], xywh[:, :2] + xywh[:, 2:]], axis=1)
    for top in range(len(corners)):
        got = corner_iou(corners[top], corners)
        want = old_corner_iou(corners[top], corners)
        assert got.dtype == want.dtype == dtype
        assert np.array_equal(got, want)
    # the same with the pairs at once: (m, 1, 4) against (1, n, 4)
    assert np.array_equal(corner_iou(corners[:, None, :], corners[None, :, :]),
                          np.stack([old_corner_iou(c, corners) for c in corners]))


def test_iou_known_values():
    assert box_iou([0, 0, 2, 2], [[1, 1, 2, 2], [0, 0, 2, 2], [5, 5, 1, 1], [2, 0, 1, 1]]).tolist() == [[1 / 7, 1.0, 0.0, 0.0]]
    assert corner_iou(np.array([0.0, 0, 2, 2]), np.array([[1.0, 1, 3, 3], [0, 0, 0, 0]])).tolist() == [1 / 7, 0.0]


def test_in_frame_keeps_the_part_of_a_box_on_screen():
    from featurestore.faces.boxes import in_frame

    got = in_frame([[-0.1, 0.5, 0.3, 0.2], [0.2, 0.9, 0.1, 0.3], [1.2, 0.1, 0.1, 0.1], [0.1, 0.1, 0.2, 0.2]])
    assert np.allclose(got, [[0.0, 0.5, 0.2, 0.2], [0.2, 0.9, 0.1, 0.1], [1.0, 0.1, 0.0, 0.1],
                             [0.1, 0.1, 0.2, 0.2]])
