"""Labelled cartoon-like test videos, drawn with OpenCV: the ground truth for demos, benchmarks and tests.

A video is a script of shots (2-12 s each, cut on frame boundaries), each showing exactly one class:

- ``"jerry"``: a small brown-orange mouse (round ears with pink insides, long curly tail);
- ``"tom"``: a larger blue-grey cat (pointed ears, white muzzle, whiskers, striped tail);
- ``"neither"``: the room alone, sometimes with a distractor (ball, lamp, plant, box);
- ``"both"`` (only when asked for, `SHARED_CLASSES`): tom and jerry on screen together, each moving on
  his own (issue 11: characters share the screen).

The character walks across, bobs or zooms, and may be partly out of frame (never more than about half).
Every video has a background *style* (wall colour and wallpaper pattern, floor, furniture, lighting,
sensor noise, camera pan) and a *motion* profile (speeds, scales, height in frame). `make_dataset` gives
held-out videos styles and a motion profile that no training video has, so a classifier that learnt the
rooms rather than the characters shows it. Everything is drawn from ``numpy.random.default_rng(seed)``,
so a seed gives the same frames every time. The answer, `true_screen_time`, is the sum of the shot
lengths per class: every frame belongs to exactly one shot, so it is exact to the frame (1 / fps s);
`true_presence` gives each character's time (a shared shot counts for both), the time together and the
time with neither. Videos without shared shots are drawn exactly as before shared shots existed.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from .drawing import BOTH, draw_room, draw_subject, light

CLASSES = ("neither", "jerry", "tom")
SHARED_CLASSES = CLASSES + (BOTH,)
CHARACTERS = ("jerry", "tom")
SHOT_S = (2.0, 12.0)  # shortest and longest shot, seconds
_N_NOISE = 8  # noise frames drawn once per video and reused at random (drawing them per frame is 10x slower)


@dataclass(frozen=True)
class Style:
    """Look of one video's room. Colours are BGR uint8; `brightness` multiplies every pixel."""

    name: str
    wall_bgr: tuple
    stripe_bgr: tuple
    pattern: str  # "vstripes", "hstripes", "checks", "dots" or "plain"
    stripe_px: int
    floor_bgr: tuple
    floor_frac: float  # share of the frame height taken by the floor
    furniture_bgr: tuple
    brightness: float
    noise_sigma: float  # sensor noise, in grey levels
    pan_px: float  # amplitude of the slow camera pan, in pixels


@dataclass(frozen=True)
class Motion:
    """How characters move: scale range, walking speed (frame widths per second), height of the feet."""

    name: str
    scale: tuple
    speed: tuple
    ground_frac: tuple  # feet at this fraction of the frame height
    kinds: tuple  # subset of ("walk", "bob", "zoom")


TRAIN_STYLES = (
    Style("kitchen", (200, 225, 235), (170, 200, 215), "vstripes", 14, (90, 120, 150), 0.28, (60, 90, 130), 1.00, 3.0, 6.0),
    Style("parlour", (150, 190, 170), (120, 160, 140), "checks", 20, (70, 80, 110), 0.25, (50, 60, 90), 0.92, 4.0, 4.0),
    Style("hallway", (190, 200, 160), (160, 175, 130), "hstripes", 10, (120, 120, 130), 0.30, (80, 70, 70), 1.05, 3.0, 8.0),
    Style("study", (210, 210, 215), (185, 185, 195), "dots", 18, (60, 90, 110), 0.22, (40, 50, 70), 0.97, 5.0, 5.0),
)
HELD_OUT_STYLES = (
    Style("cellar", (110, 120, 125), (90, 95, 100), "hstripes", 24, (60, 65, 70), 0.35, (45, 55, 60), 0.70, 7.0, 12.0),
    Style("garden", (225, 200, 150), (200, 185, 140), "plain", 1, (70, 160, 90), 0.40, (40, 110, 60), 1.15, 4.0, 10.0),
    Style("nursery", (200, 175, 230), (230, 210, 245), "vstripes", 30, (150, 170, 200), 0.20, (120, 100, 160), 1.10, 3.0, 3.0),
)
STYLES = {s.name: s for s in TRAIN_STYLES + HELD_OUT_STYLES}

TRAIN_MOTION = Motion("train", scale=(0.85, 1.15), speed=(0.04, 0.10), ground_frac=(0.80, 0.88), kinds=("walk", "bob"))
HELD_OUT_MOTION = Motion("held_out", scale=(0.6, 1.6), speed=(0.08, 0.20), ground_frac=(0.70, 0.95), kinds=("walk", "zoom", "bob"))
MOTIONS = {m.name: m for m in (TRAIN_MOTION, HELD_OUT_MOTION)}


@dataclass
class Shot:
    """One shot: class `label` is on screen for [start_s, end_s), in seconds.

    A shared shot (label "both") has a `lead`: the one character a single-label annotator, who must pick
    one class per frame, would write for it (drawn at random per shot).
    """

    start_s: float
    end_s: float
    label: str
    lead: str = ""

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def characters(self) -> tuple[str, ...]:
        """The characters on screen during the shot."""
        return CHARACTERS if self.label == BOTH else (self.label,) if self.label in CHARACTERS else ()


@dataclass
class SyntheticVideo:
    """A written video and its ground truth: `shots` cover [0, duration_s) without gaps or overlaps."""

    path: Path
    duration_s: float
    shots: list[Shot]
    style: str = ""
    motion: str = ""
    fps: float = 10.0

    @property
    def video_id(self) -> str:
        return self.path.name


def make_video(path, *, duration_s: float, seed: int, fps: float = 10.0, size: tuple = (320, 240),
               style: str | int | None = None, motion: str | None = None, classes=CLASSES) -> SyntheticVideo:
    """Write one labelled cartoon video with ``cv2.VideoWriter`` (mp4v).

    Parameters
    ----------
    path : path
        Output file (.mp4); its directory must exist.
    duration_s : float
        Length in seconds; rounded to whole frames.
    seed : int
        Seeds the script, the style's jitter and every movement.
    fps : float
        Frame rate, frames per second.
    size : (width_px, height_px)
    style : str, int or None
        A name in `STYLES`, an index into ``TRAIN_STYLES + HELD_OUT_STYLES``, or None for a training
        style chosen by the seed.
    motion : {"train", "held_out"} or None
        Motion profile (default "train").
    classes : sequence of str
        Labels of the shots; "jerry" and "tom" draw those characters, "both" the two together (see
        `SHARED_CLASSES`), any other label an empty room.

    Returns
    -------
    SyntheticVideo
        Its `shots` are the exact answer, aligned to frame times k / fps.
    """
    if fps <= 0 or duration_s <= 0:
        raise ValueError(f"fps and duration_s must be > 0, got fps={fps}, duration_s={duration_s}")
    rng = np.random.default_rng(seed)
    the_style = _pick_style(style, rng)
    the_motion = MOTIONS[motion or "train"]
    n_frames = max(1, int(round(duration_s * fps)))
    shot_frames = _script(n_frames, fps, list(classes), rng)
    width, height = int(size[0]), int(size[1])
    pan_px = int(np.ceil(the_style.pan_px)) + 2
    room = draw_room(the_style, width + 2 * pan_px, height, rng)
    noise = rng.normal(0.0, the_style.noise_sigma, (_N_NOISE, height, width, 3)).astype(np.float32)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (width, height))
    if not writer.isOpened():
        raise OSError(f"OpenCV cannot write mp4v video to {path}")
    try:
        leads = {}
        for (first, last, label) in shot_frames:
            if label == BOTH:
                leads[first] = CHARACTERS[int(rng.integers(len(CHARACTERS)))]
                plan = {"label": BOTH, "subjects": [_plan_shot(c, last - first, fps, width, height, the_motion, rng)
                                                    for c in ("tom", "jerry")]}  # jerry drawn last: in front
            else:
                plan = _plan_shot(label, last - first, fps, width, height, the_motion, rng)
            for i in range(first, last):
                t_s = i / fps
                offset = pan_px + the_style.pan_px * np.sin(2 * np.pi * t_s / 17.0 + seed)
                frame = room[:, int(offset):int(offset) + width].copy()
                draw_subject(frame, plan, (i - first) / fps)
                writer.write(light(frame, the_style, t_s, noise[int(rng.integers(_N_NOISE))]))
    finally:
        writer.release()
    shots = [Shot(first / fps, last / fps, label, leads.get(first, "")) for first, last, label in shot_frames]
    return SyntheticVideo(Path(path), n_frames / fps, shots, the_style.name, the_motion.name, float(fps))


def make_dataset(out_dir, *, n_train: int = 3, n_test: int = 1, duration_s: float = 60.0, seed: int = 0,
                 fps: float = 10.0, size: tuple = (320, 240), shared: bool = False,
                 train_duration_s: float | None = None) -> tuple[list[SyntheticVideo], list[SyntheticVideo]]:
    """Write `n_train` training and `n_test` held-out videos into `out_dir` (created if missing).

    Training videos cycle through `TRAIN_STYLES` with the "train" motion; held-out videos cycle through
    `HELD_OUT_STYLES` with the "held_out" motion (faster, wider scale range, other heights, zooms), so
    no held-out room, lighting or framing was seen in training. Files are ``train_<k>.mp4``, ``test_<k>.mp4``.
    With `shared`, shots are drawn from `SHARED_CLASSES`: about a quarter show tom and jerry together.
    `train_duration_s` (default `duration_s`) is the length of the training videos alone; the held-out videos
    do not depend on it.

    Returns
    -------
    (train, test) : two lists of SyntheticVideo
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    classes = SHARED_CLASSES if shared else CLASSES
    train_s = duration_s if train_duration_s is None else train_duration_s
    train = [make_video(out_dir / f"train_{k}.mp4", duration_s=train_s, seed=seed * 1000 + k, fps=fps, size=size,
                        style=TRAIN_STYLES[k % len(TRAIN_STYLES)].name, motion="train", classes=classes) for k in range(n_train)]
    test = [make_video(out_dir / f"test_{k}.mp4", duration_s=duration_s, seed=seed * 1000 + 500 + k, fps=fps, size=size,
                       style=HELD_OUT_STYLES[k % len(HELD_OUT_STYLES)].name, motion="held_out", classes=classes) for k in range(n_test)]
    return train, test


def write_interval_labels(path, videos: list[SyntheticVideo], *, multi_label: bool = False, none_label: str = "neither") -> Path:
    """Write the shots of `videos` as an interval CSV ``video,start,end,label`` (video = file name, seconds).

    Single-label (the default), a shared shot is written as its `lead` character: one class per frame, as
    a user without `--multi-label` must label it. With `multi_label`, one line per character on screen per
    shot (a shared shot gives two overlapping lines) and a `none_label` line for a shot without characters.
    """
    path = Path(path)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["video", "start", "end", "label"])
        for v in videos:
            for s in v.shots:
                labels = (s.characters or (none_label,)) if multi_label else (s.lead or s.label,)
                for label in labels:
                    out.writerow([v.path.name, f"{s.start_s:.6g}", f"{s.end_s:.6g}", label])
    return path


def true_screen_time(video: SyntheticVideo) -> dict[str, float]:
    """Seconds on screen per class (every class of the script, in shot order); sums to `duration_s`."""
    totals: dict[str, float] = {}
    for s in video.shots:
        totals[s.label] = totals.get(s.label, 0.0) + s.duration_s
    return totals


def true_presence(video: SyntheticVideo, none_label: str = "neither") -> dict[str, float]:
    """Seconds each character is on screen (a shared shot counts for both), ``"together"`` (both on screen)
    and `none_label` (neither), in that order: jerry, tom, together, neither."""
    out = {c: 0.0 for c in CHARACTERS}
    out.update({"together": 0.0, none_label: 0.0})
    for s in video.shots:
        for c in s.characters:
            out[c] += s.duration_s
        out["together"] += s.duration_s if len(s.characters) >= 2 else 0.0
        out[none_label] += s.duration_s if not s.characters else 0.0
    return out


def _pick_style(style, rng) -> Style:
    if style is None:
        return TRAIN_STYLES[int(rng.integers(len(TRAIN_STYLES)))]
    if isinstance(style, (int, np.integer)):
        every = TRAIN_STYLES + HELD_OUT_STYLES
        return every[int(style) % len(every)]
    if style not in STYLES:
        raise ValueError(f"unknown style {style!r}; known: {', '.join(STYLES)}")
    return STYLES[style]


def _script(n_frames: int, fps: float, classes: list[str], rng) -> list[tuple[int, int, str]]:
    """Shots as (first_frame, end_frame, label); consecutive shots differ in label when there is a choice."""
    shots, first, previous = [], 0, None
    while first < n_frames:
        length = int(round(rng.uniform(*SHOT_S) * fps))
        choices = [c for c in classes if c != previous] or classes
        label = choices[int(rng.integers(len(choices)))]
        last = min(n_frames, first + max(1, length))
        shots.append((first, last, label))
        first, previous = last, label
    return shots


def _plan_shot(label: str, n_frames: int, fps: float, width: int, height: int, motion: Motion, rng) -> dict:
    """Random movement of the shot's character (or distractor), as parameters of time within the shot."""
    kind = motion.kinds[int(rng.integers(len(motion.kinds)))]
    direction = 1.0 if rng.random() < 0.5 else -1.0
    speed = rng.uniform(*motion.speed) * width  # px per second
    shot_s = n_frames / fps
    travel = min(speed * shot_s, 0.9 * width)
    # Start so that the walk stays between 5% and 95% of the width (at most half the body out of frame).
    x0 = rng.uniform(0.05 * width, max(0.05 * width, 0.95 * width - travel)) if direction > 0 else \
        rng.uniform(min(0.95 * width, 0.05 * width + travel), 0.95 * width)
    return {
        "label": label, "kind": kind, "direction": direction, "x0": x0,
        "vx": direction * travel / max(shot_s, 1e-9) if kind == "walk" else 0.0,
        "ground": rng.uniform(*motion.ground_frac) * height, "scale": rng.uniform(*motion.scale),
        "zoom_to": rng.uniform(*motion.scale), "shot_s": shot_s, "phase": rng.uniform(0, 2 * np.pi),
        "distractor": int(rng.integers(5)),  # 4 = none
        "distractor_bgr": tuple(int(c) for c in rng.integers(30, 230, 3)), "unit": height / 240.0,
    }


