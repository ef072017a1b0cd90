"""The face analyser on real photos (cartoons/photos, see its ATTRIBUTION.md): detection at the right place,
descriptors that tell people apart, quality, the config identity, pickling, and the message without packages."""

from __future__ import annotations

import importlib.util
import itertools
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import require_faces_extra  # noqa: E402

require_faces_extra()

from featurestore.errors import FacesUnavailable, InvalidParameter  # noqa: E402
from featurestore.faces import FaceConfig, FrameFaces, build_face_analyser  # noqa: E402
from featurestore.faces.alignment import dlib_rectangles  # noqa: E402

PHOTOS = Path(__file__).resolve().parents[1] / "cartoons" / "photos"
#: one face each, from face_recognition's examples (the deepface photos added for the composed footage hold more)
SINGLE = sorted(p for who in ("obama", "biden", "kit_harington", "alex_lacamoire", "lin_manuel_miranda")
                for p in (PHOTOS / who).glob("*.jpg"))


@pytest.fixture(scope="module")
def analyser():
    return build_face_analyser(FaceConfig())


@pytest.fixture(scope="module")
def hog():
    import dlib

    return dlib.get_frontal_face_detector()


def iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return ix * iy / (a[2] * a[3] + b[2] * b[3] - ix * iy)


@pytest.mark.parametrize("name", ["obama/obama1.jpg", "rose_leslie/rose1.jpg", "groups/kit_with_rose.jpg",
                                  "groups/two_people.jpg"])
def test_detection_finds_each_face_where_dlib_hog_finds_it(analyser, hog, name):
    frame = cv2.imread(str(PHOTOS / name))
    faces = analyser.analyse(frame)
    h, w = frame.shape[:2]
    boxes = faces.box * np.array([w, h, w, h])
    reference = [(r.left(), r.top(), r.width(), r.height()) for r in hog(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), 1)]
    assert len(faces) == len(reference)
    for ref in reference:
        assert max(iou(ref, box) for box in boxes) > 0.6, (ref, boxes)
    assert np.all(np.diff(faces.score) <= 0)  # by descending score
    assert faces.landmarks.shape == (len(faces), 6, 2)
    inside = (faces.landmarks >= faces.box[:, None, :2]) & (faces.landmarks <= faces.box[:, None, :2] + faces.box[:, None, 2:])
    assert inside[:, :4].all()  # eyes, nose and mouth lie inside the box (the ear tragions may not)
    np.testing.assert_allclose(faces.size_px, boxes[:, 3], rtol=1e-5)


def test_small_face_in_a_wide_frame_is_found_at_its_place(analyser):
    photo = cv2.imread(str(PHOTOS / "biden" / "biden1.jpg"))
    big = analyser.analyse(photo)
    ph, pw = photo.shape[:2]
    x, y, bw, bh = big.box[0] * np.array([pw, ph, pw, ph])
    scale = 32 / bh  # the face 32 px high
    small = cv2.resize(photo, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    frame = np.full((360, 640, 3), 90, np.uint8)
    frame[200 : 200 + small.shape[0], 400 : 400 + small.shape[1]] = small[: 360 - 200, : 640 - 400]
    faces = analyser.analyse(frame)
    truth = (400 + x * scale, 200 + y * scale, bw * scale, bh * scale)
    assert len(faces) == 1
    assert iou(truth, faces.box[0] * np.array([640, 360, 640, 360])) > 0.6


def test_same_person_closer_than_different_people(analyser):
    embeddings = {p: analyser.analyse(cv2.imread(str(p))).embedding for p in SINGLE}
    assert all(len(e) == 1 for e in embeddings.values())
    same, different = [], []
    for a, b in itertools.combinations(SINGLE, 2):
        distance = float(np.linalg.norm(embeddings[a][0] - embeddings[b][0]))
        (same if a.parent == b.parent else different).append(distance)
    assert max(same) < 0.6 < min(different)  # dlib's rule: the same person is < 0.6 apart


def test_quality_orders_a_blurred_copy_below_the_sharp_one(analyser):
    frame = cv2.imread(str(PHOTOS / "kit_harington" / "kit3.jpg"))
    sharp = analyser.analyse(frame)
    blurred = analyser.analyse(cv2.GaussianBlur(frame, (0, 0), 3))
    assert len(sharp) == len(blurred) == 1
    assert blurred.sharpness[0] < sharp.sharpness[0] / 3
    assert blurred.quality[0] < sharp.quality[0]
    assert 0 <= blurred.quality[0] <= sharp.quality[0] <= 1


def test_no_face_gives_empty_arrays_of_the_right_shapes(analyser):
    faces = analyser.analyse(np.full((120, 160, 3), 128, np.uint8))
    empty = FrameFaces.empty(128)
    assert len(faces) == 0
    for name in ("box", "landmarks", "score", "size_px", "sharpness", "quality", "embedding"):
        assert getattr(faces, name).shape == getattr(empty, name).shape, name
        assert getattr(faces, name).dtype == np.float32


def test_analyser_pickles_as_its_config_and_gives_the_same_faces(analyser):
    frame = cv2.imread(str(PHOTOS / "groups" / "obama_and_biden.jpg"))
    copy = pickle.loads(pickle.dumps(analyser))
    assert copy.config == analyser.config
    a, b = analyser.analyse(frame), copy.analyse(frame)
    np.testing.assert_array_equal(a.box, b.box)
    np.testing.assert_array_equal(a.embedding, b.embedding)


def test_numpy_runtime_gives_dlibs_descriptors(analyser):
    from featurestore.faces.embedders import build_embedder

    frame = cv2.cvtColor(cv2.imread(str(PHOTOS / "groups" / "two_people.jpg")), cv2.COLOR_BGR2RGB)
    boxes = analyser.detector.detect(frame).box
    on_numpy, on_dlib = build_embedder(FaceConfig(embedder_runtime="numpy")), build_embedder(FaceConfig(embedder_runtime="dlib"))
    chips = on_numpy.align(frame, boxes)
    assert len(chips) == 2
    np.testing.assert_allclose(on_numpy.embed_chips(chips), on_dlib.embed_chips(chips), atol=1e-5)


def test_identity_changes_with_a_threshold_and_round_trips():
    base = FaceConfig().identity()
    assert FaceConfig(min_score=0.6).identity() != base
    assert FaceConfig(min_size_px=30).identity() != base
    assert FaceConfig(tile_rows=0).identity() != base
    assert FaceConfig(n_threads=2).identity() == base  # threads do not change the numbers
    assert FaceConfig(embedder_runtime="dlib").identity() == base  # nor does the runtime (to 1e-6)
    assert FaceConfig.from_identity(base) == FaceConfig()
    assert FaceConfig.from_identity(FaceConfig(min_score=0.7).identity()).min_score == 0.7
    assert set(base["weights"]) == {"blazeface-full", "dlib-5-point", "dlib-resnet"}
    assert all(v.startswith("sha256:") and len(v) == 71 for v in base["weights"].values())


def test_bad_config_values_are_refused():
    with pytest.raises(InvalidParameter, match="min_score"):
        FaceConfig(min_score=1.5)
    with pytest.raises(InvalidParameter, match="tile_rows"):
        FaceConfig(tile_rows=-1)
    with pytest.raises(InvalidParameter, match="embedder"):
        FaceConfig(embedder="vgg")


def test_missing_package_says_which_pip_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "dlib" else real(name, *a))
    with pytest.raises(FacesUnavailable, match=r"dlib-bin.*pip install 'screentime\[faces\]'") as info:
        build_face_analyser(FaceConfig())
    assert isinstance(info.value, ImportError)


def test_dlib_rectangles_keep_the_box():
    (rect,) = dlib_rectangles(np.array([[10.4, 20.6, 50.0, 50.0]]))
    assert (rect.left(), rect.top(), rect.right(), rect.bottom()) == (10, 21, 59, 70)


def _count_faces(analyser, path):
    return len(analyser.analyse(cv2.imread(str(path))))


@pytest.mark.slow
def test_analyser_works_in_a_spawned_worker_process(analyser):
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    path = PHOTOS / "groups" / "kit_with_rose.jpg"
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        assert pool.submit(_count_faces, analyser, path).result(timeout=300) == 2
