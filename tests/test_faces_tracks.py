"""Face tracks and assembling a FaceTable: known truth built by hand (no detector needed)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")

from featurestore.faces.analyser import FrameFaces  # noqa: E402
from featurestore.faces.tracks import assemble, link_tracks, shot_of  # noqa: E402

RNG = np.random.default_rng(0)
ALICE, BOB = RNG.normal(0, 0.12, 128), RNG.normal(0, 0.12, 128)  # about 1.4 apart, as two people in dlib


def face(who, x, y, size=0.1, noise=0.02, score=0.9):
    """One face as a FrameFaces row: a descriptor near `who`'s, a box at (x, y)."""
    return {"box": [x, y, size, size], "embedding": who + RNG.normal(0, noise / np.sqrt(128), 128), "score": score}


def frame(*faces) -> FrameFaces:
    if not faces:
        return FrameFaces.empty(128)
    faces = sorted(faces, key=lambda f: -f["score"])
    n = len(faces)
    return FrameFaces(box=np.array([f["box"] for f in faces], np.float32), landmarks=np.zeros((n, 6, 2), np.float32),
                      score=np.array([f["score"] for f in faces], np.float32), size_px=np.full(n, 50, np.float32),
                      sharpness=np.full(n, 100, np.float32), quality=np.full(n, 0.9, np.float32),
                      embedding=np.array([f["embedding"] for f in faces], np.float32))


def test_two_people_crossing_keep_their_tracks_by_descriptor():
    # alice walks right, bob left; at t=2 they overlap, then swap sides
    frames = [frame(face(ALICE, 0.1 + 0.15 * t, 0.4), face(BOB, 0.7 - 0.15 * t, 0.4, score=0.8)) for t in range(5)]
    table = assemble("v", {}, np.arange(5.0), frames, [], (640, 360))
    alice = np.linalg.norm(table.embedding - ALICE, axis=1) < np.linalg.norm(table.embedding - BOB, axis=1)
    assert len(set(table.track[alice])) == 1 and len(set(table.track[~alice])) == 1
    assert table.track[alice][0] != table.track[~alice][0]


def test_tracks_never_cross_a_cut():
    frames = [frame(face(ALICE, 0.3, 0.3)) for _ in range(6)]
    table = assemble("v", {}, np.arange(6.0), frames, [3.0], (640, 360))
    np.testing.assert_array_equal(table.shot, [0, 0, 0, 1, 1, 1])
    np.testing.assert_array_equal(table.track, [0, 0, 0, 1, 1, 1])


def test_a_short_gap_is_bridged_and_a_long_one_is_not():
    times = np.arange(12.0)
    seen = {0, 1, 3, 4, 9, 10}  # missed at 2 (one sample) and from 5 to 8 (four samples)
    frames = [frame(face(ALICE, 0.3, 0.3)) if t in seen else frame() for t in range(12)]
    table = assemble("v", {}, times, frames, [], (640, 360))
    np.testing.assert_array_equal(table.time_s, sorted(seen))
    np.testing.assert_array_equal(table.track, [0, 0, 0, 0, 1, 1])


def test_a_different_person_in_the_same_place_starts_a_new_track():
    frames = [frame(face(ALICE, 0.3, 0.3)), frame(face(ALICE, 0.31, 0.3)), frame(face(BOB, 0.31, 0.3))]
    table = assemble("v", {}, [0.0, 1.0, 2.0], frames, [], (640, 360))
    np.testing.assert_array_equal(table.track, [0, 0, 1])


def test_link_tracks_takes_one_face_per_track_per_sample():
    time_s = np.array([0.0, 0.0, 1.0, 1.0])
    box = np.array([[0.3, 0.3, 0.1, 0.1]] * 4)
    embedding = np.stack([ALICE, ALICE, ALICE, ALICE])  # two copies of one person side by side: two tracks
    track = link_tracks(time_s, box, embedding, np.zeros(4, int))
    assert track[0] != track[1] and track[2] != track[3]
    assert {track[2], track[3]} == {track[0], track[1]}


def test_assemble_sorts_samples_and_keeps_faceless_times():
    frames = [frame(), frame(face(BOB, 0.5, 0.5), face(ALICE, 0.1, 0.1, score=0.95)), frame(face(BOB, 0.5, 0.5))]
    table = assemble("clip", {"k": 1}, [2.0, 1.0, 0.0], frames, [0.5], (1280, 720))
    np.testing.assert_array_equal(table.sample_times_s, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(table.time_s, [0.0, 1.0, 1.0])
    np.testing.assert_array_equal(table.face, [0, 0, 1])
    np.testing.assert_array_equal(table.shot, [0, 1, 1])
    assert table.score[1] > table.score[2]
    assert table.frame_size == (1280, 720) and table.config == {"k": 1} and table.video_id == "clip"
    assert table.embedding.shape == (3, 128) and table.embedding.dtype == np.float32
    assert table.landmarks.shape == (3, 6, 2) and table.time_s.dtype == np.float64 and table.track.dtype == np.int32


def test_a_held_frame_keeps_its_people_on_their_tracks():
    """Samples 1-3 show one frame held on screen (variable frame rate: a slide), so they share its time: alice and
    bob there are one track each, as in any other stretch; by time alone the six faces were six tracks (and
    `cluster --faces` kept alice's apart from alice's)."""
    held = frame(face(ALICE, 0.2, 0.4), face(BOB, 0.6, 0.4, score=0.8))
    frames = [frame(face(ALICE, 0.2, 0.4), face(BOB, 0.6, 0.4, score=0.8)), held, held, held]
    table = assemble("v", {}, np.array([0.0, 0.96, 0.96, 0.96]), frames, [], (640, 360))
    assert table.time_s.tolist() == [0.0, 0.0, 0.96, 0.96, 0.96, 0.96, 0.96, 0.96]
    assert table.track.tolist() == [0, 1] * 4


def test_assemble_with_no_faces_at_all():
    table = assemble("v", {}, [0.0, 1.0], [frame(), frame()], [], (64, 48))
    assert len(table) == 0 and table.embedding.shape == (0, 128) and len(table.sample_times_s) == 2


def test_shot_of_counts_cuts_at_or_before_each_time():
    np.testing.assert_array_equal(shot_of([0.0, 0.99, 1.0, 1.5, 2.99999, 3.0], [1.0, 3.0]), [0, 0, 1, 1, 2, 2])


def test_a_real_video_one_track_per_face_and_shot(tmp_path):
    """8 s at 10 fps: shot 0 (0-4 s) Obama's face drifting right on grey, shot 1 (4-8 s) Biden's on dark blue.
    Sampled at 1/s, analysed for real: one track per shot, cut at 4.0 s."""
    pytest.importorskip("dlib")
    pytest.importorskip("scenedetect")
    import cv2

    from conftest import ROOT
    from featurestore.faces import FaceConfig, build_face_analyser
    from featurestore.video.shots import detect_cuts

    # head crops: twice the face box each way around the face BlazeFace finds in the photo, 90 px square (face ~45 px)
    crops = {0: ("obama/obama1.jpg", (247, 93, 199)), 1: ("biden/biden1.jpg", (156, 87, 112))}
    photos = {}
    for shot, (name, (x, y, side)) in crops.items():
        photo = cv2.imread(str(ROOT / "cartoons" / "photos" / name))
        y0, x0 = max(0, y - side // 2), max(0, x - side // 2)
        photos[shot] = cv2.resize(photo[y0 : y0 + 2 * side, x0 : x0 + 2 * side], (90, 90), interpolation=cv2.INTER_AREA)
    path = tmp_path / "two shots.mp4"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (320, 180))
    frames = []
    for i in range(80):
        shot = i // 40
        frame = np.full((180, 320, 3), (128, 128, 128) if shot == 0 else (90, 30, 20), np.uint8)
        head = photos[shot]
        x = 20 + 2 * (i % 40)
        frame[30 : 30 + head.shape[0], x : x + head.shape[1]] = head
        writer.write(frame)
        frames.append(frame)
    writer.release()
    cuts = detect_cuts(path)
    np.testing.assert_allclose(cuts, [4.0], atol=1e-6)
    analyser = build_face_analyser(FaceConfig())
    times = np.arange(8.0)
    table = assemble("v", analyser.config.identity(), times, [analyser.analyse(frames[int(t * 10)]) for t in times], cuts, (320, 180))
    np.testing.assert_array_equal(table.time_s, times)  # one face in every sample
    np.testing.assert_array_equal(table.shot, [0, 0, 0, 0, 1, 1, 1, 1])
    np.testing.assert_array_equal(table.track, [0, 0, 0, 0, 1, 1, 1, 1])
