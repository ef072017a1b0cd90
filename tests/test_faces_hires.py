"""Faces in 1080p and 4K frames (docs/faces.md, "Detection: small faces, tiles, threshold"): a real photo's face of
modest height is found; up to 1280x720 the detections are those of a face config made before 1080p/4K were measured
(bit for bit), and such a config keeps its identity and its way of detecting."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import require_faces_extra  # noqa: E402

require_faces_extra()

from featurestore.errors import InvalidParameter  # noqa: E402
from featurestore.faces import FaceConfig  # noqa: E402
from featurestore.faces.boxes import box_iou  # noqa: E402
from featurestore.faces.config import LEGACY  # noqa: E402
from featurestore.faces.detector import BlazeFaceDetector  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "cartoons" / "photos"
BEFORE = LEGACY  # what detected before 1080p/4K were measured


@pytest.fixture(scope="module")
def whole():
    return BlazeFaceDetector(FaceConfig(tile_rows=0, min_size_px=0))


def paste(frame: np.ndarray, whole, name: str, face_px: float, x0: int, y0: int) -> np.ndarray:
    """Paste the photo scaled so its face is `face_px` high, its top-left corner at (x0, y0), cut at the frame's
    edges; the face's (4,) x, y, w, h truth box in the frame."""
    photo = cv2.cvtColor(cv2.imread(str(PHOTOS / name)), cv2.COLOR_BGR2RGB)
    box = whole.detect(photo).box[0]
    scale = face_px / box[3]
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    small = small[: frame.shape[0] - y0, : frame.shape[1] - x0]
    frame[y0 : y0 + small.shape[0], x0 : x0 + small.shape[1]] = small
    return np.array([x0 + box[0] * scale, y0 + box[1] * scale, box[2] * scale, box[3] * scale])


def frame_with_face(whole, name: str, face_px: float, width: int, height: int):
    """(height, width, 3) uint8 RGB: a smooth background with the photo's face `face_px` high at a third of the
    frame, and the face's truth box."""
    y, x = np.mgrid[0:height, 0:width]
    frame = np.stack([90 + 60 * np.sin(x / 300), 110 + 40 * np.cos(y / 200), 100 + 0 * x], -1).astype(np.uint8)
    return frame, paste(frame, whole, name, face_px, width // 3, height // 3)


@pytest.mark.parametrize("name,face_px,width,height", [
    ("obama/obama1.jpg", 48, 3840, 2160), ("biden/biden1.jpg", 48, 3840, 2160), ("lin_manuel_miranda/lin1.jpg", 48, 3840, 2160),
    ("obama/obama1.jpg", 28, 1920, 1080), ("biden/biden2.jpg", 28, 1920, 1080),
])
def test_a_face_of_modest_height_in_a_1080p_or_4k_frame_is_found(whole, name, face_px, width, height):
    frame, truth = frame_with_face(whole, name, face_px, width, height)
    found = BlazeFaceDetector(FaceConfig()).detect(frame)
    assert len(found) == 1, found.box
    assert box_iou(truth, found.box)[0, 0] > 0.5, (truth, found.box)  # in the video's pixels, not the downscaled ones
    assert abs(found.box[0, 3] - face_px) < 0.25 * face_px


def test_the_same_faces_were_missed_by_the_first_policy(whole):
    """What the test above guards against: two rows of tiles over a 4K frame shrink a 48 px face to 7 px."""
    frame, _ = frame_with_face(whole, "obama/obama1.jpg", 48, 3840, 2160)
    assert len(BlazeFaceDetector(FaceConfig(**BEFORE)).detect(frame)) == 0


@pytest.mark.parametrize("width,height", [(640, 360), (1280, 720), (720, 1280)])
def test_up_to_720p_detections_are_bit_identical_to_the_first_policys(whole, width, height):
    frame, _ = frame_with_face(whole, "kit_harington/kit1.jpg", 30, width, height)
    paste(frame, whole, "obama/obama2.jpg", 90, 0, 0)  # a second face, larger, in the top-left corner
    now, before = BlazeFaceDetector(FaceConfig()).detect(frame), BlazeFaceDetector(FaceConfig(**BEFORE)).detect(frame)
    assert len(now) == 2
    for a, b in ((now.box, before.box), (now.landmarks, before.landmarks), (now.score, before.score)):
        np.testing.assert_array_equal(a, b)


def test_a_config_made_before_keeps_its_identity_and_detects_as_before():
    before = FaceConfig(**BEFORE).identity()
    assert "work_height_px" not in before and "tile_px" not in before  # the identity stored faces and models hold
    assert FaceConfig.from_identity(before) == FaceConfig(**BEFORE)  # so a store made before goes on as it was
    now = FaceConfig().identity()
    assert now != before and (now["work_height_px"], now["tile_px"]) == (1080, 432)
    assert FaceConfig.from_identity(now) == FaceConfig()


def test_a_store_with_faces_found_before_goes_on_finding_them_as_before(tmp_path):
    from faces_fake import random_table

    from featurestore import FeatureStore, resolve_face_config

    before = FaceConfig(**BEFORE).identity()
    store = FeatureStore(tmp_path / "old.h5", mode="a", config={"model": "vgg16", "weights": "random:seed=0",
                                                                  "pooling": "avg", "image_size_px": 32, "n_features": 8})
    t = np.arange(5.0)
    store.put("a.mp4", requested_s=t, actual_s=t, features=np.zeros((5, 8), np.float32),
              faces=random_table("a.mp4", t, config=before), info={"sample_fps": 1.0, "duration_s": 5.0, "fingerprint": "fp"})
    config = resolve_face_config(tmp_path / "old.h5")
    assert config == FaceConfig(**BEFORE)
    store.check_faces_config(config.identity())  # what embed --faces checks before adding a video: no StoreMismatch
    assert resolve_face_config(tmp_path / "new.h5") == FaceConfig()


@pytest.mark.parametrize("field", ["work_height_px", "tile_px"])
def test_bad_working_sizes_are_refused(field):
    with pytest.raises(InvalidParameter, match=field):
        FaceConfig(**{field: 100})
    with pytest.raises(InvalidParameter, match=field):
        FaceConfig(**{field: 500.5})
