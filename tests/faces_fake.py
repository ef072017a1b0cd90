"""A deterministic stand-in for the face analyser, videos of coloured rectangles it finds, and random face tables.

`FakeAnalyser` follows featurestore.faces.analyser's FaceAnalyser protocol: a "face" is a bright rectangle on
the dark frame (a connected blob whose brightest channel is over 100), its descriptor a fixed projection of
its mean colour, so the same rectangle gets the same descriptor in every frame and process.
`make_fake_analyser` is the factory tests pass as embed_videos(make_face_analyser=...): picklable (worker
processes import it by name), and it counts the frames analysed in this process.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from featurestore.faces.analyser import FrameFaces
from featurestore.faces.table import FaceTable

DIM = 128
_PROJECTION = np.random.default_rng(0).normal(size=(DIM, 3)).astype(np.float32)
#: Relative positions of the 6 landmarks in a box (eyes, nose tip, mouth, ears).
_LANDMARKS = np.array([[0.3, 0.35], [0.7, 0.35], [0.5, 0.55], [0.5, 0.75], [0.05, 0.45], [0.95, 0.45]], np.float32)


class FakeAnalyser:
    """Bright rectangles are faces: score = box height / frame height, descriptor = projected mean colour."""

    embedding_dim = DIM
    n_analysed = 0  # frames analysed in this process, by every instance
    n_built = 0

    def __init__(self, config):
        self.config = config
        FakeAnalyser.n_built += 1

    def analyse(self, frame_bgr: np.ndarray) -> FrameFaces:
        FakeAnalyser.n_analysed += 1
        height, width = frame_bgr.shape[:2]
        mask = (frame_bgr.max(axis=2) > 100).astype(np.uint8)
        n, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=4)
        found = []
        for x, y, w, h, area in stats[1:n]:
            score = h / height
            if area < 20 or h < self.config.min_size_px or score < self.config.min_score:
                continue
            crop = frame_bgr[y:y + h, x:x + w]
            colour = crop.reshape(-1, 3).mean(axis=0).astype(np.float32) / 255.0
            embedding = _PROJECTION @ colour
            sharpness = cv2.Laplacian(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var()
            box = np.array([x / width, y / height, w / width, h / height], np.float32)
            landmarks = box[:2] + _LANDMARKS * box[2:]
            found.append((-score, x, box, landmarks, score, h, sharpness, embedding / np.linalg.norm(embedding)))
        found.sort(key=lambda f: (f[0], f[1]))
        if not found:
            return FrameFaces.empty(DIM)
        cols = list(zip(*found))
        score = np.array(cols[4], np.float32)
        size_px = np.array(cols[5], np.float32)
        return FrameFaces(box=np.stack(cols[2]), landmarks=np.stack(cols[3]).astype(np.float32), score=score,
                          size_px=size_px, sharpness=np.array(cols[6], np.float32),
                          quality=np.minimum(1.0, size_px / 64.0) * score, embedding=np.stack(cols[7]).astype(np.float32))


def make_fake_analyser(config) -> FakeAnalyser:
    """embed_videos(make_face_analyser=...): a FakeAnalyser for `config` (a FaceConfig)."""
    return FakeAnalyser(config)


#: Saturated BGR colours of the "people" in face videos.
PEOPLE = [(40, 40, 230), (40, 220, 40), (230, 60, 40), (40, 220, 220)]


def write_face_video(path: Path, seconds: int, *, fps: int = 10, size=(160, 120), seed: int = 0) -> list[list]:
    """An MJPG video of `seconds` s at `fps` on a dark background: each second shows 0 to 3 of PEOPLE as
    rectangles 16 to 48 px high at random places in a column of their own (seeded). Returns the people per second, [[(x, y, w, h, colour)]]."""
    rng = np.random.default_rng(seed)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, size)
    assert writer.isOpened()
    plan = []
    for second in range(seconds):
        people = []
        for k in rng.permutation(len(PEOPLE))[: int(rng.integers(0, 4))]:
            column = size[0] // len(PEOPLE)  # one column each: rectangles never touch
            h = int(rng.integers(16, min(49, 4 * (column - 2) // 3)))
            w = h * 3 // 4
            x = k * column + 1 + int(rng.integers(0, column - w - 1))
            y = int(rng.integers(0, size[1] - h))
            people.append((x, y, w, h, PEOPLE[k]))
        plan.append(people)
        frame = np.full((size[1], size[0], 3), 20, np.uint8)
        for x, y, w, h, colour in people:
            frame[y:y + h, x:x + w] = colour
        for _ in range(fps):
            writer.write(frame)
    writer.release()
    return plan


def random_table(video_id: str, sample_times_s, *, seed: int = 0, dim: int = DIM, config: dict | None = None,
                 frame_size=(640, 360)) -> FaceTable:
    """A face table with 0 to 3 random faces per sample (seeded), in FaceTable's dtypes and row order."""
    rng = np.random.default_rng(seed)
    sample_times_s = np.asarray(sample_times_s, np.float64)
    counts = rng.integers(0, 4, len(sample_times_s))
    n = int(counts.sum())
    time_s = np.repeat(sample_times_s, counts)
    face = np.concatenate([np.arange(c) for c in counts]).astype(np.int32) if n else np.zeros(0, np.int32)
    cuts_s = np.sort(rng.choice(sample_times_s, size=min(2, len(sample_times_s)), replace=False)) if n else np.zeros(0)
    f32 = lambda *shape: rng.random(shape).astype(np.float32)  # noqa: E731
    return FaceTable(video_id, config or {"detector": "fake", "min_score": 0.5}, sample_times_s, cuts_s.astype(np.float64),
                     frame_size, time_s, face, f32(n, 4), f32(n, 6, 2), f32(n), f32(n) * 100, f32(n) * 50, f32(n),
                     np.searchsorted(cuts_s, time_s, side="right").astype(np.int32),
                     rng.integers(-1, 5, n).astype(np.int32), f32(n, dim))
