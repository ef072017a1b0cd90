"""Frames composed from real face photos (cartoons/photos) pasted at known boxes and sizes on varied face-free
backgrounds, for the face benches (face_detection.py, faces.py). The truth box of each pasted face is the box
BlazeFace finds in the full-resolution photo (faces there are 90..350 px high), scaled and moved with the paste.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cartoons.drawing import draw_room  # noqa: E402
from cartoons.synthetic import STYLES  # noqa: E402

PHOTOS = REPO / "cartoons" / "photos"


@dataclass
class FaceSource:
    person: str
    image_bgr: np.ndarray
    box: np.ndarray  # x, y, w, h of the face in the photo, px


@dataclass
class ComposedFrame:
    frame_bgr: np.ndarray
    boxes: np.ndarray  # (k, 4) x, y, w, h truth boxes, px
    people: list[str]


def face_sources(detector) -> list[FaceSource]:
    """The single-face photos (not groups/) with their face box, found by `detector` (a BlazeFaceDetector)."""
    sources = []
    for path in sorted(PHOTOS.glob("*/*.jpg")):
        if path.parent.name == "groups":
            continue
        image = cv2.imread(str(path))
        found = detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2RGB))
        if len(found) == 1:
            sources.append(FaceSource(path.parent.name, image, found.box[0].astype(np.float64)))
    return sources


def background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """A face-free (height, width, 3) uint8 BGR background: a crop of scikit-learn's sample photos, a drawn
    cartoon room, or textured noise; sometimes blurred, darkened or noisy."""
    kind = int(rng.integers(3))
    if kind == 0:
        from sklearn.datasets import load_sample_images

        photo = load_sample_images().images[int(rng.integers(2))][:, :, ::-1]
        least = max(width / photo.shape[1], height / photo.shape[0])
        scale = rng.uniform(least, max(2.5, 1.25 * least))  # 2.5 up to 1280x720; 1080p and 4K need more
        big = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_LINEAR)
        x, y = int(rng.integers(big.shape[1] - width + 1)), int(rng.integers(big.shape[0] - height + 1))
        img = np.ascontiguousarray(big[y : y + height, x : x + width])
    elif kind == 1:
        styles = list(STYLES.values())
        img = draw_room(styles[int(rng.integers(len(styles)))], width, height, rng)
    else:
        small = rng.integers(0, 256, (int(rng.integers(3, 24)), int(rng.integers(3, 24)), 3)).astype(np.uint8)
        img = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)  # smooth colour fields
    if rng.random() < 0.3:
        img = cv2.GaussianBlur(img, (0, 0), rng.uniform(1, 4))
    img = np.clip(img.astype(np.float32) * rng.uniform(0.6, 1.2) + rng.normal(0, rng.uniform(0, 8), img.shape), 0, 255)
    return img.astype(np.uint8)


def paste_face(frame: np.ndarray, source: FaceSource, size_px: float, x: int, y: int) -> np.ndarray:
    """Paste the head and shoulders of `source` scaled so the face box is `size_px` high, the face box's top-left
    at (x, y); a feathered edge. Returns the (4,) truth box in the frame, px."""
    scale = size_px / source.box[3]
    bx, by, bw, bh = source.box
    # the region around the face that is pasted: 0.6 box widths each side, 0.5 above, 1.2 below (shoulders)
    x0, y0 = max(0, int(bx - 0.6 * bw)), max(0, int(by - 0.5 * bh))
    x1, y1 = min(source.image_bgr.shape[1], int(bx + 1.6 * bw)), min(source.image_bgr.shape[0], int(by + 2.2 * bh))
    region = cv2.resize(source.image_bgr[y0:y1, x0:x1], None, fx=scale, fy=scale,
                        interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    ox, oy = int(round(x - (bx - x0) * scale)), int(round(y - (by - y0) * scale))
    h, w = region.shape[:2]
    fx0, fy0, fx1, fy1 = max(0, ox), max(0, oy), min(frame.shape[1], ox + w), min(frame.shape[0], oy + h)
    if fx1 <= fx0 or fy1 <= fy0:
        raise ValueError("paste outside the frame")
    feather = max(2, int(0.08 * min(h, w)))
    ramp_x = np.clip(np.minimum(np.arange(w), w - 1 - np.arange(w)) / feather, 0, 1)
    ramp_y = np.clip(np.minimum(np.arange(h), h - 1 - np.arange(h)) / feather, 0, 1)
    alpha = (ramp_y[:, None] * ramp_x[None, :])[:, :, None]
    part = region[fy0 - oy : fy1 - oy, fx0 - ox : fx1 - ox].astype(np.float32)
    a = alpha[fy0 - oy : fy1 - oy, fx0 - ox : fx1 - ox]
    frame[fy0:fy1, fx0:fx1] = (a * part + (1 - a) * frame[fy0:fy1, fx0:fx1]).astype(np.uint8)
    return np.array([x, y, bw * scale, bh * scale])


def compose(rng: np.random.Generator, sources: list[FaceSource], width: int, height: int,
            sizes_px: list[float]) -> ComposedFrame:
    """A background with one face per entry of `sizes_px` (face box heights), at random places that keep each
    face box wholly inside the frame and apart from the others."""
    frame = background(rng, width, height)
    boxes, people = [], []
    for size in sorted(sizes_px, reverse=True):
        for _ in range(200):
            x = int(rng.integers(0, max(1, width - int(size))))
            y = int(rng.integers(0, max(1, height - int(size))))
            box = np.array([x, y, size, size], np.float64)
            if all(_apart(box, other) for other in boxes):
                break
        else:
            continue  # no room for this one
        source = sources[int(rng.integers(len(sources)))]
        boxes.append(paste_face(frame, source, size, x, y))
        people.append(source.person)
    return ComposedFrame(frame, np.array(boxes).reshape(-1, 4), people)


def _apart(a: np.ndarray, b: np.ndarray) -> bool:
    """The two boxes, each grown by half its size (the pasted shoulders), do not overlap."""
    ga = a + np.array([-0.5, -0.5, 1.0, 1.0]) * a[[2, 3, 2, 3]]
    gb = b + np.array([-0.5, -0.5, 1.0, 1.0]) * b[[2, 3, 2, 3]]
    return ga[0] + ga[2] <= gb[0] or gb[0] + gb[2] <= ga[0] or ga[1] + ga[3] <= gb[1] or gb[1] + gb[3] <= ga[1]


def match(found_boxes: np.ndarray, truth_boxes: np.ndarray, min_iou: float = 0.4) -> tuple[np.ndarray, int]:
    """(k,) bool: each truth box found (IoU >= min_iou with a detection), and the number of false detections."""
    from scipy.optimize import linear_sum_assignment

    if len(truth_boxes) == 0 or len(found_boxes) == 0:
        return np.zeros(len(truth_boxes), bool), len(found_boxes)
    ious = np.array([[_iou(t, f) for f in found_boxes] for t in truth_boxes])
    rows, cols = linear_sum_assignment(-ious)
    hit = np.zeros(len(truth_boxes), bool)
    good = ious[rows, cols] >= min_iou
    hit[rows[good]] = True
    return hit, len(found_boxes) - int(good.sum())


def _iou(a, b) -> float:
    from featurestore.faces.boxes import box_iou

    return float(box_iou(a, b)[0, 0])
