"""Drawing one frame of composed footage: face sprites warped into place (scale, roll, a yaw-like squeeze with
perspective), then what a camera adds -- motion blur, defocus, exposure and colour, sensor noise.

Frames are float32 BGR in [0, 255] until `finish` rounds them to uint8.
"""

from __future__ import annotations

import cv2
import numpy as np

from .cast import Sprite


def face_warp(sprite: Sprite, centre_xy: tuple, face_h_px: float, *, roll_deg: float = 0.0, squeeze: float = 1.0,
              tilt: float = 0.0) -> np.ndarray:
    """(3, 3) homography from the sprite's pixels to the frame's: the face box's centre lands on `centre_xy`,
    `face_h_px` high, rolled by `roll_deg` (counter-clockwise), narrowed to `squeeze` of its width with a
    perspective `tilt` (-0.3..0.3: one side of the face nearer than the other) -- a face turning away."""
    x, y, w, h = sprite.face_box
    k = face_h_px / h
    to_centre = np.array([[1, 0, -(x + w / 2)], [0, 1, -(y + h / 2)], [0, 0, 1]], np.float64)
    scale = np.diag([k, k, 1.0])
    yaw = np.array([[squeeze, 0, 0], [0, 1, 0], [tilt / face_h_px, 0, 1]], np.float64)
    a = np.deg2rad(roll_deg)
    roll = np.array([[np.cos(a), np.sin(a), 0], [-np.sin(a), np.cos(a), 0], [0, 0, 1]], np.float64)
    to_frame = np.array([[1, 0, centre_xy[0]], [0, 1, centre_xy[1]], [0, 0, 1]], np.float64)
    return to_frame @ roll @ yaw @ scale @ to_centre


def face_box(sprite: Sprite, centre_xy: tuple, face_h_px: float, squeeze: float = 1.0) -> tuple:
    """The face's box in the frame, (x, y, w, h) px, for a sprite placed by `face_warp` with these values: centred
    where the face's centre lands, as high as the face, as wide as the face after the squeeze (roll ignored: a
    detector boxes a slightly rolled face upright)."""
    w = face_h_px * sprite.face_box[2] / sprite.face_box[3] * squeeze
    return (centre_xy[0] - w / 2, centre_xy[1] - face_h_px / 2, w, face_h_px)


def paste(frame: np.ndarray, sprite: Sprite, warp: np.ndarray, opacity: float = 1.0) -> None:
    """Alpha-blend `sprite`, warped by the (3, 3) homography `warp`, into `frame` (H, W, 3) float32, in place; only
    the part of the frame the sprite covers is touched."""
    h, w = sprite.alpha.shape
    corners = cv2.perspectiveTransform(np.array([[[0, 0], [w, 0], [w, h], [0, h]]], np.float32), warp)[0]
    fh, fw = frame.shape[:2]
    x0, y0 = np.floor(corners.min(axis=0)).astype(int)
    x1, y1 = np.ceil(corners.max(axis=0)).astype(int)
    x0, y0, x1, y1 = max(0, x0), max(0, y0), min(fw, x1), min(fh, y1)
    if x1 <= x0 or y1 <= y0:
        return
    shift = np.array([[1, 0, -x0], [0, 1, -y0], [0, 0, 1]], np.float64) @ warp
    size = (x1 - x0, y1 - y0)
    image = cv2.warpPerspective(sprite.image, shift, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    alpha = cv2.warpPerspective(sprite.alpha, shift, size, flags=cv2.INTER_LINEAR, borderValue=0.0)[..., None]
    if opacity < 1.0:
        alpha = alpha * opacity
    roi = frame[y0:y1, x0:x1]
    roi += alpha * (image - roi)


def motion_blur(frame: np.ndarray, dx_px: float, dy_px: float) -> np.ndarray:
    """Blur along the camera's motion during the exposure: a line kernel of length |(dx, dy)| px (no-op under 1.5)."""
    length = float(np.hypot(dx_px, dy_px))
    if length < 1.5:
        return frame
    n = int(np.ceil(length)) | 1
    kernel = np.zeros((n, n), np.float32)
    c = n // 2
    ux, uy = dx_px / length, dy_px / length
    for s in np.linspace(-length / 2, length / 2, 2 * n):
        kernel[int(round(c + s * uy)), int(round(c + s * ux))] += 1.0
    return cv2.filter2D(frame, -1, kernel / kernel.sum(), borderType=cv2.BORDER_REFLECT)


def defocus(frame: np.ndarray, sigma_px: float) -> np.ndarray:
    """Out of focus: a Gaussian of `sigma_px` (no-op under 0.3)."""
    return cv2.GaussianBlur(frame, (0, 0), sigma_px) if sigma_px >= 0.3 else frame


def finish(frame: np.ndarray, *, gain: float, colour: np.ndarray, gamma: float, noise: np.ndarray) -> np.ndarray:
    """Exposure `gain`, a colour cast (3,) BGR multipliers, a `gamma` curve, then sensor `noise` (H, W, 3) int16
    grey levels, rounded to (H, W, 3) uint8. `frame` is overwritten."""
    frame *= (gain * np.asarray(colour, np.float32))
    lit = cv2.convertScaleAbs(frame)  # saturating round to uint8 (the frame holds no negative values)
    curve = np.clip(np.round(255.0 * (np.arange(256) / 255.0) ** gamma), 0, 255).astype(np.uint8)
    return cv2.add(cv2.LUT(lit, curve).astype(np.int16), noise, dtype=cv2.CV_8U)
