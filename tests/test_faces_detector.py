"""The detector's own arithmetic: anchors, weighted NMS, the tile grid (no network needed)."""

from __future__ import annotations

import numpy as np
import pytest

from featurestore.faces.detector import (TILE_OVERLAP, anchors_full_range, tile_grid, tile_rows_for, tile_side, weighted_nms,
                                        working_scale)


def test_anchors_are_the_full_range_models_48_by_48_grid():
    anchors = anchors_full_range()
    assert anchors.shape == (2304, 2)
    np.testing.assert_allclose(anchors[0], [0.5 / 48, 0.5 / 48])
    np.testing.assert_allclose(anchors[1], [1.5 / 48, 0.5 / 48])  # x runs fastest
    np.testing.assert_allclose(anchors[-1], [47.5 / 48, 47.5 / 48])


def detection(x0, y0, x1, y1):
    data = np.zeros((8, 2), np.float32)
    data[0], data[1] = (x0, y0), (x1, y1)
    data[2:] = ((x0 + x1) / 2, (y0 + y1) / 2)
    return data


def test_weighted_nms_merges_overlapping_boxes_by_score_and_keeps_apart_ones():
    data = np.stack([detection(0, 0, 10, 10), detection(1, 1, 11, 11), detection(50, 50, 60, 60)])
    merged, score = weighted_nms(data, np.array([0.6, 0.9, 0.7], np.float32))
    np.testing.assert_allclose(score, [0.9, 0.7])
    np.testing.assert_allclose(merged[0, 0], (0.6 * np.array([0, 0]) + 0.9 * np.array([1, 1])) / 1.5, rtol=1e-6)
    np.testing.assert_allclose(merged[1, 0], [50, 50])


def test_weighted_nms_of_nothing():
    merged, score = weighted_nms(np.zeros((0, 8, 2), np.float32), np.zeros(0, np.float32))
    assert merged.shape == (0, 8, 2) and score.shape == (0,)


@pytest.mark.parametrize("width,height,rows", [(640, 360, 1), (640, 360, 2), (1280, 720, 3), (360, 640, 2), (100, 100, 1)])
def test_tiles_are_squares_inside_the_frame_that_cover_it_with_overlap(width, height, rows):
    tiles = tile_grid(width, height, rows)
    covered = np.zeros((height, width), bool)
    for x, y, side in tiles:
        assert 0 <= x and 0 <= y and x + side <= width and y + side <= height
        covered[y : y + side, x : x + side] = True
    assert covered.all()
    side = tiles[0][2]
    xs, ys = sorted({t[0] for t in tiles}), sorted({t[1] for t in tiles})
    for starts in (xs, ys):
        assert all(b - a <= side * (1 - TILE_OVERLAP) + 1 for a, b in zip(starts, starts[1:]))
    assert len(ys if height <= width else xs) == rows  # rows of tiles across the shorter side


@pytest.mark.parametrize("short,rows", [(360, 2), (480, 2), (720, 2), (768, 3), (1080, 3)])
def test_rows_grow_only_where_tiles_would_be_larger_than_tile_px(short, rows):
    assert tile_rows_for(short, 2, 432) == rows
    assert tile_side(short, rows) <= 432
    assert tile_rows_for(short, 2, None) == 2 and tile_rows_for(short, 0, 432) == 0


@pytest.mark.parametrize("width,height,scale", [(1280, 720, 1.0), (1920, 1080, 1.0), (3840, 2160, 0.5), (2160, 3840, 0.5),
                                                (2560, 1440, 0.75)])
def test_frames_are_downscaled_by_their_shorter_side_to_the_working_height(width, height, scale):
    assert working_scale(width, height, 1080) == scale
    assert working_scale(width, height, None) == 1.0


def test_importing_the_faces_package_loads_no_detector_dlib_or_opencv():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, featurestore.faces as f; f.FaceTable; "
            "print(sorted(m for m in ('cv2', 'dlib', 'ai_edge_litert', 'tensorflow', 'scenedetect', 'scipy') if m in sys.modules))")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(root), "PATH": ""})
    assert out.stdout.strip() == "[]"
