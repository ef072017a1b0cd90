"""Drawing the cartoons: rooms, the two characters, distractors, and lighting with sensor noise (OpenCV only).

`style` arguments are `cartoons.synthetic.Style` values.
"""

from __future__ import annotations

import cv2
import numpy as np

BOTH = "both"  # a shared shot: tom and jerry on screen together
JERRY_BGR = (40, 105, 190)  # brown-orange fur
TOM_BGR = (150, 128, 112)  # blue-grey fur


def draw_room(style, width: int, height: int, rng) -> np.ndarray:
    """Wall with its pattern, floor and two pieces of furniture, (height, width, 3) uint8 BGR."""
    img = np.empty((height, width, 3), np.uint8)
    img[:] = style.wall_bgr
    p = max(2, style.stripe_px)
    if style.pattern == "vstripes":
        for x in range(0, width, 2 * p):
            img[:, x:x + p] = style.stripe_bgr
    elif style.pattern == "hstripes":
        for y in range(0, height, 2 * p):
            img[y:y + p // 2] = style.stripe_bgr
    elif style.pattern == "checks":
        for y in range(0, height, p):
            for x in range((y // p % 2) * p, width, 2 * p):
                img[y:y + p, x:x + p] = style.stripe_bgr
    elif style.pattern == "dots":
        for y in range(p // 2, height, p):
            for x in range(p // 2 + (y // p % 2) * p // 2, width, p):
                cv2.circle(img, (x, y), max(2, p // 5), style.stripe_bgr, -1, cv2.LINE_AA)
    floor_y = int(height * (1 - style.floor_frac))
    img[floor_y:] = style.floor_bgr
    cv2.line(img, (0, floor_y), (width, floor_y), tuple(int(c * 0.6) for c in style.floor_bgr), 2)
    f = style.furniture_bgr
    x = int(rng.uniform(0.05, 0.3) * width)  # a table
    cv2.rectangle(img, (x, floor_y - 45), (x + 70, floor_y - 38), f, -1)
    for leg in (x + 4, x + 62):
        cv2.rectangle(img, (leg, floor_y - 38), (leg + 4, floor_y + 6), f, -1)
    x = int(rng.uniform(0.6, 0.85) * width)  # an armchair or cupboard
    cv2.rectangle(img, (x, floor_y - 70), (x + 55, floor_y + 8), tuple(int(c * 0.8) for c in f), -1)
    cv2.rectangle(img, (x - 8, floor_y - 30), (x + 63, floor_y + 8), f, -1)
    return img


def draw_subject(frame: np.ndarray, plan: dict, t_s: float) -> None:
    if plan["label"] == BOTH:
        for subject in plan["subjects"]:
            draw_subject(frame, subject, t_s)
        return
    x = plan["x0"] + plan["vx"] * t_s
    scale = plan["scale"] * plan["unit"]
    if plan["kind"] == "zoom":
        u = t_s / max(plan["shot_s"], 1e-9)
        scale = ((1 - u) * plan["scale"] + u * plan["zoom_to"]) * plan["unit"]
    bob = 0.0
    if plan["kind"] == "bob":
        bob = 6.0 * scale * abs(np.sin(2 * np.pi * 1.2 * t_s + plan["phase"]))
    else:
        bob = 2.0 * scale * abs(np.sin(2 * np.pi * 2.0 * t_s + plan["phase"]))
    y = plan["ground"] - bob
    stride = np.sin(2 * np.pi * 2.0 * t_s + plan["phase"])
    if plan["label"] == "jerry":
        _draw_jerry(frame, x, y, scale, plan["direction"], stride)
    elif plan["label"] == "tom":
        _draw_tom(frame, x, y, scale, plan["direction"], stride)
    elif plan["distractor"] < 4:
        _draw_distractor(frame, plan["distractor"], plan["x0"], plan["ground"], plan["unit"], plan["distractor_bgr"])


def _p(x, y):
    return int(round(x)), int(round(y))


def _draw_jerry(img, x, y, s, d, stride) -> None:
    """Mouse standing on (x, y) (feet), facing d = +1 (right) or -1, about 40 px tall at s = 1."""
    fur, belly, pink = JERRY_BGR, (120, 190, 235), (170, 150, 240)
    aa = cv2.LINE_AA
    tail = [_p(x - d * (14 + 10 * k) * s, y - (6 + 8 * np.sin(k * 1.3 + stride)) * s) for k in range(5)]
    cv2.polylines(img, [np.array(tail, np.int32)], False, (30, 80, 150), max(1, int(2 * s)), aa)
    for k in (-1, 1):
        cv2.line(img, _p(x + k * 5 * s, y - 8 * s), _p(x + k * 5 * s + 3 * stride * k * s, y), fur, max(1, int(3 * s)), aa)
    cv2.ellipse(img, _p(x, y - 15 * s), _p(14 * s, 10 * s), 0, 0, 360, fur, -1, aa)
    cv2.ellipse(img, _p(x + d * 3 * s, y - 13 * s), _p(7 * s, 6 * s), 0, 0, 360, belly, -1, aa)
    hx, hy = x + d * 13 * s, y - 30 * s
    for ex in (-7, 6):
        cv2.circle(img, _p(hx + ex * s, hy - 9 * s), max(2, int(7 * s)), fur, -1, aa)
        cv2.circle(img, _p(hx + ex * s, hy - 9 * s), max(1, int(4 * s)), pink, -1, aa)
    cv2.circle(img, _p(hx, hy), max(2, int(9 * s)), fur, -1, aa)
    cv2.ellipse(img, _p(hx + d * 6 * s, hy + 3 * s), _p(6 * s, 4 * s), 0, 0, 360, belly, -1, aa)
    cv2.circle(img, _p(hx + d * 11 * s, hy + 2 * s), max(1, int(2 * s)), (40, 40, 60), -1, aa)
    cv2.circle(img, _p(hx + d * 3 * s, hy - 3 * s), max(1, int(2 * s)), (10, 10, 10), -1, aa)


def _draw_tom(img, x, y, s, d, stride) -> None:
    """Cat standing on (x, y) (feet), facing d, about 120 px tall at s = 1."""
    fur, dark, white = TOM_BGR, (110, 90, 80), (245, 245, 245)
    aa = cv2.LINE_AA
    tail = [_p(x - d * (25 + 12 * k) * s, y - (30 + 14 * k + 6 * np.sin(k + stride)) * s) for k in range(5)]
    cv2.polylines(img, [np.array(tail, np.int32)], False, dark, max(2, int(6 * s)), aa)
    for k in (-1, 1):
        foot = _p(x + k * 12 * s + 8 * stride * k * s, y)
        cv2.line(img, _p(x + k * 12 * s, y - 30 * s), foot, fur, max(2, int(9 * s)), aa)
        cv2.ellipse(img, foot, _p(8 * s, 4 * s), 0, 0, 360, white, -1, aa)
    cv2.ellipse(img, _p(x, y - 50 * s), _p(26 * s, 30 * s), 0, 0, 360, fur, -1, aa)
    cv2.ellipse(img, _p(x + d * 6 * s, y - 45 * s), _p(13 * s, 20 * s), 0, 0, 360, (215, 215, 220), -1, aa)
    hx, hy = x + d * 8 * s, y - 95 * s
    for ex in (-1, 1):
        ear = np.array([_p(hx + ex * 8 * s, hy - 14 * s), _p(hx + ex * 22 * s, hy - 40 * s), _p(hx + ex * 24 * s, hy - 6 * s)], np.int32)
        cv2.fillPoly(img, [ear], fur, aa)
        cv2.fillPoly(img, [((ear - [int(hx), int(hy)]) * 0.6 + [hx, hy]).astype(np.int32)], (170, 160, 220), aa)
    cv2.circle(img, _p(hx, hy), max(3, int(23 * s)), fur, -1, aa)
    cv2.ellipse(img, _p(hx + d * 6 * s, hy + 9 * s), _p(14 * s, 10 * s), 0, 0, 360, white, -1, aa)
    for ex in (-1, 1):
        cv2.ellipse(img, _p(hx + d * 4 * s + ex * 8 * s, hy - 7 * s), _p(5 * s, 7 * s), 0, 0, 360, white, -1, aa)
        cv2.circle(img, _p(hx + d * 6 * s + ex * 8 * s, hy - 6 * s), max(1, int(3 * s)), (20, 20, 20), -1, aa)
    cv2.circle(img, _p(hx + d * 8 * s, hy + 4 * s), max(1, int(3 * s)), (60, 50, 120), -1, aa)
    for k in (-1, 0, 1):
        cv2.line(img, _p(hx + d * 10 * s, hy + 8 * s), _p(hx + d * 34 * s, hy + (8 + 6 * k) * s), (30, 30, 30), 1, aa)
        cv2.line(img, _p(hx + d * 2 * s, hy + 8 * s), _p(hx - d * 20 * s, hy + (8 + 6 * k) * s), (30, 30, 30), 1, aa)


def _draw_distractor(img, kind: int, x, y, u, bgr) -> None:
    """An object that is not a character: ball, lamp, potted plant or box."""
    aa = cv2.LINE_AA
    if kind == 0:
        cv2.circle(img, _p(x, y - 12 * u), int(12 * u), bgr, -1, aa)
    elif kind == 1:
        cv2.line(img, _p(x, y), _p(x, y - 90 * u), (40, 40, 40), max(1, int(3 * u)), aa)
        cv2.fillPoly(img, [np.array([_p(x - 20 * u, y - 85 * u), _p(x + 20 * u, y - 85 * u), _p(x + 10 * u, y - 110 * u),
                                     _p(x - 10 * u, y - 110 * u)], np.int32)], bgr, aa)
    elif kind == 2:
        cv2.rectangle(img, _p(x - 12 * u, y - 25 * u), _p(x + 12 * u, y), (40, 70, 150), -1)
        for k in range(-2, 3):
            cv2.ellipse(img, _p(x + 8 * k * u, y - 45 * u), _p(6 * u, 18 * u), 20 * k, 0, 360, (50, 140, 40), -1, aa)
    else:
        cv2.rectangle(img, _p(x - 25 * u, y - 40 * u), _p(x + 25 * u, y), bgr, -1)


def light(frame: np.ndarray, style, t_s: float, noise: np.ndarray) -> np.ndarray:
    """Lighting (brightness with a slow flicker) plus one frame of sensor noise, (height, width, 3) float32."""
    gain = style.brightness * (1.0 + 0.03 * np.sin(2 * np.pi * t_s / 7.0))
    noisy = frame.astype(np.float32) * gain + noise
    return np.clip(noisy, 0, 255).astype(np.uint8)
