"""Live-action-like clips composed from the real face photos in cartoons/photos/: footage of another kind than the
cartoons, for the "unlike the training videos" check (issue 26), in its bench and tests.

A clip is a script of shots (2-6 s): a person's photo, panned and zoomed slowly (the "Ken Burns" move of a
documentary), sometimes cut out and laid over a photo background (scikit-learn's sample photos, or another
photo blurred), or a background alone. Sensor noise on every frame. The label of a shot is the person's folder
name (``obama``, ``biden``, ...), or ``neither`` for a background alone. Everything is drawn from
``numpy.random.default_rng(seed)``. `photo_clip(..., people=)` keeps a clip to some people, so a held-out clip can
show photos a training clip never did (`photos_of` splits each person's photos).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

PHOTOS = Path(__file__).resolve().parent / "photos"
#: People with at least two photos (a held-out clip can show one a training clip did not).
PEOPLE = ("obama", "biden", "kit_harington", "rose_leslie", "alex_lacamoire")


@dataclass(frozen=True)
class PhotoClip:
    path: Path
    duration_s: float
    shots: list  # (start_s, end_s, label)
    fps: float


def photos_of(person: str) -> list[Path]:
    """The photos of one person (a folder of cartoons/photos), sorted."""
    return sorted((PHOTOS / person).glob("*.jpg"))


def backgrounds() -> list[np.ndarray]:
    """Photo backgrounds (BGR uint8): scikit-learn's two sample photos and the group photos, blurred."""
    from sklearn.datasets import load_sample_images

    out = [cv2.cvtColor(im, cv2.COLOR_RGB2BGR) for im in load_sample_images().images]
    out += [cv2.GaussianBlur(cv2.imread(str(p)), (0, 0), 6) for p in sorted((PHOTOS / "groups").glob("*.jpg"))]
    return out


def photo_clip(path, *, duration_s: float, seed: int, fps: float = 10.0, size: tuple = (320, 240),
               people: dict[str, list[Path]] | None = None) -> PhotoClip:
    """Write a live-action-like clip to `path` (mp4v) and return its shots.

    Parameters
    ----------
    people : dict of label -> photo paths, optional
        Whom the clip shows, and which of their photos; default: every person of `PEOPLE`, all their photos.
    """
    rng = np.random.default_rng(seed)
    people = people if people is not None else {p: photos_of(p) for p in PEOPLE}
    images = {label: [cv2.imread(str(p)) for p in paths] for label, paths in people.items()}
    grounds = backgrounds()
    width, height = size
    n_frames = int(round(duration_s * fps))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    shots, start = [], 0
    while start < n_frames:
        end = min(n_frames, start + int(round(rng.uniform(2.0, 6.0) * fps)))
        if n_frames - end < 2 * fps:
            end = n_frames
        label = "neither" if rng.random() < 0.25 else str(rng.choice(sorted(images)))
        shot = _shot(label, images, grounds, end - start, width, height, rng)
        for frame in shot:
            noisy = frame.astype(np.float32) + rng.normal(0, 4.0, frame.shape)
            writer.write(np.clip(noisy, 0, 255).astype(np.uint8))
        shots.append((start / fps, end / fps, label))
        start = end
    writer.release()
    return PhotoClip(Path(path), n_frames / fps, shots, fps)


def _shot(label, images, grounds, n, width, height, rng):
    """`n` frames of one shot: a slow pan and zoom over a photo (a person, or a background alone)."""
    ground = grounds[rng.integers(len(grounds))]
    if label == "neither":
        return _ken_burns(ground, n, width, height, rng)
    photo = images[label][rng.integers(len(images[label]))]
    if rng.random() < 0.5:  # the whole photo, with its own background
        return _ken_burns(photo, n, width, height, rng)
    behind = _ken_burns(ground, n, width, height, rng)  # the person cut out (an oval) over another background
    h = int(height * rng.uniform(0.6, 0.9))
    w = int(h * photo.shape[1] / photo.shape[0])
    person = cv2.resize(photo, (w, h), interpolation=cv2.INTER_AREA)
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - 1, h // 2 - 1), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 3)[..., None]
    x0, x1 = rng.uniform(-0.2, 0.8, 2) * width
    out = []
    for i, frame in enumerate(behind):
        x = int(x0 + (x1 - x0) * i / max(n - 1, 1))
        y = height - h
        xs, xe = max(x, 0), min(x + w, width)
        if xe > xs:
            part = frame[y:y + h, xs:xe].astype(np.float32)
            m = mask[:, xs - x:xe - x]
            frame[y:y + h, xs:xe] = (m * person[:, xs - x:xe - x] + (1 - m) * part).astype(np.uint8)
        out.append(frame)
    return out


def _ken_burns(image, n, width, height, rng):
    """`n` frames of a crop of `image` with the frame's aspect ratio, moving and zooming slowly."""
    ih, iw = image.shape[:2]
    aspect = width / height
    full_w = min(iw, ih * aspect)
    z0, z1 = rng.uniform(0.55, 1.0, 2)
    c0, c1 = rng.uniform(0.3, 0.7, (2, 2))
    frames = []
    for i in range(n):
        a = i / max(n - 1, 1)
        cw = full_w * (z0 + (z1 - z0) * a)
        ch = cw / aspect
        cx, cy = (c0 + (c1 - c0) * a) * (iw, ih)
        x = int(np.clip(cx - cw / 2, 0, iw - cw))
        y = int(np.clip(cy - ch / 2, 0, ih - ch))
        frames.append(cv2.resize(image[y:y + int(ch), x:x + int(cw)], (width, height), interpolation=cv2.INTER_AREA))
    return frames


def write_clip_labels(path, clips: list[PhotoClip]) -> Path:
    """A labels CSV (video,start,end,label) of `clips`' shots."""
    lines = ["video,start,end,label"] + [f"{c.path.name},{a:g},{b:g},{label}" for c in clips for a, b, label in c.shots]
    Path(path).write_text("\n".join(lines) + "\n")
    return Path(path)
