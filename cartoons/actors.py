"""Composed live-action-like videos of real faces, and their truth: who is on screen, where each face is.

Real face photos (`cartoons.cast`: six labelled actors, `CAST`, and extras nobody labelled) are cut out with a
soft elliptical mask and composed on real-photo or drawn backdrops (`cartoons.backdrops`) in shots
(`cartoons.scenes`): close-ups, medium and wide shots (faces 30-60 px high at 640x360), several people at once,
pans, zooms, a handheld wobble and whip pans (motion blur), defocus, people walking in and out, heads rolling
and turning away (a squeeze with perspective), exposure and colour changes, sensor noise, H.264 compression
(`cartoons.compositing` draws the frames). Training videos (split 'train') and held-out ones ('test') use
disjoint photos, extras and backdrops.

The truth is exact to the frame: a face is on screen in a frame when at least half its box is inside it; an
actor is on screen when one of their faces is. `ActorVideo` holds every visible face of every frame
(`faces_at`, `on_screen`, `screen_time_s`); `write_interval_labels` writes the project's labels
(``video,start,end,label``, one line per actor per run of frames, `none_label` where no actor is on screen) and
`write_face_truth` one row per face (``video,time_s,x,y,w,h,actor``, extras as ``extra:<name>``). A seed gives
the same video every time.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from .backdrops import backdrop
from .cast import CAST, EXTRA_PREFIX, Sprite, sprite
from .compositing import defocus, face_box, face_warp, finish, motion_blur, paste
from .scenes import Shot, plan_video

FPS = 25.0
SIZE = (640, 360)
_N_NOISE = 6  # noise frames drawn once per shot, reused at random
_VISIBLE = 0.5  # share of a face box inside the frame for the face to count as on screen


@dataclass
class ActorVideo:
    """A written video and its truth. Face rows: `frame` (n,) int32, `person` (n,) str (a `CAST` name or
    ``extra:<name>``), `box` (n, 4) float32 x, y, w, h in the video's pixels (clipped to the frame)."""

    path: Path
    fps: float
    n_frames: int
    frame_size: tuple
    split: str
    cuts_s: np.ndarray
    frame: np.ndarray
    person: np.ndarray
    box: np.ndarray
    shots: list = field(default_factory=list)  # (start_s, end_s, framing, camera, backdrop) per shot

    @property
    def video_id(self) -> str:
        return self.path.name

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    def frame_at(self, times_s) -> np.ndarray:
        """Index of the frame on screen at each time (seconds): frame k shows from k / fps to (k + 1) / fps."""
        return np.clip(np.floor(np.asarray(times_s, np.float64) * self.fps + 1e-6).astype(int), 0, self.n_frames - 1)

    def faces_at(self, time_s: float) -> list[tuple[str, np.ndarray]]:
        """(person, box (4,) px) of every face on screen at `time_s`."""
        rows = np.flatnonzero(self.frame == self.frame_at(time_s))
        return [(str(self.person[r]), self.box[r]) for r in rows]

    def on_screen(self, times_s, *, extras: bool = False) -> list[frozenset]:
        """The actors on screen at each time (seconds); with `extras`, the extras (``extra:<name>``) too."""
        frames = self.frame_at(times_s)
        by_frame: dict[int, set] = {}
        for f, p in zip(self.frame, self.person):
            if extras or not p.startswith(EXTRA_PREFIX):
                by_frame.setdefault(int(f), set()).add(str(p))
        return [frozenset(by_frame.get(int(f), ())) for f in frames]

    def screen_time_s(self, *, extras: bool = False) -> dict[str, float]:
        """Seconds each person is on screen: every actor of `CAST` (0 when absent), with `extras` every extra seen."""
        out = {a: 0.0 for a in CAST}
        for p in np.unique(self.person):
            if extras or not p.startswith(EXTRA_PREFIX):
                out[str(p)] = len(np.unique(self.frame[self.person == p])) / self.fps
        return out

    def presence_s(self, none_label: str = "neither", unknown_label: str = "unknown") -> dict[str, float]:
        """Each actor's seconds, ``together`` (two actors or more on screen), `none_label` (no actor) and
        `unknown_label` (an extra on screen): what the demo tables show beside the predictions."""
        is_extra = np.char.startswith(self.person.astype(str), EXTRA_PREFIX)
        actors = np.bincount(self.frame[~is_extra], minlength=self.n_frames)  # one face per actor per frame
        extras = np.bincount(self.frame[is_extra], minlength=self.n_frames)
        return {**self.screen_time_s(), "together": float(np.sum(actors >= 2)) / self.fps,
                none_label: float(np.sum(actors == 0)) / self.fps, unknown_label: float(np.sum(extras > 0)) / self.fps}


def make_actor_video(path, *, duration_s: float, seed: int, split: str = "train", fps: float = FPS,
                     size: tuple = SIZE, absent: tuple | None = None) -> ActorVideo:
    """Write one composed video (H.264, yuv420p, through PyAV's libx264) and return its truth.

    Parameters
    ----------
    duration_s : float
        Length in seconds, rounded to whole frames.
    seed : int
        Seeds the script and every pixel drawn.
    split : {'train', 'test'}
        Which photos, extras and backdrops to draw (`cartoons.cast.faces_of`, `cartoons.backdrops.BACKDROPS`).
    fps, size : frame rate, (width, height) px
    absent : actors of `CAST` who never appear (None: one or two, drawn from the seed)
    """
    if fps <= 0 or duration_s <= 0:
        raise ValueError(f"fps and duration_s must be > 0, got fps={fps}, duration_s={duration_s}")
    import av

    rng = np.random.default_rng(seed)
    n_frames = max(1, int(round(duration_s * fps)))
    shots = plan_video(n_frames, fps, size, split, rng, absent)
    rows: list[tuple] = []
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001))
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.options = {"preset": "veryfast", "crf": "20"}
        for shot in shots:
            for image in _render_shot(shot, size, rows):
                for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="bgr24")):
                    out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    frame = np.array([r[0] for r in rows], np.int32)
    person = np.array([r[1] for r in rows], dtype=object).astype(str) if rows else np.array([], dtype=str)
    box = np.array([r[2] for r in rows], np.float32).reshape(-1, 4)
    return ActorVideo(Path(path), float(fps), n_frames, tuple(size), split,
                      np.array([s.first_frame / fps for s in shots[1:]]), frame, person, box,
                      [(s.first_frame / fps, s.end_frame / fps, s.framing, s.camera, s.backdrop) for s in shots])


def make_actor_dataset(out_dir, *, n_train: int = 4, n_test: int = 2, duration_s: float = 60.0, seed: int = 0,
                       fps: float = FPS, size: tuple = SIZE) -> tuple[list[ActorVideo], list[ActorVideo]]:
    """Write `n_train` training videos (``train_<k>.mp4``) and `n_test` held-out ones (``test_<k>.mp4``) into
    `out_dir` (created if missing); held-out videos show other photos of the cast, other extras, other backdrops.
    Training video k leaves out one actor in turn (every actor is in most training videos); a held-out video
    leaves out one or two at random."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    train = [make_actor_video(out_dir / f"train_{k}.mp4", duration_s=duration_s, seed=seed * 1000 + k, split="train",
                              fps=fps, size=size, absent=(CAST[(seed + k) % len(CAST)],)) for k in range(n_train)]
    test = [make_actor_video(out_dir / f"test_{k}.mp4", duration_s=duration_s, seed=seed * 1000 + 500 + k, split="test",
                             fps=fps, size=size) for k in range(n_test)]
    return train, test


def write_interval_labels(path, videos: list[ActorVideo], *, none_label: str = "neither") -> Path:
    """The project's interval labels (docs/labels.md), multi-label: ``video,start,end,label``, one line per run of
    frames in which an actor is on screen (runs of one actor may overlap another's), and `none_label` over the
    runs with no actor; extras are never written (nobody labelled them). Times are exact frame boundaries."""
    path = Path(path)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["video", "start", "end", "label"])
        for v in videos:
            present = {a: np.zeros(v.n_frames, bool) for a in CAST}
            for f, p in zip(v.frame, v.person):
                if p in present:
                    present[p][f] = True
            runs = [(s, e, a) for a in CAST for s, e in _runs(present[a])]
            runs += [(s, e, none_label) for s, e in _runs(~np.any(list(present.values()), axis=0))]
            for s, e, label in sorted(runs):
                out.writerow([v.video_id, f"{s / v.fps:.6g}", f"{e / v.fps:.6g}", label])
    return path


def write_face_truth(path, videos: list[ActorVideo], *, every_s: float | None = None) -> Path:
    """One row per visible face: ``video,time_s,x,y,w,h,actor`` (box in the video's pixels; extras as
    ``extra:<name>``), for every frame, or with `every_s` for the frames on screen at 0, every_s, 2 every_s, ..."""
    path = Path(path)
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["video", "time_s", "x", "y", "w", "h", "actor"])
        for v in videos:
            if every_s is None:
                times = np.arange(v.n_frames) / v.fps
            else:
                times = np.arange(0.0, v.duration_s, every_s)
            for t in times:
                for person, box in v.faces_at(t):
                    out.writerow([v.video_id, f"{t:.6g}", *(f"{c:.1f}" for c in box), person])
    return path


def save_truth(path, videos: list[ActorVideo]) -> Path:
    """Every video's truth in one JSON file (`load_truth` reads it back), so benches reuse videos they made."""
    doc = [{"path": str(v.path), "fps": v.fps, "n_frames": v.n_frames, "frame_size": list(v.frame_size), "split": v.split,
            "cuts_s": v.cuts_s.tolist(), "frame": v.frame.tolist(), "person": v.person.tolist(),
            "box": np.round(v.box, 2).tolist(), "shots": [list(s) for s in v.shots]} for v in videos]
    Path(path).write_text(json.dumps(doc))
    return Path(path)


def load_truth(path) -> list[ActorVideo]:
    return [ActorVideo(Path(d["path"]), d["fps"], d["n_frames"], tuple(d["frame_size"]), d["split"],
                       np.array(d["cuts_s"], np.float64), np.array(d["frame"], np.int32),
                       np.array(d["person"], dtype=str), np.array(d["box"], np.float32).reshape(-1, 4),
                       [tuple(s) for s in d["shots"]]) for d in json.loads(Path(path).read_text())]


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) frame runs where `mask` is True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _render_shot(shot: Shot, size: tuple, rows: list):
    """Yield each frame of `shot`, (H, W, 3) uint8 BGR; append its visible faces to `rows` as (frame index,
    person, box)."""
    w, h = size
    rng = np.random.default_rng(shot.seed)
    canvas = backdrop(shot.backdrop, *shot.canvas, rng).astype(np.float32)
    zoom_max = shot.zoom * float(np.exp(abs(shot.zoom_rate) * shot.duration_s / 2))
    sprites = [_prepared(sprite(p.face), p.face_h_px * zoom_max, p.blur_px) for p in shot.people]
    noise = np.round(rng.normal(0.0, shot.noise_sigma, (_N_NOISE, h, w, 3))).astype(np.int16)
    colour = np.array(shot.colour, np.float32)
    for index in range(shot.first_frame, shot.end_frame):
        t_s = (index - shot.first_frame) / shot.fps
        lx, ly, z = shot.camera_at(t_s)
        view = np.array([[z, 0, w / 2 - z * lx], [0, z, h / 2 - z * ly]], np.float64)
        frame = cv2.warpAffine(canvas, view, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        for person, cut in zip(shot.people, sprites):
            centre, face_h, roll, squeeze, tilt = shot.pose_at(person, t_s, size)
            paste(frame, cut, face_warp(cut, centre, face_h, roll_deg=roll, squeeze=squeeze, tilt=tilt))
            box = _visible(face_box(cut, centre, face_h, squeeze), size)
            if box is not None:
                name = person.face.person if person.face.is_cast else EXTRA_PREFIX + person.face.person
                rows.append((index, name, box))
        nx, ny, nz = shot.camera_at(t_s + 1.0 / shot.fps)
        frame = motion_blur(frame, 0.5 * z * (lx - nx), 0.5 * z * (ly - ny))  # a half-frame shutter
        frame = defocus(frame, shot.defocus_px)
        yield finish(frame, gain=shot.gain_at(t_s), colour=colour, gamma=shot.gamma,
                            noise=noise[int(rng.integers(_N_NOISE))])


def _prepared(cut: Sprite, face_h_px: float, blur_px: float) -> Sprite:
    """The sprite at the largest size the shot shows it, out of focus by `blur_px` if asked."""
    small = cut.resized(face_h_px)
    if blur_px <= 0:
        return small
    return Sprite(defocus(small.image, blur_px), small.alpha, small.face_box, small.person, small.photo)


def _visible(box: tuple, size: tuple) -> tuple | None:
    """`box` clipped to the frame when at least `_VISIBLE` of its area is inside, else None."""
    x, y, bw, bh = box
    x0, y0, x1, y1 = max(0.0, x), max(0.0, y), min(float(size[0]), x + bw), min(float(size[1]), y + bh)
    if x1 <= x0 or y1 <= y0 or (x1 - x0) * (y1 - y0) < _VISIBLE * bw * bh:
        return None
    return (x0, y0, x1 - x0, y1 - y0)
