"""The script of composed footage: shots, who is in each, where they stand, how the camera moves and the light.

Everything is drawn from one ``numpy.random.Generator`` up front, then evaluated at any time: `Shot.camera_at`
and `Shot.pose_at` are pure functions of the time within the shot, so the frames and their truth come from the
same numbers. Coordinates: the shot's world is its backdrop canvas, in pixels; the camera looks at a point of
it with a zoom >= 1 (frame px per world px); faces are `face_h_px` high in world pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .backdrops import BACKDROPS
from .cast import CAST, Face, faces_of

SHOT_S = (2.0, 7.0)  # shortest and longest shot, seconds (a whip pan is 1-2 s)
#: framing -> (probability, face height range in frame px at 640x360, cast count probabilities for 0, 1, 2, 3)
FRAMINGS = {
    "close": (0.3, (105.0, 165.0), (0.12, 0.88, 0.0, 0.0)),
    "medium": (0.4, (60.0, 105.0), (0.08, 0.45, 0.35, 0.12)),
    "wide": (0.3, (30.0, 60.0), (0.12, 0.30, 0.35, 0.23)),
}
#: camera kind -> probability
CAMERAS = {"static": 0.35, "pan": 0.30, "zoom": 0.15, "handheld": 0.15, "whip": 0.05}
_SPRITE_W = 2.4  # horizontal room a person takes, in face heights (the sprite with a little air)


@dataclass(frozen=True)
class Person:
    """One person's part in one shot. `x`, `y`: the face's centre in world px; `enter_s` / `leave_s`: walking in
    from / out to `side` (-1 left, +1 right) during [enter_s, enter_s + walk_s) / [leave_s, leave_s + walk_s)."""

    face: Face
    face_h_px: float
    x: float
    y: float
    side: int = 1
    enter_s: float | None = None
    leave_s: float | None = None
    walk_s: float = 1.0
    sway: tuple = (0.0, 0.0, 1.0)   # amplitude (face heights), phase, period s
    roll: tuple = (0.0, 0.0, 1.0)   # amplitude deg, phase, period s
    yaw: tuple = (0.0, 0.0, 1.0)    # squeeze amplitude (0..0.45), phase, period s
    tilt_sign: float = 1.0
    blur_px: float = 0.0            # this person out of focus (extras in the back)


@dataclass(frozen=True)
class Shot:
    """Frames [first_frame, end_frame) of a video: a backdrop, people, a camera path and the light."""

    first_frame: int
    end_frame: int
    fps: float
    backdrop: str
    canvas: tuple          # (width, height) of the backdrop in world px
    framing: str
    camera: str
    look: tuple            # (x, y) world point at the frame's centre at the shot's middle
    velocity: tuple        # (vx, vy) world px per second
    zoom: float            # zoom at the shot's middle
    zoom_rate: float       # d log(zoom) / dt, per second
    shake_px: float        # handheld wobble amplitude, frame px
    people: tuple          # Person, nearest last
    gain: tuple            # (before, after) exposure
    gain_change: tuple     # (at s, over s) within the shot
    colour: tuple          # BGR multipliers
    gamma: float
    noise_sigma: float
    defocus_px: float
    seed: int

    @property
    def duration_s(self) -> float:
        return (self.end_frame - self.first_frame) / self.fps

    def camera_at(self, t_s: float) -> tuple[float, float, float]:
        """(look x, look y, zoom) at `t_s` seconds into the shot."""
        d = t_s - self.duration_s / 2
        jx = self.shake_px * (np.sin(2.1 * np.pi * t_s + self.seed) + 0.5 * np.sin(5.3 * np.pi * t_s + 2 * self.seed))
        jy = self.shake_px * 0.7 * np.sin(3.7 * np.pi * t_s + 3 * self.seed)
        z = self.zoom * np.exp(self.zoom_rate * d)
        return self.look[0] + self.velocity[0] * d + jx / z, self.look[1] + self.velocity[1] * d + jy / z, z

    def pose_at(self, person: Person, t_s: float, size: tuple) -> tuple:
        """Where `person` is in the frame at `t_s`: (centre (x, y) px, face height px, roll deg, squeeze, tilt)."""
        w, h = size
        lx, ly, z = self.camera_at(t_s)
        x = person.x + person.sway[0] * person.face_h_px * np.sin(2 * np.pi * t_s / person.sway[2] + person.sway[1])
        y = person.y + 0.6 * person.sway[0] * person.face_h_px * np.sin(2 * np.pi * t_s / (0.7 * person.sway[2]) + person.sway[1])
        off = lx + person.side * (w / 2 / z + 1.3 * person.face_h_px)  # just out of the frame on the person's side
        for start, coming in ((person.enter_s, True), (person.leave_s, False)):
            if start is None:
                continue
            p = np.clip((t_s - start) / person.walk_s, 0.0, 1.0)
            p = 3 * p * p - 2 * p * p * p
            x = off + (x - off) * p if coming else x + (off - x) * p
        roll = person.roll[0] * np.sin(2 * np.pi * t_s / person.roll[2] + person.roll[1])
        squeeze = 1.0 - person.yaw[0] * (0.5 + 0.5 * np.sin(2 * np.pi * t_s / person.yaw[2] + person.yaw[1]))
        centre = (w / 2 + z * (x - lx), h / 2 + z * (y - ly))
        return centre, z * person.face_h_px, roll, squeeze, person.tilt_sign * 0.8 * (1.0 - squeeze)

    def gain_at(self, t_s: float) -> float:
        at, over = self.gain_change
        p = np.clip((t_s - at) / max(over, 1e-6), 0.0, 1.0)
        return self.gain[0] + (self.gain[1] - self.gain[0]) * p


def plan_video(n_frames: int, fps: float, size: tuple, split: str, rng: np.random.Generator,
               absent: tuple | None = None) -> list[Shot]:
    """The shots of one video (cuts on frame boundaries), drawing photos, extras and backdrops of `split`; the
    actors in `absent` never appear (None: one or two actors, drawn at random)."""
    cast_faces, extra_faces = faces_of(split, cast=True), faces_of(split, cast=False)
    weights = 0.5 + rng.gamma(2.0, 1.0, len(CAST))  # how often each actor is in a shot
    if absent is None:
        absent = [CAST[i] for i in rng.choice(len(CAST), size=int(rng.integers(1, 3)), replace=False)]
    weights[[CAST.index(a) for a in absent]] = 0.0
    shots, first, previous = [], 0, None
    while first < n_frames:
        camera = _pick(CAMERAS, rng)
        length_s = rng.uniform(1.0, 2.0) if camera == "whip" else rng.uniform(*SHOT_S)
        end = min(n_frames, first + max(1, int(round(length_s * fps))))
        backdrop = _pick_other(BACKDROPS[split], previous, rng)
        shots.append(_plan_shot(first, end, fps, size, camera, backdrop, cast_faces, extra_faces, weights, rng))
        first, previous = end, backdrop
    return shots


def _plan_shot(first, end, fps, size, camera, backdrop, cast_faces, extra_faces, weights, rng) -> Shot:
    w, h = size
    duration_s = (end - first) / fps
    framing = _pick({k: v[0] for k, v in FRAMINGS.items()}, rng)
    _, face_range, cast_p = FRAMINGS[framing]
    velocity, zoom_rate, shake = (0.0, 0.0), 0.0, 0.0
    if camera == "pan":
        velocity = (rng.choice([-1, 1]) * rng.uniform(0.05, 0.25) * w, rng.uniform(-0.03, 0.03) * h)
    elif camera == "whip":
        velocity = (rng.choice([-1, 1]) * rng.uniform(0.8, 1.5) * w, 0.0)
    elif camera == "zoom":
        zoom_rate = rng.choice([-1, 1]) * rng.uniform(0.04, 0.12)
    elif camera == "handheld":
        shake, velocity = rng.uniform(2.0, 6.0), (rng.uniform(-0.03, 0.03) * w, 0.0)
    zoom = max(rng.uniform(1.0, 1.15), float(np.exp(abs(zoom_rate) * duration_s / 2)) + 0.01)
    margin = 8.0 * shake + 4.0
    canvas = (int(np.ceil(w + abs(velocity[0]) * duration_s + 2 * margin)),
              int(np.ceil(h + abs(velocity[1]) * duration_s + 2 * margin)))
    look = (canvas[0] / 2, canvas[1] / 2)
    n_cast = int(rng.choice(4, p=cast_p)) if rng.random() > 0.04 else 0
    present = np.flatnonzero(weights > 0)
    n_cast = min(n_cast, len(present))
    actors = [CAST[i] for i in rng.choice(len(CAST), size=n_cast, replace=False, p=weights / weights.sum())] if n_cast else []
    n_extra = {"close": int(n_cast == 0), "medium": int(rng.random() < 0.35), "wide": int(rng.integers(0, 4))}[framing]
    extras = [str(p) for p in rng.choice(sorted(extra_faces), size=min(n_extra, len(extra_faces)), replace=False)]
    face_h = rng.uniform(*face_range)  # of the cast, in frame px at the shot's zoom
    people = []
    for name in actors + extras:
        faces = cast_faces[name] if name in cast_faces else extra_faces[name]
        is_extra = name not in cast_faces
        fh = face_h * rng.uniform(0.85, 1.15) * (rng.uniform(0.55, 0.9) if is_extra and framing != "close" else 1.0)
        people.append((faces[int(rng.integers(len(faces)))], max(26.0, fh) / zoom, is_extra))
    placed = _place(people, canvas, (w / zoom, h / zoom), look, framing, duration_s, rng)
    gain0 = rng.uniform(0.4, 0.6) if rng.random() < 0.12 else rng.uniform(0.65, 1.3)
    changes = rng.random() < 0.25
    gain1 = gain0 * rng.uniform(0.6, 1.5) if changes else gain0
    return Shot(first, end, fps, backdrop, canvas, framing, camera, look, velocity, zoom, zoom_rate, shake,
                tuple(sorted(placed, key=lambda p: p.face_h_px)), (gain0, gain1),
                (rng.uniform(0, duration_s), rng.uniform(0.3, 1.5)) if changes else (0.0, 0.0),
                tuple(np.clip(1 + rng.normal(0, 0.06, 3), 0.85, 1.15)), rng.uniform(0.85, 1.2),
                rng.uniform(2.0, 6.0) + (4.0 if gain0 < 0.6 else 0.0),
                rng.uniform(1.0, 2.2) if rng.random() < 0.12 else 0.0, int(rng.integers(1 << 30)))


def _place(people, canvas, view, look, framing, duration_s, rng) -> list[Person]:
    """Side by side, faces never overlapping: each person takes `_SPRITE_W` face heights of the view's width
    (people who do not fit are left out, extras first); the outermost may walk in or out."""
    vw, vh = view
    people = list(people)
    while people and sum(_SPRITE_W * fh for _, fh, _ in people) > vw:
        extras = [i for i, p in enumerate(people) if p[2]]
        people.pop(extras[-1] if extras else -1)
    order = rng.permutation(len(people))
    widths = np.array([_SPRITE_W * people[i][1] for i in order])
    gaps = rng.dirichlet(np.ones(len(order) + 1)) * (vw - widths.sum()) if len(order) else np.array([])
    x = look[0] - vw / 2
    out = []
    for k, i in enumerate(order):
        face, fh, is_extra = people[i]
        x += gaps[k]
        cx = x + widths[k] / 2
        x += widths[k]
        lo, hi = {"close": (0.38, 0.5), "medium": (0.3, 0.5), "wide": (0.25, 0.6)}[framing]
        cy = look[1] - vh / 2 + vh * (rng.uniform(lo, hi) - (0.08 if is_extra else 0.0))
        side = -1 if k == 0 else 1
        edge = k == 0 or k == len(order) - 1
        enter_s = leave_s = None
        walk_s = rng.uniform(0.6, 1.5)
        if edge and duration_s > 2.5 and rng.random() < 0.35:
            if rng.random() < 0.5:
                enter_s = rng.uniform(0.0, duration_s - walk_s - 0.5)
            else:
                leave_s = rng.uniform(0.5, duration_s - walk_s)
        out.append(Person(
            face, fh, cx, cy, side, enter_s, leave_s, walk_s,
            sway=(rng.uniform(0.0, 0.06), rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 6.0)),
            roll=(rng.uniform(0.0, 12.0), rng.uniform(0, 2 * np.pi), rng.uniform(2.5, 7.0)),
            yaw=(rng.uniform(0.0, 0.45) if rng.random() < 0.5 else 0.0, rng.uniform(0, 2 * np.pi), rng.uniform(2.0, 6.0)),
            tilt_sign=float(rng.choice([-1.0, 1.0])),
            blur_px=rng.uniform(0.8, 2.0) if is_extra and framing != "wide" and rng.random() < 0.6 else 0.0))
    return out


def _pick(probabilities: dict, rng) -> str:
    names = list(probabilities)
    p = np.array([probabilities[n] for n in names], np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def _pick_other(names, previous, rng) -> str:
    choices = [n for n in names if n != previous] or list(names)
    return choices[int(rng.integers(len(choices)))]
