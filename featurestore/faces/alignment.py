"""Face alignment: dlib's 5-point shape predictor on a detector's box, then an aligned square chip.

dlib's predictor was trained on the boxes of dlib's own detectors (HOG, MMOD); BlazeFace's full-range boxes
are squares close to them (measured on cartoons/photos: HOG box = 0.95 x BlazeFace's width, centres within 2% of
it; landmarks from either box agree within 0.2% of the box width and the descriptors differ by 0.044 on average,
far below dlib's 0.6 same-person distance), so a BlazeFace box is used as the dlib rectangle as it is, the way
face_recognition passes any detector's (top, right, bottom, left) box to `dlib.rectangle(left, top, right, bottom)`.
"""

from __future__ import annotations

import numpy as np

#: dlib's face descriptor takes 150 px chips with 25% padding around the landmarks (dlib's own defaults).
CHIP_PX = 150
CHIP_PADDING = 0.25


def dlib_rectangles(boxes_px: np.ndarray):
    """dlib.rectangles of (n, 4) x, y, w, h boxes in pixels (dlib's right and bottom are inclusive)."""
    import dlib

    rects = dlib.rectangles()
    for x, y, w, h in np.asarray(boxes_px, dtype=np.float64):
        left, top = int(round(x)), int(round(y))
        rects.append(dlib.rectangle(left, top, max(left, int(round(x + w)) - 1), max(top, int(round(y + h)) - 1)))
    return rects


class FivePointAligner:
    """Aligned (150, 150, 3) uint8 RGB chips of faces, by dlib's 5-point shape predictor (eye corners, nose)."""

    def __init__(self, predictor_path):
        import dlib

        self._dlib = dlib
        self.predictor = dlib.shape_predictor(str(predictor_path))

    def align(self, frame_rgb: np.ndarray, boxes_px: np.ndarray) -> np.ndarray:
        """(n, 150, 150, 3) uint8 RGB chips for the (n, 4) x, y, w, h boxes of one (H, W, 3) uint8 RGB frame."""
        if len(boxes_px) == 0:
            return np.zeros((0, CHIP_PX, CHIP_PX, 3), np.uint8)
        frame_rgb = np.ascontiguousarray(frame_rgb)
        shapes = self._dlib.full_object_detections()
        for rect in dlib_rectangles(boxes_px):
            shapes.append(self.predictor(frame_rgb, rect))
        chips = self._dlib.get_face_chips(frame_rgb, shapes, size=CHIP_PX, padding=CHIP_PADDING)
        return np.stack([np.asarray(chip, dtype=np.uint8) for chip in chips])
