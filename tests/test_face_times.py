"""Face screen time on the sampling grid: samples that share a held frame (variable frame rate) each count, the
JSON says each sample's grid time and the presentation time of its frame, as the frame models' JSON does."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from classifiers.chain.face_time import summarize_faces
from classifiers.output.results import results_to_dict
from face_helpers import Face, face_table, near, people
from featurestore.faces.table import sample_of_faces


@pytest.fixture
def held():
    """6 samples at 1/s; the frame at 0.96 s stays on screen until 4 s (a slide, a stalled phone recording), so
    samples 1, 2 and 3 all show it -- and its two faces, alice's and bob's; alice alone at 0, nobody at 4, bob at 5
    (his frame shown from 4.96 s)."""
    alice, bob = people(2, seed=3)
    faces = [Face(0.0, near(alice, 0))] + [Face(0.96, near(p, s)) for s in (1, 2, 3) for p in (alice, bob)]
    faces.append(Face(4.96, near(bob, 9)))
    table = face_table("slides.mp4", 6, faces)
    return dataclasses.replace(table, sample_times_s=np.array([0.0, 0.96, 0.96, 0.96, 4.0, 4.96]),
                               face=np.array([0, 0, 1, 0, 1, 0, 1, 0], np.int32))  # as embed numbers them per sample


def test_faces_of_a_held_frame_go_to_each_of_its_samples(held):
    assert held.sample.tolist() == [0, 1, 1, 2, 2, 3, 3, 5]
    once = dataclasses.replace(held, face=np.zeros(len(held), np.int32))  # a new table: its own samples, not held's
    assert once.sample.tolist() == [0, 1, 2, 3, 3, 3, 3, 5] and held.sample.tolist() == [0, 1, 1, 2, 2, 3, 3, 5]
    assert sample_of_faces(held.sample_times_s, held.time_s).tolist() == [0, 1, 1, 1, 1, 1, 1, 5]  # without numbers


def test_screen_time_of_a_video_with_a_held_frame(held):
    """Before: `ValueError: requested_s must be finite and strictly increasing` -- a traceback from score --faces."""
    actor = np.array([0, 0, 1, 0, 1, 0, 1, 1])
    p = np.eye(2)[actor]
    video = summarize_faces("slides.mp4", held, actor, p, ["alice", "bob"], duration_s=6.0, sample_fps=1.0)
    assert video.screen_time_s == {"alice": 4.0, "bob": 4.0}
    assert video.together_s == 3.0 and video.none_s == 1.0
    assert video.sample_s.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert video.last_s["bob"] == 6.0 and video.first_s["bob"] == 1.0


def ntsc_video(seed):
    """(table, its screen time): 3 s of 29.97 fps footage sampled at 1/s -- the frames on screen at 1 s and 2 s were
    presented at 0.968 s and 1.969 s -- with alice's face in each sample."""
    alice, = people(1, seed=seed)
    table = face_table("ntsc.mp4", 3, [Face(t, near(alice, i)) for i, t in enumerate((0.0, 0.968, 1.969))])
    table = dataclasses.replace(table, sample_times_s=np.array([0.0, 0.968, 1.969]))
    return table, summarize_faces("ntsc.mp4", table, np.zeros(3, int), np.ones((3, 1)), ["alice"], duration_s=3.0,
                                  sample_fps=1.0)


def test_face_json_times_are_the_grid_and_the_frames_presentation_times():
    """29.97 fps: the frame on screen at 5 s was presented at 4.972 s. The JSON's `time` is the grid (labels and
    segments use it, docs/score.md#times) and `actual_s` the frame's time, as for frame models; it said 4.972 with
    no actual_s."""
    _, video = ntsc_video(seed=4)
    samples = results_to_dict([video])["videos"][0]["samples"]
    assert [(s["time"], s["actual_s"]) for s in samples] == [(0.0, 0.0), (1.0, 0.968), (2.0, 1.969)]
    assert video.screen_time_s == {"alice": 3.0} and [(s.start_s, s.end_s) for s in video.segments] == [(0.0, 3.0)]


def test_faces_to_pandas_keeps_the_stores_times_at_29_97_fps():
    """`Score.faces_to_pandas()` is indexed as the store's `to_pandas(faces=True)` (the frame's presentation time),
    so the two join; with the timeline on the grid it must not take the grid's 1.0 for the stored 0.968."""
    from types import SimpleNamespace

    from screentime.results import Score

    table, video = ntsc_video(seed=5)
    faces = Score(SimpleNamespace(videos=[video])).faces_to_pandas()
    assert faces.index.get_level_values("time_s").tolist() == table.time_s.tolist()


def test_a_clusters_seconds_count_each_sample_of_a_held_frame(held):
    """cluster --faces' seconds (and suggest-labels' for tracks) counted distinct presentation times: alice's track,
    seen at 0 s and on the frame held over samples 1-3, made 2 s instead of 4."""
    from classifiers.clusters.faces import face_units

    table = dataclasses.replace(held, track=np.array([0, 0, 1, 0, 1, 0, 1, 1], np.int32))
    units = face_units({"slides.mp4": table}, {"slides.mp4": 1.0}, min_quality=0.0, min_size_px=0.0)
    alice = [u for u in range(len(units)) if units.track[u] == 0]
    assert units.seconds(alice) == 4.0


def test_a_face_models_screen_time_finds_the_sampling_rate_of_a_video_with_held_frames(held):
    """Without sample_fps, the rate came from the median step between distinct times: (0, 0.96, 0.96, 0.96, 4, 4.96)
    made 1.04 samples/s and a 5.92 s video (and 0/3/7/10 s slides 1/3 fps: a timeline three times the video's)."""
    from sklearn.linear_model import LogisticRegression

    from classifiers.chain.face_model import FaceModel

    alice, bob = people(2, seed=3)
    X = np.array([near(alice, i) for i in range(5)] + [near(bob, i) for i in range(5)])
    model = FaceModel(LogisticRegression().fit(X, ["alice"] * 5 + ["bob"] * 5), ["alice", "bob"], 0.5, smoothing="none")
    given = model.predict_video(held, sample_fps=1.0, duration_s=6.0)
    found = model.predict_video(held)
    assert found.duration_s == 6.0 and found.screen_time_s == given.screen_time_s == {"alice": 4.0, "bob": 4.0}


def test_a_named_cluster_lists_each_sample_of_a_held_frame_and_each_is_read_back(held):
    """The members file lists a held frame's face once per sample (same time, same box): read back, each line took the
    first such face, and the file was refused as listing a face twice -- rewriting it with `cluster` wrote it alike."""
    from pathlib import Path
    from types import SimpleNamespace

    from classifiers.data.face_clusters import member_rows

    boxes = np.asarray(held.box).copy()
    boxes[np.asarray(held.face) == 1] += np.float32(0.5)  # bob beside alice
    held = dataclasses.replace(held, box=boxes)
    box = held.box_px()[1]  # alice's box on the held frame (samples 1-3)
    members = [SimpleNamespace(time_s=0.96, box=tuple(box), where=f"line {k}") for k in (2, 3, 4)]
    names = SimpleNamespace(members_path=Path("c.members.csv"))
    rows = member_rows(names, held, "slides.mp4", members)
    assert sorted(rows.tolist()) == [1, 3, 5] and held.sample[rows].tolist() == [1, 2, 3]


@pytest.mark.parametrize("times, rate", [
    ([0.02, 1.0, 2.0, 3.0], 1.0),  # a first frame that comes late: no division by 0
    (np.floor(np.arange(6) * 30000 / 1001 + 1e-9) / (30000 / 1001), 1.0),  # 29.97 fps at 1/s: 1.007 before snapping
    ([0.0, 0.0, 0.0, 3.0, 3.0, 3.0, 3.0, 7.0, 7.0, 7.0, 10.0], 1.0),  # slides at 0, 3, 7, 10 s
    (np.arange(8) / 2.0, 2.0), (np.arange(5) * 5.0, 0.2)])
def test_the_grid_rate_guessed_from_presentation_times(times, rate):
    from classifiers.chain.face_model import _grid_rate

    assert _grid_rate(np.asarray(times, np.float64)) == pytest.approx(rate)


def test_a_face_cut_by_the_frames_edge_is_shown_inside_the_frame():
    """A person walking out of the frame: BlazeFace boxes the half face as a whole one, reaching past the edge
    (x -0.013 on composed footage). Score's JSON and report showed that box, outside [0, 1]; they show the part on
    screen (the store keeps the detector's box)."""
    alice, = people(1, seed=6)
    faces = [Face(0.0, near(alice, 0), box=(-0.05, 0.2, 0.2, 0.3)), Face(1.0, near(alice, 1), box=(0.9, 0.8, 0.2, 0.3))]
    table = face_table("walk.mp4", 2, faces)
    video = summarize_faces("walk.mp4", table, np.zeros(2, int), np.ones((2, 1)), ["alice"], duration_s=2.0,
                            sample_fps=1.0)
    boxes = [f["box"] for s in results_to_dict([video])["videos"][0]["samples"] for f in s["faces"]]
    assert np.allclose(boxes, [[0.0, 0.2, 0.15, 0.3], [0.9, 0.8, 0.1, 0.2]], atol=1e-6)
    assert table.box[0, 0] == pytest.approx(-0.05)  # the table itself is not changed
