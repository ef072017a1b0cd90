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


def test_assemble_with_no_faces_at_all():
    table = assemble("v", {}, [0.0, 1.0], [frame(), frame()], [], (64, 48))
    assert len(table) == 0 and table.embedding.shape == (0, 128) and len(table.sample_times_s) == 2


def test_shot_of_counts_cuts_at_or_before_each_time():
    np.testing.assert_array_equal(shot_of([0.0, 0.99, 1.0, 1.5, 2.99999, 3.0], [1.0, 3.0]), [0, 0, 1, 1, 2, 2])
