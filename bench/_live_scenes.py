"""Live-action-like scenes of real face photos with truth per frame, for bench/faces_live.py (issue 24's face
pipeline on footage that moves, unlike the benches' composed shots).

Each scene is a short video drawn frame by frame from the held-out photos of `cartoons.cast` (split 'test': six
actors and extras nobody labelled) on held-out backdrops, with what real footage has: a walk across the frame in and
out at its edges, two people crossing (one hides the other), an occluder passing, a zoom from 30 to 200 px, mirrored /
rolled / grey / dark / side-lit faces, letterboxing at 1280x720 29.97 fps and crf 40, crowds of small extras with one
actor among them, one actor twice in a frame (split screen), fast cuts with a dissolve and a flash frame, a portrait
phone video, a black video with a one-frame face. A face is on screen in a frame when at least half its box is inside
the frame, it is drawn at least half opaque and nothing hides it (the truth's rule, as `cartoons.actors`).

`render(name, out_dir)` writes ``<name>.mp4`` and ``<name>.truth.json`` (``{"fps", "size", "frames": [[[person,
[x, y, w, h] px], ...] per frame]}``, extras as ``extra:<name>``).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import cv2
import numpy as np

from cartoons.backdrops import backdrop
from cartoons.cast import faces_of, sprite
from cartoons.compositing import face_box, face_warp, motion_blur, paste

CAST_T = faces_of("test", cast=True)  # held-out photos only: the training videos use the 'train' split
EXTRAS_T = faces_of("test", cast=False)

def spr(person, i=0):
    pool = CAST_T.get(person) or EXTRAS_T[person]
    return sprite(pool[i % len(pool)])


def mirrored(s):
    x, y, w, h = s.face_box
    W = s.image.shape[1]
    return type(s)(np.ascontiguousarray(s.image[:, ::-1]), np.ascontiguousarray(s.alpha[:, ::-1]),
                   (W - x - w, y, w, h), s.person, s.photo)


def visible_share(box, size):
    x, y, w, h = box
    W, H = size
    ix = max(0.0, min(x + w, W) - max(x, 0)); iy = max(0.0, min(y + h, H) - max(y, 0))
    return ix * iy / (w * h)


class Scene:
    def __init__(self, name, size=(640, 360), fps=25.0, dur_s=20.0, bg="skimage:grass", seed=0, crf=23):
        self.name, self.size, self.fps, self.dur_s, self.crf = name, size, fps, dur_s, crf
        self.n = int(round(dur_s * fps))
        rng = np.random.default_rng(seed)
        self.bgs = {b: backdrop(b, size[0], size[1], rng).astype(np.float32)
                    for b in ("sklearn:flower.jpg", "skimage:grass", "skimage:gravel", "room:cellar", "room:garden",
                              "room:nursery", "skimage:coins")}
        self.bg = bg

    def put(self, frame, rows, s, person, cx, cy, h, *, roll=0.0, opacity=1.0, hidden=False):
        paste(frame, s, face_warp(s, (cx, cy), h, roll_deg=roll), opacity)
        box = face_box(s, (cx, cy), h)
        if visible_share(box, self.size) >= 0.5 and opacity >= 0.5 and not hidden:
            rows.append((person, box))

    def render(self, draw, out_dir: Path) -> Path:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / f"{self.name}.mp4"
        W, H = self.size
        rate = "30000/1001" if abs(self.fps - 29.97) < 0.01 else str(self.fps)
        ff = subprocess.Popen(["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{W}x{H}",
                               "-r", rate, "-i", "-", "-c:v", "libx264", "-crf", str(self.crf), "-pix_fmt", "yuv420p",
                               str(path)], stdin=subprocess.PIPE)
        truth = []
        for k in range(self.n):
            frame, rows = draw(k, k / self.fps)
            ff.stdin.write(np.clip(frame, 0, 255).astype(np.uint8).tobytes())
            truth.append([(p, [float(v) for v in b]) for p, b in rows])
        ff.stdin.close(); ff.wait()
        (out_dir / f"{self.name}.truth.json").write_text(json.dumps({"fps": self.fps, "size": self.size, "frames": truth}))
        return path


def bgf(sc, name=None):
    return sc.bgs[name or sc.bg].copy()


def s_walk():
    """obama walks in from the left edge, across, out at the right edge, 80 px, 2..18 s."""
    sc = Scene("walk", bg="room:garden")
    s = spr("obama", 0).resized(80)

    def draw(k, t):
        f, rows = bgf(sc), []
        if 2 <= t < 18:
            cx = -60 + (t - 2) / 16 * (640 + 120)
            sc.put(f, rows, s, "obama", cx, 180 + 10 * np.sin(t * 3), 80)
            f = motion_blur(f, 640 / 16 / 25 * 3, 0)
        return f, rows
    return sc, draw


def s_cross():
    """obama L->R, biden R->L at the same height, crossing at 10 s (biden in front), 70 px."""
    sc = Scene("cross", bg="sklearn:flower.jpg")
    a, b = spr("obama", 1).resized(70), spr("biden", 0).resized(70)

    def draw(k, t):
        f, rows = bgf(sc), []
        xa = 80 + (t / 20) * 480
        xb = 560 - (t / 20) * 480
        sc.put(f, rows, a, "obama", xa, 170, 70, hidden=abs(xa - xb) < 30)
        sc.put(f, rows, b, "biden", xb, 180, 70)
        return f, rows
    return sc, draw


def s_occlude():
    """kit drifts; a grey pole passes in front from 8 to 10 s (face hidden ~1.2 s)."""
    sc = Scene("occlude", bg="room:cellar")
    s = spr("kit_harington", 0).resized(90)

    def draw(k, t):
        f, rows = bgf(sc), []
        cx = 280 + 4 * t
        px = -100 + (t - 7) / 4 * 840  # pole left edge
        box = face_box(s, (cx, 180), 90)
        hidden = px < box[0] + box[2] * 0.25 and px + 140 > box[0] + box[2] * 0.75
        sc.put(f, rows, s, "kit_harington", cx, 180, 90, hidden=hidden)
        if 7 <= t < 11:
            cv2.rectangle(f, (int(px), 0), (int(px + 140), 360), (60, 70, 80), -1)
        return f, rows
    return sc, draw


def s_zoom():
    """rose zooms from 30 px to 200 px over 0..16 s in one shot, then whip pan blur 16..18, still to 20."""
    sc = Scene("zoom", bg="room:nursery")
    s0 = spr("rose_leslie", 0)

    def draw(k, t):
        f, rows = bgf(sc), []
        h = 30 * (200 / 30) ** min(1.0, t / 16)
        cx = 320 + (60 * np.sin(t * 8) if 16 <= t < 18 else 0)
        sc.put(f, rows, s0.resized(h), "rose_leslie", cx, 170, h)
        if 16 <= t < 18:
            f = motion_blur(f, 40, 0)
        return f, rows
    return sc, draw


def s_looks():
    """jolie 5 s each: mirrored, rolled 25 deg, grayscale, dark (x0.25), side light; 100 px; 2 s gap first."""
    sc = Scene("looks", dur_s=27, bg="skimage:gravel")
    s = spr("angelina_jolie", 0).resized(100)
    m = mirrored(s)

    def draw(k, t):
        f, rows = bgf(sc), []
        if t < 2:
            return f, rows
        seg = int((t - 2) // 5)
        if seg == 0:
            sc.put(f, rows, m, "angelina_jolie", 300 + 3 * t, 180, 100)
        elif seg == 1:
            sc.put(f, rows, s, "angelina_jolie", 320, 180, 100, roll=25 * np.sin(t))
        elif seg == 2:
            sc.put(f, rows, s, "angelina_jolie", 330, 180, 100)
            g = cv2.cvtColor(f.astype(np.uint8), cv2.COLOR_BGR2GRAY).astype(np.float32)
            f = np.repeat(g[..., None], 3, 2)
        elif seg == 3:
            sc.put(f, rows, s, "angelina_jolie", 320, 180, 100)
            f = f * 0.25
        else:
            sc.put(f, rows, s, "angelina_jolie", 320, 180, 100)
            ramp = np.linspace(1.6, 0.15, 640, dtype=np.float32)[None, :, None]
            f = f * ramp
        return f, rows
    return sc, draw


def s_letterbox():
    """1280x720 29.97 fps, crf 40, 2.39:1 black bars; aniston and obama talk (two-shot), 120 px faces, 24 s."""
    sc = Scene("letterbox", size=(1280, 720), fps=29.97, dur_s=24, bg="room:garden", crf=40)
    a, b = spr("jennifer_aniston", 0).resized(120), spr("obama", 0).resized(120)
    bar = int((720 - 1280 / 2.39) / 2)

    def draw(k, t):
        f, rows = bgf(sc), []
        sc.put(f, rows, a, "jennifer_aniston", 420 + 10 * np.sin(t), 340, 120)
        if t >= 6:
            sc.put(f, rows, b, "obama", 860, 350 + 5 * np.sin(t * 2), 120)
        f[:bar] = 0
        f[720 - bar:] = 0
        return f, rows
    return sc, draw


def extras_crowd(n, rng, height_px, x_px, y_px, *, mirror_repeats):
    """`n` extras in rows of 5: [(person, sprite, height, x, y)], each `height_px` (lo, hi) high at random, the k-th
    of a row at x0 + k * step and the r-th row at y0 + r * step (`x_px`, `y_px`: (x0, step, jitter), each jittered
    by up to jitter px); an extra drawn again is mirrored with `mirror_repeats`."""
    people = list(EXTRAS_T)
    crowd = []
    for i in range(n):
        p = people[i % len(people)]
        pool = EXTRAS_T[p]
        s = sprite(pool[(i // len(people)) % len(pool)])
        if mirror_repeats and i >= len(people):
            s = mirrored(s)
        h = float(rng.uniform(*height_px))
        x = x_px[0] + (i % 5) * x_px[1] + rng.uniform(-x_px[2], x_px[2])
        y = y_px[0] + (i // 5) * y_px[1] + rng.uniform(-y_px[2], y_px[2])
        crowd.append((p, s.resized(h), h, x, y))
    return crowd


def s_crowd():
    """15 small extras (28-40 px) + aniston 40 px among them; 20 s, slow pan."""
    sc = Scene("crowd", bg="skimage:coins")
    crowd = extras_crowd(15, np.random.default_rng(3), (28, 40), (60, 125, 20), (70, 110, 10), mirror_repeats=True)
    act = spr("jennifer_aniston", 1).resized(40)

    def draw(k, t):
        f, rows = bgf(sc), []
        dx = 15 * np.sin(t / 3)
        for p, s, h, x, y in crowd:
            sc.put(f, rows, s, "extra:" + p, x + dx, y, h)
        if 3 <= t < 17:
            sc.put(f, rows, act, "jennifer_aniston", 330 + dx, 240, 40)
        return f, rows
    return sc, draw


def s_mirror():
    """biden twice in one frame (split screen / mirror) 4..16 s; obama alone 0..4; none 16..20."""
    sc = Scene("mirror", bg="room:nursery")
    s = spr("biden", 0).resized(90)
    o = spr("obama", 2).resized(90)

    def draw(k, t):
        f, rows = bgf(sc), []
        if t < 4:
            sc.put(f, rows, o, "obama", 320, 180, 90)
        elif t < 16:
            sc.put(f, rows, s, "biden", 180 + 5 * np.sin(t), 180, 90)
            sc.put(f, rows, mirrored(s), "biden", 460 - 5 * np.sin(t), 180, 90)
        return f, rows
    return sc, draw


def s_cuts():
    """Fast cuts every 1-2 s alternating obama / biden / kit / extra on other backdrops, then a 1 s dissolve
    obama->jolie at 14 s, a white flash frame at 17 s; 20 s."""
    sc = Scene("cuts")
    rng = np.random.default_rng(7)
    who = ["obama", "biden", "kit_harington", "extra:jack_dorsey", "rose_leslie", "obama", "biden", "extra:katy_perry",
           "kit_harington", "biden"]
    bgn = list(sc.bgs)
    shots, t0 = [], 0.0
    for i, p in enumerate(who):
        d = float(rng.uniform(1.0, 1.6))
        shots.append((t0, t0 + d, p, bgn[i % len(bgn)], float(rng.uniform(70, 130)), float(rng.uniform(200, 440))))
        t0 += d
    ob, jo = spr("obama", 2).resized(110), spr("angelina_jolie", 1).resized(110)

    def sp(p, h):
        if p.startswith("extra:"):
            return sprite(EXTRAS_T[p[6:]][0]).resized(h)
        return spr(p, 1).resized(h)

    def draw(k, t):
        rows = []
        for a, b, p, bg, h, x in shots:
            if a <= t < b:
                f = bgf(sc, bg)
                sc.put(f, rows, sp(p, h), p, x, 180, h)
                return f, rows
        # after the cut shots: obama, dissolve into jolie over 1 s, jolie; flash frame at 17.0
        u = t - t0
        if abs(t - 17.0) < 0.5 / sc.fps:
            return np.full((360, 640, 3), 250, np.float32), rows
        fa, fb = bgf(sc, "room:garden"), bgf(sc, "room:cellar")
        ra, rb = [], []
        sc.put(fa, ra, ob, "obama", 300, 180, 110)
        sc.put(fb, rb, jo, "angelina_jolie", 340, 180, 110)
        w = float(np.clip((u - 1.0) / 1.0, 0, 1))
        f = fa * (1 - w) + fb * w
        if w < 0.5:
            rows += ra
        else:
            rows += rb
        return f, rows
    return sc, draw


def s_black():
    """20 s of black, one frame at 10 s shows obama (a single-frame flash of a face)."""
    sc = Scene("black", bg="room:garden")
    s = spr("obama", 0).resized(100)

    def draw(k, t):
        f, rows = np.zeros((360, 640, 3), np.float32), []
        if k == 250:
            f = bgf(sc)
            sc.put(f, rows, s, "obama", 320, 180, 100)
        return f, rows
    return sc, draw


def s_crowd720():
    """1280x720: 20 extras 24-36 px high and rose 36 px among them, 24 s, 29.97 fps, crf 30."""
    sc = Scene("crowd720", size=(1280, 720), fps=29.97, dur_s=24, bg="skimage:gravel", crf=30)
    crowd = extras_crowd(20, np.random.default_rng(5), (24, 36), (90, 260, 30), (100, 160, 20), mirror_repeats=False)
    act = spr("rose_leslie", 0).resized(36)

    def draw(k, t):
        f, rows = bgf(sc), []
        for p, s, h, x, y in crowd:
            sc.put(f, rows, s, "extra:" + p, x, y, h)
        sc.put(f, rows, act, "rose_leslie", 640 + 100 * np.sin(t / 4), 600, 36)
        return f, rows
    return sc, draw


def s_portrait():
    """360x640 portrait (phone): kit rises from below the bottom edge, stays, leaves through the top corner; 20 s."""
    sc = Scene("portrait", size=(360, 640), bg="room:cellar")
    s = spr("kit_harington", 1).resized(110)

    def draw(k, t):
        f, rows = bgf(sc), []
        if t < 8:
            cy = 700 - t / 8 * 400
            cx = 180
        elif t < 12:
            cy, cx = 300, 180
        else:
            u = (t - 12) / 8
            cy, cx = 300 - u * 400, 180 + u * 250
        sc.put(f, rows, s, "kit_harington", cx, cy, 110)
        return f, rows
    return sc, draw


def s_cross2():
    """Two pairs cross with their faces overlapping (no one hidden): obama/biden 45 px at y 120/150, and two extras
    (zuckerberg, dicaprio) 45 px at y 260/285; 20 s, crossing at 10 s; slight motion blur."""
    sc = Scene("cross2", bg="room:garden")
    a, b = spr("obama", 0).resized(45), spr("biden", 0).resized(45)
    c, d = sprite(EXTRAS_T["mark_zuckerberg"][0]).resized(45), sprite(EXTRAS_T["leonardo_dicaprio"][0]).resized(45)

    def draw(k, t):
        f, rows = bgf(sc), []
        x1 = 60 + (t / 20) * 520
        x2 = 580 - (t / 20) * 520
        sc.put(f, rows, a, "obama", x1, 110, 45)
        sc.put(f, rows, b, "biden", x2, 135, 45)
        sc.put(f, rows, c, "extra:mark_zuckerberg", x1, 250, 45)
        sc.put(f, rows, d, "extra:leonardo_dicaprio", x2, 272, 45)
        return motion_blur(f, 26 / 25 * 2, 0), rows
    return sc, draw


SCENES = {f.__name__[2:]: f for f in (s_walk, s_cross, s_cross2, s_occlude, s_zoom, s_looks, s_letterbox, s_crowd,
                                      s_crowd720, s_mirror, s_cuts, s_portrait, s_black)}


def render(name: str, out_dir) -> Path:
    """Write scene `name` (a key of `SCENES`) and its truth into `out_dir`; returns the video's path."""
    scene, draw = SCENES[name]()
    return scene.render(draw, Path(out_dir))


def s_swap():
    """One static shot (no cut): an extra (zuckerberg) stands centre-left 0-9 s, then obama takes his place at once
    (9-20 s); the same at 90 px on the right (dicaprio, then biden) and at 30 px below (katy perry, then rose leslie).
    Does a track pass from one person to the next?"""
    sc = Scene("swap", bg="room:garden")
    small = (sprite(EXTRAS_T["mark_zuckerberg"][0]).resized(45), spr("obama", 0).resized(45))
    big = (sprite(EXTRAS_T["leonardo_dicaprio"][0]).resized(90), spr("biden", 0).resized(90))
    tiny = (sprite(EXTRAS_T["katy_perry"][0]).resized(30), spr("rose_leslie", 0).resized(30))

    def draw(k, t):
        f, rows = bgf(sc), []
        i = int(t >= 9)
        sc.put(f, rows, small[i], ("extra:mark_zuckerberg", "obama")[i], 180 + 3 * np.sin(t), 180, 45)
        sc.put(f, rows, big[i], ("extra:leonardo_dicaprio", "biden")[i], 470 + 3 * np.sin(t), 180, 90)
        sc.put(f, rows, tiny[i], ("extra:katy_perry", "rose_leslie")[i], 320, 300, 30)
        return f, rows
    return sc, draw


SCENES["swap"] = s_swap
