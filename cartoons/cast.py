"""Who the composed live-action footage shows: the real faces of cartoons/photos, cut out as soft-edged sprites.

`photos/faces.csv` lists every usable face: the photo, the person, the face box (BlazeFace's, in the photo's
pixels) and the split: a photo is drawn either in training videos or in held-out ones, never both, so held-out
videos show the cast in photos no training video showed. `CAST` are the labelled actors; everyone else in the
catalogue appears only as an extra that nobody labelled (different extras in training and held-out videos).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

PHOTOS_DIR = Path(__file__).resolve().parent / "photos"
#: The labelled actors, in the order tables list them.
CAST = ("obama", "biden", "kit_harington", "rose_leslie", "angelina_jolie", "jennifer_aniston")
SPLITS = ("train", "test")
EXTRA_PREFIX = "extra:"  # how truth files name an extra: extra:<person>

# The sprite around a face box (x, y, w, h): this many face widths left and right of the face's centre, face
# heights above the box's top and below its bottom (hair above, neck and shoulders below).
_SIDE_W, _ABOVE_H, _BELOW_H = 1.15, 0.75, 1.35


@dataclass(frozen=True)
class Face:
    """One face of the catalogue: `box` (x, y, w, h) in the photo's pixels, float."""

    photo: str  # path under PHOTOS_DIR, or "skimage:<name>" for a scikit-image sample image
    person: str
    box: tuple
    split: str

    @property
    def is_cast(self) -> bool:
        return self.person in CAST


@dataclass(frozen=True)
class Sprite:
    """A face cut out of its photo: `image` (h, w, 3) float32 BGR, `alpha` (h, w) float32 in [0, 1] (an ellipse
    over head and shoulders with a soft edge), `face_box` (x, y, w, h) in the sprite's pixels."""

    image: np.ndarray
    alpha: np.ndarray
    face_box: tuple
    person: str
    photo: str

    def resized(self, face_h_px: float) -> "Sprite":
        """The sprite scaled so its face box is `face_h_px` high (area interpolation: no aliasing when shrinking)."""
        s = face_h_px / self.face_box[3]
        h, w = self.alpha.shape
        size = (max(2, int(round(w * s))), max(2, int(round(h * s))))
        how = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
        sx, sy = size[0] / w, size[1] / h
        x, y, bw, bh = self.face_box
        return Sprite(cv2.resize(self.image, size, interpolation=how), cv2.resize(self.alpha, size, interpolation=how),
                      (x * sx, y * sy, bw * sx, bh * sy), self.person, self.photo)


@lru_cache(maxsize=1)
def catalogue() -> tuple[Face, ...]:
    """Every face of `photos/faces.csv`, in file order."""
    with (PHOTOS_DIR / "faces.csv").open(newline="") as fh:
        return tuple(Face(r["photo"], r["person"], tuple(float(r[k]) for k in "xywh"), r["split"])
                     for r in csv.DictReader(fh))


def faces_of(split: str, *, cast: bool | None = None) -> dict[str, list[Face]]:
    """person -> their faces drawn in `split` videos ('train' or 'test'); `cast` True: only `CAST`, False: only
    the extras, None: everyone."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    out: dict[str, list[Face]] = {}
    for face in catalogue():
        if face.split == split and (cast is None or face.is_cast == cast):
            out.setdefault(face.person, []).append(face)
    return out


@lru_cache(maxsize=64)
def load_photo(photo: str) -> np.ndarray:
    """(h, w, 3) uint8 BGR; read-only, shared between callers."""
    if photo.startswith("skimage:"):
        try:
            import skimage.data
        except ImportError as err:  # the demo's and tests' footage needs it (pip install scikit-image)
            raise ImportError("composed footage reads scikit-image's sample photos: pip install scikit-image") from err
        image = np.ascontiguousarray(getattr(skimage.data, photo.split(":", 1)[1])()[..., 2::-1])
    else:
        image = cv2.imread(str(PHOTOS_DIR / photo), cv2.IMREAD_COLOR)
        if image is None:
            raise FileNotFoundError(PHOTOS_DIR / photo)
    image.setflags(write=False)
    return image


@lru_cache(maxsize=128)
def sprite(face: Face) -> Sprite:
    """`face` cut out of its photo (edges past the photo repeat its border pixels; the soft mask hides them)."""
    image = load_photo(face.photo)
    x, y, w, h = face.box
    cx = x + w / 2
    left, top = int(round(cx - _SIDE_W * w)), int(round(y - _ABOVE_H * h))
    right, bottom = int(round(cx + _SIDE_W * w)), int(round(y + h + _BELOW_H * h))
    ih, iw = image.shape[:2]
    pad = [max(0, -top), max(0, bottom - ih), max(0, -left), max(0, right - iw)]
    crop = image[max(0, top):min(ih, bottom), max(0, left):min(iw, right)]
    crop = cv2.copyMakeBorder(crop, *pad, cv2.BORDER_REPLICATE).astype(np.float32)
    box = (x - left, y - top, w, h)
    return Sprite(crop, _mask(crop.shape[:2], box), box, face.person, face.photo)


def _mask(shape: tuple, box: tuple) -> np.ndarray:
    """Head (an ellipse a little larger than the face, with hair) over shoulders (a wide ellipse cut by the
    sprite's bottom), feathered by a Gaussian of a tenth of the face width."""
    h, w = shape
    x, y, bw, bh = box
    mask = np.zeros((h, w), np.uint8)
    cx = int(round(x + bw / 2))
    cv2.ellipse(mask, (cx, int(round(y + 0.42 * bh))), (int(0.70 * bw), int(0.95 * bh)), 0, 0, 360, 255, -1)
    cv2.ellipse(mask, (cx, int(round(y + bh + 1.5 * bh))), (int(1.08 * bw), int(1.05 * bh)), 0, 0, 360, 255, -1)
    cv2.rectangle(mask, (cx - int(0.38 * bw), int(y + 0.8 * bh)), (cx + int(0.38 * bw), int(y + 1.6 * bh)), 255, -1)
    sigma = max(1.0, 0.1 * bw)
    soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), sigma)
    fade = np.clip((h - 1 - np.arange(h, dtype=np.float32)) / max(1.0, 0.35 * bh), 0, 1)  # shoulders fade out at the bottom
    return soft * fade[:, None]
